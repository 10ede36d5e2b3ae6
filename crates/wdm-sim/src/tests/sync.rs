//! IRQL and spin-lock rules through the exported functions.

use alloc::string::ToString;
use dmus_sys::kernel::{KDPC, KSPIN_LOCK, KTIMER, PVOID, TRUE, XSTATE_SAVE};

use super::support::{
    acquire, init_dpc, init_timer, insert_dpc, irql, lower, raise, release, set_timer, storage,
};
use crate::exports::{dpc_timer, sync};
use crate::{Finding, Machine, MachineConfig, RoutineKind};

#[test]
fn kernel_call_above_its_irql_reads_like_driver_verifier() {
    let machine = Machine::new(MachineConfig::default());
    let mut t = storage();
    let timer = t.as_ptr::<KTIMER>();
    init_timer(timer);
    let old = raise(3);
    set_timer(timer, -1_000_000, 0, core::ptr::null_mut());
    lower(old);
    cancel(timer);
    let findings = machine.take_findings();
    assert_eq!(findings.len(), 1);
    assert_eq!(
        findings[0].to_string(),
        "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): KeSetTimerEx called at IRQL 3 (max DISPATCH_LEVEL=2)"
    );
}

fn cancel(timer: *mut KTIMER) {
    // SAFETY: live test storage.
    unsafe { dpc_timer::KeCancelTimer(timer) };
}

#[test]
fn kernel_call_at_its_irql_is_quiet() {
    let machine = Machine::new(MachineConfig::default());
    let mut t = storage();
    let timer = t.as_ptr::<KTIMER>();
    init_timer(timer);
    let mut lock: KSPIN_LOCK = 0;
    let old = acquire(&mut lock);
    assert_eq!((old, irql(), lock), (0, 2, 1));
    set_timer(timer, -1_000_000, 0, core::ptr::null_mut());
    cancel(timer);
    release(&mut lock, old);
    assert_eq!((irql(), lock), (0, 0));
    assert!(machine.findings().is_empty());
}

#[test]
fn spin_lock_released_at_the_wrong_irql_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let mut lock: KSPIN_LOCK = 0;
    let old = acquire(&mut lock);
    raise(5);
    release(&mut lock, old);
    assert_eq!(irql(), 0);
    assert_eq!(
        machine.take_findings(),
        [Finding::SpinLockReleasedAtWrongIrql {
            call: "KeReleaseSpinLock",
            lock: (&raw mut lock) as usize,
            irql: 5,
            expected: 2
        }]
    );
}

#[test]
fn spin_lock_at_dpc_level_pairs_are_quiet_and_from_passive_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let mut lock: KSPIN_LOCK = 0;
    let old = raise(2);
    // SAFETY: a live lock word.
    unsafe { sync::KeAcquireSpinLockAtDpcLevel(&raw mut lock) };
    // SAFETY: as above.
    unsafe { sync::KeReleaseSpinLockFromDpcLevel(&raw mut lock) };
    lower(old);
    assert!(machine.findings().is_empty());
    // SAFETY: as above.
    unsafe { sync::KeAcquireSpinLockAtDpcLevel(&raw mut lock) };
    // SAFETY: as above.
    unsafe { sync::KeReleaseSpinLockFromDpcLevel(&raw mut lock) };
    let l = (&raw mut lock) as usize;
    assert_eq!(
        machine.take_findings(),
        [
            Finding::IrqlTooLow {
                call: "KeAcquireSpinLockAtDpcLevel",
                irql: 0,
                min: 2
            },
            Finding::SpinLockReleasedAtWrongIrql {
                call: "KeReleaseSpinLockFromDpcLevel",
                lock: l,
                irql: 0,
                expected: 2
            },
        ]
    );
}

#[test]
fn spin_lock_held_across_a_call_that_may_wait_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    // SAFETY: no callback; the timer is deleted below.
    let timer = unsafe { dpc_timer::ExAllocateTimer(None, core::ptr::null_mut(), 0) };
    let mut lock: KSPIN_LOCK = 0;
    let old = acquire(&mut lock);
    // SAFETY: a live handle.
    unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, TRUE, core::ptr::null_mut()) };
    release(&mut lock, old);
    assert_eq!(
        machine.take_findings(),
        [Finding::SpinLockHeldAcrossWait {
            call: "ExDeleteTimer",
            lock: (&raw mut lock) as usize
        }]
    );
    // SAFETY: as above.
    let timer = unsafe { dpc_timer::ExAllocateTimer(None, core::ptr::null_mut(), 0) };
    // SAFETY: a live handle, at PASSIVE_LEVEL with no lock held.
    unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, TRUE, core::ptr::null_mut()) };
    assert!(machine.findings().is_empty());
}

#[test]
fn raise_to_lower_and_lower_to_higher_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    raise(2);
    raise(1);
    lower(2);
    lower(0);
    assert_eq!(
        machine.take_findings(),
        [
            Finding::RaiseToLowerIrql { from: 2, to: 1 },
            Finding::LowerToHigherIrql { from: 1, to: 2 }
        ]
    );
}

unsafe extern "system" fn dpc_saving_float_state(_: *mut KDPC, context: PVOID, _: PVOID, _: PVOID) {
    // SAFETY: the context is live XSTATE_SAVE storage.
    unsafe { sync::KeSaveExtendedProcessorState(3, context.cast()) };
}

#[test]
fn float_state_saved_and_not_restored_by_a_dpc_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let (mut d, mut x) = (storage(), storage());
    let dpc = d.as_ptr::<KDPC>();
    let save = x.as_ptr::<XSTATE_SAVE>();
    init_dpc(dpc, Some(dpc_saving_float_state), save as usize);
    insert_dpc(dpc);
    assert_eq!(
        machine.take_findings(),
        [Finding::RoutineLeftFloatStateSaved {
            kind: RoutineKind::Dpc,
            routine: dpc_saving_float_state as *const () as usize
        }]
    );
    // SAFETY: live storage.
    unsafe { sync::KeSaveExtendedProcessorState(3, save) };
    // SAFETY: the save above.
    unsafe { sync::KeRestoreExtendedProcessorState(save) };
    assert!(machine.findings().is_empty());
}
