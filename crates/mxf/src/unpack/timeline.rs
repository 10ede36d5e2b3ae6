//! The time line of one render stream: time never goes backwards across IRPs.
//!
//! The seed's worked example (ksmedia.h, `KSMUSICFORMAT` remarks): IRP #1 at
//! 123 ms plays its messages at 123, 124 and 131 ms; IRP #2 comes with a
//! presentation time of 120 ms and deltas 5 and 15. Its first message would
//! be due at 125 ms but plays at 131 ms, because IRP #1 is serviced to its
//! end first; its second plays at 140 ms.
//!
//! The decision, pinned by `tests/time_rules.rs`: deltas accumulate on the
//! *nominal* time line of the IRP (120 → 125 → 140 ms), untouched by the clamp;
//! the clamp only decides when each message *plays*:
//! `played = max(nominal, last played)`. So message #2 plays at
//! 140 = 125 + 15 (the seed's arithmetic), not at 131 + 15 = 146. A clamped
//! message keeps the order it arrived in (it plays right after the one that
//! held it up).

/// Bounds on what a buffer may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest delta one record may carry, in 100 ns units. Anything
    /// larger is treated as a corrupt buffer, not as a long wait.
    pub max_delta_100ns: i64,
}

impl Limits {
    /// One hour: far longer than any real gap between two MIDI messages in
    /// one buffer, far shorter than the 49 days a `ULONG` of milliseconds
    /// could ask for.
    pub const DEFAULT: Self = Self {
        max_delta_100ns: 36_000_000_000,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The latest time a stream has played, which later messages cannot precede.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timeline {
    floor: Option<i64>,
}

impl Timeline {
    /// A time line with no message yet.
    #[must_use]
    pub const fn new() -> Self {
        Self { floor: None }
    }

    /// When a message nominally due at `nominal` plays: never before the
    /// previous one. Records it as the new floor.
    pub fn place(&mut self, nominal: i64) -> i64 {
        let played = self.floor.map_or(nominal, |floor| nominal.max(floor));
        self.floor = Some(played);
        played
    }

    /// The time of the last message placed.
    #[must_use]
    pub const fn floor(&self) -> Option<i64> {
        self.floor
    }

    /// Forgets the floor (the stream was stopped and its time reset).
    pub fn reset(&mut self) {
        self.floor = None;
    }
}
