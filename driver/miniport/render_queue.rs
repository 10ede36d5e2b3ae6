//! Render events held until they are due, under the KSSTATE rules.
//!
//! Times. An event's `ullPresTime100ns` is evaluated on the master clock
//! (dmusicks.h: "the master clock should be used to evaluate this presentation
//! time"): the port converts the pin's presentation time to master time with
//! the offset of the current run before it hands events over. So the queue
//! compares event times with the master clock directly, and keeps the one
//! rule the port cannot apply to events it has already handed over (prefetched
//! events): presentation time does not advance in PAUSE or ACQUIRE, so when a
//! paused stream runs again, every held event moves later by the length of the
//! pause. STOP gives everything back.
//!
//! Built on mxf's ordered [`Chain`] rather than mxf's `Sequencer` for two
//! reasons: a miniport gives held events back to the port's allocator *whole*
//! (`PutMessage` on the chain, which frees buffers and packages itself;
//! dmusicks.h says miniports do not call `PutBuffer`), while `Sequencer` frees
//! them event by event through `EventPool::put_buffer`; and `Sequencer` runs
//! its own presentation clock, where a miniport gets master-clock times.
//! Everything that leaves the queue is handed back to the caller as a chain.

use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
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
    /// The master time the stream left RUN, while it is paused.
    paused_at: Option<i64>,
}

impl RenderQueue {
    /// An empty queue in STOP.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            held: Chain::new(),
            state: KSSTATE_STOP,
            paused_at: None,
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
    #[allow(
        dead_code,
        reason = "the queue's API; the driver's streams use only part of it"
    )]
    pub const fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Changes state at master time `master_now`. Entering STOP returns every
    /// held event, to discard; leaving RUN starts a pause; RUN after a pause
    /// moves every held event later by the pause's length.
    pub fn set_state(&mut self, state: KSSTATE, master_now: i64) -> Chain {
        let was_running = self.state == KSSTATE_RUN;
        self.state = state;
        match state {
            KSSTATE_STOP => {
                self.paused_at = None;
                core::mem::take(&mut self.held)
            }
            KSSTATE_RUN => {
                if let Some(paused_at) = self.paused_at.take() {
                    let pause = master_now.saturating_sub(paused_at).max(0);
                    self.held = shift_times(core::mem::take(&mut self.held), pause);
                }
                Chain::new()
            }
            _ => {
                if was_running {
                    self.paused_at = Some(master_now);
                }
                Chain::new()
            }
        }
    }

    /// Takes events from the port. In STOP they come straight back, to discard;
    /// otherwise they are held in time order (equal times keep arrival order).
    pub fn put(&mut self, chain: Chain) -> Chain {
        if self.state == KSSTATE_STOP {
            return chain;
        }
        self.held.insert_by_time(chain);
        Chain::new()
    }

    /// Detaches the events due at master time `due_by`, in order. Nothing outside RUN.
    pub fn pop_due(&mut self, due_by: i64) -> Chain {
        if self.state != KSSTATE_RUN {
            return Chain::new();
        }
        self.held.split_due(due_by)
    }

    /// The master time the earliest held event falls due; `None` when nothing
    /// is held or the stream is not running.
    #[must_use]
    pub fn next_due(&self) -> Option<i64> {
        if self.state != KSSTATE_RUN {
            return None;
        }
        self.held.front_time()
    }

    /// Detaches everything held (a device fault or the stream's end).
    pub fn take_all(&mut self) -> Chain {
        core::mem::take(&mut self.held)
    }
}

/// Moves every top-level event of `chain` `by` later (order is unchanged).
fn shift_times(chain: Chain, by: i64) -> Chain {
    let head = chain.into_raw();
    let mut cursor = head;
    // Bounded by the chain's length (acyclic: the Chain invariant).
    while !cursor.is_null() {
        // SAFETY: `cursor` is an event of the chain this function owns (taken
        // with into_raw above and rebuilt below), valid and not referenced
        // elsewhere. Any IRQL (memory only).
        let event = unsafe { &mut *cursor };
        event.ullPresTime100ns = event.ullPresTime100ns.saturating_add(by);
        cursor = event.pNextEvt;
    }
    // SAFETY: the same acyclic chain of events from the same pool, owned here
    // since into_raw; only times changed. Any IRQL (memory only).
    unsafe { Chain::from_raw(head) }
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
        for time in [530, 510, 520, 510] {
            assert!(
                queue
                    .put(note(&mut pool, time, &[0x90, 60, 100]))
                    .is_empty()
            );
        }
        assert!(queue.pop_due(1_000).is_empty(), "PAUSE holds everything");
        assert_eq!(queue.next_due(), None);
        let _ = queue.set_state(KSSTATE_RUN, 500);
        assert_eq!(queue.next_due(), Some(510), "master-clock times, as given");
        let due = queue.pop_due(520);
        assert_eq!(times(&due), [510, 510, 520]);
        pool.discard(due);
        assert_eq!(queue.len(), 1);
        let stopped = queue.set_state(KSSTATE_STOP, 600);
        assert_eq!(times(&stopped), [530]);
        pool.discard(stopped);
        pool.check().expect("every event back once");
    }

    #[test]
    fn a_pause_moves_held_events_later_and_stop_discards_new_data() {
        let mut pool = pool();
        let mut queue = RenderQueue::new();
        let _ = queue.set_state(KSSTATE_ACQUIRE, 0);
        let _ = queue.set_state(KSSTATE_PAUSE, 0);
        let _ = queue.set_state(KSSTATE_RUN, 100);
        assert!(queue.put(note(&mut pool, 1_000, &[0xC0, 5])).is_empty());
        assert!(queue.put(note(&mut pool, 1_200, &[0xC0, 6])).is_empty());
        let _ = queue.set_state(KSSTATE_PAUSE, 400);
        let _ = queue.set_state(KSSTATE_ACQUIRE, 450);
        let _ = queue.set_state(KSSTATE_PAUSE, 500);
        let _ = queue.set_state(KSSTATE_RUN, 10_400);
        assert_eq!(
            queue.next_due(),
            Some(11_000),
            "time stood still for 10,000"
        );
        let due = queue.pop_due(11_100);
        assert_eq!(times(&due), [11_000]);
        pool.discard(due);
        let held = queue.set_state(KSSTATE_STOP, 10_500);
        assert_eq!(times(&held), [11_200]);
        pool.discard(held);
        let refused = queue.put(note(&mut pool, 0, &[0xF8]));
        assert_eq!(
            refused.len(),
            1,
            "a stopped stream hands data straight back"
        );
        pool.discard(refused);
        let _ = queue.set_state(KSSTATE_ACQUIRE, 20_000);
        let _ = queue.set_state(KSSTATE_PAUSE, 20_000);
        let _ = queue.set_state(KSSTATE_RUN, 30_000);
        assert!(queue.put(note(&mut pool, 30_500, &[0xF8])).is_empty());
        assert_eq!(
            queue.next_due(),
            Some(30_500),
            "no pause since the last STOP"
        );
        pool.discard(queue.take_all());
        pool.check().expect("every event back once");
    }
}
