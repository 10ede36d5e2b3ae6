//! Modulators of a voice: the modulation LFO, the vibrato LFO and the pitch envelope (EG2),
//! evaluated at a control rate and turned into a pitch offset and a gain offset.
//!
//! LFOs are triangles starting at zero and rising, silent until their delay has passed; their
//! frequency is in DLS absolute pitch cents (6900 = 440 Hz). Integer only.
//!
//! The controllers a playing note follows (the modulation wheel, channel and polyphonic
//! pressure) reach pitch, gain and cutoff straight (as a connection's source) or scale a
//! modulator's depth (as the control of an LFO connection): [`ControllerRoutes`]. The linear
//! routes to one destination add up to one [`Linear`] per controller; a route with a DLS2
//! curve (concave, convex, switch: [`super::transform`]) is kept apart, a few per note
//! ([`CURVED_ROUTES`]). All are evaluated when a controller moves, never per sample.
//!
//! GM2's modulation depth range (RPN 5, [`Controls::wheel_depth_cents`]) scales what the
//! modulation wheel adds to the LFO → pitch and vibrato → pitch depths: the instrument's own
//! depth is what it gives at GM2's default range, 50 cents.

use super::envelope::{Envelope, EnvelopeParams};
use super::fixed::{pitch_ratio_q32, time_cents_to_samples};
use super::transform::Shape;

/// An LFO's parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LfoParams {
    /// Frequency in absolute pitch cents (6900 = 440 Hz).
    pub frequency_cents: i32,
    /// Delay before the LFO starts, in time cents.
    pub delay_tc: i32,
}

impl LfoParams {
    /// 5 Hz: `6900 + 1200·log2(5/440)`, rounded (DLS2 Table 5, "Mod LFO Frequency" and
    /// "Vibrato LFO Frequency").
    pub const DEFAULT_FREQUENCY_CENTS: i32 = -851;
    /// 10 ms: `1200·log2(0.01)`, rounded (DLS2 Table 5, "Mod LFO Start Delay" and "Vibrato
    /// LFO Start Delay").
    pub const DEFAULT_DELAY_TC: i32 = -7973;
}

impl Default for LfoParams {
    /// The DLS2 defaults: 5 Hz after 10 ms.
    fn default() -> Self {
        Self {
            frequency_cents: Self::DEFAULT_FREQUENCY_CENTS,
            delay_tc: Self::DEFAULT_DELAY_TC,
        }
    }
}

/// The controllers a playing note follows, in the order of every `[Linear; CONTROLLERS]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Controls {
    /// Modulation wheel (CC1), 0..=127.
    pub mod_wheel: u8,
    /// Channel pressure, 0..=127.
    pub channel_pressure: u8,
    /// Polyphonic (key) pressure of the note's key, 0..=127.
    pub poly_pressure: u8,
    /// The channel's modulation depth range (GM2's RPN 5), cents: the modulation wheel's
    /// share of the LFO → pitch and vibrato → pitch depths is scaled by it over
    /// [`DEFAULT_WHEEL_DEPTH_CENTS`].
    pub wheel_depth_cents: u16,
}

/// GM2's default modulation depth range (RPN 5 = MSB 0, LSB 0x40 in 100/128-cent steps): 50
/// cents.
pub const DEFAULT_WHEEL_DEPTH_CENTS: u16 = 50;

impl Default for Controls {
    /// Every controller at 0, the modulation depth range at GM2's default.
    fn default() -> Self {
        Self {
            mod_wheel: 0,
            channel_pressure: 0,
            poly_pressure: 0,
            wheel_depth_cents: DEFAULT_WHEEL_DEPTH_CENTS,
        }
    }
}

/// How many controllers [`Controls`] holds.
pub const CONTROLLERS: usize = 3;

impl Controls {
    /// The values in route order: CC1, channel pressure, poly pressure.
    #[must_use]
    pub fn values(&self) -> [u8; CONTROLLERS] {
        [self.mod_wheel, self.channel_pressure, self.poly_pressure]
    }
}

/// A destination amount linear in a controller value `v` (0..=127):
/// `(base + slope · v) / 128` destination units.
///
/// A linear DLS connection's source value is `v / 128` (or `(127 - v) / 128` inverted, `(v -
/// 64) / 64` bipolar, negated when also inverted), times its scale: a sum of such connections
/// is again of this form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Linear {
    /// The amount at `v = 0`, in 1/128 units.
    pub base: i32,
    /// What each step of `v` adds, in 1/128 units.
    pub slope: i32,
}

impl Linear {
    /// Whether this route never moves its destination.
    #[must_use]
    pub fn is_zero(&self) -> bool {
        self.base == 0 && self.slope == 0
    }

    /// The amount at controller value `v`, in whole destination units.
    #[must_use]
    pub fn at(&self, v: u8) -> i64 {
        (i64::from(self.base) + i64::from(self.slope) * i64::from(v & 0x7f)) >> 7
    }
}

/// What a controller route moves: a destination straight, or a modulator's depth.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Row {
    /// Pitch, cents.
    #[default]
    Pitch,
    /// Gain, centibels.
    Gain,
    /// Filter cutoff, cents.
    Cutoff,
    /// The modulation LFO → pitch depth, cents.
    LfoToPitch,
    /// The modulation LFO → gain depth, centibels.
    LfoToGain,
    /// The vibrato LFO → pitch depth, cents.
    VibratoToPitch,
    /// The modulation LFO → cutoff depth, cents.
    LfoToCutoff,
}

impl Row {
    /// Whether RPN 5 scales the modulation wheel's share of this row (the pitch depths).
    fn follows_wheel_depth(self) -> bool {
        matches!(self, Self::LfoToPitch | Self::VibratoToPitch)
    }
}

/// A route through a DLS2 curve: `scale` times the shaped controller value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CurvedRoute {
    /// What it moves.
    pub row: Row,
    /// The controller ([`Controls::values`] index).
    pub controller: u8,
    /// The controller's curve, inversion and polarity.
    pub shape: Shape,
    /// Destination units at a shaped value of 1.
    pub scale: i32,
}

/// How many curved routes one note keeps; a connection beyond them is ignored (banks use a
/// handful of controller connections, and the linear ones are not counted here).
pub const CURVED_ROUTES: usize = 4;

/// Per controller ([`Controls::values`] order): what it moves straight, and which modulator
/// depths it scales.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControllerRoutes {
    /// Controller → pitch, cents.
    pub pitch_cents: [Linear; CONTROLLERS],
    /// Controller → gain, centibels (positive = louder).
    pub gain_cb: [Linear; CONTROLLERS],
    /// Controller → filter cutoff, cents.
    pub cutoff_cents: [Linear; CONTROLLERS],
    /// Modulation LFO → pitch with this controller as the control: depth in cents.
    pub lfo_to_pitch_cents: [Linear; CONTROLLERS],
    /// Modulation LFO → gain with this controller as the control: depth in centibels.
    pub lfo_to_gain_cb: [Linear; CONTROLLERS],
    /// Vibrato LFO → pitch with this controller as the control: depth in cents.
    pub vibrato_to_pitch_cents: [Linear; CONTROLLERS],
    /// Modulation LFO → cutoff with this controller as the control: depth in cents.
    pub lfo_to_cutoff_cents: [Linear; CONTROLLERS],
    /// The routes through a concave, convex or switch curve.
    pub curved: [Option<CurvedRoute>; CURVED_ROUTES],
}

impl ControllerRoutes {
    fn all(&self) -> [&[Linear; CONTROLLERS]; 7] {
        [
            &self.pitch_cents,
            &self.gain_cb,
            &self.cutoff_cents,
            &self.lfo_to_pitch_cents,
            &self.lfo_to_gain_cb,
            &self.vibrato_to_pitch_cents,
            &self.lfo_to_cutoff_cents,
        ]
    }

    /// The linear routes of `row`.
    #[must_use]
    pub fn row(&self, row: Row) -> &[Linear; CONTROLLERS] {
        match row {
            Row::Pitch => &self.pitch_cents,
            Row::Gain => &self.gain_cb,
            Row::Cutoff => &self.cutoff_cents,
            Row::LfoToPitch => &self.lfo_to_pitch_cents,
            Row::LfoToGain => &self.lfo_to_gain_cb,
            Row::VibratoToPitch => &self.vibrato_to_pitch_cents,
            Row::LfoToCutoff => &self.lfo_to_cutoff_cents,
        }
    }

    /// The linear routes of `row`, to add to.
    pub fn row_mut(&mut self, row: Row) -> &mut [Linear; CONTROLLERS] {
        match row {
            Row::Pitch => &mut self.pitch_cents,
            Row::Gain => &mut self.gain_cb,
            Row::Cutoff => &mut self.cutoff_cents,
            Row::LfoToPitch => &mut self.lfo_to_pitch_cents,
            Row::LfoToGain => &mut self.lfo_to_gain_cb,
            Row::VibratoToPitch => &mut self.vibrato_to_pitch_cents,
            Row::LfoToCutoff => &mut self.lfo_to_cutoff_cents,
        }
    }

    /// Keeps a curved route; false (and nothing kept) when all [`CURVED_ROUTES`] are taken.
    pub fn add_curved(&mut self, route: CurvedRoute) -> bool {
        match self.curved.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => {
                *slot = Some(route);
                true
            }
            None => false,
        }
    }

    /// Whether no controller moves anything.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.all().iter().all(|row| row.iter().all(Linear::is_zero))
            && self.curved.iter().flatten().all(|c| c.scale == 0)
    }

    /// The sum of `row`'s routes at `controls`, in whole units, on top of `fixed`.
    fn total(&self, row: Row, fixed: i32, controls: Controls) -> i32 {
        let values = controls.values();
        let mut by_controller = [0i64; CONTROLLERS];
        for ((amount, route), v) in by_controller.iter_mut().zip(self.row(row)).zip(values) {
            *amount = route.at(v);
        }
        for c in self.curved.iter().flatten().filter(|c| c.row == row) {
            let index = usize::from(c.controller);
            if let (Some(amount), Some(&v)) = (by_controller.get_mut(index), values.get(index)) {
                *amount += i64::from(c.shape.scaled(c.scale, v));
            }
        }
        if row.follows_wheel_depth() {
            by_controller[0] = by_controller[0] * i64::from(controls.wheel_depth_cents)
                / i64::from(DEFAULT_WHEEL_DEPTH_CENTS);
        }
        let total = by_controller.iter().sum::<i64>() + i64::from(fixed);
        i32::try_from(total.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
    }
}

/// The modulators of one note and their depths.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModulationParams {
    /// The modulation LFO.
    pub lfo: LfoParams,
    /// The vibrato LFO.
    pub vibrato: LfoParams,
    /// EG2.
    pub pitch_envelope: EnvelopeParams,
    /// Pitch swing of the modulation LFO at full scale, cents.
    pub lfo_to_pitch_cents: i32,
    /// Gain swing of the modulation LFO at full scale, centibels.
    pub lfo_to_gain_cb: i32,
    /// Pitch swing of the vibrato LFO at full scale, cents.
    pub vibrato_to_pitch_cents: i32,
    /// Pitch offset of EG2 at full level, cents.
    pub eg2_to_pitch_cents: i32,
    /// Filter cutoff offset of EG2 at full level, cents.
    pub eg2_to_cutoff_cents: i32,
    /// Filter cutoff swing of the modulation LFO at full scale, cents.
    pub lfo_to_cutoff_cents: i32,
    /// What the controllers add to these depths, and what they move straight.
    pub controlled: ControllerRoutes,
}

/// What the modulators contribute at one control tick.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offsets {
    /// Pitch offset, cents.
    pub pitch_cents: i32,
    /// Gain offset, centibels (positive = louder).
    pub gain_cb: i32,
    /// Filter cutoff offset, cents.
    pub cutoff_cents: i32,
}

impl ModulationParams {
    /// The depths with the controllers at `controls`; the routes themselves are kept (they
    /// apply again when a controller moves).
    #[must_use]
    pub fn at(&self, controls: Controls) -> Self {
        let r = &self.controlled;
        Self {
            lfo_to_pitch_cents: r.total(Row::LfoToPitch, self.lfo_to_pitch_cents, controls),
            lfo_to_gain_cb: r.total(Row::LfoToGain, self.lfo_to_gain_cb, controls),
            vibrato_to_pitch_cents: r.total(
                Row::VibratoToPitch,
                self.vibrato_to_pitch_cents,
                controls,
            ),
            lfo_to_cutoff_cents: r.total(Row::LfoToCutoff, self.lfo_to_cutoff_cents, controls),
            ..*self
        }
    }

    /// Whether any modulator reaches pitch, gain or cutoff with the controllers at rest (a
    /// voice whose modulators are all silent need not run them).
    #[must_use]
    pub fn is_active(&self) -> bool {
        self.lfo_to_pitch_cents != 0
            || self.lfo_to_gain_cb != 0
            || self.vibrato_to_pitch_cents != 0
            || self.eg2_to_pitch_cents != 0
            || self.eg2_to_cutoff_cents != 0
            || self.lfo_to_cutoff_cents != 0
    }
}

/// A running triangle LFO.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lfo {
    phase: u32,
    step: u32,
    delay: u32,
}

impl Lfo {
    /// Starts an LFO for output at `rate` Hz.
    #[must_use]
    pub fn start(params: &LfoParams, rate: u32) -> Self {
        // Cycles per sample in Q32: 440 Hz · 2^((cents - 6900)/1200) / rate.
        let ratio = u128::from(pitch_ratio_q32(params.frequency_cents.saturating_sub(6900)));
        let step = ratio * 440 / u128::from(rate.max(1));
        Self {
            phase: 0,
            step: u32::try_from(step).unwrap_or(u32::MAX),
            delay: time_cents_to_samples(params.delay_tc, rate),
        }
    }

    /// The value now (Q15, -32768..=32767), then advances `samples` samples.
    pub fn tick(&mut self, samples: u32) -> i32 {
        let value = if self.delay > 0 {
            0
        } else {
            triangle_q15(self.phase)
        };
        let waiting = self.delay.min(samples);
        self.delay -= waiting;
        self.phase = self
            .phase
            .wrapping_add(self.step.wrapping_mul(samples - waiting));
        value
    }
}

/// A triangle over one cycle of a Q32 phase: 0 at 0, +1 at a quarter, 0 at a half, -1 at three
/// quarters.
fn triangle_q15(phase: u32) -> i32 {
    let t = i32::try_from(phase >> 16).unwrap_or(0);
    let v = match t {
        0..16_384 => 2 * t,
        16_384..49_152 => 32_768 - 2 * (t - 16_384),
        _ => 2 * (t - 49_152) - 32_768,
    };
    v.min(32_767)
}

/// The running modulators of one voice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Modulator {
    lfo: Lfo,
    vibrato: Lfo,
    eg2: Envelope,
    /// The note's parameters, with the depths the controllers have now.
    params: ModulationParams,
    /// The depths with every controller at 0 (the note's own).
    at_rest: ModulationParams,
    /// What the controllers move straight (pitch, gain, cutoff), now.
    direct: Offsets,
    /// Which of the modulation LFO, the vibrato LFO and EG2 something listens to, with the
    /// depths now: kept with the depths, not worked out from them every tick.
    heard: Heard,
}

/// Which modulators reach a destination (see [`Modulator::tick`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "four flags each tick tests once, each a byte load; not states of one machine"
)]
struct Heard {
    lfo: bool,
    vibrato: bool,
    eg2: bool,
    /// `lfo || vibrato`.
    any_lfo: bool,
}

impl Heard {
    fn of(p: &ModulationParams) -> Self {
        let lfo = p.lfo_to_pitch_cents != 0 || p.lfo_to_gain_cb != 0 || p.lfo_to_cutoff_cents != 0;
        let vibrato = p.vibrato_to_pitch_cents != 0;
        Self {
            lfo,
            vibrato,
            eg2: p.eg2_to_pitch_cents != 0 || p.eg2_to_cutoff_cents != 0,
            any_lfo: lfo || vibrato,
        }
    }
}

impl Modulator {
    /// Starts the modulators at note-on, for output at `rate` Hz.
    #[must_use]
    pub fn start(params: &ModulationParams, rate: u32) -> Self {
        let mut modulator = Self {
            lfo: Lfo::start(&params.lfo, rate),
            vibrato: Lfo::start(&params.vibrato, rate),
            eg2: Envelope::start_linear(&params.pitch_envelope, rate),
            params: *params,
            at_rest: *params,
            direct: Offsets::default(),
            heard: Heard::default(),
        };
        modulator.set_controls(Controls::default());
        modulator
    }

    /// The controllers moved: the depths and the straight offsets they give. Bounded work
    /// (21 multiply-adds and up to [`CURVED_ROUTES`] curve lookups per row); run when a
    /// controller message arrives, not per sample.
    pub fn set_controls(&mut self, controls: Controls) {
        self.params = self.at_rest.at(controls);
        self.heard = Heard::of(&self.params);
        let r = &self.at_rest.controlled;
        self.direct = Offsets {
            pitch_cents: r.total(Row::Pitch, 0, controls),
            gain_cb: r.total(Row::Gain, 0, controls),
            cutoff_cents: r.total(Row::Cutoff, 0, controls),
        };
    }

    /// Whether anything reaches the voice now: a modulator with a depth, or a controller's
    /// straight offset.
    #[must_use]
    pub fn is_heard(&self) -> bool {
        self.params.is_active() || self.direct != Offsets::default()
    }

    /// Note-off: EG2 enters its release.
    pub fn release(&mut self) {
        self.eg2.release();
    }

    /// The offsets now, then advances `samples` samples.
    pub fn tick(&mut self, samples: u32) -> Offsets {
        let p = &self.params;
        // A modulator nothing listens to is not run: its depths are fixed for the note, so it
        // can never be heard (most voices use one or two of the three).
        let lfo = if self.heard.lfo {
            i64::from(self.lfo.tick(samples))
        } else {
            0
        };
        let vibrato = if self.heard.vibrato {
            i64::from(self.vibrato.tick(samples))
        } else {
            0
        };
        // The gain at the period's last sample, as `samples` single steps would leave it.
        let eg2 = if samples == 0 || !self.heard.eg2 {
            0
        } else {
            i64::from(self.eg2.last_gain_of(samples))
        };
        let clamp =
            |v: i64| i32::try_from(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0);
        let d = &self.direct;
        let eg2_pitch = eg2 * i64::from(p.eg2_to_pitch_cents);
        let eg2_cutoff = eg2 * i64::from(p.eg2_to_cutoff_cents);
        if !self.heard.any_lfo {
            // The LFOs' terms are zero, and the gain is the controllers' alone: the usual
            // voice of the shared bank (EG2 alone) spends five multiplies less a period.
            return Offsets {
                pitch_cents: clamp((eg2_pitch >> 15) + i64::from(d.pitch_cents)),
                gain_cb: d.gain_cb,
                cutoff_cents: clamp((eg2_cutoff >> 15) + i64::from(d.cutoff_cents)),
            };
        }
        Offsets {
            pitch_cents: clamp(
                ((lfo * i64::from(p.lfo_to_pitch_cents)
                    + vibrato * i64::from(p.vibrato_to_pitch_cents)
                    + eg2_pitch)
                    >> 15)
                    + i64::from(d.pitch_cents),
            ),
            gain_cb: clamp(((lfo * i64::from(p.lfo_to_gain_cb)) >> 15) + i64::from(d.gain_cb)),
            cutoff_cents: clamp(
                ((lfo * i64::from(p.lfo_to_cutoff_cents) + eg2_cutoff) >> 15)
                    + i64::from(d.cutoff_cents),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_routes_follow_the_controller() {
        // Scale 50 cents, plain source: 0 at rest, 50 * 127/128 at full.
        let plain = Linear { base: 0, slope: 50 };
        assert_eq!((plain.at(0), plain.at(64), plain.at(127)), (0, 25, 49));
        // Bipolar: (2v - 127)/128 of 100: -100 .. +100 (just under at each end).
        let bipolar = Linear {
            base: -127 * 100,
            slope: 200,
        };
        assert_eq!((bipolar.at(0), bipolar.at(127)), (-100, 99));
        assert!(Linear::default().is_zero() && !plain.is_zero());
    }

    /// The modulation wheel scales the vibrato depth (DLS2's default CC1 connection) and
    /// pressure reaches the cutoff straight; neither runs while its controller rests at 0.
    #[test]
    fn controllers_scale_depths_and_move_destinations() {
        let mut params = ModulationParams {
            vibrato: LfoParams {
                frequency_cents: 6900,
                delay_tc: super::super::fixed::TIME_CENTS_ZERO,
            },
            ..ModulationParams::default()
        };
        params.controlled.vibrato_to_pitch_cents[0] = Linear {
            base: 0,
            slope: 50 * 128 / 128,
        };
        params.controlled.cutoff_cents[1] = Linear {
            base: 0,
            slope: 1200,
        };
        assert!(!params.is_active(), "at rest nothing moves");
        assert!(!params.controlled.is_empty());
        let mut m = Modulator::start(&params, 44_000);
        assert!(!m.is_heard());
        m.set_controls(Controls {
            mod_wheel: 127,
            ..Controls::default()
        });
        assert!(m.is_heard());
        assert_eq!(m.params.vibrato_to_pitch_cents, 49);
        m.tick(25);
        let peak = m.tick(25);
        assert_eq!(peak.pitch_cents, 48, "a quarter cycle in: the whole depth");
        m.set_controls(Controls {
            channel_pressure: 64,
            ..Controls::default()
        });
        assert_eq!(m.params.vibrato_to_pitch_cents, 0);
        assert_eq!(m.tick(1).cutoff_cents, 600);
    }

    #[test]
    fn triangle_has_its_corners() {
        assert_eq!(triangle_q15(0), 0);
        assert_eq!(triangle_q15(1 << 30), 32_767);
        assert_eq!(triangle_q15(1 << 31), 0);
        assert_eq!(triangle_q15(3 << 30), -32_768);
        assert_eq!(triangle_q15(1 << 29), 16_384);
    }

    #[test]
    fn lfo_runs_at_its_frequency_after_its_delay() {
        // 440 Hz at 44000 Hz: 100 samples per cycle; delay 0.5 s (-1200 tc) = 22000 samples.
        let mut lfo = Lfo::start(
            &LfoParams {
                frequency_cents: 6900,
                delay_tc: -1200,
            },
            44_000,
        );
        assert_eq!(lfo.tick(22_000), 0, "silent during the delay");
        assert_eq!(lfo.tick(25), 0, "starts at zero");
        let peak = lfo.tick(25);
        assert!(peak > 32_700, "a quarter cycle later it peaks, got {peak}");
        assert!(lfo.tick(25).abs() < 100);
        assert!(lfo.tick(25) < -32_700);
        // The bank's -1118 cents is about 4.3 Hz.
        let slow = Lfo::start(
            &LfoParams {
                frequency_cents: -1118,
                delay_tc: super::super::fixed::TIME_CENTS_ZERO,
            },
            22_050,
        );
        let hz = f64::from(slow.step) * 22_050.0 / 2f64.powi(32);
        assert!((hz - 4.3).abs() < 0.05, "{hz} Hz");
    }

    /// Without an LFO heard, `tick` takes a short path; it gives what the general sum gives
    /// (the LFOs' terms zero), for EG2 through its stages and for controllers' straight
    /// offsets, up to the clamps.
    #[test]
    fn the_lfo_free_path_equals_the_general_sum() {
        let envelope = EnvelopeParams {
            attack_tc: -2400,
            hold_tc: -4800,
            decay_tc: 1200,
            sustain_permille: 300,
            release_tc: 0,
            ..EnvelopeParams::default()
        };
        for (to_pitch, to_cutoff, direct) in [
            (1200, -2400, 0),
            (-700, 4800, 300),
            (0, 9600, -50),
            (i32::MAX, i32::MIN, i32::MAX),
            (i32::MIN, i32::MAX, i32::MIN),
        ] {
            let params = ModulationParams {
                pitch_envelope: envelope,
                eg2_to_pitch_cents: to_pitch,
                eg2_to_cutoff_cents: to_cutoff,
                ..ModulationParams::default()
            };
            let mut short = Modulator::start(&params, 44_100);
            short.direct = Offsets {
                pitch_cents: direct,
                gain_cb: direct,
                cutoff_cents: direct / -2,
            };
            assert!(!short.heard.any_lfo);
            let mut general = short.clone();
            general.heard = Heard {
                lfo: true,
                vibrato: true,
                any_lfo: true,
                ..general.heard
            };
            for period in 0..3000 {
                if period == 2000 {
                    short.release();
                    general.release();
                }
                assert_eq!(short.tick(64), general.tick(64), "period {period}");
            }
        }
    }

    #[test]
    fn modulator_combines_depths() {
        let params = ModulationParams {
            lfo: LfoParams {
                frequency_cents: 6900,
                delay_tc: super::super::fixed::TIME_CENTS_ZERO,
            },
            lfo_to_pitch_cents: 50,
            lfo_to_gain_cb: 30,
            eg2_to_pitch_cents: 1200,
            ..ModulationParams::default()
        };
        assert!(params.is_active());
        assert!(!ModulationParams::default().is_active());
        let mut m = Modulator::start(&params, 44_000);
        // At phase 0 the LFO is 0; EG2 (default: full, sustain 100 %) adds its whole depth.
        let o = m.tick(25);
        assert_eq!((o.pitch_cents, o.gain_cb, o.cutoff_cents), (1199, 0, 0));
        let o = m.tick(25);
        assert_eq!((o.pitch_cents, o.gain_cb), (1249, 29));
        m.release();
        let pitch = m.tick(1).pitch_cents;
        assert!(
            pitch.abs() <= 50,
            "EG2 released at once, LFO remains: {pitch}"
        );
    }
}
