//! The synth's kernel mutex through wdm-sim's kernel: taken and released at `PASSIVE_LEVEL`
//! with no finding; waited on at `DISPATCH_LEVEL` (where the mix must never run) it is a
//! finding, as Driver Verifier would report it.

use std::ptr::NonNull;
use std::sync::{Mutex, MutexGuard};

use dmus_sys::imports::{KeLowerIrql, KfRaiseIrql};
use dmus_sys::kernel::{APC_LEVEL, DISPATCH_LEVEL};
use rdmus_driver::KMutex;
use wdm_sim::{Finding, Machine, MachineConfig};

static SERIAL: Mutex<()> = Mutex::new(());

/// One machine per thread; the tests take turns like the driver's other tests.
fn serial() -> MutexGuard<'static, ()> {
    SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[allow(
    clippy::unnecessary_box_returns,
    reason = "an initialized KMUTEX must not move: the box keeps it in place"
)]
fn placed(value: u32) -> Box<KMutex<u32>> {
    let mut mutex = Box::new(KMutex::new(value));
    // SAFETY: boxed, so it stays put; no one locks it yet.
    unsafe { KMutex::init(NonNull::from(&mut *mutex)) };
    mutex
}

#[test]
fn taken_at_passive_level_it_guards_its_value_without_findings() {
    let _turn = serial();
    let machine = Machine::new(MachineConfig::default());
    let mutex = placed(1);
    *mutex.lock() += 41;
    assert_eq!(*mutex.lock(), 42);
    assert_eq!(machine.take_findings(), []);
}

#[test]
fn waiting_for_it_at_dispatch_level_is_a_finding() {
    let _turn = serial();
    let machine = Machine::new(MachineConfig::default());
    let mutex = placed(0);
    // SAFETY: raising the simulated processor's IRQL, lowered again below.
    let old = unsafe { KfRaiseIrql(DISPATCH_LEVEL) };
    drop(mutex.lock());
    // SAFETY: back to the IRQL the raise returned.
    unsafe { KeLowerIrql(old) };
    assert_eq!(
        machine.take_findings(),
        [Finding::IrqlTooHigh {
            call: "KeWaitForSingleObject",
            irql: DISPATCH_LEVEL,
            max: APC_LEVEL,
        }]
    );
}

#[test]
fn waiting_for_it_twice_would_deadlock() {
    let _turn = serial();
    let machine = Machine::new(MachineConfig::default());
    let mutex = placed(0);
    let first = mutex.lock();
    let second = mutex.lock();
    drop(second);
    drop(first);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::InvalidArgument { call: "KeWaitForSingleObject", detail }] if detail.contains("deadlock")),
        "{findings:?}"
    );
}
