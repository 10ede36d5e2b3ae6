//! A checking wrapper for tests: counts, and catches double returns, foreign
//! returns and writes after return, like Driver Verifier's special pool.
//!
//! Every handed-out event and buffer is recorded in a fixed table of `N`
//! entries (a full table means exhaustion). A returned element is filled with
//! a poison pattern and kept in a quarantine of [`QUARANTINE`] elements before
//! it reaches the inner pool; when it leaves quarantine (or on
//! [`CountingPool::check`]) the pattern must still be intact, else something
//! wrote to it after it was given back.

use super::{EventPool, PoolStats};
use core::fmt;
use core::ptr::NonNull;
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;

/// Byte written over returned elements.
const POISON: u8 = 0xDB;
/// Returned elements held back per kind before they reach the inner pool.
pub const QUARANTINE: usize = 16;

/// Misuse a [`CountingPool`] saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Violations {
    /// Elements given back while already back (in quarantine).
    pub double_returns: u64,
    /// Elements given back that this pool never handed out (or that were
    /// returned long enough ago to have left quarantine).
    pub foreign_returns: u64,
    /// Elements written after they were given back (poison disturbed).
    pub use_after_return: u64,
}

impl Violations {
    /// Whether nothing was seen.
    #[must_use]
    pub const fn is_clean(&self) -> bool {
        self.double_returns == 0 && self.foreign_returns == 0 && self.use_after_return == 0
    }
}

impl fmt::Display for Violations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} double returns, {} foreign returns, {} writes after return",
            self.double_returns, self.foreign_returns, self.use_after_return
        )
    }
}

/// Handed-out and quarantined elements of one kind.
struct Tracker<const N: usize> {
    out: [Option<NonNull<u8>>; N],
    out_len: usize,
    quarantine: [Option<NonNull<u8>>; QUARANTINE],
    next_slot: usize,
}

impl<const N: usize> Tracker<N> {
    const fn new() -> Self {
        Self {
            out: [None; N],
            out_len: 0,
            quarantine: [None; QUARANTINE],
            next_slot: 0,
        }
    }

    fn is_full(&self) -> bool {
        self.out_len == N
    }

    fn record(&mut self, element: NonNull<u8>) {
        if let Some(slot) = self.out.get_mut(self.out_len) {
            *slot = Some(element);
            self.out_len += 1;
        }
    }

    /// Removes `element` from the handed-out table; `false` if absent.
    fn forget(&mut self, element: NonNull<u8>) -> bool {
        let live = &mut self.out[..self.out_len];
        let Some(position) = live.iter().position(|&e| e == Some(element)) else {
            return false;
        };
        live.swap(position, self.out_len - 1);
        self.out_len -= 1;
        self.out[self.out_len] = None;
        true
    }

    fn in_quarantine(&self, element: NonNull<u8>) -> bool {
        self.quarantine.contains(&Some(element))
    }

    /// Puts `element` into quarantine, returning the one it displaces.
    fn quarantine(&mut self, element: NonNull<u8>) -> Option<NonNull<u8>> {
        let evicted = self.quarantine[self.next_slot].replace(element);
        self.next_slot = (self.next_slot + 1) % QUARANTINE;
        evicted
    }
}

/// Fills `len` bytes at `element` with the poison pattern.
fn poison(element: NonNull<u8>, len: usize) {
    // SAFETY: `element` was handed out by the inner pool with at least `len`
    // bytes, given back to us and not yet passed on: we own it. Any IRQL.
    unsafe { core::ptr::write_bytes(element.as_ptr(), POISON, len) };
}

/// Whether the poison pattern over `len` bytes at `element` is intact.
fn still_poisoned(element: NonNull<u8>, len: usize) -> bool {
    // SAFETY: as for `poison`: the element is in our quarantine, so its memory
    // is valid and owned by us; u8 reads are valid for any contents. Any IRQL.
    let bytes = unsafe { core::slice::from_raw_parts(element.as_ptr(), len) };
    bytes.iter().all(|&b| b == POISON)
}

/// An [`EventPool`] wrapper that counts and checks every hand-out and return.
/// `N` bounds the events (and, separately, the buffers) out at once.
pub struct CountingPool<P: EventPool, const N: usize> {
    inner: P,
    events: Tracker<N>,
    buffers: Tracker<N>,
    stats: PoolStats,
    violations: Violations,
}

impl<P: EventPool, const N: usize> fmt::Debug for CountingPool<P, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountingPool")
            .field("stats", &self.stats)
            .field("violations", &self.violations)
            .finish_non_exhaustive()
    }
}

impl<P: EventPool, const N: usize> CountingPool<P, N> {
    /// Wraps `inner`.
    pub const fn new(inner: P) -> Self {
        Self {
            inner,
            events: Tracker::new(),
            buffers: Tracker::new(),
            stats: PoolStats {
                events_in_use: 0,
                events_high_water: 0,
                event_failures: 0,
                buffers_in_use: 0,
                buffers_high_water: 0,
                buffer_failures: 0,
            },
            violations: Violations {
                double_returns: 0,
                foreign_returns: 0,
                use_after_return: 0,
            },
        }
    }

    /// Misuse seen so far (quarantined elements not yet verified).
    #[must_use]
    pub const fn violations(&self) -> Violations {
        self.violations
    }

    /// The wrapped pool.
    pub const fn inner(&self) -> &P {
        &self.inner
    }

    /// Verifies every quarantined element, then reports whether nothing went
    /// wrong and nothing is still out.
    ///
    /// # Errors
    /// The violations, and the count of events and buffers still out.
    pub fn check(&mut self) -> Result<(), (Violations, PoolStats)> {
        let event_len = core::mem::size_of::<DMUS_KERNEL_EVENT>();
        let buffer_len = self.inner.buffer_size();
        for element in self.events.quarantine.iter().flatten() {
            if !still_poisoned(*element, event_len) {
                self.violations.use_after_return += 1;
            }
        }
        for element in self.buffers.quarantine.iter().flatten() {
            if !still_poisoned(*element, buffer_len) {
                self.violations.use_after_return += 1;
            }
        }
        // Re-poison so a later check does not count the same write twice.
        for element in self.events.quarantine.iter().flatten() {
            poison(*element, event_len);
        }
        for element in self.buffers.quarantine.iter().flatten() {
            poison(*element, buffer_len);
        }
        let leaked = self.stats.events_in_use != 0 || self.stats.buffers_in_use != 0;
        if self.violations.is_clean() && !leaked {
            Ok(())
        } else {
            Err((self.violations, self.stats))
        }
    }
}

// SAFETY: every element handed out comes from the inner pool (which keeps the
// EventPool promises) and is recorded; an element given back is held in our
// quarantine (we own it) and reaches the inner pool exactly once, when it is
// evicted; anything not recorded as out is never passed to the inner pool.
unsafe impl<P: EventPool, const N: usize> EventPool for CountingPool<P, N> {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        if self.events.is_full() {
            self.stats.event_failures += 1;
            return None;
        }
        let Some(event) = self.inner.get_event() else {
            self.stats.event_failures += 1;
            return None;
        };
        self.events.record(event.cast());
        self.stats.event_taken();
        Some(event)
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        let element = event.cast::<u8>();
        if !self.events.forget(element) {
            if self.events.in_quarantine(element) {
                self.violations.double_returns += 1;
            } else {
                self.violations.foreign_returns += 1;
            }
            return;
        }
        self.stats.events_in_use -= 1;
        let len = core::mem::size_of::<DMUS_KERNEL_EVENT>();
        poison(element, len);
        if let Some(evicted) = self.events.quarantine(element) {
            if !still_poisoned(evicted, len) {
                self.violations.use_after_return += 1;
            }
            // SAFETY: `evicted` came from the inner pool, was recorded, given
            // back once and held in quarantine until now; nobody else uses it.
            // Same IRQL as our caller, which the inner pool accepts.
            unsafe { self.inner.put_event(evicted.cast()) };
        }
    }

    fn buffer_size(&self) -> usize {
        self.inner.buffer_size()
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        if self.buffers.is_full() {
            self.stats.buffer_failures += 1;
            return None;
        }
        let Some(buffer) = self.inner.get_buffer() else {
            self.stats.buffer_failures += 1;
            return None;
        };
        self.buffers.record(buffer);
        self.stats.buffer_taken();
        Some(buffer)
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        if !self.buffers.forget(buffer) {
            if self.buffers.in_quarantine(buffer) {
                self.violations.double_returns += 1;
            } else {
                self.violations.foreign_returns += 1;
            }
            return;
        }
        self.stats.buffers_in_use -= 1;
        let len = self.inner.buffer_size();
        poison(buffer, len);
        if let Some(evicted) = self.buffers.quarantine(buffer) {
            if !still_poisoned(evicted, len) {
                self.violations.use_after_return += 1;
            }
            // SAFETY: as for events: recorded, returned once, quarantined.
            // Same IRQL as our caller.
            unsafe { self.inner.put_buffer(evicted) };
        }
    }

    fn stats(&self) -> PoolStats {
        self.stats
    }
}
