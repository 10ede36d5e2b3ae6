//! Pool failure injected at every allocation of each device's whole life: the driver loads,
//! its device starts, every pin opens and runs, DLS instruments download (synth), notes play
//! and are captured (MPU-401), everything stops, unloads and goes. With allocation N failed
//! (for every N the clean life makes), the step that needed it fails with
//! `STATUS_INSUFFICIENT_RESOURCES`, everything after it that can still run runs, the teardown
//! gives everything back, and the simulated Driver Verifier finds nothing: no leak, no
//! freed pool written, no object left.
//!
//! Every allocation counts: the driver's `Vec`s and `Box`es reach the simulated pool through
//! the host's driver heap (driver/pool.rs), so the DLS copies, the store and the synth
//! engine's buffers fail here too.
//!
//! The driver keeps process-wide state, so the tests take turns through one lock.

use std::sync::{Mutex, MutexGuard};

use dls::download::build::CollectionBuffers;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPSETID_Synth, SYNTH_PORTPARAMS,
    SYNTH_PORTPARAMS_SAMPLERATE, SYNTH_PORTPARAMS_VOICES,
};
use dmus_sys::kernel::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS};
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSSTATE_RUN, KSSTATE_STOP};
use wdm_sim::portcls::{
    Driver, Filter, OpenError, PinFormat, PropertyTarget, Resources, StateError, WaveSink,
    WaveSinkConfig, dls_download, dls_unload,
};
use wdm_sim::{FaultInjection, Finding, Machine, MachineConfig, ms};

mod synth_fixture;
use synth_fixture::tiny_buffers;

static DRIVER: Mutex<()> = Mutex::new(());

fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What one life showed: the steps refused, with their status, in order.
#[derive(Debug, Default)]
struct Life {
    refused: Vec<(&'static str, NTSTATUS)>,
    attempts: u64,
    injected: u64,
    findings: Vec<Finding>,
}

impl Life {
    fn refuse(&mut self, step: &'static str, status: NTSTATUS) {
        self.refused.push((step, status));
    }

    fn open_error(&mut self, step: &'static str, error: OpenError) {
        let status = match error {
            OpenError::Intersection(s) | OpenError::NewStream(s) | OpenError::ConnectOutput(s) => s,
            other => panic!("{step}: refused for a reason other than the driver's: {other:?}"),
        };
        self.refuse(step, status);
    }

    fn state_error(&mut self, step: &'static str, error: StateError) {
        match error {
            StateError::Stream { status, .. } => self.refuse(step, status),
            other => panic!("{step}: {other:?}"),
        }
    }
}

fn machine_config(faults: FaultInjection, dpc_bound: u64) -> MachineConfig {
    MachineConfig {
        faults,
        dpc_bound,
        ..MachineConfig::default()
    }
}

fn fail_nth(n: u64) -> FaultInjection {
    FaultInjection {
        fail_nth: Some(n),
        ..FaultInjection::default()
    }
}

/// `DMUS_EVENTHEADER` records (dmusbuff.h): channel group 1, structured, `rtDelta` the time.
fn dmus_buffer(messages: &[(i64, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for &(time, bytes) in messages {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(bytes);
        while (out.len() - start) % 8 != 0 {
            out.push(0);
        }
    }
    out
}

/// KSMUSICFORMAT record (ksmedia.h): delta ms, byte count, bytes, padded to a DWORD.
fn ksmusic(delta_ms: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&delta_ms.to_le_bytes());
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

// ---- a tiny DLS collection: one looped square wave, one instrument on every key ----

/// `KSPROPERTY_SYNTH_PORTPARAMETERS` (GET, instance the parameters asked): its status.
fn port_parameters(filter: Filter, voices: u32, rate: u32) -> NTSTATUS {
    let asked = SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_VOICES | SYNTH_PORTPARAMS_SAMPLERATE,
        Voices: voices,
        SampleRate: rate,
        ..SYNTH_PORTPARAMS::default()
    };
    // SAFETY: SYNTH_PORTPARAMS is plain data, read as its bytes.
    let mut instance = unsafe {
        std::slice::from_raw_parts(
            std::ptr::from_ref(&asked).cast::<u8>(),
            size_of::<SYNTH_PORTPARAMS>(),
        )
    }
    .to_vec();
    let mut value = vec![0u8; size_of::<SYNTH_PORTPARAMS>()];
    filter
        .property(
            PropertyTarget::Filter,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_PORTPARAMETERS,
            KSPROPERTY_TYPE_GET,
            &mut instance,
            &mut value,
        )
        .status
}

/// One whole life of the driver on a machine injecting `faults`: load, add the device, start
/// it with the `resources` the machine gives, `use_subdevice` on its filter `name`, stop, remove, unload. What was
/// refused, the pool's counts and the findings after the unload checks.
fn life(
    faults: FaultInjection,
    dpc_bound: u64,
    resources: fn() -> Resources,
    name: &str,
    use_subdevice: impl FnOnce(&mut Life, &Machine, Filter),
) -> Life {
    let mut life = Life::default();
    let machine = Machine::new(machine_config(faults, dpc_bound));
    match Driver::load(Some(rdmus_driver::DriverEntry)) {
        Err(status) => life.refuse("DriverEntry", status),
        Ok(driver) => {
            match driver.add_device() {
                Err(status) => life.refuse("AddDevice", status),
                Ok(device) => {
                    if let Err(status) = device.start(&resources()) {
                        life.refuse("StartDevice", status);
                    } else {
                        let filter = device
                            .filter(name)
                            .unwrap_or_else(|| panic!("a started device has its {name}"));
                        use_subdevice(&mut life, &machine, filter);
                        device.stop();
                    }
                    device.remove();
                }
            }
            driver.unload();
        }
    }
    machine.run_for(ms(1));
    machine.unload_checks();
    life.attempts = machine.with(|m| m.pool().attempts());
    life.injected = machine.with(|m| m.pool().injected_failures());
    life.findings = machine.take_findings();
    life
}

/// The synth's whole life with `faults`: load, start (no resources), port parameters,
/// download, every pin open and RUN, notes play through the wave sink, STOP, close, unload,
/// stop, remove, go.
fn synth_life(faults: FaultInjection, buffers: &CollectionBuffers) -> Life {
    life(
        faults,
        wdm_sim::us(100),
        Resources::none,
        "Synth",
        |life, _machine, filter| play_synth(life, filter, buffers),
    )
}

fn play_synth(life: &mut Life, filter: Filter, buffers: &CollectionBuffers) {
    // As DirectMusic opens a port: voices and rate asked (a new voice
    // count allocates a new engine).
    let status = port_parameters(filter, 64, 44_100);
    if status != STATUS_SUCCESS {
        life.refuse("PORTPARAMETERS", status);
    }
    let mut handles = Vec::new();
    for buffer in buffers.waves.iter().chain(&buffers.instruments) {
        // As DirectMusic does, the collection stops at a refusal
        // (its instruments need its waves).
        match dls_download(&filter, &buffer.bytes) {
            Ok(handle) => handles.push(handle),
            Err(status) => {
                life.refuse("DLS download", status);
                break;
            }
        }
    }
    let pin = filter
        .open_pin(1, PinFormat::DirectMusic)
        .map_err(|e| life.open_error("DirectMusic pin open", e))
        .ok();
    let sink = WaveSink::open(&filter, 2, WaveSinkConfig::default())
        .map_err(|e| life.open_error("wave sink open", e))
        .ok();
    if let Some(sink) = &sink {
        if let Err(e) = sink.set_state(KSSTATE_RUN) {
            life.state_error("wave sink RUN", e);
        }
    }
    if let Some(pin) = &pin {
        if let Err(e) = pin.set_state(KSSTATE_RUN) {
            life.state_error("DirectMusic pin RUN", e);
        } else {
            let notes = dmus_buffer(&[(10_000, &[0x90, 60, 100]), (200_000, &[0x80, 60, 0])]);
            pin.write(0, &notes).expect("a running pin takes an IRP");
        }
    }
    // The legacy MIDI pin too, while the sink runs.
    let legacy = filter
        .open_pin(0, PinFormat::Midi)
        .map_err(|e| life.open_error("legacy MIDI pin open", e))
        .ok();
    if let Some(pin) = &legacy {
        if let Err(e) = pin.set_state(KSSTATE_RUN) {
            life.state_error("legacy MIDI pin RUN", e);
        } else {
            let irp = [ksmusic(0, &[0x91, 64, 90]), ksmusic(5, &[0x81, 64, 0])].concat();
            pin.write(0, &irp).expect("a running pin takes an IRP");
        }
    }
    if let Some(sink) = &sink {
        let _ = sink.pull(4_800);
    }
    if let Some(pin) = legacy {
        let _ = pin.set_state(KSSTATE_STOP);
        pin.close();
    }
    if let Some(pin) = pin {
        let _ = pin.set_state(KSSTATE_STOP);
        pin.close();
    }
    if let Some(sink) = sink {
        let _ = sink.set_state(KSSTATE_STOP);
        sink.close();
    }
    for handle in handles.into_iter().rev() {
        dls_unload(&filter, handle).expect("a kept download unloads");
    }
}

/// The MPU-401's whole life with `faults`: load, start with the card's resources, both
/// render pins play a note on the wire, the capture pin reads one in each format, STOP,
/// close, go.
fn mpu401_life(faults: FaultInjection) -> Life {
    life(faults, ms(1), Resources::of_machine, "UART", play_mpu401)
}

fn play_mpu401(life: &mut Life, machine: &Machine, filter: Filter) {
    // Both render pins at once (driver/mpu401/descriptor.rs: 0 legacy
    // MIDI, 1 DirectMusic), each playing a note on the wire.
    let mut renders = Vec::new();
    for (id, format, step) in [
        (0, PinFormat::Midi, "legacy render pin"),
        (1, PinFormat::DirectMusic, "DirectMusic render pin"),
    ] {
        match filter.open_pin(id, format) {
            Ok(pin) => renders.push((pin, format, step)),
            Err(e) => life.open_error(step, e),
        }
    }
    for (pin, format, step) in &renders {
        if let Err(e) = pin.set_state(KSSTATE_RUN) {
            life.state_error(step, e);
            continue;
        }
        let irp = if *format == PinFormat::Midi {
            [ksmusic(0, &[0x90, 60, 100]), ksmusic(10, &[0x80, 60, 0])].concat()
        } else {
            dmus_buffer(&[(0, &[0x91, 62, 100]), (100_000, &[0x81, 62, 0])])
        };
        pin.write(0, &irp).expect("a running pin takes an IRP");
    }
    machine.run_for(ms(20));
    // The capture pin (4) in each of its formats, one after the other.
    for format in [PinFormat::Midi, PinFormat::DirectMusic] {
        let capture = match filter.open_pin(4, format) {
            Ok(pin) => pin,
            Err(e) => {
                life.open_error("capture pin open", e);
                continue;
            }
        };
        if let Err(e) = capture.set_state(KSSTATE_RUN) {
            life.state_error("capture pin RUN", e);
        } else {
            machine.inject_midi_input(machine.now() + ms(1), &[0x90, 64, 90]);
            machine.run_for(ms(10));
            let _ = capture.read(256);
        }
        let _ = capture.set_state(KSSTATE_STOP);
        capture.close();
    }
    for (pin, _, _) in renders {
        let _ = pin.set_state(KSSTATE_STOP);
        pin.close();
    }
}

/// Walks `fail_nth` over every allocation the clean life makes: each life must end clean.
fn walk(name: &str, life: impl Fn(FaultInjection) -> Life) {
    let clean = life(FaultInjection::default());
    assert_eq!(clean.refused, [], "{name}: the clean life refuses nothing");
    assert_eq!(clean.findings, [], "{name}: the clean life finds nothing");
    let mut refused_steps = std::collections::BTreeMap::<&str, u64>::new();
    for n in 1..=clean.attempts {
        let failed = life(fail_nth(n));
        assert_eq!(
            failed.injected, 1,
            "{name}: allocation {n} was reached and failed"
        );
        assert_eq!(
            failed.findings,
            [],
            "{name}: allocation {n} failed: no leak, no finding (refused {:?})",
            failed.refused
        );
        for &(step, status) in &failed.refused {
            assert_eq!(
                status, STATUS_INSUFFICIENT_RESOURCES,
                "{name}: allocation {n} failed: {step} refused with {status:#x}"
            );
            *refused_steps.entry(step).or_default() += 1;
        }
    }
    println!(
        "{name}: {} allocations in a clean life, each failed in turn; steps refused: {refused_steps:?}",
        clean.attempts
    );
}

#[test]
fn every_allocation_of_the_synth_s_life_can_fail_cleanly() {
    let _lock = driver_lock();
    let buffers = tiny_buffers(1);
    walk("synth", |faults| synth_life(faults, &buffers));
}

#[test]
fn every_allocation_of_the_mpu401_s_life_can_fail_cleanly() {
    let _lock = driver_lock();
    walk("MPU-401", mpu401_life);
}
