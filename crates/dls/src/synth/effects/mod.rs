//! The synth's send effects: a stereo reverb ([`reverb`], Freeverb's design) and a stereo
//! chorus ([`chorus`], a modulated delay line), fed by each voice's reverb and chorus sends
//! (GM2's CC91 and CC93, DLS2's `CONN_DST_REVERB` and `CONN_DST_CHORUS`) and added to the dry
//! mix. Integer only; every buffer is allocated, fallibly, when the effects are made.

pub mod chorus;
pub mod reverb;

use super::engine::{AllocError, MIX_FRAMES};
use alloc::vec::Vec;
use chorus::Chorus;
use reverb::Reverb;

/// The highest rate the effects' delay lines are sized for (rdmus's synth renders at most
/// 48 kHz; above it the delays are capped at this size).
pub const MAX_EFFECT_RATE: u32 = 48_000;

/// Which send effects run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EffectSwitches {
    /// The reverb runs.
    pub reverb: bool,
    /// The chorus runs.
    pub chorus: bool,
}

/// A send level, Q15 (0..=32768), from per mille of the note's own send plus a controller
/// (0..=127) at `cc_permille` for full reach.
#[must_use]
pub fn send_q15(own_permille: i32, cc: u8, cc_permille: i32) -> i32 {
    let permille = own_permille + i32::from(cc & 0x7f) * cc_permille / 127;
    permille.clamp(0, 1000) * 32_768 / 1000
}

/// The most a block's mono voice sum sends at (see [`Effects::voice_buffers`]).
const MONO_LIMIT: i32 = 1 << 18;

/// Send levels (Q15) as the voice buffer mixes them, Q12.
fn send_levels_q12(sends: (i32, i32)) -> (i32, i32) {
    (sends.0.clamp(0, 32_768) >> 3, sends.1.clamp(0, 32_768) >> 3)
}

/// The send stage: the reverb and the chorus, the buses the voices send into, and the voice
/// buffer sending voices render into first. Everything allocated by [`Effects::try_new`].
#[derive(Debug, Clone)]
pub struct Effects {
    switches: EffectSwitches,
    reverb: Reverb,
    chorus: Chorus,
    /// Planar: [`MIX_FRAMES`] left samples of the voices sending alike, then as many right;
    /// zero but while a block's voices render.
    voice: Vec<i32>,
    /// The send levels (Q12) of what `voice` holds; `None` while it is clear.
    pending: Option<(i32, i32)>,
    reverb_bus: Vec<i32>,
    chorus_bus: Vec<i32>,
}

fn try_zeroed(n: usize) -> Result<Vec<i32>, AllocError> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| AllocError)?;
    v.resize(n, 0);
    Ok(v)
}

impl Effects {
    /// Both effects off and silent, set for `rate` Hz.
    ///
    /// # Errors
    /// [`AllocError`] when a delay line or a bus cannot be allocated.
    pub fn try_new(rate: u32) -> Result<Self, AllocError> {
        Ok(Self {
            switches: EffectSwitches::default(),
            reverb: Reverb::try_new(MAX_EFFECT_RATE, rate)?,
            chorus: Chorus::try_new(rate)?,
            voice: try_zeroed(2 * MIX_FRAMES)?,
            pending: None,
            reverb_bus: try_zeroed(MIX_FRAMES)?,
            chorus_bus: try_zeroed(MIX_FRAMES)?,
        })
    }

    /// Which effects run.
    #[must_use]
    pub fn switches(&self) -> EffectSwitches {
        self.switches
    }

    /// Turns the effects on or off; one turned on starts silent. Bounded work (clears the
    /// delay lines of an effect turned on).
    pub fn set_switches(&mut self, switches: EffectSwitches, rate: u32) {
        if switches.reverb && !self.switches.reverb {
            self.reverb.set_rate(rate);
        }
        if switches.chorus && !self.switches.chorus {
            self.chorus.set_rate(rate);
        }
        self.switches = switches;
    }

    /// Silences both effects and sets them for `rate` Hz.
    pub fn reset(&mut self, rate: u32) {
        self.reverb.set_rate(rate);
        self.chorus.set_rate(rate);
    }

    /// The send levels (Q15) that apply with the effects as switched: 0 for an effect off.
    #[must_use]
    pub fn gate(&self, reverb_q15: i32, chorus_q15: i32) -> (i32, i32) {
        (
            if self.switches.reverb { reverb_q15 } else { 0 },
            if self.switches.chorus { chorus_q15 } else { 0 },
        )
    }

    /// The buffer (left, right; `left.len()` frames) a voice sending at `sends` (Q15, as
    /// [`Self::gate`] gives them) renders into. Voices of the same sends share it: the
    /// buffer holds their sum until a voice of other sends asks for it or [`Self::finish`]
    /// comes, and then mixes into `left` and `right` (dry) and into the buses in one pass —
    /// once per block for most songs, whose voices send alike, rather than once per voice.
    pub fn voice_buffers(
        &mut self,
        sends: (i32, i32),
        left: &mut [i32],
        right: &mut [i32],
    ) -> (&mut [i32], &mut [i32]) {
        let frames = left.len().min(right.len()).min(MIX_FRAMES);
        let levels = send_levels_q12(sends);
        if self.pending != Some(levels) {
            self.flush(left, right);
            self.pending = Some(levels);
        }
        let (voice_left, voice_right) = self.voice.split_at_mut(MIX_FRAMES);
        (
            voice_left.get_mut(..frames).unwrap_or_default(),
            voice_right.get_mut(..frames).unwrap_or_default(),
        )
    }

    /// Mixes what the voice buffer holds (if anything) into `left` and `right` (dry) and,
    /// summed to mono, into the buses at its send levels, and clears it.
    ///
    /// One pass of plain `i32` arithmetic the compiler vectorises: the mono sum is held
    /// within ±2^18 (four times a full-scale mix, far beyond what the output can carry
    /// anyway) and the levels are Q12, so that a product stays below 2^30.
    fn flush(&mut self, left: &mut [i32], right: &mut [i32]) {
        let Some((reverb, chorus)) = self.pending.take() else {
            return;
        };
        let frames = left.len().min(right.len()).min(MIX_FRAMES);
        let (voice_left, voice_right) = self.voice.split_at_mut(MIX_FRAMES);
        let (voice_left, voice_right) = (
            voice_left.get_mut(..frames).unwrap_or_default(),
            voice_right.get_mut(..frames).unwrap_or_default(),
        );
        let dry = left.iter_mut().zip(right.iter_mut());
        let voice = voice_left.iter().zip(voice_right.iter());
        let buses = self.reverb_bus.iter_mut().zip(self.chorus_bus.iter_mut());
        for (((l, r), (&vl, &vr)), (to_reverb, to_chorus)) in dry.zip(voice).zip(buses) {
            *l += vl;
            *r += vr;
            let mono = (vl + vr).clamp(-MONO_LIMIT, MONO_LIMIT);
            *to_reverb += (mono * reverb) >> 12;
            *to_chorus += (mono * chorus) >> 12;
        }
        voice_left.fill(0);
        voice_right.fill(0);
    }

    /// Runs the effects that are on over the buses' first `left.len()` frames, adds their
    /// output into `left` and `right`, and clears the buses.
    pub fn finish(&mut self, left: &mut [i32], right: &mut [i32]) {
        self.flush(left, right);
        let frames = left.len().min(right.len()).min(MIX_FRAMES);
        let (reverb_bus, chorus_bus) = (
            &mut self.reverb_bus[..frames],
            &mut self.chorus_bus[..frames],
        );
        // A bus whose effect is off is given no sends (`gate` zeroes them), so it is still
        // clear: clearing it anyway cost two memsets per part with effects off, 1% of a song.
        if self.switches.reverb {
            self.reverb.process(reverb_bus, left, right);
            reverb_bus.fill(0);
        }
        if self.switches.chorus {
            self.chorus.process(chorus_bus, left, right);
            chorus_bus.fill(0);
        }
    }
}

/// A circular delay line of `i32` samples whose length can be shortened below its storage.
///
/// The effects work on it a block at a time: [`DelayLine::next`] lends the slots the next
/// frames read and then overwrite as at most two plain slices (no wrap test nor bounds check
/// per sample), [`DelayLine::advance`] moves past them.
#[derive(Debug, Clone)]
pub struct DelayLine {
    samples: Vec<i32>,
    length: usize,
    /// The oldest sample's slot, the next one read and overwritten (below `length`).
    index: usize,
}

impl DelayLine {
    /// A silent line of `capacity` samples (at least one).
    ///
    /// # Errors
    /// [`AllocError`] when the storage cannot be allocated.
    pub fn try_new(capacity: usize) -> Result<Self, AllocError> {
        let capacity = capacity.max(1);
        Ok(Self {
            samples: try_zeroed(capacity)?,
            length: capacity,
            index: 0,
        })
    }

    /// Silences the line and sets its delay to `length` samples (1..=capacity).
    pub fn reset(&mut self, length: usize) {
        self.samples.fill(0);
        self.length = length.clamp(1, self.samples.len());
        self.index = 0;
    }

    /// The delay in samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.length
    }

    /// Never: a line holds at least one sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The slots of the next `frames` frames (at most [`Self::len`]) in the order they come:
    /// each holds the sample written `len()` writes before its frame, and takes that frame's
    /// write. Two slices, the second empty unless the frames wrap around the line's end; the
    /// line does not move until [`Self::advance`].
    pub fn next(&mut self, frames: usize) -> (&mut [i32], &mut [i32]) {
        let frames = frames.min(self.length);
        let line = self.samples.get_mut(..self.length).unwrap_or_default();
        let (wrapped, from_index) = line.split_at_mut(self.index.min(line.len()));
        let first = frames.min(from_index.len());
        (
            from_index.get_mut(..first).unwrap_or_default(),
            wrapped.get_mut(..frames - first).unwrap_or_default(),
        )
    }

    /// Moves the line on by `frames` frames (at most [`Self::len`]) once their slots have
    /// been read and written through [`Self::next`].
    pub fn advance(&mut self, frames: usize) {
        self.index += frames.min(self.length);
        if self.index >= self.length {
            self.index -= self.length;
        }
    }

    /// The largest magnitude the line holds (one plain pass the compiler vectorises).
    #[must_use]
    pub fn peak(&self) -> u32 {
        self.samples
            .iter()
            .fold(0, |peak, &s| peak.max(s.unsigned_abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::DelayLine;

    /// One sample at a time through [`DelayLine::next`]: what was read at each write.
    fn run(line: &mut DelayLine, input: impl IntoIterator<Item = i32>) -> alloc::vec::Vec<i32> {
        input
            .into_iter()
            .map(|x| {
                let (slot, _) = line.next(1);
                let read = slot[0];
                slot[0] = x;
                line.advance(1);
                read
            })
            .collect()
    }

    #[test]
    fn a_line_gives_back_what_it_was_given_its_length_later() {
        let mut line = DelayLine::try_new(5).expect("line");
        line.reset(3);
        assert_eq!(run(&mut line, 1..=6), [0, 0, 0, 1, 2, 3]);
        line.reset(100);
        assert_eq!(line.len(), 5, "capped at the storage");
        assert_eq!(line.peak(), 0);
    }

    #[test]
    fn a_block_wraps_in_two_slices_and_a_long_one_is_cut_to_the_length() {
        let mut line = DelayLine::try_new(8).expect("line");
        line.reset(5);
        assert_eq!(run(&mut line, 1..=3), [0, 0, 0]);
        let (first, second) = line.next(4);
        assert_eq!((first.len(), second.len()), (2, 2));
        first.copy_from_slice(&[10, 11]);
        second.copy_from_slice(&[12, 13]);
        line.advance(4);
        assert_eq!(line.peak(), 13);
        // Slots 2.. hold 3, 10, 11, then 1 and 2 were overwritten by 12, 13; a block longer
        // than the line is cut to it.
        let (first, second) = line.next(9);
        assert_eq!((&*first, &*second), (&[3, 10, 11][..], &[12, 13][..]));
        line.advance(9);
        assert_eq!(run(&mut line, [0]), [3]);
    }
}
