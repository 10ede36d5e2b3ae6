//! Kernel mutexes: `KeInitializeMutex`, `KeWaitForSingleObject` (on a mutex) and
//! `KeReleaseMutex`, with the IRQL rules of their reference pages: initialize at any IRQL;
//! wait at IRQL ≤ `APC_LEVEL`, or at `DISPATCH_LEVEL` with a zero timeout (a poll, which
//! never waits); release at IRQL ≤ `DISPATCH_LEVEL`. A wait with a spin lock held is a
//! finding too.
//!
//! The state lives in the `KMUTEX` itself, as in the kernel: `Header.SignalState` is 1 when
//! free and `1 - depth` while held. The simulation has one thread, so it cannot tell a
//! recursive acquire by the owner from another thread's: a wait on a held mutex is a finding
//! ("would deadlock") — rdmus never acquires its mutexes recursively — and is then granted
//! (one level deeper) so the run goes on and the releases still pair.

use dmus_sys::kernel::{
    APC_LEVEL, BOOLEAN, DISPATCH_LEVEL, KMUTEX, KPROCESSOR_MODE, KWAIT_REASON, LARGE_INTEGER,
    NTSTATUS, PKMUTEX, PVOID, STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_TIMEOUT,
};

use crate::current::with_state;
use crate::finding::Finding;
use crate::state::MachineState;

/// `MutantObject` (wdm.h `KOBJECTS`): the `Type` byte of an initialized mutex.
const MUTANT_OBJECT: i32 = 2;

/// Whether `mutex` was initialized; a finding for NULL or an uninitialized object.
///
/// # Safety
/// `mutex` is NULL or a readable `KMUTEX`.
unsafe fn checked(m: &mut MachineState, call: &'static str, mutex: *const KMUTEX) -> bool {
    if mutex.is_null() {
        m.record(Finding::NullArgument {
            call,
            argument: "Mutex",
        });
        return false;
    }
    // SAFETY: non-null and readable by the caller's contract. Any IRQL.
    let kind = unsafe { (*mutex).Header.Lock } & 0xff;
    if kind != MUTANT_OBJECT {
        m.record(Finding::UninitializedObject {
            call,
            kind: "KMUTEX",
            object: mutex as usize,
        });
        return false;
    }
    true
}

/// `KeInitializeMutex`: any IRQL; the mutex starts free (signaled).
///
/// # Safety
/// `Mutex` is NULL (a finding) or writable `KMUTEX` storage.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeInitializeMutex(Mutex: PKMUTEX, Level: u32) {
    const CALL: &str = "KeInitializeMutex";
    let _ = Level;
    if Mutex.is_null() {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Mutex",
            });
        });
        return;
    }
    // SAFETY: non-null by the check above; only the field's address is taken.
    let list = unsafe { &raw mut (*Mutex).Header.WaitListHead };
    // SAFETY: non-null and writable by the caller's contract; the wait list points at
    // itself (empty), as the kernel leaves it. Any IRQL.
    unsafe {
        Mutex.write(KMUTEX {
            Header: dmus_sys::kernel::DISPATCHER_HEADER {
                Lock: MUTANT_OBJECT,
                SignalState: 1,
                WaitListHead: dmus_sys::kernel::LIST_ENTRY {
                    Flink: list,
                    Blink: list,
                },
            },
            MutantListEntry: dmus_sys::kernel::LIST_ENTRY {
                Flink: core::ptr::null_mut(),
                Blink: core::ptr::null_mut(),
            },
            OwnerThread: core::ptr::null_mut(),
            Abandoned: 0,
            ApcDisable: 1,
        });
    }
}

/// `KeWaitForSingleObject` on a mutex: IRQL ≤ `APC_LEVEL`, or `DISPATCH_LEVEL` with a zero
/// `Timeout`. A free mutex is acquired (`STATUS_SUCCESS`); a held one times out for a zero
/// timeout, and is otherwise a finding (see the module docs).
///
/// # Safety
/// `Object` is NULL (a finding) or a `KMUTEX`; `Timeout` is NULL (wait forever) or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeWaitForSingleObject(
    Object: PVOID,
    WaitReason: KWAIT_REASON,
    WaitMode: KPROCESSOR_MODE,
    Alertable: BOOLEAN,
    Timeout: *mut LARGE_INTEGER,
) -> NTSTATUS {
    const CALL: &str = "KeWaitForSingleObject";
    let _ = (WaitReason, WaitMode, Alertable);
    let mutex = Object.cast::<KMUTEX>();
    let poll = !Timeout.is_null() && {
        // SAFETY: a non-null timeout is readable (caller's contract); unaligned read.
        let timeout = unsafe { Timeout.read_unaligned() };
        // SAFETY: every bit pattern is a valid i64.
        let quad = unsafe { timeout.QuadPart };
        quad == 0
    };
    with_state(CALL, |m| {
        // SAFETY: NULL or a KMUTEX (caller's contract).
        if !unsafe { checked(m, CALL, mutex) } {
            return STATUS_INVALID_PARAMETER;
        }
        let max = if poll { DISPATCH_LEVEL } else { APC_LEVEL };
        m.check_call(CALL, max, !poll);
        // SAFETY: checked above: an initialized, live KMUTEX.
        let state = unsafe { &raw mut (*mutex).Header.SignalState };
        // SAFETY: as above.
        let signal = unsafe { state.read() };
        if signal <= 0 {
            if poll {
                return STATUS_TIMEOUT;
            }
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: alloc::format!(
                    "the mutex at {:#x} is already held: on one thread the wait would deadlock",
                    mutex as usize
                ),
            });
        }
        // SAFETY: as above.
        unsafe { state.write(signal - 1) };
        STATUS_SUCCESS
    })
}

/// `KeReleaseMutex`: IRQL ≤ `DISPATCH_LEVEL`; releasing a mutex nobody holds is a finding
/// (Windows bugchecks `MUTEX_NOT_OWNED`). Returns the previous signal state.
///
/// # Safety
/// `Mutex` is NULL (a finding) or a `KMUTEX`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeReleaseMutex(Mutex: PKMUTEX, Wait: BOOLEAN) -> i32 {
    const CALL: &str = "KeReleaseMutex";
    let _ = Wait;
    with_state(CALL, |m| {
        // SAFETY: NULL or a KMUTEX (caller's contract).
        if !unsafe { checked(m, CALL, Mutex) } {
            return 0;
        }
        m.check_call(CALL, DISPATCH_LEVEL, false);
        // SAFETY: checked above: an initialized, live KMUTEX.
        let state = unsafe { &raw mut (*Mutex).Header.SignalState };
        // SAFETY: as above.
        let signal = unsafe { state.read() };
        if signal > 0 {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: alloc::format!("the mutex at {:#x} is not held", Mutex as usize),
            });
            return signal;
        }
        // SAFETY: as above.
        unsafe { state.write(signal + 1) };
        signal
    })
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{
        APC_LEVEL, DISPATCH_LEVEL, Executive, KMUTEX, KernelMode, STATUS_SUCCESS, STATUS_TIMEOUT,
    };

    use super::{KeInitializeMutex, KeReleaseMutex, KeWaitForSingleObject};
    use crate::exports::sync::{KeGetCurrentIrql, KeLowerIrql, KfRaiseIrql};
    use crate::{Finding, Machine, MachineConfig};

    /// Zeroed, aligned storage for one `KMUTEX`.
    struct Storage(alloc::boxed::Box<core::mem::MaybeUninit<KMUTEX>>);

    fn storage() -> Storage {
        Storage(alloc::boxed::Box::new(core::mem::MaybeUninit::zeroed()))
    }

    impl Storage {
        fn as_ptr<T>(&mut self) -> *mut T {
            self.0.as_mut_ptr().cast()
        }
    }

    fn raise(to: u8) -> u8 {
        // SAFETY: raising the simulated processor's IRQL.
        unsafe { KfRaiseIrql(to) }
    }

    fn lower(to: u8) {
        // SAFETY: lowering back to the IRQL `raise` returned.
        unsafe { KeLowerIrql(to) }
    }

    fn irql() -> u8 {
        // SAFETY: reads the simulated IRQL.
        unsafe { KeGetCurrentIrql() }
    }

    fn wait(mutex: *mut KMUTEX, timeout: Option<i64>) -> i32 {
        let mut time = dmus_sys::kernel::LARGE_INTEGER::from_quad(timeout.unwrap_or(0));
        let timeout = if timeout.is_some() {
            &raw mut time
        } else {
            core::ptr::null_mut()
        };
        // SAFETY: an initialized mutex in the test's storage; a readable timeout or NULL.
        unsafe { KeWaitForSingleObject(mutex.cast(), Executive, KernelMode, 0, timeout) }
    }

    #[test]
    fn a_mutex_is_taken_at_passive_and_released_at_dispatch_without_findings() {
        let machine = Machine::new(MachineConfig::default());
        let mut place = storage();
        let mutex = place.as_ptr::<KMUTEX>();
        // SAFETY: writable storage for a KMUTEX.
        unsafe { KeInitializeMutex(mutex, 0) };
        assert_eq!(wait(mutex, None), STATUS_SUCCESS);
        assert_eq!(
            wait(mutex, Some(0)),
            STATUS_TIMEOUT,
            "a poll of a held mutex"
        );
        let old = raise(DISPATCH_LEVEL);
        // SAFETY: the initialized mutex, held.
        assert_eq!(unsafe { KeReleaseMutex(mutex, 0) }, 0);
        assert_eq!(
            wait(mutex, Some(0)),
            STATUS_SUCCESS,
            "a poll at DISPATCH_LEVEL"
        );
        // SAFETY: as above.
        assert_eq!(unsafe { KeReleaseMutex(mutex, 0) }, 0);
        lower(old);
        assert_eq!(irql(), 0);
        assert_eq!(machine.take_findings(), []);
    }

    #[test]
    fn waiting_at_dispatch_a_second_acquire_and_a_stray_release_are_findings() {
        let machine = Machine::new(MachineConfig::default());
        let mut place = storage();
        let mutex = place.as_ptr::<KMUTEX>();
        // SAFETY: writable storage for a KMUTEX.
        unsafe { KeInitializeMutex(mutex, 0) };
        let old = raise(DISPATCH_LEVEL);
        assert_eq!(wait(mutex, None), STATUS_SUCCESS);
        assert_eq!(wait(mutex, Some(-10_000)), STATUS_SUCCESS);
        lower(old);
        // SAFETY: the initialized mutex, held twice.
        unsafe { KeReleaseMutex(mutex, 0) };
        // SAFETY: as above, held once.
        unsafe { KeReleaseMutex(mutex, 0) };
        // SAFETY: as above, now free.
        unsafe { KeReleaseMutex(mutex, 0) };
        let findings = machine.take_findings();
        assert_eq!(
            findings[..2],
            [
                Finding::IrqlTooHigh {
                    call: "KeWaitForSingleObject",
                    irql: DISPATCH_LEVEL,
                    max: APC_LEVEL
                },
                Finding::IrqlTooHigh {
                    call: "KeWaitForSingleObject",
                    irql: DISPATCH_LEVEL,
                    max: APC_LEVEL
                },
            ]
        );
        assert!(
            matches!(&findings[2], Finding::InvalidArgument { call: "KeWaitForSingleObject", detail } if detail.contains("deadlock")),
            "{findings:?}"
        );
        assert!(
            matches!(&findings[3], Finding::InvalidArgument { call: "KeReleaseMutex", detail } if detail.contains("not held")),
            "{findings:?}"
        );
        assert_eq!(findings.len(), 4);
    }

    #[test]
    fn an_uninitialized_mutex_is_a_finding() {
        let machine = Machine::new(MachineConfig::default());
        let mut place = storage();
        let mutex = place.as_ptr::<KMUTEX>();
        assert_ne!(wait(mutex, None), STATUS_SUCCESS);
        assert!(matches!(
            machine.take_findings()[..],
            [Finding::UninitializedObject {
                call: "KeWaitForSingleObject",
                kind: "KMUTEX",
                ..
            }]
        ));
    }
}
