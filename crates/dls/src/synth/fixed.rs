//! Fixed-point conversions of DLS units: pitch cents to frequency ratios, time cents to
//! sample counts, centibels to linear gain. Integer only (kernel code avoids floating point).

use super::tables::{ATTENUATION_Q15, CENT_Q30, MAX_ATTENUATION_CB, SEMITONE_Q30};

/// Time cents meaning "no time at all" (DLS: `0x80000000` in the 16.16 connection scale).
pub const TIME_CENTS_ZERO: i32 = i32::MIN;

/// `2^(cents/1200)` as a Q32.32 ratio, saturating: above 2^31 it is `u64::MAX`, below 2^-32
/// it is 0.
#[must_use]
pub fn pitch_ratio_q32(cents: i32) -> u64 {
    let (octave, within) = octave_and_cents(cents);
    let semitone = (within / 100) as usize;
    let cent = (within % 100) as usize;
    // Both factors are in [1, 2) as Q30; their product is in [1, 4) as Q60, < 2^62.
    let q60 = u64::from(SEMITONE_Q30[semitone]) * u64::from(CENT_Q30[cent]);
    match octave {
        o if o >= 31 => u64::MAX,
        o if o >= 0 => (q60 >> 28) << o,
        // Shift the Q60 product once, so downward octaves keep every bit they can.
        o if o > -36 => q60 >> (28 + o.unsigned_abs()),
        _ => 0,
    }
}

/// `cents.div_euclid(1200)` and `cents.rem_euclid(1200)`, by an unsigned division of
/// `cents` moved up a whole number of octaves (past `i32::MIN`): the signed forms' sign
/// fix-ups cost a dozen instructions a call, and the filter's tuning calls this most control
/// periods.
fn octave_and_cents(cents: i32) -> (i32, u32) {
    const OCTAVES_UP: u32 = 1 << 21;
    let moved = u64::try_from(i64::from(cents) + 1200 * i64::from(OCTAVES_UP)).unwrap_or(0);
    let octave = i32::try_from(moved / 1200).unwrap_or(0) - i32::try_from(OCTAVES_UP).unwrap_or(0);
    let within = u32::try_from(moved % 1200).unwrap_or(0);
    (octave, within)
}

/// The number of samples at `rate` Hz that `time_cents` (whole time cents, not 16.16) last:
/// `rate * 2^(tc/1200)`, rounded down, capped at `u32::MAX`. [`TIME_CENTS_ZERO`] (or any
/// value below -12000·8, far under a microsecond) is 0 samples.
#[must_use]
pub fn time_cents_to_samples(time_cents: i32, rate: u32) -> u32 {
    if time_cents < -96_000 {
        return 0;
    }
    let ratio = u128::from(pitch_ratio_q32(time_cents));
    let samples = (ratio * u128::from(rate)) >> 32;
    u32::try_from(samples).unwrap_or(u32::MAX)
}

/// Linear gain in Q15 for an attenuation of `centibels` (0.1 dB): 32767 at 0, 0 at 96 dB and
/// beyond; negative attenuation (gain) is capped at unity.
#[must_use]
pub fn attenuation_to_gain_q15(centibels: i32) -> u16 {
    let index = usize::try_from(centibels.max(0)).unwrap_or(usize::MAX);
    if index > MAX_ATTENUATION_CB {
        0
    } else {
        ATTENUATION_Q15[index]
    }
}

/// The attenuation in centibels whose gain is closest to `gain_q15` from below (the inverse
/// of [`attenuation_to_gain_q15`]).
#[must_use]
pub fn gain_q15_to_attenuation(gain_q15: u16) -> u32 {
    // The table never rises; find the first entry not above the gain.
    let index = ATTENUATION_Q15.partition_point(|&g| g > gain_q15);
    u32::try_from(index).unwrap_or(u32::MAX)
}

/// Whole units of a 16.16 connection scale, rounded toward negative infinity.
#[must_use]
pub fn whole(scale: i32) -> i32 {
    scale >> 16
}

#[cfg(test)]
mod tests {
    use super::super::tables::*;
    use super::*;

    fn float(n: usize) -> f64 {
        f64::from(u32::try_from(n).unwrap())
    }

    fn q32_to_float(v: u64) -> f64 {
        f64::from(u32::try_from(v >> 32).unwrap())
            + f64::from(u32::try_from(v & 0xffff_ffff).unwrap()) / 2f64.powi(32)
    }

    #[test]
    fn tables_match_their_formulas() {
        for (k, &v) in SEMITONE_Q30.iter().enumerate() {
            let exact = 2f64.powf(float(k) / 12.0) * f64::from(1u32 << 30);
            assert!((f64::from(v) - exact).abs() <= 0.5, "semitone {k}");
        }
        for (c, &v) in CENT_Q30.iter().enumerate() {
            let exact = 2f64.powf(float(c) / 1200.0) * f64::from(1u32 << 30);
            assert!((f64::from(v) - exact).abs() <= 0.5, "cent {c}");
        }
        for (cb, &v) in ATTENUATION_Q15.iter().enumerate() {
            let exact = 32767.0 * 10f64.powf(-float(cb) / 200.0);
            assert!((f64::from(v) - exact).abs() <= 0.5, "attenuation {cb}");
        }
        for (i, &v) in PAN_SIN_Q15.iter().enumerate() {
            let exact = 32767.0 * (float(i) / 1000.0 * core::f64::consts::FRAC_PI_2).sin();
            assert!((f64::from(v) - exact).abs() <= 0.5, "pan {i}");
        }
        for (i, &v) in SIN_QUARTER_Q15.iter().enumerate() {
            let exact = 32767.0 * (float(i) / 256.0 * core::f64::consts::FRAC_PI_2).sin();
            assert!((f64::from(v) - exact).abs() <= 0.5, "sine {i}");
        }
        assert_eq!(VELOCITY_ATTENUATION_CB[0], 960);
        for (v, &cb) in VELOCITY_ATTENUATION_CB.iter().enumerate().skip(1) {
            let exact = 400.0 * (127.0 / float(v)).log10();
            assert!((f64::from(cb) - exact).abs() <= 0.5, "velocity {v}");
        }
    }

    #[test]
    fn octave_and_cents_are_the_euclidean_division() {
        let edges = [
            i32::MIN,
            i32::MIN + 1,
            -1201,
            -1200,
            -1199,
            -1,
            0,
            1,
            1199,
            1200,
            i32::MAX,
        ];
        let sweep = (-3_000_000..3_000_000).step_by(7);
        let far = (i32::MIN..=i32::MAX).step_by(999_983);
        for cents in edges.into_iter().chain(sweep).chain(far) {
            assert_eq!(
                octave_and_cents(cents),
                (
                    cents.div_euclid(1200),
                    cents.rem_euclid(1200).unsigned_abs()
                ),
                "{cents}"
            );
        }
    }

    #[test]
    fn pitch_ratio_is_exact_on_octaves_and_close_elsewhere() {
        assert_eq!(pitch_ratio_q32(0), 1 << 32);
        assert_eq!(pitch_ratio_q32(1200), 2 << 32);
        assert_eq!(pitch_ratio_q32(-1200), 1 << 31);
        assert_eq!(pitch_ratio_q32(-2400), 1 << 30);
        for cents in [-7000, -1234, -1, 1, 99, 100, 701, 1199, 3600, 4567] {
            let exact = 2f64.powf(f64::from(cents) / 1200.0);
            let got = q32_to_float(pitch_ratio_q32(cents));
            let tolerance = exact * 1e-8 + 2f64.powi(-32);
            assert!(
                (got - exact).abs() <= tolerance,
                "{cents} cents: {got} vs {exact}"
            );
        }
        assert_eq!(pitch_ratio_q32(i32::MAX), u64::MAX);
        assert_eq!(pitch_ratio_q32(i32::MIN), 0);
    }

    #[test]
    fn time_cents_give_sample_counts() {
        // 0 tc = 1 s; 1200 tc = 2 s; -1200 tc = 0.5 s.
        assert_eq!(time_cents_to_samples(0, 22050), 22050);
        assert_eq!(time_cents_to_samples(1200, 22050), 44100);
        assert_eq!(time_cents_to_samples(-1200, 22050), 11025);
        // -11999 tc (the GM bank's shortest attack) is 2^-9.999 s = 0.977 ms.
        assert_eq!(time_cents_to_samples(-11999, 48000), 46);
        assert_eq!(time_cents_to_samples(TIME_CENTS_ZERO, 48000), 0);
        assert_eq!(time_cents_to_samples(i32::MAX, 48000), u32::MAX);
    }

    #[test]
    fn gain_and_attenuation_are_inverse() {
        assert_eq!(attenuation_to_gain_q15(0), 32767);
        assert_eq!(attenuation_to_gain_q15(-50), 32767);
        assert_eq!(attenuation_to_gain_q15(60), 16422, "6 dB is half");
        assert_eq!(attenuation_to_gain_q15(961), 0);
        for cb in [0, 1, 60, 200, 500] {
            assert_eq!(
                gain_q15_to_attenuation(attenuation_to_gain_q15(cb)),
                cb.unsigned_abs()
            );
        }
        assert_eq!(gain_q15_to_attenuation(0), 961);
        assert_eq!(whole(-65536), -1);
        assert_eq!(whole(960 << 16), 960);
    }
}
