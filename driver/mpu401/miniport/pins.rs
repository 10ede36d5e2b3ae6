//! Which streams are open on which pins, the card's output the render streams share, and
//! the capture streams that all get the card's input.
//!
//! Every stream gets an id, unique among the miniport's open streams: the render streams
//! name themselves with it on the [`SharedWire`] (which stream holds the wire, which wrote
//! last), and a capture stream's id (below [`MAX_CAPTURE_STREAMS`]) is its place in the
//! capture list, so a claimed capture stream always has its place.

use core::ptr::NonNull;

use mpu401::SharedWire;

use crate::miniport::spin_lock::SpinLock;
use crate::mpu401::capture::CaptureStream;
use crate::mpu401::descriptor::{PIN_CAPTURE, PIN_COUNT, instances};

/// Stream ids: one bit each in [`Claims::ids`].
pub const MAX_STREAMS: u32 = 32;

/// How many capture streams may be open at once (the capture list's length).
pub const MAX_CAPTURE_STREAMS: usize = 4;

/// The open capture streams (not references: each stream takes itself out, under this
/// list's lock, before it is freed).
pub type CaptureList = [Option<NonNull<CaptureStream>>; MAX_CAPTURE_STREAMS];

/// Open streams per pin and the ids in use.
struct Claims {
    per_pin: [u32; PIN_COUNT as usize],
    ids: u32,
}

/// The miniport's pins and what their streams share.
pub struct Pins {
    claims: SpinLock<Claims>,
    /// The card's output, shared by the render streams (lock order: a stream's own lock,
    /// then this).
    wire: SpinLock<SharedWire>,
    /// The open capture streams (lock order: this, then a capture stream's own lock).
    captures: SpinLock<CaptureList>,
}

impl Pins {
    /// No stream open, the wire free.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            claims: SpinLock::new(Claims {
                per_pin: [0; PIN_COUNT as usize],
                ids: 0,
            }),
            wire: SpinLock::new(SharedWire::new()),
            captures: SpinLock::new([None; MAX_CAPTURE_STREAMS]),
        }
    }

    /// A stream on `pin`: its id, or `None` when the pin has as many streams as its
    /// descriptor allows (PortCls refuses those first; this is the miniport's own
    /// guard) or no id is free.
    pub fn claim(&self, pin: u32) -> Option<u32> {
        let limit = instances(pin);
        let mut claims = self.claims.lock();
        let index = usize::try_from(pin).ok()?;
        let open = *claims.per_pin.get(index)?;
        if open >= limit {
            return None;
        }
        // Capture streams take the ids below MAX_CAPTURE_STREAMS, the others the rest.
        let capture_ids = (1u32 << MAX_CAPTURE_STREAMS) - 1;
        let outside = if pin == PIN_CAPTURE {
            !capture_ids
        } else {
            capture_ids
        };
        let id = (!(claims.ids | outside)).trailing_zeros();
        if id >= MAX_STREAMS {
            return None;
        }
        claims.ids |= 1 << id;
        claims.per_pin[index] = open + 1;
        Some(id)
    }

    /// The stream `id` on `pin` is gone.
    pub fn release(&self, pin: u32, id: u32) {
        let mut claims = self.claims.lock();
        if let Some(open) = usize::try_from(pin)
            .ok()
            .and_then(|index| claims.per_pin.get_mut(index))
        {
            *open = open.saturating_sub(1);
        }
        if id < MAX_STREAMS {
            claims.ids &= !(1 << id);
        }
    }

    /// The streams open on `pin`.
    #[cfg(test)]
    pub fn open_on(&self, pin: u32) -> u32 {
        let claims = self.claims.lock();
        usize::try_from(pin)
            .ok()
            .and_then(|index| claims.per_pin.get(index).copied())
            .unwrap_or(0)
    }

    /// The card's output (see the field).
    pub fn wire(&self) -> &SpinLock<SharedWire> {
        &self.wire
    }

    /// The open capture streams (see the field).
    pub fn captures(&self) -> &SpinLock<CaptureList> {
        &self.captures
    }
}

impl Default for Pins {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use wdm_sim::{Machine, MachineConfig};

    use super::Pins;
    use crate::mpu401::descriptor::{PIN_BRIDGE_OUT, PIN_CAPTURE, PIN_LEGACY_RENDER, instances};

    #[test]
    fn a_pin_takes_as_many_streams_as_its_descriptor_allows() {
        // The spin lock is the kernel's: the simulated one.
        let _machine = Machine::new(MachineConfig::default());
        let pins = Pins::new();
        let limit = instances(PIN_LEGACY_RENDER);
        assert!(limit > 1, "several clients on one port");
        let ids: std::vec::Vec<u32> = (0..limit)
            .map(|_| pins.claim(PIN_LEGACY_RENDER).expect("within the limit"))
            .collect();
        assert_eq!(pins.claim(PIN_LEGACY_RENDER), None, "one more is refused");
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique, ids, "every stream has its own id");
        let capture = pins.claim(PIN_CAPTURE).expect("other pins are independent");
        assert!(
            usize::try_from(capture).unwrap() < super::MAX_CAPTURE_STREAMS,
            "a capture stream's id is its place in the list"
        );
        assert_eq!(
            pins.claim(PIN_BRIDGE_OUT),
            None,
            "bridge pins have no streams"
        );
        pins.release(PIN_LEGACY_RENDER, ids[1]);
        assert_eq!(pins.open_on(PIN_LEGACY_RENDER), limit - 1);
        assert_eq!(
            pins.claim(PIN_LEGACY_RENDER),
            Some(ids[1]),
            "the id is free again"
        );
    }
}
