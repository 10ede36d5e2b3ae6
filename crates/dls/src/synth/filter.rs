//! The DLS2 voice filter: a resonant two-pole low-pass (the audio-EQ-cookbook biquad), in
//! fixed point.
//!
//! Cutoff is in absolute pitch cents (6900 = 440 Hz) and is held below 0.45 of the output rate;
//! resonance is in centibels (the gain at the cutoff, `Q = 10^(cb/200)`). Coefficients are Q28
//! and the state is kept at full precision in `i64`, so low cutoffs stay stable.

use super::fixed::{attenuation_to_gain_q15, pitch_ratio_q32};
use super::tables::SIN_QUARTER_Q15;

/// Coefficient scale.
const Q: u32 = 28;
/// Fractional bits of the output state.
const FRAC: u32 = 10;
/// Largest magnitude of the output (well above 16-bit scale).
const LIMIT: i64 = 1 << 20;
/// The highest cutoff, as a fraction of the output rate, in Q32.
const MAX_CUTOFF_Q32: u64 = (45 << 32) / 100;

/// `sin(2π · phase)` for a Q32 phase, Q15, by linear interpolation in the quarter-wave table.
#[must_use]
pub fn sin_q15(phase: u32) -> i32 {
    let quadrant = phase >> 30;
    let within = phase & 0x3fff_ffff;
    // Position in the quarter wave: 256 steps of 2^22 each.
    let (index, frac) = (within >> 22, within & 0x3f_ffff);
    let at = |i: u32| i32::from(SIN_QUARTER_Q15[usize::try_from(i.min(256)).unwrap_or(256)]);
    let rising = |i: u32, f: u32| {
        let (a, b) = (at(i), at(i + 1));
        a + i32::try_from((i64::from(b - a) * i64::from(f)) >> 22).unwrap_or(0)
    };
    // Mirror the falling quarters: sin(π/2 + x) = sin(π/2 - x).
    let falling = || {
        let back = 0x4000_0000 - within;
        rising(back >> 22, back & 0x3f_ffff)
    };
    match quadrant {
        0 => rising(index, frac),
        1 => falling(),
        2 => -rising(index, frac),
        _ => -falling(),
    }
}

/// A resonant low-pass biquad.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LowPass {
    b0: i64,
    b1: i64,
    a1: i64,
    a2: i64,
    x1: i64,
    x2: i64,
    y1: i64,
    y2: i64,
}

impl LowPass {
    /// A filter at `cutoff_cents` (absolute pitch cents) with `resonance_cb`, for output at
    /// `rate` Hz.
    #[must_use]
    pub fn new(cutoff_cents: i32, resonance_cb: i32, rate: u32) -> Self {
        let mut f = Self {
            b0: 0,
            b1: 0,
            a1: 0,
            a2: 0,
            x1: 0,
            x2: 0,
            y1: 0,
            y2: 0,
        };
        f.tune(cutoff_cents, resonance_cb, rate);
        f
    }

    /// Moves the cutoff and resonance; the state is kept, so sweeps are smooth.
    pub fn tune(&mut self, cutoff_cents: i32, resonance_cb: i32, rate: u32) {
        // Cutoff as a fraction of the rate, Q32: 440 Hz · 2^((cents - 6900)/1200) / rate.
        let ratio = u128::from(pitch_ratio_q32(cutoff_cents.saturating_sub(6900)));
        let fraction = u64::try_from(ratio * 440 / u128::from(rate.max(1))).unwrap_or(u64::MAX);
        let phase = u32::try_from(fraction.min(MAX_CUTOFF_Q32))
            .unwrap_or(0)
            .max(1);
        // 1 - cos ω = 2 sin²(ω/2), in Q30: keeps precision at low cutoffs, where cos ω is
        // within one Q15 step of 1.
        let half = i64::from(sin_q15(phase / 2));
        let one_minus_cos = 2 * half * half;
        // alpha = sin ω / (2Q), with 1/Q = 10^(-cb/200): Q30.
        let inverse_q = i64::from(attenuation_to_gain_q15(resonance_cb.max(0)));
        let alpha = (i64::from(sin_q15(phase)) * inverse_q) >> 1;
        let one = 1i64 << 30;
        let a0 = one + alpha;
        let scale = |num_q30: i64| (num_q30 << Q) / a0;
        self.b0 = scale(one_minus_cos / 2);
        self.b1 = scale(one_minus_cos);
        self.a1 = scale(-2 * (one - one_minus_cos));
        self.a2 = scale(one - alpha);
    }

    /// Filters one sample.
    pub fn process(&mut self, x: i32) -> i32 {
        let x = i64::from(x);
        // b2 equals b0 for a low-pass. The output state keeps FRAC fractional bits, so that
        // rounding cannot sustain a limit cycle when the poles sit close to the unit circle.
        let feed_forward = (self.b0 * (x + self.x2) + self.b1 * self.x1) << FRAC;
        let acc = feed_forward - self.a1 * self.y1 - self.a2 * self.y2;
        let y = (acc >> Q).clamp(-LIMIT << FRAC, LIMIT << FRAC);
        self.x2 = self.x1;
        self.x1 = x;
        self.y2 = self.y1;
        self.y1 = y;
        i32::try_from(y >> FRAC).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sine_is_accurate_over_the_cycle() {
        for k in 0..64u32 {
            let phase = k * (u32::MAX / 64);
            let exact = 32767.0 * (f64::from(phase) / 2f64.powi(32) * core::f64::consts::TAU).sin();
            assert!(
                (f64::from(sin_q15(phase)) - exact).abs() < 3.0,
                "phase {k}/64"
            );
        }
        assert_eq!(sin_q15(0x4000_0000), 32767);
        assert_eq!(sin_q15(0xc000_0000), -32767);
    }

    fn gain_at(filter: &mut LowPass, hz: f64, rate: f64) -> f64 {
        let n = 4000;
        let mut peak = 0i32;
        for i in 0..n {
            let x = (20000.0 * (core::f64::consts::TAU * hz * f64::from(i) / rate).sin()).round();
            #[allow(clippy::cast_possible_truncation, reason = "a 16-bit test signal")]
            let y = filter.process(x as i32);
            if i > n / 2 {
                peak = peak.max(y.abs());
            }
        }
        f64::from(peak) / 20000.0
    }

    #[test]
    fn passes_below_cuts_above_and_resonates_at_the_cutoff() {
        let rate = 44_100.0;
        // 1000 Hz: 6900 + 1200·log2(1000/440) = 8321 cents.
        let mut flat = LowPass::new(8321, 0, 44_100);
        assert!(
            (gain_at(&mut flat, 100.0, rate) - 1.0).abs() < 0.02,
            "passband"
        );
        let mut flat = LowPass::new(8321, 0, 44_100);
        let at_cutoff = gain_at(&mut flat, 1000.0, rate);
        assert!(
            (at_cutoff - 1.0).abs() < 0.05,
            "Q = 1 gives 0 dB at the cutoff, got {at_cutoff}"
        );
        let mut flat = LowPass::new(8321, 0, 44_100);
        assert!(
            gain_at(&mut flat, 8000.0, rate) < 0.03,
            "three octaves above: about -36 dB"
        );
        let mut resonant = LowPass::new(8321, 120, 44_100);
        let peak = gain_at(&mut resonant, 1000.0, rate);
        assert!((peak - 3.98).abs() < 0.2, "12 dB of resonance, got {peak}");
        // A very low cutoff stays stable.
        let mut low = LowPass::new(2000, 200, 44_100);
        let quiet = gain_at(&mut low, 5000.0, rate);
        assert!(quiet < 0.01, "got {quiet}");
    }
}
