//! `IMasterClock` and the clock everything in the stand-in reads: the performance counter in
//! 100 ns units (the unit of `REFERENCE_TIME`), never paused; or, while a synth job holds it
//! ([`hold`]), the job's own time, which moves only when the job steps it: the wave sink
//! calls `SyncToMaster` at a period's exact master time, as the simulation's does, so the
//! synth's sample clock sees no drift that is only the job thread's scheduling jitter.

use core::sync::atomic::{AtomicI64, Ordering};

use com_object::{ComObject, ComRef, MasterClockImpl};
use dmus_sys::dmus_com::IMasterClock;
use dmus_sys::dmusic::REFERENCE_TIME;
use dmus_sys::imports::KeQueryPerformanceCounter;
use dmus_sys::kernel::{LARGE_INTEGER, NTSTATUS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS};

use crate::pool::Pool;

/// The held time (0: the clock runs).
static HELD: AtomicI64 = AtomicI64::new(0);

/// Holds the master clock at `time` (and at each later `hold`, never going back); `release`
/// lets it run again. The job thread only.
pub fn hold(time: i64) {
    let held = HELD.load(Ordering::Acquire);
    HELD.store(time.max(held).max(1), Ordering::Release);
}

/// Lets the master clock run again.
pub fn release() {
    HELD.store(0, Ordering::Release);
}

/// The master clock now, in 100 ns units: the held time while a job holds it. Any IRQL.
#[must_use]
pub fn now() -> i64 {
    let held = HELD.load(Ordering::Acquire);
    if held != 0 {
        return held;
    }
    real_now()
}

/// The performance counter in 100 ns units, whatever the master clock shows. Any IRQL.
#[must_use]
pub fn real_now() -> i64 {
    let mut frequency = LARGE_INTEGER::from_quad(0);
    // SAFETY: any IRQL; the frequency out-pointer is a local.
    let counter = unsafe { KeQueryPerformanceCounter(&raw mut frequency) };
    // SAFETY: both union members are plain integers over all 8 bytes. Memory only.
    let counter = unsafe { counter.QuadPart };
    // SAFETY: as above.
    let frequency = unsafe { frequency.QuadPart };
    if frequency <= 0 {
        return 0;
    }
    let ticks = i128::from(counter) * 10_000_000 / i128::from(frequency);
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

/// The port's master clock.
pub struct Clock;

com_object::class!(Clock, Pool: IMasterClock);

impl Clock {
    /// A new clock (one reference, the caller's).
    ///
    /// # Errors
    /// No memory.
    pub fn try_new() -> Result<ComRef<Self>, NTSTATUS> {
        ComRef::try_new(Self)
    }
}

impl MasterClockImpl for Clock {
    unsafe fn get_time(_this: &ComObject<Self>, time: *mut REFERENCE_TIME) -> NTSTATUS {
        if time.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: non-null and writable (the caller's contract). Any IRQL.
        unsafe { time.write(now()) };
        STATUS_SUCCESS
    }
}
