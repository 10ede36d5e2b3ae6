//! One playing note: reads a wave straight from its download buffer with linear
//! interpolation, follows the region's loop, and applies the volume envelope and gain.
//!
//! Position and step are Q32.32 sample frames. Every sample costs the same small amount of
//! work (one wrap by modulo at most), there is no allocation, and every read of the wave is
//! bounds-checked (`get`), so a voice cannot fault whatever the data. The frame after the last
//! is read from the guard frames the store zeroed (`KSPROPERTY_SYNTH_DLS_APPEND`), so a
//! one-shot interpolates into silence.

use super::articulation::FilterParams;
use super::articulation::NoteParams;
use super::envelope::{Envelope, Stage};
use super::filter::{self, LowPass};
use super::fixed::{attenuation_to_gain_q15, pitch_ratio_q32};
use super::modulation::{Controls, Linear, ModulationParams, Modulator, Row};
use super::tables::PAN_SIN_Q15;
use super::wave_read::{I16Le, U8, Wave, frame_index, interpolate, lerp};
use crate::download::WaveSamples;
use crate::model::{SampleInfo, WaveFormat};
use dmus_sys::dls::WLOOP_TYPE_RELEASE;

/// Samples between two evaluations of the modulators (LFOs, EG2).
const CONTROL_PERIOD: u32 = 64;
/// Longest wave a voice plays (see [`Voice::start`]).
const MAX_FRAMES: usize = 1 << 31;
/// Largest step: 256 frames per output sample.
const MAX_STEP_Q32: u64 = 256 << 32;

/// How a voice loops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopMode {
    /// Plays once to the end.
    OneShot,
    /// Loops until the envelope ends (`WLOOP_TYPE_FORWARD`).
    Forward,
    /// Loops until note-off, then plays on to the end (`WLOOP_TYPE_RELEASE`).
    UntilRelease,
}

/// A playing voice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Voice {
    frames: u32,
    loop_mode: LoopMode,
    loop_start: u32,
    loop_end: u32,
    position: u64,
    step: u64,
    base_cents: i32,
    /// Wave rate over output rate, Q32 (divided once per note, not per control period).
    rate_q32: u64,
    /// The cutoff the filter was last tuned to (tuning divides; most periods it is unchanged).
    tuned_cutoff_cents: i32,
    gain_q15: u16,
    /// The most `gain_q15` can become, whatever the controllers do from now on (see
    /// [`most_gain_raised_cb`]). Once the released envelope times this rounds to silence the
    /// voice can only be silent.
    peak_gain_q15: u16,
    attenuation_cb: i32,
    pan_permille: i32,
    envelope: Envelope,
    modulator: Modulator,
    modulated: bool,
    filter: Option<(LowPass, FilterParams)>,
    bend_cents: i32,
    modulation_cents: i32,
    /// The gain offset `gain_q15` was last computed with (centibels).
    modulation_gain_cb: i32,
    control_countdown: u32,
    released: bool,
    finished: bool,
}

impl Voice {
    /// Starts a voice on a wave of `frames` frames in `format`, with the region's sample info
    /// and the note's parameters, rendering at `output_rate` Hz.
    #[must_use]
    pub fn start(
        format: WaveFormat,
        frames: usize,
        sample: &SampleInfo,
        params: &NoteParams,
        output_rate: u32,
    ) -> Self {
        // No stored wave comes near 2^31 frames (a download buffer is under 4 GiB and the
        // smallest frame is a byte); the cap keeps every position below 2^63, so a position
        // plus a step (at most 2^40) never overflows.
        let frames = u32::try_from(frames.min(MAX_FRAMES)).unwrap_or(0);
        let (loop_mode, loop_start, loop_end) = match sample.wave_loop {
            Some(l)
                if l.length > 0
                    && l.start
                        .checked_add(l.length)
                        .is_some_and(|end| end <= frames) =>
            {
                let mode = if l.kind == WLOOP_TYPE_RELEASE {
                    LoopMode::UntilRelease
                } else {
                    LoopMode::Forward
                };
                (mode, l.start, l.start + l.length)
            }
            _ => (LoopMode::OneShot, 0, frames),
        };
        let rate_q32 = rate_ratio_q32(format.sample_rate, output_rate);
        let step = step_for(params.pitch_cents, rate_q32);
        let envelope = Envelope::start(&params.envelope, output_rate);
        Self {
            frames,
            loop_mode,
            loop_start,
            loop_end,
            position: 0,
            step,
            base_cents: params.pitch_cents,
            rate_q32,
            tuned_cutoff_cents: params.filter.map_or(0, |f| f.cutoff_cents),
            gain_q15: attenuation_to_gain_q15(params.attenuation_cb),
            peak_gain_q15: attenuation_to_gain_q15(
                params
                    .attenuation_cb
                    .saturating_sub(most_gain_raised_cb(&params.modulation)),
            ),
            attenuation_cb: params.attenuation_cb,
            pan_permille: params.pan_permille,
            modulator: Modulator::start(&params.modulation, output_rate),
            modulated: params.modulation.is_active(),
            filter: params
                .filter
                .map(|f| (LowPass::new(f.cutoff_cents, f.resonance_cb, output_rate), f)),
            bend_cents: 0,
            modulation_cents: 0,
            modulation_gain_cb: 0,
            control_countdown: 0,
            finished: frames == 0 || envelope.is_done(),
            envelope,
            released: false,
        }
    }

    /// Carries a one-shot voice that reached the end of its wave on into the next buffer of a
    /// streamed wave (`frames` frames in the same format): the position past the end carries
    /// over, the envelope, filter and modulators run on. Returns false, changing nothing, for
    /// a looping voice, one not at its end, or one whose envelope has ended.
    pub fn continue_on(&mut self, frames: usize) -> bool {
        let end = u64::from(self.frames) << 32;
        if self.loop_mode != LoopMode::OneShot || self.envelope.is_done() || self.position < end {
            return false;
        }
        let frames = u32::try_from(frames.min(MAX_FRAMES)).unwrap_or(0);
        self.position -= end;
        self.frames = frames;
        self.loop_end = frames;
        self.finished = frames == 0;
        true
    }

    /// Shifts the pitch by `cents` from the note's own pitch (pitch bend, tuning); takes effect
    /// from the next sample.
    pub fn retune(&mut self, cents: i32) {
        self.bend_cents = cents;
        self.update_step();
    }

    /// The channel's controllers moved (or the note starts): the modulators follow them from
    /// the next control period. A voice nothing modulates starts running its modulators when a
    /// controller first reaches them.
    pub fn set_controls(&mut self, controls: Controls) {
        self.modulator.set_controls(controls);
        self.modulated |= self.modulator.is_heard();
    }

    fn update_step(&mut self) {
        let cents = self
            .base_cents
            .saturating_add(self.bend_cents)
            .saturating_add(self.modulation_cents);
        self.step = step_for(cents, self.rate_q32);
    }

    /// Runs the modulators; called at the start of each control period.
    fn control(&mut self) {
        self.control_countdown = CONTROL_PERIOD;
        if self.modulated {
            let offsets = self.modulator.tick(CONTROL_PERIOD);
            // Most periods (no LFO, EG2 at its sustain) change nothing: skip the table
            // lookups and the 128-bit multiply then.
            if offsets.pitch_cents != self.modulation_cents {
                self.modulation_cents = offsets.pitch_cents;
                self.update_step();
            }
            if offsets.gain_cb != self.modulation_gain_cb {
                self.modulation_gain_cb = offsets.gain_cb;
                self.gain_q15 =
                    attenuation_to_gain_q15(self.attenuation_cb.saturating_sub(offsets.gain_cb));
            }
            if let Some((filter, f)) = &mut self.filter {
                let cutoff = f.cutoff_cents.saturating_add(offsets.cutoff_cents);
                if cutoff != self.tuned_cutoff_cents {
                    self.tuned_cutoff_cents = cutoff;
                    // The filter was made at this voice's rate and resonance, neither of
                    // which changes.
                    filter.tune_cutoff(cutoff);
                }
            }
        }
    }

    /// Whether note-off has been given.
    #[must_use]
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// Note-off.
    pub fn release(&mut self) {
        self.released = true;
        self.envelope.release();
        self.modulator.release();
        self.finished |= self.envelope.is_done();
    }

    /// Shutdown (DLS2 §1.4.4): an exclusive event (a key group, or the same key on a
    /// self-exclusive region) ends this voice. As a note-off, but the volume envelope falls at
    /// its shutdown rate (`CONN_DST_EG1_SHUTDOWNTIME`, 15 ms over 96 dB by default) from the
    /// level it is at, whether or not the voice was already released.
    pub fn shutdown(&mut self) {
        if !self.released {
            self.modulator.release();
        }
        self.released = true;
        self.envelope.shutdown();
        self.finished |= self.envelope.is_done();
    }

    /// Whether the voice has nothing more to play.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The step per output sample, Q32.32 frames.
    #[must_use]
    pub fn step_q32(&self) -> u64 {
        self.step
    }

    /// The pan of this voice, -500..=500 per mille.
    #[must_use]
    pub fn pan_permille(&self) -> i32 {
        self.pan_permille
    }

    /// The loop mode in effect.
    #[must_use]
    pub fn loop_mode(&self) -> LoopMode {
        self.loop_mode
    }

    fn looping(&self) -> bool {
        match self.loop_mode {
            LoopMode::OneShot => false,
            LoopMode::Forward => true,
            LoopMode::UntilRelease => !self.released,
        }
    }

    /// Adds this voice's next `out.len()` samples (mono, 16-bit scale) into `out`. Returns how
    /// many samples it produced; fewer than `out.len()` means it finished.
    pub fn render(&mut self, samples: WaveSamples<'_>, out: &mut [i32]) -> usize {
        let frames = out.len();
        self.render_blocks(samples, frames, &mut Mono(out))
    }

    /// Adds this voice's next `out.len() / 2` frames into `out`, interleaved left/right, panned
    /// with constant power. Returns how many frames it produced.
    pub fn render_stereo(&mut self, samples: WaveSamples<'_>, out: &mut [i32]) -> usize {
        let (left, right) = pan_gains_q15(self.pan_permille);
        self.render_panned(samples, out, left, right)
    }

    /// Adds this voice's next `out.len() / 2` frames into `out`, interleaved left/right, each
    /// side scaled by its Q15 gain (clamped to 0..=unity). Returns how many frames it produced.
    pub fn render_panned(
        &mut self,
        samples: WaveSamples<'_>,
        out: &mut [i32],
        left_q15: i32,
        right_q15: i32,
    ) -> usize {
        let frames = out.len() / 2;
        let mut sink = Interleaved {
            out,
            gains: (unit(left_q15), unit(right_q15)),
        };
        self.render_blocks(samples, frames, &mut sink)
    }

    /// Adds this voice's next `left.len()` frames (at most `right.len()`) into two separate
    /// channels, each scaled by its Q15 gain (clamped to 0..=unity). Returns how many frames it
    /// produced. The mix for the engine: each channel is one plain vectorisable loop.
    pub fn render_planar(
        &mut self,
        samples: WaveSamples<'_>,
        channels: (&mut [i32], &mut [i32]),
        left_q15: i32,
        right_q15: i32,
    ) -> usize {
        let mut scratch = BlockScratch::new();
        self.render_planar_with(&mut scratch, samples, channels, left_q15, right_q15)
    }

    /// [`Self::render_planar`] with the caller's block storage: the engine clears one a part
    /// for all its voices, where a voice's own was cleared every call (a 264-byte memset,
    /// ~40 instructions a voice and part).
    pub fn render_planar_with(
        &mut self,
        scratch: &mut BlockScratch,
        samples: WaveSamples<'_>,
        (left, right): (&mut [i32], &mut [i32]),
        left_q15: i32,
        right_q15: i32,
    ) -> usize {
        let frames = left.len().min(right.len());
        let mut sink = Planar {
            left,
            right,
            gains: (unit(left_q15), unit(right_q15)),
        };
        self.render_blocks_in(scratch, samples, frames, &mut sink)
    }

    /// Renders `frames` frames into `sink` in blocks that end at control periods and envelope
    /// stages. The envelope is evaluated at the ends of a block and its gain interpolated
    /// linearly across it: within one stage it moves steadily, so this is click-free and within
    /// a few LSB of a per-sample evaluation. Returns how many frames it produced.
    fn render_blocks(
        &mut self,
        samples: WaveSamples<'_>,
        frames: usize,
        sink: &mut impl Sink,
    ) -> usize {
        let mut scratch = BlockScratch::new();
        self.render_blocks_in(&mut scratch, samples, frames, sink)
    }

    /// [`Self::render_blocks`] in `scratch`'s storage.
    fn render_blocks_in(
        &mut self,
        scratch: &mut BlockScratch,
        samples: WaveSamples<'_>,
        frames: usize,
        sink: &mut impl Sink,
    ) -> usize {
        let mut done = 0;
        let block_storage = &mut scratch.0;
        // The envelope's gain at the start of the next block: the end of the last one (only
        // `advance` moves the envelope within a call), so each block evaluates it once.
        let mut envelope_gain = self.envelope.gain_q15();
        // Each pass produces at least one frame or finishes the voice.
        while done < frames && !self.finished {
            if self.control_countdown == 0 {
                self.control();
            }
            let left = u32::try_from(frames - done).unwrap_or(u32::MAX);
            let len = self
                .control_countdown
                .min(left)
                .min(self.envelope.samples_in_stage())
                .clamp(1, CONTROL_PERIOD);
            let gain_at = |env: u16| i64::from((u32::from(env) * u32::from(self.gain_q15)) >> 15);
            let from = gain_at(envelope_gain);
            // In sustain (most blocks of a held note) the envelope stands still: its gain is
            // the one it had, and the table lookup is skipped.
            if self.envelope.stage() != Stage::Sustain {
                self.envelope.advance(len);
                envelope_gain = self.envelope.gain_q15();
            }
            let to = gain_at(envelope_gain);
            let len = usize::try_from(len).unwrap_or(BLOCK).min(BLOCK);
            let padded = block_storage.get_mut(..PAD + len).unwrap_or_default();
            let block = padded.get_mut(PAD..).unwrap_or_default();
            let produced = match samples {
                WaveSamples::I16Le(bytes) => self.gather(&I16Le(bytes), block),
                WaveSamples::U8(bytes) => self.gather(&U8(bytes), block),
            };
            let ramp = Ramp::new(from, to, len);
            if let Some((filter, _)) = &mut self.filter {
                let padded = padded.get_mut(..PAD + produced).unwrap_or_default();
                filter.process_padded_biased(padded);
                let block = padded.get_mut(..produced).unwrap_or_default();
                sink.mix_biased(done, block, ramp);
            } else {
                let block = padded.get(PAD..PAD + produced).unwrap_or_default();
                sink.mix(done, block, ramp);
            }
            self.control_countdown = self
                .control_countdown
                .saturating_sub(u32::try_from(produced).unwrap_or(u32::MAX));
            done += produced;
            self.finished |= self.envelope.is_done() || self.is_silent_from_here(envelope_gain);
        }
        done
    }

    /// Whether everything this voice would still produce scales to exactly zero, so that
    /// ending it now changes no output sample: released, its envelope only falls, and the
    /// envelope's gain times the largest gain the voice can take is at most 1 in Q15. A ramp
    /// between gains of 0 and 1 (Q15) stays under 2^15 in Q30, which [`scale`] takes to 0
    /// (and the sinks' own gains are at most unity). The release's last decibels, often a
    /// good part of a note's life at a quiet velocity, cost nothing then.
    /// `envelope_gain_q15` is the envelope's gain now (the block loop has it at hand).
    fn is_silent_from_here(&self, envelope_gain_q15: u16) -> bool {
        self.released
            && self.envelope.stage() == Stage::Release
            && (u32::from(envelope_gain_q15) * u32::from(self.peak_gain_q15)) >> 15 <= 1
    }

    /// Reads the wave at this voice's position and step into `block`, interpolating linearly
    /// and following the loop. Returns how many samples it produced; fewer means a one-shot
    /// reached its end (the voice is then finished).
    fn gather(&mut self, wave: &impl Wave, block: &mut [i32]) -> usize {
        let looping = self.looping();
        let end = u64::from(if looping { self.loop_end } else { self.frames }) << 32;
        let start = u64::from(self.loop_start) << 32;
        // Below `plain` the next frame is the one after; from there to `end`, a loop's last
        // frame interpolates toward the loop start. A one-shot reads on into the guard frames.
        let plain = if looping {
            end.saturating_sub(1 << 32)
        } else {
            end
        };
        let step = self.step;
        let mut position = self.position;
        let mut done = 0;
        // Most blocks lie wholly before the seam (or the end): one run, straight through,
        // without the loop's second pass to find the block full (~10 instructions a block).
        // A block that ends at or past the end goes on into the loop, which wraps or ends.
        if position < plain {
            let last = position
                .saturating_add(step.saturating_mul((block.len() as u64).saturating_sub(1)));
            if last < plain {
                position = interpolate(wave, position, step, block);
                done = block.len();
                if position < end {
                    self.position = position;
                    return done;
                }
            }
        }
        loop {
            if position >= end {
                if looping && end > start {
                    position = start + (position - end) % (end - start);
                } else {
                    self.position = position;
                    self.finished = true;
                    return done;
                }
            }
            let left = block.len() - done;
            if left == 0 {
                break;
            }
            if position < plain {
                // Samples before the seam: the whole rest of the block unless the seam or the
                // end falls inside it (then one division says where).
                let last = position.saturating_add(step.saturating_mul(left as u64 - 1));
                let run = if last < plain {
                    left
                } else {
                    let before = (plain - position - 1) / step.max(1) + 1;
                    usize::try_from(before).unwrap_or(left).min(left)
                };
                let slots = block.get_mut(done..done + run).unwrap_or_default();
                position = interpolate(wave, position, step, slots);
                done += run;
            } else {
                // The loop's last frame, toward the loop start.
                let index = frame_index(position);
                let (s0, s1) = (wave.at(index), wave.at(self.loop_start as usize));
                if let Some(slot) = block.get_mut(done) {
                    *slot = lerp(s0, s1, position);
                }
                position = position.saturating_add(step);
                done += 1;
            }
        }
        self.position = position;
        done
    }
}

/// Storage for a voice's passes over a block, lent by the caller so that one clearing serves
/// many voices. Its contents between calls do not matter: each pass overwrites what it then
/// reads. The wave is read in after two slots of room the filter uses
/// (`LowPass::process_padded`).
#[derive(Clone, Debug)]
pub struct BlockScratch([i32; PAD + BLOCK]);

impl BlockScratch {
    /// Cleared storage.
    #[must_use]
    pub const fn new() -> Self {
        Self([0; PAD + BLOCK])
    }
}

impl Default for BlockScratch {
    fn default() -> Self {
        Self::new()
    }
}

/// Frames rendered in one pass at most: a pass never crosses a control period.
const BLOCK: usize = CONTROL_PERIOD as usize;
/// Room before a pass's block for the filter's two previous inputs.
const PAD: usize = 2;

/// A Q15 gain clamped to 0..=unity.
fn unit(gain_q15: i32) -> i32 {
    gain_q15.clamp(0, 32767)
}

/// Where a voice's blocks go, and how: each block is scaled by a gain ramp (the envelope and
/// the voice's gain) and added in.
///
/// Three passes over a block on the stack, each a tight loop with few live values: read and
/// interpolate the wave, filter, then scale and mix here. Fused into one loop, they needed more
/// registers than x86-64 has, and the spills sat on the filter's feedback chain.
trait Sink {
    /// Adds `block` at frame `at`, scaled by `ramp`.
    fn mix(&mut self, at: usize, block: &[i32], ramp: Ramp);

    /// [`Self::mix`] for the filter's biased output (`LowPass::process_padded_biased`): each
    /// sample is taken to output scale first. `block` is scratch.
    fn mix_biased(&mut self, at: usize, block: &mut [i32], ramp: Ramp) {
        for sample in block.iter_mut() {
            *sample = filter::output(*sample);
        }
        self.mix(at, block, ramp);
    }
}

/// Mono: as it is.
struct Mono<'a>(&'a mut [i32]);

impl Sink for Mono<'_> {
    fn mix(&mut self, at: usize, block: &[i32], ramp: Ramp) {
        let out = self.0.get_mut(at..).unwrap_or_default();
        add_scaled(out, block, ramp);
    }
}

/// Stereo, interleaved left and right, each scaled by its Q15 gain (0..=32767).
struct Interleaved<'a> {
    out: &'a mut [i32],
    gains: (i32, i32),
}

impl Sink for Interleaved<'_> {
    fn mix(&mut self, at: usize, block: &[i32], ramp: Ramp) {
        let (mut left, left_step) = ramp.with_gain(self.gains.0).q30();
        let (mut right, right_step) = ramp.with_gain(self.gains.1).q30();
        let out = self.out.get_mut(at.saturating_mul(2)..).unwrap_or_default();
        for (frame, &sample) in out.chunks_exact_mut(2).zip(block) {
            if let [l, r] = frame {
                *l += scale(sample, left);
                *r += scale(sample, right);
            }
            left += left_step;
            right += right_step;
        }
    }
}

/// Stereo, one slice per side, each scaled by its Q15 gain (0..=32767).
struct Planar<'a> {
    left: &'a mut [i32],
    right: &'a mut [i32],
    gains: (i32, i32),
}

impl Sink for Planar<'_> {
    fn mix(&mut self, at: usize, block: &[i32], ramp: Ramp) {
        let left = self.left.get_mut(at..).unwrap_or_default();
        let right = self.right.get_mut(at..).unwrap_or_default();
        let gains = (
            ramp.with_gain(self.gains.0).q30(),
            ramp.with_gain(self.gains.1).q30(),
        );
        add_scaled_stereo(left, right, block, gains, |sample| sample);
    }

    /// The filter's output taken to its scale in the mix's loop, which reads each sample
    /// anyway: two vector instructions a four samples there, where a pass of its own over the
    /// block (a load, the two, a store, the loop and its remainder) cost more.
    fn mix_biased(&mut self, at: usize, block: &mut [i32], ramp: Ramp) {
        let left = self.left.get_mut(at..).unwrap_or_default();
        let right = self.right.get_mut(at..).unwrap_or_default();
        let gains = (
            ramp.with_gain(self.gains.0).q30(),
            ramp.with_gain(self.gains.1).q30(),
        );
        add_scaled_stereo(left, right, block, gains, filter::output);
    }
}

/// Adds `block`, each sample through `take` (as it is, or the filter's biased output to its
/// scale), into `left` and `right` scaled by their Q30 ramps (start, step), in one pass
/// (a plain loop the compiler vectorises): each sample is read once for both sides, where a
/// pass a side read it twice and paid two loops' set-up and remainders (0.5 % fewer
/// instructions on a song).
///
/// Out of line, unlike `add_scaled`: as a function of its own its three slices keep their
/// no-alias guarantee (inlined, the vectorised loops began with run-time overlap checks) and
/// the voice's block loop keeps fewer values live; 0.35 % fewer instructions on a song than
/// inlined.
#[inline(never)]
fn add_scaled_stereo(
    left: &mut [i32],
    right: &mut [i32],
    block: &[i32],
    ((mut left_gain, left_step), (mut right_gain, right_step)): ((i32, i32), (i32, i32)),
    take: impl Fn(i32) -> i32,
) {
    let sides = left.iter_mut().zip(right.iter_mut()).zip(block);
    if left_step == 0 && right_step == 0 {
        for ((left, right), &sample) in sides {
            let sample = take(sample);
            *left += scale(sample, left_gain);
            *right += scale(sample, right_gain);
        }
    } else {
        for ((left, right), &sample) in sides {
            let sample = take(sample);
            *left += scale(sample, left_gain);
            *right += scale(sample, right_gain);
            left_gain += left_step;
            right_gain += right_step;
        }
    }
}

/// Adds `block` into `out` scaled by `ramp`: a plain loop the compiler vectorises.
#[allow(
    clippy::inline_always,
    reason = "left to itself the compiler puts it out of line, and every block pays a call and loses the specialised loops (1% more instructions on a song)"
)]
#[inline(always)]
fn add_scaled(out: &mut [i32], block: &[i32], ramp: Ramp) {
    let (mut gain, step) = ramp.q30();
    if step == 0 {
        for (out, &sample) in out.iter_mut().zip(block) {
            *out += scale(sample, gain);
        }
    } else {
        for (out, &sample) in out.iter_mut().zip(block) {
            *out += scale(sample, gain);
            gain += step;
        }
    }
}

/// A gain moving linearly across a block: from `from` toward `to` (Q15, 0..=32767) over
/// `len` samples.
#[derive(Clone, Copy, Debug)]
struct Ramp {
    from: i64,
    to: i64,
    len: i64,
}

impl Ramp {
    fn new(from: i64, to: i64, len: usize) -> Self {
        Self {
            from: from.clamp(0, 32767),
            to: to.clamp(0, 32767),
            len: i64::try_from(len).unwrap_or(i64::MAX).max(1),
        }
    }

    /// The same ramp times a Q15 `gain` (0..=32767).
    fn with_gain(self, gain: i32) -> Self {
        let gain = i64::from(gain);
        Self {
            from: (self.from * gain) >> 15,
            to: (self.to * gain) >> 15,
            len: self.len,
        }
    }

    /// The start and the step per sample in Q30 (Q15 with 15 more fractional bits): both lie
    /// within ±2^30. A steady gain (most of a sustained note) needs no division.
    fn q30(self) -> (i32, i32) {
        let step = if self.from == self.to {
            0
        } else {
            per_sample((self.to - self.from) << 15, self.len)
        };
        (
            i32::try_from(self.from << 15).unwrap_or(0),
            i32::try_from(step).unwrap_or(0),
        )
    }
}

/// `total / len`, rounded toward zero, for a ramp's rise (within ±2^30) over its length: a
/// shift for a whole control period (most ramps), else a 32-bit division (a 64-bit one costs
/// several times as much on some processors, once per side and block).
fn per_sample(total: i64, len: i64) -> i64 {
    const PERIOD: i64 = CONTROL_PERIOD as i64;
    const _: () = assert!(CONTROL_PERIOD.is_power_of_two());
    if len == PERIOD {
        // Toward zero as the division: a negative total first gains `PERIOD - 1`.
        (total + ((total >> 63) & (PERIOD - 1))) >> PERIOD.trailing_zeros()
    } else if let (Ok(total), Ok(len)) = (i32::try_from(total), i32::try_from(len)) {
        i64::from(total.checked_div(len).unwrap_or(0))
    } else {
        total.checked_div(len).unwrap_or(0)
    }
}

/// `sample · gain` for a Q30 ramp value, in 32 bits: samples are within ±2^17 (the wave's 16
/// bits, or the filter's limit), so the gain is taken to 14 bits (0..2^14) and the product
/// cannot overflow.
fn scale(sample: i32, gain_q30: i32) -> i32 {
    (sample * (gain_q30 >> 16)) >> 14
}

/// `sample · gain / 2^15`, computed in 64 bits and held within ±2^20.
#[must_use]
pub fn scale_q15(sample: i32, gain_q15: i64) -> i32 {
    let v = (i64::from(sample) * gain_q15) >> 15;
    i32::try_from(v.clamp(-(1 << 20), 1 << 20)).unwrap_or(0)
}

/// The most centibels the modulators can ever add to a note's gain (at least what they add
/// at rest), whatever its controllers do: the modulation LFO's gain depth at its largest
/// (tremolo swings both ways), plus the controller → gain routes at their largest. Both are
/// sums of routes linear in each controller (`Linear`), so their extremes lie at controller
/// values 0 and 127, each controller on its own.
fn most_gain_raised_cb(modulation: &ModulationParams) -> i32 {
    let extremes = |route: &Linear| {
        (
            route.at(0).min(route.at(127)),
            route.at(0).max(route.at(127)),
        )
    };
    // A route through a DLS2 curve (concave, convex, switch; inverted or bipolar) is
    // monotone in the controller value too, so its extremes are also at 0 and 127.
    let curved = |row: Row| {
        modulation
            .controlled
            .curved
            .iter()
            .flatten()
            .filter(move |route| route.row == row)
            .map(|route| {
                let (at_0, at_127) = (
                    i64::from(route.shape.scaled(route.scale, 0)),
                    i64::from(route.shape.scaled(route.scale, 127)),
                );
                (at_0.min(at_127), at_0.max(at_127))
            })
    };
    let (lowest, highest) = modulation
        .controlled
        .lfo_to_gain_cb
        .iter()
        .map(extremes)
        .chain(curved(Row::LfoToGain))
        .fold(
            (
                i64::from(modulation.lfo_to_gain_cb),
                i64::from(modulation.lfo_to_gain_cb),
            ),
            |(low, high), (min, max)| (low + min, high + max),
        );
    let depth = lowest.abs().max(highest.abs());
    let direct: i64 = modulation
        .controlled
        .gain_cb
        .iter()
        .map(extremes)
        .chain(curved(Row::Gain))
        .map(|(_, max)| max)
        .sum();
    i32::try_from((depth + direct).clamp(0, i64::from(i32::MAX))).unwrap_or(i32::MAX)
}

/// `wave_rate / output_rate` in Q32, saturating.
fn rate_ratio_q32(wave_rate: u32, output_rate: u32) -> u64 {
    let ratio = (u128::from(wave_rate) << 32) / u128::from(output_rate.max(1));
    u64::try_from(ratio).unwrap_or(u64::MAX)
}

/// The Q32.32 step for a pitch in cents, given the rate ratio from [`rate_ratio_q32`]: a
/// multiply, no division.
fn step_for(cents: i32, rate_q32: u64) -> u64 {
    let step = (u128::from(pitch_ratio_q32(cents)) * u128::from(rate_q32)) >> 32;
    u64::try_from(step).unwrap_or(u64::MAX).min(MAX_STEP_Q32)
}

/// Left and right Q15 gains of a pan (-500..=500 per mille), constant power.
#[must_use]
pub fn pan_gains_q15(pan_permille: i32) -> (i32, i32) {
    let p = usize::try_from(pan_permille.clamp(-500, 500) + 500).unwrap_or(500);
    let gain = |i: usize| i32::from(PAN_SIN_Q15.get(i).copied().unwrap_or(0));
    (gain(1000 - p), gain(p))
}

/// Converts a mix accumulator to 16-bit PCM, saturating.
pub fn saturate_to_i16(mix: &[i32], out: &mut [i16]) {
    for (o, &m) in out.iter_mut().zip(mix) {
        *o = i16::try_from(m.clamp(i32::from(i16::MIN), i32::from(i16::MAX))).unwrap_or(0);
    }
}

#[cfg(test)]
mod tests {
    use super::super::envelope::EnvelopeParams;
    use super::*;
    use crate::model::WaveLoop;
    use alloc::vec;
    use alloc::vec::Vec;

    fn format(rate: u32, bits: u16) -> WaveFormat {
        WaveFormat {
            format_tag: 1,
            channels: 1,
            sample_rate: rate,
            avg_bytes_per_sec: rate * u32::from(bits / 8),
            block_align: bits / 8,
            bits_per_sample: bits,
        }
    }

    fn ramp16(frames: usize, guard: usize) -> Vec<u8> {
        let mut v: Vec<u8> = (0..frames)
            .flat_map(|i| i16::try_from(i * 1000).unwrap().to_le_bytes())
            .collect();
        v.resize(v.len() + 2 * guard, 0);
        v
    }

    fn flat_params(pitch_cents: i32) -> NoteParams {
        NoteParams {
            pitch_cents,
            attenuation_cb: 0,
            pan_permille: 0,
            envelope: EnvelopeParams::default(),
            modulation: super::super::modulation::ModulationParams::default(),
            filter: None,
            channel: super::super::articulation::ChannelRoutes::default(),
        }
    }

    fn unity() -> SampleInfo {
        SampleInfo {
            unity_note: 60,
            ..SampleInfo::default()
        }
    }

    /// Output for a full-scale sample: the envelope times the voice's gain (two Q15 gains of
    /// 32767), applied at 14 bits.
    fn scaled(sample: i32) -> i32 {
        (sample * (((32767 * 32767) >> 15) >> 1)) >> 14
    }

    /// Output on the left for a full-scale sample panned hard left: the pan gain (32767)
    /// folds into the two others before the one multiply by the sample.
    fn hard_left(sample: i32) -> i32 {
        (sample * (((((32767 * 32767) >> 15) * 32767) >> 15) >> 1)) >> 14
    }

    /// A 16-bit wave of `frames` frames alternating between full scale up and down (with
    /// its guard frames), and sample info looping all of it at unity note 60.
    fn full_scale_loop(frames: usize) -> (Vec<u8>, SampleInfo) {
        let data = (0..frames)
            .flat_map(|i| if i % 2 == 0 { i16::MAX } else { i16::MIN }.to_le_bytes())
            .chain([0; 4])
            .collect();
        let sample = SampleInfo {
            unity_note: 60,
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 0,
                length: u32::try_from(frames).expect("a test wave's length"),
            }),
            ..SampleInfo::default()
        };
        (data, sample)
    }

    /// A quiet released voice ends once its output can only round to zero, before its
    /// envelope is done; rendered on regardless, every sample it would still add is 0.
    #[test]
    fn a_released_voice_ends_when_it_can_only_be_silent() {
        let frames = 4000;
        let (data, sample) = full_scale_loop(frames);
        let params = NoteParams {
            attenuation_cb: 300,
            envelope: EnvelopeParams {
                release_tc: 0,
                ..EnvelopeParams::default()
            },
            ..flat_params(0)
        };
        let mut v = Voice::start(format(22050, 16), frames, &sample, &params, 22050);
        let mut out = vec![0i32; 64];
        v.render(WaveSamples::I16Le(&data), &mut out);
        v.release();
        let mut rendered = 0usize;
        while !v.is_finished() {
            out.fill(0);
            rendered += v.render(WaveSamples::I16Le(&data), &mut out);
            assert!(rendered < 22050 * 4, "the release never ended");
        }
        assert_eq!(
            v.envelope.stage(),
            Stage::Release,
            "ended before the envelope did"
        );
        assert!(v.is_silent_from_here(v.envelope.gain_q15()));
        // What the rest of the release would add: nothing at all, in any sink.
        let mut more = 0;
        while !v.envelope.is_done() {
            v.finished = false;
            let (mut left, mut right) = (vec![0i32; 64], vec![0i32; 64]);
            more += v.render_planar(
                WaveSamples::I16Le(&data),
                (&mut left, &mut right),
                32767,
                32767,
            );
            assert!(left.iter().chain(&right).all(|&s| s == 0));
            assert!(more < 22050 * 4, "the release never ended");
        }
        assert!(more > 0, "the shortcut saved no samples");
    }

    /// A controller route can raise a released voice's gain (here the modulation wheel, +40 dB
    /// at full, or the wheel deepening a tremolo): the voice is not ended while the envelope
    /// times the gain the controller could give is still heard, and when the controller
    /// moves in the release the voice sounds.
    #[test]
    fn a_controller_that_can_raise_the_gain_keeps_a_released_voice() {
        use super::super::modulation::{LfoParams, ModulationParams};
        let frames = 4000;
        let (data, sample) = full_scale_loop(frames);
        let mut wheel_to_gain = ModulationParams::default();
        // CC1 → gain: +400 cB at v = 128 (the DLS source scale), 396 at 127.
        wheel_to_gain.controlled.gain_cb[0] = Linear {
            base: 0,
            slope: 400,
        };
        let mut wheel_to_tremolo = ModulationParams {
            lfo: LfoParams {
                frequency_cents: 6900,
                delay_tc: super::super::fixed::TIME_CENTS_ZERO,
            },
            ..ModulationParams::default()
        };
        // CC1 × LFO → gain: a ±40 dB tremolo at full wheel, none at rest.
        wheel_to_tremolo.controlled.lfo_to_gain_cb[0] = Linear {
            base: 0,
            slope: 400,
        };
        // CC1 → gain through a DLS2 convex curve (h-curves' curved routes): +400 cB at 127.
        let mut wheel_to_gain_convex = ModulationParams::default();
        assert!(wheel_to_gain_convex.controlled.add_curved(
            super::super::modulation::CurvedRoute {
                row: Row::Gain,
                controller: 0,
                shape: super::super::transform::Shape {
                    curve: super::super::transform::Curve::Convex,
                    ..super::super::transform::Shape::LINEAR
                },
                scale: 400,
            }
        ));
        for modulation in [wheel_to_gain, wheel_to_tremolo, wheel_to_gain_convex] {
            assert!(most_gain_raised_cb(&modulation) >= 396);
            let params = NoteParams {
                attenuation_cb: 500,
                envelope: EnvelopeParams {
                    release_tc: 0,
                    ..EnvelopeParams::default()
                },
                modulation,
                ..flat_params(0)
            };
            // Released until the envelope alone, at rest, could no longer be heard: 50 dB
            // down at rest plus some 46 dB of release.
            let mut v = Voice::start(format(22050, 16), frames, &sample, &params, 22050);
            v.set_controls(Controls::default());
            let mut out = vec![0i32; 64];
            v.render(WaveSamples::I16Le(&data), &mut out);
            v.release();
            let at_rest_silent =
                |v: &Voice| (u32::from(v.envelope.gain_q15()) * u32::from(v.gain_q15)) >> 15 <= 1;
            let mut rendered = 0usize;
            while !at_rest_silent(&v) {
                out.fill(0);
                rendered += v.render(WaveSamples::I16Le(&data), &mut out);
                assert!(rendered < 22050 * 4, "the release never got quiet");
            }
            assert!(
                !v.is_finished(),
                "ended though the wheel can still raise it"
            );
            v.set_controls(Controls {
                mod_wheel: 127,
                ..Controls::default()
            });
            let mut heard = 0;
            for _ in 0..8 {
                out.fill(0);
                v.render(WaveSamples::I16Le(&data), &mut out);
                heard += out.iter().filter(|&&s| s != 0).count();
            }
            assert!(heard > 0, "the raised release is heard");
        }
    }

    #[test]
    fn a_ramp_step_is_the_division_it_replaces() {
        for len in [1i64, 2, 3, 7, 31, 63, 64, 65, 1000] {
            for total in [
                0i64,
                1,
                -1,
                63,
                -63,
                64,
                -64,
                65,
                -65,
                12_345,
                -12_345,
                (1 << 30) - 1,
                -(1 << 30) + 1,
                1 << 40,
                -(1 << 40),
            ] {
                assert_eq!(per_sample(total, len), total / len, "{total} / {len}");
            }
        }
        assert_eq!(per_sample(5, 0), 0, "no length: no step");
    }

    #[test]
    fn half_step_interpolates_linearly_into_the_guard() {
        let data = ramp16(10, 1);
        let mut v = Voice::start(format(11025, 16), 10, &unity(), &flat_params(0), 22050);
        assert_eq!(v.step_q32(), 1 << 31);
        let mut out = vec![0; 25];
        let n = v.render(WaveSamples::I16Le(&data), &mut out);
        assert_eq!(n, 20, "10 frames at half speed");
        assert!(v.is_finished());
        for (i, &o) in out[..20].iter().enumerate() {
            let expected = if i == 19 {
                4500
            } else {
                i32::try_from(i).unwrap() * 500
            };
            assert_eq!(o, scaled(expected), "sample {i}");
        }
        assert_eq!(&out[20..], &[0; 5]);
    }

    /// What [`Voice::gather`] gives, one sample at a time: a frame and the next (the loop
    /// start after a loop's last frame), interpolated; a loop wraps by modulo, a one-shot ends
    /// at the end of its wave.
    fn gather_sample_by_sample(v: &mut Voice, wave: &impl Wave, len: usize) -> Vec<i32> {
        let looping = v.looping();
        let end = u64::from(if looping { v.loop_end } else { v.frames }) << 32;
        let start = u64::from(v.loop_start) << 32;
        let mut out = Vec::new();
        loop {
            if v.position >= end {
                if looping && end > start {
                    v.position = start + (v.position - end) % (end - start);
                } else {
                    v.finished = true;
                    return out;
                }
            }
            if out.len() == len {
                return out;
            }
            let index = frame_index(v.position);
            let next = if looping && index + 1 == v.loop_end as usize {
                v.loop_start as usize
            } else {
                index + 1
            };
            out.push(lerp(wave.at(index), wave.at(next), v.position));
            v.position += v.step;
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(1000))]

        /// The wave read gives, run by run, what a sample-by-sample read gives, bit for bit:
        /// any data (shorter than a run too), loop, position (past the end too), step and
        /// block length, 16-bit and 8-bit, forward loops, released loops and one-shots.
        #[test]
        fn gathering_is_the_sample_by_sample_read(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            frames in 0usize..120,
            lp in proptest::option::of((0u32..120, 0u32..40, proptest::prelude::any::<bool>())),
            released in proptest::prelude::any::<bool>(),
            position in 0u64..(130 << 32),
            step in proptest::prop_oneof![0u64..(3 << 32), 0u64..=MAX_STEP_Q32],
            len in 0usize..=BLOCK,
            sixteen in proptest::prelude::any::<bool>(),
        ) {
            let sample = SampleInfo {
                wave_loop: lp.map(|(start, length, release)| WaveLoop {
                    kind: if release { WLOOP_TYPE_RELEASE } else { 0 },
                    start,
                    length,
                }),
                ..unity()
            };
            let mut v = Voice::start(format(22050, 16), frames, &sample, &flat_params(0), 22050);
            v.position = position;
            v.step = step;
            v.released = released;
            let mut model = v.clone();
            let mut block = vec![i32::MIN; len];
            let (produced, expected) = if sixteen {
                (v.gather(&I16Le(&data), &mut block), gather_sample_by_sample(&mut model, &I16Le(&data), len))
            } else {
                (v.gather(&U8(&data), &mut block), gather_sample_by_sample(&mut model, &U8(&data), len))
            };
            proptest::prop_assert_eq!(&block[..produced], &expected[..]);
            proptest::prop_assert_eq!((v.position, v.finished), (model.position, model.finished));
        }
    }

    #[test]
    fn forward_loop_repeats_and_interpolates_across_the_seam() {
        let data = ramp16(16, 1);
        let lp = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 4,
                length: 8,
            }),
            ..unity()
        };
        let mut v = Voice::start(format(22050, 16), 16, &lp, &flat_params(0), 22050);
        assert_eq!(v.loop_mode(), LoopMode::Forward);
        let mut out = vec![0; 100];
        assert_eq!(v.render(WaveSamples::I16Le(&data), &mut out), 100);
        for (i, &o) in out.iter().enumerate() {
            let frame = if i < 12 { i } else { 4 + (i - 12) % 8 };
            assert_eq!(
                o,
                scaled(i32::try_from(frame).unwrap() * 1000),
                "sample {i}"
            );
        }
        // At half speed, frame 11.5 interpolates between frame 11 and the loop start (frame 4).
        let mut v = Voice::start(format(11025, 16), 16, &lp, &flat_params(0), 22050);
        let mut out = vec![0; 24];
        v.render(WaveSamples::I16Le(&data), &mut out);
        assert_eq!(out[23], scaled((11_000 + 4_000) / 2));
        assert!(!v.is_finished());
    }

    #[test]
    fn release_loop_plays_out_after_note_off() {
        let data = ramp16(16, 1);
        let lp = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: WLOOP_TYPE_RELEASE,
                start: 4,
                length: 8,
            }),
            ..unity()
        };
        let params = NoteParams {
            envelope: EnvelopeParams {
                release_tc: 1200,
                ..EnvelopeParams::default()
            },
            ..flat_params(0)
        };
        let mut v = Voice::start(format(22050, 16), 16, &lp, &params, 22050);
        let mut out = vec![0; 30];
        v.render(WaveSamples::I16Le(&data), &mut out);
        v.release();
        // Position is 30 → frame 4 + (30 - 12) % 8 = 6; after release it plays 6..16 and stops.
        let mut out = vec![0; 30];
        assert_eq!(v.render(WaveSamples::I16Le(&data), &mut out), 10);
        assert!(v.is_finished());
    }

    #[test]
    fn pitch_moves_the_step_and_bad_loops_are_one_shots() {
        let up = Voice::start(format(22050, 16), 100, &unity(), &flat_params(1200), 22050);
        assert_eq!(up.step_q32(), 2 << 32);
        let down = Voice::start(format(44100, 16), 100, &unity(), &flat_params(-2400), 22050);
        assert_eq!(down.step_q32(), 1 << 31);
        let mut bent = Voice::start(format(22050, 16), 100, &unity(), &flat_params(0), 22050);
        bent.retune(1200);
        assert_eq!(bent.step_q32(), 2 << 32);
        bent.retune(0);
        assert_eq!(bent.step_q32(), 1 << 32);
        let huge = Voice::start(
            format(96000, 16),
            100,
            &unity(),
            &flat_params(100_000),
            8000,
        );
        assert_eq!(huge.step_q32(), MAX_STEP_Q32);
        let past_end = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 90,
                length: 20,
            }),
            ..unity()
        };
        assert_eq!(
            Voice::start(format(8000, 16), 100, &past_end, &flat_params(0), 8000).loop_mode(),
            LoopMode::OneShot
        );
        let empty = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 5,
                length: 0,
            }),
            ..unity()
        };
        assert_eq!(
            Voice::start(format(8000, 16), 100, &empty, &flat_params(0), 8000).loop_mode(),
            LoopMode::OneShot
        );
    }

    #[test]
    fn eight_bit_samples_are_centred_and_attenuation_applies() {
        let data = [128u8, 192, 64, 128];
        let params = NoteParams {
            attenuation_cb: 60,
            ..flat_params(0)
        };
        let mut v = Voice::start(format(8000, 8), 3, &unity(), &params, 8000);
        let mut out = vec![0; 4];
        assert_eq!(v.render(WaveSamples::U8(&data), &mut out), 3);
        // The envelope times the attenuation's gain (Q15), applied at 14 bits.
        let g = ((32767 * 16422) >> 15) >> 1;
        assert_eq!(out, vec![0, (16384 * g) >> 14, (-16384 * g) >> 14, 0]);
    }

    #[test]
    fn stereo_pans_with_constant_power_and_output_saturates() {
        assert_eq!(
            pan_gains_q15(0),
            (23170, 23170),
            "centre is -3 dB each side"
        );
        assert_eq!(pan_gains_q15(-500), (32767, 0));
        assert_eq!(pan_gains_q15(500), (0, 32767));
        assert_eq!(pan_gains_q15(9999), (0, 32767));
        for p in [-400, -123, 0, 77, 350] {
            let (l, r) = pan_gains_q15(p);
            let power = i64::from(l) * i64::from(l) + i64::from(r) * i64::from(r);
            assert!(
                (power - 32767 * 32767).abs() < 2 * 32767,
                "pan {p}: power {power}"
            );
        }
        let data = ramp16(4, 1);
        let params = NoteParams {
            pan_permille: -500,
            ..flat_params(0)
        };
        let mut v = Voice::start(format(8000, 16), 4, &unity(), &params, 8000);
        let mut out = vec![0; 10];
        assert_eq!(v.render_stereo(WaveSamples::I16Le(&data), &mut out), 4);
        assert_eq!(
            out,
            vec![
                0,
                0,
                hard_left(1000),
                0,
                hard_left(2000),
                0,
                hard_left(3000),
                0,
                0,
                0
            ]
        );
        let mut pcm = [0i16; 4];
        saturate_to_i16(&[40_000, -40_000, 123, -5], &mut pcm);
        assert_eq!(pcm, [32767, -32768, 123, -5]);
    }

    #[test]
    fn vibrato_and_tremolo_move_step_and_gain_at_control_rate() {
        use super::super::modulation::{LfoParams, ModulationParams};
        // A 25 Hz LFO at 6400 Hz: a quarter cycle is one control period (64 samples).
        let lfo = LfoParams {
            frequency_cents: 1934,
            delay_tc: super::super::fixed::TIME_CENTS_ZERO,
        };
        let params = NoteParams {
            modulation: ModulationParams {
                vibrato: lfo,
                vibrato_to_pitch_cents: 100,
                ..ModulationParams::default()
            },
            ..flat_params(0)
        };
        let data = ramp16(16, 1);
        let lp = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 0,
                length: 16,
            }),
            ..unity()
        };
        let mut v = Voice::start(format(6400, 16), 16, &lp, &params, 6400);
        let mut out = vec![0; 1];
        v.render(WaveSamples::I16Le(&data), &mut out);
        assert_eq!(v.step_q32(), 1 << 32, "the LFO starts at zero");
        let mut out = vec![0; 64];
        v.render(WaveSamples::I16Le(&data), &mut out);
        let up = v.step_q32();
        let semitone = pitch_ratio_q32(100);
        assert!(
            up > pitch_ratio_q32(95) && up <= semitone,
            "a semitone up at the crest, got {up:#x}"
        );
        v.render(WaveSamples::I16Le(&data), &mut vec![0; 128]);
        assert!(
            v.step_q32() < pitch_ratio_q32(-95),
            "a semitone down at the trough"
        );
        // Bend adds to the vibrato.
        v.retune(1200);
        assert!(v.step_q32() > 1 << 32);

        let params = NoteParams {
            attenuation_cb: 100,
            modulation: ModulationParams {
                lfo,
                lfo_to_gain_cb: 60,
                ..ModulationParams::default()
            },
            ..flat_params(0)
        };
        let mut v = Voice::start(format(6400, 16), 16, &lp, &params, 6400);
        v.render(WaveSamples::I16Le(&data), &mut vec![0; 65]);
        assert_eq!(
            v.gain_q15,
            attenuation_to_gain_q15(100 - 59),
            "6 dB louder at the crest"
        );
    }

    #[test]
    fn the_filter_darkens_a_bright_wave() {
        // Alternating full-scale frames: all energy at the Nyquist frequency of the wave.
        let data: Vec<u8> = (0..64)
            .flat_map(|i| if i % 2 == 0 { 20_000i16 } else { -20_000 }.to_le_bytes())
            .collect();
        let lp = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 0,
                length: 64,
            }),
            ..unity()
        };
        let energy = |params: &NoteParams| {
            let mut v = Voice::start(format(22050, 16), 64, &lp, params, 22050);
            let mut out = vec![0; 512];
            v.render(WaveSamples::I16Le(&data), &mut out);
            out[256..]
                .iter()
                .map(|&s| i64::from(s).abs())
                .max()
                .unwrap()
        };
        let open = energy(&flat_params(0));
        assert!(open > 19_000);
        let dark = NoteParams {
            filter: Some(super::super::articulation::FilterParams {
                cutoff_cents: 6900,
                resonance_cb: 0,
            }),
            ..flat_params(0)
        };
        let closed = energy(&dark);
        assert!(
            closed < open / 100,
            "a 440 Hz low-pass removes 11 kHz: {closed} vs {open}"
        );
    }

    #[test]
    fn short_or_missing_data_reads_as_silence() {
        let mut v = Voice::start(format(8000, 16), 50, &unity(), &flat_params(0), 8000);
        let mut out = vec![0; 60];
        assert_eq!(v.render(WaveSamples::I16Le(&[1, 2, 3]), &mut out), 50);
        assert_eq!(out[0], scaled(0x0201));
        assert!(out[1..].iter().all(|&o| o == 0));
    }

    proptest::proptest! {
        /// Any wave, loop, pitch, rate and envelope: rendering never panics, a voice that says
        /// it finished stays finished and silent, and a one-shot ends within its length.
        #[test]
        fn voices_stay_in_bounds(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            sixteen in proptest::prelude::any::<bool>(),
            frames in 0usize..40,
            lp in proptest::option::of((0u32..50, 0u32..50, 0u32..3)),
            pitch in -4800i32..4800,
            rate in 1u32..96_000,
            out_rate in 1u32..96_000,
            release_at in 0usize..200,
        ) {
            let bits = if sixteen { 16 } else { 8 };
            let sample = SampleInfo {
                wave_loop: lp.map(|(start, length, kind)| WaveLoop { kind, start, length }),
                ..unity()
            };
            let params = NoteParams { envelope: EnvelopeParams { release_tc: -1200, ..EnvelopeParams::default() }, ..flat_params(pitch) };
            let mut v = Voice::start(format(rate, bits), frames, &sample, &params, out_rate);
            let samples = if sixteen { WaveSamples::I16Le(&data) } else { WaveSamples::U8(&data) };
            let mut out = vec![0i32; 2];
            for n in 0..400 {
                if n == release_at {
                    v.release();
                }
                let was_finished = v.is_finished();
                out.fill(0);
                let produced = v.render_stereo(samples, &mut out);
                if was_finished {
                    proptest::prop_assert_eq!(produced, 0);
                    proptest::prop_assert_eq!(&out, &vec![0, 0]);
                }
                proptest::prop_assert!(out.iter().all(|s| s.unsigned_abs() <= 32768));
            }
            if v.loop_mode() == LoopMode::OneShot && v.step_q32() >= 1 << 32 {
                proptest::prop_assert!(v.is_finished() || frames > 400);
            }
        }
    }

    proptest::proptest! {
        /// Any modulation and filter setting: rendering never panics or overflows, and the
        /// output stays within the filter's limit.
        #[test]
        fn modulated_filtered_voices_stay_bounded(
            pitch in -20_000i32..20_000,
            attenuation in -2000i32..2000,
            depths in proptest::array::uniform6(-20_000i32..20_000),
            lfo_cents in -20_000i32..20_000,
            filter in proptest::option::of((-20_000i32..30_000, -100i32..400)),
            rate in 1u32..96_000,
        ) {
            use super::super::articulation::FilterParams;
            use super::super::modulation::{LfoParams, ModulationParams};
            let lfo = LfoParams { frequency_cents: lfo_cents, delay_tc: 0 };
            let params = NoteParams {
                pitch_cents: pitch,
                attenuation_cb: attenuation,
                pan_permille: 0,
                envelope: EnvelopeParams::default(),
                modulation: ModulationParams {
                    lfo,
                    vibrato: lfo,
                    pitch_envelope: EnvelopeParams { decay_tc: 0, sustain_permille: 0, ..EnvelopeParams::default() },
                    lfo_to_pitch_cents: depths[0],
                    lfo_to_gain_cb: depths[1],
                    vibrato_to_pitch_cents: depths[2],
                    eg2_to_pitch_cents: depths[3],
                    eg2_to_cutoff_cents: depths[4],
                    lfo_to_cutoff_cents: depths[5],
                    ..ModulationParams::default()
                },
                filter: filter.map(|(cutoff_cents, resonance_cb)| FilterParams { cutoff_cents, resonance_cb }),
                ..flat_params(pitch)
            };
            let data: Vec<u8> = (0..64).flat_map(|i| if i % 3 == 0 { i16::MAX } else { i16::MIN }.to_le_bytes()).collect();
            let lp = SampleInfo { wave_loop: Some(WaveLoop { kind: 0, start: 0, length: 64 }), ..unity() };
            let mut v = Voice::start(format(rate, 16), 64, &lp, &params, 44_100);
            let mut out = vec![0i32; 600];
            v.render_stereo(WaveSamples::I16Le(&data), &mut out);
            proptest::prop_assert!(out.iter().all(|s| s.unsigned_abs() <= 1 << 20));
        }
    }

    /// The planar mix takes the filter's biased output to scale in its own loop; the
    /// interleaved mix takes it there in a pass first. Both give the same samples, and the
    /// block storage lent in need not be clean.
    #[test]
    fn planar_mix_of_the_filtered_output_is_the_interleaved_one_in_any_scratch() {
        let params = NoteParams {
            filter: Some(FilterParams {
                cutoff_cents: 6900,
                resonance_cb: 120,
            }),
            ..flat_params(0)
        };
        let data: Vec<u8> = (0..64)
            .flat_map(|i: i32| {
                i16::try_from(i * 997 % 65_536 - 32_768)
                    .unwrap_or(0)
                    .to_le_bytes()
            })
            .collect();
        let lp = SampleInfo {
            wave_loop: Some(WaveLoop {
                kind: 0,
                start: 0,
                length: 61,
            }),
            ..unity()
        };
        let start = || Voice::start(format(44_100, 16), 64, &lp, &params, 48_000);
        let (mut planar, mut interleaved) = (start(), start());
        let mut scratch = BlockScratch([i32::MIN; PAD + BLOCK]);
        // Calls of uneven lengths, so blocks end inside control periods too.
        for len in [1usize, 37, 64, 100, 256, 3, 129] {
            let (mut left, mut right) = (vec![0i32; len], vec![0i32; len]);
            let mut both = vec![0i32; 2 * len];
            let produced = planar.render_planar_with(
                &mut scratch,
                WaveSamples::I16Le(&data),
                (&mut left, &mut right),
                30_000,
                12_000,
            );
            interleaved.render_panned(WaveSamples::I16Le(&data), &mut both, 30_000, 12_000);
            assert_eq!(produced, len);
            let (expected_left, expected_right): (Vec<i32>, Vec<i32>) = both
                .chunks_exact(2)
                .map(|frame| (frame[0], frame[1]))
                .unzip();
            assert_eq!(left, expected_left);
            assert_eq!(right, expected_right);
            assert!(left.iter().any(|&s| s != 0));
            scratch.0.fill(i32::MAX);
        }
    }
}
