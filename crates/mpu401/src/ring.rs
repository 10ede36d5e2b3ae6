//! A fixed-capacity ring of timestamped input bytes, filled by the ISR and
//! emptied by the DPC. No allocation; when full, new bytes are counted and
//! dropped and the bytes already held are never touched.
//!
//! The ring itself has no locking: in the driver it lives under the
//! interrupt-sync object, so the ISR (`DIRQL`) and the DPC (which synchronises
//! with the interrupt to pop) never hold `&mut` at the same time.

/// One input byte and the time it was read, in the caller's clock units (the
/// driver uses 100 ns master-clock ticks).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimedByte {
    /// The byte read from the data port.
    pub byte: u8,
    /// When it was read.
    pub time: u64,
}

/// A ring of at most `N` [`TimedByte`]s, oldest first. `N` must be at least 1
/// (checked at compile time).
#[derive(Clone, Debug)]
pub struct InputRing<const N: usize> {
    slots: [TimedByte; N],
    /// Index of the oldest byte.
    head: usize,
    len: usize,
    dropped: u32,
}

impl<const N: usize> InputRing<N> {
    /// An empty ring.
    #[must_use]
    pub const fn new() -> Self {
        const { assert!(N > 0, "an InputRing needs a capacity of at least 1") };
        Self {
            slots: [TimedByte { byte: 0, time: 0 }; N],
            head: 0,
            len: 0,
            dropped: 0,
        }
    }

    /// Appends `item` as the newest byte. When the ring is full, hands `item`
    /// back, counts it in [`Self::dropped`] and leaves the contents unchanged.
    ///
    /// # Errors
    /// `Err(item)` when the ring is full.
    pub fn push(&mut self, item: TimedByte) -> Result<(), TimedByte> {
        if self.len == N {
            self.dropped = self.dropped.saturating_add(1);
            return Err(item);
        }
        let tail = (self.head + self.len) % N;
        self.slots[tail] = item;
        self.len += 1;
        Ok(())
    }

    /// Removes and returns the oldest byte.
    pub fn pop(&mut self) -> Option<TimedByte> {
        if self.len == 0 {
            return None;
        }
        let item = self.slots[self.head];
        self.head = (self.head + 1) % N;
        self.len -= 1;
        Some(item)
    }

    /// The oldest byte, without removing it.
    #[must_use]
    pub fn peek(&self) -> Option<TimedByte> {
        if self.len == 0 {
            None
        } else {
            Some(self.slots[self.head])
        }
    }

    /// Bytes held.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// True when no byte is held.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True when a push would be dropped.
    #[must_use]
    pub const fn is_full(&self) -> bool {
        self.len == N
    }

    /// The fixed capacity, `N`.
    #[must_use]
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Bytes dropped because the ring was full (saturating), since creation or
    /// the last [`Self::take_dropped`].
    #[must_use]
    pub const fn dropped(&self) -> u32 {
        self.dropped
    }

    /// Returns the dropped count and resets it to zero (the DPC reports it once).
    pub fn take_dropped(&mut self) -> u32 {
        core::mem::take(&mut self.dropped)
    }

    /// Empties the ring (stream stopped); the dropped count is kept.
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

impl<const N: usize> Default for InputRing<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::vec::Vec;

    #[derive(Clone, Debug)]
    enum Op {
        Push(u8, u64),
        Pop,
        Peek,
        Clear,
        TakeDropped,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (any::<u8>(), any::<u64>()).prop_map(|(b, t)| Op::Push(b, t)),
            3 => Just(Op::Pop),
            1 => Just(Op::Peek),
            1 => Just(Op::Clear),
            1 => Just(Op::TakeDropped),
        ]
    }

    /// Runs `ops` on a ring of capacity `N` and on a `VecDeque` model.
    fn check<const N: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
        let mut ring = InputRing::<N>::new();
        let mut model: VecDeque<TimedByte> = VecDeque::new();
        let mut dropped = 0u32;
        for op in ops {
            match *op {
                Op::Push(byte, time) => {
                    let item = TimedByte { byte, time };
                    let result = ring.push(item);
                    if model.len() == N {
                        dropped += 1;
                        prop_assert_eq!(result, Err(item));
                    } else {
                        model.push_back(item);
                        prop_assert_eq!(result, Ok(()));
                    }
                }
                Op::Pop => prop_assert_eq!(ring.pop(), model.pop_front()),
                Op::Peek => prop_assert_eq!(ring.peek(), model.front().copied()),
                Op::Clear => {
                    ring.clear();
                    model.clear();
                }
                Op::TakeDropped => {
                    prop_assert_eq!(ring.take_dropped(), dropped);
                    dropped = 0;
                }
            }
            prop_assert_eq!(ring.len(), model.len());
            prop_assert_eq!(ring.is_empty(), model.is_empty());
            prop_assert_eq!(ring.is_full(), model.len() == N);
            prop_assert_eq!(ring.dropped(), dropped);
        }
        let rest: Vec<TimedByte> = core::iter::from_fn(|| ring.pop()).collect();
        prop_assert_eq!(rest, Vec::from(model));
        Ok(())
    }

    proptest! {
        #[test]
        fn ring_matches_a_fifo_model_capacity_1(ops in proptest::collection::vec(op(), 0..64)) {
            check::<1>(&ops)?;
        }

        #[test]
        fn ring_matches_a_fifo_model_capacity_5(ops in proptest::collection::vec(op(), 0..200)) {
            check::<5>(&ops)?;
        }

        #[test]
        fn ring_matches_a_fifo_model_capacity_128(ops in proptest::collection::vec(op(), 0..400)) {
            check::<128>(&ops)?;
        }
    }

    #[test]
    fn wraps_around_in_order() {
        let mut ring = InputRing::<3>::new();
        for round in 0..10u8 {
            ring.push(TimedByte {
                byte: round,
                time: u64::from(round),
            })
            .unwrap();
            ring.push(TimedByte {
                byte: round + 100,
                time: 0,
            })
            .unwrap();
            assert_eq!(ring.pop().map(|t| t.byte), Some(round));
            assert_eq!(ring.pop().map(|t| t.byte), Some(round + 100));
        }
        assert!(ring.is_empty());
        assert_eq!(ring.capacity(), 3);
    }
}
