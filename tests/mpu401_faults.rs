//! The MPU-401 miniport against broken cards and a failing kernel, in the simulation: an
//! absent card and one that never acknowledges fail StartDevice with their own status and
//! leak nothing; output that never drains faults the stream within a bounded time, gives
//! every event back and never runs a DPC long; a card that does not ACK a reset in UART mode
//! (DOSBox) restarts; allocation failures fail cleanly or fall back to the clock-interval timer.
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::kernel::{
    NTSTATUS, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_DEVICE_NOT_READY, STATUS_INSUFFICIENT_RESOURCES,
};
use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use mpu401_common::{Message, Rig, dmus_buffer, driver_lock, original_card, wire_messages};
use wdm_sim::portcls::{Driver, PinFormat, Resources};
use wdm_sim::{FaultInjection, Machine, MachineConfig, Mpu401Config, Mpu401Fault, ms};

fn card(fault: Mpu401Fault) -> MachineConfig {
    MachineConfig {
        mpu401: Some(Mpu401Config {
            fault,
            ..Mpu401Config::default()
        }),
        ..original_card()
    }
}

/// StartDevice's status on `config`; the device is removed and the driver unloaded after,
/// and the machine must have found nothing (no pool, COM reference or timer left behind).
fn start_status(config: MachineConfig) -> Result<(), NTSTATUS> {
    let machine = Machine::new(config);
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    let device = driver.add_device().expect("AddDevice");
    let status = device.start(&Resources::of_machine());
    if status.is_ok() {
        device.stop();
    }
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), [], "nothing left behind");
    status
}

#[test]
fn an_absent_card_fails_start_with_a_clear_status() {
    let _lock = driver_lock();
    assert_eq!(
        start_status(card(Mpu401Fault::Absent)),
        Err(STATUS_DEVICE_DOES_NOT_EXIST)
    );
}

#[test]
fn a_card_that_never_acks_fails_start() {
    let _lock = driver_lock();
    assert_eq!(
        start_status(card(Mpu401Fault::NeverAcks)),
        Err(STATUS_DEVICE_NOT_READY)
    );
}

/// Allocation attempts the machine has seen (every allocating kernel call counts).
fn attempts(machine: &Machine) -> u64 {
    machine.with(|m| m.pool().attempts())
}

/// Fails the `nth` allocation attempt of the machine.
fn failing(nth: u64) -> MachineConfig {
    MachineConfig {
        faults: FaultInjection {
            fail_nth: Some(nth),
            ..FaultInjection::default()
        },
        ..original_card()
    }
}

#[test]
fn every_allocation_failure_during_start_fails_cleanly() {
    let _lock = driver_lock();
    // A dry run finds the allocations StartDevice makes (the interrupt object among them).
    let (before, after) = {
        let machine = Machine::new(original_card());
        let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
        let device = driver.add_device().expect("AddDevice");
        let before = attempts(&machine);
        device.start(&Resources::of_machine()).expect("start");
        let after = attempts(&machine);
        device.stop();
        device.remove();
        driver.unload();
        assert_eq!(machine.findings(), []);
        (before, after)
    };
    assert!(after > before, "StartDevice allocates");
    let mut refused = 0;
    for nth in before + 1..=after {
        match start_status(failing(nth)) {
            Ok(()) => {}
            Err(status) => {
                assert_eq!(status, STATUS_INSUFFICIENT_RESOURCES, "allocation {nth}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "some allocation of StartDevice is essential");
}

fn notes() -> Vec<Message> {
    (0..20)
        .flat_map(|i| {
            let t = i * 50_000;
            [
                Message::new(t, &[0x90, 60 + u8::try_from(i).unwrap(), 100]),
                Message::new(t + 25_000, &[0x80, 60 + u8::try_from(i).unwrap(), 0]),
            ]
        })
        .collect()
}

#[test]
fn output_that_never_drains_faults_the_stream_without_hanging() {
    let _lock = driver_lock();
    let rig = Rig::start(card(Mpu401Fault::NeverDrains));
    let pin = rig
        .filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("the render pin opens");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let started = rig.machine.now();
    pin.write(0, &dmus_buffer(&notes())).expect("write");
    rig.machine.run_for(ms(1_200));
    // Still accepted (and given straight back) after the fault.
    pin.write(0, &dmus_buffer(&notes()[..2])).expect("write");
    rig.machine.run_for(ms(100));
    assert!(
        rig.machine.now() - started >= ms(1_300),
        "the machine kept running"
    );
    assert!(
        rig.machine.wire_log().is_empty(),
        "nothing ever left the card"
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    // finish(): no finding (every event went back exactly once), every DPC within 100 µs.
    rig.finish();
}

#[test]
fn a_card_that_does_not_ack_reset_in_uart_mode_restarts() {
    let _lock = driver_lock();
    let config = MachineConfig {
        mpu401: Some(Mpu401Config {
            ack_reset_in_uart_mode: false,
            fifo_depth: 16,
            ..Mpu401Config::default()
        }),
        ..original_card()
    };
    let machine = Machine::new(config);
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::of_machine()).expect("first start");
    device.stop();
    // The card is in UART mode now: its reset goes unacknowledged, which init tolerates.
    device.start(&Resources::of_machine()).expect("restart");
    let pin = device
        .filter("UART")
        .expect("UART")
        .open_pin(0, PinFormat::Midi)
        .expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let record = [0, 0, 0, 0, 3, 0, 0, 0, 0x90, 64, 90, 0];
    pin.write(0, &record).expect("write");
    machine.run_for(ms(20));
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    assert_eq!(wire_messages(&machine.wire_log()), [vec![0x90, 64, 90]]);
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), []);
}

#[test]
fn every_allocation_failure_while_opening_a_pin_is_survived() {
    let _lock = driver_lock();
    let messages = notes();
    let (before, after) = {
        let rig = Rig::start(original_card());
        let before = attempts(&rig.machine);
        let pin = rig
            .filter()
            .open_pin(1, PinFormat::DirectMusic)
            .expect("open");
        let after = attempts(&rig.machine);
        pin.close();
        rig.finish();
        (before, after)
    };
    assert!(after > before, "opening a render pin allocates (its timer)");
    for nth in before + 1..=after {
        let rig = Rig::start(failing(nth));
        // The stream either refuses to open or falls back to the clock-interval timer, and
        // then still plays every message exactly.
        if let Ok(pin) = rig.filter().open_pin(1, PinFormat::DirectMusic) {
            pin.set_state(KSSTATE_RUN).expect("RUN");
            pin.write(0, &dmus_buffer(&messages)).expect("write");
            rig.machine.run_for(ms(1_200));
            pin.set_state(KSSTATE_STOP).expect("STOP");
            pin.close();
            assert_eq!(
                wire_messages(&rig.machine.wire_log()),
                messages.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>(),
                "allocation {nth} failed"
            );
        }
        rig.finish();
    }
}
