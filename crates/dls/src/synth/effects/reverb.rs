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
//! allocates nothing and does a fixed amount of work per frame.

use super::DelayLine;
use crate::synth::engine::AllocError;

/// Comb delays of the left side at 44.1 kHz (Freeverb's tuning).
const COMB_TUNING: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
/// Allpass delays of the left side at 44.1 kHz.
const ALLPASS_TUNING: [usize; 4] = [556, 441, 341, 225];
/// Extra delay of every right-side filter, samples at 44.1 kHz.
const STEREO_SPREAD: usize = 23;
/// The rate the tunings are given at.
const TUNING_RATE: usize = 44_100;
/// Bits of precision kept below the 16-bit scale inside the filters.
pub const FRACTION_BITS: u32 = 8;
/// Input gain, Q15 (Freeverb's `fixedgain` 0.015).
const INPUT_GAIN_Q15: i64 = 492;
/// Comb feedback, Q15: room size 0.5 → 0.5 · 0.28 + 0.7 = 0.84.
const FEEDBACK_Q15: i64 = 27_525;
/// Comb damping, Q15: 0.5 · 0.4 = 0.2 of the previous low-pass output is kept.
const DAMP_Q15: i64 = 6_554;
/// Allpass feedback 0.5, as a shift.
const ALLPASS_SHIFT: u32 = 1;

/// A delay of `tuning` samples at 44.1 kHz, at `rate` Hz (at least one sample).
fn scaled(tuning: usize, rate: u32) -> usize {
    let rate = usize::try_from(rate).unwrap_or(TUNING_RATE);
    (tuning * rate / TUNING_RATE).max(1)
}

#[derive(Debug, Clone)]
struct Comb {
    line: DelayLine,
    low_pass: i64,
}

impl Comb {
    fn try_new(capacity: usize) -> Result<Self, AllocError> {
        Ok(Self {
            line: DelayLine::try_new(capacity)?,
            low_pass: 0,
        })
    }

    /// Adds the comb's output for each `input` sample into `out`.
    fn process(&mut self, input: &[i32], out: &mut [i32]) {
        for (&x, y) in input.iter().zip(out.iter_mut()) {
            let delayed = i64::from(self.line.read());
            self.low_pass = (delayed * (32_768 - DAMP_Q15) + self.low_pass * DAMP_Q15) >> 15;
            let fed = i64::from(x) + ((self.low_pass * FEEDBACK_Q15) >> 15);
            self.line.write_advance(saturate(fed));
            *y = y.saturating_add(saturate(delayed));
        }
    }
}

/// Schroeder's allpass as Freeverb writes it, in place.
fn allpass(line: &mut DelayLine, samples: &mut [i32]) {
    for sample in samples {
        let delayed = i64::from(line.read());
        let x = i64::from(*sample);
        line.write_advance(saturate(x + (delayed >> ALLPASS_SHIFT)));
        *sample = saturate(delayed - x);
    }
}

fn saturate(value: i64) -> i32 {
    i32::try_from(value).unwrap_or(if value < 0 { i32::MIN } else { i32::MAX })
}

/// The reverb's state: 16 combs and 8 allpasses.
#[derive(Debug, Clone)]
pub struct Reverb {
    combs: [[Comb; 8]; 2],
    allpasses: [[DelayLine; 4]; 2],
}

impl Reverb {
    /// A silent reverb whose delay lines hold enough for `max_rate` Hz, set to run at `rate`
    /// (see [`Self::set_rate`]).
    ///
    /// # Errors
    /// [`AllocError`] when a delay line cannot be allocated (nothing is kept).
    pub fn try_new(max_rate: u32, rate: u32) -> Result<Self, AllocError> {
        let comb = |side: usize, n: usize| {
            Comb::try_new(scaled(COMB_TUNING[n] + side * STEREO_SPREAD, max_rate))
        };
        let line = |side: usize, n: usize| {
            DelayLine::try_new(scaled(ALLPASS_TUNING[n] + side * STEREO_SPREAD, max_rate))
        };
        let combs = |side| -> Result<[Comb; 8], AllocError> {
            Ok([
                comb(side, 0)?,
                comb(side, 1)?,
                comb(side, 2)?,
                comb(side, 3)?,
                comb(side, 4)?,
                comb(side, 5)?,
                comb(side, 6)?,
                comb(side, 7)?,
            ])
        };
        let allpasses = |side| -> Result<[DelayLine; 4], AllocError> {
            Ok([
                line(side, 0)?,
                line(side, 1)?,
                line(side, 2)?,
                line(side, 3)?,
            ])
        };
        let mut reverb = Self {
            combs: [combs(0)?, combs(1)?],
            allpasses: [allpasses(0)?, allpasses(1)?],
        };
        reverb.set_rate(rate);
        Ok(reverb)
    }

    /// Silences the reverb and sets its delays for `rate` Hz (capped at what the lines hold).
    /// Bounded work: clears every line once.
    pub fn set_rate(&mut self, rate: u32) {
        for (side, combs) in self.combs.iter_mut().enumerate() {
            for (comb, tuning) in combs.iter_mut().zip(COMB_TUNING) {
                comb.line.reset(scaled(tuning + side * STEREO_SPREAD, rate));
                comb.low_pass = 0;
            }
        }
        for (side, lines) in self.allpasses.iter_mut().enumerate() {
            for (line, tuning) in lines.iter_mut().zip(ALLPASS_TUNING) {
                line.reset(scaled(tuning + side * STEREO_SPREAD, rate));
            }
        }
    }

    /// Adds the reverb of `input` (mono, 16-bit scale, one sample per frame) into `left` and
    /// `right`. `scratch` (at least `input.len()` samples) is working storage; its contents
    /// are left undefined. Work: 24 filter steps a side per frame.
    pub fn process(
        &mut self,
        input: &mut [i32],
        scratch: &mut [i32],
        left: &mut [i32],
        right: &mut [i32],
    ) {
        let frames = input
            .len()
            .min(scratch.len())
            .min(left.len())
            .min(right.len());
        let input = &mut input[..frames];
        for x in input.iter_mut() {
            *x = saturate((i64::from(*x) * INPUT_GAIN_Q15) >> (15 - FRACTION_BITS));
        }
        let wet = &mut scratch[..frames];
        for ((combs, lines), out) in self
            .combs
            .iter_mut()
            .zip(self.allpasses.iter_mut())
            .zip([&mut left[..frames], &mut right[..frames]])
        {
            wet.fill(0);
            for comb in combs.iter_mut() {
                comb.process(input, wet);
            }
            for line in lines.iter_mut() {
                allpass(line, wet);
            }
            let half = 1i32 << (FRACTION_BITS - 1);
            for (y, &w) in out.iter_mut().zip(wet.iter()) {
                // Rounded, so that a filter left at a small residue adds nothing.
                *y = y.saturating_add(w.saturating_add(half) >> FRACTION_BITS);
            }
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

    /// One impulse in, 2 s out at 48 kHz in 256-frame blocks.
    fn impulse_response(rate: u32) -> (std::vec::Vec<i32>, std::vec::Vec<i32>) {
        let mut reverb = Reverb::try_new(48_000, rate).expect("reverb");
        let (mut l, mut r) = (std::vec::Vec::new(), std::vec::Vec::new());
        let mut scratch = [0i32; 256];
        for block in 0..(2 * rate as usize / 256) {
            let mut input = [0i32; 256];
            if block == 0 {
                input[0] = 30_000;
            }
            let (mut bl, mut br) = ([0i32; 256], [0i32; 256]);
            reverb.process(&mut input, &mut scratch, &mut bl, &mut br);
            l.extend_from_slice(&bl);
            r.extend_from_slice(&br);
        }
        (l, r)
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
    fn silence_in_gives_silence_out_after_the_tail() {
        let (l, r) = impulse_response(22_050);
        // No integer limit cycle lingers at the output after 2 s.
        assert!(
            l[l.len() - 1000..].iter().all(|&s| s.abs() <= 1),
            "{:?}",
            &l[l.len() - 10..]
        );
        assert!(r[r.len() - 1000..].iter().all(|&s| s.abs() <= 1));
    }

    #[test]
    fn delays_follow_the_rate_within_the_allocation() {
        assert_eq!(scaled(1116, 44_100), 1116);
        assert_eq!(scaled(1116, 48_000), 1214);
        let mut reverb = Reverb::try_new(22_050, 22_050).expect("reverb");
        // Asked for more than it holds: capped, never out of bounds.
        reverb.set_rate(48_000);
        let mut input = [1000i32; 64];
        let (mut l, mut r, mut s) = ([0i32; 64], [0i32; 64], [0i32; 64]);
        reverb.process(&mut input, &mut s, &mut l, &mut r);
    }
}
