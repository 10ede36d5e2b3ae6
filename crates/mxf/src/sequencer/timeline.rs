//! How a [`super::Sequencer`] reads its events' times against the master
//! clock, and the timeline of a miniport's render stream.
//!
//! Two readers of the same `KSSTATE` rules: the port's sequencer keeps a
//! [`super::PresentationClock`] (event times are presentation times, 0 at the
//! first RUN after STOP); a miniport gets events whose `ullPresTime100ns` the
//! port has already turned into master-clock time with the offset of the
//! current run (dmusicks.h: "the master clock should be used to evaluate this
//! presentation time"), and keeps the one rule the port cannot apply to
//! events it has already handed over (prefetched events): presentation time
//! does not advance in PAUSE or ACQUIRE, so when a paused stream runs again,
//! every held event moves later by the length of the pause
//! ([`MasterTimeline`]).

use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};

/// Maps a stream's event times to the master clock (100 ns units both).
pub trait Timeline {
    /// Applies a state change at master time `master_now`, and returns how
    /// far (100 ns, never negative) every held event moves later.
    fn set_state(&mut self, state: KSSTATE, master_now: i64) -> i64;

    /// The event time due at master time `master_now`.
    fn now(&self, master_now: i64) -> i64;

    /// The master time at which an event of time `event_time` falls due, or
    /// `None` when the timeline is not running.
    fn master_time_of(&self, event_time: i64) -> Option<i64>;
}

/// Event times that already are master-clock times (a miniport's render
/// stream): due when the master clock reaches them; a pause moves every event
/// held at the next RUN later by the pause's length (from leaving RUN to
/// running again); STOP forgets the pause.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MasterTimeline {
    running: bool,
    /// The master time the stream left RUN, while it is paused.
    paused_at: Option<i64>,
}

impl MasterTimeline {
    /// A stopped timeline with no pause.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            running: false,
            paused_at: None,
        }
    }
}

impl Timeline for MasterTimeline {
    fn set_state(&mut self, state: KSSTATE, master_now: i64) -> i64 {
        let was_running = self.running;
        self.running = state == KSSTATE_RUN;
        match state {
            KSSTATE_STOP => {
                self.paused_at = None;
                0
            }
            KSSTATE_RUN => self
                .paused_at
                .take()
                .map_or(0, |paused_at| master_now.saturating_sub(paused_at).max(0)),
            // PAUSE and ACQUIRE: the pause starts when RUN is left.
            _ => {
                if was_running {
                    self.paused_at = Some(master_now);
                }
                0
            }
        }
    }

    fn now(&self, master_now: i64) -> i64 {
        master_now
    }

    fn master_time_of(&self, event_time: i64) -> Option<i64> {
        self.running.then_some(event_time)
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};

    use super::{MasterTimeline, Timeline};

    #[test]
    fn a_pause_is_measured_from_leaving_run_to_running_again() {
        let mut timeline = MasterTimeline::new();
        assert_eq!(timeline.set_state(KSSTATE_ACQUIRE, 0), 0);
        assert_eq!(timeline.set_state(KSSTATE_PAUSE, 0), 0);
        assert_eq!(timeline.master_time_of(5), None, "not running");
        assert_eq!(timeline.set_state(KSSTATE_RUN, 100), 0, "no pause yet");
        assert_eq!(timeline.master_time_of(5), Some(5));
        assert_eq!(timeline.now(700), 700);
        assert_eq!(timeline.set_state(KSSTATE_PAUSE, 400), 0);
        assert_eq!(timeline.set_state(KSSTATE_ACQUIRE, 450), 0);
        assert_eq!(timeline.set_state(KSSTATE_PAUSE, 500), 0);
        assert_eq!(timeline.set_state(KSSTATE_RUN, 10_400), 10_000);
        assert_eq!(timeline.set_state(KSSTATE_PAUSE, 20_000), 0);
        assert_eq!(timeline.set_state(KSSTATE_STOP, 20_500), 0);
        assert_eq!(timeline.set_state(KSSTATE_RUN, 30_000), 0, "STOP forgot it");
    }
}
