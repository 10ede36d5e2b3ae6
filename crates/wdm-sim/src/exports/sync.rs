//! IRQL, spin locks and extended processor state: `KeGetCurrentIrql`, `KfRaiseIrql`,
//! `KeLowerIrql` (the host arch intrinsics), `KeAcquireSpinLockRaiseToDpc`,
//! `KeReleaseSpinLock`, `KeAcquireSpinLockAtDpcLevel`, `KeReleaseSpinLockFromDpcLevel`,
//! `KeSaveExtendedProcessorState`, `KeRestoreExtendedProcessorState`.

use dmus_sys::kernel::{
    DISPATCH_LEVEL, KIRQL, KSPIN_LOCK, NTSTATUS, PXSTATE_SAVE, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};

use crate::current::with_state;
use crate::finding::Finding;
use crate::scheduler::service;

/// `KeGetCurrentIrql` (host arch intrinsic; CR8 on x64).
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeGetCurrentIrql() -> KIRQL {
    with_state("KeGetCurrentIrql", |m| m.irql())
}

/// `KfRaiseIrql` (host arch intrinsic): raising to a lower IRQL is a finding.
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KfRaiseIrql(NewIrql: KIRQL) -> KIRQL {
    with_state("KfRaiseIrql", |m| m.cpu.raise(NewIrql, &mut m.findings))
}

/// `KeLowerIrql` (host arch intrinsic): lowering to a higher IRQL is a finding. Interrupts
/// and DPCs the new IRQL unmasks run before this returns.
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeLowerIrql(NewIrql: KIRQL) {
    with_state("KeLowerIrql", |m| m.cpu.lower(NewIrql, &mut m.findings));
    service();
}

fn lock_address(call: &'static str, lock: *mut KSPIN_LOCK) -> Option<usize> {
    if lock.is_null() {
        with_state(call, |m| {
            m.record(Finding::NullArgument {
                call,
                argument: "SpinLock",
            });
        });
        return None;
    }
    Some(lock as usize)
}

/// Writes the lock word, as the kernel does (1 held, 0 free).
///
/// # Safety
/// `lock` is a valid, writable `KSPIN_LOCK`.
unsafe fn set_lock_word(lock: *mut KSPIN_LOCK, held: bool) {
    // SAFETY: the caller guarantees `lock` is valid and writable. Any IRQL.
    unsafe { lock.write_unaligned(usize::from(held)) };
}

/// `KeAcquireSpinLockRaiseToDpc`: IRQL ≤ `DISPATCH_LEVEL`; raises to `DISPATCH_LEVEL` and returns
/// the previous IRQL. Acquiring a lock this processor holds is a finding (a deadlock).
///
/// # Safety
/// `SpinLock` is NULL (a finding) or a valid `KSPIN_LOCK`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut KSPIN_LOCK) -> KIRQL {
    const CALL: &str = "KeAcquireSpinLockRaiseToDpc";
    let Some(lock) = lock_address(CALL, SpinLock) else {
        return with_state(CALL, |m| m.irql());
    };
    let old = with_state(CALL, |m| m.cpu.acquire_raise_to_dpc(lock, &mut m.findings));
    // SAFETY: non-null and valid by the caller's contract.
    unsafe { set_lock_word(SpinLock, true) };
    old
}

/// `KeReleaseSpinLock`: at `DISPATCH_LEVEL`; lowers to `NewIrql`, which must be the IRQL the
/// acquire returned. Interrupts and DPCs the new IRQL unmasks run before this returns.
///
/// # Safety
/// `SpinLock` is NULL (a finding) or a valid `KSPIN_LOCK`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL) {
    const CALL: &str = "KeReleaseSpinLock";
    let Some(lock) = lock_address(CALL, SpinLock) else {
        return;
    };
    // SAFETY: non-null and valid by the caller's contract.
    unsafe { set_lock_word(SpinLock, false) };
    with_state(CALL, |m| {
        m.cpu.release_lower(lock, NewIrql, &mut m.findings);
    });
    service();
}

/// `KeAcquireSpinLockAtDpcLevel`: at IRQL ≥ `DISPATCH_LEVEL`.
///
/// # Safety
/// `SpinLock` is NULL (a finding) or a valid `KSPIN_LOCK`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeAcquireSpinLockAtDpcLevel(SpinLock: *mut KSPIN_LOCK) {
    const CALL: &str = "KeAcquireSpinLockAtDpcLevel";
    let Some(lock) = lock_address(CALL, SpinLock) else {
        return;
    };
    with_state(CALL, |m| m.cpu.acquire_at_dpc(lock, &mut m.findings));
    // SAFETY: non-null and valid by the caller's contract.
    unsafe { set_lock_word(SpinLock, true) };
}

/// `KeReleaseSpinLockFromDpcLevel`: at IRQL ≥ `DISPATCH_LEVEL`.
///
/// # Safety
/// `SpinLock` is NULL (a finding) or a valid `KSPIN_LOCK`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeReleaseSpinLockFromDpcLevel(SpinLock: *mut KSPIN_LOCK) {
    const CALL: &str = "KeReleaseSpinLockFromDpcLevel";
    let Some(lock) = lock_address(CALL, SpinLock) else {
        return;
    };
    // SAFETY: non-null and valid by the caller's contract.
    unsafe { set_lock_word(SpinLock, false) };
    with_state(CALL, |m| m.cpu.release_at_dpc(lock, &mut m.findings));
}

/// `KeSaveExtendedProcessorState`: IRQL ≤ `DISPATCH_LEVEL`. The host's floating point needs no
/// saving; the simulation pairs saves with restores (a routine returning with a save
/// outstanding is a finding).
///
/// # Safety
/// `XStateSave` is NULL (a finding) or writable `XSTATE_SAVE` storage.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeSaveExtendedProcessorState(
    Mask: u64,
    XStateSave: PXSTATE_SAVE,
) -> NTSTATUS {
    const CALL: &str = "KeSaveExtendedProcessorState";
    let _ = Mask;
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if XStateSave.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "XStateSave",
            });
            return STATUS_INVALID_PARAMETER;
        }
        m.cpu.save_xstate();
        STATUS_SUCCESS
    })
}

/// `KeRestoreExtendedProcessorState`: a restore without a save is a finding.
///
/// # Safety
/// `XStateSave` is the structure a save filled.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeRestoreExtendedProcessorState(XStateSave: PXSTATE_SAVE) {
    const CALL: &str = "KeRestoreExtendedProcessorState";
    with_state(CALL, |m| {
        if XStateSave.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "XStateSave",
            });
        }
        if !m.cpu.restore_xstate() {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: "no KeSaveExtendedProcessorState to restore".into(),
            });
        }
    });
}
