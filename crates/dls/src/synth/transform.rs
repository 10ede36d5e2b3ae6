//! DLS2 connection transforms: how a connection's source and control are shaped before they
//! scale its destination (`CONNECTION::usTransform`).
//!
//! The field packs, from the top bit down (DLS Level 2.2, §1.6.5 "Connection Block
//! Transforms"; the same masks in `FluidSynth` 2.5.7's DLS loader, `TRN_SRC_INV_MASK` ..
//! `TRN_OUT_TRN_MASK`): source invert (bit 15), source bipolar (14), source curve (13..10),
//! control invert (9), control bipolar (8), control curve (7..4), output curve (3..0). A curve
//! is one of `CONN_TRN_NONE` (linear), `CONN_TRN_CONCAVE`, `CONN_TRN_CONVEX` and
//! `CONN_TRN_SWITCH` (dls1.h, dls2.h); DLS2 defines no output transform (§1.6.5.5), so the
//! output curve must be `CONN_TRN_NONE`, and a connection whose curve numbers are undefined is
//! not understood ([`Transform::parse`] gives `None`; the articulation then ignores it).
//!
//! What each shape gives for a 7-bit value `v` (0..=127), in Q15 (32768 = 1):
//! - Linear: `v/128` (DLS normalises a MIDI value to 0..127/128, as `FluidSynth` does);
//!   bipolar `(v - 64)/64`, so 64 is the centre.
//! - Concave: `-(20/96)·log10((1 - x)²)`, clipped at 1, of `x = v/127` (DLS1's velocity
//!   curve: with inversion and a -96 dB scale it is `20·log10(127²/v²)` dB, 0 at 127). Convex
//!   is its mirror, `1 - concave(1 - x)`; switch is 0 below the middle (`v < 64`) and 1 from
//!   it. The curves read `v/127` so that they reach both ends.
//! - Bipolar curves are odd around the centre: `+f((v - 64)/63)` from 64 up,
//!   `-f((64 - v)/64)` below (switch: -1 below the middle, +1 from it).
//! - Invert swaps the ends: a unipolar value reads `127 - v`, a bipolar one is negated (the
//!   same as `1 - x` of the continuous curves, with the centre kept at 64).
//!
//! Integer only: the concave curve is a table ([`CONCAVE_Q15`], generated offline, checked
//! against `f64` by the tests), read with linear interpolation between its 128 points.

use dmus_sys::dls::{CONN_TRN_CONCAVE, CONN_TRN_CONVEX, CONN_TRN_NONE, CONN_TRN_SWITCH};

/// `usTransform` bit: the source is inverted.
pub const TRN_SOURCE_INVERT: u16 = 0x8000;
/// `usTransform` bit: the source is bipolar.
pub const TRN_SOURCE_BIPOLAR: u16 = 0x4000;
/// `usTransform`: where the source's curve sits (4 bits).
pub const TRN_SOURCE_SHIFT: u16 = 10;
/// `usTransform` bit: the control is inverted.
pub const TRN_CONTROL_INVERT: u16 = 0x0200;
/// `usTransform` bit: the control is bipolar.
pub const TRN_CONTROL_BIPOLAR: u16 = 0x0100;
/// `usTransform`: where the control's curve sits (4 bits).
pub const TRN_CONTROL_SHIFT: u16 = 4;
/// `usTransform`: the output curve (4 bits, lowest).
pub const TRN_OUTPUT_MASK: u16 = 0x000f;

/// `CONN_SRC_RPN0`, pitch bend range (DLS Level 2.2, Table 9; mingw-w64's dls2.h stops before
/// the RPN sources).
pub const CONN_SRC_RPN0: u16 = 0x0100;
/// `CONN_SRC_RPN1`, fine tune (DLS Level 2.2, Table 9).
pub const CONN_SRC_RPN1: u16 = 0x0101;
/// `CONN_SRC_RPN2`, coarse tune (DLS Level 2.2, Table 9).
pub const CONN_SRC_RPN2: u16 = 0x0102;

/// One in Q15.
pub const ONE_Q15: i32 = 1 << 15;

/// `-(40/96)·log10(1 - i/127)` in Q15, clipped at 1 (`i` = 127 is 1): the DLS concave curve
/// at `x = i/127`.
pub const CONCAVE_Q15: [u16; 128] = [
    0, 47, 94, 142, 190, 238, 287, 336, 386, 436, 486, 537, 589, 640, 693, 745, 798, 852, 906, 961,
    1016, 1072, 1128, 1185, 1242, 1300, 1358, 1417, 1477, 1537, 1598, 1659, 1721, 1784, 1848, 1912,
    1976, 2042, 2108, 2175, 2243, 2312, 2381, 2451, 2522, 2594, 2667, 2740, 2815, 2891, 2967, 3045,
    3123, 3203, 3283, 3365, 3448, 3532, 3618, 3704, 3792, 3881, 3972, 4064, 4157, 4252, 4348, 4446,
    4546, 4647, 4750, 4855, 4962, 5071, 5182, 5295, 5410, 5527, 5647, 5769, 5894, 6022, 6152, 6285,
    6422, 6561, 6704, 6850, 7001, 7155, 7313, 7475, 7642, 7814, 7991, 8174, 8362, 8556, 8757, 8965,
    9181, 9405, 9637, 9879, 10132, 10395, 10671, 10961, 11265, 11585, 11924, 12284, 12666, 13075,
    13515, 13990, 14505, 15071, 15695, 16394, 17186, 18100, 19181, 20504, 22210, 24614, 28724,
    32768,
];

/// A curve (`CONN_TRN_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Curve {
    /// `CONN_TRN_NONE`: linear.
    #[default]
    Linear,
    /// `CONN_TRN_CONCAVE`.
    Concave,
    /// `CONN_TRN_CONVEX`.
    Convex,
    /// `CONN_TRN_SWITCH`.
    Switch,
}

impl Curve {
    /// The curve a 4-bit `CONN_TRN_*` number names; `None` for the undefined 4..=15.
    #[must_use]
    pub fn from_number(number: u16) -> Option<Self> {
        match number {
            CONN_TRN_NONE => Some(Self::Linear),
            CONN_TRN_CONCAVE => Some(Self::Concave),
            CONN_TRN_CONVEX => Some(Self::Convex),
            CONN_TRN_SWITCH => Some(Self::Switch),
            _ => None,
        }
    }

    /// The unipolar curve at `num/den` (0..=1), Q15.
    fn at_fraction(self, num: u32, den: u32) -> i32 {
        let den = den.max(1);
        let num = num.min(den);
        match self {
            Self::Linear => i32::try_from((num << 15) / den).unwrap_or(ONE_Q15),
            Self::Concave => concave_q15(num, den),
            Self::Convex => ONE_Q15 - concave_q15(den - num, den),
            Self::Switch => {
                if 2 * num >= den {
                    ONE_Q15
                } else {
                    0
                }
            }
        }
    }
}

/// The concave curve at `num/den` (`num <= den`), interpolated between the table's points.
fn concave_q15(num: u32, den: u32) -> i32 {
    if den == 127 {
        // A unipolar 7-bit value is a point of the table (the render path reads CC7 and
        // CC11 this way for every voice).
        return i32::from(CONCAVE_Q15[usize::try_from(num).unwrap_or(127).min(127)]);
    }
    // The position on the table's 0..=127 grid, in 1/256 steps.
    let position = u64::from(num) * 127 * 256 / u64::from(den.max(1));
    let index = usize::try_from(position >> 8).unwrap_or(127).min(127);
    let fraction = i64::try_from(position & 0xff).unwrap_or(0);
    let low = i64::from(CONCAVE_Q15[index]);
    let high = i64::from(CONCAVE_Q15[(index + 1).min(127)]);
    i32::try_from(low + (((high - low) * fraction) >> 8)).unwrap_or(ONE_Q15)
}

/// How one input of a connection (its source or its control) is shaped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Shape {
    /// The curve.
    pub curve: Curve,
    /// Inverted: the ends swap.
    pub invert: bool,
    /// Bipolar: -1..1 around the centre rather than 0..1.
    pub bipolar: bool,
}

impl Shape {
    /// Linear, unipolar, not inverted: `v/128`.
    pub const LINEAR: Self = Self {
        curve: Curve::Linear,
        invert: false,
        bipolar: false,
    };

    /// The shaped value of a 7-bit `v`, Q15 (-32768..=32768).
    #[must_use]
    pub fn at(self, v: u8) -> i32 {
        let v = u32::from(v & 0x7f);
        if self.bipolar {
            let value = match (self.curve, v >= 64) {
                // Linear keeps one slope through the centre: (v - 64)/64.
                (Curve::Linear, _) => (i32::try_from(v).unwrap_or(0) - 64) << 9,
                // The switch is -1 below the centre and +1 from it.
                (Curve::Switch, true) => ONE_Q15,
                (Curve::Switch, false) => -ONE_Q15,
                (curve, true) => curve.at_fraction(v - 64, 63),
                (curve, false) => -curve.at_fraction(64 - v, 64),
            };
            if self.invert { -value } else { value }
        } else {
            let v = if self.invert { 127 - v } else { v };
            match self.curve {
                Curve::Linear => i32::try_from(v << 8).unwrap_or(0),
                curve => curve.at_fraction(v, 127),
            }
        }
    }

    /// `scale` (any unit) times the shaped `v`, rounded to the nearest unit.
    #[must_use]
    pub fn scaled(self, scale: i32, v: u8) -> i32 {
        let product = i64::from(scale) * i64::from(self.at(v));
        let rounded = (product + (1 << 14)) >> 15;
        i32::try_from(rounded.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
    }
}

/// A connection's `usTransform`, read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Transform {
    /// How the source is shaped.
    pub source: Shape,
    /// How the control is shaped.
    pub control: Shape,
}

impl Transform {
    /// Reads `bits`; `None` when a curve number is undefined or an output transform is set
    /// (DLS2 defines none).
    #[must_use]
    pub fn parse(bits: u16) -> Option<Self> {
        if bits & TRN_OUTPUT_MASK != CONN_TRN_NONE {
            return None;
        }
        Some(Self {
            source: Shape {
                curve: Curve::from_number((bits >> TRN_SOURCE_SHIFT) & 0xf)?,
                invert: bits & TRN_SOURCE_INVERT != 0,
                bipolar: bits & TRN_SOURCE_BIPOLAR != 0,
            },
            control: Shape {
                curve: Curve::from_number((bits >> TRN_CONTROL_SHIFT) & 0xf)?,
                invert: bits & TRN_CONTROL_INVERT != 0,
                bipolar: bits & TRN_CONTROL_BIPOLAR != 0,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(curve: Curve, invert: bool, bipolar: bool) -> Shape {
        Shape {
            curve,
            invert,
            bipolar,
        }
    }

    const CURVES: [Curve; 4] = [Curve::Linear, Curve::Concave, Curve::Convex, Curve::Switch];

    /// The table is the spec's formula, to the rounding of Q15.
    #[test]
    fn the_concave_table_is_the_dls_curve() {
        for (i, &q) in CONCAVE_Q15.iter().enumerate() {
            let x = f64::from(u32::try_from(i).unwrap()) / 127.0;
            let exact = if i == 127 {
                1.0
            } else {
                (-(20.0 / 96.0) * ((1.0 - x) * (1.0 - x)).log10()).min(1.0)
            };
            assert!(
                (f64::from(q) - exact * 32768.0).abs() <= 0.5,
                "concave[{i}] = {q}, the formula gives {}",
                exact * 32768.0
            );
        }
    }

    /// DLS1's velocity curve, `400·log10(127/v)` cB: the inverted concave curve at -96 dB,
    /// the same numbers as the engine's velocity table.
    #[test]
    fn inverted_concave_at_96_db_is_the_velocity_curve() {
        let curve = shape(Curve::Concave, true, false);
        for v in 0..=127u8 {
            let cb = curve.scaled(960, v);
            let table = i32::from(super::super::tables::VELOCITY_ATTENUATION_CB[usize::from(v)]);
            assert!(
                (cb - table).abs() <= 1,
                "v = {v}: {cb} cB, the table {table}"
            );
        }
    }

    #[test]
    fn unipolar_curves_have_the_spec_ends_and_middles() {
        let at = |curve, v| shape(curve, false, false).at(v);
        // Linear: v/128.
        assert_eq!((at(Curve::Linear, 0), at(Curve::Linear, 64)), (0, 16_384));
        assert_eq!(at(Curve::Linear, 127), 32_512);
        // Concave: 0 to 1; at the middle (x = 64/127) -(40/96)·log10(63/127) = 0.1269.
        assert_eq!(
            (at(Curve::Concave, 0), at(Curve::Concave, 127)),
            (0, ONE_Q15)
        );
        assert_eq!(at(Curve::Concave, 64), 4157);
        // Convex mirrors it: 1 - concave(63/127) = 1 - 0.1236.
        assert_eq!((at(Curve::Convex, 0), at(Curve::Convex, 127)), (0, ONE_Q15));
        assert_eq!(at(Curve::Convex, 64), ONE_Q15 - 4064);
        // Switch: off below the middle, on from it.
        assert_eq!((at(Curve::Switch, 63), at(Curve::Switch, 64)), (0, ONE_Q15));
        assert_eq!((at(Curve::Switch, 0), at(Curve::Switch, 127)), (0, ONE_Q15));
    }

    #[test]
    fn every_shape_is_monotonic_and_in_range() {
        for curve in CURVES {
            for (invert, bipolar) in [(false, false), (true, false), (false, true), (true, true)] {
                let s = shape(curve, invert, bipolar);
                let values: alloc::vec::Vec<i32> = (0..=127).map(|v| s.at(v)).collect();
                for pair in values.windows(2) {
                    let (a, b) = (pair[0], pair[1]);
                    assert!(
                        if invert { b <= a } else { b >= a },
                        "{s:?} not monotonic: {a} then {b}"
                    );
                }
                let low = if bipolar { -ONE_Q15 } else { 0 };
                assert!(values.iter().all(|v| (low..=ONE_Q15).contains(v)), "{s:?}");
            }
        }
    }

    #[test]
    fn inverting_swaps_the_ends() {
        for curve in CURVES {
            let (plain, inverted) = (shape(curve, false, false), shape(curve, true, false));
            for v in 0..=127u8 {
                assert_eq!(inverted.at(v), plain.at(127 - v), "{curve:?} at {v}");
            }
            let (plain, inverted) = (shape(curve, false, true), shape(curve, true, true));
            for v in 0..=127u8 {
                assert_eq!(inverted.at(v), -plain.at(v), "bipolar {curve:?} at {v}");
            }
        }
    }

    /// The continuous curve at `x` (0..=1).
    fn exact(curve: Curve, x: f64) -> f64 {
        let concave = |x: f64| {
            if x >= 1.0 {
                1.0
            } else {
                (-(20.0 / 96.0) * ((1.0 - x) * (1.0 - x)).log10()).min(1.0)
            }
        };
        match curve {
            Curve::Linear => x,
            Curve::Concave => concave(x),
            Curve::Convex => 1.0 - concave(1.0 - x),
            Curve::Switch => {
                if x >= 0.5 {
                    1.0
                } else {
                    0.0
                }
            }
        }
    }

    #[test]
    fn bipolar_curves_are_odd_around_the_centre() {
        let at = |curve, v| shape(curve, false, true).at(v);
        for curve in CURVES {
            let centre = if curve == Curve::Switch { ONE_Q15 } else { 0 };
            assert_eq!(at(curve, 64), centre, "{curve:?}");
            assert_eq!(at(curve, 0), -ONE_Q15, "{curve:?}");
        }
        // Linear: (v - 64)/64, one step short of +1 at the top.
        assert_eq!(
            (at(Curve::Linear, 96), at(Curve::Linear, 127)),
            (16_384, 32_256)
        );
        assert_eq!(at(Curve::Switch, 63), -ONE_Q15);
        // The curves reach +1 at 127 and have their unipolar shape on each half, within the
        // table's interpolation (0.5 % of full scale).
        for curve in [Curve::Concave, Curve::Convex] {
            assert_eq!(at(curve, 127), ONE_Q15);
            for v in 0..=127u8 {
                let x = f64::from(v);
                let expected = if v >= 64 {
                    exact(curve, (x - 64.0) / 63.0)
                } else {
                    -exact(curve, (64.0 - x) / 64.0)
                } * 32768.0;
                let got = f64::from(at(curve, v));
                assert!(
                    (got - expected).abs() <= 164.0,
                    "{curve:?} at {v}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn unipolar_curves_follow_the_formulas() {
        for curve in [Curve::Concave, Curve::Convex, Curve::Switch] {
            for v in 0..=127u8 {
                let expected = exact(curve, f64::from(v) / 127.0) * 32768.0;
                let got = f64::from(shape(curve, false, false).at(v));
                assert!(
                    (got - expected).abs() <= 1.0,
                    "{curve:?} at {v}: {got} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn transforms_read_the_dls2_bit_layout() {
        assert_eq!(Transform::parse(0), Some(Transform::default()));
        // The bank's velocity × velocity → cutoff: source inverted, control inverted switch.
        let t = Transform::parse(0x8230).unwrap();
        assert_eq!(t.source, shape(Curve::Linear, true, false));
        assert_eq!(t.control, shape(Curve::Switch, true, false));
        // CC7's default: concave, inverted.
        let t = Transform::parse(TRN_SOURCE_INVERT | (CONN_TRN_CONCAVE << TRN_SOURCE_SHIFT));
        assert_eq!(t.unwrap().source, shape(Curve::Concave, true, false));
        let t = Transform::parse(
            TRN_SOURCE_BIPOLAR | (CONN_TRN_CONVEX << TRN_SOURCE_SHIFT) | TRN_CONTROL_BIPOLAR,
        )
        .unwrap();
        assert_eq!(t.source, shape(Curve::Convex, false, true));
        assert_eq!(t.control, shape(Curve::Linear, false, true));
        // Undefined curve numbers, and any output transform, are not understood.
        assert_eq!(Transform::parse(4 << TRN_SOURCE_SHIFT), None);
        assert_eq!(Transform::parse(15 << TRN_CONTROL_SHIFT), None);
        assert_eq!(Transform::parse(CONN_TRN_CONCAVE), None);
    }

    /// The bit layout and the constants not in mingw-w64's headers, pinned to their public
    /// sources: DLS Level 2.2 §1.6.5 and Table 9, as `FluidSynth` 2.5.7's
    /// `src/sfloader/fluid_dls.cpp` spells them (`TRN_SRC_INV_MASK = 0b100000'000000'0000`
    /// .. `TRN_OUT_TRN_MASK = 0b1111`; `CONN_SRC_RPN0 = 0x0100` ..), and libgig's and
    /// libinstpatch's DLS headers (`conn_src_rpn0 = 0x0100`, `IPATCH_DLS2_CONN_SRC_RPN0 =
    /// 0x0100`). The `CONN_TRN_*` numbers themselves are in the ABI probe (dls1.h, dls2.h).
    #[test]
    fn constants_match_their_public_sources() {
        assert_eq!(TRN_SOURCE_INVERT, 0b1000_0000_0000_0000);
        assert_eq!(TRN_SOURCE_BIPOLAR, 0b0100_0000_0000_0000);
        assert_eq!(0xf << TRN_SOURCE_SHIFT, 0b0011_1100_0000_0000);
        assert_eq!(TRN_CONTROL_INVERT, 0b0000_0010_0000_0000);
        assert_eq!(TRN_CONTROL_BIPOLAR, 0b0000_0001_0000_0000);
        assert_eq!(0xf << TRN_CONTROL_SHIFT, 0b0000_0000_1111_0000);
        assert_eq!(TRN_OUTPUT_MASK, 0b0000_0000_0000_1111);
        assert_eq!(
            (CONN_SRC_RPN0, CONN_SRC_RPN1, CONN_SRC_RPN2),
            (0x0100, 0x0101, 0x0102)
        );
        assert_eq!(
            (
                CONN_TRN_NONE,
                CONN_TRN_CONCAVE,
                CONN_TRN_CONVEX,
                CONN_TRN_SWITCH
            ),
            (0, 1, 2, 3)
        );
    }
}
