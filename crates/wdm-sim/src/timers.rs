//! Kernel timers (`KTIMER`) and executive timers (`EX_TIMER`), with Windows' quantisation:
//! a `KTIMER` and an ordinary `EX_TIMER` expire on the first clock tick at or after their due
//! time (ticks every `clock_interval`), a high-resolution `EX_TIMER` on the first tick of the
//! high-resolution clock. A due time already past expires at once. A periodic timer is
//! re-armed relative to the tick it expired on.

use alloc::collections::BTreeMap;

use dmus_sys::kernel::{PEXT_CALLBACK, PVOID};

use crate::time::{TICKS_PER_MS, quantise_up, resolve_due_time};

/// When an armed timer expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Armed {
    /// The (quantised) expiry time.
    pub fire_at: u64,
    /// Period in ticks, 0 for one-shot.
    pub period: u64,
    /// Arming order, to break ties deterministically.
    pub seq: u64,
}

/// A `KTIMER` the driver initialised.
#[derive(Clone, Copy, Debug, Default)]
pub struct KernelTimer {
    /// `NotificationTimer` (0) or `SynchronizationTimer` (1).
    pub timer_type: i32,
    /// Set, and when it expires.
    pub armed: Option<Armed>,
    /// The `KDPC` queued on expiry, if any.
    pub dpc: Option<usize>,
    /// Signalled (expired and not reset).
    pub signaled: bool,
}

/// An `EX_TIMER` the driver allocated.
#[derive(Debug)]
pub struct ExecutiveTimer {
    /// The callback, run at `DISPATCH_LEVEL` on expiry.
    pub callback: PEXT_CALLBACK,
    /// Its context.
    pub context: PVOID,
    /// `EX_TIMER_*` attributes.
    pub attributes: u32,
    /// Set, and when it expires.
    pub armed: Option<Armed>,
    /// Its callback is waiting in the DPC queue.
    pub queued: bool,
    /// `ExDeleteTimer` without cancel on a set timer: free it once it has expired.
    pub delete_after_expiry: bool,
    /// `ExDeleteTimer` ran while the callback runs on the second processor: the timer is
    /// disabled (`ExSetTimer`, `ExCancelTimer` and `ExDeleteTimer` return FALSE and do
    /// nothing, as Microsoft documents for a timer being deleted) and goes when the callback
    /// returns.
    pub deleting: bool,
    /// Gives the handle its unique address (the driver never dereferences it).
    pub handle: alloc::boxed::Box<u64>,
}

/// What expired.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expired {
    /// A `KTIMER`, and the `KDPC` to queue.
    Kernel {
        /// The timer.
        timer: usize,
        /// Its DPC.
        dpc: Option<usize>,
    },
    /// An `EX_TIMER`, whose callback is to be queued.
    Executive {
        /// The timer handle.
        timer: usize,
    },
}

/// Both kinds of timer, by address.
#[derive(Debug, Default)]
pub struct Timers {
    /// `KTIMER`s by address.
    pub kernel: BTreeMap<usize, KernelTimer>,
    /// `EX_TIMER`s by handle.
    pub executive: BTreeMap<usize, ExecutiveTimer>,
    seq: u64,
}

/// The quantised expiry of a timer due at `due` (a resolved absolute time), set at `now`.
#[must_use]
pub const fn expiry(due: u64, now: u64, resolution: u64) -> u64 {
    if due <= now {
        now
    } else {
        quantise_up(due, resolution)
    }
}

impl Timers {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// `KeSetTimerEx`: arms a `KTIMER` (which must be known). Returns whether it was set.
    pub fn set_kernel(
        &mut self,
        timer: usize,
        due: i64,
        period_ms: u32,
        dpc: Option<usize>,
        now: u64,
        interval: u64,
    ) -> bool {
        let seq = self.next_seq();
        let fire_at = expiry(resolve_due_time(due, now), now, interval);
        let Some(t) = self.kernel.get_mut(&timer) else {
            return false;
        };
        let was_set = t.armed.is_some();
        t.armed = Some(Armed {
            fire_at,
            period: u64::from(period_ms) * TICKS_PER_MS,
            seq,
        });
        t.dpc = dpc;
        t.signaled = false;
        was_set
    }

    /// `ExSetTimer`: arms an `EX_TIMER`. Returns whether it was set.
    pub fn set_executive(
        &mut self,
        timer: usize,
        due: i64,
        period: u64,
        now: u64,
        resolution: u64,
    ) -> bool {
        let seq = self.next_seq();
        let fire_at = expiry(resolve_due_time(due, now), now, resolution);
        let Some(t) = self.executive.get_mut(&timer) else {
            return false;
        };
        let was_set = t.armed.is_some();
        t.armed = Some(Armed {
            fire_at,
            period,
            seq,
        });
        was_set
    }

    /// The earliest expiry among armed timers.
    #[must_use]
    pub fn next_expiry(&self) -> Option<u64> {
        let kernel = self
            .kernel
            .values()
            .filter_map(|t| t.armed.map(|a| a.fire_at));
        let executive = self
            .executive
            .values()
            .filter_map(|t| t.armed.map(|a| a.fire_at));
        kernel.chain(executive).min()
    }

    /// The timer that expires first at or before `now` (earliest time, then arming order),
    /// disarmed or re-armed (periodic, relative to its expiry tick, quantised to `interval`
    /// or, for a high-resolution `EX_TIMER`, `high_res`).
    pub fn expire_next(&mut self, now: u64, interval: u64, high_res: u64) -> Option<Expired> {
        let kernel = self.kernel.iter().filter_map(|(&addr, t)| {
            t.armed
                .filter(|a| a.fire_at <= now)
                .map(|a| (a.fire_at, a.seq, addr, false))
        });
        let executive = self.executive.iter().filter_map(|(&addr, t)| {
            t.armed
                .filter(|a| a.fire_at <= now)
                .map(|a| (a.fire_at, a.seq, addr, true))
        });
        let (_, _, addr, is_executive) = kernel.chain(executive).min()?;
        let seq = self.next_seq();
        if is_executive {
            let t = self.executive.get_mut(&addr)?;
            let resolution = if t.attributes & dmus_sys::kernel::EX_TIMER_HIGH_RESOLUTION != 0 {
                high_res
            } else {
                interval
            };
            t.armed = t.armed.and_then(|a| {
                (a.period != 0).then(|| Armed {
                    fire_at: quantise_up(a.fire_at + a.period, resolution),
                    period: a.period,
                    seq,
                })
            });
            Some(Expired::Executive { timer: addr })
        } else {
            let t = self.kernel.get_mut(&addr)?;
            t.signaled = true;
            t.armed = t.armed.and_then(|a| {
                (a.period != 0).then(|| Armed {
                    fire_at: quantise_up(a.fire_at + a.period, interval),
                    period: a.period,
                    seq,
                })
            });
            Some(Expired::Kernel {
                timer: addr,
                dpc: t.dpc,
            })
        }
    }

    /// Whether `EX_TIMER` `timer` is disabled by an `ExDeleteTimer` waiting for its callback.
    #[must_use]
    pub fn executive_deleting(&self, timer: usize) -> bool {
        self.executive.get(&timer).is_some_and(|t| t.deleting)
    }

    /// The callback of `EX_TIMER` `timer` returned: a timer deleted meanwhile goes now.
    pub fn executive_callback_returned(&mut self, timer: usize) {
        if self.executive_deleting(timer) {
            self.executive.remove(&timer);
        }
    }

    /// Forgets every timer whose object lies in `[start, end)` (its memory is being freed),
    /// returning the addresses of those that were armed.
    pub fn forget_range(&mut self, start: usize, end: usize) -> alloc::vec::Vec<usize> {
        let armed = self
            .kernel
            .range(start..end)
            .filter(|(_, t)| t.armed.is_some())
            .map(|(&a, _)| a)
            .collect();
        let doomed: alloc::vec::Vec<usize> =
            self.kernel.range(start..end).map(|(&a, _)| a).collect();
        for a in doomed {
            self.kernel.remove(&a);
        }
        armed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{DEFAULT_CLOCK_INTERVAL, ms};

    fn timers_with(addrs: &[usize]) -> Timers {
        let mut timers = Timers::default();
        for &a in addrs {
            timers.kernel.insert(a, KernelTimer::default());
        }
        timers
    }

    #[test]
    fn relative_timer_fires_on_the_next_clock_tick() {
        let mut timers = timers_with(&[0x10]);
        // Set at 1 ms for 2 ms: due 3 ms, expires on the first 15.625 ms tick.
        assert!(!timers.set_kernel(0x10, -20_000, 0, Some(0xd0), ms(1), DEFAULT_CLOCK_INTERVAL));
        assert_eq!(timers.next_expiry(), Some(156_250));
        assert_eq!(
            timers.expire_next(156_249, DEFAULT_CLOCK_INTERVAL, ms(1)),
            None
        );
        assert_eq!(
            timers.expire_next(156_250, DEFAULT_CLOCK_INTERVAL, ms(1)),
            Some(Expired::Kernel {
                timer: 0x10,
                dpc: Some(0xd0)
            })
        );
        assert_eq!(timers.next_expiry(), None);
        assert!(timers.kernel[&0x10].signaled);
    }

    #[test]
    fn past_due_time_expires_at_once_and_exact_tick_is_kept() {
        let mut timers = timers_with(&[0x10, 0x20]);
        timers.set_kernel(0x10, 5, 0, None, 1_000, DEFAULT_CLOCK_INTERVAL);
        timers.set_kernel(0x20, 312_500, 0, None, 1_000, DEFAULT_CLOCK_INTERVAL);
        assert_eq!(timers.kernel[&0x10].armed.map(|a| a.fire_at), Some(1_000));
        assert_eq!(timers.kernel[&0x20].armed.map(|a| a.fire_at), Some(312_500));
    }

    #[test]
    fn periodic_timer_rearms_from_its_expiry_tick() {
        let mut timers = timers_with(&[0x10]);
        timers.set_kernel(0x10, -100_000, 20, None, 0, DEFAULT_CLOCK_INTERVAL);
        let mut fired = alloc::vec::Vec::new();
        for _ in 0..4 {
            let at = timers.next_expiry().unwrap();
            timers
                .expire_next(at, DEFAULT_CLOCK_INTERVAL, ms(1))
                .unwrap();
            fired.push(at);
        }
        // 10 ms → 15.625; +20 ms = 35.625 → 46.875; +20 = 66.875 → 78.125; +20 = 98.125 → 109.375.
        assert_eq!(fired, [156_250, 468_750, 781_250, 1_093_750]);
    }

    #[test]
    fn simultaneous_expiries_go_in_arming_order_and_reset_reports_was_set() {
        let mut timers = timers_with(&[0x30, 0x10]);
        timers.set_kernel(0x30, -1, 0, None, 0, DEFAULT_CLOCK_INTERVAL);
        timers.set_kernel(0x10, -2, 0, None, 0, DEFAULT_CLOCK_INTERVAL);
        assert!(timers.set_kernel(0x30, -3, 0, None, 0, DEFAULT_CLOCK_INTERVAL));
        let first = timers.expire_next(DEFAULT_CLOCK_INTERVAL, DEFAULT_CLOCK_INTERVAL, ms(1));
        assert_eq!(
            first,
            Some(Expired::Kernel {
                timer: 0x10,
                dpc: None
            })
        );
    }

    #[test]
    fn forgetting_a_range_reports_armed_timers_only() {
        let mut timers = timers_with(&[0x100, 0x140, 0x200]);
        timers.set_kernel(0x140, -1, 0, None, 0, DEFAULT_CLOCK_INTERVAL);
        assert_eq!(timers.forget_range(0x100, 0x180), [0x140]);
        assert_eq!(
            timers
                .kernel
                .keys()
                .copied()
                .collect::<alloc::vec::Vec<_>>(),
            [0x200]
        );
    }
}
