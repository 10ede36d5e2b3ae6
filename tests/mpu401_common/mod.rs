//! Helpers the MPU-401 miniport's tests share: a started card, IRP builders, wire
//! decoding and lateness against the ideal wire.
#![allow(dead_code, reason = "each test file uses a different part")]

use std::sync::{Mutex, MutexGuard};

use wdm_sim::portcls::{Device, Driver, Filter, Resources};
use wdm_sim::{Machine, MachineConfig, Mpu401Config, ms};

/// The simulation's own card, the original MPU-401 (a one-byte FIFO), on a machine with
/// 1 ms timers and the DPC bound the issue sets for this card: 1 ms (keeping a one-byte FIFO
/// fed between timer ticks takes DPCs of up to about 0.7 ms).
pub fn original_card() -> MachineConfig {
    MachineConfig {
        dpc_bound: ms(1),
        ..MachineConfig::default()
    }
}

/// A card with a 16-byte FIFO on the default machine (1 ms timers, 100 µs DPC bound).
pub fn fifo16_card() -> MachineConfig {
    MachineConfig {
        mpu401: Some(Mpu401Config {
            fifo_depth: 16,
            ..Mpu401Config::default()
        }),
        ..MachineConfig::default()
    }
}

static DRIVER: Mutex<()> = Mutex::new(());

/// One test at a time owns the driver's globals.
pub fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One MIDI message at a presentation time (100 ns).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Presentation time, 100 ns.
    pub time: i64,
    /// The bytes, status first.
    pub bytes: Vec<u8>,
}

impl Message {
    /// A message at `time`.
    pub fn new(time: i64, bytes: &[u8]) -> Self {
        Self {
            time,
            bytes: bytes.to_vec(),
        }
    }
}

/// A machine with the driver loaded and the card started.
pub struct Rig {
    /// The machine.
    pub machine: Machine,
    driver: Option<Driver>,
    device: Option<Device>,
}

impl Rig {
    /// Loads rdmus and starts the machine's MPU-401.
    pub fn start(config: MachineConfig) -> Self {
        let machine = Machine::new(config);
        let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
        let device = driver.add_device().expect("AddDevice");
        device
            .start(&Resources::of_machine())
            .expect("StartDevice with the card");
        Self {
            machine,
            driver: Some(driver),
            device: Some(device),
        }
    }

    /// The UART filter.
    pub fn filter(&self) -> Filter {
        self.device
            .as_ref()
            .and_then(|d| d.filter("UART"))
            .expect("the UART subdevice is registered")
    }

    /// Master time now, 100 ns.
    pub fn now(&self) -> i64 {
        i64::try_from(self.machine.now()).unwrap()
    }

    /// Stops, removes, unloads, and checks the machine found nothing.
    pub fn finish(mut self) {
        if let Some(device) = self.device.take() {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        assert_eq!(self.machine.findings(), [], "verifier findings");
        let dpcs = self.machine.dpc_stats();
        let isrs = self.machine.isr_stats();
        println!(
            "DPCs: {} runs, longest {} us; ISRs: {} runs, longest {} us",
            dpcs.all.count,
            dpcs.all.longest / 10,
            isrs.all.count,
            isrs.all.longest / 10
        );
        let bound = self.machine.with(|m| m.config().dpc_bound);
        assert!(
            dpcs.all.longest <= bound,
            "longest DPC {} x 100 ns, bound {bound}",
            dpcs.all.longest
        );
        assert!(
            isrs.all.longest <= 250,
            "longest ISR {} x 100 ns",
            isrs.all.longest
        );
    }
}

/// `KSMUSICFORMAT` records for `messages`, on the ms grid of their absolute times.
pub fn ksmusic_buffer(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous_ms = 0i64;
    for message in messages {
        let at_ms = message.time / 10_000;
        let delta = u32::try_from(at_ms - previous_ms).unwrap();
        previous_ms = at_ms;
        out.extend_from_slice(&delta.to_le_bytes());
        out.extend_from_slice(&u32::try_from(message.bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&message.bytes);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// `DMUS_EVENTHEADER` records for `messages` (channel group 1, structured).
pub fn dmus_buffer(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(message.bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&message.time.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // DMUS_EVENT_STRUCTURED
        out.extend_from_slice(&message.bytes);
        while (out.len() - start) % 8 != 0 {
            out.push(0);
        }
    }
    out
}

/// The wire log cut into messages by status bytes (no running status is used on output).
pub fn wire_messages(wire: &[(u64, u8)]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for &(_, byte) in wire {
        if byte >= 0x80 && !(out.last().is_some_and(|m| m[0] == 0xF0) && byte == 0xF7) {
            out.push(vec![byte]);
        } else if let Some(last) = out.last_mut() {
            last.push(byte);
        }
    }
    out
}

/// How far (100 ns) each message's first byte is from the ideal wire, as (earliest, latest):
/// ideally each message starts at its due time or when the previous one has left the wire,
/// whichever is later (320 µs a byte). `wire` holds exactly the messages' bytes, in order.
pub fn ideal_error(wire: &[(u64, u8)], messages: &[Message], run_start: i64) -> (i64, i64) {
    let mut ideal_free = 0i64;
    let mut at = 0usize;
    let (mut earliest, mut latest) = (i64::MAX, i64::MIN);
    for message in messages {
        let due = run_start + message.time;
        let ideal = due.max(ideal_free);
        let actual = i64::try_from(wire[at].0).unwrap();
        earliest = earliest.min(actual - ideal);
        latest = latest.max(actual - ideal);
        ideal_free = ideal + 3_200 * i64::try_from(message.bytes.len()).unwrap();
        at += message.bytes.len();
    }
    (earliest, latest)
}

/// A MIDI file of the shared test data, if it is there (the test is reported skipped when
/// not, `test_data`).
pub fn shared_midi(name: &str) -> Option<std::path::PathBuf> {
    test_data::find(&format!("midi/jazz-soft/{name}"))
}

/// The channel messages and whole sysex messages of a Standard MIDI File, merged across
/// tracks, at their times on the 1 ms grid (both pin formats carry that grid exactly).
pub fn smf_messages(raw: &[u8]) -> Vec<Message> {
    use midly::{MetaMessage, Smf, Timing, TrackEventKind};
    let smf = Smf::parse(raw).expect("a valid MIDI file");
    let Timing::Metrical(per_beat) = smf.header.timing else {
        panic!("timecode files are not used here");
    };
    let per_beat = u64::from(per_beat.as_int());
    // (tick, track, index, event) merged in time order, stable per track.
    let mut events = Vec::new();
    for (track_index, track) in smf.tracks.iter().enumerate() {
        let mut tick = 0u64;
        for (index, event) in track.iter().enumerate() {
            tick += u64::from(event.delta.as_int());
            events.push((tick, track_index, index, event.kind));
        }
    }
    events.sort_by_key(|&(tick, track, index, _)| (tick, track, index));
    let mut out = Vec::new();
    let mut tempo = 500_000u64; // µs per beat
    let (mut last_tick, mut last_us) = (0u64, 0u64);
    for (tick, _, _, kind) in events {
        let now_us = last_us + (tick - last_tick) * tempo / per_beat;
        (last_tick, last_us) = (tick, now_us);
        if let TrackEventKind::Meta(MetaMessage::Tempo(t)) = kind {
            tempo = u64::from(t.as_int());
            continue;
        }
        let Some(live) = kind.as_live_event() else {
            continue;
        };
        let mut bytes = Vec::new();
        live.write_std(&mut bytes).expect("in-memory write");
        let time = i64::try_from(now_us / 1_000 * 10_000).unwrap();
        out.push(Message { time, bytes });
    }
    out
}

/// One record read back from a capture buffer: its absolute time (100 ns) and bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Master time of the record (ms grid for `KSMUSICFORMAT`, exact for `DMUS_EVENTHEADER`).
    pub time: i64,
    /// The record's bytes.
    pub bytes: Vec<u8>,
    /// `DMUS_EVENT_STRUCTURED` (always true for `KSMUSICFORMAT`).
    pub structured: bool,
}

fn le_u32(data: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(data[at..at + 4].try_into().unwrap())
}

/// The records of a `KSMUSICFORMAT` capture buffer whose first record is at `start`.
pub fn read_ksmusic(data: &[u8], start: i64) -> Vec<Captured> {
    let (mut at, mut time, mut out) = (0usize, start, Vec::new());
    while at + 8 <= data.len() {
        time += i64::from(le_u32(data, at)) * 10_000;
        let count = le_u32(data, at + 4) as usize;
        out.push(Captured {
            time,
            bytes: data[at + 8..at + 8 + count].to_vec(),
            structured: true,
        });
        at += (8 + count).div_ceil(4) * 4;
    }
    out
}

/// The records of a `DMUS_EVENTHEADER` capture buffer starting at `start`.
pub fn read_dmus(data: &[u8], start: i64) -> Vec<Captured> {
    let (mut at, mut out) = (0usize, Vec::new());
    while at + 20 <= data.len() {
        let count = le_u32(data, at) as usize;
        let delta = i64::from_le_bytes(data[at + 8..at + 16].try_into().unwrap());
        let flags = le_u32(data, at + 16);
        out.push(Captured {
            time: start + delta,
            bytes: data[at + 20..at + 20 + count].to_vec(),
            structured: flags & 1 != 0,
        });
        at += (20 + count).div_ceil(8) * 8;
    }
    out
}

/// A miniport bound by the test itself (what StartDevice does), so that the test holds the
/// miniport's address: the property handlers' `MajorTarget`.
pub struct Bound {
    /// The machine.
    pub machine: Machine,
    /// The standalone device.
    pub device: Device,
    /// The miniport (the port holds the reference).
    pub miniport: dmus_sys::com::PUNKNOWN,
}

/// `IUnknown::Release` on a COM object the caller holds a reference to.
///
/// # Safety
/// `object` is live and the reference is the caller's.
pub unsafe fn release(object: *mut dmus_sys::com::IUnknown) {
    // SAFETY: a live object (the caller's contract).
    let vtable = unsafe { rdmus_driver::com::vtable(object) };
    // SAFETY: the caller's reference, given up once.
    unsafe { (vtable.Release)(object) };
}

impl Bound {
    /// Binds a new MPU-401 miniport to a DMus port over `list` (consumed) as "UART".
    pub fn new(machine: Machine, list: dmus_sys::portcls::PRESOURCELIST) -> Self {
        use dmus_sys::imports::{PcNewPort, PcRegisterSubdevice};
        use dmus_sys::kernel::NT_SUCCESS;
        let device = Device::standalone();
        let miniport = rdmus_driver::new_uart_miniport(&rdmus_driver::AdapterResources::default())
            .expect("miniport");
        let mut port: dmus_sys::portcls::PPORT = core::ptr::null_mut();
        // SAFETY: a writable out-pointer and the DMus class id. PASSIVE_LEVEL.
        let status = unsafe { PcNewPort(&raw mut port, &dmus_sys::dmus_com::CLSID_PortDMus) };
        assert!(NT_SUCCESS(status));
        // SAFETY: the live port just made.
        let vtable = unsafe { rdmus_driver::com::vtable(port) };
        // SAFETY: IPort::Init at PASSIVE_LEVEL with the standalone FDO, our miniport and the
        // list (the simulated port ignores the IRP).
        let status = unsafe {
            (vtable.Init)(
                port,
                device.object(),
                core::ptr::null_mut(),
                miniport,
                core::ptr::null_mut(),
                list,
            )
        };
        assert!(NT_SUCCESS(status), "IPort::Init: {status:#x}");
        // SAFETY: our list reference; the port keeps what it needs.
        unsafe { release(list.cast()) };
        let name: Vec<u16> = "UART\0".encode_utf16().collect();
        // SAFETY: the FDO, a NUL-terminated name and the initialised port. PASSIVE_LEVEL.
        let status = unsafe { PcRegisterSubdevice(device.object(), name.as_ptr(), port.cast()) };
        assert!(NT_SUCCESS(status));
        // SAFETY: the port's creation reference: the registration keeps its own.
        unsafe { release(port.cast()) };
        // SAFETY: our miniport reference: the port holds its own while the device is started.
        unsafe { release(miniport) };
        Self {
            machine,
            device,
            miniport,
        }
    }

    /// The UART filter.
    pub fn filter(&self) -> Filter {
        self.device.filter("UART").expect("registered")
    }

    /// Stops and removes the device, runs the unload checks, and checks nothing was found.
    pub fn finish(self) {
        self.device.stop();
        self.device.remove();
        self.machine.unload_checks();
        assert_eq!(self.machine.findings(), []);
    }
}
