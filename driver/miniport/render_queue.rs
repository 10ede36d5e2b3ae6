//! Render events held until they are due, under the KSSTATE rules.
//!
//! Built from mxf's parts (an ordered [`Chain`] and the stream's
//! [`PresentationClock`]) rather than mxf's `Sequencer`, for one reason: on STOP
//! a miniport must give held events back to the port's allocator *whole*
//! (`PutMessage` on the chain, which frees buffers and packages itself;
//! dmusicks.h says miniports do not call `PutBuffer`), while `Sequencer`
//! frees them event by event through `EventPool::put_buffer`. Everything that
//! leaves the queue is handed back to the caller as a chain to pass on.
//!
//! Rules (reference.md, "What the PortCls DMus port does"): data is held in
//! every state but RUN; entering STOP discards what is held and resets
//! presentation time; presentation time is frozen in PAUSE and ACQUIRE.

use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::sequencer::PresentationClock;
use mxf::{Chain, EventPool};

/// Where spent events go: the allocator's `PutMessage` in the driver, a host
/// pool in tests. The default gives a chain back event by event.
pub trait Discard: EventPool {
    /// Gives `chain` back, every event and buffer exactly once.
    fn discard(&mut self, chain: Chain) {
        let _count = chain.free(self);
    }
}

/// The queue of one render stream.
#[derive(Debug, Default)]
pub struct RenderQueue {
    held: Chain,
    state: KSSTATE,
    clock: PresentationClock,
}

impl RenderQueue {
    /// An empty queue in STOP.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            held: Chain::new(),
            state: KSSTATE_STOP,
            clock: PresentationClock::new(),
        }
    }

    /// The stream's state.
    #[must_use]
    pub const fn state(&self) -> KSSTATE {
        self.state
    }

    /// Events held (a package counts as one).
    #[must_use]
    pub const fn len(&self) -> usize {
        self.held.len()
    }

    /// Whether nothing is held.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// The stream's presentation time at master time `master_now`.
    #[must_use]
    pub fn presentation_now(&self, master_now: i64) -> i64 {
        self.clock.now(master_now)
    }

    /// Changes state at `master_now`; entering STOP returns every held event, to discard.
    pub fn set_state(&mut self, state: KSSTATE, master_now: i64) -> Chain {
        self.state = state;
        self.clock.set_state(state, master_now);
        if state == KSSTATE_STOP {
            core::mem::take(&mut self.held)
        } else {
            Chain::new()
        }
    }

    /// Takes events from the port. In STOP they come straight back, to discard;
    /// otherwise they are held in presentation order (equal times keep arrival order).
    pub fn put(&mut self, chain: Chain) -> Chain {
        if self.state == KSSTATE_STOP {
            return chain;
        }
        self.held.insert_by_time(chain);
        Chain::new()
    }

    /// Detaches the events due at `master_now`, in order. Nothing outside RUN.
    pub fn pop_due(&mut self, master_now: i64) -> Chain {
        if self.state != KSSTATE_RUN {
            return Chain::new();
        }
        self.held.split_due(self.clock.now(master_now))
    }

    /// The master time the earliest held event falls due; `None` when nothing
    /// is held or the stream is not running.
    #[must_use]
    pub fn next_due(&self) -> Option<i64> {
        if self.state != KSSTATE_RUN {
            return None;
        }
        self.clock.master_time_of(self.held.front_time()?)
    }

    /// Detaches everything held (a device fault or the stream's end).
    pub fn take_all(&mut self) -> Chain {
        core::mem::take(&mut self.held)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use dmus_sys::dmusic::{DMUS_KEF, DMUS_KERNEL_EVENT, DMUS_KERNEL_EVENT_DATA};
    use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
    use mxf::raw::CountingPool;
    use mxf::{Chain, FixedPool};

    use super::{Discard, RenderQueue};

    /// The host pool the render tests use.
    pub(crate) type TestPool = CountingPool<FixedPool, 256>;

    impl Discard for TestPool {}

    /// A host pool over leaked memory (it must outlive every chain), as mxf's
    /// own `FixedPool::leaked` does behind its `std` feature.
    pub(crate) fn pool() -> TestPool {
        const EVENTS: usize = 256;
        const BUFFERS: usize = 16;
        const BUFFER_SIZE: usize = 64;
        let empty = DMUS_KERNEL_EVENT {
            bReserved: 0,
            cbStruct: 0,
            cbEvent: 0,
            usChannelGroup: 0,
            usFlags: DMUS_KEF::EVENT_COMPLETE,
            ullPresTime100ns: 0,
            ullBytePosition: 0,
            pNextEvt: core::ptr::null_mut(),
            uData: DMUS_KERNEL_EVENT_DATA {
                abData: [0; core::mem::size_of::<*mut u8>()],
            },
        };
        let events = std::vec![empty; EVENTS].leak();
        let event_links = std::vec![0u32; EVENTS].leak();
        let memory = std::vec![0u8; BUFFERS * BUFFER_SIZE].leak();
        let buffer_links = std::vec![0u32; BUFFERS].leak();
        let fixed =
            FixedPool::new(events, event_links, memory, buffer_links, BUFFER_SIZE).expect("pool");
        CountingPool::new(fixed)
    }

    pub(crate) fn note(pool: &mut TestPool, time: i64, data: &[u8]) -> Chain {
        Chain::event(pool, time, 1, DMUS_KEF::EVENT_COMPLETE, data).expect("event")
    }

    fn times(chain: &Chain) -> std::vec::Vec<i64> {
        chain.iter().map(|event| event.time()).collect()
    }

    #[test]
    fn events_are_held_outside_run_and_released_in_order_when_due() {
        let mut pool = pool();
        let mut queue = RenderQueue::new();
        assert!(queue.set_state(KSSTATE_ACQUIRE, 0).is_empty());
        assert!(queue.set_state(KSSTATE_PAUSE, 0).is_empty());
        for time in [30, 10, 20, 10] {
            assert!(
                queue
                    .put(note(&mut pool, time, &[0x90, 60, 100]))
                    .is_empty()
            );
        }
        assert!(queue.pop_due(1_000).is_empty(), "PAUSE holds everything");
        assert_eq!(queue.next_due(), None);
        let _ = queue.set_state(KSSTATE_RUN, 500);
        assert_eq!(queue.next_due(), Some(510));
        let due = queue.pop_due(520);
        assert_eq!(times(&due), [10, 10, 20]);
        pool.discard(due);
        assert_eq!(queue.len(), 1);
        assert_eq!(queue.next_due(), Some(530));
        let stopped = queue.set_state(KSSTATE_STOP, 600);
        assert_eq!(times(&stopped), [30]);
        pool.discard(stopped);
        pool.check().expect("every event back once");
    }

    #[test]
    fn pause_freezes_presentation_time_and_stop_discards_new_data() {
        let mut pool = pool();
        let mut queue = RenderQueue::new();
        let _ = queue.set_state(KSSTATE_ACQUIRE, 0);
        let _ = queue.set_state(KSSTATE_PAUSE, 0);
        let _ = queue.set_state(KSSTATE_RUN, 100);
        assert_eq!(queue.presentation_now(150), 50);
        let _ = queue.set_state(KSSTATE_PAUSE, 150);
        assert_eq!(queue.presentation_now(10_000), 50, "frozen in PAUSE");
        assert!(queue.put(note(&mut pool, 60, &[0xC0, 5])).is_empty());
        let _ = queue.set_state(KSSTATE_RUN, 10_000);
        assert_eq!(queue.next_due(), Some(10_010));
        let held = queue.set_state(KSSTATE_STOP, 10_001);
        assert_eq!(held.len(), 1);
        pool.discard(held);
        assert_eq!(queue.presentation_now(20_000), 0, "reset in STOP");
        let refused = queue.put(note(&mut pool, 0, &[0xF8]));
        assert_eq!(
            refused.len(),
            1,
            "a stopped stream hands data straight back"
        );
        pool.discard(refused);
        pool.check().expect("every event back once");
    }
}
