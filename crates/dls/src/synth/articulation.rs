//! From articulation data to the parameters of one note.
//!
//! Supported now: constant connections (source and control `CONN_SRC_NONE`) and connections
//! from key number or key-on velocity (through any DLS2 transform, [`super::transform`], and
//! optionally with key number or velocity as their control) to the EG1 and EG2 times and
//! sustain levels, the LFO and vibrato frequencies and delays, gain, pitch
//! and pan; the EG1 shutdown time (`CONN_DST_EG1_SHUTDOWNTIME`, 15 ms unless stated); and the
//! modulators LFO → pitch, LFO → gain, vibrato → pitch and EG2 → pitch (their
//! depth, taken from the scale); the filter cutoff (a constant sets it, key and velocity move
//! it, EG2 and the LFO modulate it) and resonance. A region's connection replaces the
//! instrument's connection with the same source, control and destination; the others add up.
//!
//! Controller sources (see [`ChannelRoutes`] and [`ControllerRoutes`]): the pitch wheel with
//! RPN 0 as its control to pitch (linear: a curve on the 14-bit wheel is not supported and the
//! connection is ignored); CC7 and CC11 to gain and CC10 to pan, through any transform; the
//! modulation wheel (CC1), channel pressure and poly pressure to pitch, gain and cutoff, and
//! as the control of the LFO → pitch / gain / cutoff and vibrato → pitch depths, through any
//! transform (a curved one takes one of the note's [`CURVED_ROUTES`](super::modulation::CURVED_ROUTES); past them it is
//! ignored). Every transform is read by [`Transform::parse`]: a connection with an undefined
//! curve or an output transform (DLS2 defines none) is ignored whole. The effect sends
//! (`CONN_DST_REVERB`, `CONN_DST_CHORUS`) are read apart, by [`effect_sends`], for the
//! engine's send stage.
//!
//! Not connection sources here, deliberately: RPN 1 and RPN 2 (the channel's tuning applies
//! to every note at the DLS2 default scales, in the engine), the LFO, vibrato and EG2 with a
//! transform of their own (they are bipolar and unipolar by nature; their source bits are not
//! read), EG1 as a source, and a controller as the control of a controller.
//!
//! The implied DLS connections apply unless the articulation states its own: key number to
//! pitch at 12800 cents over the key range (100 cents per key, counted from the unity note, so
//! a scale of 0 plays every key at the sample's own pitch, as drum kits do), and the concave
//! key-on velocity curve to attenuation.
//!
//! So do the DLS2 default connections of the controllers (DLS2 §2.10, the default connection
//! table): CC7 → gain and CC11 → gain at -96 dB, concave and inverted; CC10 → pan at ±50 %
//! (bipolar); pitch wheel × RPN 0 → pitch at 12800 cents (so a full bend reaches the RPN 0
//! range). The modulation wheel and pressure have no default route: DLS2's table gives the
//! LFO and vibrato × CC1 and × channel pressure connections 0 cents (as Android's Sonivox EAS,
//! a DLS2 implementation, states them: `arm-wt-22k/lib_src/eas_mdls.c`, `defaultArt`,
//! "Vibrato CC1 to pitch: 0 cents"). `FluidSynth`'s 50 cents of CC1 and of channel pressure
//! to the vibrato are `SoundFont` 2.01's default modulators (§8.4.3, §8.4.4), which it applies
//! to DLS instruments too; a DLS instrument that wants the wheel's vibrato states it (as the
//! DLS1 `pcMWToPitch` does).

use super::envelope::{DEFAULT_SHUTDOWN_TC, EnvelopeParams};
use super::fixed::TIME_CENTS_ZERO;
use super::modulation::{ControllerRoutes, CurvedRoute, LfoParams, Linear, ModulationParams, Row};
use super::tables::VELOCITY_ATTENUATION_CB;
pub use super::transform::CONN_SRC_RPN0;
use super::transform::{Curve, ONE_Q15, Shape, Transform};
use crate::download::{Articulation, ParsedRegion};
use crate::model::Connection;
use dmus_sys::dls::DMUS_ARTICPARAMS;
use dmus_sys::dls::{
    CONN_DST_ATTENUATION, CONN_DST_EG1_ATTACKTIME, CONN_DST_EG1_DECAYTIME, CONN_DST_EG1_DELAYTIME,
    CONN_DST_EG1_HOLDTIME, CONN_DST_EG1_RELEASETIME, CONN_DST_EG1_SHUTDOWNTIME,
    CONN_DST_EG1_SUSTAINLEVEL, CONN_DST_EG2_ATTACKTIME, CONN_DST_EG2_DECAYTIME,
    CONN_DST_EG2_DELAYTIME, CONN_DST_EG2_HOLDTIME, CONN_DST_EG2_RELEASETIME,
    CONN_DST_EG2_SUSTAINLEVEL, CONN_DST_FILTER_CUTOFF, CONN_DST_FILTER_Q, CONN_DST_LFO_FREQUENCY,
    CONN_DST_LFO_STARTDELAY, CONN_DST_PAN, CONN_DST_PITCH, CONN_DST_VIB_FREQUENCY,
    CONN_DST_VIB_STARTDELAY, CONN_SRC_CC1, CONN_SRC_CC7, CONN_SRC_CC10, CONN_SRC_CC11,
    CONN_SRC_CHANNELPRESSURE, CONN_SRC_EG2, CONN_SRC_KEYNUMBER, CONN_SRC_KEYONVELOCITY,
    CONN_SRC_LFO, CONN_SRC_NONE, CONN_SRC_PITCHWHEEL, CONN_SRC_POLYPRESSURE, CONN_SRC_VIBRATO,
};

/// The DLS2 default pitch wheel × RPN 0 → pitch scale, cents: a full bend reaches the range.
pub const DEFAULT_BEND_SCALE_CENTS: i32 = 12_800;
/// The DLS2 default CC7 → gain and CC11 → gain scale, centibels (-96 dB).
pub const DEFAULT_VOLUME_SCALE_CB: i32 = -960;
/// The DLS2 default CC10 → pan scale, per mille (±50 %).
pub const DEFAULT_PAN_SCALE_PERMILLE: i32 = 500;

/// How a note follows its channel's volume (CC7), expression (CC11), pan (CC10) and pitch
/// wheel: the DLS2 defaults unless the articulation states its own connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelRoutes {
    /// Pitch wheel × RPN 0 → pitch: cents at a full bend and a 128-semitone range.
    pub bend_scale_cents: i32,
    /// CC7 → gain.
    pub volume: GainCurve,
    /// CC11 → gain.
    pub expression: GainCurve,
    /// CC10 → pan, per mille (MIDI's centre, 64, is the centre when bipolar): the linear
    /// connections.
    pub pan: Linear,
    /// A CC10 → pan connection through a curve: its scale (per mille) and shape.
    pub pan_curved: Option<(i32, Shape)>,
}

impl Default for ChannelRoutes {
    /// The DLS2 default connections.
    fn default() -> Self {
        Self {
            bend_scale_cents: DEFAULT_BEND_SCALE_CENTS,
            volume: GainCurve::DEFAULT,
            expression: GainCurve::DEFAULT,
            pan: linear(
                DEFAULT_PAN_SCALE_PERMILLE,
                Shape {
                    bipolar: true,
                    ..Shape::LINEAR
                },
            ),
            pan_curved: None,
        }
    }
}

impl ChannelRoutes {
    /// The pitch of `bend` (-8192..=8191) with a bend range of `range_cents` (RPN 0).
    #[must_use]
    pub fn bend_cents(&self, bend: i16, range_cents: i32) -> i32 {
        let cents = i64::from(bend) * i64::from(range_cents) * i64::from(self.bend_scale_cents)
            / (8192 * i64::from(DEFAULT_BEND_SCALE_CENTS));
        clamp_i32(cents)
    }

    /// The attenuation of volume `cc7` and expression `cc11`, centibels.
    #[must_use]
    pub fn attenuation_cb(&self, cc7: u8, cc11: u8) -> i32 {
        self.volume
            .attenuation_cb(cc7)
            .saturating_add(self.expression.attenuation_cb(cc11))
    }

    /// Pan of `cc10`, per mille.
    #[must_use]
    pub fn pan_permille(&self, cc10: u8) -> i32 {
        let curved = self
            .pan_curved
            .map_or(0, |(scale, shape)| i64::from(shape.scaled(scale, cc10)));
        clamp_i32((self.pan.at(cc10) + curved).clamp(-500, 500))
    }
}

/// A controller → gain connection: its scale and its source's shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GainCurve {
    /// Gain at full source, centibels (negative attenuates).
    pub scale_cb: i32,
    /// The source's curve, inversion and polarity.
    pub shape: Shape,
}

impl GainCurve {
    /// The DLS2 default for CC7 and CC11: -96 dB, concave, inverted.
    pub const DEFAULT: Self = Self {
        scale_cb: DEFAULT_VOLUME_SCALE_CB,
        shape: Shape {
            curve: Curve::Concave,
            invert: true,
            bipolar: false,
        },
    };

    /// The attenuation at controller value `v`, centibels. A table lookup and a multiply (the
    /// render path asks it for every voice).
    #[must_use]
    pub fn attenuation_cb(&self, v: u8) -> i32 {
        if *self == Self::DEFAULT {
            // The inverted concave curve at -96 dB is DLS1's velocity curve, 400·log10(127/v).
            return i32::from(VELOCITY_ATTENUATION_CB[usize::from(v & 0x7f)]);
        }
        self.shape.scaled(self.scale_cb, v).saturating_neg()
    }
}

/// `scale` (whole units) times a linear 7-bit value of `shape`'s invert and bipolar bits:
/// `v/128`, `(127 - v)/128`, `(v - 64)/64` and its negation.
fn linear(scale: i32, shape: Shape) -> Linear {
    let (base, slope) = match (shape.bipolar, shape.invert) {
        (false, false) => (0, 1),
        (false, true) => (127, -1),
        (true, false) => (-128, 2),
        (true, true) => (128, -2),
    };
    Linear {
        base: scale.saturating_mul(base),
        slope: scale.saturating_mul(slope),
    }
}

fn add_linear(total: &mut Linear, more: Linear) {
    total.base = total.base.saturating_add(more.base);
    total.slope = total.slope.saturating_add(more.slope);
}

/// The [`Controls`](super::modulation::Controls) index of a controller source.
fn controller_index(source: u16) -> Option<usize> {
    match source {
        CONN_SRC_CC1 => Some(0),
        CONN_SRC_CHANNELPRESSURE => Some(1),
        CONN_SRC_POLYPRESSURE => Some(2),
        _ => None,
    }
}

/// What one note plays with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoteParams {
    /// Pitch relative to the wave at its unity note, in cents (key tracking, unity note, fine
    /// tune and pitch connections).
    pub pitch_cents: i32,
    /// Attenuation in centibels (velocity curve, sample attenuation, gain connections);
    /// negative values are gain.
    pub attenuation_cb: i32,
    /// Pan, -500 (left) ..= 500 (right) per mille.
    pub pan_permille: i32,
    /// The volume envelope.
    pub envelope: EnvelopeParams,
    /// LFOs and the pitch envelope, and how deep they reach.
    pub modulation: ModulationParams,
    /// The low-pass filter, when the articulation sets a cutoff (DLS: none means no filter).
    pub filter: Option<FilterParams>,
    /// How the note follows its channel's volume, expression, pan and pitch wheel.
    pub channel: ChannelRoutes,
}

/// A voice filter's static setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterParams {
    /// Cutoff in absolute pitch cents (6900 = 440 Hz).
    pub cutoff_cents: i32,
    /// Resonance in centibels.
    pub resonance_cb: i32,
}

/// The value of a source or control fixed at note-on (none, key number, velocity) through
/// `shape`, Q15; `None` for any other source.
fn note_on_value(source: u16, shape: Shape, key: u8, velocity: u8) -> Option<i64> {
    let v = match source {
        CONN_SRC_NONE => return Some(i64::from(ONE_Q15)),
        CONN_SRC_KEYNUMBER => key,
        CONN_SRC_KEYONVELOCITY => velocity,
        _ => return None,
    };
    Some(i64::from(shape.at(v)))
}

/// The connection's contribution in whole destination units: `scale · source · control`, for
/// a connection whose source and control are fixed at note-on.
fn contribution(connection: &Connection, key: u8, velocity: u8) -> Option<i64> {
    let transform = Transform::parse(connection.transform)?;
    let source = note_on_value(connection.source, transform.source, key, velocity)?;
    let control = note_on_value(connection.control, transform.control, key, velocity)?;
    let q30 = (source * control) >> 15;
    Some((i64::from(connection.scale) * q30) >> (16 + 15))
}

fn same_slot(a: &Connection, b: &Connection) -> bool {
    (a.source, a.control, a.destination) == (b.source, b.control, b.destination)
}

/// A DLS1 `DMUS_ARTICPARAMS` as the connections DLS1 defines for it (the mod-wheel depths,
/// `gcMWToVolume` and `pcMWToPitch`, are the LFO with CC1 as its control).
fn dls1_connections(p: &DMUS_ARTICPARAMS) -> [Connection; 20] {
    let c = |source, destination, scale: i32| Connection {
        source,
        control: CONN_SRC_NONE,
        destination,
        transform: 0,
        scale,
    };
    let by_wheel = |destination, scale: i32| Connection {
        control: CONN_SRC_CC1,
        ..c(CONN_SRC_LFO, destination, scale)
    };
    let (lfo, vol, pitch) = (&p.LFO, &p.VolEG, &p.PitchEG);
    [
        c(CONN_SRC_NONE, CONN_DST_EG1_ATTACKTIME, vol.tcAttack),
        c(CONN_SRC_NONE, CONN_DST_EG1_DECAYTIME, vol.tcDecay),
        c(CONN_SRC_NONE, CONN_DST_EG1_SUSTAINLEVEL, vol.ptSustain),
        c(CONN_SRC_NONE, CONN_DST_EG1_RELEASETIME, vol.tcRelease),
        c(
            CONN_SRC_KEYONVELOCITY,
            CONN_DST_EG1_ATTACKTIME,
            vol.tcVel2Attack,
        ),
        c(CONN_SRC_KEYNUMBER, CONN_DST_EG1_DECAYTIME, vol.tcKey2Decay),
        c(CONN_SRC_NONE, CONN_DST_EG2_ATTACKTIME, pitch.tcAttack),
        c(CONN_SRC_NONE, CONN_DST_EG2_DECAYTIME, pitch.tcDecay),
        c(CONN_SRC_NONE, CONN_DST_EG2_SUSTAINLEVEL, pitch.ptSustain),
        c(CONN_SRC_NONE, CONN_DST_EG2_RELEASETIME, pitch.tcRelease),
        c(
            CONN_SRC_KEYONVELOCITY,
            CONN_DST_EG2_ATTACKTIME,
            pitch.tcVel2Attack,
        ),
        c(
            CONN_SRC_KEYNUMBER,
            CONN_DST_EG2_DECAYTIME,
            pitch.tcKey2Decay,
        ),
        c(CONN_SRC_EG2, CONN_DST_PITCH, pitch.pcRange),
        c(CONN_SRC_NONE, CONN_DST_LFO_FREQUENCY, lfo.pcFrequency),
        c(CONN_SRC_NONE, CONN_DST_LFO_STARTDELAY, lfo.tcDelay),
        c(CONN_SRC_LFO, CONN_DST_PITCH, lfo.pcPitchScale),
        c(CONN_SRC_LFO, CONN_DST_ATTENUATION, lfo.gcVolumeScale),
        by_wheel(CONN_DST_PITCH, lfo.pcMWToPitch),
        by_wheel(CONN_DST_ATTENUATION, lfo.gcMWToVolume),
        c(CONN_SRC_NONE, CONN_DST_PAN, p.Misc.ptDefaultPan),
    ]
}

/// Calls `f` on every connection of `articulation`.
fn visit(articulation: Option<&Articulation>, f: &mut impl FnMut(&Connection)) {
    match articulation {
        Some(Articulation::Dls2(blocks)) => blocks.iter().flat_map(|b| &b.connections).for_each(f),
        Some(Articulation::Dls1(p)) => dls1_connections(p).iter().for_each(f),
        None => {}
    }
}

/// Calls `f` on the effective connections: the instrument's that the region does not replace,
/// then the region's. No allocation (this runs at note-on, in the render path).
fn visit_effective(
    global: Option<&Articulation>,
    region: Option<&Articulation>,
    f: &mut impl FnMut(&Connection),
) {
    visit(global, &mut |g| {
        let mut replaced = false;
        visit(region, &mut |r| replaced |= same_slot(r, g));
        if !replaced {
            f(g);
        }
    });
    visit(region, f);
}

fn clamp_i32(v: i64) -> i32 {
    i32::try_from(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0)
}

/// The sums of the connections of one note, by destination.
#[derive(Default)]
struct Sums {
    pitch: i64,
    gain: i64,
    pan: i64,
    /// EG1 (0) and EG2 (1): delay, attack, hold, decay, release: the constant, and what key
    /// and velocity add to it.
    times: [[(TimeConstant, i64); 5]; 2],
    /// EG1 (0) and EG2 (1) sustain levels: the constant (the default, 100 %, when none), and
    /// what key and velocity add to it.
    sustain: [(Option<i64>, i64); 2],
    /// The EG1 shutdown time: its constant, and what key and velocity add to it.
    shutdown: TimeConstant,
    shutdown_offset: i64,
    /// Modulation LFO (0) and vibrato LFO (1): frequency (absolute pitch cents) and delay.
    lfo: [(Option<i64>, Option<i64>); 2],
    /// Depths: LFO → pitch, LFO → gain, vibrato → pitch, EG2 → pitch, EG2 → cutoff,
    /// LFO → cutoff.
    depth: [i64; 6],
    /// Filter cutoff set by a constant connection, and what key and velocity add to it.
    cutoff: Option<i64>,
    cutoff_offset: i64,
    resonance: i64,
    /// Key tracking (16.16 cents over the key range); the default applies when `None`.
    key_to_pitch_q16: Option<i64>,
    velocity_to_gain: bool,
    /// Controller routes of the playing note.
    controlled: ControllerRoutes,
    /// Pitch wheel × RPN 0 → pitch, CC7 and CC11 → gain, CC10 → pan, when stated.
    bend_scale: Option<i64>,
    volume: Option<GainCurve>,
    expression: Option<GainCurve>,
    pan_route: Option<Linear>,
    /// A curved CC10 → pan connection (the first one).
    pan_curved: Option<(i32, Shape)>,
}

/// The constant connection to a time destination (an envelope stage, the EG1 shutdown time).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum TimeConstant {
    /// None: the destination's DLS2 default.
    #[default]
    Default,
    /// This many time cents (replacing the default).
    Time(i64),
    /// 0x80000000, "no time": zero whatever else adds to it (DLS2 §1.14.3).
    NoTime,
}

impl TimeConstant {
    /// This constant after connection `value` (a constant one when `constant`, or "no time"
    /// when `no_time`); a key or velocity connection adds to `offset` instead.
    fn with(self, value: i64, constant: bool, no_time: bool, offset: &mut i64) -> Self {
        match (no_time, constant, self) {
            (true, _, _) | (false, true, Self::NoTime) => Self::NoTime,
            (false, true, Self::Time(t)) => Self::Time(t + value),
            (false, true, Self::Default) => Self::Time(value),
            (false, false, current) => {
                *offset += value;
                current
            }
        }
    }

    /// The time in time cents, with `default` standing for [`TimeConstant::Default`]
    /// (`None`: the default is "no time" and nothing adds to it).
    fn time_cents(self, offset: i64, default: Option<i32>) -> i32 {
        match (self, default) {
            (Self::Time(constant), _) => clamp_i32(constant + offset),
            (Self::Default, Some(default)) => clamp_i32(i64::from(default) + offset),
            (Self::NoTime, _) | (Self::Default, None) => TIME_CENTS_ZERO,
        }
    }
}

fn add(total: &mut Option<i64>, value: i64) {
    *total = Some(total.unwrap_or(0) + value);
}

impl Sums {
    /// Adds a connection with a controller as its source or control; false when `c` is not
    /// one.
    fn add_controller(&mut self, c: &Connection, transform: Transform) -> bool {
        let units = c.scale >> 16;
        let (source_shape, control_shape) = (transform.source, transform.control);
        match (c.source, c.control, c.destination) {
            (CONN_SRC_PITCHWHEEL, CONN_SRC_RPN0, CONN_DST_PITCH) => {
                // The wheel is 14 bits and bipolar by nature: only its linear form is read.
                if source_shape.curve == Curve::Linear && control_shape.curve == Curve::Linear {
                    add(&mut self.bend_scale, i64::from(units));
                }
            }
            (CONN_SRC_CC7 | CONN_SRC_CC11, CONN_SRC_NONE, CONN_DST_ATTENUATION) => {
                let gain = GainCurve {
                    scale_cb: units,
                    shape: source_shape,
                };
                if c.source == CONN_SRC_CC7 {
                    self.volume = Some(gain);
                } else {
                    self.expression = Some(gain);
                }
            }
            (CONN_SRC_CC10, CONN_SRC_NONE, CONN_DST_PAN) => {
                if source_shape.curve == Curve::Linear {
                    add_linear(
                        self.pan_route.get_or_insert_default(),
                        linear(units, source_shape),
                    );
                } else if self.pan_curved.is_none() {
                    self.pan_curved = Some((units, source_shape));
                }
            }
            (source, CONN_SRC_NONE, destination) if controller_index(source).is_some() => {
                let row = match destination {
                    CONN_DST_PITCH => Row::Pitch,
                    CONN_DST_ATTENUATION => Row::Gain,
                    CONN_DST_FILTER_CUTOFF => Row::Cutoff,
                    _ => return true,
                };
                self.route(row, source, source_shape, units);
            }
            (source @ (CONN_SRC_LFO | CONN_SRC_VIBRATO), control, destination)
                if controller_index(control).is_some() =>
            {
                let row = match (source, destination) {
                    (CONN_SRC_LFO, CONN_DST_PITCH) => Row::LfoToPitch,
                    (CONN_SRC_LFO, CONN_DST_ATTENUATION) => Row::LfoToGain,
                    (CONN_SRC_LFO, CONN_DST_FILTER_CUTOFF) => Row::LfoToCutoff,
                    (CONN_SRC_VIBRATO, CONN_DST_PITCH) => Row::VibratoToPitch,
                    _ => return true,
                };
                self.route(row, control, control_shape, units);
            }
            _ => return false,
        }
        true
    }

    /// Adds a route of `controller` (a [`controller_index`] source) through `shape` to `row`:
    /// folded into the row's [`Linear`] when linear, else kept as a curved route (while one
    /// of the [`CURVED_ROUTES`](super::modulation::CURVED_ROUTES) is free).
    fn route(&mut self, row: Row, controller: u16, shape: Shape, units: i32) {
        let Some(index) = controller_index(controller) else {
            return;
        };
        if shape.curve == Curve::Linear {
            if let Some(routes) = self.controlled.row_mut(row).get_mut(index) {
                add_linear(routes, linear(units, shape));
            }
        } else {
            self.controlled.add_curved(CurvedRoute {
                row,
                controller: u8::try_from(index).unwrap_or(0),
                shape,
                scale: units,
            });
        }
    }

    /// The controller routes (DLS2 has none by default for the wheel and pressure).
    fn controller_routes(&self) -> ControllerRoutes {
        self.controlled
    }

    fn channel_routes(&self) -> ChannelRoutes {
        let defaults = ChannelRoutes::default();
        ChannelRoutes {
            bend_scale_cents: self.bend_scale.map_or(defaults.bend_scale_cents, clamp_i32),
            volume: self.volume.unwrap_or(defaults.volume),
            expression: self.expression.unwrap_or(defaults.expression),
            pan: self.pan_route.unwrap_or(if self.pan_curved.is_some() {
                Linear::default()
            } else {
                defaults.pan
            }),
            pan_curved: self.pan_curved,
        }
    }

    /// Adds one connection.
    fn add(&mut self, c: &Connection, key: u8, velocity: u8) {
        // A transform this synth cannot read (an undefined curve, an output transform) leaves
        // the whole connection out rather than misreading it.
        let Some(transform) = Transform::parse(c.transform) else {
            return;
        };
        if self.add_controller(c, transform) {
            return;
        }
        if (c.source, c.control, c.destination)
            == (CONN_SRC_KEYNUMBER, CONN_SRC_NONE, CONN_DST_PITCH)
        {
            add(&mut self.key_to_pitch_q16, i64::from(c.scale));
            return;
        }
        if c.control == CONN_SRC_NONE {
            let target = match (c.source, c.destination) {
                (CONN_SRC_LFO, CONN_DST_PITCH) => Some(0),
                (CONN_SRC_LFO, CONN_DST_ATTENUATION) => Some(1),
                (CONN_SRC_VIBRATO, CONN_DST_PITCH) => Some(2),
                (CONN_SRC_EG2, CONN_DST_PITCH) => Some(3),
                (CONN_SRC_EG2, CONN_DST_FILTER_CUTOFF) => Some(4),
                (CONN_SRC_LFO, CONN_DST_FILTER_CUTOFF) => Some(5),
                _ => None,
            };
            if let Some(t) = target {
                self.depth[t] += i64::from(c.scale >> 16);
                return;
            }
        }
        let Some(value) = contribution(c, key, velocity) else {
            return;
        };
        // A constant of 0x80000000 means "no time"; it does not add.
        let no_time = c.source == CONN_SRC_NONE && c.scale == TIME_CENTS_ZERO;
        let constant = c.source == CONN_SRC_NONE;
        if c.destination == CONN_DST_EG1_SHUTDOWNTIME {
            self.shutdown = self
                .shutdown
                .with(value, constant, no_time, &mut self.shutdown_offset);
            return;
        }
        let time = match c.destination {
            CONN_DST_EG1_DELAYTIME => Some((0, 0)),
            CONN_DST_EG1_ATTACKTIME => Some((0, 1)),
            CONN_DST_EG1_HOLDTIME => Some((0, 2)),
            CONN_DST_EG1_DECAYTIME => Some((0, 3)),
            CONN_DST_EG1_RELEASETIME => Some((0, 4)),
            CONN_DST_EG2_DELAYTIME => Some((1, 0)),
            CONN_DST_EG2_ATTACKTIME => Some((1, 1)),
            CONN_DST_EG2_HOLDTIME => Some((1, 2)),
            CONN_DST_EG2_DECAYTIME => Some((1, 3)),
            CONN_DST_EG2_RELEASETIME => Some((1, 4)),
            _ => None,
        };
        if let Some((eg, stage)) = time {
            // Every envelope time defaults to "no time" (DLS2 Table 5): a key or velocity
            // connection without a constant one scales nothing.
            let (current, offset) = &mut self.times[eg][stage];
            *current = current.with(value, constant, no_time, offset);
            return;
        }
        match c.destination {
            CONN_DST_EG1_SUSTAINLEVEL | CONN_DST_EG2_SUSTAINLEVEL => {
                let (level, offset) =
                    &mut self.sustain[usize::from(c.destination == CONN_DST_EG2_SUSTAINLEVEL)];
                if constant {
                    add(level, value);
                } else {
                    *offset += value;
                }
            }
            CONN_DST_LFO_FREQUENCY => add(&mut self.lfo[0].0, value),
            CONN_DST_LFO_STARTDELAY if !no_time => add(&mut self.lfo[0].1, value),
            CONN_DST_VIB_FREQUENCY => add(&mut self.lfo[1].0, value),
            CONN_DST_VIB_STARTDELAY if !no_time => add(&mut self.lfo[1].1, value),
            CONN_DST_ATTENUATION => {
                self.gain += value;
                self.velocity_to_gain |= c.source == CONN_SRC_KEYONVELOCITY;
            }
            CONN_DST_PITCH => self.pitch += value,
            CONN_DST_PAN => self.pan += value,
            CONN_DST_FILTER_CUTOFF if c.source == CONN_SRC_NONE => add(&mut self.cutoff, value),
            CONN_DST_FILTER_CUTOFF => self.cutoff_offset += value,
            CONN_DST_FILTER_Q => self.resonance += value,
            _ => {}
        }
    }

    fn envelope(&self, eg: usize) -> EnvelopeParams {
        let time = |(constant, offset): (TimeConstant, i64)| constant.time_cents(offset, None);
        EnvelopeParams {
            delay_tc: time(self.times[eg][0]),
            attack_tc: time(self.times[eg][1]),
            hold_tc: time(self.times[eg][2]),
            decay_tc: time(self.times[eg][3]),
            sustain_permille: u32::try_from(
                (self.sustain[eg].0.unwrap_or(1000) + self.sustain[eg].1).clamp(0, 1000),
            )
            .unwrap_or(1000),
            release_tc: time(self.times[eg][4]),
            shutdown_tc: self.shutdown_tc(),
        }
    }

    /// The EG1 shutdown time: the DLS2 default (15 ms) unless a constant connection replaces
    /// it, plus what key and velocity add; none at all after a constant of "no time"
    /// (DLS2 §1.14.3: such a destination is always zero).
    fn shutdown_tc(&self) -> i32 {
        self.shutdown
            .time_cents(self.shutdown_offset, Some(DEFAULT_SHUTDOWN_TC))
    }

    fn lfo(&self, n: usize) -> LfoParams {
        LfoParams {
            frequency_cents: self.lfo[n]
                .0
                .map_or(LfoParams::DEFAULT_FREQUENCY_CENTS, clamp_i32),
            delay_tc: self.lfo[n].1.map_or(LfoParams::DEFAULT_DELAY_TC, clamp_i32),
        }
    }
}

/// The parameters of `key` at `velocity` on `region` of an instrument with `global`
/// articulation.
///
/// `WSMPL::lAttenuation` and gain connections are relative gain (1/65536 centibel): negative
/// values attenuate.
#[must_use]
pub fn note_params(
    global: Option<&Articulation>,
    region: &ParsedRegion,
    key: u8,
    velocity: u8,
) -> NoteParams {
    let mut sums = Sums {
        gain: i64::from(region.sample.attenuation >> 16),
        ..Sums::default()
    };
    visit_effective(
        global,
        region.articulation.as_ref(),
        &mut |c: &Connection| sums.add(c, key, velocity),
    );
    // Key tracking is relative to the unity note: 12800 cents over 128 keys by default.
    let key_scale = sums.key_to_pitch_q16.unwrap_or(12800 << 16);
    let mut pitch = sums.pitch
        + ((key_scale * (i64::from(key) - i64::from(region.sample.unity_note))) >> (16 + 7));
    // `WSMPL::sFineTune` is in cents (the 16-bit form of relative pitch).
    pitch += i64::from(region.sample.fine_tune);
    let mut attenuation = -sums.gain;
    if !sums.velocity_to_gain {
        attenuation += i64::from(VELOCITY_ATTENUATION_CB[usize::from(velocity & 0x7f)]);
    }
    NoteParams {
        pitch_cents: clamp_i32(pitch),
        attenuation_cb: clamp_i32(attenuation),
        pan_permille: clamp_i32(sums.pan.clamp(-500, 500)),
        envelope: sums.envelope(0),
        modulation: ModulationParams {
            lfo: sums.lfo(0),
            vibrato: sums.lfo(1),
            pitch_envelope: sums.envelope(1),
            lfo_to_pitch_cents: clamp_i32(sums.depth[0]),
            lfo_to_gain_cb: clamp_i32(sums.depth[1]),
            vibrato_to_pitch_cents: clamp_i32(sums.depth[2]),
            eg2_to_pitch_cents: clamp_i32(sums.depth[3]),
            eg2_to_cutoff_cents: clamp_i32(sums.depth[4]),
            lfo_to_cutoff_cents: clamp_i32(sums.depth[5]),
            controlled: sums.controller_routes(),
        },
        channel: sums.channel_routes(),
        filter: sums.cutoff.map(|cutoff| FilterParams {
            cutoff_cents: clamp_i32(cutoff + sums.cutoff_offset),
            resonance_cb: clamp_i32(sums.resonance.clamp(0, 225)),
        }),
    }
}

/// A note's effect sends (DLS2 §1.6 `CONN_DST_REVERB`, `CONN_DST_CHORUS`; 0.1 % units).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EffectSends {
    /// What the articulation sends to the reverb apart from CC91 (constant, key, velocity).
    pub reverb_permille: i32,
    /// The same for the chorus apart from CC93.
    pub chorus_permille: i32,
    /// How far CC91 at full reach sends to the reverb: DLS2's default connection (CC91 →
    /// reverb, 1000) unless the articulation states its own.
    pub cc91_permille: i32,
    /// The same for CC93 and the chorus.
    pub cc93_permille: i32,
}

/// The effect sends of `key` at `velocity` on `region` (see [`EffectSends`]).
#[must_use]
pub fn effect_sends(
    global: Option<&Articulation>,
    region: &ParsedRegion,
    key: u8,
    velocity: u8,
) -> EffectSends {
    use dmus_sys::dls::{CONN_DST_CHORUS, CONN_DST_REVERB, CONN_SRC_CC91, CONN_SRC_CC93};
    let (mut reverb, mut chorus) = (0i64, 0i64);
    let (mut cc91, mut cc93) = (None, None);
    visit_effective(
        global,
        region.articulation.as_ref(),
        &mut |c: &Connection| {
            let whole = i64::from(c.scale) >> 16;
            match (c.source, c.control, c.destination) {
                (CONN_SRC_CC91, CONN_SRC_NONE, CONN_DST_REVERB) => cc91 = Some(whole),
                (CONN_SRC_CC93, CONN_SRC_NONE, CONN_DST_CHORUS) => cc93 = Some(whole),
                (_, _, CONN_DST_REVERB) => reverb += contribution(c, key, velocity).unwrap_or(0),
                (_, _, CONN_DST_CHORUS) => chorus += contribution(c, key, velocity).unwrap_or(0),
                _ => {}
            }
        },
    );
    let permille = |v: i64| clamp_i32(v.clamp(-1000, 1000));
    EffectSends {
        reverb_permille: permille(reverb),
        chorus_permille: permille(chorus),
        cc91_permille: permille(cc91.unwrap_or(1000)),
        cc93_permille: permille(cc93.unwrap_or(1000)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{KeyRange, SampleInfo};
    use crate::synth::modulation::Controls;
    use crate::synth::transform::{
        TRN_CONTROL_INVERT, TRN_CONTROL_SHIFT, TRN_SOURCE_BIPOLAR, TRN_SOURCE_INVERT,
        TRN_SOURCE_SHIFT,
    };
    use dmus_sys::dls::{CONN_TRN_CONCAVE, CONN_TRN_CONVEX, CONN_TRN_SWITCH};
    use dmus_sys::dls::{DMUS_LFOPARAMS, DMUS_MSCPARAMS, DMUS_PEGPARAMS, DMUS_VEGPARAMS};

    fn region(articulation: Option<Articulation>) -> ParsedRegion {
        ParsedRegion {
            key: KeyRange::FULL,
            velocity: KeyRange::FULL,
            options: 0,
            key_group: 0,
            wave_dlid: 1,
            channel: 1,
            link_options: 0,
            phase_group: 0,
            sample: SampleInfo {
                unity_note: 60,
                ..SampleInfo::default()
            },
            articulation,
        }
    }

    #[test]
    fn dls1_articparams_map_to_the_dls1_connections() {
        let w = |v: i32| v << 16;
        let params = DMUS_ARTICPARAMS {
            LFO: DMUS_LFOPARAMS {
                pcFrequency: w(-851),
                tcDelay: w(-1200),
                gcVolumeScale: w(20),
                pcPitchScale: w(30),
                gcMWToVolume: w(99),
                pcMWToPitch: w(99),
            },
            VolEG: DMUS_VEGPARAMS {
                tcAttack: w(-2400),
                tcDecay: w(1200),
                ptSustain: w(500),
                tcRelease: w(0),
                tcVel2Attack: w(-1280),
                tcKey2Decay: w(256),
            },
            PitchEG: DMUS_PEGPARAMS {
                tcAttack: w(-1200),
                tcDecay: w(0),
                ptSustain: w(0),
                tcRelease: w(-600),
                tcVel2Attack: 0,
                tcKey2Decay: 0,
                pcRange: w(200),
            },
            Misc: DMUS_MSCPARAMS {
                ptDefaultPan: w(-250),
            },
        };
        let p = note_params(Some(&Articulation::Dls1(params)), &region(None), 64, 64);
        assert_eq!(
            p.envelope.attack_tc,
            -2400 - 640,
            "attack plus velocity 64 of -1280"
        );
        assert_eq!(p.envelope.decay_tc, 1200 + 128, "decay plus key 64 of 256");
        assert_eq!(
            (p.envelope.sustain_permille, p.envelope.release_tc),
            (500, 0)
        );
        assert_eq!(p.pan_permille, -250);
        let m = p.modulation;
        assert_eq!((m.lfo.frequency_cents, m.lfo.delay_tc), (-851, -1200));
        assert_eq!(
            (m.lfo_to_pitch_cents, m.lfo_to_gain_cb, m.eg2_to_pitch_cents),
            (30, 20, 200)
        );
        assert_eq!(
            (m.pitch_envelope.attack_tc, m.pitch_envelope.release_tc),
            (-1200, -600)
        );
        assert_eq!(m.pitch_envelope.sustain_permille, 0);
        assert_eq!(p.filter, None);
    }

    fn dls2(connections: &[(u16, u16, i32)]) -> Articulation {
        Articulation::Dls2(alloc::vec![crate::model::ConnectionBlock {
            level: crate::model::ArticulationLevel::Dls2,
            connections: connections
                .iter()
                .map(|&(source, destination, scale)| Connection {
                    source,
                    control: CONN_SRC_NONE,
                    destination,
                    transform: 0,
                    scale,
                })
                .collect(),
        }])
    }

    /// Envelope times default to "no time" (DLS2 Table 5): a key or velocity connection adds
    /// to a constant connection when there is one, and to nothing (the time stays zero) when
    /// there is none or the constant is "no time" itself.
    #[test]
    fn scaled_envelope_times_add_to_their_constant_only() {
        let w = |tc: i32| tc << 16;
        let decay = |connections: &[(u16, u16, i32)]| {
            note_params(Some(&dls2(connections)), &region(None), 64, 100)
                .envelope
                .decay_tc
        };
        let by_key = (CONN_SRC_KEYNUMBER, CONN_DST_EG1_DECAYTIME, w(1200));
        assert_eq!(decay(&[by_key]), TIME_CENTS_ZERO, "no constant: no time");
        assert_eq!(
            decay(&[(CONN_SRC_NONE, CONN_DST_EG1_DECAYTIME, w(-2400)), by_key]),
            -2400 + 600,
            "key 64 adds half the scale to the constant"
        );
        assert_eq!(
            decay(&[by_key, (CONN_SRC_NONE, CONN_DST_EG1_DECAYTIME, w(-2400))]),
            -1800,
            "whatever the order"
        );
        assert_eq!(
            decay(&[
                (CONN_SRC_NONE, CONN_DST_EG1_DECAYTIME, TIME_CENTS_ZERO),
                by_key
            ]),
            TIME_CENTS_ZERO,
            "no time is no time"
        );
        let attack = note_params(
            Some(&dls2(&[(
                CONN_SRC_KEYONVELOCITY,
                CONN_DST_EG2_ATTACKTIME,
                w(-1200),
            )])),
            &region(None),
            64,
            100,
        );
        assert_eq!(attack.modulation.pitch_envelope.attack_tc, TIME_CENTS_ZERO);
    }

    #[test]
    fn the_shutdown_time_is_15_ms_unless_a_connection_says_otherwise() {
        let shutdown = |global: Option<Articulation>, local: Option<Articulation>| {
            note_params(global.as_ref(), &region(local), 64, 100)
                .envelope
                .shutdown_tc
        };
        assert_eq!(shutdown(None, None), -7271, "DLS2 Table 5: 15 ms");
        let release_only = dls2(&[(CONN_SRC_NONE, CONN_DST_EG1_RELEASETIME, 2700 << 16)]);
        assert_eq!(shutdown(Some(release_only), None), DEFAULT_SHUTDOWN_TC);
        let w = |tc: i32| tc << 16;
        let own = dls2(&[(CONN_SRC_NONE, CONN_DST_EG1_SHUTDOWNTIME, w(-6000))]);
        assert_eq!(shutdown(Some(own.clone()), None), -6000);
        let region_own = dls2(&[(CONN_SRC_NONE, CONN_DST_EG1_SHUTDOWNTIME, w(-4800))]);
        assert_eq!(
            shutdown(Some(own), Some(region_own)),
            -4800,
            "the region's connection replaces the instrument's"
        );
        // Key 64 of a 1200-tc-per-128-keys scaling adds 600 to the default.
        let by_key = dls2(&[(CONN_SRC_KEYNUMBER, CONN_DST_EG1_SHUTDOWNTIME, w(1200))]);
        assert_eq!(shutdown(Some(by_key), None), DEFAULT_SHUTDOWN_TC + 600);
        let none = dls2(&[
            (CONN_SRC_NONE, CONN_DST_EG1_SHUTDOWNTIME, TIME_CENTS_ZERO),
            (CONN_SRC_KEYNUMBER, CONN_DST_EG1_SHUTDOWNTIME, w(1200)),
        ]);
        assert_eq!(
            shutdown(Some(none), None),
            TIME_CENTS_ZERO,
            "no time is no time"
        );
        let dls1 = Articulation::Dls1(DMUS_ARTICPARAMS::default());
        assert_eq!(
            shutdown(Some(dls1), None),
            DEFAULT_SHUTDOWN_TC,
            "DLS1 has none"
        );
    }

    /// A DLS2 articulation of full connections (source, control, destination, transform,
    /// scale in whole units).
    fn dls2_full(connections: &[(u16, u16, u16, u16, i32)]) -> Articulation {
        Articulation::Dls2(alloc::vec![crate::model::ConnectionBlock {
            level: crate::model::ArticulationLevel::Dls2,
            connections: connections
                .iter()
                .map(
                    |&(source, control, destination, transform, units)| Connection {
                        source,
                        control,
                        destination,
                        transform,
                        scale: units << 16,
                    }
                )
                .collect(),
        }])
    }

    fn with(connections: &[(u16, u16, u16, u16, i32)]) -> NoteParams {
        note_params(Some(&dls2_full(connections)), &region(None), 60, 100)
    }

    /// The DLS2 default connections of the controllers, with no articulation at all: CC7 and
    /// CC11 → gain at -96 dB concave inverted (the 400·log10(127/v) curve of the velocity
    /// table), CC10 → pan at ±50 % bipolar, pitch wheel × RPN 0 → pitch at 12800 cents, and
    /// nothing from the modulation wheel or pressure (DLS2's vibrato and LFO × CC1 and ×
    /// channel pressure are 0 cents).
    #[test]
    fn controller_defaults_follow_the_dls2_table() {
        let p = note_params(None, &region(None), 60, 100);
        let routes = p.channel;
        assert_eq!(routes, ChannelRoutes::default());
        assert_eq!(routes.bend_scale_cents, 12_800);
        // CC7 and CC11: 0 cB at 127, 960 at 0, 400·log10(127/64) = 119 at 64.
        for (v, cb) in [(127, 0), (100, 42), (64, 119), (1, 842), (0, 960)] {
            assert_eq!(routes.volume.attenuation_cb(v), cb, "CC7 = {v}");
            assert_eq!(routes.expression.attenuation_cb(v), cb, "CC11 = {v}");
        }
        assert_eq!(routes.attenuation_cb(100, 127), 42);
        assert_eq!(routes.attenuation_cb(64, 64), 238, "CC7 and CC11 add");
        // CC10: 64 is the centre, 0 hard left, 127 one step short of hard right.
        assert_eq!(
            (
                routes.pan_permille(0),
                routes.pan_permille(64),
                routes.pan_permille(96),
                routes.pan_permille(127)
            ),
            (-500, 0, 250, 492)
        );
        // Pitch wheel × RPN 0: full bend at 2 semitones is 200 cents (one step short up).
        assert_eq!(routes.bend_cents(-8192, 200), -200);
        assert_eq!(routes.bend_cents(4096, 200), 100);
        assert_eq!(routes.bend_cents(4096, 1200), 600, "RPN 0 at an octave");
        // Neither the wheel nor pressure moves anything.
        let m = p.modulation;
        assert!(!m.is_active());
        assert!(m.controlled.is_empty());
        for other in [
            Controls {
                mod_wheel: 127,
                ..Controls::default()
            },
            Controls {
                channel_pressure: 127,
                ..Controls::default()
            },
            Controls {
                poly_pressure: 127,
                ..Controls::default()
            },
        ] {
            assert!(
                !m.at(other).is_active(),
                "no default connection from {other:?}"
            );
        }
    }

    /// An articulation's own controller connections replace the defaults: CC7 linear, CC11
    /// at -48 dB, CC10 unipolar, the pitch wheel at half scale, vibrato × CC1 at 100 cents.
    #[test]
    fn stated_controller_connections_replace_the_defaults() {
        const INVERT: u16 = TRN_SOURCE_INVERT;
        let concave = CONN_TRN_CONCAVE << TRN_SOURCE_SHIFT;
        let p = with(&[
            (
                CONN_SRC_CC7,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                INVERT,
                -960,
            ),
            (
                CONN_SRC_CC11,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                INVERT | concave,
                -480,
            ),
            (CONN_SRC_CC10, CONN_SRC_NONE, CONN_DST_PAN, 0, 400),
            (CONN_SRC_PITCHWHEEL, CONN_SRC_RPN0, CONN_DST_PITCH, 0, 6400),
            (CONN_SRC_VIBRATO, CONN_SRC_CC1, CONN_DST_PITCH, 0, 100),
        ]);
        let r = p.channel;
        // Linear inverted: 960·(127 - v)/128.
        assert_eq!(r.volume.attenuation_cb(0), 952);
        assert_eq!(r.volume.attenuation_cb(64), 472);
        assert_eq!(r.volume.attenuation_cb(127), 0);
        // Concave at half the scale: half the curve, 480 · 0.124 = 59.5 rounded.
        assert_eq!(r.expression.attenuation_cb(64), 60);
        assert_eq!(r.expression.attenuation_cb(0), 480);
        // Unipolar CC10 at 400: v/128 of it.
        assert_eq!((r.pan_permille(0), r.pan_permille(64)), (0, 200));
        assert_eq!(r.bend_cents(-8192, 200), -100, "half the default scale");
        let full = Controls {
            mod_wheel: 127,
            ..Controls::default()
        };
        assert_eq!(
            p.modulation.at(full).vibrato_to_pitch_cents,
            99,
            "the stated 100 cents"
        );
        // A pitch wheel connection of 0 makes the note deaf to the wheel.
        let deaf = with(&[(CONN_SRC_PITCHWHEEL, CONN_SRC_RPN0, CONN_DST_PITCH, 0, 0)]);
        assert_eq!(deaf.channel.bend_cents(8191, 1200), 0);
    }

    /// The modulation wheel, channel pressure and poly pressure as sources (straight to pitch,
    /// gain, cutoff; with their invert and bipolar bits) and as the control of the LFO and
    /// vibrato depths.
    #[test]
    fn wheel_and_pressure_reach_their_destinations() {
        let bipolar = TRN_SOURCE_BIPOLAR;
        let p = with(&[
            (CONN_SRC_CC1, CONN_SRC_NONE, CONN_DST_FILTER_CUTOFF, 0, 2400),
            (
                CONN_SRC_CHANNELPRESSURE,
                CONN_SRC_NONE,
                CONN_DST_PITCH,
                bipolar,
                100,
            ),
            (
                CONN_SRC_POLYPRESSURE,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                TRN_SOURCE_INVERT,
                -120,
            ),
            (
                CONN_SRC_LFO,
                CONN_SRC_CHANNELPRESSURE,
                CONN_DST_PITCH,
                0,
                64,
            ),
            (CONN_SRC_LFO, CONN_SRC_CC1, CONN_DST_ATTENUATION, 0, 30),
            (
                CONN_SRC_LFO,
                CONN_SRC_POLYPRESSURE,
                CONN_DST_FILTER_CUTOFF,
                0,
                1200,
            ),
            (
                CONN_SRC_VIBRATO,
                CONN_SRC_CHANNELPRESSURE,
                CONN_DST_PITCH,
                TRN_CONTROL_INVERT,
                20,
            ),
            // A switch curve: kept apart from the linear routes.
            (
                CONN_SRC_CC1,
                CONN_SRC_NONE,
                CONN_DST_PITCH,
                CONN_TRN_SWITCH << TRN_SOURCE_SHIFT,
                1200,
            ),
        ]);
        let r = &p.modulation.controlled;
        assert_eq!(r.cutoff_cents[0].at(64), 1200, "CC1 half way: half of 2400");
        assert_eq!(
            r.pitch_cents[0].at(127),
            0,
            "the switch is not a linear route"
        );
        assert_eq!(r.curved.iter().flatten().count(), 1);
        // Bipolar pressure: (v - 64)/64 of 100: -100 at 0, 0 at 64, +98 at 127.
        assert_eq!(
            (
                r.pitch_cents[1].at(0),
                r.pitch_cents[1].at(64),
                r.pitch_cents[1].at(127)
            ),
            (-100, 0, 98)
        );
        // Inverted poly pressure to gain at -120 cB: -120 at rest, 0 at full.
        assert_eq!((r.gain_cb[2].at(0), r.gain_cb[2].at(127)), (-120, 0));
        let controls = Controls {
            mod_wheel: 64,
            channel_pressure: 127,
            poly_pressure: 32,
            ..Controls::default()
        };
        let m = p.modulation.at(controls);
        assert_eq!(m.lfo_to_pitch_cents, 63);
        assert_eq!(m.lfo_to_gain_cb, 15);
        assert_eq!(m.lfo_to_cutoff_cents, 300);
        // Vibrato: the inverted pressure at full is 0.
        assert_eq!(m.vibrato_to_pitch_cents, 0);
        let at_rest = p.modulation.at(Controls::default());
        assert_eq!(at_rest.vibrato_to_pitch_cents, 19, "inverted: full at rest");
    }

    /// Key number and velocity through every curve: a note-on constant of the curve's value.
    #[test]
    fn note_on_sources_go_through_their_curves() {
        let curve = |c: u16| c << TRN_SOURCE_SHIFT;
        let pitch = |transform: u16, velocity: u8| {
            let p = note_params(
                Some(&dls2_full(&[(
                    CONN_SRC_KEYONVELOCITY,
                    CONN_SRC_NONE,
                    CONN_DST_PITCH,
                    transform,
                    1200,
                )])),
                &region(None),
                60,
                velocity,
            );
            p.pitch_cents
        };
        // Linear: v/128 of 1200.
        assert_eq!(pitch(0, 64), 600);
        // Concave at 64: 1200 · 0.1269 (the table's 4157/32768).
        assert_eq!(pitch(curve(CONN_TRN_CONCAVE), 64), 152);
        assert_eq!(pitch(curve(CONN_TRN_CONCAVE), 127), 1200);
        // Convex at 64: 1200 · (1 - 0.1240).
        assert_eq!(pitch(curve(CONN_TRN_CONVEX), 64), 1051);
        assert_eq!(pitch(curve(CONN_TRN_CONVEX), 0), 0);
        // Switch: nothing below 64, all from it.
        assert_eq!(pitch(curve(CONN_TRN_SWITCH), 63), 0);
        assert_eq!(pitch(curve(CONN_TRN_SWITCH), 64), 1200);
        // Inverted switch, bipolar switch.
        assert_eq!(pitch(TRN_SOURCE_INVERT | curve(CONN_TRN_SWITCH), 63), 1200);
        assert_eq!(
            pitch(TRN_SOURCE_BIPOLAR | curve(CONN_TRN_SWITCH), 10),
            -1200
        );
        // Bipolar concave: 0 at the centre, odd around it.
        let bipolar = TRN_SOURCE_BIPOLAR | curve(CONN_TRN_CONCAVE);
        assert_eq!(pitch(bipolar, 64), 0);
        assert_eq!((pitch(bipolar, 0), pitch(bipolar, 127)), (-1200, 1200));
        // An undefined curve or an output transform: the connection is ignored whole.
        assert_eq!(pitch(curve(7), 127), 0);
        assert_eq!(pitch(CONN_TRN_CONCAVE, 127), 0);
    }

    /// Velocity as the control of a velocity connection (the bank's SF2-style velocity ×
    /// inverted switch → cutoff) scales by the control's value.
    #[test]
    fn a_note_on_control_scales_its_connection() {
        let cutoff = |velocity: u8| {
            let p = note_params(
                Some(&dls2_full(&[
                    (
                        CONN_SRC_NONE,
                        CONN_SRC_NONE,
                        CONN_DST_FILTER_CUTOFF,
                        0,
                        9000,
                    ),
                    (
                        CONN_SRC_KEYONVELOCITY,
                        CONN_SRC_KEYONVELOCITY,
                        CONN_DST_FILTER_CUTOFF,
                        0x8230,
                        -2400,
                    ),
                ])),
                &region(None),
                60,
                velocity,
            );
            p.filter.map(|f| f.cutoff_cents)
        };
        // Velocity 100: the inverted switch of the control is off.
        assert_eq!(cutoff(100), Some(9000));
        // Velocity 32: on; the source, inverted, is 95/128 of -2400.
        assert_eq!(cutoff(32), Some(9000 - 1782), "floored");
    }

    /// The modulation wheel and pressure through curves, as sources and as the controls of
    /// modulator depths; past the note's curved routes a connection is ignored.
    #[test]
    fn controller_routes_go_through_their_curves() {
        let p = with(&[
            (
                CONN_SRC_CC1,
                CONN_SRC_NONE,
                CONN_DST_PITCH,
                CONN_TRN_CONVEX << TRN_SOURCE_SHIFT,
                100,
            ),
            (
                CONN_SRC_LFO,
                CONN_SRC_CHANNELPRESSURE,
                CONN_DST_PITCH,
                CONN_TRN_SWITCH << TRN_CONTROL_SHIFT,
                40,
            ),
            (
                CONN_SRC_VIBRATO,
                CONN_SRC_CC1,
                CONN_DST_PITCH,
                TRN_CONTROL_INVERT | (CONN_TRN_CONCAVE << TRN_CONTROL_SHIFT),
                60,
            ),
            (
                CONN_SRC_POLYPRESSURE,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                TRN_SOURCE_BIPOLAR | (CONN_TRN_CONCAVE << TRN_SOURCE_SHIFT),
                -60,
            ),
            // A fifth curved route: no room, ignored.
            (
                CONN_SRC_CC1,
                CONN_SRC_NONE,
                CONN_DST_FILTER_CUTOFF,
                CONN_TRN_SWITCH << TRN_SOURCE_SHIFT,
                1200,
            ),
            (
                CONN_SRC_CHANNELPRESSURE,
                CONN_SRC_NONE,
                CONN_DST_FILTER_CUTOFF,
                CONN_TRN_SWITCH << TRN_SOURCE_SHIFT,
                1200,
            ),
        ]);
        let m = p.modulation;
        assert_eq!(m.controlled.curved.iter().flatten().count(), 4);
        let mut modulator = crate::synth::modulation::Modulator::start(&m, 48_000);
        let controls = |mod_wheel: u8, channel_pressure: u8, poly_pressure: u8| Controls {
            mod_wheel,
            channel_pressure,
            poly_pressure,
            ..Controls::default()
        };
        // The inverted concave wheel → vibrato depth is full at rest.
        assert_eq!(m.at(controls(0, 0, 0)).vibrato_to_pitch_cents, 60);
        assert_eq!(m.at(controls(127, 0, 0)).vibrato_to_pitch_cents, 0);
        // Pressure's switch on the LFO depth.
        assert_eq!(m.at(controls(0, 63, 0)).lfo_to_pitch_cents, 0);
        assert_eq!(m.at(controls(0, 64, 0)).lfo_to_pitch_cents, 40);
        // Convex wheel → pitch and bipolar concave poly pressure → gain, straight.
        modulator.set_controls(controls(64, 0, 127));
        let o = modulator.tick(1);
        assert_eq!(o.pitch_cents, 88, "100 · convex(64/127) = 87.6");
        assert_eq!(o.gain_cb, -60);
        assert_eq!(
            o.cutoff_cents, 0,
            "the connections past the room are ignored"
        );
        modulator.set_controls(controls(0, 0, 0));
        assert_eq!(modulator.tick(1).gain_cb, 60, "bipolar: the other way at 0");
    }

    /// CC7 and CC11 → gain and CC10 → pan through the other curves.
    #[test]
    fn volume_expression_and_pan_take_any_curve() {
        let p = with(&[
            (
                CONN_SRC_CC7,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                TRN_SOURCE_INVERT | (CONN_TRN_SWITCH << TRN_SOURCE_SHIFT),
                -960,
            ),
            (
                CONN_SRC_CC11,
                CONN_SRC_NONE,
                CONN_DST_ATTENUATION,
                TRN_SOURCE_INVERT | (CONN_TRN_CONVEX << TRN_SOURCE_SHIFT),
                -960,
            ),
            (
                CONN_SRC_CC10,
                CONN_SRC_NONE,
                CONN_DST_PAN,
                TRN_SOURCE_BIPOLAR | (CONN_TRN_CONVEX << TRN_SOURCE_SHIFT),
                500,
            ),
        ]);
        let r = p.channel;
        // Inverted switch: silent (-96 dB) below 64, full from it.
        assert_eq!(
            (r.volume.attenuation_cb(63), r.volume.attenuation_cb(64)),
            (960, 0)
        );
        // Inverted convex: 960 · convex(63/127) = 960 · (1 - concave(64/127)) at 64.
        assert_eq!(r.expression.attenuation_cb(64), 838);
        assert_eq!(r.expression.attenuation_cb(127), 0);
        // Bipolar convex pan: centre at 64, hard at the ends, steep near the centre.
        assert_eq!(
            (r.pan_permille(0), r.pan_permille(64), r.pan_permille(127)),
            (-500, 0, 500)
        );
        assert!(r.pan_permille(70) > 6 * 500 / 63, "convex rises fast");
    }

    /// A key or velocity connection to a sustain level adds to the default (100 %) when no
    /// constant states the level.
    #[test]
    fn sustain_scaling_adds_to_the_default_level() {
        let sustain = |connections: &[(u16, u16, i32)]| {
            let p = note_params(Some(&dls2(connections)), &region(None), 64, 100);
            (
                p.envelope.sustain_permille,
                p.modulation.pitch_envelope.sustain_permille,
            )
        };
        let w = |v: i32| v << 16;
        let by_key = [
            (CONN_SRC_KEYNUMBER, CONN_DST_EG1_SUSTAINLEVEL, w(-400)),
            (CONN_SRC_KEYNUMBER, CONN_DST_EG2_SUSTAINLEVEL, w(-200)),
        ];
        assert_eq!(
            sustain(&by_key),
            (800, 900),
            "key 64: half the scale off 100 %"
        );
        let mut stated = by_key.to_vec();
        stated.push((CONN_SRC_NONE, CONN_DST_EG1_SUSTAINLEVEL, w(500)));
        assert_eq!(sustain(&stated), (300, 900));
    }

    #[test]
    fn dls1_mod_wheel_depths_are_the_lfo_with_cc1_as_control() {
        let w = |v: i32| v << 16;
        let mut params = DMUS_ARTICPARAMS::default();
        params.LFO.gcMWToVolume = w(60);
        params.LFO.pcMWToPitch = w(80);
        let p = note_params(Some(&Articulation::Dls1(params)), &region(None), 60, 100);
        let full = Controls {
            mod_wheel: 127,
            ..Controls::default()
        };
        let m = p.modulation.at(full);
        assert_eq!((m.lfo_to_pitch_cents, m.lfo_to_gain_cb), (79, 59));
        assert_eq!(
            m.vibrato_to_pitch_cents, 0,
            "no vibrato default (DLS2: 0 cents)"
        );
        assert!(!p.modulation.is_active(), "nothing at rest");
    }

    #[test]
    fn no_articulation_gives_the_dls_defaults() {
        let p = note_params(None, &region(None), 72, 127);
        assert_eq!(
            (p.pitch_cents, p.attenuation_cb, p.pan_permille),
            (1200, 0, 0)
        );
        assert_eq!(p.envelope, EnvelopeParams::default());
        assert!(!p.modulation.is_active());
        assert_eq!(p.filter, None);
        // DLS2 Table 5: both LFOs at 5 Hz after 10 ms.
        for lfo in [p.modulation.lfo, p.modulation.vibrato] {
            assert_eq!((lfo.frequency_cents, lfo.delay_tc), (-851, -7973));
        }
    }
}
