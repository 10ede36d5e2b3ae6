//! DPCs and timers: `KeInitializeDpc`, `KeInsertQueueDpc`, `KeRemoveQueueDpc`,
//! `KeFlushQueuedDpcs`, `KeInitializeTimerEx`, `KeSetTimerEx`, `KeCancelTimer`, `ExAllocateTimer`, `ExSetTimer`,
//! `ExCancelTimer`, `ExDeleteTimer`, `KeQueryInterruptTimePrecise`.
//!
//! The simulation keeps its bookkeeping in its own tables keyed by the object's address; it
//! writes into the driver's `KDPC` only the documented routine and context fields, and zeroes
//! a `KTIMER`.

use alloc::boxed::Box;
use alloc::format;

use dmus_sys::kernel::{
    BOOLEAN, DISPATCH_LEVEL, EX_TIMER, EX_TIMER_HIGH_RESOLUTION, EX_TIMER_NO_WAKE,
    EX_TIMER_NOTIFICATION, EXT_SET_PARAMETERS, FALSE, KDPC, KTIMER, LARGE_INTEGER, PASSIVE_LEVEL,
    PEX_TIMER, PEXT_CALLBACK, PEXT_CANCEL_PARAMETERS, PEXT_DELETE_PARAMETERS, PKDEFERRED_ROUTINE,
    PVOID, TIMER_TYPE, TRUE,
};

use crate::current::with_state;
use crate::dpc::{DpcObject, QueuedDpc};
use crate::finding::Finding;
use crate::scheduler::service;
use crate::timers::{ExecutiveTimer, KernelTimer};

const fn boolean(b: bool) -> BOOLEAN {
    if b { TRUE } else { FALSE }
}

/// `KeInitializeDpc`: any IRQL. Re-initialising a queued DPC is a finding (it is dequeued).
///
/// # Safety
/// `Dpc` is NULL (a finding) or writable `KDPC` storage that stays put while the DPC is in use.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeInitializeDpc(
    Dpc: *mut KDPC,
    DeferredRoutine: PKDEFERRED_ROUTINE,
    DeferredContext: PVOID,
) {
    const CALL: &str = "KeInitializeDpc";
    let ok = with_state(CALL, |m| {
        if Dpc.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Dpc",
            });
            return false;
        }
        if DeferredRoutine.is_none() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "DeferredRoutine",
            });
        }
        if m.dpcs.remove(Dpc as usize) {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("KDPC {Dpc:p} re-initialised while queued"),
            });
        }
        if m.second_processor_runs_dpc(Dpc as usize) {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("KDPC {Dpc:p} re-initialised while its routine runs"),
            });
        }
        m.dpcs.objects.insert(
            Dpc as usize,
            DpcObject {
                routine: DeferredRoutine,
                context: DeferredContext,
                queued: None,
            },
        );
        true
    });
    if ok {
        let null: PVOID = core::ptr::null_mut();
        let value = KDPC {
            TargetInfoAsUlong: 0,
            DpcListEntry: dmus_sys::kernel::SINGLE_LIST_ENTRY { Next: null.cast() },
            ProcessorHistory: 0,
            DeferredRoutine,
            DeferredContext,
            SystemArgument1: null,
            SystemArgument2: null,
            DpcData: null,
        };
        // SAFETY: `Dpc` is non-null and writable KDPC storage by the caller's contract.
        unsafe { Dpc.write_unaligned(value) };
    }
}

/// `KeInsertQueueDpc`: any IRQL; FALSE if already queued. At an IRQL below `DISPATCH_LEVEL` the
/// DPC runs before this returns, as on Windows.
///
/// # Safety
/// `Dpc` is NULL (a finding) or a `KDPC` (an uninitialised one is a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeInsertQueueDpc(
    Dpc: *mut KDPC,
    SystemArgument1: PVOID,
    SystemArgument2: PVOID,
) -> BOOLEAN {
    const CALL: &str = "KeInsertQueueDpc";
    let queued = with_state(CALL, |m| {
        if Dpc.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Dpc",
            });
            return false;
        }
        if !m.dpcs.objects.contains_key(&(Dpc as usize)) {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "KDPC",
                object: Dpc as usize,
            });
            return false;
        }
        m.dpcs
            .insert(Dpc as usize, SystemArgument1, SystemArgument2)
    });
    service();
    boolean(queued)
}

/// `KeRemoveQueueDpc`: any IRQL; TRUE if it was queued.
///
/// # Safety
/// `Dpc` is NULL (a finding) or a `KDPC`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeRemoveQueueDpc(Dpc: *mut KDPC) -> BOOLEAN {
    const CALL: &str = "KeRemoveQueueDpc";
    with_state(CALL, |m| {
        if Dpc.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Dpc",
            });
            return FALSE;
        }
        boolean(m.dpcs.remove(Dpc as usize))
    })
}

/// `KeFlushQueuedDpcs`: `PASSIVE_LEVEL` only (it waits: a higher IRQL or a spin lock held is a
/// finding, and it returns at once then). Returns once every DPC queued or running at the
/// call has finished (or was removed): on one processor the queue runs now; with a second
/// processor the DPC running there and those queued for it finish, in order, before this
/// returns. DPCs they queue are not waited for.
///
/// # Safety
/// None: no argument.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeFlushQueuedDpcs() {
    const CALL: &str = "KeFlushQueuedDpcs";
    let Some(backlog) = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true)
            .then(|| m.second_processor_backlog())
    }) else {
        return;
    };
    service();
    for _ in 0..backlog {
        if !crate::scheduler::finish_second_processor() {
            break;
        }
    }
}

/// `KeInitializeTimerEx`: IRQL ≤ `DISPATCH_LEVEL`. Re-initialising a set timer is a finding
/// (it is cancelled).
///
/// # Safety
/// `Timer` is NULL (a finding) or writable `KTIMER` storage that stays put while in use.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeInitializeTimerEx(Timer: *mut KTIMER, Type: TIMER_TYPE) {
    const CALL: &str = "KeInitializeTimerEx";
    let ok = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if Timer.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Timer",
            });
            return false;
        }
        let old = m.timers.kernel.insert(
            Timer as usize,
            KernelTimer {
                timer_type: Type,
                ..KernelTimer::default()
            },
        );
        if old.is_some_and(|t| t.armed.is_some()) {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("KTIMER {Timer:p} re-initialised while set"),
            });
        }
        true
    });
    if ok {
        let (bytes, len) = (Timer.cast::<u8>(), core::mem::size_of::<KTIMER>());
        // SAFETY: `Timer` is non-null, writable KTIMER storage (caller's contract); all-zero
        // is a valid bit pattern for every field; bytes need no alignment.
        unsafe { bytes.write_bytes(0, len) };
    }
}

/// `KeSetTimerEx`: IRQL ≤ `DISPATCH_LEVEL`; TRUE if the timer was already set. The expiry is
/// quantised to the clock interval; a due time already past expires at once (and, below
/// `DISPATCH_LEVEL`, its DPC runs before this returns).
///
/// # Safety
/// `Timer` is NULL (a finding) or a `KTIMER`; `Dpc` is NULL or a `KDPC`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeSetTimerEx(
    Timer: *mut KTIMER,
    DueTime: LARGE_INTEGER,
    Period: i32,
    Dpc: *mut KDPC,
) -> BOOLEAN {
    const CALL: &str = "KeSetTimerEx";
    // SAFETY: both members of LARGE_INTEGER cover its 8 bytes as plain integers.
    let due = unsafe { DueTime.QuadPart };
    let was_set = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if Timer.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Timer",
            });
            return false;
        }
        if !m.timers.kernel.contains_key(&(Timer as usize)) {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "KTIMER",
                object: Timer as usize,
            });
            return false;
        }
        let dpc = (!Dpc.is_null()).then_some(Dpc as usize);
        if let Some(d) = dpc {
            if !m.dpcs.objects.contains_key(&d) {
                m.record(Finding::UninitializedObject {
                    call: CALL,
                    kind: "KDPC",
                    object: d,
                });
            }
        }
        let Ok(period) = u32::try_from(Period) else {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("negative Period {Period}"),
            });
            return false;
        };
        let (now, interval) = (m.now(), m.config.clock_interval);
        let was_set = m
            .timers
            .set_kernel(Timer as usize, due, period, dpc, now, interval);
        m.process_due_events();
        was_set
    });
    service();
    boolean(was_set)
}

/// `KeCancelTimer`: IRQL ≤ `DISPATCH_LEVEL`; TRUE if the timer was set. A DPC the timer
/// already queued stays queued, as on Windows.
///
/// # Safety
/// `Timer` is NULL (a finding) or a `KTIMER`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeCancelTimer(Timer: *mut KTIMER) -> BOOLEAN {
    const CALL: &str = "KeCancelTimer";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if Timer.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Timer",
            });
            return FALSE;
        }
        let Some(t) = m.timers.kernel.get_mut(&(Timer as usize)) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "KTIMER",
                object: Timer as usize,
            });
            return FALSE;
        };
        boolean(t.armed.take().is_some())
    })
}

/// `ExAllocateTimer`: IRQL ≤ `DISPATCH_LEVEL`; NULL when fault injection fails it.
///
/// # Safety
/// None beyond the kernel's contract: the callback must be callable at `DISPATCH_LEVEL` with
/// `CallbackContext`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAllocateTimer(
    Callback: PEXT_CALLBACK,
    CallbackContext: PVOID,
    Attributes: u32,
) -> PEX_TIMER {
    const CALL: &str = "ExAllocateTimer";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        m.check_exported(CALL);
        let known = EX_TIMER_HIGH_RESOLUTION | EX_TIMER_NO_WAKE | EX_TIMER_NOTIFICATION;
        if Attributes & !known != 0 {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("unknown Attributes {Attributes:#x}"),
            });
        }
        if m.pool.inject_failure() {
            return core::ptr::null_mut();
        }
        let handle = Box::new(0_u64);
        let address = core::ptr::from_ref::<u64>(&handle) as usize;
        m.timers.executive.insert(
            address,
            ExecutiveTimer {
                callback: Callback,
                context: CallbackContext,
                attributes: Attributes,
                armed: None,
                queued: false,
                delete_after_expiry: false,
                deleting: false,
                handle,
            },
        );
        address as *mut EX_TIMER
    })
}

/// `ExSetTimer`: IRQL ≤ `DISPATCH_LEVEL`; TRUE if the timer was set (it is re-armed). `Period`
/// is in 100 ns units (0: one-shot). High-resolution timers are quantised to the
/// high-resolution clock, others to the clock interval.
///
/// # Safety
/// `Timer` is a handle from `ExAllocateTimer` (anything else is a finding); `Parameters` is
/// NULL or an `EXT_SET_PARAMETERS`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExSetTimer(
    Timer: PEX_TIMER,
    DueTime: i64,
    Period: i64,
    Parameters: *mut EXT_SET_PARAMETERS,
) -> BOOLEAN {
    const CALL: &str = "ExSetTimer";
    let _ = Parameters;
    let was_set = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        m.check_exported(CALL);
        if m.timers.executive_deleting(Timer as usize) {
            return false;
        }
        let live = m
            .timers
            .executive
            .get(&(Timer as usize))
            .filter(|t| !t.delete_after_expiry);
        let Some(t) = live else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "EX_TIMER",
                object: Timer as usize,
            });
            return false;
        };
        let Ok(period) = u64::try_from(Period) else {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("negative Period {Period}"),
            });
            return false;
        };
        let resolution = if t.attributes & EX_TIMER_HIGH_RESOLUTION != 0 {
            m.config.high_res_resolution
        } else {
            m.config.clock_interval
        };
        let now = m.now();
        let was_set = m
            .timers
            .set_executive(Timer as usize, DueTime, period, now, resolution);
        m.process_due_events();
        was_set
    });
    service();
    boolean(was_set)
}

/// `ExCancelTimer`: IRQL ≤ `DISPATCH_LEVEL`; TRUE if the timer was set.
///
/// # Safety
/// `Timer` is a handle from `ExAllocateTimer` (anything else is a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExCancelTimer(
    Timer: PEX_TIMER,
    Parameters: PEXT_CANCEL_PARAMETERS,
) -> BOOLEAN {
    const CALL: &str = "ExCancelTimer";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        m.check_exported(CALL);
        if !Parameters.is_null() {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: "Parameters must be NULL".into(),
            });
        }
        if m.timers.executive_deleting(Timer as usize) {
            return FALSE;
        }
        let live = m
            .timers
            .executive
            .get_mut(&(Timer as usize))
            .filter(|t| !t.delete_after_expiry);
        let Some(t) = live else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "EX_TIMER",
                object: Timer as usize,
            });
            return FALSE;
        };
        boolean(t.armed.take().is_some())
    })
}

/// `ExDeleteTimer`: IRQL ≤ `DISPATCH_LEVEL`, `PASSIVE_LEVEL` with `Wait` (which may wait: a spin
/// lock held is a finding). With `Cancel` the timer is disarmed and a queued callback dropped;
/// without it a set timer is deleted after it next expires (a periodic one never is, and shows
/// at unload). TRUE if it was set and cancelled. Any later use of the handle is a finding,
/// except while its callback still runs on the second processor: the timer is disabled then
/// (set, cancel and delete return FALSE) and goes when the callback returns, which `Wait`
/// waits for.
///
/// # Safety
/// `Timer` is a handle from `ExAllocateTimer` (anything else is a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExDeleteTimer(
    Timer: PEX_TIMER,
    Cancel: BOOLEAN,
    Wait: BOOLEAN,
    Parameters: PEXT_DELETE_PARAMETERS,
) -> BOOLEAN {
    const CALL: &str = "ExDeleteTimer";
    let _ = Parameters;
    let result = with_state(CALL, |m| {
        m.check_exported(CALL);
        if Wait == FALSE {
            m.check_call(CALL, DISPATCH_LEVEL, false);
        } else {
            m.check_call(CALL, PASSIVE_LEVEL, true);
        }
        let address = Timer as usize;
        let Some(t) = m.timers.executive.get_mut(&address) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "EX_TIMER",
                object: address,
            });
            return FALSE;
        };
        if t.deleting {
            return FALSE;
        }
        if Cancel == FALSE && t.armed.is_some() {
            t.delete_after_expiry = true;
            return FALSE;
        }
        let was_set = t.armed.take().is_some();
        m.dpcs.queue.retain(|q| *q != QueuedDpc::ExTimer(address));
        if m.second_processor_runs_ex_timer(address) {
            // Disabled until the running callback returns (it may still call ExSetTimer).
            if let Some(t) = m.timers.executive.get_mut(&address) {
                t.deleting = true;
            }
        } else {
            m.timers.executive.remove(&address);
        }
        boolean(was_set)
    });
    // With Wait, a callback running on another processor finishes before this returns.
    let running = with_state(CALL, |m| m.second_processor_runs_ex_timer(Timer as usize));
    if Wait != FALSE && running {
        crate::scheduler::finish_second_processor();
    }
    result
}

/// `KeQueryInterruptTimePrecise`: any IRQL; the virtual clock, and the performance counter
/// (which runs at 10 MHz, so it equals the clock).
///
/// # Safety
/// `QpcTimeStamp` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeQueryInterruptTimePrecise(QpcTimeStamp: *mut u64) -> u64 {
    let now = with_state("KeQueryInterruptTimePrecise", |m| m.now());
    if !QpcTimeStamp.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe { QpcTimeStamp.write_unaligned(now) };
    }
    now
}
