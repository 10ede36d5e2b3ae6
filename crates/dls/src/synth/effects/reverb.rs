//! A stereo reverb after Jezar's Freeverb (Jezar at Dreampoint, 2000, released to the public
//! domain): per side, eight parallel low-pass-feedback comb filters into four series
//! Schroeder allpasses, the right side's delays 23 samples longer than the left's so that
//! the two decorrelate. The design's published figures are used as they stand: the delay
//! lengths at 44.1 kHz (scaled to the output rate), the input gain 0.015, the room size 0.5
//! (comb feedback 0.5 · 0.28 + 0.7 = 0.84), the damping 0.5 (0.5 · 0.4 = 0.2 of the comb's
//! low-pass) and the allpass feedback 0.5; wet at full width (each side's own output).
//!
//! Ours is integer: samples are held with [`FRACTION_BITS`] bits below the 16-bit scale,
//! coefficients are Q15, products are taken in `i64`. The delay lines are allocated once, by
//! [`Reverb::try_new`], for the highest rate it will be asked to run at; [`Reverb::process`]
//! allocates nothing and does a fixed amount of work per frame, or none while it is idle.
//!
//! Speed: the work is done a block at a time. A comb's delay (1214 samples and more at
//! 48 kHz) is longer than a block, so a block's delayed samples are all known before it
//! starts: they are copied out in at most two plain slices, the comb's one recursion
//! (`feedback = 0.672 · delayed + 0.2 · feedback`, Freeverb's low-pass and feedback folded
//! into one step) runs for four combs side by side, and the results go back. The allpasses
//! have no recursion within a segment of their line and run as vectorised loops. Once the
//! input has been silent long enough for the tail to die away, the reverb clears the
//! rounding residue and skips its work until sound comes in again.

use super::{DelayLine, try_zeroed};
use crate::synth::engine::{AllocError, MIX_FRAMES};
use alloc::vec::Vec;

/// Comb delays of the left side at 44.1 kHz (Freeverb's tuning).
const COMB_TUNING: [usize; COMBS] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
/// Allpass delays of the left side at 44.1 kHz.
const ALLPASS_TUNING: [usize; 4] = [556, 441, 341, 225];
/// Combs a side.
const COMBS: usize = 8;
/// Room for a block in a comb's lane: a block and 64 bytes, so that the lanes do not lie
/// 4 KB apart, where a processor takes a store to one lane and a load from another for the
/// same address and waits (4K aliasing).
const LANE: usize = MIX_FRAMES + 16;
/// Extra delay of every right-side filter, samples at 44.1 kHz.
const STEREO_SPREAD: usize = 23;
/// The rate the tunings are given at.
const TUNING_RATE: usize = 44_100;
/// Bits of precision kept below the 16-bit scale inside the filters.
pub const FRACTION_BITS: u32 = 8;
/// Input gain, Q15 (Freeverb's `fixedgain` 0.015).
const INPUT_GAIN_Q15: i32 = 492;
/// The largest input (16-bit scale) taken as it is; beyond, it is clipped. 128 full-scale
/// voices at full send: never reached by music, and it bounds every value in the filters
/// (see [`Reverb::process`]).
const INPUT_LIMIT: i32 = 1 << 22;
/// Comb feedback, Q15: room size 0.5 → 0.5 · 0.28 + 0.7 = 0.84.
const FEEDBACK_Q15: i64 = 27_525;
/// Comb damping, Q15: 0.5 · 0.4 = 0.2 of the previous low-pass output is kept.
const DAMP_Q15: i64 = 6_554;
/// What a comb feeds back of the sample it delayed, Q15: the feedback times the low-pass's
/// share of its input, 0.84 · (1 - 0.2) = 0.672.
const DELAYED_TO_FEEDBACK_Q15: i64 = FEEDBACK_Q15 * (32_768 - DAMP_Q15) / 32_768;
/// The combs' summed output is held within ±2^24 before the allpasses (see [`allpass`]):
/// 64 times full scale at the output, where the mix has long been clipped.
const WET_LIMIT: i32 = 1 << 24;
/// What a decayed filter may hold and still count as silent: half the output's least step
/// (the output drops [`FRACTION_BITS`] bits, rounded).
const RESIDUE: i32 = 1 << (FRACTION_BITS - 1);
/// Silent input for this long (quarter seconds at the running rate) between two looks at
/// whether the tail has died away.
const SILENCE_CHECK_DIVISOR: u32 = 4;

/// A delay of `tuning` samples at 44.1 kHz, at `rate` Hz (at least one sample).
fn scaled(tuning: usize, rate: u32) -> usize {
    let rate = usize::try_from(rate).unwrap_or(TUNING_RATE);
    (tuning * rate / TUNING_RATE).max(1)
}

/// A comb's next feedback from its last one and the sample it delayed (see
/// [`Side::combs_step`]). Rounded toward minus infinity (one shift): a decaying comb then
/// settles on a residue of a few units of the filters' precision, which [`Side::drain`]
/// drops once the tail has died away.
fn next_feedback(feedback: i64, delayed: i64) -> i64 {
    (delayed * DELAYED_TO_FEEDBACK_Q15 + feedback * DAMP_Q15) >> 15
}

/// One side: eight low-pass-feedback combs in parallel into four allpasses in series.
#[derive(Debug, Clone)]
struct Side {
    combs: [DelayLine; COMBS],
    /// Each comb's feedback: its low-pass state times the feedback.
    feedback: [i64; COMBS],
    allpasses: [DelayLine; 4],
}

impl Side {
    fn try_new(side: usize, max_rate: u32) -> Result<Self, AllocError> {
        let comb =
            |n: usize| DelayLine::try_new(scaled(COMB_TUNING[n] + side * STEREO_SPREAD, max_rate));
        let allpass = |n: usize| {
            DelayLine::try_new(scaled(ALLPASS_TUNING[n] + side * STEREO_SPREAD, max_rate))
        };
        Ok(Self {
            combs: [
                comb(0)?,
                comb(1)?,
                comb(2)?,
                comb(3)?,
                comb(4)?,
                comb(5)?,
                comb(6)?,
                comb(7)?,
            ],
            feedback: [0; COMBS],
            allpasses: [allpass(0)?, allpass(1)?, allpass(2)?, allpass(3)?],
        })
    }

    fn set_rate(&mut self, side: usize, rate: u32) {
        for (line, tuning) in self.combs.iter_mut().zip(COMB_TUNING) {
            line.reset(scaled(tuning + side * STEREO_SPREAD, rate));
        }
        self.feedback = [0; COMBS];
        for (line, tuning) in self.allpasses.iter_mut().zip(ALLPASS_TUNING) {
            line.reset(scaled(tuning + side * STEREO_SPREAD, rate));
        }
    }

    /// The most frames the combs take in one step: no comb may read a sample written in the
    /// same step.
    fn comb_step(&self) -> usize {
        self.combs
            .iter()
            .map(DelayLine::len)
            .min()
            .unwrap_or(1)
            .min(MIX_FRAMES)
    }

    /// Whether the tail has died away: every value the side holds is within
    /// [`RESIDUE`] (half the output's least step), where the rounding of a decaying loop
    /// leaves it. Then it clears them all: the side holds zeros, which silence keeps, so that
    /// processing silence can be skipped.
    fn drain(&mut self) -> bool {
        let residue = RESIDUE.unsigned_abs();
        let drained = self
            .feedback
            .iter()
            .all(|&f| f.unsigned_abs() <= u64::from(residue))
            && self
                .combs
                .iter()
                .chain(&self.allpasses)
                .all(|line| line.peak() <= residue);
        if drained {
            self.feedback = [0; COMBS];
            for line in self.combs.iter_mut().chain(&mut self.allpasses) {
                let length = line.len();
                line.reset(length);
            }
        }
        drained
    }

    /// Adds the side's response to `input` (the reverb's input, scaled to the filters'
    /// precision; at most [`MIX_FRAMES`] frames) into `out` (16-bit scale). `lanes` holds a
    /// comb's block each; `wet` is working storage.
    fn process(
        &mut self,
        input: &[i32],
        lanes: &mut [[i32; LANE]; COMBS],
        wet: &mut [i32; MIX_FRAMES],
        out: &mut [i32],
    ) {
        let step = self.comb_step().max(1);
        let mut done = 0;
        while done < input.len() {
            let frames = step.min(input.len() - done);
            let wet = &mut wet[..frames];
            self.combs_step(
                input.get(done..done + frames).unwrap_or_default(),
                lanes,
                wet,
            );
            for w in wet.iter_mut() {
                *w = (*w).clamp(-WET_LIMIT, WET_LIMIT);
            }
            for line in &mut self.allpasses {
                allpass(line, wet);
            }
            let half = 1i32 << (FRACTION_BITS - 1);
            for (y, &w) in out.iter_mut().skip(done).zip(wet.iter()) {
                // Rounded, so that a filter left at a small residue adds nothing.
                *y = y.saturating_add((w + half) >> FRACTION_BITS);
            }
            done += frames;
        }
    }

    /// The eight combs over `input` (no more frames than the shortest comb's delay, so that
    /// every sample a comb reads in the step was written before it): their summed outputs
    /// into `wet`.
    ///
    /// Each comb's block of delayed samples is copied out into its lane (plain copies), the
    /// output summed from the lanes (vectorised passes), then the low-pass and feedback
    /// recursion runs for four combs side by side, one frame at a time — four independent
    /// chains the processor overlaps, where one comb after another would wait on each
    /// multiplication — and writes the lanes back.
    ///
    /// Bounds: `|x| ≤ 2^24` ([`INPUT_LIMIT`] by the input gain and the fraction bits); a
    /// low-pass output lies between its inputs, and a comb feeds back 0.84 of it, so no comb
    /// holds more than `|x| / (1 - 0.84) + 6 < 2^27`, and eight of them sum below `2^30`.
    fn combs_step(&mut self, input: &[i32], lanes: &mut [[i32; LANE]; COMBS], wet: &mut [i32]) {
        let frames = input.len().min(wet.len()).min(MIX_FRAMES);
        for (line, lane) in self.combs.iter_mut().zip(lanes.iter_mut()) {
            let (first, second) = line.next(frames);
            let (lane_first, lane_second) = lane.split_at_mut(first.len());
            lane_first.copy_from_slice(first);
            if let Some(lane_second) = lane_second.get_mut(..second.len()) {
                lane_second.copy_from_slice(second);
            }
        }
        let wet = wet.get_mut(..frames).unwrap_or_default();
        wet.fill(0);
        for lane in lanes.iter() {
            for (w, &delayed) in wet.iter_mut().zip(lane.iter()) {
                *w += delayed;
            }
        }
        // Four combs at a time: four chains to overlap, and few enough values to stay in
        // registers.
        for (lanes, feedback) in lanes
            .chunks_exact_mut(COMBS / 2)
            .zip(self.feedback.chunks_exact_mut(COMBS / 2))
        {
            let (Ok(lanes), Ok(feedback)) = (
                <&mut [[i32; LANE]; COMBS / 2]>::try_from(lanes),
                <&mut [i64; COMBS / 2]>::try_from(feedback),
            ) else {
                continue;
            };
            let mut state = *feedback;
            for (n, &x) in input.iter().enumerate().take(frames) {
                let x = i64::from(x);
                for (lane, f) in lanes.iter_mut().zip(state.iter_mut()) {
                    *f = next_feedback(*f, i64::from(lane[n]));
                    // Within i32 by the bounds above.
                    #[allow(clippy::cast_possible_truncation, reason = "bounded below 2^27")]
                    let fed = (x + *f) as i32;
                    lane[n] = fed;
                }
            }
            *feedback = state;
        }
        for (line, lane) in self.combs.iter_mut().zip(lanes.iter()) {
            let (first, second) = line.next(frames);
            let (lane_first, lane_second) = lane.split_at(first.len());
            first.copy_from_slice(lane_first);
            if let Some(lane_second) = lane_second.get(..second.len()) {
                second.copy_from_slice(lane_second);
            }
            line.advance(frames);
        }
    }
}

/// Schroeder's allpass as Freeverb writes it (feedback 0.5), in place: a slot's old sample
/// out (less the input), the input plus half the old sample in. Segment by segment of the
/// line, each a plain loop without a recursion inside (a slot is read before it is
/// written), which the compiler vectorises.
///
/// Bounds: a line holds at most twice the largest input (`l = x + l/2`) and the output is
/// at most three times it, so four allpasses fed within ±[`WET_LIMIT`] stay below
/// `81 · 2^24 < 2^31` without saturating.
fn allpass(line: &mut DelayLine, samples: &mut [i32]) {
    let mut rest = samples;
    while !rest.is_empty() {
        let (slots, _) = line.next(rest.len());
        let frames = slots.len().max(1);
        let (now, later) = rest.split_at_mut(frames.min(rest.len()));
        for (slot, sample) in slots.iter_mut().zip(now.iter_mut()) {
            let delayed = *slot;
            let x = *sample;
            // Halved toward zero, so that silence empties the line.
            *slot = x + delayed / 2;
            *sample = delayed - x;
        }
        line.advance(frames);
        rest = later;
    }
}

/// The reverb's state: 16 combs and 8 allpasses, and what skipping silence takes.
#[derive(Debug, Clone)]
pub struct Reverb {
    sides: [Side; 2],
    /// One block of each comb of a side (see [`Side::combs_step`]).
    lanes: Vec<[i32; LANE]>,
    /// The combs' summed output, then the allpasses' (one block).
    wet: Vec<i32>,
    /// The input of a block at the filters' precision.
    scaled: Vec<i32>,
    /// Frames of silent input since the last sound in, and when to look at the tail again.
    quiet_frames: u32,
    next_check: u32,
    check_interval: u32,
    /// The tail has died away: while the input stays silent, nothing is processed.
    silent: bool,
}

impl Reverb {
    /// A silent reverb whose delay lines hold enough for `max_rate` Hz, set to run at `rate`
    /// (see [`Self::set_rate`]).
    ///
    /// # Errors
    /// [`AllocError`] when a delay line cannot be allocated (nothing is kept).
    pub fn try_new(max_rate: u32, rate: u32) -> Result<Self, AllocError> {
        let mut lanes = Vec::new();
        lanes.try_reserve_exact(COMBS).map_err(|_| AllocError)?;
        lanes.resize(COMBS, [0; LANE]);
        let mut reverb = Self {
            sides: [Side::try_new(0, max_rate)?, Side::try_new(1, max_rate)?],
            lanes,
            wet: try_zeroed(MIX_FRAMES)?,
            scaled: try_zeroed(MIX_FRAMES)?,
            quiet_frames: 0,
            next_check: 0,
            check_interval: 0,
            silent: true,
        };
        reverb.set_rate(rate);
        Ok(reverb)
    }

    /// Silences the reverb and sets its delays for `rate` Hz (capped at what the lines hold).
    /// Bounded work: clears every line once.
    pub fn set_rate(&mut self, rate: u32) {
        for (side, state) in self.sides.iter_mut().enumerate() {
            state.set_rate(side, rate);
        }
        self.quiet_frames = 0;
        self.check_interval = (rate / SILENCE_CHECK_DIVISOR).max(1);
        self.next_check = self.check_interval;
        self.silent = true;
    }

    /// Whether the reverb is idle: its tail has died away and nothing has come in since.
    #[must_use]
    pub fn is_silent(&self) -> bool {
        self.silent
    }

    /// Adds the reverb of `input` (mono, 16-bit scale, one sample per frame) into `left` and
    /// `right`, over the frames all three hold. Fixed work per frame: 24 filter steps a side;
    /// none at all once the tail of what came in has died away (every value below half the
    /// output's least step, then cleared) and while only silence comes in: zeros stay zeros,
    /// so the output is what processing would give.
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

    /// [`Self::process`] for at most [`MIX_FRAMES`] frames.
    fn process_block(&mut self, input: &[i32], left: &mut [i32], right: &mut [i32]) {
        let Ok(lanes) = <&mut [[i32; LANE]; COMBS]>::try_from(self.lanes.as_mut_slice()) else {
            return;
        };
        let Ok(wet) = <&mut [i32; MIX_FRAMES]>::try_from(self.wet.as_mut_slice()) else {
            return;
        };
        let frames = input.len().min(MIX_FRAMES);
        let scaled = self.scaled.get_mut(..frames).unwrap_or_default();
        let mut any = 0;
        for (s, &x) in scaled.iter_mut().zip(input) {
            any |= x;
            // Below 2^31: |x| ≤ 2^22 and the gain is below 2^9.
            *s = (x.clamp(-INPUT_LIMIT, INPUT_LIMIT) * INPUT_GAIN_Q15) >> (15 - FRACTION_BITS);
        }
        if any == 0 {
            if self.silent {
                return;
            }
            let frames = u32::try_from(frames).unwrap_or(u32::MAX);
            self.quiet_frames = self.quiet_frames.saturating_add(frames);
        } else {
            self.silent = false;
            self.quiet_frames = 0;
            self.next_check = self.check_interval;
        }
        for (side, out) in self.sides.iter_mut().zip([left, right]) {
            side.process(scaled, lanes, wet, out);
        }
        if self.quiet_frames >= self.next_check {
            // A look at the whole state (a few tens of thousands of samples, a plain pass)
            // every quarter second of silence until the tail is gone.
            self.next_check = self.quiet_frames.saturating_add(self.check_interval);
            // Both sides drained (each clears itself only when it is).
            let [left, right] = &mut self.sides;
            self.silent = left.drain() & right.drain();
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    fn energy(samples: &[i32]) -> f64 {
        samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum()
    }

    /// `input` (then silence to `frames`) through a new reverb at `rate` Hz in blocks of
    /// `block` frames.
    fn response(
        reverb: &mut Reverb,
        input: &[i32],
        frames: usize,
        block: usize,
    ) -> (std::vec::Vec<i32>, std::vec::Vec<i32>) {
        let mut padded = input.to_vec();
        padded.resize(frames, 0);
        let (mut l, mut r) = (std::vec![0i32; frames], std::vec![0i32; frames]);
        for ((i, l), r) in padded
            .chunks(block)
            .zip(l.chunks_mut(block))
            .zip(r.chunks_mut(block))
        {
            reverb.process(i, l, r);
        }
        (l, r)
    }

    /// One impulse in, 2 s out in 256-frame blocks.
    fn impulse_response(rate: u32) -> (std::vec::Vec<i32>, std::vec::Vec<i32>) {
        let mut reverb = Reverb::try_new(48_000, rate).expect("reverb");
        response(&mut reverb, &[30_000], 2 * rate as usize, 256)
    }

    #[test]
    fn an_impulse_rings_on_and_decays_with_both_sides_different() {
        let (l, r) = impulse_response(48_000);
        // Nothing before the shortest comb (1116 samples at 44.1 kHz → 1214 at 48 kHz).
        assert!(
            l[..1214].iter().all(|&s| s == 0),
            "silent before the first echo"
        );
        // 0.25 s windows at the start and from 0.75 s.
        let quarter = 12_000;
        let (first, last) = (energy(&l[..quarter]), energy(&l[3 * quarter..4 * quarter]));
        std::println!("reverb impulse: first 0.25 s energy {first:.3e}, from 0.75 s {last:.3e}");
        assert!(first > 0.0 && last > 0.0, "it rings past 0.75 s");
        assert!(last < first / 100.0, "and decays (more than 20 dB)");
        assert_ne!(l, r, "the right side's longer delays decorrelate it");
    }

    #[test]
    fn silence_in_gives_silence_out_after_the_tail_and_the_reverb_goes_idle() {
        for rate in [22_050, 48_000] {
            let mut reverb = Reverb::try_new(48_000, rate).expect("reverb");
            assert!(reverb.is_silent(), "silent when made");
            let loud: std::vec::Vec<i32> =
                (0..4_800).map(|n| (n * 7_919 % 40_000) - 20_000).collect();
            let frames = 6 * rate as usize;
            let (l, r) = response(&mut reverb, &loud, frames, 256);
            assert!(reverb.is_silent(), "{rate} Hz: idle within 6 s");
            // What integer rounding leaves is dropped: the output ends in exact zeros.
            let end = frames - rate as usize;
            assert!(l[end..].iter().chain(&r[end..]).all(|&s| s == 0));
            assert!(reverb.sides.iter_mut().all(Side::drain));
            assert!(
                reverb.sides.iter().all(|side| side.feedback == [0; COMBS]
                    && side
                        .combs
                        .iter()
                        .chain(&side.allpasses)
                        .all(|line| line.peak() == 0)),
                "cleared"
            );
        }
    }

    #[test]
    fn an_idle_reverb_answers_like_a_new_one() {
        let mut used = Reverb::try_new(48_000, 48_000).expect("reverb");
        let _ = response(&mut used, &[30_000, -20_000, 5], 6 * 48_000 + 77, 256);
        assert!(used.is_silent());
        let impulse = [12_345, 0, 0, -9_999];
        let mut new = Reverb::try_new(48_000, 48_000).expect("reverb");
        assert_eq!(
            response(&mut used, &impulse, 48_000, 256),
            response(&mut new, &impulse, 48_000, 256),
            "the lines' positions differ, their contents do not"
        );
    }

    #[test]
    fn the_block_size_changes_nothing_even_below_the_shortest_delays() {
        // At 8 kHz the shortest comb (202 samples) and allpass (40) are shorter than a mix
        // block; at 22.05 kHz the shortest allpass (112).
        let input: std::vec::Vec<i32> = (0..3_000).map(|n| (n * 7_919 % 20_000) - 10_000).collect();
        for rate in [8_000, 22_050, 48_000] {
            let frames = rate as usize;
            let mut one = Reverb::try_new(48_000, rate).expect("reverb");
            let by_one = response(&mut one, &input, frames, 1);
            for block in [7, 256, 1024] {
                let mut other = Reverb::try_new(48_000, rate).expect("reverb");
                assert!(
                    response(&mut other, &input, frames, block) == by_one,
                    "{rate} Hz in blocks of {block}"
                );
            }
        }
    }

    #[test]
    fn delays_follow_the_rate_within_the_allocation() {
        assert_eq!(scaled(1116, 44_100), 1116);
        assert_eq!(scaled(1116, 48_000), 1214);
        let mut reverb = Reverb::try_new(22_050, 22_050).expect("reverb");
        // Asked for more than it holds: capped, never out of bounds.
        reverb.set_rate(48_000);
        let input = [1000i32; 64];
        let (mut l, mut r) = ([0i32; 64], [0i32; 64]);
        reverb.process(&input, &mut l, &mut r);
    }

    #[test]
    fn full_scale_input_stays_within_the_filters() {
        // Beyond the input limit on every frame for a second: saturates, never overflows.
        let mut reverb = Reverb::try_new(48_000, 48_000).expect("reverb");
        let input: std::vec::Vec<i32> = (0..48_000)
            .map(|n| if n % 3 == 0 { i32::MAX } else { i32::MIN })
            .collect();
        let (l, _) = response(&mut reverb, &input, 48_000, 256);
        assert!(l.iter().any(|&s| s != 0));
    }
}
