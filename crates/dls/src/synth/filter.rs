//! The DLS2 voice filter: a resonant two-pole low-pass (the audio-EQ-cookbook biquad), in
//! fixed point.
//!
//! Cutoff is in absolute pitch cents (6900 = 440 Hz) and is held below 0.45 of the output rate.
//! Resonance is in centibels, as DLS2 §1.5.2 defines it: the height of the resonant peak over
//! the gain at DC (0: no peak), with the DC gain lowered by half the resonance in decibels "to
//! keep the perceived loudness approximately constant" (20 dB of resonance: -10 dB at DC).
//! Coefficients are Q28 and the state is kept at full precision in `i64`, so low cutoffs stay
//! stable.

use super::fixed::{attenuation_to_gain_q15, pitch_ratio_q32};
use super::tables::SIN_QUARTER_Q15;

/// Coefficient scale.
const Q: u32 = 28;
/// Fractional bits of the output state.
const FRAC: u32 = 10;
/// Largest magnitude of the output: two bits above 16-bit scale (room for resonant peaks; the
/// DLS maximum, 22.5 dB, on a full-scale wave would still pass it), small enough for the pair
/// form's Q32 products and for the voice's 32-bit mix (a sample within 2^17 times a Q14 gain).
const LIMIT: i64 = (1 << 17) - 1;
/// The lowest cutoff filtered in pairs (4200 cents, about 92 Hz). Below it the filter's gain at
/// DC is so high that the pair form's extra rounding shows: at 2000 cents (55 Hz, 48 kHz) it
/// is 5 LSB off the exact filter where one sample at a time is 2.3 (the unit test
/// `blocks_of_pairs_are_as_close_to_the_exact_filter`); from here up they agree within 0.2.
const PAIRWISE_FROM_CENTS: i32 = 4200;
/// Scale of the pair form's two coefficients (`a1² - a2`, `a1 · a2`) and of its second
/// sample's sum.
const PAIR_Q: u32 = 32;
/// The highest cutoff, as a fraction of the output rate, in Q32.
const MAX_CUTOFF_Q32: u64 = (45 << 32) / 100;
/// What the recursion adds to its state (Q`FRAC`, so an output of 2^16): biased, a state
/// within `±BIAS` is a value within `0..2 · BIAS`, and both of a pair are tested against the
/// limit by one test of their bits or'ed (see [`LowPass::recurse`]). The bias costs nothing in
/// the loop: the feedback products of a biased state differ from the plain ones by a constant
/// per tuning, which goes into the rounding constant.
const BIAS: i64 = 1 << (FRAC + BIAS_AT_OUTPUT_BITS);
/// [`BIAS`] at output scale, a power of two: 2^16.
const BIAS_AT_OUTPUT_BITS: u32 = 16;
/// The bits a biased state within `0..2 · BIAS` leaves clear.
const OUTSIDE_BIASED: i64 = !(2 * BIAS - 1);

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
    /// `b0` (Q28) with the state's FRAC bits: the feed-forward is `b0 · (x + 2·x1 + x2)`, as
    /// `b1 = 2·b0` and `b2 = b0` for a low-pass.
    b0: i64,
    /// `b0` in the pair form's scale, Q(`PAIR_Q` + `FRAC`).
    b0_pair: i64,
    /// `a1 · b0` in Q(`PAIR_Q` + `FRAC`): `a1` times the first sample's feed-forward.
    a1_b0: i64,
    a1: i64,
    a2: i64,
    /// `a1² - a2` and `a1 · a2`: the feedback from two samples back, for the second sample of
    /// a pair (see [`LowPass::process_block`]).
    c1: i64,
    c2: i64,
    /// The constant of the first sample's sum on the biased state, Q(`Q` + `FRAC`): half a
    /// unit (rounding), what the bias puts into the feedback products taken back out
    /// (`(a1 + a2) · BIAS`), and the bias of the result (`BIAS << Q`).
    offset: i64,
    /// The same for the pair form's second sample, Q(`PAIR_Q` + `FRAC`).
    offset_pair: i64,
    /// The output rate the filter was last tuned for, and `440 · 2^32 / rate`.
    rate: (u32, u64),
    /// The resonance (centibels) the filter was last tuned to, and what it gives.
    resonance: (i32, Resonance),
    /// Whether blocks run in pairs (every cutoff but the lowest: see [`PAIRWISE_FROM_CENTS`]).
    pairwise: bool,
    /// The last two inputs.
    x1: i32,
    x2: i32,
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
            b0_pair: 0,
            a1_b0: 0,
            a1: 0,
            a2: 0,
            c1: 0,
            c2: 0,
            offset: 0,
            offset_pair: 0,
            rate: (0, 0),
            resonance: (0, Resonance::of(0)),
            pairwise: false,
            x1: 0,
            x2: 0,
            y1: 0,
            y2: 0,
        };
        f.tune(cutoff_cents, resonance_cb, rate);
        f
    }

    /// Moves the cutoff and resonance; the state is kept, so sweeps are smooth.
    ///
    /// The rate and resonance are the same as last time on nearly every call (a voice's
    /// modulators move only the cutoff): they are checked here, inline, and redone out of
    /// line, so that the cutoff's work is a leaf function with no call in it. With the
    /// resonance's square roots inline, that work saved and restored six registers a call.
    #[inline]
    pub fn tune(&mut self, cutoff_cents: i32, resonance_cb: i32, rate: u32) {
        if rate != self.rate.0 {
            self.set_rate(rate);
        }
        if resonance_cb != self.resonance.0 {
            self.set_resonance(resonance_cb);
        }
        self.tune_cutoff(cutoff_cents);
    }

    /// The division by the rate, done once per rate, not per tuning.
    #[cold]
    #[inline(never)]
    fn set_rate(&mut self, rate: u32) {
        self.rate = (rate, (440u64 << 32) / u64::from(rate.max(1)));
    }

    #[cold]
    #[inline(never)]
    fn set_resonance(&mut self, resonance_cb: i32) {
        self.resonance = (resonance_cb, Resonance::of(resonance_cb));
    }

    /// Moves the cutoff alone, at the rate and resonance the filter was made or last tuned
    /// for: a voice's modulators move only the cutoff, once a control period.
    #[inline(never)]
    pub fn tune_cutoff(&mut self, cutoff_cents: i32) {
        // Cutoff as a fraction of the rate, Q32: 440 Hz · 2^((cents - 6900)/1200) / rate.
        let ratio = u128::from(pitch_ratio_q32(cutoff_cents.saturating_sub(6900)));
        let fraction = u64::try_from((ratio * u128::from(self.rate.1)) >> 32).unwrap_or(u64::MAX);
        let phase = u32::try_from(fraction.min(MAX_CUTOFF_Q32))
            .unwrap_or(0)
            .max(1);
        // 1 - cos ω = 2 sin²(ω/2), in Q30: keeps precision at low cutoffs, where cos ω is
        // within one Q15 step of 1.
        let half = i64::from(sin_q15(phase / 2));
        let one_minus_cos = 2 * half * half;
        let Resonance { inverse_q, dc_gain } = self.resonance.1;
        // alpha = sin ω / (2Q): Q30.
        let alpha = (i64::from(sin_q15(phase)) * inverse_q) >> 1;
        let one = 1i64 << 30;
        let a0 = one + alpha;
        // `(num << Q) / a0` for the three coefficients by one division: `2^61 / a0` lies
        // within 2^31 (a0 is at least 2^30) and each numerator within 2^31, so the product
        // fits 62 bits; the result is within an LSB of the three divisions.
        let reciprocal = (1i64 << 61) / a0.max(1);
        let scale = |num_q30: i64| (num_q30 * reciprocal) >> (61 - Q);
        let b0 = (scale(one_minus_cos / 2) * dc_gain) >> 15;
        self.a1 = scale(-2 * (one - one_minus_cos));
        self.a2 = scale(one - alpha);
        self.b0 = b0 << FRAC;
        self.b0_pair = b0 << (FRAC + PAIR_Q - Q);
        // Q56 to Q(PAIR_Q + FRAC) = Q42: within 2^43, and times a feed-forward sum (within
        // 2^17) within 2^60.
        self.a1_b0 = (self.a1 * b0) >> (2 * Q - PAIR_Q - FRAC);
        // Q32 from the Q56 products, rounded: at a low cutoff the filter's gain at DC is in
        // the tens of thousands, and every bit of these two shows there.
        let round = |product: i64| (product + (1 << (2 * Q - PAIR_Q - 1))) >> (2 * Q - PAIR_Q);
        self.c1 = round(self.a1 * self.a1) - (self.a2 << (PAIR_Q - Q));
        self.c2 = round(self.a1 * self.a2);
        // Within 2^56 and 2^61: a1 + a2 within 3·2^28, c1 + c2 within 6·2^32, the bias 2^26.
        self.offset = (1 << (Q - 1)) + (self.a1 + self.a2) * BIAS + (BIAS << Q);
        self.offset_pair = (1 << (PAIR_Q - 1)) - (self.c1 + self.c2) * BIAS + (BIAS << PAIR_Q);
        self.pairwise = cutoff_cents >= PAIRWISE_FROM_CENTS;
    }

    /// Filters one sample.
    pub fn process(&mut self, x: i32) -> i32 {
        let mut one = [x];
        self.process_block(&mut one);
        one[0]
    }

    /// Filters `block` in place.
    pub fn process_block(&mut self, block: &mut [i32]) {
        let (mut x1, mut x2) = (self.x1, self.x2);
        for x in block.iter_mut() {
            let input = *x;
            *x = feed_forward(input, x1, x2);
            (x2, x1) = (x1, input);
        }
        (self.x1, self.x2) = (x1, x2);
        self.recurse(block);
    }

    /// Filters the samples of `padded` after its first two, which are scratch (their values
    /// do not matter): on return the first `padded.len() - 2` elements hold the output.
    ///
    /// The room before the block lets the feed-forward sums `x + 2·x1 + x2` be taken in one
    /// forward pass in place (each sum is written two places behind the newest input it
    /// reads, after the two before the block are put in the room), a plain loop the compiler
    /// vectorises; the recursion then reads them, which leaves it registers enough for its
    /// seven coefficients and the state (no spills on the feedback chain).
    pub fn process_padded(&mut self, padded: &mut [i32]) {
        self.process_padded_biased(padded);
        let n = padded.len().saturating_sub(2);
        for sample in padded.iter_mut().take(n) {
            *sample = output(*sample);
        }
    }

    /// [`Self::process_padded`] but leaving each output as the recursion stores it, biased,
    /// for [`output`] to take to output scale: the voice does that in its mix, in the loop
    /// that reads the samples anyway, instead of in a pass of its own over the block.
    pub(super) fn process_padded_biased(&mut self, padded: &mut [i32]) {
        let n = padded.len().saturating_sub(2);
        if n == 0 {
            return;
        }
        padded[0] = self.x2;
        padded[1] = self.x1;
        (self.x2, self.x1) = (padded[n], padded[n + 1]);
        for i in 0..n {
            padded[i] = feed_forward(padded[i + 2], padded[i + 1], padded[i]);
        }
        self.recurse_biased(&mut padded[..n]);
    }

    /// Runs the recursion over `sums`, the feed-forward sums of a block, replacing each by
    /// the output.
    ///
    /// Two samples a step (one at a time below 4200 cents, `PAIRWISE_FROM_CENTS`). The
    /// recursion `y[n] = f[n] - a1·y[n-1] - a2·y[n-2]` (with `f` the feed-forward part) gives,
    /// by substituting `y[n]` into `y[n+1]`:
    /// `y[n+1] = f[n+1] - a1·f[n] + (a1² - a2)·y[n-1] + a1·a2·y[n-2]`. Both outputs of a pair
    /// then come from the two before it, side by side, and the feedback chain (a multiply, an
    /// add, a shift) is walked once per two samples instead of once per sample. The state
    /// lives in locals, in registers, for the whole block.
    ///
    /// The loop is bound by how many instructions it issues, so it does the least a sample:
    /// the state carries [`BIAS`], which lets one test of a pair's two states or'ed stand for
    /// both limit checks (a state beyond 2^16 at output scale, twice 16-bit full scale, takes
    /// the exact check then), and each output is stored as its biased state's low bits, taken
    /// to output scale (`>> FRAC`, less the bias) by a pass after the loop that the compiler
    /// vectorises (or, for the voice, by its mix). The output is the same, bit for bit, as the
    /// plain recursion's.
    fn recurse(&mut self, sums: &mut [i32]) {
        self.recurse_biased(sums);
        for sample in sums.iter_mut() {
            *sample = output(*sample);
        }
    }

    /// [`Self::recurse`] leaving each output biased (see [`biased_low_bits`]).
    fn recurse_biased(&mut self, sums: &mut [i32]) {
        let (b0, b0_pair, a1_b0) = (self.b0, self.b0_pair, self.a1_b0);
        let (a1, a2, c1, c2) = (self.a1, self.a2, self.c1, self.c2);
        let (offset, offset_pair) = (self.offset, self.offset_pair);
        let (mut u1, mut u2) = (self.y1 + BIAS, self.y2 + BIAS);
        // The output state keeps FRAC fractional bits, so that rounding cannot sustain a limit
        // cycle when the poles sit close to the unit circle. Magnitudes: input within ±2^15,
        // so a feed-forward sum `x + 2·x1 + x2` within 2^17 and `f` within 2^55; state
        // within ±2^27 (LIMIT in Q10); a1 within 2^29 (Q28), c1 within 5·2^32 and c2 within
        // 2^33 (Q32). The first sample's sum stays under 2^58, the second's (f in Q42,
        // a1·f, c1 and c2 times the state) under 2^62.3; with the bias (2^54 and 2^58 after
        // the offsets take the products' share back out) under 2^63. The products of the
        // biased state alone may pass 2^63: the sums wrap, and come out exact, as their
        // totals fit.
        // Half a unit added before each shift (in the offsets) rounds it to nearest: a
        // floor's steady bias, amplified by a low cutoff's gain at DC, put the output dozens
        // of LSB off.
        // One step of the recursion, from a feed-forward sum `x + 2·x1 + x2` and the state.
        let step = |sum: i64, u1: i64, u2: i64| {
            b0.wrapping_mul(sum)
                .wrapping_add(offset)
                .wrapping_sub(a1.wrapping_mul(u1))
                .wrapping_sub(a2.wrapping_mul(u2))
                >> Q
        };
        // A pair's input terms, its feedback products left out: the first sample's in
        // Q(Q + FRAC), the second's in Q(PAIR_Q + FRAC). Summed apart and added to the
        // products as one term each: written as one sum with the products (as before the
        // bias), the compiler added the products first and the input terms after them one by
        // one, on the feedback chain (seen in the asm: four adds after the multiply where two
        // do, 8 cycles a pair where 6 do).
        let input_terms = |pair: &[i32]| match *pair {
            [sum, sum_next] => {
                let (sum, sum_next) = (i64::from(sum), i64::from(sum_next));
                (
                    b0.wrapping_mul(sum).wrapping_add(offset),
                    b0_pair
                        .wrapping_mul(sum_next)
                        .wrapping_add(offset_pair)
                        .wrapping_sub(a1_b0.wrapping_mul(sum)),
                )
            }
            _ => (0, 0),
        };
        let mut pairs = sums.chunks_exact_mut(if self.pairwise { 2 } else { usize::MAX });
        for pair in &mut pairs {
            let (input, input_next) = input_terms(pair);
            let mut u = input
                .wrapping_sub(a1.wrapping_mul(u1))
                .wrapping_sub(a2.wrapping_mul(u2))
                >> Q;
            let mut u_next = input_next
                .wrapping_add(c1.wrapping_mul(u1))
                .wrapping_add(c2.wrapping_mul(u2))
                >> PAIR_Q;
            if (u | u_next) & OUTSIDE_BIASED != 0 {
                (u, u_next) = (held(u), held(u_next));
            }
            (u2, u1) = (u, u_next);
            if let [first, second] = pair {
                (*first, *second) = (biased_low_bits(u), biased_low_bits(u_next));
            }
        }
        for last in pairs.into_remainder() {
            let mut u = step(i64::from(*last), u1, u2);
            if u & OUTSIDE_BIASED != 0 {
                u = held(u);
            }
            (u2, u1) = (u1, u);
            *last = biased_low_bits(u);
        }
        (self.y1, self.y2) = (u1 - BIAS, u2 - BIAS);
    }
}

/// The low-pass feed-forward sum `x + 2·x1 + x2` (`b1 = 2·b0`, `b2 = b0`). Inputs are at
/// 16-bit scale, so it cannot wrap (exact for any input within ±2^29; beyond, it wraps and
/// the output stays held within the limit).
fn feed_forward(x: i32, x1: i32, x2: i32) -> i32 {
    x.wrapping_add(x1.wrapping_mul(2)).wrapping_add(x2)
}

/// What a resonance gives the biquad: `1/Q` and the gain at DC, both Q15.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resonance {
    inverse_q: i64,
    dc_gain: i64,
}

impl Resonance {
    /// DLS2 resonance is the peak's height over DC, `P = 10^(dB/20)`. The cookbook low-pass
    /// peaks at `Q / sqrt(1 - 1/(4Q²))` over its DC gain, so the `Q` giving a peak `P` is
    /// `Q² = (P² + P·sqrt(P² - 1)) / 2`: 1/√2 (no peak, Butterworth) at 0, nearly `P` when
    /// high. With `u = 1/P`: `1/Q = u · sqrt(2 / (1 + sqrt(1 - u²)))`. The DC gain is
    /// `10^(-dB/40)`: half the resonance, in decibels, taken off.
    fn of(resonance_cb: i32) -> Self {
        let resonance_cb = resonance_cb.max(0);
        let dc_gain = i64::from(attenuation_to_gain_q15(resonance_cb / 2));
        if resonance_cb == 0 {
            // √2 in Q15 (`u` from the table is a step short of one).
            return Self {
                inverse_q: 46_341,
                dc_gain,
            };
        }
        let u = u64::from(attenuation_to_gain_q15(resonance_cb));
        // sqrt(1 - u²): Q30 in, Q15 out.
        let w = ((1u64 << 30).saturating_sub(u * u)).isqrt();
        // 2 / (1 + w) in Q30, then its square root in Q15 (between 1 and √2).
        let root = ((2u64 << 45) / ((1 << 15) + w)).isqrt();
        Self {
            inverse_q: i64::try_from((u * root) >> 15).unwrap_or(46_341),
            dc_gain,
        }
    }
}

/// A biased state (see [`BIAS`]) held within `±LIMIT << FRAC` of the bias: the rare case of
/// the recursion's limit test, out of line and cold so that the compiler keeps the branch (a
/// conditional move would sit on the feedback chain; a predicted branch does not).
#[cold]
#[inline(never)]
fn held(biased: i64) -> i64 {
    let limit = LIMIT << FRAC;
    biased.wrapping_sub(BIAS).clamp(-limit, limit) + BIAS
}

/// A held biased state as the recursion stores it, for [`output`] to take to output scale.
#[allow(
    clippy::cast_possible_truncation,
    reason = "a held biased state is within 2^26 ± 2^27; a checked conversion here cost a branch per filtered sample"
)]
fn biased_low_bits(biased: i64) -> i32 {
    biased as i32
}

/// The output sample of a held biased state's low bits: the state `>> FRAC`, less the bias.
/// Exact, as the bias is a whole output unit (2^16 of them).
pub(super) fn output(biased: i32) -> i32 {
    (biased >> FRAC) - (1 << BIAS_AT_OUTPUT_BITS)
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

    /// The biquad with `filter`'s coefficients, computed in f64 (no rounding of the state).
    #[allow(clippy::cast_precision_loss, reason = "coefficients under 2^32")]
    fn ideal_response(filter: &LowPass, signal: &[i32]) -> alloc::vec::Vec<f64> {
        let scale = f64::from(1u32 << Q);
        let b0 = (filter.b0 >> FRAC) as f64 / scale;
        let b1 = 2.0 * b0;
        let (a1, a2) = (filter.a1 as f64 / scale, filter.a2 as f64 / scale);
        let (mut x1, mut x2, mut y1, mut y2) = (0.0, 0.0, 0.0, 0.0);
        signal
            .iter()
            .map(|&x| {
                let x = f64::from(x);
                let y = b0 * (x + x2) + b1 * x1 - a1 * y1 - a2 * y2;
                (x2, x1, y2, y1) = (x1, x, y1, y);
                y
            })
            .collect()
    }

    /// Filtering after two slots of room (the voice's way) gives exactly what filtering in
    /// place gives, block after block of any length, at low (one at a time) and high (pairs)
    /// cutoffs.
    #[test]
    fn padded_blocks_filter_exactly_as_plain_ones() {
        let mut seed = 0x9e37_79b9_u32;
        let signal: alloc::vec::Vec<i32> = (0..3_000)
            .map(|_| {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                i32::from(i16::from_le_bytes(
                    seed.to_le_bytes()[2..].try_into().unwrap(),
                ))
            })
            .collect();
        for (cutoff, resonance) in [(3000, 0), (4200, 60), (9000, 225), (13_000, 0)] {
            let mut plain = LowPass::new(cutoff, resonance, 48_000);
            let mut padded = plain.clone();
            let mut rest = signal.as_slice();
            let mut len = 0;
            while !rest.is_empty() {
                len = len % 70 + 1;
                let (block, after) = rest.split_at(len.min(rest.len()));
                rest = after;
                let mut expected = block.to_vec();
                plain.process_block(&mut expected);
                let mut room = alloc::vec![-7; 2];
                room.extend_from_slice(block);
                padded.process_padded(&mut room);
                assert_eq!(&room[..block.len()], expected.as_slice(), "cutoff {cutoff}");
            }
            assert_eq!(plain, padded);
        }
    }

    /// The recursion as it was written before the state carried [`BIAS`]: each state held
    /// on its own, each output shifted in the loop. `state` is `(x1, x2, y1, y2)`.
    fn unbiased_block(filter: &LowPass, state: &mut (i32, i32, i64, i64), block: &mut [i32]) {
        let limit = LIMIT << FRAC;
        let hold = |y: i64| y.clamp(-limit, limit);
        let (mut x1, mut x2, mut y1, mut y2) = *state;
        for x in block.iter_mut() {
            let input = *x;
            *x = feed_forward(input, x1, x2);
            (x2, x1) = (x1, input);
        }
        let half = 1i64 << (Q - 1);
        let pair_half = 1i64 << (PAIR_Q - 1);
        let step = |sum: i64, y1: i64, y2: i64| {
            hold((filter.b0 * sum + half - filter.a1 * y1 - filter.a2 * y2) >> Q)
        };
        let mut pairs = block.chunks_exact_mut(if filter.pairwise { 2 } else { usize::MAX });
        for pair in &mut pairs {
            let (sum, sum_next) = (i64::from(pair[0]), i64::from(pair[1]));
            let y = step(sum, y1, y2);
            let acc = filter.b0_pair * sum_next + pair_half - filter.a1_b0 * sum
                + filter.c1 * y1
                + filter.c2 * y2;
            let y_next = hold(acc >> PAIR_Q);
            (y2, y1) = (y, y_next);
            pair[0] = i32::try_from(y >> FRAC).unwrap();
            pair[1] = i32::try_from(y_next >> FRAC).unwrap();
        }
        for last in pairs.into_remainder() {
            let y = step(i64::from(*last), y1, y2);
            (y2, y1) = (y1, y);
            *last = i32::try_from(y >> FRAC).unwrap();
        }
        *state = (x1, x2, y1, y2);
    }

    /// The biased recursion gives the plain one's output bit for bit, in blocks of any
    /// length, at cutoffs filtered one at a time and in pairs, on signals that keep within
    /// the one-test range, that pass it (resonant peaks over twice 16-bit full scale) and
    /// that are held at the limit (sums beyond 16-bit scale, which the voice never makes).
    #[test]
    fn the_biased_recursion_is_the_plain_one_bit_for_bit() {
        let mut seed = 0x0bad_5eed_u32;
        let mut noise = move |bits: u32| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            i32::try_from(seed >> (32 - bits)).unwrap() - (1 << (bits - 1))
        };
        // Full-scale noise, a full-scale square (its edges ring at a resonant cutoff), and
        // a square at four times full scale.
        let quiet: alloc::vec::Vec<i32> = (0..4_000).map(|_| noise(16)).collect();
        let square = |height: i32| -> alloc::vec::Vec<i32> {
            (0..4_000)
                .map(|i| if (i / 150) % 2 == 0 { height } else { -height })
                .collect()
        };
        let (loud, beyond) = (square(32_767), square(131_071));
        let mut passed = [false; 2];
        for (cutoff, resonance) in [
            (2500, 0),
            (3000, 225),
            (4200, 120),
            (6000, 225),
            (8000, 225),
            (10_000, 100),
            (13_500, 225),
        ] {
            for signal in [&quiet, &loud, &beyond] {
                let mut biased = LowPass::new(cutoff, resonance, 48_000);
                let mut state = (0, 0, 0, 0);
                let mut rest = signal.as_slice();
                let mut len = 0;
                while !rest.is_empty() {
                    len = len % 67 + 3;
                    let (block, after) = rest.split_at(len.min(rest.len()));
                    rest = after;
                    let mut expected = block.to_vec();
                    unbiased_block(&biased, &mut state, &mut expected);
                    let mut got = block.to_vec();
                    biased.process_block(&mut got);
                    assert_eq!(got, expected, "cutoff {cutoff}, resonance {resonance}");
                    assert_eq!((biased.y1, biased.y2), (state.2, state.3));
                    passed[0] |= got.iter().any(|y| y.abs() >= 1 << BIAS_AT_OUTPUT_BITS);
                    passed[1] |= got.iter().any(|y| y.abs() == i32::try_from(LIMIT).unwrap());
                }
            }
        }
        assert_eq!(
            passed, [true; 2],
            "outputs past the one-test range, and held"
        );
    }

    /// Any tuning, however far out, gives coefficients and offsets that do not overflow
    /// (debug builds check) and a filter whose output stays within the limit, on inputs far
    /// beyond 16-bit scale.
    #[test]
    fn extreme_tunings_stay_within_the_limit() {
        let limit = i32::try_from(LIMIT).unwrap();
        let loud: alloc::vec::Vec<i32> = (0..300)
            .map(|i| {
                if (i / 3) % 2 == 0 {
                    1 << 20
                } else {
                    -(1 << 20)
                }
            })
            .collect();
        for cutoff in [i32::MIN, -20_000, 0, 4199, 4200, 13_500, 30_000, i32::MAX] {
            for resonance in [i32::MIN, 0, 225, 960, i32::MAX] {
                for rate in [0, 1, 8_000, 48_000, 192_000, u32::MAX] {
                    let mut filter = LowPass::new(cutoff, resonance, rate);
                    let mut block = loud.clone();
                    filter.process_block(&mut block);
                    assert!(
                        block.iter().all(|y| y.abs() <= limit),
                        "cutoff {cutoff}, resonance {resonance}, rate {rate}"
                    );
                }
            }
        }
    }

    /// The block form is as close to the exact filter as the one-sample recursion, on a
    /// bright, loud signal, at low, middle and high cutoffs with and without resonance.
    #[test]
    fn blocks_of_pairs_are_as_close_to_the_exact_filter() {
        // A deterministic full-scale mix of a square wave and a pseudo-random walk.
        let mut seed = 0x1234_5678_u32;
        let signal: alloc::vec::Vec<i32> = (0..6_000)
            .map(|i| {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let noise = i32::try_from(seed >> 17).unwrap() - 16_384;
                let square = if (i / 600) % 2 == 0 { 16_000 } else { -16_000 };
                (square + noise).clamp(-32_768, 32_767)
            })
            .collect();
        for (cutoff, resonance) in [
            (2000, 0),
            (2000, 200),
            (4200, 0),
            (4200, 225),
            (6000, 100),
            (8321, 0),
            (8321, 120),
            (13500, 225),
        ] {
            let mut single = LowPass::new(cutoff, resonance, 48_000);
            let expected: alloc::vec::Vec<i32> =
                signal.iter().map(|&x| single.process(x)).collect();
            let mut paired = LowPass::new(cutoff, resonance, 48_000);
            let mut got = signal.clone();
            // Odd and even block lengths, as the voice hands them over.
            let mut rest = got.as_mut_slice();
            for len in [1, 64, 63, 2, 7].iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (block, tail) = rest.split_at_mut((*len).min(rest.len()));
                paired.process_block(block);
                rest = tail;
            }
            // The ideal: the same (quantised) coefficients in f64.
            let ideal = ideal_response(&LowPass::new(cutoff, resonance, 48_000), &signal);
            let worst = |ys: &[i32]| {
                ys.iter()
                    .zip(&ideal)
                    .map(|(&y, &e)| (f64::from(y) - e).abs())
                    .fold(0.0, f64::max)
            };
            let (sequential, pairwise) = (worst(&expected), worst(&got));
            // One sample at a time stays within a few LSB of the exact filter (rounding,
            // amplified by a low cutoff's gain at DC); blocks add at most half an LSB to that.
            assert!(
                sequential <= 6.0 && pairwise <= sequential + 0.5,
                "cutoff {cutoff}, resonance {resonance}: blocks {pairwise:.2} LSB from the exact filter, one at a time {sequential:.2}"
            );
            assert!(
                expected.iter().any(|&y| y.abs() > 1_000),
                "the filter passes something"
            );
        }
    }

    #[test]
    fn passes_below_cuts_above_and_resonates_as_dls2_defines() {
        let rate = 44_100.0;
        let peak_between = |resonance: i32, low: u32, high: u32| {
            (low..=high)
                .step_by(10)
                .map(|hz| {
                    gain_at(
                        &mut LowPass::new(8321, resonance, 44_100),
                        f64::from(hz),
                        rate,
                    )
                })
                .fold(0.0, f64::max)
        };
        // 1000 Hz: 6900 + 1200·log2(1000/440) = 8321 cents.
        let mut flat = LowPass::new(8321, 0, 44_100);
        assert!(
            (gain_at(&mut flat, 100.0, rate) - 1.0).abs() < 0.02,
            "passband"
        );
        let mut flat = LowPass::new(8321, 0, 44_100);
        let at_cutoff = gain_at(&mut flat, 1000.0, rate);
        assert!(
            (at_cutoff - core::f64::consts::FRAC_1_SQRT_2).abs() < 0.03,
            "no resonance is a Butterworth: -3 dB at the cutoff, got {at_cutoff}"
        );
        let flat_peak = peak_between(0, 200, 1_500);
        assert!(
            flat_peak < 1.01,
            "resonance 0 has no peak (§1.5.2), got {flat_peak}"
        );
        let mut flat = LowPass::new(8321, 0, 44_100);
        assert!(
            gain_at(&mut flat, 8000.0, rate) < 0.03,
            "three octaves above: about -36 dB"
        );
        // 12 dB: the DC gain drops 6 dB and the peak stands 12 dB (3.98×) over it.
        let mut resonant = LowPass::new(8321, 120, 44_100);
        let dc = gain_at(&mut resonant, 100.0, rate);
        assert!((dc - 0.501).abs() < 0.02, "-6 dB at DC, got {dc}");
        let peak = peak_between(120, 800, 1_100) / dc;
        assert!(
            (peak - 3.98).abs() < 0.2,
            "a 12 dB peak over DC, got {peak}"
        );
        // The specification's example: 20 dB of resonance, -10 dB at DC.
        let dc = gain_at(&mut LowPass::new(8321, 200, 44_100), 100.0, rate);
        assert!((dc - 0.316).abs() < 0.015, "-10 dB at DC, got {dc}");
        // A very low cutoff stays stable.
        let mut low = LowPass::new(2000, 200, 44_100);
        let quiet = gain_at(&mut low, 5000.0, rate);
        assert!(quiet < 0.01, "got {quiet}");
    }
}
