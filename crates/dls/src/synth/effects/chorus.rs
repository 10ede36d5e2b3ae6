//! A stereo chorus: one delay line read at two taps whose delays a triangle LFO sweeps, the
//! right tap a quarter period behind the left — the modulated-delay chorus of J. Dattorro,
//! "Effect Design, Part 2: Delay-Line Modulation and Chorus" (J. Audio Eng. Soc. 45(10), 1997),
//! with linear interpolation between samples and no feedback. The two taps drift apart in
//! time and pitch, which is what widens a centred source.
//!
//! Settings: a 12 ms centre delay swept ±3 ms at 0.5 Hz (a pitch swing of ±0.6 %, about 10
//! cents), each tap at 0.7 of the send. Integer only: the delay is Q16 samples, the LFO a
//! 32-bit phase.
//!
//! Speed: a block is written into a power-of-two line, then the taps read behind it with
//! masked positions (no wrap test, no bounds check); the LFO is evaluated once per block and
//! the delays move linearly across it; silence in, once the line holds only zeros, costs
//! nothing but moving the LFO on.

use super::try_zeroed;
use crate::synth::engine::{AllocError, MIX_FRAMES};
use alloc::vec::Vec;

/// Centre delay, microseconds.
const CENTRE_US: u64 = 12_000;
/// Sweep either side of the centre, microseconds.
const DEPTH_US: u64 = 3_000;
/// LFO frequency, millihertz.
const RATE_MHZ: u64 = 500;
/// Level of each tap, Q15 (0.7).
const WET_Q15: i64 = 22_938;
/// The delay line's length: a power of two, so that a position wraps with a mask and its
/// slot needs no bounds check. It holds the longest delay at 48 kHz (720 samples and one
/// for the interpolation) behind a whole block written ahead of the taps.
const LINE: usize = 1024;
const MASK: usize = LINE - 1;
/// The longest delay the line allows, Q16 samples (see [`LINE`]).
#[allow(clippy::cast_possible_wrap, reason = "a small constant")]
const ROOM_Q16: i64 = ((LINE - MIX_FRAMES - 2) as i64) << 16;

/// The chorus's state.
#[derive(Debug, Clone)]
pub struct Chorus {
    /// [`LINE`] samples of the input, the newest at `write - 1`.
    line: Vec<i32>,
    write: usize,
    /// Centre delay and depth, Q16 samples.
    centre_q16: i64,
    depth_q16: i64,
    phase: u32,
    phase_step: u32,
    /// Frames since the last block with sound in (saturating): from [`LINE`] on, the line
    /// holds only zeros and the chorus adds nothing.
    quiet_frames: usize,
}

/// A triangle of the phase, Q15: -32768 at phase 0, +32768 at half a turn.
fn triangle_q15(phase: u32) -> i64 {
    let t = i64::from(phase >> 15); // 0..131072
    if t < 65_536 { t - 32_768 } else { 98_304 - t }
}

impl Chorus {
    /// A silent chorus set to run at `rate` Hz.
    ///
    /// # Errors
    /// [`AllocError`] when the line cannot be allocated.
    pub fn try_new(rate: u32) -> Result<Self, AllocError> {
        let mut chorus = Self {
            line: try_zeroed(LINE)?,
            write: 0,
            centre_q16: 0,
            depth_q16: 0,
            phase: 0,
            phase_step: 0,
            quiet_frames: LINE,
        };
        chorus.set_rate(rate);
        Ok(chorus)
    }

    /// Silences the chorus and sets its delays and LFO for `rate` Hz (the delays capped at
    /// what the line holds: above 48 kHz they shorten).
    pub fn set_rate(&mut self, rate: u32) {
        let rate64 = u64::from(rate.max(1));
        self.line.fill(0);
        self.write = 0;
        let q16 = |us: u64| i64::try_from(((us * rate64) << 16) / 1_000_000).unwrap_or(0);
        self.depth_q16 = q16(DEPTH_US).min(ROOM_Q16 / 2);
        self.centre_q16 = q16(CENTRE_US).min(ROOM_Q16 - self.depth_q16);
        self.phase = 0;
        self.phase_step = u32::try_from((RATE_MHZ << 32) / (1000 * rate64)).unwrap_or(0);
        self.quiet_frames = LINE;
    }

    /// Whether the chorus is idle: nothing has come in for the line's length.
    #[must_use]
    pub fn is_silent(&self) -> bool {
        self.quiet_frames >= LINE
    }

    /// The delay of the tap at `phase`, Q16 samples.
    fn delay_q16(&self, phase: u32) -> i64 {
        self.centre_q16 + ((self.depth_q16 * triangle_q15(phase)) >> 15)
    }

    /// Adds the chorus of `input` (mono, 16-bit scale) into `left` and `right`, over the
    /// frames all three hold.
    pub fn process(&mut self, input: &[i32], left: &mut [i32], right: &mut [i32]) {
        let frames = input.len().min(left.len()).min(right.len());
        for ((input, left), right) in input[..frames]
            .chunks(MIX_FRAMES)
            .zip(left[..frames].chunks_mut(MIX_FRAMES))
            .zip(right[..frames].chunks_mut(MIX_FRAMES))
        {
            self.process_block(input, left, right);
        }
    }

    /// [`Self::process`] for at most [`MIX_FRAMES`] frames: the block is written into the
    /// line first, then both taps read behind it. The LFO is taken block-wise: each tap's
    /// delay moves in a straight line from its value at the block's start to its value at
    /// the next block's start (the triangle is itself straight but where it turns, twice a
    /// period, and there the two differ by under a sample). Silence in while the line holds
    /// only zeros adds zeros: the block is skipped, the LFO moved on.
    fn process_block(&mut self, input: &[i32], left: &mut [i32], right: &mut [i32]) {
        let frames = input.len().min(MIX_FRAMES);
        let input = &input[..frames];
        let block_step = self
            .phase_step
            .wrapping_mul(u32::try_from(frames).unwrap_or(0));
        if input.iter().fold(0, |any, &x| any | x) == 0 {
            if self.quiet_frames >= LINE {
                self.phase = self.phase.wrapping_add(block_step);
                self.write = (self.write + frames) & MASK;
                return;
            }
            self.quiet_frames += frames;
        } else {
            self.quiet_frames = 0;
        }
        let quarter = 1u32 << 30;
        let start = (
            self.delay_q16(self.phase),
            self.delay_q16(self.phase.wrapping_add(quarter)),
        );
        let next = self.phase.wrapping_add(block_step);
        let end = (
            self.delay_q16(next),
            self.delay_q16(next.wrapping_add(quarter)),
        );
        let count = i64::try_from(frames.max(1)).unwrap_or(1);
        let slope = ((end.0 - start.0) / count, (end.1 - start.1) / count);
        let Ok(line) = <&mut [i32; LINE]>::try_from(self.line.as_mut_slice()) else {
            return;
        };
        for (n, &x) in input.iter().enumerate() {
            line[(self.write + n) & MASK] = x;
        }
        // Read positions, Q16: the write position of a frame less its delay. A whole line
        // ahead so that they stay positive; the mask takes it off again.
        let origin = i64::try_from(self.write + LINE).unwrap_or(0) << 16;
        let tap = |position_q16: i64| {
            let whole = usize::try_from(position_q16 >> 16).unwrap_or(0);
            let fraction = position_q16 & 0xffff;
            let a = i64::from(line[whole & MASK]);
            let b = i64::from(line[(whole + 1) & MASK]);
            let value = a + (((b - a) * fraction) >> 16);
            i32::try_from((value * WET_Q15) >> 15).unwrap_or(0)
        };
        let (mut delay_left, mut delay_right) = start;
        for (n, (l, r)) in left
            .iter_mut()
            .zip(right.iter_mut())
            .take(frames)
            .enumerate()
        {
            let now = origin + (i64::try_from(n).unwrap_or(0) << 16);
            *l = l.saturating_add(tap(now - delay_left));
            *r = r.saturating_add(tap(now - delay_right));
            delay_left += slope.0;
            delay_right += slope.1;
        }
        self.write = (self.write + frames) & MASK;
        self.phase = next;
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
        let mut chorus = Chorus::try_new(48_000).expect("chorus");
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
    fn a_high_rate_caps_the_delays_at_the_line() {
        let mut chorus = Chorus::try_new(48_000).expect("chorus");
        chorus.set_rate(192_000);
        assert!(chorus.centre_q16 + chorus.depth_q16 <= ROOM_Q16);
        let (mut l, mut r) = ([0i32; 2048], [0i32; 2048]);
        chorus.process(&[1000; 2048], &mut l, &mut r);
        assert!(l[1500..].iter().all(|&s| s == 700), "0.7 of a constant");
    }
}
