//! A COM reference count with windows-rs's ordering rules.
//!
//! `AddRef` is `Relaxed` (a new reference can only be made from an existing
//! one); `Release` decrements with `Release` ordering and the last one issues
//! an `Acquire` fence before the object is freed, so every write made through
//! any reference happens before the destructor runs. A release of a count that
//! is already zero is caught and reported instead of freeing twice.

use core::sync::atomic::{AtomicU32, Ordering, fence};

/// What a [`RefCount::release`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    clippy::enum_variant_names,
    reason = "`OverReleased` is COM's term for a Release past zero, not a repeat of the enum's name"
)]
pub enum Released {
    /// References remain; the value is how many.
    Alive(u32),
    /// That was the last reference: the caller frees the object now.
    Last,
    /// The count was already zero: a caller released a reference it did not own.
    /// Nothing changed (the object must not be freed again).
    OverReleased,
}

/// A reference count starting at one (the creator's reference).
#[derive(Debug)]
pub struct RefCount(AtomicU32);

impl Default for RefCount {
    fn default() -> Self {
        Self::new()
    }
}

impl RefCount {
    /// A count of one.
    #[must_use]
    pub const fn new() -> Self {
        Self(AtomicU32::new(1))
    }

    /// `AddRef`: the new count (saturates rather than wraps).
    pub fn add_ref(&self) -> u32 {
        let previous = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                Some(count.saturating_add(1))
            })
            .unwrap_or(u32::MAX);
        previous.saturating_add(1)
    }

    /// `Release`: see [`Released`].
    pub fn release(&self) -> Released {
        match self
            .0
            .fetch_update(Ordering::Release, Ordering::Relaxed, |count| {
                count.checked_sub(1)
            }) {
            Err(_) => Released::OverReleased,
            Ok(1) => {
                fence(Ordering::Acquire);
                Released::Last
            }
            Ok(previous) => Released::Alive(previous - 1),
        }
    }

    /// The current count (for the unit tests).
    #[cfg(test)]
    #[must_use]
    pub fn get(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The value COM's `Release` returns for an outcome.
#[must_use]
pub fn release_result(outcome: Released) -> u32 {
    match outcome {
        Released::Alive(count) => count,
        Released::Last | Released::OverReleased => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::{RefCount, Released, release_result};

    #[test]
    fn counts_up_and_down_to_the_last_reference() {
        let count = RefCount::new();
        assert_eq!(count.add_ref(), 2);
        assert_eq!(count.add_ref(), 3);
        assert_eq!(count.release(), Released::Alive(2));
        assert_eq!(count.release(), Released::Alive(1));
        assert_eq!(count.release(), Released::Last);
        assert_eq!(count.get(), 0);
    }

    #[test]
    fn an_over_release_is_caught_and_changes_nothing() {
        let count = RefCount::new();
        assert_eq!(count.release(), Released::Last);
        assert_eq!(count.release(), Released::OverReleased);
        assert_eq!(count.get(), 0);
        assert_eq!(release_result(Released::OverReleased), 0);
        assert_eq!(release_result(Released::Alive(4)), 4);
    }
}
