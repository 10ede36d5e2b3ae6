//! Several applications on the synth at once (issue 12, items 2 and 3), in the simulation:
//! MIDI render clients on both MIDI pins share the synth's voices, and each client's channel
//! groups are its own (`DMUS_KERNEL_EVENT.usChannelGroup` names a group of the client's
//! port): one client's program change on its group 1 never reaches another's group 1;
//! groups above 1 play, up to the number enabled.
//!
//! The DLS fixture (one looped square wave, one instrument, bank 0 program 0) is the one
//! `tests/synth_miniport.rs` builds, copied here (test files do not share modules).

use std::sync::{Mutex, MutexGuard};

use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPSETID_Synth,
    SYNTH_EFFECT_NONE, SYNTH_PORTPARAMS_EFFECTS,
};
use dmus_sys::kernel::STATUS_SUCCESS;
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET, KSSTATE_RUN, KSSTATE_STOP};
use wdm_sim::portcls::{
    Device, Driver, Filter, OpenError, PinFormat, PropertyTarget, Resources, WaveSink,
    WaveSinkConfig, dls_download,
};
use wdm_sim::{Machine, MachineConfig};

mod synth_fixture;
use synth_fixture::tiny_buffers;

static DRIVER: Mutex<()> = Mutex::new(());

fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

const PIN_LEGACY: u32 = 0;
const PIN_DMUSIC: u32 = 1;
const PIN_WAVE: u32 = 2;
/// Frames per millisecond at the sink's 48 kHz.
const FRAMES_PER_MS: usize = 48;

/// The driver loaded and the root-enumerated synth device started.
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
        device.start(&Resources::none()).expect("StartDevice");
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
            .expect("the Synth subdevice")
    }

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

/// `DMUS_EVENTHEADER` records (dmusbuff.h): `(ms, channel group, bytes)`, structured.
fn dmus_buffer(records: &[(i64, u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(ms, group, bytes) in records {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&group.to_le_bytes());
        out.extend_from_slice(&(ms * 10_000).to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(bytes);
        while (out.len() - start) % 8 != 0 {
            out.push(0);
        }
    }
    out
}

/// `KSMUSICFORMAT` records: `(ms since the previous, bytes)`.
fn ksmusic_buffer(records: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(delta, bytes) in records {
        out.extend_from_slice(&delta.to_le_bytes());
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(bytes);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// The loudest sample of the frames from `from_ms` to `to_ms`.
fn peak(audio: &[i16], from_ms: usize, to_ms: usize) -> i32 {
    audio[2 * from_ms * FRAMES_PER_MS..2 * to_ms * FRAMES_PER_MS]
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap_or(0)
}

/// The fixture downloaded, and the port dry, as a client asks it (the reverb is on until
/// PORTPARAMETERS turns it off, and a tail would reach into the silences this test checks).
fn download_dry(filter: Filter) {
    let buffers = tiny_buffers(1);
    for buffer in buffers.waves.iter().chain(&buffers.instruments) {
        dls_download(&filter, &buffer.bytes).expect("download");
    }
    let mut asked: Vec<u8> = [SYNTH_PORTPARAMS_EFFECTS, 0, 0, 0, 0, SYNTH_EFFECT_NONE, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut granted = vec![0u8; asked.len()];
    let dry = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        KSPROPERTY_TYPE_GET,
        &mut asked,
        &mut granted,
    );
    assert_eq!(dry.status, STATUS_SUCCESS, "no effects");
}

#[test]
fn clients_share_the_voices_and_each_has_its_own_channel_groups() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    download_dry(filter);
    let mut groups = 2u32.to_le_bytes();
    let enabled = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_CHANNELGROUPS,
        KSPROPERTY_TYPE_SET,
        &mut [],
        &mut groups,
    );
    assert_eq!(enabled.status, STATUS_SUCCESS, "two channel groups");
    let first = filter
        .open_pin(PIN_DMUSIC, PinFormat::DirectMusic)
        .expect("client 1");
    let second = filter
        .open_pin(PIN_DMUSIC, PinFormat::DirectMusic)
        .expect("client 2");
    let legacy = filter
        .open_pin(PIN_LEGACY, PinFormat::Midi)
        .expect("client 3");
    let sink = WaveSink::open(&filter, PIN_WAVE, WaveSinkConfig::default()).expect("sink");
    sink.set_state(KSSTATE_RUN).expect("sink RUN");
    for pin in [&first, &second, &legacy] {
        pin.set_state(KSSTATE_RUN).expect("RUN");
    }
    // Client 2 moves its group 1, channel 1 to a program the bank does not have (silent).
    // Client 1's group 1, channel 1 keeps program 0: its note sounds.
    second
        .write(0, &dmus_buffer(&[(0, 1, &[0xC0, 5])]))
        .expect("write");
    first
        .write(
            0,
            &dmus_buffer(&[(20, 1, &[0x90, 60, 120]), (60, 1, &[0x80, 60, 0])]),
        )
        .expect("write");
    // Client 2's own note on its group 1, channel 1: silent, its program is 5.
    second
        .write(
            0,
            &dmus_buffer(&[(200, 1, &[0x90, 60, 120]), (240, 1, &[0x80, 60, 0])]),
        )
        .expect("write");
    // Client 2's group 2 is a group of its own too, at program 0: it sounds; group 3 is
    // not enabled.
    second
        .write(
            0,
            &dmus_buffer(&[
                (300, 2, &[0x90, 62, 120]),
                (340, 2, &[0x80, 62, 0]),
                (500, 3, &[0x90, 62, 120]),
                (540, 3, &[0x80, 62, 0]),
            ]),
        )
        .expect("write");
    // The legacy client (group 1 of its own) plays while client 1 holds a chord: the
    // voices are shared.
    first
        .write(
            0,
            &dmus_buffer(&[
                (400, 1, &[0x90, 48, 100]),
                (400, 1, &[0x90, 52, 100]),
                (460, 1, &[0x80, 48, 0]),
                (460, 1, &[0x80, 52, 0]),
            ]),
        )
        .expect("write");
    legacy
        .write(
            0,
            &ksmusic_buffer(&[(410, &[0x90, 64, 120]), (40, &[0x80, 64, 0])]),
        )
        .expect("write");
    let audio = sink.pull(700 * FRAMES_PER_MS).expect("audio");
    assert_eq!(peak(&audio, 0, 19), 0, "silence before the first note");
    assert!(
        peak(&audio, 25, 55) > 1_000,
        "client 1's note sounds: client 2's program change was its own"
    );
    assert_eq!(
        peak(&audio, 200, 290),
        0,
        "client 2's group 1 is at program 5"
    );
    assert!(peak(&audio, 305, 335) > 1_000, "client 2's group 2 sounds");
    let chord = peak(&audio, 402, 408);
    let with_legacy = peak(&audio, 415, 445);
    assert!(
        chord > 1_000 && with_legacy > chord,
        "{chord} then {with_legacy}"
    );
    assert_eq!(peak(&audio, 560, 700), 0, "group 3 is not enabled");
    for pin in [first, second, legacy] {
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
    }
    sink.set_state(KSSTATE_STOP).expect("sink STOP");
    sink.close();
    rig.finish();
}

#[test]
fn each_midi_pin_takes_four_clients() {
    let _lock = driver_lock();
    let rig = Rig::start();
    let filter = rig.filter();
    for (pin, format) in [
        (PIN_LEGACY, PinFormat::Midi),
        (PIN_DMUSIC, PinFormat::DirectMusic),
    ] {
        let open: Vec<_> = (0..4)
            .map(|_| filter.open_pin(pin, format).expect("a client"))
            .collect();
        assert_eq!(
            filter.open_pin(pin, format).err(),
            Some(OpenError::TooManyInstances),
            "a fifth client on pin {pin}"
        );
        for client in open {
            client.close();
        }
        filter
            .open_pin(pin, format)
            .expect("the inputs are free again")
            .close();
    }
    rig.finish();
}

// ---- the DLS fixture of tests/synth_miniport.rs ----
