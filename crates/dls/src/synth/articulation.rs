//! From articulation data to the parameters of one note.
//!
//! Supported now: constant connections (source and control `CONN_SRC_NONE`) and connections
//! from key number or key-on velocity (linear, with the DLS2 source bipolar/invert bits) to the
//! EG1 and EG2 times and sustain levels, the LFO and vibrato frequencies and delays, gain, pitch
//! and pan; the EG1 shutdown time (`CONN_DST_EG1_SHUTDOWNTIME`, 15 ms unless stated); and the
//! modulators LFO → pitch, LFO → gain, vibrato → pitch and EG2 → pitch (their
//! depth, taken from the scale); the filter cutoff (a constant sets it, key and velocity move
//! it, EG2 and the LFO modulate it) and resonance. Controller sources and controls other than
//! none are ignored. The effect sends (`CONN_DST_REVERB`, `CONN_DST_CHORUS`) are read apart, by
//! [`effect_sends`], for the engine's send stage. A region's connection replaces the instrument's
//! connection with the same source, control and destination; the others add up.
//!
//! The implied DLS connections apply unless the articulation states its own: key number to
//! pitch at 12800 cents over the key range (100 cents per key, counted from the unity note, so
//! a scale of 0 plays every key at the sample's own pitch, as drum kits do), and the concave
//! key-on velocity curve to attenuation.

use super::envelope::{DEFAULT_SHUTDOWN_TC, EnvelopeParams};
use super::fixed::TIME_CENTS_ZERO;
use super::modulation::{LfoParams, ModulationParams};
use super::tables::VELOCITY_ATTENUATION_CB;
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
    CONN_DST_VIB_STARTDELAY, CONN_SRC_EG2, CONN_SRC_KEYNUMBER, CONN_SRC_KEYONVELOCITY,
    CONN_SRC_LFO, CONN_SRC_NONE, CONN_SRC_VIBRATO,
};

/// DLS2 `usTransform` bit: the source is bipolar (0..1 maps to -1..1).
const TRN_SOURCE_BIPOLAR: u16 = 0x4000;
/// DLS2 `usTransform` bit: the source is inverted (x maps to 1 - x).
const TRN_SOURCE_INVERT: u16 = 0x8000;

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
}

/// A voice filter's static setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterParams {
    /// Cutoff in absolute pitch cents (6900 = 440 Hz).
    pub cutoff_cents: i32,
    /// Resonance in centibels.
    pub resonance_cb: i32,
}

/// A source's value for this note in 1/128 units (0..=128, or -128..=128 when bipolar).
fn source_value(connection: &Connection, key: u8, velocity: u8) -> Option<i64> {
    let raw = match connection.source {
        CONN_SRC_NONE => return Some(128),
        CONN_SRC_KEYNUMBER => i64::from(key),
        CONN_SRC_KEYONVELOCITY => i64::from(velocity),
        _ => return None,
    };
    let mut v = raw;
    if connection.transform & TRN_SOURCE_INVERT != 0 {
        v = 127 - v;
    }
    if connection.transform & TRN_SOURCE_BIPOLAR != 0 {
        v = 2 * v - 127;
    }
    Some(v)
}

/// The connection's contribution in whole destination units: `scale * source`.
fn contribution(connection: &Connection, key: u8, velocity: u8) -> Option<i64> {
    if connection.control != CONN_SRC_NONE {
        return None;
    }
    let source = source_value(connection, key, velocity)?;
    Some((i64::from(connection.scale) * source) >> (16 + 7))
}

fn same_slot(a: &Connection, b: &Connection) -> bool {
    (a.source, a.control, a.destination) == (b.source, b.control, b.destination)
}

/// A DLS1 `DMUS_ARTICPARAMS` as the connections DLS1 defines for it (the mod-wheel depths,
/// `gcMWToVolume` and `pcMWToPitch`, need controller sources and are left out).
fn dls1_connections(p: &DMUS_ARTICPARAMS) -> [Connection; 18] {
    let c = |source, destination, scale: i32| Connection {
        source,
        control: CONN_SRC_NONE,
        destination,
        transform: 0,
        scale,
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
    /// EG1 (0) and EG2 (1) sustain levels.
    sustain: [Option<i64>; 2],
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
    /// Adds one connection.
    fn add(&mut self, c: &Connection, key: u8, velocity: u8) {
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
            CONN_DST_EG1_SUSTAINLEVEL => add(&mut self.sustain[0], value),
            CONN_DST_EG2_SUSTAINLEVEL => add(&mut self.sustain[1], value),
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
            sustain_permille: u32::try_from(self.sustain[eg].unwrap_or(1000).clamp(0, 1000))
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
        },
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
