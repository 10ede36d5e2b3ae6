//! The DLS synth subdevice through wdm-sim: a root-enumerated device starts the synth
//! miniport, its pins open (MIDI and `DirectMusic` render in, the port's wave sink out), DLS
//! instruments download through `KSPROPSETID_Synth_Dls`, events play at their own sample in
//! the audio the wave sink pulls, malformed downloads are refused with
//! `STATUS_INVALID_PARAMETER` while the synth keeps playing, the properties answer as
//! documented, and the machine finds nothing.
//!
//! The driver keeps process-wide state, so the tests take turns through one lock.

use std::sync::{Mutex, MutexGuard};

use dls::download::APPEND_SAMPLES;
use dls::download::build::{CollectionBuffers, build_collection};
use dls::wire::file::DlsFile;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_DLS_APPEND,
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_DLS_WAVEFORMAT,
    KSPROPERTY_SYNTH_LATENCYCLOCK, KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS,
    KSPROPERTY_SYNTH_VOICEPRIORITY, KSPROPERTY_SYNTH_VOLUME, KSPROPSETID_Synth,
    KSPROPSETID_Synth_Dls, SYNTH_BUFFER, SYNTH_PC_DLS, SYNTH_PC_DLS2, SYNTH_PC_SOFTWARESYNTH,
    SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_PORTPARAMS_SAMPLERATE,
    SYNTH_PORTPARAMS_VOICES, SYNTH_STATS, SYNTHCAPS, SYNTHDOWNLOAD, SYNTHVOICEPRIORITY_INSTANCE,
};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::ks::{
    KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET,
    KSPROPERTY_TYPE_SET, KSSTATE_RUN, KSSTATE_STOP,
};
use rdmus_driver::{
    KSPROPERTY_RDMUS_SYNTH_LOST_NOTES, KSPROPSETID_RdmusSynthLostNotes, RDMUS_SYNTH_LOST_NOTES,
};
use wdm_sim::portcls::{
    Device, Driver, Filter, OpenError, Pin, PinFormat, PropertyResult, PropertyTarget, Resources,
    WaveSink, WaveSinkConfig, dls_download, dls_unload,
};
use wdm_sim::{KernelBuffer, Machine, MachineConfig, UserBuffer, ms};

mod synth_fixture;
use synth_fixture::{tiny_buffers, tiny_collection};

static DRIVER: Mutex<()> = Mutex::new(());

/// One test at a time owns the driver's globals.
fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One MIDI message at a presentation time (100 ns).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Message {
    time: i64,
    bytes: Vec<u8>,
}

impl Message {
    fn new(time: i64, bytes: &[u8]) -> Self {
        Self {
            time,
            bytes: bytes.to_vec(),
        }
    }
}

/// `DMUS_EVENTHEADER` records (dmusbuff.h, 20-byte header, QWORD-aligned records) for
/// `messages`: channel group 1, `DMUS_EVENT_STRUCTURED`, `rtDelta` the message's time.
fn dmus_buffer(messages: &[Message]) -> Vec<u8> {
    let mut out = Vec::new();
    for message in messages {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(message.bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&message.time.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&message.bytes);
        while (out.len() - start) % 8 != 0 {
            out.push(0);
        }
    }
    out
}

/// A MIDI file of the shared test data, if it is there (the test is reported skipped when
/// not, `test_data`).
fn shared_midi(name: &str) -> Option<std::path::PathBuf> {
    test_data::find(&format!("midi/jazz-soft/{name}"))
}

/// The channel messages of a Standard MIDI File, merged across tracks, at their times.
fn smf_messages(raw: &[u8]) -> Vec<Message> {
    use midly::{MetaMessage, Smf, Timing, TrackEventKind};
    let smf = Smf::parse(raw).expect("a valid MIDI file");
    let Timing::Metrical(per_beat) = smf.header.timing else {
        panic!("timecode files are not used here");
    };
    let per_beat = u64::from(per_beat.as_int());
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
    let mut tempo = 500_000u64;
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
        if bytes.first().is_some_and(|&b| b < 0xF0) {
            out.push(Message::new(i64::try_from(now_us * 10).unwrap(), &bytes));
        }
    }
    out
}

const PIN_DMUSIC: u32 = 1;
const PIN_WAVE: u32 = 2;
const RATE: i64 = 48_000;

/// The driver loaded and a root-enumerated device (no resources) started.
struct Rig {
    machine: Machine,
    driver: Option<Driver>,
    device: Option<Device>,
}

impl Rig {
    fn start() -> Self {
        let machine = Machine::new(MachineConfig::default());
        let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
        let device = driver.add_device().expect("AddDevice");
        device
            .start(&Resources::none())
            .expect("StartDevice, no resources");
        Self {
            machine,
            driver: Some(driver),
            device: Some(device),
        }
    }

    fn filter(&self) -> Filter {
        self.device
            .as_ref()
            .and_then(|d| d.filter("Synth"))
            .expect("the Synth subdevice is registered")
    }

    fn now(&self) -> i64 {
        i64::try_from(self.machine.now()).unwrap()
    }

    /// Stops, removes, unloads; the machine must have found nothing.
    fn finish(mut self) {
        if let Some(device) = self.device.take() {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        assert_eq!(self.machine.findings(), [], "verifier findings");
    }
}

fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: a plain-data value read as its bytes for the call.
    unsafe { std::slice::from_raw_parts(std::ptr::from_ref(value).cast::<u8>(), size_of::<T>()) }
        .to_vec()
}

fn value_of<T: Copy>(bytes: &[u8]) -> T {
    assert!(bytes.len() >= size_of::<T>());
    // SAFETY: at least size_of::<T>() bytes of plain data.
    unsafe { bytes.as_ptr().cast::<T>().read_unaligned() }
}

fn get<T: Copy>(
    filter: Filter,
    set: &dmus_sys::GUID,
    id: u32,
    instance: &mut [u8],
) -> (PropertyResult, Option<T>) {
    let mut value = vec![0u8; size_of::<T>()];
    let result = filter.property(
        PropertyTarget::Filter,
        set,
        id,
        KSPROPERTY_TYPE_GET,
        instance,
        &mut value,
    );
    let found = (result.status == STATUS_SUCCESS).then(|| value_of::<T>(&value));
    (result, found)
}

fn set<T: Copy>(
    filter: Filter,
    set: &dmus_sys::GUID,
    id: u32,
    instance: &mut [u8],
    value: &T,
) -> NTSTATUS {
    let mut bytes = bytes_of(value);
    filter
        .property(
            PropertyTarget::Filter,
            set,
            id,
            KSPROPERTY_TYPE_SET,
            instance,
            &mut bytes,
        )
        .status
}

/// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` from user mode of `buffer` mapped in the application's
/// user space, claiming `size` bytes: the handle or the status.
fn download_sized(filter: Filter, buffer: &[u8], size: u32) -> Result<usize, NTSTATUS> {
    let mapped = UserBuffer::map(buffer).expect("user space");
    let mut instance = bytes_of(&SYNTH_BUFFER {
        BufferSize: size,
        BufferAddress: mapped.address() as *mut core::ffi::c_void,
    });
    let (result, reply) = get::<SYNTHDOWNLOAD>(
        filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_DOWNLOAD,
        &mut instance,
    );
    match reply {
        Some(reply) => {
            assert_eq!(reply.Free, 1, "the synth keeps its own copy");
            assert!(!reply.DownloadHandle.is_null());
            Ok(reply.DownloadHandle as usize)
        }
        None => Err(result.status),
    }
}

fn download(filter: Filter, buffer: &[u8]) -> Result<usize, NTSTATUS> {
    download_sized(filter, buffer, u32::try_from(buffer.len()).unwrap())
}

fn download_all(filter: Filter, buffers: &CollectionBuffers) -> Vec<usize> {
    // The sim's application-side helper, as rdmus-cli uses it.
    buffers
        .waves
        .iter()
        .chain(&buffers.instruments)
        .map(|b| dls_download(&filter, &b.bytes).expect("a well-formed download is kept"))
        .collect()
}

// ---- a tiny DLS collection: one looped square wave, one instrument on every key ----

/// The synth's pins running: the `DirectMusic` render pin and the port's wave sink, both
/// entering RUN at the same master time (returned).
fn run_pins(rig: &Rig, config: WaveSinkConfig) -> (Pin, WaveSink, i64) {
    let filter = rig.filter();
    let pin = filter
        .open_pin(PIN_DMUSIC, PinFormat::DirectMusic)
        .expect("the DirectMusic pin opens");
    let sink = WaveSink::open(&filter, PIN_WAVE, config).expect("the wave sink opens");
    let start = rig.now();
    sink.set_state(KSSTATE_RUN).expect("sink RUN");
    pin.set_state(KSSTATE_RUN).expect("pin RUN");
    assert_eq!(rig.now(), start, "no time passes while pins change state");
    (pin, sink, start)
}

fn stop_pins(pin: Pin, sink: WaveSink) {
    pin.set_state(KSSTATE_STOP).expect("pin STOP");
    sink.set_state(KSSTATE_STOP).expect("sink STOP");
    pin.close();
    sink.close();
}

/// Index of the first frame with a non-zero sample.
fn first_sound(audio: &[i16]) -> Option<usize> {
    audio.iter().position(|&s| s != 0).map(|i| i / 2)
}

fn peak(audio: &[i16]) -> i32 {
    audio.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0)
}

#[test]
fn the_synth_subdevice_starts_and_its_pins_open() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let device = rig.device.as_ref().unwrap();
    assert_eq!(device.subdevices(), ["Synth"]);
    let filter = rig.filter();
    assert_eq!(
        filter.pin_flows(),
        [
            (0, KSPIN_DATAFLOW_IN),
            (1, KSPIN_DATAFLOW_IN),
            (2, KSPIN_DATAFLOW_OUT)
        ]
    );
    let legacy = filter
        .open_pin(0, PinFormat::Midi)
        .expect("legacy MIDI pin");
    // Four clients per MIDI pin (driver/synth/descriptor.rs, MIDI_PIN_INSTANCES): the port
    // refuses a fifth from the descriptor's instance count.
    let others: Vec<_> = (0..3)
        .map(|_| filter.open_pin(0, PinFormat::Midi).expect("another client"))
        .collect();
    assert_eq!(
        filter.open_pin(0, PinFormat::Midi).err(),
        Some(OpenError::TooManyInstances),
        "four instances"
    );
    for pin in others {
        pin.close();
    }
    assert!(
        filter.open_pin(1, PinFormat::Midi).is_err(),
        "pin 1 is DirectMusic only"
    );
    let config = WaveSinkConfig::default();
    let sink = WaveSink::open(&filter, PIN_WAVE, config).expect("wave sink");
    let format = sink.wave_format().unwrap();
    assert_eq!({ format.nSamplesPerSec }, 48_000);
    let mono = WaveSinkConfig {
        channels: 4,
        ..config
    };
    assert!(
        WaveSink::open(&filter, PIN_WAVE, mono).is_err(),
        "stereo at most"
    );
    sink.set_state(KSSTATE_RUN).unwrap();
    legacy.set_state(KSSTATE_RUN).unwrap();
    let silence = sink.pull(4_800).expect("audio while running");
    assert_eq!(silence.len(), 9_600);
    assert!(
        silence.iter().all(|&s| s == 0),
        "nothing downloaded, nothing played"
    );
    legacy.set_state(KSSTATE_STOP).unwrap();
    sink.set_state(KSSTATE_STOP).unwrap();
    assert!(sink.pull(10).is_err(), "a stopped sink renders nothing");
    legacy.close();
    sink.close();
    rig.finish();
}

#[test]
fn notes_start_at_their_own_sample() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let handles = download_all(filter, &tiny_buffers(1));
    assert_eq!(handles.len(), 2);
    let (pin, sink, _start) = run_pins(&rig, WaveSinkConfig::default());
    // 25.3 ms and 61.7 ms: inside render periods, not on their edges.
    let on_at = 253_000i64;
    let off_at = 617_000i64;
    let messages = [
        Message::new(on_at, &[0x90, 60, 127]),
        Message::new(off_at, &[0x80, 60, 0]),
    ];
    pin.write(0, &dmus_buffer(&messages)).expect("render IRP");
    let audio = sink.pull(48_000).expect("one second of audio");
    let expected = usize::try_from(on_at * RATE / 10_000_000).unwrap();
    let first = first_sound(&audio).expect("the note sounds");
    println!("note-on at {on_at} x 100 ns: first sound at frame {first} (ideal {expected})");
    assert!(
        first >= expected && first <= expected + 1,
        "first sound at frame {first}, the event's sample is {expected}"
    );
    assert!(peak(&audio[..2 * expected]) == 0, "silence before the note");
    let during = &audio[2 * (expected + 480)..2 * (expected + 960)];
    assert!(
        peak(during) > 1_000,
        "the note is audible: peak {}",
        peak(during)
    );
    let late = &audio[2 * 40_000..];
    assert!(peak(late) < peak(during), "the note was released");
    stop_pins(pin, sink);
    for handle in handles.into_iter().rev() {
        let unloaded_status = set(
            filter,
            &KSPROPSETID_Synth_Dls,
            KSPROPERTY_SYNTH_DLS_UNLOAD,
            &mut [],
            &handle,
        );
        assert_eq!(
            unloaded_status, STATUS_SUCCESS,
            "unload instruments, then waves"
        );
    }
    rig.finish();
}

#[test]
fn malformed_downloads_are_refused_while_the_synth_plays_on() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let buffers = tiny_buffers(1);
    let handles = download_all(filter, &buffers);
    let (pin, sink, _start) = run_pins(&rig, WaveSinkConfig::default());
    pin.write(0, &dmus_buffer(&[Message::new(200_000, &[0x90, 60, 100])]))
        .expect("render IRP");
    let before = sink.pull(9_600).expect("audio");
    assert!(peak(&before[2 * 4_800..]) > 1_000, "the note plays");

    let wave = &buffers.waves[0].bytes;
    let instrument = &buffers.instruments[0].bytes;
    let fresh = |bytes: &[u8], dlid: u32| {
        let mut copy = bytes.to_vec();
        copy[4..8].copy_from_slice(&dlid.to_le_bytes());
        copy
    };
    let mut bad_offset = fresh(wave, 50);
    bad_offset[16..20].copy_from_slice(&0xFFFF_FF00u32.to_le_bytes());
    let mut size_lies = fresh(wave, 51);
    let lie = u32::try_from(size_lies.len() + 4_096).unwrap();
    size_lies[12..16].copy_from_slice(&lie.to_le_bytes());
    let truncated = fresh(wave, 52);
    let mut cycle = fresh(instrument, 53);
    let u32_at =
        |bytes: &[u8], at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    // Offset-table item 0 is the DMUS_INSTRUMENT; its ulFirstRegionIdx is at +4.
    let instrument_at = usize::try_from(u32_at(&cycle, 16)).unwrap();
    let first_region_index = u32_at(&cycle, instrument_at + 4);
    let region_at = usize::try_from(u32_at(
        &cycle,
        16 + 4 * usize::try_from(first_region_index).unwrap(),
    ))
    .unwrap();
    // DMUS_REGION.ulNextRegionIdx (offset 16) back to the region itself.
    cycle[region_at + 16..region_at + 20].copy_from_slice(&first_region_index.to_le_bytes());
    let mut unknown_wave = fresh(instrument, 54);
    // The region's WAVELINK.ulTableIndex (DMUS_REGION offset 24 + 8) names no download.
    unknown_wave[region_at + 32..region_at + 36].copy_from_slice(&999u32.to_le_bytes());

    let short = u32::try_from(truncated.len() - 40).unwrap();
    let refused = [
        ("offset out of range", download(filter, &bad_offset)),
        ("size that lies", download(filter, &size_lies)),
        ("truncated wave", download_sized(filter, &truncated, short)),
        ("region chain cycle", download(filter, &cycle)),
        ("unknown wave", download(filter, &unknown_wave)),
        ("duplicate id", download(filter, wave)),
        ("empty buffer", download_sized(filter, wave, 0)),
    ];
    for (what, result) in refused {
        assert_eq!(result, Err(STATUS_INVALID_PARAMETER), "{what}");
    }
    let after = sink.pull(9_600).expect("audio");
    assert!(
        peak(&after) > 1_000,
        "the synth kept playing: peak {}",
        peak(&after)
    );
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth_Dls,
            KSPROPERTY_SYNTH_DLS_UNLOAD,
            &mut [],
            &handles[0]
        ),
        STATUS_INVALID_PARAMETER,
        "a wave an instrument plays cannot go first"
    );
    let mut nothing = [0u8; 0];
    let compact = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth_Dls,
        dmus_sys::dmusprop::KSPROPERTY_SYNTH_DLS_COMPACT,
        KSPROPERTY_TYPE_SET,
        &mut [],
        &mut nothing,
    );
    assert_eq!(
        compact.status, STATUS_SUCCESS,
        "COMPACT does not interrupt playback"
    );
    assert!(
        peak(&sink.pull(4_800).expect("audio")) > 1_000,
        "still playing after COMPACT"
    );
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth_Dls,
            KSPROPERTY_SYNTH_DLS_UNLOAD,
            &mut [],
            &12_345usize
        ),
        STATUS_INVALID_PARAMETER,
        "unknown handle"
    );
    stop_pins(pin, sink);
    rig.finish();
}

/// `KSPROPERTY_SYNTH_DLS_UNLOAD` of `handle`, which must succeed.
fn unload(filter: Filter, handle: usize) {
    let status = set(
        filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_UNLOAD,
        &mut [],
        &handle,
    );
    assert_eq!(status, STATUS_SUCCESS, "unload {handle}");
}

/// The pool blocks and bytes live now.
fn pool_in_use(rig: &Rig) -> (usize, usize) {
    rig.machine
        .with(|m| (m.pool().live(), m.pool().live_bytes()))
}

/// `DOWNLOAD`'s `BufferAddress` is a user address when an application asks: the driver reads
/// it only through `MmCopyMemory`, after checking the range lies in user space. Unmapped
/// addresses, ranges running past a buffer or across `MmUserProbeAddress`, kernel addresses
/// from user mode and sizes that wrap around are refused with `STATUS_ACCESS_VIOLATION`
/// (what `ProbeForRead` raises for them), the synth plays on, nothing is kept or leaked, and
/// the machine finds nothing (`MmCopyMemory` called at `PASSIVE_LEVEL`, below its
/// `APC_LEVEL` limit). The same bytes in pool, sent from kernel mode, are downloaded.
#[test]
fn user_buffers_are_read_only_through_a_probed_copy() {
    use dmus_sys::kernel::{KernelMode, STATUS_ACCESS_VIOLATION, UserMode};
    use wdm_sim::portcls::dls_download_at;
    use wdm_sim::user_space::{USER_GRANULARITY, USER_PROBE_ADDRESS, USER_SPACE_BASE};

    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    // The driver reads the exported variable; the simulation's boundary is its own.
    // SAFETY: the simulation's exported variable, never written.
    let probe = unsafe { dmus_sys::imports::MmUserProbeAddress };
    assert_eq!(probe, USER_PROBE_ADDRESS);
    let buffers = tiny_buffers(1);
    let handles = download_all(filter, &buffers);
    assert_eq!(
        rig.machine.with(|m| m.user_space().mapped()),
        0,
        "the application freed its buffers"
    );
    let (pin, sink, _start) = run_pins(&rig, WaveSinkConfig::default());
    pin.write(0, &dmus_buffer(&[Message::new(200_000, &[0x90, 60, 100])]))
        .expect("render IRP");
    assert!(
        peak(&sink.pull(9_600).expect("audio")[2 * 4_800..]) > 1_000,
        "the bank downloaded from user buffers plays"
    );

    // A valid wave under a fresh id, so that a download that got through would be kept.
    let mut wave = buffers.waves[0].bytes.clone();
    wave[4..8].copy_from_slice(&70u32.to_le_bytes());
    let size = u32::try_from(wave.len()).unwrap();
    let user = |mode, address: usize, size: u32| dls_download_at(&filter, mode, address, size);

    let freed = UserBuffer::map(&wave).expect("user space");
    let freed_at = freed.address();
    drop(freed);
    let mapped = UserBuffer::map(&wave).expect("user space");
    let in_pool = KernelBuffer::new(&wave).expect("pool");
    assert!(
        in_pool.address() >= USER_PROBE_ADDRESS,
        "host pool lies above the simulated user space"
    );
    let pool_before = pool_in_use(&rig);
    let refused = [
        (
            "an unmapped user address",
            user(UserMode, USER_SPACE_BASE - USER_GRANULARITY, size),
        ),
        ("a freed user buffer", user(UserMode, freed_at, size)),
        (
            "a range running past its buffer",
            user(UserMode, mapped.address(), size + 4_096),
        ),
        (
            "a range crossing MmUserProbeAddress",
            user(UserMode, USER_PROBE_ADDRESS - 16, size),
        ),
        (
            "a kernel address from user mode",
            user(UserMode, in_pool.address(), size),
        ),
        (
            "a size that wraps around",
            user(UserMode, usize::MAX - 15, size),
        ),
        (
            "an unknown system address from kernel mode",
            user(KernelMode, usize::MAX - 15, size),
        ),
        (
            "host memory the pool does not know, from kernel mode",
            user(KernelMode, wave.as_ptr() as usize, size),
        ),
    ];
    for (what, result) in refused {
        assert_eq!(result, Err(STATUS_ACCESS_VIOLATION), "{what}");
    }
    assert_eq!(
        pool_in_use(&rig),
        pool_before,
        "nothing kept, nothing leaked"
    );
    assert!(
        peak(&sink.pull(4_800).expect("audio")) > 1_000,
        "the synth played on"
    );
    // The same bytes from kernel mode, in pool, and from user mode, mapped: kept.
    let from_kernel = user(KernelMode, in_pool.address(), size).expect("a kernel-mode download");
    unload(filter, from_kernel);
    let from_user = user(UserMode, mapped.address(), size).expect("a user-mode download");
    unload(filter, from_user);
    drop(in_pool);
    drop(mapped);
    stop_pins(pin, sink);
    for handle in handles.into_iter().rev() {
        unload(filter, handle);
    }
    rig.finish();
}

#[test]
fn caps_and_the_ks_size_protocol_answer_as_documented() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let (_, caps) = get::<SYNTHCAPS>(filter, &KSPROPSETID_Synth, KSPROPERTY_SYNTH_CAPS, &mut []);
    let caps = caps.expect("CAPS");
    // The reverb is on until PORTPARAMETERS turns it off (as Microsoft's synth has it).
    assert_eq!(
        caps.Flags,
        SYNTH_PC_DLS | SYNTH_PC_DLS2 | SYNTH_PC_SOFTWARESYNTH | dmus_sys::dmusprop::SYNTH_PC_REVERB
    );
    assert!(caps.MaxVoices >= 256 && caps.MaxChannelGroups >= 16 && caps.MaxAudioChannels == 2);

    // The KS size protocol: a zero-length GET learns the size.
    let size_query = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_CAPS,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut [],
    );
    assert_eq!(
        (size_query.status, size_query.value_size as usize),
        (STATUS_BUFFER_OVERFLOW, size_of::<SYNTHCAPS>())
    );
    let mut flags = [0u8; 4];
    let basic = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOLUME,
        KSPROPERTY_TYPE_BASICSUPPORT,
        &mut [],
        &mut flags,
    );
    assert_eq!(basic.status, STATUS_SUCCESS);
    assert_eq!(
        u32::from_ne_bytes(flags),
        KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET | KSPROPERTY_TYPE_SET
    );

    rig.finish();
}

#[test]
fn port_parameters_channel_groups_and_volume_answer_as_documented() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let mut asked = bytes_of(&SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_CHANNELGROUPS | SYNTH_PORTPARAMS_SAMPLERATE,
        ChannelGroups: 4,
        SampleRate: 96_000,
        ..SYNTH_PORTPARAMS::default()
    });
    let (_, granted) = get::<SYNTH_PORTPARAMS>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        &mut asked,
    );
    let granted = granted.expect("PORTPARAMETERS");
    assert_eq!(
        (
            granted.ChannelGroups,
            granted.SampleRate,
            granted.AudioChannels
        ),
        (4, 48_000, 2)
    );
    let (_, groups) = get::<u32>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_CHANNELGROUPS,
        &mut [],
    );
    assert_eq!(groups, Some(4), "granted channel groups take effect");
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            &mut [],
            &2u32
        ),
        STATUS_SUCCESS
    );
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            &mut [],
            &0u32
        ),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_VOLUME,
            &mut [],
            &-600i32
        ),
        STATUS_SUCCESS
    );
    let (_, volume) = get::<i32>(filter, &KSPROPSETID_Synth, KSPROPERTY_SYNTH_VOLUME, &mut []);
    assert_eq!(volume, Some(-600));
    rig.finish();
}

#[test]
fn voice_priorities_and_dls_facts_answer_as_documented() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let mut channel_10 = bytes_of(&SYNTHVOICEPRIORITY_INSTANCE {
        ChannelGroup: 0,
        Channel: 9,
    });
    let (_, priority) = get::<u32>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOICEPRIORITY,
        &mut channel_10,
    );
    assert_eq!(
        priority,
        Some(0x8000_000F),
        "dmusicc.h: standard + channel 10's offset"
    );
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_VOICEPRIORITY,
            &mut channel_10,
            &0xC000_0000u32
        ),
        STATUS_SUCCESS
    );
    let (_, priority) = get::<u32>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOICEPRIORITY,
        &mut channel_10,
    );
    assert_eq!(priority, Some(0xC000_0000));
    let (_, append) = get::<u32>(
        filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_APPEND,
        &mut [],
    );
    assert_eq!(append, Some(1));
    let (_, format) = get::<dmus_sys::dls::WAVEFORMATEX>(
        filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_WAVEFORMAT,
        &mut [],
    );
    let format = format.expect("WAVEFORMAT");
    assert_eq!(
        ({ format.nChannels }, { format.nSamplesPerSec }, {
            format.wBitsPerSample
        }),
        (2, 48_000, 16)
    );
    rig.finish();
}

#[test]
fn port_parameters_voices_limit_the_voices_sounding() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let mut asked = bytes_of(&SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_VOICES,
        Voices: 3,
        ..SYNTH_PORTPARAMS::default()
    });
    let (_, granted) = get::<SYNTH_PORTPARAMS>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        &mut asked,
    );
    assert_eq!(granted.expect("PORTPARAMETERS").Voices, 3);
    let handles = download_all(filter, &tiny_buffers(1));
    let (pin, sink, _) = run_pins(&rig, WaveSinkConfig::default());
    let chord: Vec<Message> = (60..66)
        .map(|key| Message::new(100_000, &[0x90, key, 100]))
        .collect();
    pin.write(0, &dmus_buffer(&chord)).expect("render IRP");
    let audio = sink.pull(4_800).expect("audio");
    assert!(peak(&audio) > 0, "the chord sounds");
    let (_, stats) = get::<SYNTH_STATS>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        &mut [],
    );
    let stats = stats.expect("RUNNINGSTATS");
    assert_eq!(
        stats.Voices, 3,
        "six notes, three voices granted: the oldest are stolen"
    );
    // The steals, measured: the engine's own count for the same six held notes on three
    // voices, RUNNINGSTATS' LostNotes (nothing late or dropped here), and rdmus's lost-notes
    // property, which gives the cause.
    let engine_count = {
        let bytes = tiny_collection();
        let file = DlsFile::parse(&bytes).expect("fixture");
        let built = build_collection(&file, 1, APPEND_SAMPLES).expect("buffers");
        let mut store = dls::download::InstrumentStore::new(APPEND_SAMPLES);
        for buffer in built.waves.into_iter().chain(built.instruments) {
            store.download(buffer.bytes).expect("download");
        }
        let mut engine = dls::synth::engine::Engine::<256, 16>::try_new(48_000, 3, 16).unwrap();
        for message in &chord {
            engine.message(&store, 1, &message.bytes);
        }
        engine.stolen_voices()
    };
    assert_eq!(engine_count, 3);
    assert_eq!(u64::from(stats.LostNotes), engine_count);
    let (_, causes) = get::<RDMUS_SYNTH_LOST_NOTES>(
        filter,
        &KSPROPSETID_RdmusSynthLostNotes,
        KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
        &mut [],
    );
    assert_eq!(
        causes.expect("the lost-notes property"),
        RDMUS_SYNTH_LOST_NOTES {
            StolenVoices: 3,
            LateEvents: 0,
            DroppedEvents: 0,
        }
    );
    stop_pins(pin, sink);
    drop(handles);
    rig.finish();
}

#[test]
fn latency_clock_and_running_stats_follow_the_sink() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    // No stream yet: the miniport has not seen the port's clock.
    let (latency, _) = get::<i64>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_LATENCYCLOCK,
        &mut [],
    );
    assert_ne!(latency.status, STATUS_SUCCESS);
    let handles = download_all(filter, &tiny_buffers(1));
    let (pin, sink, start) = run_pins(&rig, WaveSinkConfig::default());
    pin.write(0, &dmus_buffer(&[Message::new(100_000, &[0x90, 60, 100])]))
        .expect("render IRP");
    let _ = sink.pull(4_800).expect("audio");
    let mut latency = [0u8; 8];
    let result = pin.property(
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_LATENCYCLOCK,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut latency,
    );
    assert_eq!(result.status, STATUS_SUCCESS);
    let latency = i64::from_ne_bytes(latency);
    assert!(
        latency >= rig.now(),
        "the latency clock is never in the past"
    );
    assert_eq!(
        latency,
        start + 4_800 * 10_000_000 / RATE,
        "the first sample not yet rendered"
    );
    let (_, stats) = get::<SYNTH_STATS>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        &mut [],
    );
    let stats = stats.expect("RUNNINGSTATS");
    assert_eq!(stats.Voices, 1, "one note sounding");
    assert_eq!(stats.LostNotes, 0);
    stop_pins(pin, sink);
    drop(handles);
    rig.finish();
}

#[test]
fn the_gm_bank_downloads_and_a_real_file_plays() {
    let _lock = driver_lock();
    let Some(bank) = test_data::read("dls/sf_GMbank.dls") else {
        return;
    };
    let Some(path) = shared_midi("test-2-tracks-type-1.mid") else {
        return;
    };
    let file = DlsFile::parse(&bank).expect("the GM bank parses");
    let buffers = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    let rig = Rig::start();
    let filter = rig.filter();
    let handles = download_all(filter, &buffers);
    println!(
        "downloaded {} waves and {} instruments",
        buffers.waves.len(),
        buffers.instruments.len()
    );
    assert_eq!((buffers.waves.len(), buffers.instruments.len()), (488, 329));
    let messages: Vec<Message> = smf_messages(&std::fs::read(path).unwrap())
        .into_iter()
        .map(|m| Message::new(m.time + 200_000, &m.bytes))
        .collect();
    let last = messages.iter().map(|m| m.time).max().unwrap();
    let (pin, sink, _start) = run_pins(&rig, WaveSinkConfig::default());
    pin.write(0, &dmus_buffer(&messages)).expect("render IRP");
    let first_on = messages
        .iter()
        .find(|m| m.bytes[0] & 0xF0 == 0x90 && m.bytes.get(2).is_some_and(|&v| v > 0))
        .expect("the file has a note")
        .time;
    let frames = usize::try_from((last + 5_000_000) * RATE / 10_000_000).unwrap();
    let audio = sink.pull(frames).expect("the whole file");
    let expected = usize::try_from(first_on * RATE / 10_000_000).unwrap();
    let first = first_sound(&audio).expect("the file is audible");
    println!(
        "{} events, {frames} frames; first note at frame {expected}, first sound at {first}; peak {}",
        messages.len(),
        peak(&audio)
    );
    assert!(
        first >= expected && first <= expected + 2,
        "first sound at {first}, note at {expected}"
    );
    assert!(peak(&audio) > 1_000);
    let (_, stats) = get::<SYNTH_STATS>(
        filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        &mut [],
    );
    assert_eq!(
        stats.expect("RUNNINGSTATS").LostNotes,
        0,
        "no event late or dropped"
    );
    stop_pins(pin, sink);
    let mut unloaded = 0;
    for handle in handles.iter().rev() {
        dls_unload(&filter, *handle).expect("instruments first, then waves");
        unloaded += 1;
    }
    assert_eq!(unloaded, 817);
    // Every allocation of the driver's reaches the pool (its Vecs and Boxes through the host's
    // driver heap): at least the 817 download copies.
    let tag = u32::from_ne_bytes(*b"rdmu");
    let totals = rig
        .machine
        .with(|m| m.pool().totals_by_tag().get(&tag).copied());
    let totals = totals.expect("the driver allocated pool");
    println!(
        "pool 'rdmu': {} allocations, {} bytes, {} freed, peak {} bytes live",
        totals.allocations, totals.bytes, totals.frees, totals.peak_bytes
    );
    assert!(totals.allocations > 817, "{totals:?}");
    rig.finish();
}

#[test]
fn the_sample_clock_follows_a_drifting_sink() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let _handles = download_all(filter, &tiny_buffers(1));
    // The audio device runs 0.2% fast: without SyncToMaster a note 2 s in would land 192
    // frames late in the device's stream.
    let config = WaveSinkConfig {
        drift_ppm: 2_000,
        ..WaveSinkConfig::default()
    };
    let (pin, sink, start) = run_pins(&rig, config);
    let on_at = 20_000_000i64;
    pin.write(0, &dmus_buffer(&[Message::new(on_at, &[0x90, 60, 127])]))
        .expect("render IRP");
    let audio = sink.pull(3 * 48_000).expect("three seconds");
    let first = first_sound(&audio).expect("the note sounds");
    // The device plays frame f at master start + f / (rate * 1.002).
    let ideal = usize::try_from(on_at * RATE * 1_002 / 1_000 / 10_000_000).unwrap();
    let nominal = usize::try_from(on_at * RATE / 10_000_000).unwrap();
    println!("drifting sink: note at frame {first}, ideal {ideal}, without sync {nominal}");
    assert!(
        first.abs_diff(ideal) <= 24,
        "within 0.5 ms of where the device plays the note's time"
    );
    let _ = start;
    stop_pins(pin, sink);
    rig.finish();
}

#[test]
fn a_synth_run_leaves_nothing_behind_after_many_cycles() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    for _ in 0..20 {
        let device = driver.add_device().expect("AddDevice");
        device.start(&Resources::none()).expect("StartDevice");
        let filter = device.filter("Synth").expect("Synth");
        let handles = download_all(filter, &tiny_buffers(1));
        assert_eq!(handles.len(), 2);
        let sink = WaveSink::open(&filter, PIN_WAVE, WaveSinkConfig::default()).unwrap();
        sink.set_state(KSSTATE_RUN).unwrap();
        let _ = sink.pull(960).unwrap();
        sink.set_state(KSSTATE_STOP).unwrap();
        sink.close();
        machine.run_for(ms(1));
        device.stop();
        device.remove();
    }
    driver.unload();
    assert_eq!(machine.findings(), []);
}

/// `KSMUSICFORMAT` records (ksmedia.h): ms delta from the previous record, byte count, bytes,
/// DWORD-padded.
fn ksmusic_buffer(messages: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (delta_ms, bytes) in messages {
        out.extend_from_slice(&delta_ms.to_le_bytes());
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(bytes);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

#[test]
fn the_legacy_midi_pin_plays_too() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let _handles = download_all(filter, &tiny_buffers(1));
    let legacy = filter
        .open_pin(0, PinFormat::Midi)
        .expect("legacy MIDI pin");
    let sink = WaveSink::open(&filter, PIN_WAVE, WaveSinkConfig::default()).expect("sink");
    sink.set_state(KSSTATE_RUN).unwrap();
    legacy.set_state(KSSTATE_RUN).unwrap();
    legacy
        .write(
            0,
            &ksmusic_buffer(&[(30, &[0x90, 64, 110]), (50, &[0x80, 64, 0])]),
        )
        .expect("render IRP");
    let audio = sink.pull(9_600).expect("audio");
    let first = first_sound(&audio).expect("the note sounds");
    assert!(
        (1_440..=1_441).contains(&first),
        "30 ms is frame 1440; first sound at {first}"
    );
    legacy.set_state(KSSTATE_STOP).unwrap();
    sink.set_state(KSSTATE_STOP).unwrap();
    legacy.close();
    sink.close();
    rig.finish();
}

#[test]
fn stop_gives_unplayed_events_back_and_channel_groups_filter() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let _handles = download_all(filter, &tiny_buffers(1));
    assert_eq!(
        set(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            &mut [],
            &1u32
        ),
        STATUS_SUCCESS
    );
    let (pin, sink, _) = run_pins(&rig, WaveSinkConfig::default());
    // Channel group 2 is disabled: this note must stay silent.
    let mut group_2 = dmus_buffer(&[Message::new(100_000, &[0x90, 60, 127])]);
    group_2[4..8].copy_from_slice(&2u32.to_le_bytes());
    pin.write(0, &group_2).expect("render IRP");
    // Far in the future: still held when the pin stops.
    pin.write(
        0,
        &dmus_buffer(&[
            Message::new(600_000_000, &[0x90, 60, 127]),
            Message::new(700_000_000, &[0x80, 60, 0]),
        ]),
    )
    .expect("render IRP");
    let audio = sink.pull(9_600).expect("audio");
    assert_eq!(peak(&audio), 0, "channel group 2 is not enabled");
    // The port checks after STOP that the stream holds no event (a finding otherwise).
    stop_pins(pin, sink);
    rig.finish();
}

#[test]
fn a_paused_pin_moves_its_notes_later_by_the_pause() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let _handles = download_all(filter, &tiny_buffers(1));
    let (pin, sink, start) = run_pins(&rig, WaveSinkConfig::default());
    pin.write(
        0,
        &dmus_buffer(&[Message::new(1_000_000, &[0x90, 60, 127])]),
    )
    .expect("render IRP");
    let start = u64::try_from(start).unwrap();
    rig.machine.run_until(start + ms(50));
    pin.set_state(dmus_sys::ks::KSSTATE_PAUSE).expect("PAUSE");
    rig.machine.run_until(start + ms(150));
    pin.set_state(KSSTATE_RUN).expect("RUN again");
    let audio = sink.pull(24_000).expect("half a second");
    let first = first_sound(&audio).expect("the note sounds");
    // Presentation time stood still for 100 ms: the note at 100 ms plays at 200 ms.
    assert!(
        (9_600..=9_601).contains(&first),
        "first sound at frame {first}, expected 9600"
    );
    stop_pins(pin, sink);
    rig.finish();
}

#[test]
fn a_sink_that_renders_ahead_shifts_the_stream_and_the_latency_clock() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    let _handles = download_all(filter, &tiny_buffers(1));
    // The sink renders 20 ms ahead of playback.
    let config = WaveSinkConfig {
        latency_frames: 960,
        ..WaveSinkConfig::default()
    };
    let (pin, sink, start) = run_pins(&rig, config);
    pin.write(
        0,
        &dmus_buffer(&[Message::new(1_000_000, &[0x90, 60, 127])]),
    )
    .expect("render IRP");
    let audio = sink.pull(9_600).expect("200 ms of the stream");
    let first = first_sound(&audio).expect("the note sounds");
    // Stream frame 0 plays at start + 20 ms, so the note at 100 ms is frame 80 ms in.
    assert!(
        (3_840..=3_841).contains(&first),
        "first sound at frame {first}, expected 3840"
    );
    let mut latency = [0u8; 8];
    let result = pin.property(
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_LATENCYCLOCK,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut latency,
    );
    assert_eq!(result.status, STATUS_SUCCESS);
    let latency = i64::from_ne_bytes(latency);
    println!(
        "render-ahead sink: latency clock {} x 100 ns ahead of now",
        latency - rig.now()
    );
    assert_eq!(latency, start + 200_000 + 9_600 * 10_000_000 / RATE);
    assert!(
        latency >= rig.now() + 200_000,
        "at least the sink's latency ahead"
    );
    stop_pins(pin, sink);
    rig.finish();
}

/// Sends a staccato note (CC91 = 127) with the effects `flags` granted (`None`: no
/// `PORTPARAMETERS` at all); the samples from 50 ms after its note-off.
fn staccato_tail(rig: &Rig, flags: Option<u32>) -> Vec<i16> {
    use dmus_sys::dmusprop::SYNTH_PORTPARAMS_EFFECTS;
    let filter = rig.filter();
    if let Some(flags) = flags {
        let mut asked = bytes_of(&SYNTH_PORTPARAMS {
            ValidParams: SYNTH_PORTPARAMS_EFFECTS,
            EffectsFlags: flags,
            ..SYNTH_PORTPARAMS::default()
        });
        let (_, granted) = get::<SYNTH_PORTPARAMS>(
            filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_PORTPARAMETERS,
            &mut asked,
        );
        assert_eq!(granted.expect("PORTPARAMETERS").EffectsFlags, flags);
    }
    let handles = download_all(filter, &tiny_buffers(1));
    let (pin, sink, _) = run_pins(rig, WaveSinkConfig::default());
    let note = [
        Message::new(100_000, &[0xb0, 91, 127]),
        Message::new(100_000, &[0x90, 60, 100]),
        Message::new(600_000, &[0x80, 60, 0]),
    ];
    pin.write(0, &dmus_buffer(&note)).expect("render IRP");
    let audio = sink.pull(24_000).expect("audio");
    assert!(peak(&audio[..2 * 4_800]) > 1_000, "the note sounds");
    stop_pins(pin, sink);
    // The instrument before its wave.
    for handle in handles.into_iter().rev() {
        unload(filter, handle);
    }
    // From 110 ms: 50 ms after the note-off (60 ms), past its release.
    audio[2 * 5_280..].to_vec()
}

#[test]
fn port_parameters_switch_the_reverb_and_caps_say_so() {
    use dmus_sys::dmusprop::{
        SYNTH_EFFECT_CHORUS, SYNTH_EFFECT_NONE, SYNTH_EFFECT_REVERB, SYNTH_PC_REVERB,
    };
    let _lock = driver_lock();
    let rig = Rig::start();
    let caps = |rig: &Rig| {
        let (_, caps) = get::<SYNTHCAPS>(
            rig.filter(),
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_CAPS,
            &mut [],
        );
        caps.expect("CAPS")
    };
    assert_ne!(
        caps(&rig).Flags & SYNTH_PC_REVERB,
        0,
        "on before any PORTPARAMETERS, as Microsoft's synth"
    );
    let energy = |audio: &[i16]| audio.iter().map(|&s| i64::from(s).pow(2)).sum::<i64>();
    // A client that never asks hears the reverb (and no chorus: a tail as with the reverb
    // alone asked for).
    let default = staccato_tail(&rig, None);
    assert!(
        energy(&default) > 1_000_000,
        "a reverb tail: {}",
        energy(&default)
    );
    assert_eq!(
        caps(&rig).EffectFlags,
        SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS
    );

    let reverb_only = staccato_tail(&rig, Some(SYNTH_EFFECT_REVERB));
    assert_eq!(default, reverb_only, "the default is the reverb alone");
    let wet = staccato_tail(&rig, Some(SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS));
    assert_ne!(caps(&rig).Flags & SYNTH_PC_REVERB, 0, "on: CAPS says so");
    assert!(energy(&wet) > 1_000_000, "a reverb tail: {}", energy(&wet));

    let dry = staccato_tail(&rig, Some(SYNTH_EFFECT_NONE));
    assert_eq!(caps(&rig).Flags & SYNTH_PC_REVERB, 0, "off again");
    assert!(dry.iter().all(|&s| s == 0), "no tail with the effects off");
    rig.finish();
}
