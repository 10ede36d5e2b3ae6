//! The driver's whole life in the simulation: load, add and start a device of each kind
//! (an MPU-401 card with an I/O range and an IRQ, a root-enumerated synth with no resources),
//! open and close pins on whatever subdevices it registers, stop, remove, unload, with no
//! verifier finding; and 1,000 start/stop cycles that leak nothing.
//!
//! The driver keeps process-wide state (`PortCls`' saved unload routine), so the tests in this
//! file take turns through one lock.

use std::sync::{Mutex, MutexGuard};

use dmus_sys::ks::{KSPIN_DATAFLOW_OUT, KSSTATE_RUN, KSSTATE_STOP};
use wdm_sim::portcls::{Driver, PinFormat, Resources};
use wdm_sim::{Machine, MachineConfig, ms};

static DRIVER: Mutex<()> = Mutex::new(());

/// One test at a time owns the driver's globals.
fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn load() -> Driver {
    Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry succeeds")
}

/// The default machine's card is the original MPU-401, whose one-byte FIFO
/// holds 320 µs of wire: keeping it fed between 1 ms timer ticks takes DPCs
/// of up to about 0.9 ms, so for it the DPC bound is 1 ms, as the issue sets
/// it ("the DPC bound raised to 1 ms for that run").
fn original_card() -> MachineConfig {
    MachineConfig {
        dpc_bound: ms(1),
        ..MachineConfig::default()
    }
}

/// KSMUSICFORMAT record: delta, byte count, bytes, padded to a DWORD.
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

#[test]
fn synth_device_lives_and_dies_without_findings() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    for name in device.subdevices() {
        let filter = device.filter(&name).expect("registered filter");
        if let Ok(pin) = filter.open_pin(0, PinFormat::DirectMusic) {
            pin.set_state(KSSTATE_RUN).expect("RUN");
            pin.set_state(KSSTATE_STOP).expect("STOP");
            pin.close();
        }
    }
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), []);
}

#[test]
fn mpu401_device_lives_and_dies_without_findings() {
    let _lock = driver_lock();
    let machine = Machine::new(original_card());
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::of_machine()).expect("StartDevice");
    if let Some(filter) = device.filter("UART") {
        let pin = filter
            .open_pin(0, PinFormat::Midi)
            .expect("the UART's render pin opens with KSMUSICFORMAT");
        pin.set_state(KSSTATE_RUN).expect("RUN");
        let start = i64::try_from(machine.now()).unwrap();
        let irp = [ksmusic(0, &[0x90, 60, 100]), ksmusic(10, &[0x80, 60, 0])].concat();
        pin.write(0, &irp).expect("write");
        machine.run_for(ms(50));
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
        let bytes: Vec<u8> = machine.wire_log().iter().map(|&(_, b)| b).collect();
        assert!(
            bytes.ends_with(&[0x90, 60, 100, 0x80, 60, 0]),
            "wire after a note on/off written at {start}: {bytes:02x?}"
        );
        let capture = filter
            .pin_flows()
            .into_iter()
            .find_map(|(id, flow)| {
                (flow == KSPIN_DATAFLOW_OUT)
                    .then(|| filter.open_pin(id, PinFormat::Midi).ok())
                    .flatten()
            })
            .expect("the UART has a capture pin that opens with KSMUSICFORMAT");
        capture.set_state(KSSTATE_RUN).expect("RUN");
        machine.inject_midi_input(machine.now() + ms(1), &[0x90, 64, 90]);
        machine.run_for(ms(20));
        let read = capture.read(256).expect("read");
        capture.set_state(KSSTATE_STOP).expect("STOP");
        capture.close();
        assert_eq!(read.records, 1, "{read:?}");
        assert_eq!(&read.data[8..11], &[0x90, 64, 90]);
    }
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), []);
}

#[test]
fn a_thousand_start_stop_cycles_leak_nothing() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = load();
    for resources in [Resources::of_machine(), Resources::none()] {
        let device = driver.add_device().expect("AddDevice");
        let mut after_first_stop = None;
        for cycle in 0..1_000 {
            device.start(&resources).unwrap_or_else(|s| {
                panic!("start {cycle}: {s:#x}; findings {:?}", machine.findings())
            });
            if cycle == 0 {
                assert!(!device.subdevices().is_empty() || resources.is_empty());
            }
            device.stop();
            // What the driver holds between starts is the same every time: nothing grows.
            let pool = machine.with(|m| m.pool().usage_by_tag());
            match &after_first_stop {
                None => after_first_stop = Some(pool),
                Some(first) => assert_eq!(&pool, first, "cycle {cycle}: the pool changed"),
            }
        }
        device.remove();
    }
    driver.unload();
    assert_eq!(machine.findings(), []);
}

#[test]
fn devices_come_and_go_on_one_driver() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = load();
    for _ in 0..4 {
        let card = driver.add_device().expect("AddDevice (card)");
        let synth = driver.add_device().expect("AddDevice (synth)");
        card.start(&Resources::of_machine()).expect("start card");
        synth.start(&Resources::none()).expect("start synth");
        card.stop();
        synth.stop();
        card.remove();
        synth.remove();
    }
    driver.unload();
    assert_eq!(machine.findings(), []);
}

/// The driver keeps no table of its own per device: a registered subdevice lives in `PortCls`,
/// so any number of devices can be up at once and each removal frees its own.
#[test]
fn many_devices_at_once_each_removal_frees_its_own() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = load();
    let pool_before = machine.with(|m| m.pool().live_bytes());
    let devices: Vec<_> = (0..20)
        .map(|_| {
            let device = driver.add_device().expect("AddDevice");
            device.start(&Resources::none()).expect("StartDevice");
            device
        })
        .collect();
    let pool_with_all = machine.with(|m| m.pool().live_bytes());
    assert!(pool_with_all > pool_before, "twenty synths hold pool");
    let mut last = pool_with_all;
    for device in devices {
        device.stop();
        device.remove();
        let now = machine.with(|m| m.pool().live_bytes());
        assert!(
            now < last,
            "removing a device frees its pool ({now} < {last})"
        );
        last = now;
    }
    assert_eq!(last, pool_before, "every device's pool is back");
    driver.unload();
    assert_eq!(machine.findings(), []);
}

/// Loads the driver, plays a phrase on the UART and captures an input burst; returns the wire
/// log, the ISR count and the DPC count (the driver unloaded and the machine checked).
fn uart_scenario() -> (Vec<(u64, u8)>, u64, u64) {
    let machine = Machine::new(original_card());
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::of_machine()).expect("StartDevice");
    if let Some(filter) = device.filter("UART") {
        let render = filter.open_pin(0, PinFormat::Midi).expect("render pin");
        render.set_state(KSSTATE_RUN).expect("RUN");
        let irp: Vec<u8> = (0..24_u8)
            .flat_map(|n| ksmusic(u32::from(n % 5), &[0x90 | (n % 3), 40 + n, 64 + n]))
            .collect();
        render.write(0, &irp).expect("write");
        machine.inject_midi_input(machine.now() + ms(2), &[0x90, 60, 1, 0xF8, 0x80, 60, 0]);
        machine.run_for(ms(120));
        render.set_state(KSSTATE_STOP).expect("STOP");
        render.close();
    }
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), []);
    (
        machine.wire_log(),
        machine.isr_stats().all.count,
        machine.dpc_stats().all.count,
    )
}

#[test]
fn the_same_scenario_gives_the_same_wire_log_bit_for_bit() {
    let _lock = driver_lock();
    let (first, isrs, dpcs) = uart_scenario();
    let (second, isrs_again, dpcs_again) = uart_scenario();
    assert_eq!(first, second);
    assert_eq!((isrs, dpcs), (isrs_again, dpcs_again));
    if !first.is_empty() {
        assert!(first.len() >= 72, "24 three-byte messages: {}", first.len());
        assert!(
            isrs > 0 && dpcs > 0,
            "the card's input interrupted, the driver's DPCs ran"
        );
    }
}

#[test]
fn unloading_with_a_device_still_present_is_a_finding() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    driver.unload();
    let findings = machine.take_findings();
    assert!(
        findings.iter().any(|f| matches!(
            f,
            wdm_sim::Finding::PortContract { detail } if detail.contains("1 device(s) not removed")
        )),
        "{findings:?}"
    );
}
