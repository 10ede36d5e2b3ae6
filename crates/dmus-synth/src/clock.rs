//! The synth's sample clock: which master-clock time each output sample plays at.
//!
//! The wave sink (in the `DMus` port) owns the audio device's clock; the master clock is the
//! system's. The two run from different crystals, so the port calls
//! `ISynthSinkDMus::SyncToMaster` now and then: with `fStart` once after the sink enters RUN
//! (sample 0 plays at that master time), and without it later, passing the sink's own notion
//! of the time (its sample position as a reference time), which the clock compares with the
//! master time to learn the drift. Events carry master times; [`SampleClock::ref_to_sample`]
//! turns them into the sample they start at.
//!
//! Integer arithmetic only (no floating point in the driver): times are 100 ns ticks,
//! products go through `i128`.

/// 100 ns ticks per second.
pub const TICKS_PER_SECOND: i64 = 10_000_000;

/// A phase error larger than this (100 ns; 10 ms) is taken at once instead of slewed.
pub const JUMP_THRESHOLD: i64 = 100_000;

/// How much of the measured phase error each sync corrects (1/`SLEW_DIVISOR`).
pub const SLEW_DIVISOR: i64 = 4;

/// Maps sample positions to master-clock times and back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SampleClock {
    rate: u32,
    /// Master time of sample 0.
    start: i64,
    /// Correction learned from syncs: master time minus the sink's time, smoothed.
    offset: i64,
    started: bool,
}

impl SampleClock {
    /// A clock at `rate` Hz (at least 1), not started: sample 0 at master time 0.
    #[must_use]
    pub const fn new(rate: u32) -> Self {
        Self {
            rate: if rate == 0 { 1 } else { rate },
            start: 0,
            offset: 0,
            started: false,
        }
    }

    /// The sample rate in Hz.
    #[must_use]
    pub const fn rate(&self) -> u32 {
        self.rate
    }

    /// Whether `SyncToMaster(.., TRUE)` has started the clock.
    #[must_use]
    pub const fn is_started(&self) -> bool {
        self.started
    }

    /// The correction learned so far (100 ns).
    #[must_use]
    pub const fn offset(&self) -> i64 {
        self.offset
    }

    /// `SyncToMaster(rt, TRUE)`: sample 0 plays at master time `master`.
    pub fn start(&mut self, master: i64) {
        self.start = master;
        self.offset = 0;
        self.started = true;
    }

    /// `SyncToMaster(rt, FALSE)`: the sink's clock reads `sink_time` (the master time of
    /// its current position had it never drifted) while the master clock reads
    /// `master_now`. Slews the correction a quarter of the way towards the measured
    /// difference (jitter in either reading averages out); a jump larger than
    /// [`JUMP_THRESHOLD`] (a glitch, a lost buffer) is taken whole.
    pub fn sync(&mut self, sink_time: i64, master_now: i64) {
        if !self.started {
            return;
        }
        let measured = master_now.saturating_sub(sink_time);
        let error = measured.saturating_sub(self.offset);
        if error.unsigned_abs() > JUMP_THRESHOLD.unsigned_abs() {
            self.offset = measured;
        } else {
            self.offset = self.offset.saturating_add(error / SLEW_DIVISOR);
        }
    }

    /// The master time at which `sample` plays: the first 100 ns tick at or after its start,
    /// so that [`SampleClock::ref_to_sample`] of it is `sample` again.
    #[must_use]
    pub fn sample_to_ref(&self, sample: i64) -> i64 {
        let scaled = i128::from(sample) * i128::from(TICKS_PER_SECOND);
        let ticks = -(-scaled).div_euclid(i128::from(self.rate));
        saturate(i128::from(self.start) + i128::from(self.offset) + ticks)
    }

    /// The sample playing at master time `time` (the last one starting at or before it).
    #[must_use]
    pub fn ref_to_sample(&self, time: i64) -> i64 {
        let since = i128::from(time) - i128::from(self.start) - i128::from(self.offset);
        saturate((since * i128::from(self.rate)).div_euclid(i128::from(TICKS_PER_SECOND)))
    }
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use super::{JUMP_THRESHOLD, SampleClock};

    #[test]
    fn samples_map_to_master_time_at_the_rate() {
        let mut clock = SampleClock::new(48_000);
        clock.start(1_000_000);
        assert_eq!(clock.sample_to_ref(0), 1_000_000);
        assert_eq!(clock.sample_to_ref(48_000), 11_000_000);
        assert_eq!(clock.ref_to_sample(11_000_000), 48_000);
        // 1 ms after the start is sample 48; a tick before it is still sample 47.
        assert_eq!(clock.ref_to_sample(1_010_000), 48);
        assert_eq!(clock.ref_to_sample(1_009_999), 47);
        assert_eq!(
            clock.ref_to_sample(999_999),
            -1,
            "before the start is negative"
        );
        let odd = SampleClock::new(22_050);
        for sample in [1, 2, 441, 22_049, 1_000_003] {
            let time = odd.sample_to_ref(sample);
            assert_eq!(odd.ref_to_sample(time), sample, "{sample}");
            assert_eq!(
                odd.ref_to_sample(time - 1),
                sample - 1,
                "{sample}: the tick before"
            );
        }
    }

    #[test]
    fn syncs_follow_a_drifting_sink() {
        let mut clock = SampleClock::new(48_000);
        clock.start(0);
        // The sink runs 1% fast: after 1 s of master time it believes 1.01 s passed.
        for step in 1..=200_i64 {
            let master = step * 50_000;
            clock.sync(master + master / 100, master);
        }
        let master = 200 * 50_000;
        assert!(
            (clock.offset() + master / 100).abs() < 2_000,
            "{}",
            clock.offset()
        );
        // A glitch larger than the threshold is taken at once.
        clock.sync(0, JUMP_THRESHOLD * 3);
        assert_eq!(clock.offset(), JUMP_THRESHOLD * 3);
        // A clock that was never started ignores syncs.
        let mut idle = SampleClock::new(48_000);
        idle.sync(0, 5_000);
        assert_eq!(idle.offset(), 0);
        assert_eq!(SampleClock::new(0).rate(), 1);
    }

    proptest::proptest! {
        #[test]
        fn times_and_samples_round_trip(
            rate in 22_050u32..=48_000,
            start in -1_000_000_000i64..1_000_000_000,
            sample in 0i64..1_000_000_000,
        ) {
            let mut clock = SampleClock::new(rate);
            clock.start(start);
            let time = clock.sample_to_ref(sample);
            proptest::prop_assert_eq!(clock.ref_to_sample(time), sample);
            proptest::prop_assert!(clock.sample_to_ref(sample + 1) > time);
        }
    }
}
