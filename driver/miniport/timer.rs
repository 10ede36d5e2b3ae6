//! One one-shot timer per render stream, high resolution where the kernel has it.
//!
//! `ExAllocateTimer(EX_TIMER_HIGH_RESOLUTION)` (Windows 8.1+) expires at the
//! system's finest resolution; where the kernel lacks the `Ex*Timer` family
//! (`kernel_routines.rs` found none at DriverEntry: Windows 8, Wine) or the
//! allocation fails, the stream falls back to a `KTIMER` + `KDPC` set with
//! `KeSetTimerEx`, which the kernel quantises to the clock interval. Either way
//! the callback runs at DISPATCH_LEVEL with the context given at creation.
//!
//! Deleting waits for a callback running on another processor on both paths
//! (`ExDeleteTimer` with Wait; `KeFlushQueuedDpcs`, exported since Windows XP SP2 and by
//! Wine), so a stream may free itself once its timer's delete has returned.
//!
//! The fallback is not silent: it costs the stream its timing (events wait for the next
//! clock tick, 15.6 ms by default, instead of about 1 ms), so the driver says so on the
//! debugger output with [`TIMER_FALLBACK_TRACE`], which a debugger (or the simulation's
//! debug log, read by `rdmus play`) shows.

use core::ptr::NonNull;
use core::sync::atomic::{AtomicBool, Ordering};

use dmus_sys::imports::{
    KeCancelTimer, KeFlushQueuedDpcs, KeInitializeDpc, KeInitializeTimerEx, KeRemoveQueueDpc,
    KeSetTimerEx,
};
use dmus_sys::kernel::{
    EX_TIMER, EX_TIMER_HIGH_RESOLUTION, KDPC, KTIMER, LARGE_INTEGER, NotificationTimer, PVOID,
};

/// What the driver prints (after `rdmus: `, at `DPFLTR_WARNING_LEVEL`) each time a stream
/// falls back to the clock-interval timer.
pub const TIMER_FALLBACK_TRACE: &str = "stream timer: no high-resolution timer (ExAllocateTimer absent or failed); using KeSetTimerEx at the clock interval";
use crate::kernel_routines::{ExTimers, ex_timers};

/// Storage for the fallback `KTIMER` and `KDPC` (they must not move while set).
#[repr(C)]
pub struct LegacyTimer {
    timer: KTIMER,
    dpc: KDPC,
}

impl LegacyTimer {
    /// The `KTIMER` inside `storage` (address arithmetic only).
    fn timer(storage: NonNull<Self>) -> *mut KTIMER {
        storage
            .as_ptr()
            .wrapping_byte_add(core::mem::offset_of!(Self, timer))
            .cast()
    }

    /// The `KDPC` inside `storage` (address arithmetic only).
    fn dpc(storage: NonNull<Self>) -> *mut KDPC {
        storage
            .as_ptr()
            .wrapping_byte_add(core::mem::offset_of!(Self, dpc))
            .cast()
    }
}

/// Which kernel timer a [`StreamTimer`] runs on.
enum TimerKind {
    /// `ExAllocateTimer` with `EX_TIMER_HIGH_RESOLUTION`, and the routines that run it.
    HighResolution(NonNull<EX_TIMER>, ExTimers),
    /// `KeSetTimerEx` on pool-allocated `KTIMER`/`KDPC`.
    Legacy(NonNull<LegacyTimer>),
}

/// A stream's timer.
///
/// It stays in its stream for the stream's whole life, and its callback reads it there (to
/// re-arm), possibly on another processor while the stream is being torn down: so it is
/// deleted in place, through `&self` ([`StreamTimer::delete`]), never moved out first.
pub struct StreamTimer {
    kind: TimerKind,
    /// Set when deletion begins: from then on [`StreamTimer::arm`] and
    /// [`StreamTimer::cancel`] do nothing, so a callback still running cannot set the timer
    /// again behind the teardown, and nothing touches the freed kernel objects.
    deleted: AtomicBool,
}

// SAFETY: both kinds are kernel timer objects usable from any thread at
// IRQL ≤ DISPATCH_LEVEL; the stream serialises arming under its lock, and
// `deleted` is atomic.
unsafe impl Send for StreamTimer {}

impl StreamTimer {
    /// Creates a timer calling `callback(context)` (an `extern "system"`
    /// `EXT_CALLBACK`) and, for the fallback, `dpc_routine` (its
    /// `KDEFERRED_ROUTINE` twin). IRQL PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` when neither timer can be made.
    ///
    /// # Safety
    /// `context` stays valid until [`StreamTimer::delete`] returns.
    pub unsafe fn new(
        callback: unsafe extern "system" fn(*mut EX_TIMER, PVOID),
        dpc_routine: unsafe extern "system" fn(*mut KDPC, PVOID, PVOID, PVOID),
        context: PVOID,
    ) -> Result<Self, dmus_sys::kernel::NTSTATUS> {
        let deleted = AtomicBool::new(false);
        if let Some(routines) = ex_timers() {
            // SAFETY: the kernel's ExAllocateTimer; the callback runs at
            // DISPATCH_LEVEL with `context`, valid until delete (caller's
            // contract). PASSIVE_LEVEL.
            let timer =
                unsafe { (routines.allocate)(Some(callback), context, EX_TIMER_HIGH_RESOLUTION) };
            if let Some(timer) = NonNull::new(timer) {
                let kind = TimerKind::HighResolution(timer, routines);
                return Ok(Self { kind, deleted });
            }
        }
        // SAFETY: all-zero bytes are a valid KTIMER/KDPC before initialisation
        // (plain integers and null pointers). Any IRQL (memory only).
        let storage: LegacyTimer = unsafe { core::mem::zeroed() };
        let legacy = super::pool_box::try_new(storage)?;
        crate::trace::trace(
            dmus_sys::imports::DPFLTR_WARNING_LEVEL,
            TIMER_FALLBACK_TRACE,
        );
        // SAFETY: pool storage that stays put until delete frees it; any IRQL.
        unsafe { KeInitializeDpc(LegacyTimer::dpc(legacy), Some(dpc_routine), context) };
        // SAFETY: as above; IRQL ≤ DISPATCH_LEVEL.
        unsafe { KeInitializeTimerEx(LegacyTimer::timer(legacy), NotificationTimer) };
        let kind = TimerKind::Legacy(legacy);
        Ok(Self { kind, deleted })
    }

    /// Arms the timer to fire once, `delay_100ns` from now (at least 1); nothing once
    /// deletion has begun. IRQL ≤ DISPATCH_LEVEL.
    pub fn arm(&self, delay_100ns: i64) {
        if self.deleted.load(Ordering::Acquire) {
            return;
        }
        let relative = -delay_100ns.max(1);
        match &self.kind {
            // SAFETY: a timer from ExAllocateTimer; `deleted` was clear, and a set racing
            // with ExDeleteTimer is refused by the kernel (a timer being deleted is
            // disabled). Negative = relative; one-shot; no parameters. IRQL ≤ DISPATCH_LEVEL.
            TimerKind::HighResolution(timer, routines) => unsafe {
                (routines.set)(timer.as_ptr(), relative, 0, core::ptr::null_mut());
            },
            TimerKind::Legacy(legacy) => {
                let due = LARGE_INTEGER::from_quad(relative);
                let (timer, dpc) = (LegacyTimer::timer(*legacy), LegacyTimer::dpc(*legacy));
                // SAFETY: initialised in `new`; `deleted` was clear, and delete frees the
                // storage only after waiting for every callback that could be here
                // (see `delete`). IRQL ≤ DISPATCH_LEVEL.
                unsafe { KeSetTimerEx(timer, due, 0, dpc) };
            }
        }
    }

    /// Disarms the timer (a callback already running finishes); nothing once deletion has
    /// begun. IRQL ≤ DISPATCH_LEVEL.
    pub fn cancel(&self) {
        if self.deleted.load(Ordering::Acquire) {
            return;
        }
        match &self.kind {
            // SAFETY: a live timer handle; null parameters as documented. IRQL ≤ DISPATCH_LEVEL.
            TimerKind::HighResolution(timer, routines) => unsafe {
                (routines.cancel)(timer.as_ptr(), core::ptr::null_mut());
            },
            TimerKind::Legacy(legacy) => {
                // SAFETY: initialised timer in live storage. IRQL ≤ DISPATCH_LEVEL.
                unsafe { KeCancelTimer(LegacyTimer::timer(*legacy)) };
                // SAFETY: initialised DPC in live storage. Any IRQL.
                unsafe { KeRemoveQueueDpc(LegacyTimer::dpc(*legacy)) };
            }
        }
    }

    /// Stops the timer for good and frees it, waiting for a callback running on another
    /// processor: when this returns no callback runs or will run, so the context may be
    /// freed. Only the first call does anything (dropping the timer calls it too).
    /// IRQL PASSIVE_LEVEL (it waits).
    pub fn delete(&self) {
        if self.deleted.swap(true, Ordering::AcqRel) {
            return;
        }
        match &self.kind {
            // SAFETY: a live timer handle, deleted once (the swap above). Cancel and Wait at
            // PASSIVE_LEVEL: the kernel disables the timer (a set from a callback still
            // running is refused), cancels it and waits for a running callback, so none
            // runs after this returns.
            TimerKind::HighResolution(timer, routines) => unsafe {
                (routines.delete)(timer.as_ptr(), 1, 1, core::ptr::null_mut());
            },
            TimerKind::Legacy(legacy) => {
                let (timer, dpc) = (LegacyTimer::timer(*legacy), LegacyTimer::dpc(*legacy));
                // Two rounds. After the first flush every DPC that ran or was queued
                // before `deleted` was set has finished; one of them may have set the timer
                // again (it read `deleted` before the swap), and that timer may expire and
                // start the DPC again on another processor. The second round cancels that
                // timer, removes or waits for that DPC, which saw `deleted` and did not
                // arm: after it nothing is set, queued or running.
                for _ in 0..2 {
                    // SAFETY: initialised timer in live storage. PASSIVE_LEVEL.
                    unsafe { KeCancelTimer(timer) };
                    // SAFETY: initialised DPC in live storage. PASSIVE_LEVEL.
                    unsafe { KeRemoveQueueDpc(dpc) };
                    // SAFETY: PASSIVE_LEVEL, as KeFlushQueuedDpcs requires, and no spin lock
                    // held (the stream's teardown takes none around delete): returns once
                    // every DPC queued or running on any processor at the call has run.
                    unsafe { KeFlushQueuedDpcs() };
                }
                // SAFETY: made by pool_box::try_new, freed once (the swap above). Neither
                // the timer nor the DPC is set, queued or running (the rounds above), and
                // `arm`/`cancel` no longer touch it. PASSIVE_LEVEL.
                unsafe { super::pool_box::free(*legacy) };
            }
        }
    }
}

impl Drop for StreamTimer {
    /// Deletes the timer if its stream did not (a no-op after [`StreamTimer::delete`]).
    /// IRQL PASSIVE_LEVEL (streams are freed at PASSIVE_LEVEL).
    fn drop(&mut self) {
        self.delete();
    }
}
