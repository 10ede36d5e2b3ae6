//! A stereo chorus: one delay line read at two taps whose delays a triangle LFO sweeps, the
//! right tap a quarter period behind the left — the modulated-delay chorus of J. Dattorro,
//! "Effect Design, Part 2: Delay-Line Modulation and Chorus" (J. Audio Eng. Soc. 45(10), 1997),
//! with linear interpolation between samples and no feedback. The two taps drift apart in
//! time and pitch, which is what widens a centred source.
//!
//! Settings: a 12 ms centre delay swept ±3 ms at 0.5 Hz (a pitch swing of ±0.6 %, about 10
//! cents), each tap at 0.7 of the send. Integer only: the delay is Q16 samples, the LFO a
//! 32-bit phase.

use super::DelayLine;
use crate::synth::engine::AllocError;

/// Centre delay, microseconds.
const CENTRE_US: u64 = 12_000;
/// Sweep either side of the centre, microseconds.
const DEPTH_US: u64 = 3_000;
/// LFO frequency, millihertz.
const RATE_MHZ: u64 = 500;
/// Level of each tap, Q15 (0.7).
const WET_Q15: i64 = 22_938;

/// The chorus's state.
#[derive(Debug, Clone)]
pub struct Chorus {
    line: DelayLine,
    /// Centre delay and depth, Q16 samples.
    centre_q16: i64,
    depth_q16: i64,
    phase: u32,
    phase_step: u32,
}

/// A triangle of the phase, Q15: -32768 at phase 0, +32768 at half a turn.
fn triangle_q15(phase: u32) -> i64 {
    let t = i64::from(phase >> 15); // 0..131072
    if t < 65_536 { t - 32_768 } else { 98_304 - t }
}

impl Chorus {
    /// A silent chorus whose line holds enough for `max_rate` Hz, set to run at `rate`.
    ///
    /// # Errors
    /// [`AllocError`] when the line cannot be allocated.
    pub fn try_new(max_rate: u32, rate: u32) -> Result<Self, AllocError> {
        let samples = |rate: u32| {
            usize::try_from((CENTRE_US + DEPTH_US) * u64::from(rate) / 1_000_000).unwrap_or(0) + 2
        };
        let mut chorus = Self {
            line: DelayLine::try_new(samples(max_rate.max(rate)))?,
            centre_q16: 0,
            depth_q16: 0,
            phase: 0,
            phase_step: 0,
        };
        chorus.set_rate(rate);
        Ok(chorus)
    }

    /// Silences the chorus and sets its delays and LFO for `rate` Hz (the delays capped at
    /// what the line holds).
    pub fn set_rate(&mut self, rate: u32) {
        let rate64 = u64::from(rate.max(1));
        self.line.reset(usize::MAX);
        let q16 = |us: u64| i64::try_from(((us * rate64) << 16) / 1_000_000).unwrap_or(0);
        let room = i64::try_from(self.line.len().saturating_sub(2)).unwrap_or(0) << 16;
        self.depth_q16 = q16(DEPTH_US).min(room / 2);
        self.centre_q16 = q16(CENTRE_US).min(room - self.depth_q16);
        self.phase = 0;
        self.phase_step = u32::try_from((RATE_MHZ << 32) / (1000 * rate64)).unwrap_or(0);
    }

    /// The tap at `delay_q16` samples, linearly interpolated.
    fn tap(&self, delay_q16: i64) -> i64 {
        let whole = usize::try_from(delay_q16 >> 16).unwrap_or(0);
        let fraction = delay_q16 & 0xffff;
        let a = i64::from(self.line.tap(whole.max(1)));
        let b = i64::from(self.line.tap(whole + 1));
        a + (((b - a) * fraction) >> 16)
    }

    /// Adds the chorus of `input` (mono, 16-bit scale) into `left` and `right`.
    pub fn process(&mut self, input: &[i32], left: &mut [i32], right: &mut [i32]) {
        for ((&x, l), r) in input.iter().zip(left.iter_mut()).zip(right.iter_mut()) {
            self.line.write_advance(x);
            let sweep = |phase: u32| (self.depth_q16 * triangle_q15(phase)) >> 15;
            let left_delay = self.centre_q16 + sweep(self.phase);
            let right_delay = self.centre_q16 + sweep(self.phase.wrapping_add(1 << 30));
            let wet = |v: i64| i32::try_from((v * WET_Q15) >> 15).unwrap_or(0);
            *l = l.saturating_add(wet(self.tap(left_delay)));
            *r = r.saturating_add(wet(self.tap(right_delay)));
            self.phase = self.phase.wrapping_add(self.phase_step);
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    #[test]
    fn the_triangle_spans_its_range() {
        assert_eq!(triangle_q15(0), -32_768);
        assert_eq!(triangle_q15(1 << 31), 32_768);
        assert_eq!(triangle_q15(1 << 30), 0);
        assert_eq!(triangle_q15(3 << 30), 0);
    }

    #[test]
    fn a_tone_comes_back_delayed_by_the_centre_and_the_sides_differ() {
        let mut chorus = Chorus::try_new(48_000, 48_000).expect("chorus");
        assert_eq!(chorus.centre_q16 >> 16, 576, "12 ms at 48 kHz");
        assert_eq!(chorus.depth_q16 >> 16, 144, "3 ms");
        // A 436 Hz triangle (110 samples a period), ±10,000, for a second.
        let input: std::vec::Vec<i32> = (0..48_000)
            .map(|n| {
                let t = n % 110;
                if t < 55 {
                    t * 20_000 / 55 - 10_000
                } else {
                    10_000 - (t - 55) * 20_000 / 55
                }
            })
            .collect();
        let (mut l, mut r) = (std::vec![0i32; 48_000], std::vec![0i32; 48_000]);
        for ((i, l), r) in input
            .chunks(256)
            .zip(l.chunks_mut(256))
            .zip(r.chunks_mut(256))
        {
            chorus.process(i, l, r);
        }
        // Silent until the shortest delay (9 ms) has passed.
        assert!(l[..432].iter().all(|&s| s == 0));
        let peak = l[2000..].iter().map(|s| s.abs()).max().unwrap_or(0);
        assert!((6_500..=7_100).contains(&peak), "0.7 of the input: {peak}");
        assert_ne!(l[2000..], r[2000..], "the taps differ");
    }

    #[test]
    fn a_short_line_caps_the_delays() {
        let mut chorus = Chorus::try_new(22_050, 22_050).expect("chorus");
        chorus.set_rate(48_000);
        let (mut l, mut r) = ([0i32; 512], [0i32; 512]);
        chorus.process(&[1000; 512], &mut l, &mut r);
        assert!(
            chorus.centre_q16 + chorus.depth_q16
                <= (i64::try_from(chorus.line.len()).unwrap() - 2) << 16
        );
    }
}
