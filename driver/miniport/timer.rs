//! One one-shot timer per render stream, high resolution where the kernel has it.
//!
//! `ExAllocateTimer(EX_TIMER_HIGH_RESOLUTION)` (Windows 8.1+) expires at the
//! system's finest resolution; where it is missing (allocation fails) the
//! stream falls back to a `KTIMER` + `KDPC` set with `KeSetTimerEx`, which the
//! kernel quantises to the clock interval. Either way the callback runs at
//! DISPATCH_LEVEL with the context given at creation.
//!
//! The fallback is not silent: it costs the stream its timing (events wait for the next
//! clock tick, 15.6 ms by default, instead of about 1 ms), so the driver says so on the
//! debugger output with [`TIMER_FALLBACK_TRACE`], which a debugger (or the simulation's
//! debug log, read by `rdmus play`) shows.

use core::ptr::NonNull;

use dmus_sys::imports::{
    ExAllocateTimer, ExCancelTimer, ExDeleteTimer, ExSetTimer, KeCancelTimer, KeInitializeDpc,
    KeInitializeTimerEx, KeRemoveQueueDpc, KeSetTimerEx,
};
use dmus_sys::kernel::{
    EX_TIMER, EX_TIMER_HIGH_RESOLUTION, KDPC, KTIMER, LARGE_INTEGER, NotificationTimer, PVOID,
};

/// What the driver prints (after `rdmus: `, at `DPFLTR_WARNING_LEVEL`) each time a stream
/// falls back to the clock-interval timer.
pub const TIMER_FALLBACK_TRACE: &str = "stream timer: no high-resolution timer (ExAllocateTimer failed); using KeSetTimerEx at the clock interval";

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

/// A stream's timer.
pub enum StreamTimer {
    /// `ExAllocateTimer` with `EX_TIMER_HIGH_RESOLUTION`.
    HighResolution(NonNull<EX_TIMER>),
    /// `KeSetTimerEx` on pool-allocated `KTIMER`/`KDPC`.
    Legacy(NonNull<LegacyTimer>),
}

// SAFETY: both variants are kernel timer objects usable from any thread at
// IRQL ≤ DISPATCH_LEVEL; the stream serialises arming under its lock.
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
        // SAFETY: the callback runs at DISPATCH_LEVEL with `context`, valid
        // until delete (caller's contract). PASSIVE_LEVEL.
        let timer = unsafe { ExAllocateTimer(Some(callback), context, EX_TIMER_HIGH_RESOLUTION) };
        if let Some(timer) = NonNull::new(timer) {
            return Ok(Self::HighResolution(timer));
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
        Ok(Self::Legacy(legacy))
    }

    /// Arms the timer to fire once, `delay_100ns` from now (at least 1). IRQL ≤ DISPATCH_LEVEL.
    pub fn arm(&self, delay_100ns: i64) {
        let relative = -delay_100ns.max(1);
        match self {
            // SAFETY: a timer from ExAllocateTimer, not yet deleted; negative =
            // relative; one-shot; no parameters. IRQL ≤ DISPATCH_LEVEL.
            Self::HighResolution(timer) => unsafe {
                ExSetTimer(timer.as_ptr(), relative, 0, core::ptr::null_mut());
            },
            Self::Legacy(legacy) => {
                let due = LARGE_INTEGER::from_quad(relative);
                let (timer, dpc) = (LegacyTimer::timer(*legacy), LegacyTimer::dpc(*legacy));
                // SAFETY: initialised in `new`, alive until delete; IRQL ≤ DISPATCH_LEVEL.
                unsafe { KeSetTimerEx(timer, due, 0, dpc) };
            }
        }
    }

    /// Disarms the timer (a callback already running finishes). IRQL ≤ DISPATCH_LEVEL.
    pub fn cancel(&self) {
        match self {
            // SAFETY: a live timer handle; null parameters as documented. IRQL ≤ DISPATCH_LEVEL.
            Self::HighResolution(timer) => unsafe {
                ExCancelTimer(timer.as_ptr(), core::ptr::null_mut());
            },
            Self::Legacy(legacy) => {
                // SAFETY: initialised timer in live storage. IRQL ≤ DISPATCH_LEVEL.
                unsafe { KeCancelTimer(LegacyTimer::timer(*legacy)) };
                // SAFETY: initialised DPC in live storage. Any IRQL.
                unsafe { KeRemoveQueueDpc(LegacyTimer::dpc(*legacy)) };
            }
        }
    }

    /// Cancels and frees the timer, waiting for a running callback to finish
    /// on the high-resolution path. IRQL PASSIVE_LEVEL.
    pub fn delete(self) {
        match self {
            // SAFETY: a live timer handle, deleted once; Cancel and Wait at
            // PASSIVE_LEVEL, so no callback runs after this returns.
            Self::HighResolution(timer) => unsafe {
                ExDeleteTimer(timer.as_ptr(), 1, 1, core::ptr::null_mut());
            },
            Self::Legacy(legacy) => {
                // SAFETY: initialised timer in live storage. IRQL ≤ DISPATCH_LEVEL.
                unsafe { KeCancelTimer(LegacyTimer::timer(legacy)) };
                // SAFETY: initialised DPC in live storage. (A DPC already
                // running on another processor is not waited for: the import
                // set has no KeFlushQueuedDpcs; the high-resolution path,
                // present on every supported Windows, has no such window.) Any IRQL.
                unsafe { KeRemoveQueueDpc(LegacyTimer::dpc(legacy)) };
                // SAFETY: made by pool_box::try_new; disarmed above. IRQL ≤ DISPATCH_LEVEL.
                unsafe { super::pool_box::free(legacy) };
            }
        }
    }
}
