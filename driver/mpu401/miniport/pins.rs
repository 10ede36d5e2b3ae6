//! Which pins have a stream, and which render stream owns the card's output.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::miniport::spin_lock::SpinLock;

/// The miniport's pins: one bit per pin with an open stream, and the card's output lock.
pub struct Pins {
    /// One bit per pin with an open stream.
    open: AtomicU32,
    /// The card's output, shared by the render streams: the pin whose message is half on
    /// the wire, if any. Held while a stream writes, so two streams' bytes never interleave
    /// (lock order: a stream's own lock, then this).
    wire: SpinLock<Option<u32>>,
}

impl Pins {
    /// No pin open, the wire free.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            open: AtomicU32::new(0),
            wire: SpinLock::new(None),
        }
    }

    /// Marks `pin` as having its stream; false if it already has one.
    pub fn claim(&self, pin: u32) -> bool {
        let bit = 1 << pin;
        self.open.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Frees `pin` for a new stream.
    pub fn release(&self, pin: u32) {
        self.open.fetch_and(!(1 << pin), Ordering::AcqRel);
    }

    /// The card's output lock (see the field).
    pub fn wire(&self) -> &SpinLock<Option<u32>> {
        &self.wire
    }
}

impl Default for Pins {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::Pins;

    #[test]
    fn a_pin_has_one_stream_until_it_is_released() {
        let pins = Pins::new();
        assert!(pins.claim(0));
        assert!(!pins.claim(0), "a second stream on pin 0 is refused");
        assert!(pins.claim(4), "other pins are independent");
        pins.release(0);
        assert!(pins.claim(0));
    }
}
