//! The synth engine: MIDI channel state for each channel group, voice allocation (with
//! stealing, exclusive classes and the sustain pedal) and the stereo mix, with its reverb and
//! chorus sends (per channel CC91/CC93, per note `CONN_DST_REVERB`/`CONN_DST_CHORUS`; see
//! [`super::effects`]).
//!
//! The voices and the channel state live in heap storage allocated once, by
//! [`Engine::try_new`] (fallibly, element by element, so no large temporary is ever built on
//! the stack: a kernel stack is 12–24 KB and 256 voices are ~90 KB). The `Engine` value
//! itself is a few words and may be moved freely. `message`, `render` and `reset` never
//! allocate and do bounded work (one pass over the voices, plus one region lookup per
//! note-on). The caller splits a render period at event times and calls `message` between
//! the parts; the engine itself has no clock.

use super::articulation::{ChannelRoutes, EffectSends, effect_sends, note_params};
use super::effects::{EffectSwitches, Effects, send_q15};
use super::fixed::attenuation_to_gain_q15;
use super::modulation::Controls;
use super::tables::VELOCITY_ATTENUATION_CB;
use super::voice::{BlockScratch, Voice, pan_gains_q15};
use crate::download::{InstrumentStore, ParsedRegion, StoredWave, WaveSamples};
use crate::model::{KeyRange, Patch, SampleInfo};
use alloc::boxed::Box;
use alloc::vec::Vec;
use dmus_sys::dls::{F_INSTRUMENT_DRUMS, F_RGN_OPTION_SELFNONEXCLUSIVE};

/// MIDI channels per channel group.
pub const CHANNELS: usize = 16;
/// The GM percussion channel (MIDI channel 10).
pub const DRUM_CHANNEL: u8 = 9;
/// Master gain, Q15: -6 dB. The engine sums voices at 16-bit scale; GM samples peak near full
/// scale, so a full 64-voice mix at typical velocities (100) and volumes (100) reached past 16
/// bits on 1.5 % of its samples (the 64-note stress song: 45,592 clipped in 31 s). Those sums
/// behave like noise of a standard deviation near 13,500; halved, full scale lies almost five
/// deviations out and clipping becomes rare (see the test), while a single note keeps most of
/// its level. `FluidSynth` attenuates more (its default `synth.gain` is 0.2, -14 dB). Folded into
/// each voice's left and right gains, it costs nothing per sample.
pub const MASTER_GAIN_Q15: i32 = 16_423;
/// The null parameter number (MSB and LSB 0x7F): deselects.
const PARAMETER_NULL: u16 = 0x3fff;
/// RPN 0: pitch bend sensitivity (MSB semitones, LSB cents).
const RPN_BEND_RANGE: u16 = 0;
/// RPN 1: channel fine tuning (14 bits, 0x2000 = none, ±100 cents).
const RPN_FINE_TUNE: u16 = 1;
/// RPN 2: channel coarse tuning (MSB, 64 = none, semitones).
const RPN_COARSE_TUNE: u16 = 2;
/// RPN 5: modulation depth range (GM2; MSB semitones, LSB 100/128 cents).
const RPN_MODULATION_DEPTH: u16 = 5;
/// GM2's default modulation depth range: MSB 0, LSB 0x40 (50 cents).
const DEFAULT_MODULATION_DEPTH: u16 = 0x40;
/// The centre of a 14-bit value.
const CENTRE_14: u16 = 0x2000;

/// Which parameter data entry (CC6, CC38, CC96, CC97) reaches: the last RPN or NRPN selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Parameter {
    /// A registered parameter number (CC101, CC100).
    Registered(u16),
    /// A non-registered one (CC99, CC98): none is defined for this synth, so data entry to it
    /// changes nothing (and above all not the last RPN). Deliberately: NRPNs are the maker's
    /// own (GS's and XG's vibrato, filter and envelope offsets, `SoundFont`'s generators), no
    /// MIDI file of ../shared/data/midi sends one (the GS, XG and GM2 files included: their
    /// data entries all follow RPN 0, 1, 2 or 5), and DLS2 has no NRPN source to connect.
    NonRegistered(u16),
}

/// The state of one MIDI channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Program (0..=127).
    pub program: u8,
    /// Bank select MSB (CC0).
    pub bank_msb: u8,
    /// Bank select LSB (CC32).
    pub bank_lsb: u8,
    /// Channel volume (CC7).
    pub volume: u8,
    /// Expression (CC11).
    pub expression: u8,
    /// Pan (CC10, 64 = centre).
    pub pan: u8,
    /// Sustain pedal (CC64 >= 64).
    pub sustain: bool,
    /// Pitch bend, -8192..=8191.
    pub bend: i16,
    /// Pitch bend range in cents (RPN 0; default 2 semitones).
    pub bend_range_cents: i32,
    /// Reverb send (CC91, GM2's Effects 1 Depth: 40 after reset).
    pub reverb_send: u8,
    /// Chorus send (CC93, GM2's Effects 3 Depth: 0 after reset).
    pub chorus_send: u8,
    /// Modulation wheel (CC1).
    pub modulation: u8,
    /// Channel pressure.
    pub pressure: u8,
    /// Fine tuning (RPN 1), 14 bits, 0x2000 = none.
    pub fine_tune: u16,
    /// Coarse tuning (RPN 2), semitones + 64.
    pub coarse_tune: u8,
    /// Modulation depth range (RPN 5), its 14 bits: MSB semitones, LSB 100/128 cents.
    pub modulation_depth: u16,
    parameter: Parameter,
}

impl Channel {
    /// A channel after reset.
    pub const RESET: Self = Self {
        program: 0,
        bank_msb: 0,
        bank_lsb: 0,
        volume: 100,
        expression: 127,
        pan: 64,
        sustain: false,
        bend: 0,
        bend_range_cents: 200,
        reverb_send: 40,
        chorus_send: 0,
        modulation: 0,
        pressure: 0,
        fine_tune: CENTRE_14,
        coarse_tune: 64,
        modulation_depth: DEFAULT_MODULATION_DEPTH,
        parameter: Parameter::Registered(PARAMETER_NULL),
    };

    /// The patch this channel plays (a drum kit on `drum` channels).
    #[must_use]
    pub fn patch(&self, drum: bool) -> Patch {
        let drum = if drum { F_INSTRUMENT_DRUMS } else { 0 };
        Patch(
            drum | (u32::from(self.bank_msb & 0x7f) << 16)
                | (u32::from(self.bank_lsb & 0x7f) << 8)
                | u32::from(self.program & 0x7f),
        )
    }

    /// The current pitch bend in cents.
    #[must_use]
    pub fn bend_cents(&self) -> i32 {
        let cents = i64::from(self.bend) * i64::from(self.bend_range_cents) / 8192;
        i32::try_from(cents).unwrap_or(0)
    }

    /// The channel's tuning (RPN 1 and RPN 2) in cents.
    #[must_use]
    pub fn tuning_cents(&self) -> i32 {
        let fine = (i32::from(self.fine_tune & 0x3fff) - i32::from(CENTRE_14)) * 100 / 8192;
        (i32::from(self.coarse_tune & 0x7f) - 64) * 100 + fine
    }

    /// The pitch offset of a voice with `routes`: its pitch wheel connection and the tuning.
    #[must_use]
    pub fn pitch_cents(&self, routes: &ChannelRoutes) -> i32 {
        routes
            .bend_cents(self.bend, self.bend_range_cents)
            .saturating_add(self.tuning_cents())
    }

    /// The modulation depth range (RPN 5) in cents: MSB semitones, LSB 100/128 cents (GM2).
    #[must_use]
    pub fn modulation_depth_cents(&self) -> u16 {
        let (msb, lsb) = (
            (self.modulation_depth >> 7) & 0x7f,
            self.modulation_depth & 0x7f,
        );
        msb * 100 + lsb * 100 / 128
    }

    /// The controllers a playing voice follows; `poly_pressure` is its key's.
    #[must_use]
    pub fn controls(&self, poly_pressure: u8) -> Controls {
        Controls {
            mod_wheel: self.modulation,
            channel_pressure: self.pressure,
            poly_pressure,
            wheel_depth_cents: self.modulation_depth_cents(),
        }
    }

    /// The data entry of RPN 0, 1, 2 or 5 as its 14-bit value (MSB << 7 | LSB).
    fn registered_value(&self, rpn: u16) -> Option<u16> {
        let range = u16::try_from(self.bend_range_cents.clamp(0, 127 * 100 + 99)).unwrap_or(200);
        match rpn {
            RPN_BEND_RANGE => Some(((range / 100) << 7) | (range % 100)),
            RPN_FINE_TUNE => Some(self.fine_tune),
            RPN_COARSE_TUNE => Some(u16::from(self.coarse_tune) << 7),
            RPN_MODULATION_DEPTH => Some(self.modulation_depth),
            _ => None,
        }
    }

    /// Sets RPN 0, 1, 2 or 5 from its 14-bit value; others are not ours and change nothing.
    fn set_registered(&mut self, rpn: u16, value: u16) {
        let (msb, lsb) = ((value >> 7) & 0x7f, value & 0x7f);
        match rpn {
            // GM2: the LSB is cents (0..=99 meaningful).
            RPN_BEND_RANGE => self.bend_range_cents = i32::from(msb) * 100 + i32::from(lsb.min(99)),
            RPN_FINE_TUNE => self.fine_tune = value & 0x3fff,
            RPN_COARSE_TUNE => self.coarse_tune = u8::try_from(msb).unwrap_or(64),
            RPN_MODULATION_DEPTH => self.modulation_depth = value & 0x3fff,
            _ => {}
        }
    }

    /// Data entry: `msb` and/or `lsb` of the selected RPN, or `step` (+1/-1: increment and
    /// decrement, by one LSB unit — a cent of RPN 0, a step of RPN 1, a semitone of RPN 2,
    /// 100/128 cent of RPN 5) to it. Returns the RPN it changed.
    fn data_entry(&mut self, msb: Option<u8>, lsb: Option<u8>, step: i32) -> Option<u16> {
        let Parameter::Registered(rpn) = self.parameter else {
            return None;
        };
        let value = self.registered_value(rpn)?;
        let mut value = match (msb, lsb) {
            // GM2: a data entry MSB alone keeps the LSB (bend range cents, fine tune LSB).
            (Some(m), _) => (u16::from(m & 0x7f) << 7) | (value & 0x7f),
            (None, Some(l)) => (value & !0x7f) | u16::from(l & 0x7f),
            (None, None) => value,
        };
        if step != 0 {
            let unit = if rpn == RPN_COARSE_TUNE { 1 << 7 } else { 1 };
            let stepped = i32::from(value) + step * unit;
            // RPN 0's LSB counts cents: 99 carries into the next semitone.
            let stepped = match (rpn, stepped & 0x7f) {
                (RPN_BEND_RANGE, 100..=127) if step > 0 => (stepped & !0x7f) + 0x80,
                (RPN_BEND_RANGE, 100..=127) => (stepped & !0x7f) + 99,
                _ => stepped,
            };
            value = u16::try_from(stepped.clamp(0, 0x3fff)).unwrap_or(value);
        }
        self.set_registered(rpn, value);
        Some(rpn)
    }

    /// Channel gain in Q15 from volume and expression (each on the concave 40·log10 curve,
    /// the DLS2 default connections).
    #[must_use]
    pub fn gain_q15(&self) -> u16 {
        let cb = |v: u8| i32::from(VELOCITY_ATTENUATION_CB[usize::from(v & 0x7f)]);
        attenuation_to_gain_q15(cb(self.volume) + cb(self.expression))
    }

    /// Pan in per mille (-500..=500).
    #[must_use]
    pub fn pan_permille(&self) -> i32 {
        (i32::from(self.pan & 0x7f) - 64) * 500 / 64
    }
}

#[derive(Clone, Debug)]
struct Slot {
    voice: Voice,
    /// The wave it plays (for a streamed wave, the buffer it is in).
    wave_dlid: u32,
    /// Where the store held that wave when last asked ([`InstrumentStore::wave_placed`]).
    wave_place: usize,
    /// Set for a voice that plays a wave articulation.
    stream: Option<Stream>,
    group: usize,
    channel: u8,
    key: u8,
    key_group: u16,
    age: u64,
    sustained: bool,
    sends: EffectSends,
    /// How the voice follows its channel's volume, expression, pan and pitch wheel.
    routes: ChannelRoutes,
    /// Its key's polyphonic pressure.
    poly_pressure: u8,
}

/// A voice started by [`Engine::play_voice`] on a wave articulation.
#[derive(Clone, Copy, Debug)]
struct Stream {
    /// The client's voice id (`StopVoice` names it).
    voice_id: u32,
    /// The wave articulation's download id.
    articulation: u32,
    /// Index in the articulation's buffers of the buffer after the one playing.
    next: usize,
}

/// The engine's storage could not be allocated (nothing is left allocated).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllocError;

impl core::fmt::Display for AllocError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("out of memory for the synth engine's voices or channels")
    }
}

/// `n` values of `make()` in a boxed slice: the storage reserved fallibly, then filled one
/// element at a time (never a whole array on the stack).
fn try_boxed<T>(n: usize, make: impl FnMut() -> T) -> Result<Box<[T]>, AllocError> {
    let mut items = Vec::new();
    items.try_reserve_exact(n).map_err(|_| AllocError)?;
    items.extend(core::iter::repeat_with(make).take(n));
    // Length equals capacity: converting does not reallocate.
    Ok(items.into_boxed_slice())
}

/// `value` in a box of one, allocated fallibly (the value is moved, not built, in place).
fn try_box<T>(value: T) -> Result<Box<[T; 1]>, AllocError> {
    let mut items = Vec::new();
    items.try_reserve_exact(1).map_err(|_| AllocError)?;
    items.push(value);
    items.into_boxed_slice().try_into().map_err(|_| AllocError)
}

/// A synth of at most `VOICES` voices and `GROUPS` channel groups.
///
/// The const parameters are the type's ceilings; [`Engine::try_new`] picks the counts at run
/// time (a synth's port parameters choose its voices) and allocates their storage once.
#[derive(Clone, Debug)]
pub struct Engine<const VOICES: usize, const GROUPS: usize> {
    rate: u32,
    slots: Box<[Option<Slot>]>,
    /// One bit a slot, set for every slot that holds a voice (and maybe for some that no
    /// longer do: [`Self::render_planar`] clears those it finds empty). The render walks the
    /// bits: looking at each of 64 slots of a kilobyte each, mostly empty, cost a cache
    /// miss a slot every part.
    sounding: Box<[u64]>,
    /// The planar mix: [`MIX_FRAMES`] left samples, then as many right. All zero between
    /// calls to [`Engine::render`] (it clears what it used once it is interleaved), so no call
    /// clears it first.
    mix: Box<[i32]>,
    channels: Box<[[Channel; CHANNELS]]>,
    /// Voice priority of each channel (higher keeps its voices longer when stealing).
    priorities: Box<[[u32; CHANNELS]]>,
    clock: u64,
    /// Voices taken from a held note to start another (see [`Self::stolen_voices`]).
    stolen: u64,
    /// The send stage (reverb, chorus and their buses), in one heap block (the reverb's
    /// filters alone are a kilobyte of handles); `None` only while [`Engine::render`] has it.
    effects: Option<Box<[Effects; 1]>>,
}

impl<const VOICES: usize, const GROUPS: usize> Engine<VOICES, GROUPS> {
    /// An engine rendering at `rate` Hz with `VOICES` voices and `GROUPS` channel groups.
    /// Host convenience: allocation failure aborts, as for any `Vec`. Kernel code uses
    /// [`Engine::try_new`].
    #[must_use]
    pub fn new(rate: u32) -> Self {
        match Self::try_new(rate, VOICES, GROUPS) {
            Ok(engine) => engine,
            Err(AllocError) => {
                alloc::alloc::handle_alloc_error(core::alloc::Layout::new::<Option<Slot>>())
            }
        }
    }

    /// An engine rendering at `rate` Hz with `voices` voices (at most `VOICES`) and `groups`
    /// channel groups (at most `GROUPS`), all channels reset, no voice sounding.
    ///
    /// # Errors
    /// [`AllocError`] when the storage cannot be allocated.
    pub fn try_new(rate: u32, voices: usize, groups: usize) -> Result<Self, AllocError> {
        Ok(Self {
            rate,
            slots: try_boxed(voices.min(VOICES), || None)?,
            sounding: try_boxed(voices.min(VOICES).div_ceil(64), || 0)?,
            mix: try_boxed(2 * MIX_FRAMES, || 0)?,
            channels: try_boxed(groups.min(GROUPS), || [Channel::RESET; CHANNELS])?,
            priorities: try_boxed(groups.min(GROUPS), || [0; CHANNELS])?,
            clock: 0,
            stolen: 0,
            effects: Some(try_box(Effects::try_new(rate)?)?),
        })
    }

    /// Which send effects run (both off after [`Engine::try_new`]: the dry mix alone).
    #[must_use]
    pub fn effects(&self) -> EffectSwitches {
        self.effects
            .as_ref()
            .map_or(EffectSwitches::default(), |fx| fx[0].switches())
    }

    /// Turns the reverb and the chorus on or off. With both off the engine renders exactly
    /// the dry mix; an effect turned on starts silent. Allocates nothing.
    pub fn set_effects(&mut self, switches: EffectSwitches) {
        let rate = self.rate;
        if let Some(fx) = self.effects.as_mut() {
            fx[0].set_switches(switches, rate);
        }
    }

    /// Sets the voice priority of `channel` (0..16) in channel group `group` (1-based): when
    /// every voice is busy, a note-on takes a released voice if there is one, else the voice
    /// of the lowest priority, the oldest among equals. All channels start equal. Returns
    /// false (and changes nothing) for a group or channel the engine does not have.
    pub fn set_priority(&mut self, group: u16, channel: u8, priority: u32) -> bool {
        let place = usize::from(group)
            .checked_sub(1)
            .and_then(|g| self.priorities.get_mut(g))
            .and_then(|row| row.get_mut(usize::from(channel)));
        match place {
            Some(place) => {
                *place = priority;
                true
            }
            None => false,
        }
    }

    /// The voice priority of `channel` in group `group` (1-based).
    #[must_use]
    pub fn priority(&self, group: u16, channel: u8) -> Option<u32> {
        self.priorities
            .get(usize::from(group).checked_sub(1)?)?
            .get(usize::from(channel))
            .copied()
    }

    /// Starts over in place at `rate` Hz: no voice sounding, every channel reset (the voice
    /// priorities stay: they are the port's settings; so does [`Self::stolen_voices`], a
    /// statistic of the engine's life). Allocates nothing.
    pub fn reset(&mut self, rate: u32) {
        self.rate = rate;
        self.slots.fill(None);
        self.sounding.fill(0);
        self.channels.fill([Channel::RESET; CHANNELS]);
        self.clock = 0;
        if let Some(fx) = self.effects.as_mut() {
            fx[0].reset(rate);
        }
    }

    /// Output rate in Hz.
    #[must_use]
    pub fn rate(&self) -> u32 {
        self.rate
    }

    /// Voices the engine can sound at once.
    #[must_use]
    pub fn voice_limit(&self) -> usize {
        self.slots.len()
    }

    /// Channel groups the engine plays.
    #[must_use]
    pub fn channel_groups(&self) -> usize {
        self.channels.len()
    }

    /// Number of sounding voices.
    #[must_use]
    pub fn active_voices(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    /// Voices stolen since the engine was made: each time a note-on found every voice busy
    /// and took the voice of a note still held (its key down, or held by the sustain
    /// pedal) to start one of its own voices — the choice `set_priority` steers. What a
    /// listener hears as a lost note (`SYNTH_STATS.LostNotes`).
    ///
    /// Not counted, because no held note is lost:
    /// - taking a free voice, or a voice already released (its note ended; only its
    ///   release tail is cut short);
    /// - a voice shut down by an exclusive class (DLS: a region of the same key group cuts
    ///   the earlier note, as a closed hi-hat chokes an open one) or by retriggering the
    ///   same key on a self-exclusive region: those are the instrument's rules, not a
    ///   shortage of voices. Such a voice is only shut down (it keeps its slot for its
    ///   shutdown, a release over the EG1 shutdown time, 15 ms by default), and a later
    ///   note-on that takes it is not a steal either.
    ///
    /// One note-on of a layered instrument starts a voice per region, so it can steal
    /// more than one voice. Kept across [`Self::reset`]; saturates at `u64::MAX`.
    #[must_use]
    pub fn stolen_voices(&self) -> u64 {
        self.stolen
    }

    /// The sounding voices as (channel group, channel, key, voice), for diagnostics.
    pub fn voices(&self) -> impl Iterator<Item = (u16, u8, u8, &Voice)> {
        self.slots.iter().flatten().map(|s| {
            (
                u16::try_from(s.group + 1).unwrap_or(u16::MAX),
                s.channel,
                s.key,
                &s.voice,
            )
        })
    }

    /// The state of `channel` (0..16) in channel group `group` (1-based).
    #[must_use]
    pub fn channel(&self, group: u16, channel: u8) -> Option<&Channel> {
        self.channels
            .get(usize::from(group).checked_sub(1)?)?
            .get(usize::from(channel))
    }

    /// Handles one MIDI channel message for channel group `group` (1-based; 0 = every group).
    /// System messages, incomplete messages and groups beyond [`Self::channel_groups`] are
    /// ignored.
    pub fn message<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        group: u16,
        bytes: &[u8],
    ) {
        if group == 0 {
            for g in 0..self.channels.len() {
                self.message_to(store, g, bytes);
            }
        } else if usize::from(group) <= self.channels.len() {
            self.message_to(store, usize::from(group) - 1, bytes);
        }
    }

    fn message_to<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        g: usize,
        bytes: &[u8],
    ) {
        let (Some(&status), d1, d2) = (bytes.first(), bytes.get(1).copied(), bytes.get(2).copied())
        else {
            return;
        };
        let ch = status & 0x0f;
        // Data bytes are 7-bit; a stray high bit is dropped, not trusted.
        let (d1, d2) = (d1.map(|b| b & 0x7f), d2.map(|b| b & 0x7f));
        match (status & 0xf0, d1, d2) {
            (0x80, Some(key), Some(_)) | (0x90, Some(key), Some(0)) => self.note_off(g, ch, key),
            (0x90, Some(key), Some(velocity)) => {
                self.note_on(store, g, ch, key, velocity);
            }
            (0xb0, Some(cc), Some(value)) => self.control_change(g, ch, cc, value),
            (0xc0, Some(program), _) => self.with_channel(g, ch, |c| c.program = program),
            (0xa0, Some(key), Some(pressure)) => {
                let channel = self.channel_at(g, ch);
                for slot in self
                    .slots
                    .iter_mut()
                    .flatten()
                    .filter(|s| s.group == g && s.channel == ch && s.key == key)
                {
                    slot.poly_pressure = pressure;
                    slot.voice.set_controls(channel.controls(pressure));
                }
            }
            (0xd0, Some(pressure), _) => {
                self.with_channel(g, ch, |c| c.pressure = pressure);
                self.recontrol_channel(g, ch);
            }
            (0xe0, Some(lsb), Some(msb)) => {
                let bend = ((i16::from(msb) << 7) | i16::from(lsb)) - 8192;
                self.with_channel(g, ch, |c| c.bend = bend);
                self.retune_channel(g, ch);
            }
            _ => {}
        }
    }

    fn with_channel(&mut self, g: usize, ch: u8, f: impl FnOnce(&mut Channel)) {
        if let Some(c) = self
            .channels
            .get_mut(g)
            .and_then(|group| group.get_mut(usize::from(ch)))
        {
            f(c);
        }
    }

    fn channel_at(&self, g: usize, ch: u8) -> Channel {
        self.channels
            .get(g)
            .and_then(|group| group.get(usize::from(ch)))
            .copied()
            .unwrap_or(Channel::RESET)
    }

    fn retune_channel(&mut self, g: usize, ch: u8) {
        let channel = self.channel_at(g, ch);
        for slot in self
            .slots
            .iter_mut()
            .flatten()
            .filter(|s| s.group == g && s.channel == ch)
        {
            slot.voice.retune(channel.pitch_cents(&slot.routes));
        }
    }

    /// The channel's modulation wheel or pressure moved: its voices follow.
    fn recontrol_channel(&mut self, g: usize, ch: u8) {
        let channel = self.channel_at(g, ch);
        for slot in self
            .slots
            .iter_mut()
            .flatten()
            .filter(|s| s.group == g && s.channel == ch)
        {
            slot.voice
                .set_controls(channel.controls(slot.poly_pressure));
        }
    }

    /// Data entry to the selected RPN; the voices are retuned when it changed the tuning, and
    /// follow the modulation wheel anew when it changed its depth range.
    fn data_entry(&mut self, g: usize, ch: u8, msb: Option<u8>, lsb: Option<u8>, step: i32) {
        let mut changed = None;
        self.with_channel(g, ch, |c| changed = c.data_entry(msb, lsb, step));
        match changed {
            Some(RPN_MODULATION_DEPTH) => self.recontrol_channel(g, ch),
            Some(_) => self.retune_channel(g, ch),
            None => {}
        }
    }

    fn control_change(&mut self, g: usize, ch: u8, cc: u8, value: u8) {
        match cc {
            0 => self.with_channel(g, ch, |c| c.bank_msb = value),
            32 => self.with_channel(g, ch, |c| c.bank_lsb = value),
            7 => self.with_channel(g, ch, |c| c.volume = value),
            10 => self.with_channel(g, ch, |c| c.pan = value),
            11 => self.with_channel(g, ch, |c| c.expression = value),
            91 => self.with_channel(g, ch, |c| c.reverb_send = value),
            93 => self.with_channel(g, ch, |c| c.chorus_send = value),
            64 => {
                let down = value >= 64;
                self.with_channel(g, ch, |c| c.sustain = down);
                if !down {
                    for slot in self.slots.iter_mut().flatten() {
                        if slot.group == g && slot.channel == ch && slot.sustained {
                            slot.sustained = false;
                            slot.voice.release();
                        }
                    }
                }
            }
            1 => {
                self.with_channel(g, ch, |c| c.modulation = value);
                self.recontrol_channel(g, ch);
            }
            // Selecting an RPN (101 MSB, 100 LSB) or an NRPN (99, 98): the other half keeps
            // its value when the selection stays of the same kind, as the MIDI spec has it.
            98..=101 => self.with_channel(g, ch, |c| {
                let registered = cc >= 100;
                let number = match (c.parameter, registered) {
                    (Parameter::Registered(n), true) | (Parameter::NonRegistered(n), false) => n,
                    _ => PARAMETER_NULL,
                };
                let v = u16::from(value);
                let number = if cc % 2 == 1 {
                    (number & 0x7f) | (v << 7)
                } else {
                    (number & !0x7f) | v
                };
                c.parameter = if registered {
                    Parameter::Registered(number)
                } else {
                    Parameter::NonRegistered(number)
                };
            }),
            6 => self.data_entry(g, ch, Some(value), None, 0),
            38 => self.data_entry(g, ch, None, Some(value), 0),
            96 => self.data_entry(g, ch, None, None, 1),
            97 => self.data_entry(g, ch, None, None, -1),
            120 => {
                for slot in &mut self.slots {
                    if slot
                        .as_ref()
                        .is_some_and(|s| s.group == g && s.channel == ch)
                    {
                        *slot = None;
                    }
                }
            }
            121 => {
                // RP-015: reset expression, sustain, bend, the modulation wheel, pressure and
                // the RPN selection; keep volume, pan, program, bank, the effect depths (CC91-95)
                // and the RPN values.
                self.control_change(g, ch, 64, 0);
                self.with_channel(g, ch, |c| {
                    *c = Channel {
                        program: c.program,
                        bank_msb: c.bank_msb,
                        bank_lsb: c.bank_lsb,
                        volume: c.volume,
                        pan: c.pan,
                        bend_range_cents: c.bend_range_cents,
                        reverb_send: c.reverb_send,
                        chorus_send: c.chorus_send,
                        fine_tune: c.fine_tune,
                        coarse_tune: c.coarse_tune,
                        modulation_depth: c.modulation_depth,
                        ..Channel::RESET
                    };
                });
                for slot in self.slots.iter_mut().flatten() {
                    if slot.group == g && slot.channel == ch {
                        slot.poly_pressure = 0;
                    }
                }
                self.retune_channel(g, ch);
                self.recontrol_channel(g, ch);
            }
            123 => {
                for slot in self
                    .slots
                    .iter_mut()
                    .flatten()
                    .filter(|s| s.group == g && s.channel == ch)
                {
                    slot.sustained = false;
                    slot.voice.release();
                }
            }
            _ => {}
        }
    }

    fn note_off(&mut self, g: usize, ch: u8, key: u8) {
        let sustain = self.channel_at(g, ch).sustain;
        for slot in self.slots.iter_mut().flatten() {
            if slot.group == g && slot.channel == ch && slot.key == key && !slot.voice.is_released()
            {
                if sustain {
                    slot.sustained = true;
                } else {
                    slot.voice.release();
                }
            }
        }
    }

    /// The instrument for a channel: the exact patch, else bank 0 with the same program, else
    /// (drums only) the standard kit.
    fn find_patch<B: AsRef<[u8]> + AsMut<[u8]>>(
        store: &InstrumentStore<B>,
        channel: &Channel,
        drum: bool,
    ) -> Option<Patch> {
        let exact = channel.patch(drum);
        let bank0 = Patch(exact.0 & (F_INSTRUMENT_DRUMS | 0x7f));
        let kit = drum.then_some(Patch(F_INSTRUMENT_DRUMS));
        [Some(exact), Some(bank0), kit]
            .into_iter()
            .flatten()
            .find(|&p| store.instrument(p).is_some())
    }

    fn note_on<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        g: usize,
        ch: u8,
        key: u8,
        velocity: u8,
    ) {
        let channel = self.channel_at(g, ch);
        let Some(patch) = Self::find_patch(store, &channel, ch == DRUM_CHANNEL) else {
            return;
        };
        let Some(instrument) = store.instrument(patch) else {
            return;
        };
        // Voices this note-on starts (one per layered region) are younger than `started`:
        // self-exclusion and exclusive classes cut earlier notes, never a layer of this one.
        let started = self.clock;
        for (region, wave) in store.regions_for(patch, key, velocity) {
            for slot in self.slots.iter_mut().flatten() {
                if slot.group != g || slot.channel != ch || slot.age > started {
                    continue;
                }
                // DLS2 §1.4.4: a key group shuts down every voice of its group on the channel,
                // released or not (an open hi-hat's long release is what a closed one chokes);
                // the same key on a self-exclusive region shuts down the voices that have had
                // no note-off (a voice the sustain pedal holds has not, for the engine).
                let same_class = region.key_group != 0 && slot.key_group == region.key_group;
                let same_key = region.options & F_RGN_OPTION_SELFNONEXCLUSIVE == 0
                    && slot.key == key
                    && !slot.voice.is_released();
                if same_class || same_key {
                    slot.sustained = false;
                    slot.voice.shutdown();
                }
            }
            let params = note_params(instrument.articulation.as_ref(), region, key, velocity);
            let sends = effect_sends(instrument.articulation.as_ref(), region, key, velocity);
            let mut voice = Voice::start(
                wave.format(),
                wave.frames(),
                &region.sample,
                &params,
                self.rate,
            );
            voice.retune(channel.pitch_cents(&params.channel));
            voice.set_controls(channel.controls(0));
            self.clock += 1;
            let slot = Slot {
                voice,
                wave_dlid: region.wave_dlid,
                wave_place: 0,
                stream: None,
                group: g,
                channel: ch,
                key,
                key_group: region.key_group,
                age: self.clock,
                sustained: false,
                sends,
                routes: params.channel,
                poly_pressure: 0,
            };
            let index = self.free_slot();
            if let Some(place) = self.slots.get_mut(index) {
                if place.as_ref().is_some_and(|s| !s.voice.is_released()) {
                    // A held note loses its voice (see `stolen_voices`).
                    self.stolen = self.stolen.saturating_add(1);
                }
                *place = Some(slot);
                mark_sounding(&mut self.sounding, index);
            }
        }
    }

    /// A free slot, else the oldest released voice, else the voice of the lowest channel
    /// priority, the oldest among equals.
    fn free_slot(&self) -> usize {
        if let Some(free) = self.slots.iter().position(Option::is_none) {
            return free;
        }
        let priority = |s: &Slot| {
            self.priorities
                .get(s.group)
                .and_then(|row| row.get(usize::from(s.channel)))
                .copied()
                .unwrap_or(0)
        };
        let rank = |s: &Option<Slot>| {
            s.as_ref().map_or((false, 0, 0), |s| {
                let released = s.voice.is_released();
                // Released voices go first whatever their channel's priority.
                (!released, if released { 0 } else { priority(s) }, s.age)
            })
        };
        self.slots
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| rank(s))
            .map_or(0, |(i, _)| i)
    }

    /// `IDirectMusicSynth8::PlayVoice` (dmusics.h), as `DirectMusic`'s wave tracks use it:
    /// starts voice `voice_id` playing wave articulation `articulation` (downloaded with
    /// `DMUS_DOWNLOADINFO_WAVEARTICULATION`) on `channel` of channel group `group` (1-based),
    /// `pitch_cents` from the wave's own pitch (`prPitch`), attenuated by `volume_mb`
    /// millibels (`vrVolume`, 0 = full). A one-shot wave plays once; a streamed wave plays its
    /// buffers one after the other. No articulation applies: the DLS default envelopes, no
    /// loop, the channel's volume, pan and pitch bend. Returns false (nothing started) for an
    /// unknown articulation or group.
    #[allow(clippy::too_many_arguments)]
    pub fn play_voice<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        voice_id: u32,
        group: u16,
        channel: u8,
        articulation: u32,
        pitch_cents: i32,
        volume_mb: i32,
    ) -> bool {
        let g = usize::from(group).wrapping_sub(1);
        if g >= self.channels.len() {
            return false;
        }
        let ch = channel & 0x0f;
        let Some((&first, wave)) = store.wave_articulation(articulation).and_then(|a| {
            let first = a.buffers.first()?;
            Some((first, store.wave(*first)?))
        }) else {
            return false;
        };
        let region = ParsedRegion {
            key: KeyRange { low: 0, high: 127 },
            velocity: KeyRange { low: 0, high: 127 },
            options: 0,
            key_group: 0,
            wave_dlid: first,
            channel: 0,
            link_options: 0,
            phase_group: 0,
            sample: SampleInfo {
                unity_note: WAVE_VOICE_KEY.into(),
                fine_tune: i16::try_from(pitch_cents.clamp(-32_768, 32_767)).unwrap_or(0),
                // 16.16 centibels; a millibel is a tenth of one.
                attenuation: (volume_mb.clamp(-96_000, 0) / 10).saturating_mul(1 << 16),
                options: 0,
                wave_loop: None,
            },
            articulation: None,
        };
        let params = note_params(None, &region, WAVE_VOICE_KEY, 127);
        // No articulation: DLS2's default connections (CC91/CC93 to the sends) apply.
        let sends = effect_sends(None, &region, WAVE_VOICE_KEY, 127);
        let mut voice = Voice::start(
            wave.format(),
            wave.frames(),
            &region.sample,
            &params,
            self.rate,
        );
        voice.retune(self.channel_at(g, ch).bend_cents());
        self.clock += 1;
        let slot = Slot {
            voice,
            wave_dlid: first,
            wave_place: 0,
            stream: Some(Stream {
                voice_id,
                articulation,
                next: 1,
            }),
            group: g,
            channel: ch,
            key: WAVE_VOICE_SLOT_KEY,
            key_group: 0,
            age: self.clock,
            sustained: false,
            sends,
            routes: params.channel,
            poly_pressure: 0,
        };
        let index = self.free_slot();
        if let Some(place) = self.slots.get_mut(index) {
            if place.as_ref().is_some_and(|s| !s.voice.is_released()) {
                self.stolen = self.stolen.saturating_add(1);
            }
            *place = Some(slot);
            mark_sounding(&mut self.sounding, index);
        }
        true
    }

    /// `IDirectMusicSynth8::StopVoice`: releases every voice `play_voice` started with
    /// `voice_id` (its envelope then runs its release). Returns whether one was playing.
    pub fn stop_voice(&mut self, voice_id: u32) -> bool {
        let mut found = false;
        for slot in self.slots.iter_mut().flatten() {
            if slot.stream.is_some_and(|s| s.voice_id == voice_id) {
                slot.voice.release();
                found = true;
            }
        }
        found
    }

    /// Whether a voice `play_voice` started with `voice_id` still sounds
    /// (`IDirectMusicSynth8::GetVoiceState`'s `bExists`).
    #[must_use]
    pub fn voice_exists(&self, voice_id: u32) -> bool {
        self.slots
            .iter()
            .flatten()
            .any(|s| s.stream.is_some_and(|s| s.voice_id == voice_id))
    }

    /// Adds `out.len() / 2` stereo frames (interleaved left, right; 16-bit scale) of every
    /// voice into `out`. Voices whose wave is no longer in `store` stop.
    ///
    /// The voices mix into the engine's planar buffers ([`MIX_FRAMES`] frames a side), a part
    /// of `out` at a time: each voice's left and right are then plain loops the compiler
    /// vectorises, the buffers stay in the first-level cache, and the interleaving is done
    /// once per part rather than once per voice.
    pub fn render<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        out: &mut [i32],
    ) {
        // Out of `self` for the call (an empty box does not allocate), so that the voices can
        // be borrowed beside it.
        let mut mix = core::mem::take(&mut self.mix);
        let (left_all, right_all) = mix.split_at_mut(mix.len() / 2);
        let part_frames = left_all.len().max(1);
        for part in out.chunks_mut(2 * part_frames) {
            let frames = part.len() / 2;
            let left = left_all.get_mut(..frames).unwrap_or_default();
            let right = right_all.get_mut(..frames).unwrap_or_default();
            self.render_planar(store, left, right);
            // Interleaving, then clearing (two plain passes the compiler vectorises; taking
            // each sample as it is read, in one pass, kept it from vectorising either).
            for ((frame, &l), &r) in part.chunks_exact_mut(2).zip(left.iter()).zip(right.iter()) {
                if let [out_left, out_right] = frame {
                    *out_left += l;
                    *out_right += r;
                }
            }
            left.fill(0);
            right.fill(0);
        }
        self.mix = mix;
    }

    /// Adds `left.len()` frames of every voice into `left` and `right`, then the send
    /// effects that are on.
    fn render_planar<B: AsRef<[u8]> + AsMut<[u8]>>(
        &mut self,
        store: &InstrumentStore<B>,
        left: &mut [i32],
        right: &mut [i32],
    ) {
        // Out of `self` for the call (taking an `Option` moves a pointer), so that the send
        // stage can be borrowed beside the voices.
        let mut effects = self.effects.take();
        let frames = left.len();
        // One block storage for every voice of the part (see `BlockScratch`).
        let mut scratch = BlockScratch::new();
        for (word_index, word) in self.sounding.iter_mut().enumerate() {
            // Each set bit in turn (at most 64 a word), lowest first: slot order, as before.
            let mut bits = *word;
            while bits != 0 {
                let index = word_index * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                let Some(slot) = self.slots.get_mut(index).and_then(Option::as_mut) else {
                    *word &= !(1 << (index % 64));
                    continue;
                };
                let Some(wave) = store.wave_placed(slot.wave_dlid, &mut slot.wave_place) else {
                    self.slots[index] = None;
                    *word &= !(1 << (index % 64));
                    continue;
                };
                let channel = self
                    .channels
                    .get(slot.group)
                    .and_then(|c| c.get(usize::from(slot.channel)))
                    .copied()
                    .unwrap_or(Channel::RESET);
                let routes = &slot.routes;
                let gain = i32::from(attenuation_to_gain_q15(
                    routes.attenuation_cb(channel.volume, channel.expression),
                ));
                let (pan_left, pan_right) =
                    pan_gains_q15(slot.voice.pan_permille() + routes.pan_permille(channel.pan));
                let gain = (gain * MASTER_GAIN_Q15) >> 15;
                let (gain_left, gain_right) = ((pan_left * gain) >> 15, (pan_right * gain) >> 15);
                let samples = wave.samples_with_guard();
                let sends = effects.as_deref().map_or((0, 0), |[fx]| {
                    fx.gate(
                        send_q15(
                            slot.sends.reverb_permille,
                            channel.reverb_send,
                            slot.sends.cc91_permille,
                        ),
                        send_q15(
                            slot.sends.chorus_permille,
                            channel.chorus_send,
                            slot.sends.cc93_permille,
                        ),
                    )
                });
                let gains = (gain_left, gain_right);
                let produced = match effects.as_deref_mut() {
                    // A voice that sends renders into the send stage's buffer (shared by the
                    // voices that send alike, mixed into the dry mix and the buses once); one that
                    // does not goes straight into the mix, as with no effects.
                    Some([fx]) if sends != (0, 0) => render_voice(
                        store,
                        slot,
                        &mut scratch,
                        samples,
                        fx.voice_buffers(sends, left, right),
                        gains,
                    ),
                    _ => render_voice(
                        store,
                        slot,
                        &mut scratch,
                        samples,
                        (&mut *left, &mut *right),
                        gains,
                    ),
                };
                if produced < frames || slot.voice.is_finished() {
                    self.slots[index] = None;
                    *word &= !(1 << (index % 64));
                }
            }
        }
        if let Some([fx]) = effects.as_deref_mut() {
            fx.finish(left, right);
        }
        self.effects = effects;
    }
}

/// Renders `slot`'s voice from `samples` (in `scratch`) into `left` and `right` (as many
/// frames as they hold) at `gains`, and returns the frames it produced. A streamed wave goes
/// on in its next buffer where this one ended, also when it ended on the part's last frame (at
/// most once per buffer of the articulation).
fn render_voice<B: AsRef<[u8]> + AsMut<[u8]>>(
    store: &InstrumentStore<B>,
    slot: &mut Slot,
    scratch: &mut BlockScratch,
    samples: WaveSamples<'_>,
    (left, right): (&mut [i32], &mut [i32]),
    (gain_left, gain_right): (i32, i32),
) -> usize {
    let frames = left.len().min(right.len());
    let mut produced = slot.voice.render_planar_with(
        scratch,
        samples,
        (&mut *left, &mut *right),
        gain_left,
        gain_right,
    );
    while produced < frames || slot.voice.is_finished() {
        let Some(next) = advance_stream(store, slot) else {
            break;
        };
        produced += slot.voice.render_planar_with(
            scratch,
            next.samples_with_guard(),
            (
                left.get_mut(produced..).unwrap_or_default(),
                right.get_mut(produced..).unwrap_or_default(),
            ),
            gain_left,
            gain_right,
        );
    }
    produced
}

/// Sets slot `index`'s bit in `sounding` (see [`Engine`]'s field).
fn mark_sounding(sounding: &mut [u64], index: usize) {
    if let Some(word) = sounding.get_mut(index / 64) {
        *word |= 1 << (index % 64);
    }
}

/// Moves a streamed voice that reached the end of its buffer on to the articulation's next
/// buffer; `None` (nothing changed) when there is none or the voice cannot go on.
fn advance_stream<'s, B: AsRef<[u8]> + AsMut<[u8]>>(
    store: &'s InstrumentStore<B>,
    slot: &mut Slot,
) -> Option<&'s StoredWave<B>> {
    let stream = slot.stream.as_mut()?;
    let dlid = *store
        .wave_articulation(stream.articulation)?
        .buffers
        .get(stream.next)?;
    let wave = store.wave(dlid)?;
    if !slot.voice.continue_on(wave.frames()) {
        return None;
    }
    stream.next += 1;
    slot.wave_dlid = dlid;
    Some(wave)
}

/// The key a wave voice plays as (its unity note, so the wave sounds at its own pitch).
const WAVE_VOICE_KEY: u8 = 60;

/// The key a wave voice's slot records: no MIDI key (data bytes are 7-bit), so note-offs and
/// self-exclusion leave wave voices alone; `stop_voice` ends them.
const WAVE_VOICE_SLOT_KEY: u8 = 0x80;

/// Frames mixed at a time by [`Engine::render`] (two planar buffers of this many `i32`s in the
/// engine's storage, 2 KiB). Four control periods: a voice's periods rarely line up with the parts (its
/// note began anywhere), and each part boundary splits one of them in two.
pub const MIX_FRAMES: usize = 256;

#[cfg(test)]
mod tests {
    extern crate std;

    use super::{Channel, DRUM_CHANNEL, Engine};
    use crate::download::{APPEND_SAMPLES, InstrumentStore};

    /// rdmus's driver size: 256 voices, 16 channel groups.
    type Big = Engine<256, 16>;

    #[test]
    fn the_engine_value_stays_small_whatever_its_voices() {
        // The voices live on the heap: the value is what a kernel stack may hold.
        assert!(
            core::mem::size_of::<Big>() < 1024,
            "{}",
            core::mem::size_of::<Big>()
        );
        assert_eq!(
            core::mem::size_of::<Big>(),
            core::mem::size_of::<Engine<1, 1>>()
        );
    }

    #[test]
    fn try_new_takes_the_counts_asked_within_the_ceilings() {
        let e = Big::try_new(44_100, 32, 2).expect("small engine");
        assert_eq!(
            (e.voice_limit(), e.channel_groups(), e.rate()),
            (32, 2, 44_100)
        );
        let capped = Big::try_new(48_000, 10_000, 99).expect("capped engine");
        assert_eq!((capped.voice_limit(), capped.channel_groups()), (256, 16));
        assert_eq!(Big::new(48_000).voice_limit(), 256);
        assert!(e.channel(3, 0).is_none(), "group 3 of 2");
    }

    /// The shared GM bank, downloaded whole; `None` (reported skipped) without the shared data.
    fn gm_store() -> Option<InstrumentStore<alloc::vec::Vec<u8>>> {
        use crate::download::build::build_collection;
        use crate::wire::file::DlsFile;
        let bank = test_data::read("dls/sf_GMbank.dls")?;
        let file = DlsFile::parse(&bank).expect("GM bank parses");
        let built = build_collection(&file, 1, APPEND_SAMPLES).expect("GM bank builds");
        let mut store = InstrumentStore::new(APPEND_SAMPLES);
        for b in built.waves.into_iter().chain(built.instruments) {
            store.download(b.bytes).expect("download");
        }
        Some(store)
    }

    /// 64 notes held at velocity 100 on sustaining GM programs (the `vs_fluidsynth` stress
    /// song): with the master gain the mix rarely passes 16 bits, and it is still loud.
    #[test]
    fn sixty_four_held_gm_notes_rarely_clip() {
        let Some(store) = gm_store() else {
            return;
        };
        let mut e = Big::try_new(48_000, 64, 1).expect("engine");
        let programs = [48u8, 49, 50, 19, 16, 17, 52, 53, 89, 90, 91, 94, 61, 62, 21];
        let channels: alloc::vec::Vec<u8> = (0u8..16).filter(|&c| c != 9).collect();
        for (&channel, &program) in channels.iter().zip(&programs) {
            e.message(&store, 1, &[0xc0 | channel, program]);
        }
        for n in 0..64 {
            let channel = channels[n % channels.len()];
            let key = 48 + u8::try_from((n / channels.len()) * 7 % 36).unwrap();
            e.message(&store, 1, &[0x90 | channel, key, 100]);
        }
        assert_eq!(e.active_voices(), 64);
        let mut out = alloc::vec![0i32; 2 * 4_800];
        let (mut clipped, mut samples, mut peak) = (0usize, 0usize, 0u32);
        // Four seconds, past every attack.
        for _ in 0..40 {
            out.fill(0);
            e.render(&store, &mut out);
            clipped += out.iter().filter(|s| s.unsigned_abs() > 32_767).count();
            peak = peak.max(out.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0));
            samples += out.len();
        }
        std::println!("64 held notes: peak {peak}, {clipped} of {samples} samples clipped");
        assert!(clipped * 10_000 < samples, "{clipped} of {samples} clipped");
        assert!(peak > 16_384, "still loud: peak {peak}");
    }

    /// A drum kit (drums, bank 0, program 0) over one looped 16-bit wave at 48 kHz: keys 42
    /// and 46 in key group 1, key 49 in key group 2, key 50 in none; every region releases
    /// over 2700 tc (4.8 s, as the GM open hi-hat). `shutdown_tc` gives key 46's region its
    /// own `CONN_DST_EG1_SHUTDOWNTIME` connection.
    fn kit(shutdown_tc: Option<i32>) -> InstrumentStore<alloc::vec::Vec<u8>> {
        kit_with(shutdown_tc, &[])
    }

    /// [`kit`] with `extra` connections in every region.
    fn kit_with(
        shutdown_tc: Option<i32>,
        extra: &[crate::model::Connection],
    ) -> InstrumentStore<alloc::vec::Vec<u8>> {
        use crate::download::build::{build_instrument, build_wave};
        use crate::model::{
            ArticulationLevel, Connection, ConnectionBlock, KeyRange, SampleInfo, WaveFormat,
            WaveLoop,
        };
        use crate::wire::file::{Instrument, Region, Wave, WaveLink};
        use alloc::vec;
        use dmus_sys::dls::{
            CONN_DST_EG1_RELEASETIME, CONN_DST_EG1_SHUTDOWNTIME, CONN_SRC_NONE, F_INSTRUMENT_DRUMS,
            WAVE_FORMAT_PCM,
        };
        let data: alloc::vec::Vec<u8> = (0..256i16)
            .flat_map(|i| ((i % 32 - 16) * 1000).to_le_bytes())
            .collect();
        let wave = Wave {
            pool_offset: 0,
            name: b"",
            format: WaveFormat {
                format_tag: WAVE_FORMAT_PCM,
                channels: 1,
                sample_rate: 48_000,
                avg_bytes_per_sec: 96_000,
                block_align: 2,
                bits_per_sample: 16,
            },
            sample: None,
            data: &data,
        };
        let constant = |destination, tc: i32| Connection {
            source: CONN_SRC_NONE,
            control: CONN_SRC_NONE,
            destination,
            transform: 0,
            scale: tc << 16,
        };
        let region = |key: u16, key_group: u16, shutdown: Option<i32>| Region {
            level2: true,
            key: KeyRange {
                low: key,
                high: key,
            },
            velocity: KeyRange::FULL,
            options: 0,
            key_group,
            layer: 0,
            wave_link: WaveLink::default(),
            sample: Some(SampleInfo {
                unity_note: 60,
                wave_loop: Some(WaveLoop {
                    kind: 0,
                    start: 0,
                    length: 256,
                }),
                ..SampleInfo::default()
            }),
            articulation: vec![ConnectionBlock {
                level: ArticulationLevel::Dls2,
                connections: [constant(CONN_DST_EG1_RELEASETIME, 2700)]
                    .into_iter()
                    .chain(shutdown.map(|tc| constant(CONN_DST_EG1_SHUTDOWNTIME, tc)))
                    .chain(extra.iter().copied())
                    .collect(),
            }],
        };
        let instrument = Instrument {
            name: b"kit",
            bank: F_INSTRUMENT_DRUMS,
            program: 0,
            regions: vec![
                region(42, 1, None),
                region(46, 1, shutdown_tc),
                region(49, 2, None),
                region(50, 0, None),
            ],
            articulation: vec![],
        };
        let mut store = InstrumentStore::new(APPEND_SAMPLES);
        let wave = build_wave(1, &wave, APPEND_SAMPLES).expect("wave builds");
        store.download(wave).expect("wave downloads");
        let instrument =
            build_instrument(2, &instrument, |cue| (cue == 0).then_some((1, None))).expect("kit");
        store.download(instrument).expect("kit downloads");
        store
    }

    fn render_frames(e: &mut Big, store: &InstrumentStore<alloc::vec::Vec<u8>>, frames: usize) {
        e.render(store, &mut alloc::vec![0i32; 2 * frames]);
    }

    /// Voices in every slot are rendered, past the first 64 too (the render walks the
    /// sounding bits a word of 64 slots at a time): 100 identical voices, each started and
    /// released on the same frame, give exactly 100 times what one gives.
    #[test]
    fn voices_past_the_sixty_fourth_slot_sound() {
        let store = kit(None);
        let render = |voices: usize| {
            let mut e = Big::try_new(48_000, 100, 1).expect("engine");
            for _ in 0..voices {
                e.message(&store, 1, &[0x99, 50, 100]);
                e.message(&store, 1, &[0x89, 50, 0]);
            }
            assert_eq!(e.active_voices(), voices);
            let mut out = alloc::vec![0i32; 2 * 1000];
            e.render(&store, &mut out);
            out
        };
        let one = render(1);
        assert!(one.iter().any(|&s| s != 0), "the voice sounds");
        let hundred = render(100);
        assert_eq!(
            hundred,
            one.iter().map(|&s| 100 * s).collect::<alloc::vec::Vec<_>>()
        );
    }

    /// (channel group, key, released) of every sounding voice on the drum channel.
    fn drum_voices(e: &Big) -> alloc::vec::Vec<(u16, u8, bool)> {
        let mut v: alloc::vec::Vec<_> = e
            .voices()
            .filter(|&(_, channel, _, _)| channel == DRUM_CHANNEL)
            .map(|(group, _, key, voice)| (group, key, voice.is_released()))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn a_key_group_shuts_down_its_released_voices_in_the_shutdown_time() {
        let store = kit(None);
        let mut e = Big::try_new(48_000, 16, 2).expect("engine");
        // Open hi-hat (46) on both channel groups, and key 49 (key group 2), all released:
        // on their own they would ring for 4.8 s.
        for group in [1, 2] {
            e.message(&store, group, &[0x99, 46, 100]);
        }
        e.message(&store, 1, &[0x99, 49, 100]);
        render_frames(&mut e, &store, 480);
        for group in [1, 2] {
            e.message(&store, group, &[0x89, 46, 0]);
        }
        e.message(&store, 1, &[0x89, 49, 0]);
        render_frames(&mut e, &store, 480);
        assert_eq!(
            drum_voices(&e),
            [(1, 46, true), (1, 49, true), (2, 46, true)]
        );
        // The closed hi-hat (42, key group 1) in group 1 shuts down group 1's open hi-hat:
        // 15 ms (720 frames) by default, a ramp, not a click.
        e.message(&store, 1, &[0x99, 42, 100]);
        // (A voice ends once it can only be silent: here some 50 frames before the ramp's
        // end, so the check that it is still fading is made halfway.)
        render_frames(&mut e, &store, 360);
        assert_eq!(
            drum_voices(&e),
            [(1, 42, false), (1, 46, true), (1, 49, true), (2, 46, true)],
            "still fading halfway through the shutdown time"
        );
        render_frames(&mut e, &store, 360 + 64);
        assert_eq!(
            drum_voices(&e),
            [(1, 42, false), (1, 49, true), (2, 46, true)],
            "gone one control period after it; key group 2 and channel group 2 untouched"
        );
        assert_eq!(
            e.stolen_voices(),
            0,
            "a key group's shutdown is not a steal"
        );
    }

    #[test]
    fn a_shutdown_connection_sets_the_time_and_held_voices_shut_down_too() {
        // Key 46's own shutdown time: -6000 tc = 2^-5 s, 1500 frames at 48 kHz.
        let store = kit(Some(-6000));
        let mut e = Big::try_new(48_000, 16, 1).expect("engine");
        e.message(&store, 1, &[0x99, 46, 100]);
        render_frames(&mut e, &store, 480);
        // Still held (no note-off): the key group shuts it down all the same.
        e.message(&store, 1, &[0x99, 42, 100]);
        render_frames(&mut e, &store, 750);
        assert_eq!(drum_voices(&e), [(1, 42, false), (1, 46, true)]);
        render_frames(&mut e, &store, 750 + 64);
        assert_eq!(drum_voices(&e), [(1, 42, false)]);
        // Key 50 has no key group, but its region is self-exclusive: hit again, its earlier
        // voice shuts down in the default 15 ms; a released one is left to its release.
        e.message(&store, 1, &[0x99, 50, 100]);
        render_frames(&mut e, &store, 480);
        e.message(&store, 1, &[0x89, 50, 0]);
        e.message(&store, 1, &[0x99, 50, 100]);
        render_frames(&mut e, &store, 720 + 64);
        assert_eq!(
            drum_voices(&e),
            [(1, 42, false), (1, 50, false), (1, 50, true)],
            "a released voice of the same key keeps its own release"
        );
        e.message(&store, 1, &[0x99, 50, 100]);
        render_frames(&mut e, &store, 720 + 64);
        assert_eq!(
            drum_voices(&e),
            [(1, 42, false), (1, 50, false), (1, 50, true)],
            "the held one was shut down, the new one sounds"
        );
    }

    /// The GM bank's open hi-hat (46) then closed hi-hat (42) on the drum channel: the closed
    /// one chokes the open one within the EG1 shutdown time (`FluidSynth` 2.5.7 with its
    /// native DLS loader does the same; rdmus used to leave it ringing at its 4.8 s release).
    #[test]
    fn gm_closed_hi_hat_chokes_the_open_one() {
        let Some(store) = gm_store() else {
            return;
        };
        let mut e = Big::try_new(48_000, 32, 1).expect("engine");
        // An eighth note at 120 bpm: 250 ms of open hi-hat, note-off, then the closed one.
        e.message(&store, 1, &[0x99, 46, 100]);
        render_frames(&mut e, &store, 12_000);
        e.message(&store, 1, &[0x89, 46, 0]);
        assert!(
            drum_voices(&e).iter().any(|&(_, key, _)| key == 46),
            "the open hi-hat rings past its note-off"
        );
        e.message(&store, 1, &[0x99, 42, 100]);
        let mut gone_after = None;
        for period in 1..=(2_400 / 64) {
            render_frames(&mut e, &store, 64);
            if !drum_voices(&e).iter().any(|&(_, key, _)| key == 46) {
                gone_after = Some(period * 64);
                break;
            }
        }
        std::println!("GM open hi-hat gone {gone_after:?} frames (48 kHz) after the closed hit");
        let gone_after = gone_after.expect("the open hi-hat is gone 50 ms after the closed hit");
        assert!(gone_after <= 720 + 64, "{gone_after} frames");
    }

    /// RPN 0, 1 and 2 through data entry MSB/LSB and increment/decrement; the null RPN and an
    /// NRPN take data entry away from them; reset all controllers keeps their values.
    #[test]
    fn registered_parameters_follow_gm2() {
        let store: InstrumentStore<alloc::vec::Vec<u8>> = InstrumentStore::new(APPEND_SAMPLES);
        let mut e = Big::try_new(48_000, 8, 1).expect("engine");
        let cc =
            |e: &mut Big, control: u8, value: u8| e.message(&store, 1, &[0xB2, control, value]);
        let channel = |e: &Big| *e.channel(1, 2).expect("channel 2");
        cc(&mut e, 6, 12);
        assert_eq!(
            channel(&e).bend_range_cents,
            200,
            "no RPN selected at reset"
        );
        cc(&mut e, 101, 0);
        cc(&mut e, 100, 0);
        cc(&mut e, 6, 12);
        assert_eq!(channel(&e).bend_range_cents, 1200, "MSB: semitones");
        cc(&mut e, 38, 50);
        assert_eq!(channel(&e).bend_range_cents, 1250, "LSB: cents");
        cc(&mut e, 96, 0);
        assert_eq!(channel(&e).bend_range_cents, 1251, "increment: a cent");
        cc(&mut e, 38, 99);
        cc(&mut e, 96, 0);
        assert_eq!(channel(&e).bend_range_cents, 1300, "99 cents carry");
        cc(&mut e, 97, 0);
        assert_eq!(channel(&e).bend_range_cents, 1299, "decrement borrows");
        // RPN 1: 0x50 << 7 is a quarter of the way up: +25 cents.
        cc(&mut e, 100, 1);
        cc(&mut e, 6, 0x50);
        cc(&mut e, 38, 0);
        assert_eq!(channel(&e).fine_tune, 0x50 << 7);
        assert_eq!(channel(&e).tuning_cents(), 25);
        assert_eq!(channel(&e).bend_range_cents, 1299, "RPN 0 untouched");
        // RPN 2: semitones from 64; increment steps a semitone.
        cc(&mut e, 100, 2);
        cc(&mut e, 6, 66);
        assert_eq!(channel(&e).tuning_cents(), 225);
        cc(&mut e, 96, 0);
        assert_eq!(channel(&e).coarse_tune, 67);
        // The null RPN: data entry reaches nothing.
        cc(&mut e, 101, 127);
        cc(&mut e, 100, 127);
        cc(&mut e, 6, 1);
        cc(&mut e, 96, 0);
        let after_null = channel(&e);
        assert_eq!(
            (
                after_null.coarse_tune,
                after_null.fine_tune,
                after_null.bend_range_cents
            ),
            (67, 0x50 << 7, 1299)
        );
        // An NRPN: none is ours; the last RPN is not touched either.
        cc(&mut e, 101, 0);
        cc(&mut e, 100, 0);
        cc(&mut e, 99, 1);
        cc(&mut e, 98, 8);
        cc(&mut e, 6, 2);
        assert_eq!(channel(&e).bend_range_cents, 1299);
        // Reset all controllers: the RPN values stay, the selection goes.
        cc(&mut e, 1, 90);
        e.message(&store, 1, &[0xD2, 70]);
        cc(&mut e, 121, 0);
        let reset = channel(&e);
        assert_eq!((reset.modulation, reset.pressure), (0, 0));
        assert_eq!(
            (reset.coarse_tune, reset.fine_tune, reset.bend_range_cents),
            (67, 0x50 << 7, 1299)
        );
        cc(&mut e, 6, 3);
        assert_eq!(
            channel(&e).bend_range_cents,
            1299,
            "no RPN selected after reset"
        );
    }

    fn step_of(e: &Big, key: u8) -> u64 {
        e.voices()
            .find(|&(_, _, k, _)| k == key)
            .map(|(_, _, _, v)| v.step_q32())
            .expect("the key sounds")
    }

    /// A step as a float, to 16 fractional bits (plenty for pitch ratios).
    fn step_f64(step: u64) -> f64 {
        f64::from(u32::try_from(step >> 16).expect("a step under 2^48"))
    }

    /// Coarse and fine tuning and the bend range move a sounding voice's pitch, and a note
    /// started later starts tuned.
    #[test]
    fn tuning_and_bend_range_move_sounding_voices() {
        let store = kit(None);
        let mut e = Big::try_new(48_000, 8, 1).expect("engine");
        let send = |e: &mut Big, bytes: &[u8]| e.message(&store, 1, bytes);
        send(&mut e, &[0x99, 50, 100]);
        let plain = step_f64(step_of(&e, 50));
        send(&mut e, &[0xB9, 101, 0]);
        send(&mut e, &[0xB9, 100, 2]);
        send(&mut e, &[0xB9, 6, 76]);
        let octave = step_f64(step_of(&e, 50)) / plain;
        assert!((octave - 2.0).abs() < 1e-3, "coarse +12: {octave}");
        // Bend range 12 semitones, full bend down: back to the plain pitch.
        send(&mut e, &[0xB9, 100, 0]);
        send(&mut e, &[0xB9, 6, 12]);
        send(&mut e, &[0xE9, 0, 0]);
        let back = step_f64(step_of(&e, 50)) / plain;
        assert!((back - 1.0).abs() < 1e-3, "+12 - 12: {back}");
        send(&mut e, &[0xE9, 0, 64]);
        send(&mut e, &[0x99, 49, 100]);
        let ratio = step_f64(step_of(&e, 49)) / plain;
        let expected = 2f64.powf(11.0 / 12.0);
        assert!(
            (ratio - expected).abs() < 1e-3,
            "a new note starts tuned: {ratio}"
        );
    }

    /// The modulation wheel brings in the vibrato an instrument states (vibrato × CC1 → pitch
    /// at 50 cents; DLS2 has none by default): the pitch moves while the wheel is up and stays
    /// put at rest, and RPN 5 (GM2's modulation depth range) scales the swing from its 50-cent
    /// default.
    #[test]
    fn the_mod_wheel_brings_in_vibrato_to_the_depth_of_rpn_5() {
        use crate::model::Connection;
        use dmus_sys::dls::{CONN_DST_PITCH, CONN_SRC_CC1, CONN_SRC_VIBRATO};
        let wheel_vibrato = Connection {
            source: CONN_SRC_VIBRATO,
            control: CONN_SRC_CC1,
            destination: CONN_DST_PITCH,
            transform: 0,
            scale: 50 << 16,
        };
        let swing = |store: &InstrumentStore<alloc::vec::Vec<u8>>, setup: &[[u8; 3]]| {
            let mut e = Big::try_new(48_000, 8, 1).expect("engine");
            for m in setup {
                e.message(store, 1, m);
            }
            e.message(store, 1, &[0x99, 50, 100]);
            let mut seen = alloc::vec::Vec::new();
            for _ in 0..100 {
                render_frames(&mut e, store, 480);
                seen.push(step_of(&e, 50));
            }
            let (low, high) = (seen.iter().min().copied(), seen.iter().max().copied());
            1200.0 * (step_f64(high.unwrap_or(0)) / step_f64(low.unwrap_or(0))).log2()
        };
        let plain = kit(None);
        assert!(
            swing(&plain, &[[0xB9, 1, 127]]) < 0.01,
            "no connection, no vibrato"
        );
        let store = kit_with(None, &[wheel_vibrato]);
        assert!(
            swing(&store, &[[0xB9, 1, 0]]) < 0.01,
            "no wheel, no vibrato"
        );
        // A ±49-cent swing, seen at 10 ms points of a 5 Hz triangle.
        let cents = swing(&store, &[[0xB9, 1, 127]]);
        assert!((80.0..=99.0).contains(&cents), "swing {cents} cents");
        // RPN 5 at one semitone (MSB 1, LSB 0): twice GM2's 50 cents, twice the swing; it
        // also reaches a note already sounding.
        let rpn5 = [[0xB9, 101, 0], [0xB9, 100, 5], [0xB9, 6, 1], [0xB9, 38, 0]];
        let mut setup = alloc::vec::Vec::from(rpn5);
        setup.push([0xB9, 1, 127]);
        let wide = swing(&store, &setup);
        assert!((160.0..=198.0).contains(&wide), "swing {wide} cents");
        let mut e = Big::try_new(48_000, 8, 1).expect("engine");
        e.message(&store, 1, &[0xB9, 1, 127]);
        e.message(&store, 1, &[0x99, 50, 100]);
        render_frames(&mut e, &store, 480);
        for m in rpn5 {
            e.message(&store, 1, &m);
        }
        let channel = e.channel(1, 9).expect("channel");
        assert_eq!(channel.modulation_depth_cents(), 100);
        assert_eq!(channel.controls(0).wheel_depth_cents, 100);
    }

    /// Poly pressure moves only its key's voice, channel pressure every voice of the channel
    /// (through connections from those sources to pitch), from the next control period.
    #[test]
    fn pressure_reaches_the_voices_it_should() {
        use crate::model::Connection;
        use dmus_sys::dls::{
            CONN_DST_PITCH, CONN_SRC_CHANNELPRESSURE, CONN_SRC_NONE, CONN_SRC_POLYPRESSURE,
        };
        let to_pitch = |source, cents: i32| Connection {
            source,
            control: CONN_SRC_NONE,
            destination: CONN_DST_PITCH,
            transform: 0,
            scale: cents << 16,
        };
        let store = kit_with(
            None,
            &[
                to_pitch(CONN_SRC_POLYPRESSURE, 1280),
                to_pitch(CONN_SRC_CHANNELPRESSURE, 640),
            ],
        );
        let mut e = Big::try_new(48_000, 8, 1).expect("engine");
        e.message(&store, 1, &[0x99, 49, 100]);
        e.message(&store, 1, &[0x99, 50, 100]);
        render_frames(&mut e, &store, 128);
        let (k49, k50) = (step_f64(step_of(&e, 49)), step_f64(step_of(&e, 50)));
        let cents = |now: f64, then: f64| 1200.0 * (now / then).log2();
        let near = |got: f64, want: f64| (got - want).abs() < 0.5;
        // Poly pressure 64 on key 50: half of 1280 cents.
        e.message(&store, 1, &[0xA9, 50, 64]);
        render_frames(&mut e, &store, 128);
        assert!(near(cents(step_f64(step_of(&e, 50)), k50), 640.0));
        assert!(
            near(cents(step_f64(step_of(&e, 49)), k49), 0.0),
            "another key"
        );
        // Channel pressure 32: a quarter of 640 cents, on both.
        e.message(&store, 1, &[0xD9, 32]);
        render_frames(&mut e, &store, 128);
        assert!(near(cents(step_f64(step_of(&e, 50)), k50), 800.0));
        assert!(near(cents(step_f64(step_of(&e, 49)), k49), 160.0));
        // Reset all controllers: both pressures back to 0.
        e.message(&store, 1, &[0xB9, 121, 0]);
        render_frames(&mut e, &store, 128);
        assert!(near(cents(step_f64(step_of(&e, 50)), k50), 0.0));
    }

    #[test]
    fn reset_puts_every_channel_back_in_place() {
        let store: InstrumentStore<alloc::vec::Vec<u8>> = InstrumentStore::new(APPEND_SAMPLES);
        let mut e = Big::try_new(48_000, 8, 2).expect("engine");
        e.message(&store, 0, &[0xB3, 7, 20]);
        e.message(&store, 2, &[0xC5, 40]);
        assert_ne!(e.channel(1, 3), Some(&Channel::RESET));
        assert_ne!(e.channel(2, 5), Some(&Channel::RESET));
        assert!(e.set_priority(2, 9, 7));
        assert!(!e.set_priority(3, 0, 7), "group 3 of 2");
        assert!(!e.set_priority(1, 16, 7), "channel 16 of 0..16");
        e.reset(22_050);
        assert_eq!(
            e.priority(2, 9),
            Some(7),
            "priorities are settings: they stay"
        );
        assert_eq!(e.rate(), 22_050);
        assert_eq!(e.voice_limit(), 8, "the storage stays");
        for group in 1..=2 {
            for channel in 0..16 {
                assert_eq!(e.channel(group, channel), Some(&Channel::RESET));
            }
        }
    }
}
