//! Presentation time of a stream under the `KSSTATE` rules (dmusicks.h,
//! `DMUS_KERNEL_EVENT` remarks): presentation time does not advance in
//! `KSSTATE_PAUSE` and `KSSTATE_STOP`, and is reset in `KSSTATE_STOP`. The
//! master clock (the argument `master_now`, 100 ns units) never pauses.

use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};

use super::Timeline;

/// Maps master-clock time to the stream's presentation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PresentationClock {
    /// Presentation time accumulated before the current run.
    base: i64,
    /// Master time at which the current run began; `None` outside RUN.
    run_start: Option<i64>,
}

impl Default for PresentationClock {
    fn default() -> Self {
        Self::new()
    }
}

impl PresentationClock {
    /// A stopped clock at presentation time 0.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            base: 0,
            run_start: None,
        }
    }

    /// Presentation time at master time `master_now`. A master time before
    /// the run began counts as the start of the run.
    #[must_use]
    pub fn now(&self, master_now: i64) -> i64 {
        match self.run_start {
            Some(start) => self
                .base
                .saturating_add(master_now.saturating_sub(start).max(0)),
            None => self.base,
        }
    }

    /// Applies a state change at `master_now`.
    pub fn set_state(&mut self, state: KSSTATE, master_now: i64) {
        match state {
            KSSTATE_RUN => {
                if self.run_start.is_none() {
                    self.run_start = Some(master_now);
                }
            }
            KSSTATE_STOP => *self = Self::new(),
            // PAUSE and ACQUIRE freeze presentation time where it is.
            _ => {
                self.base = self.now(master_now);
                self.run_start = None;
            }
        }
    }

    /// The master time at which presentation time reaches `presentation`, or
    /// `None` when the clock is not running (it would never get there).
    #[must_use]
    pub fn master_time_of(&self, presentation: i64) -> Option<i64> {
        let start = self.run_start?;
        Some(start.saturating_add(presentation.saturating_sub(self.base).max(0)))
    }
}

impl Timeline for PresentationClock {
    /// Presentation time stands still outside RUN, so held events never move.
    fn set_state(&mut self, state: KSSTATE, master_now: i64) -> i64 {
        Self::set_state(self, state, master_now);
        0
    }

    fn now(&self, master_now: i64) -> i64 {
        Self::now(self, master_now)
    }

    fn master_time_of(&self, event_time: i64) -> Option<i64> {
        Self::master_time_of(self, event_time)
    }
}
