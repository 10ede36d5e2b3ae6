//! A time-ordered queue of events keyed by presentation time, with the
//! render `KSSTATE` rules (reference.md, "What the `PortCls` `DMus` port does"):
//! data is held in every state but RUN, and given back to the pool on STOP.
//! Event times are read through a [`Timeline`]: presentation times on the
//! port's [`PresentationClock`] (the default), or master-clock times on a
//! miniport's [`MasterTimeline`](super::MasterTimeline), where a pause moves
//! every held event later.
//!
//! # Intrusive, not fixed-capacity
//!
//! The queue is one [`Chain`] kept sorted through the events' own `pNextEvt`
//! links, rather than an array of a capacity chosen at construction. On a
//! kernel render path that is the better trade:
//! - it needs no memory of its own, so `PutMessage` at `DISPATCH_LEVEL` can
//!   never fail for want of queue space and never drop an event the port
//!   already gave us: the only limit is the allocator's, which the port
//!   enforces before the event exists;
//! - there is no capacity to tune per pin or to over-reserve in nonpaged pool;
//! - popping all due events is detaching a prefix of the list: O(due), and the
//!   result is already a chain to walk or hand on.
//!
//! The cost is insertion order: appending in time order is O(1) (the tail is
//! checked first), which is what the unpacker produces, since its time line
//! never goes backwards; an out-of-order batch walks from its previous
//! insertion point, O(n) at worst. Equal times keep arrival order.

use super::{PresentationClock, Timeline};
use crate::raw::{Chain, EventPool, FreeCount};
use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};

/// The render sequencer of one stream, reading event times through `C`.
#[derive(Debug, Default)]
pub struct Sequencer<C = PresentationClock> {
    queue: Chain,
    state: KSSTATE,
    clock: C,
}

impl Sequencer {
    /// An empty sequencer in `KSSTATE_STOP` on a presentation clock.
    #[must_use]
    pub const fn new() -> Self {
        Self::with_timeline(PresentationClock::new())
    }
}

impl<C: Timeline> Sequencer<C> {
    /// An empty sequencer in `KSSTATE_STOP` reading event times through
    /// `timeline` (a stopped one).
    #[must_use]
    pub const fn with_timeline(timeline: C) -> Self {
        Self {
            queue: Chain::new(),
            state: KSSTATE_STOP,
            clock: timeline,
        }
    }

    /// The current state.
    #[must_use]
    pub const fn state(&self) -> KSSTATE {
        self.state
    }

    /// The stream's timeline (its presentation clock by default).
    #[must_use]
    pub const fn clock(&self) -> &C {
        &self.clock
    }

    /// Events held (a package counts as one).
    #[must_use]
    pub const fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is held.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Changes state at master time `master_now`. Entering STOP gives every
    /// held event back to `pool` and resets presentation time; RUN after a
    /// pause moves held events later when the timeline says so.
    pub fn set_state<P: EventPool + ?Sized>(
        &mut self,
        state: KSSTATE,
        master_now: i64,
        pool: &mut P,
    ) -> FreeCount {
        self.set_state_detach(state, master_now).free(pool)
    }

    /// As [`set_state`](Self::set_state), but hands what STOP discards back
    /// as a chain, for a caller that returns chains whole (a miniport gives
    /// them to the allocator's `PutMessage`, which frees buffers and packages
    /// itself). Empty unless entering STOP.
    pub fn set_state_detach(&mut self, state: KSSTATE, master_now: i64) -> Chain {
        self.state = state;
        let shift = self.clock.set_state(state, master_now);
        if shift != 0 {
            self.queue.shift_times(shift);
        }
        if state == KSSTATE_STOP {
            core::mem::take(&mut self.queue)
        } else {
            Chain::new()
        }
    }

    /// Takes a chain to sequence by each event's presentation time. In STOP
    /// the chain goes straight back to `pool` (a stopped render pin discards
    /// its data); in every other state it is held until due.
    pub fn put<P: EventPool + ?Sized>(&mut self, chain: Chain, pool: &mut P) -> FreeCount {
        self.put_detach(chain).free(pool)
    }

    /// As [`put`](Self::put), but hands a chain refused in STOP back to the
    /// caller instead of freeing it. Empty when the chain was taken.
    pub fn put_detach(&mut self, chain: Chain) -> Chain {
        if self.state == KSSTATE_STOP {
            return chain;
        }
        self.queue.insert_by_time(chain);
        Chain::new()
    }

    /// Detaches everything held, due or not, in presentation order (a device
    /// fault, or a miniport that stops early).
    pub fn take_all(&mut self) -> Chain {
        core::mem::take(&mut self.queue)
    }

    /// Detaches every event due at master time `master_now` (the timeline's
    /// time at or after the event's), in time order. Empty outside RUN.
    pub fn pop_due(&mut self, master_now: i64) -> Chain {
        if self.state != KSSTATE_RUN {
            return Chain::new();
        }
        self.queue.split_due(self.clock.now(master_now))
    }

    /// Detaches every event whose presentation time is at most
    /// `presentation_now`, for a caller that keeps its own clock. Empty
    /// outside RUN.
    pub fn pop_due_at_presentation(&mut self, presentation_now: i64) -> Chain {
        if self.state != KSSTATE_RUN {
            return Chain::new();
        }
        self.queue.split_due(presentation_now)
    }

    /// The master time at which the earliest held event falls due, for arming
    /// a timer; `None` when nothing is held or the stream is not running.
    #[must_use]
    pub fn next_due_time(&self) -> Option<i64> {
        if self.state != KSSTATE_RUN {
            return None;
        }
        self.clock.master_time_of(self.queue.front_time()?)
    }

    /// The earliest held event's presentation time, in any state.
    #[must_use]
    pub fn next_presentation_time(&self) -> Option<i64> {
        self.queue.front_time()
    }
}
