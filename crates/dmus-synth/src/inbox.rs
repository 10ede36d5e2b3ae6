//! Where `IMXF::PutMessage` (`DISPATCH_LEVEL`) leaves events for the synth: one pending chain
//! per MIDI render input, behind a spin lock held for an O(1) append. The synth, under its
//! mutex at `PASSIVE_LEVEL`, takes each chain (O(1)) and files it by time before it renders,
//! so no mixing and no sorting ever runs at `DISPATCH_LEVEL`.

use mxf::Chain;

use crate::synth::RENDER_INPUTS;

/// The pending events of every input.
#[derive(Default)]
pub struct Inbox {
    pending: [Chain; RENDER_INPUTS],
    attached: [bool; RENDER_INPUTS],
    dropped: u32,
}

impl Inbox {
    /// No input attached, nothing pending.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Input `slot` takes events from now on.
    pub fn attach(&mut self, slot: usize) {
        if let Some(attached) = self.attached.get_mut(slot) {
            *attached = true;
        }
    }

    /// Input `slot` takes no more events; what it had pending comes back (to be filed and
    /// given back by the synth).
    pub fn detach(&mut self, slot: usize) -> Chain {
        if let Some(attached) = self.attached.get_mut(slot) {
            *attached = false;
        }
        self.take(slot)
    }

    /// Appends `chain` to input `slot`'s pending events, in O(1).
    ///
    /// # Errors
    /// The chain itself when no input is attached at `slot` (its owner gives it back).
    pub fn put(&mut self, slot: usize, chain: Chain) -> Result<(), Chain> {
        if let (Some(true), Some(pending)) = (self.attached.get(slot), self.pending.get_mut(slot)) {
            pending.push_back(chain);
            return Ok(());
        }
        let count = u32::try_from(chain.len()).unwrap_or(u32::MAX);
        self.dropped = self.dropped.saturating_add(count);
        Err(chain)
    }

    /// Input `slot`'s pending events, in the order they were put (empty for a bad slot).
    pub fn take(&mut self, slot: usize) -> Chain {
        self.pending
            .get_mut(slot)
            .map(core::mem::take)
            .unwrap_or_default()
    }

    /// Puts `chain`, taken from input `slot` with [`Inbox::take`], back before its pending
    /// events. (A slot that does not exist never gave anything: `take` is empty for it.)
    pub fn put_front(&mut self, slot: usize, mut chain: Chain) {
        if let Some(pending) = self.pending.get_mut(slot) {
            chain.push_back(core::mem::take(pending));
            *pending = chain;
        }
    }

    /// Events refused because no input was attached.
    #[must_use]
    pub fn dropped(&self) -> u32 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusic::DMUS_KEF;
    use mxf::raw::CountingPool;
    use mxf::{Chain, Discard, FixedPool};

    use super::Inbox;

    type TestPool = CountingPool<FixedPool, 256>;

    fn pool() -> TestPool {
        CountingPool::new(FixedPool::leaked(256, 16, 64).expect("pool"))
    }

    fn note(pool: &mut TestPool, time: i64, data: &[u8]) -> Chain {
        Chain::event(pool, time, 1, DMUS_KEF::EVENT_COMPLETE, data).expect("event")
    }

    #[test]
    fn events_wait_in_put_order_and_a_detached_input_refuses_them() {
        let mut events = pool();
        let mut inbox = Inbox::new();
        let refused = inbox
            .put(0, note(&mut events, 5, &[0x90, 60, 1]))
            .expect_err("input 0 is not attached");
        assert_eq!(inbox.dropped(), 1);
        events.discard(refused);
        inbox.attach(0);
        for time in [30, 10, 20] {
            assert!(
                inbox
                    .put(0, note(&mut events, time, &[0x90, 60, 1]))
                    .is_ok()
            );
        }
        assert!(inbox.take(1).is_empty());
        let first = inbox.take(0);
        assert_eq!(first.len(), 3);
        assert!(inbox.put(0, note(&mut events, 40, &[0x80, 60, 0])).is_ok());
        inbox.put_front(0, first);
        let all = inbox.take(0);
        let times: std::vec::Vec<i64> = all.iter().map(|e| e.time()).collect();
        assert_eq!(times, [30, 10, 20, 40], "put order, not time order");
        events.discard(all);
        assert!(inbox.put(0, note(&mut events, 50, &[0x80, 60, 0])).is_ok());
        let left = inbox.detach(0);
        assert_eq!(left.len(), 1);
        events.discard(left);
        let late = inbox
            .put(0, note(&mut events, 60, &[0x80, 60, 0]))
            .expect_err("detached");
        events.discard(late);
        assert_eq!(inbox.dropped(), 2);
        events.check().expect("every event back once");
    }
}
