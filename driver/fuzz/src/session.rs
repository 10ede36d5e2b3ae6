//! Runs a decoded session against the driver on a fresh simulated machine, then takes
//! everything down the way `PnP` and KS do and checks what is left: no verifier finding, no
//! pool block of the driver's, nothing the session put in user space.
//!
//! The harness is a well-behaved `PortCls` and kernel (the simulation) under a client that may
//! do anything a client can: open any pin factory of either device in either format, walk
//! states, write and read any bytes, send any property request from user mode with any
//! buffers, download and unload real and broken DLS data, close in any order, let time pass,
//! feed the card's input, switch device power. Harness errors the simulation reports (a pin
//! that did not open, a state it refuses) are ordinary outcomes; only what the driver leaves
//! behind or the verifier sees fails the input.

use std::sync::OnceLock;

use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_sys::GUID;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPSETID_Synth, KSPROPSETID_Synth_Dls,
    KSPROPSETID_SynthClock, SYNTH_BUFFER,
};
use dmus_sys::kernel::{PowerDeviceD0, PowerDeviceD3};
use dmus_sys::ks::{
    KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET, KSSTATE_STOP,
};
use dmus_sys::ks_guids::{
    KSPROPSETID_Audio, KSPROPSETID_Connection, KSPROPSETID_General, KSPROPSETID_Pin,
    KSPROPSETID_Stream, KSPROPSETID_Topology,
};
use rdmus_driver::{KSPROPSETID_RdmusSynthLostNotes, POOL_TAG};
use wdm_sim::portcls::api::pass_outer_unknown;
use wdm_sim::portcls::{
    Device, Driver, Filter, Pin, PinFormat, PropertyTarget, Resources, WaveSink, WaveSinkConfig,
    dls_unload,
};
use wdm_sim::{Finding, Machine, MachineConfig, Mpu401Config, Mpu401Fault, UserBuffer, ms, us};

use crate::script::{BITS, Op, RATES, Setup};

/// The small real collection downloads are cut from (one instrument, one looped wave: the dls
/// crate's fuzz seed), as `DirectMusic` would send it: waves first, then instruments.
fn collection() -> &'static [Vec<u8>] {
    static BUFFERS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    BUFFERS.get_or_init(|| {
        let bytes = include_bytes!("../../../crates/dls/fuzz/seeds/dls_file/small_collection.dls");
        let file = DlsFile::parse(bytes).expect("the dls crate's seed collection parses");
        let buffers = build_collection(&file, 100, APPEND_SAMPLES)
            .expect("the dls crate's seed collection builds");
        buffers
            .waves
            .into_iter()
            .chain(buffers.instruments)
            .map(|buffer| buffer.bytes)
            .collect()
    })
}

/// The property sets a request picks from: the synth's, rdmus's own, the KS sets `PortCls`
/// answers itself (which reach the miniport here only if it claims them), and one nobody has.
const SETS: [GUID; 11] = [
    KSPROPSETID_Synth,
    KSPROPSETID_Synth_Dls,
    KSPROPSETID_SynthClock,
    KSPROPSETID_RdmusSynthLostNotes,
    KSPROPSETID_Pin,
    KSPROPSETID_General,
    KSPROPSETID_Connection,
    KSPROPSETID_Stream,
    KSPROPSETID_Topology,
    KSPROPSETID_Audio,
    GUID::parse("0badf00d-0000-4000-8000-000000000000"),
];

/// An open stream: a music pin or the port's wave sink.
#[derive(Clone, Copy)]
enum Stream {
    Pin(Pin),
    Sink(WaveSink),
}

impl Stream {
    fn stop(self) {
        let _ = match self {
            Self::Pin(pin) => pin.set_state(KSSTATE_STOP),
            Self::Sink(sink) => sink.set_state(KSSTATE_STOP),
        };
    }

    fn close(self) {
        // KS closes a pin only once it is walked down to STOP.
        self.stop();
        match self {
            Self::Pin(pin) => pin.close(),
            Self::Sink(sink) => sink.close(),
        }
    }
}

/// The session's world: the machine, the driver, its devices and what the client holds.
struct World {
    machine: Machine,
    driver: Option<Driver>,
    devices: Vec<Device>,
    filters: Vec<Filter>,
    streams: Vec<Stream>,
    downloads: Vec<usize>,
}

/// What the session left behind, if anything: the verifier's findings and the driver's pool.
#[derive(Debug, Default)]
pub struct Leftovers {
    /// Findings the machine reported.
    pub findings: Vec<Finding>,
    /// Pool blocks with the driver's tag still allocated after unload: (count, bytes).
    pub driver_pool: (usize, usize),
    /// User-space bytes still mapped after the session.
    pub user_mapped: usize,
}

impl Leftovers {
    /// Whether nothing was left.
    #[must_use]
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty() && self.driver_pool == (0, 0) && self.user_mapped == 0
    }
}

fn machine_config(setup: &Setup) -> MachineConfig {
    let fault = match setup.card_fault {
        1 => Mpu401Fault::NeverAcks,
        2 => Mpu401Fault::NeverDrains,
        3 => Mpu401Fault::Absent,
        _ => Mpu401Fault::None,
    };
    let mut config = MachineConfig {
        mpu401: Some(Mpu401Config {
            fifo_depth: if setup.fifo16 { 16 } else { 1 },
            fault,
            ..Mpu401Config::default()
        }),
        ..MachineConfig::default()
    };
    if !setup.fifo16 {
        // The original card's bound, as the driver's tests set it (tests/mpu401_common): a
        // one-byte FIFO is kept fed by DPCs of up to about 0.7 ms.
        config.dpc_bound = ms(1);
    }
    if setup.fail_nth != 0 {
        config.faults.fail_nth = Some(u64::from(setup.fail_nth));
    }
    config.faults.fail_ppm = u32::from(setup.fail_permille) * 1_000;
    config.faults.seed = (u64::from(setup.fail_nth) << 8) | u64::from(setup.card_fault);
    config
}

impl World {
    fn start(setup: &Setup) -> Self {
        let machine = Machine::new(machine_config(setup));
        pass_outer_unknown(setup.outer_unknown);
        let mut world = Self {
            machine,
            driver: None,
            devices: Vec::new(),
            filters: Vec::new(),
            streams: Vec::new(),
            downloads: Vec::new(),
        };
        let Ok(driver) = Driver::load(Some(rdmus_driver::DriverEntry)) else {
            return world;
        };
        let (card, synth) = match setup.devices {
            1 => (true, false),
            2 => (false, true),
            _ => (true, true),
        };
        let wanted = [(card, Resources::of_machine()), (synth, Resources::none())];
        for (_, resources) in wanted.into_iter().filter(|(on, _)| *on) {
            let Ok(device) = driver.add_device() else {
                continue;
            };
            // A device that does not start is still removed at the end.
            if device.start(&resources).is_ok() {
                for name in device.subdevices() {
                    if let Some(filter) = device.filter(&name) {
                        world.filters.push(filter);
                    }
                }
            }
            world.devices.push(device);
        }
        world.driver = Some(driver);
        world
    }

    fn filter(&self, index: u8) -> Option<Filter> {
        pick(&self.filters, index).copied()
    }

    fn stream(&self, index: u8) -> Option<Stream> {
        pick(&self.streams, index).copied()
    }

    /// Applies one operation; with `trace` on, prints it and what came of it.
    fn apply(&mut self, op: Op, trace: bool) {
        if trace {
            eprintln!("{op:?}");
        }
        let outcome = self.outcome_of(op);
        if trace {
            eprintln!("    -> {outcome}");
        }
    }

    #[allow(
        clippy::too_many_lines,
        reason = "one dispatch over the operations; the longer ones have their own methods"
    )]
    fn outcome_of(&mut self, op: Op) -> String {
        match op {
            Op::OpenPin {
                filter,
                factory,
                dmusic,
            } => {
                let format = if dmusic {
                    PinFormat::DirectMusic
                } else {
                    PinFormat::Midi
                };
                let Some(filter) = self.filter(filter) else {
                    return String::from("no filter");
                };
                match filter.open_pin(u32::from(factory % 8), format) {
                    Ok(pin) => {
                        self.streams.push(Stream::Pin(pin));
                        format!("stream {} (pin {})", self.streams.len() - 1, pin.id())
                    }
                    Err(error) => format!("{error:?}"),
                }
            }
            Op::OpenSink {
                filter,
                factory,
                rate,
                channels,
                bits,
                period,
                drift,
                latency,
            } => {
                let config = WaveSinkConfig {
                    rate: RATES[usize::from(rate) % RATES.len()],
                    channels: u16::from(channels % 5),
                    bits: BITS[usize::from(bits) % BITS.len()],
                    // 0 stays (invalid); otherwise at least 48 frames, so that a render
                    // period of one frame does not make the session crawl.
                    period_frames: if period == 0 {
                        0
                    } else {
                        u32::from(period.max(48))
                    },
                    drift_ppm: i32::from(drift),
                    latency_frames: u32::from(latency),
                };
                self.open_sink(filter, factory, config)
            }
            Op::SetState { stream, state } => {
                let state = i32::from(state % 4);
                let result = match self.stream(stream) {
                    Some(Stream::Pin(pin)) => pin.set_state(state),
                    Some(Stream::Sink(sink)) => sink.set_state(state),
                    None => return String::from("no stream"),
                };
                format!("{result:?}")
            }
            Op::Write {
                stream,
                time_ms,
                data,
            } => {
                let Some(Stream::Pin(pin)) = self.stream(stream) else {
                    return String::from("no pin");
                };
                format!("{:?}", pin.write(i64::from(time_ms) * 10_000, &data))
            }
            Op::Read { stream, len } => {
                let Some(Stream::Pin(pin)) = self.stream(stream) else {
                    return String::from("no pin");
                };
                match pin.read(usize::from(len)) {
                    Ok(read) => format!("read {read:?}"),
                    Err(error) => format!("{error:?}"),
                }
            }
            Op::Property {
                filter,
                target,
                index,
                set,
                id,
                verb,
                mut instance,
                value_len,
                value,
            } => self.property(
                filter,
                (target, index),
                (set, id, verb),
                &mut instance,
                value_len,
                &value,
            ),
            Op::Download {
                filter,
                buffer,
                size_delta,
                flips,
            } => {
                let buffers = collection();
                let mut bytes = buffers[usize::from(buffer) % buffers.len()].clone();
                for (offset, xor) in flips {
                    let at = usize::from(offset) % bytes.len().max(1);
                    if let Some(byte) = bytes.get_mut(at) {
                        *byte ^= xor;
                    }
                }
                let claimed = i64::try_from(bytes.len()).unwrap_or(0) + i64::from(size_delta);
                self.download(filter, &bytes, u32::try_from(claimed.max(0)).unwrap_or(0))
            }
            Op::DownloadRaw { filter, data } => {
                self.download(filter, &data, u32::try_from(data.len()).unwrap_or(0))
            }
            Op::Unload {
                filter,
                handle,
                bogus,
            } => self.unload(filter, handle, bogus),
            Op::Close { stream } => {
                if self.streams.is_empty() {
                    return String::from("no stream");
                }
                let at = usize::from(stream) % self.streams.len();
                self.streams.swap_remove(at).close();
                format!("closed stream {at} (the last one takes its index)")
            }
            Op::Run { tenths_ms } => {
                self.machine.run_for(us(100) * u64::from(tenths_ms % 4096));
                format!("now {} us", self.machine.now() / 10)
            }
            Op::Input { bytes } => {
                if bytes.is_empty() {
                    return String::from("nothing");
                }
                self.machine.inject_midi_input(self.machine.now(), &bytes);
                String::from("scheduled")
            }
            Op::Pull { stream, frames } => self.pull(stream, frames),
            Op::Power { device, off } => {
                let Some(device) = pick(&self.devices, device) else {
                    return String::from("no device");
                };
                let result = device.set_power(if off { PowerDeviceD3 } else { PowerDeviceD0 });
                format!("{result:?}")
            }
        }
    }

    fn open_sink(&mut self, filter: u8, factory: u8, config: WaveSinkConfig) -> String {
        let Some(filter) = self.filter(filter) else {
            return String::from("no filter");
        };
        match WaveSink::open(&filter, u32::from(factory % 8), config) {
            Ok(sink) => {
                self.streams.push(Stream::Sink(sink));
                format!("stream {} (sink)", self.streams.len() - 1)
            }
            Err(error) => format!("{error:?}"),
        }
    }

    fn unload(&mut self, filter: u8, handle: u8, bogus: u32) -> String {
        let Some(filter) = self.filter(filter) else {
            return String::from("no filter");
        };
        if handle == 0xFF || self.downloads.is_empty() {
            let result = dls_unload(&filter, usize::try_from(bogus).unwrap_or(0));
            return format!("{result:?}");
        }
        let at = usize::from(handle) % self.downloads.len();
        let result = dls_unload(&filter, self.downloads[at]);
        if result.is_ok() {
            self.downloads.swap_remove(at);
        }
        format!("{result:?}")
    }

    fn pull(&self, stream: u8, frames: u16) -> String {
        let Some(Stream::Sink(sink)) = self.stream(stream) else {
            return String::from("no sink");
        };
        match sink.pull(usize::from(frames % 9_600)) {
            Ok(audio) => format!(
                "{} samples, peak {}",
                audio.len(),
                audio.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0)
            ),
            Err(error) => format!("{error:?}"),
        }
    }

    fn property(
        &self,
        filter: u8,
        (target, index): (u8, u8),
        (set, id, verb): (u8, u8, u8),
        instance: &mut [u8],
        value_len: u16,
        value: &[u8],
    ) -> String {
        let Some(filter) = self.filter(filter) else {
            return String::from("no filter");
        };
        let target = match target % 4 {
            0 => PropertyTarget::Filter,
            1 => PropertyTarget::PinFactory(u32::from(index % 8)),
            2 => match self.stream(index) {
                Some(Stream::Pin(pin)) => PropertyTarget::Pin(pin.id()),
                Some(Stream::Sink(_)) | None => PropertyTarget::Filter,
            },
            _ => PropertyTarget::Node(u32::from(index % 4)),
        };
        let verb = match verb % 4 {
            0 => KSPROPERTY_TYPE_GET,
            1 => KSPROPERTY_TYPE_SET,
            2 => KSPROPERTY_TYPE_BASICSUPPORT,
            _ => u32::from(verb) << 6,
        };
        let mut buffer = vec![0_u8; usize::from(value_len % 4_096)];
        let copied = value.len().min(buffer.len());
        buffer[..copied].copy_from_slice(&value[..copied]);
        let result = filter.property(
            target,
            &SETS[usize::from(set) % SETS.len()],
            u32::from(id % 24),
            verb,
            instance,
            &mut buffer,
        );
        format!("{result:?}")
    }

    /// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` of `bytes` mapped in user space, claiming `claimed`
    /// bytes; a handle that comes back is kept for unloads.
    fn download(&mut self, filter: u8, bytes: &[u8], claimed: u32) -> String {
        let Some(filter) = self.filter(filter) else {
            return String::from("no filter");
        };
        let Ok(mapped) = UserBuffer::map(bytes) else {
            return String::from("user space full");
        };
        let request = SYNTH_BUFFER {
            BufferSize: claimed,
            BufferAddress: mapped.address() as *mut core::ffi::c_void,
        };
        let mut instance = Vec::new();
        instance.extend_from_slice(&claimed.to_le_bytes());
        // SYNTH_BUFFER's pointer is at its natural alignment after the ULONG.
        let address_at = core::mem::offset_of!(SYNTH_BUFFER, BufferAddress);
        instance.resize(address_at, 0);
        instance.extend_from_slice(&(request.BufferAddress as usize).to_ne_bytes());
        let mut value = vec![0_u8; 16];
        let result = filter.property(
            PropertyTarget::Filter,
            &KSPROPSETID_Synth_Dls,
            KSPROPERTY_SYNTH_DLS_DOWNLOAD,
            KSPROPERTY_TYPE_GET,
            &mut instance,
            &mut value,
        );
        drop(mapped);
        if dmus_sys::kernel::NT_SUCCESS(result.status) {
            let mut handle = [0_u8; size_of::<usize>()];
            handle.copy_from_slice(&value[..size_of::<usize>()]);
            self.downloads.push(usize::from_ne_bytes(handle));
            format!("handle {:#x}", usize::from_ne_bytes(handle))
        } else {
            format!("{result:?}")
        }
    }

    /// Closes what the client holds, stops and removes the devices, unloads the driver, and
    /// reports what is left.
    fn finish(mut self) -> Leftovers {
        for stream in self.streams.drain(..).rev() {
            stream.close();
        }
        for device in self.devices.drain(..) {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        self.machine.unload_checks();
        let driver_pool = self.machine.with(|m| {
            m.pool()
                .usage_by_tag()
                .get(&POOL_TAG)
                .map_or((0, 0), |usage| (usage.count, usage.bytes))
        });
        let user_mapped = self.machine.with(|m| m.user_space().mapped());
        Leftovers {
            findings: self.machine.take_findings(),
            driver_pool,
            user_mapped,
        }
    }
}

/// The item at `index` modulo the length, if there is any.
fn pick<T>(items: &[T], index: u8) -> Option<&T> {
    if items.is_empty() {
        None
    } else {
        items.get(usize::from(index) % items.len())
    }
}

/// Runs one session on a fresh machine (installed on this thread for the session) and
/// reports what it left behind.
#[must_use]
pub fn run(setup: &Setup, ops: Vec<Op>) -> Leftovers {
    let trace = std::env::var_os("RDMUS_FUZZ_TRACE").is_some();
    let mut world = World::start(setup);
    if trace {
        eprintln!("{setup:?}: {} filter(s)", world.filters.len());
    }
    for op in ops {
        world.apply(op, trace);
    }
    world.finish()
}

/// One test at a time owns the driver's globals.
#[cfg(test)]
pub(crate) fn driver_lock() -> std::sync::MutexGuard<'static, ()> {
    static DRIVER: std::sync::Mutex<()> = std::sync::Mutex::new(());
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::{World, driver_lock};
    use crate::script::{Op, Setup};

    /// The check can fail: a pin the client forgets (its handle dropped, so the harness
    /// cannot walk it down) is found open when the device stops.
    #[test]
    fn what_a_session_leaves_is_reported() {
        let _lock = driver_lock();
        let setup = Setup {
            devices: 1,
            ..Setup::default()
        };
        let mut world = World::start(&setup);
        world.apply(
            Op::OpenPin {
                filter: 0,
                factory: 0,
                dmusic: false,
            },
            false,
        );
        assert_eq!(world.streams.len(), 1, "the legacy pin opened");
        world.streams.clear();
        let leftovers = world.finish();
        assert!(!leftovers.is_clean());
        assert!(
            leftovers
                .findings
                .iter()
                .any(|finding| format!("{finding:?}").contains("still open")),
            "{leftovers:#?}"
        );
    }
}
