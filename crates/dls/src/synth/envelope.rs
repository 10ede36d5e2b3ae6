//! The DLS2 volume envelope (EG1): delay, attack, hold, decay, sustain, release.
//!
//! As the DLS2 specification draws it: the attack rises linearly in amplitude; decay and
//! release fall linearly in decibels, at the rate that would cover the whole 96 dB range in the
//! stage's time; sustain is a fraction of that range (1000 ‰ = 0 dB, 0 ‰ = -96 dB). One call
//! per output sample, constant work per call, integers only.
//!
//! A shutdown (DLS2 §1.4.4 and §1.7.2.9: a note-exclusive or key-group event ends the note) is
//! a release at the shutdown time constant instead of the release time, from whatever level
//! the envelope is at, including one already releasing.

use super::fixed::{attenuation_to_gain_q15, gain_q15_to_attenuation, time_cents_to_samples};
use super::tables::MAX_ATTENUATION_CB;

/// Full range of the envelope in centibels (96 dB).
const MAX_CB: u32 = 960;
const _: () = assert!(
    MAX_CB as usize == MAX_ATTENUATION_CB,
    "the gain table covers the range"
);
/// Full range of the envelope in centibels, Q16.
const FULL_RANGE_Q16: u32 = MAX_CB << 16;
/// Unity gain in Q15.
const UNITY_Q15: u16 = 32767;

/// The DLS2 default EG1 shutdown time, 15 ms (DLS 2.2 Table 5, "Vol EG Shutdown Time":
/// default 15 msecs, range 0..=40 secs, absolute time), in whole time cents:
/// 1200 · log2(0.015) = -7270.7, rounded to -7271.
pub const DEFAULT_SHUTDOWN_TC: i32 = -7271;

/// EG1 parameters for one note, in whole time cents (see [`super::fixed::TIME_CENTS_ZERO`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EnvelopeParams {
    /// Delay before the attack.
    pub delay_tc: i32,
    /// Attack time.
    pub attack_tc: i32,
    /// Hold time at full level.
    pub hold_tc: i32,
    /// Time the decay would take over the full 96 dB.
    pub decay_tc: i32,
    /// Sustain level, 0..=1000 per mille of the range.
    pub sustain_permille: u32,
    /// Time the release would take over the full 96 dB.
    pub release_tc: i32,
    /// Time a shutdown's release would take over the full 96 dB
    /// (`CONN_DST_EG1_SHUTDOWNTIME`; EG1 only, an EG2 ignores it).
    pub shutdown_tc: i32,
}

impl Default for EnvelopeParams {
    /// DLS defaults: no delay, attack, hold, decay or release; sustain at full level; a
    /// shutdown over [`DEFAULT_SHUTDOWN_TC`] (15 ms).
    fn default() -> Self {
        let zero = super::fixed::TIME_CENTS_ZERO;
        Self {
            delay_tc: zero,
            attack_tc: zero,
            hold_tc: zero,
            decay_tc: zero,
            sustain_permille: 1000,
            release_tc: zero,
            shutdown_tc: DEFAULT_SHUTDOWN_TC,
        }
    }
}

/// Stage of the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Silent, waiting.
    Delay,
    /// Rising linearly to full level.
    Attack,
    /// At full level.
    Hold,
    /// Falling toward the sustain level.
    Decay,
    /// At the sustain level until release.
    Sustain,
    /// Falling to silence.
    Release,
    /// Silent for good.
    Done,
}

/// A running envelope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Envelope {
    stage: Stage,
    /// Samples left in the stage: in delay, attack and hold their time; in decay and release
    /// the steps until the target level, counted once on entering the stage (a division) and
    /// then counted down, so that a caller asking every block divides nothing.
    remaining: u32,
    attack_len: u32,
    hold_len: u32,
    /// Attenuation in centibels, Q16 (decay, sustain, release).
    attenuation_q16: u32,
    sustain_q16: u32,
    decay_step_q16: u32,
    release_step_q16: u32,
    /// The release step a shutdown uses (see [`Envelope::shutdown`]).
    shutdown_step_q16: u32,
    /// Decay, sustain and release are linear in value (EG2) rather than in decibels (EG1).
    linear: bool,
}

fn step_over(samples: u32) -> u32 {
    FULL_RANGE_Q16
        .checked_div(samples)
        .map_or(FULL_RANGE_Q16, |step| step.max(1))
}

impl Envelope {
    /// Starts a linear envelope (EG2, the pitch envelope: decay, sustain and release are
    /// fractions of full scale, not decibels).
    #[must_use]
    pub fn start_linear(params: &EnvelopeParams, rate: u32) -> Self {
        let mut env = Self::start(params, rate);
        env.linear = true;
        env
    }

    /// Starts an envelope at note-on, for output at `rate` Hz.
    #[must_use]
    pub fn start(params: &EnvelopeParams, rate: u32) -> Self {
        let sustain = params.sustain_permille.min(1000);
        let mut env = Self {
            stage: Stage::Delay,
            remaining: time_cents_to_samples(params.delay_tc, rate),
            attack_len: time_cents_to_samples(params.attack_tc, rate),
            hold_len: time_cents_to_samples(params.hold_tc, rate),
            attenuation_q16: 0,
            sustain_q16: u32::try_from(
                u64::from(1000 - sustain) * u64::from(FULL_RANGE_Q16) / 1000,
            )
            .unwrap_or(FULL_RANGE_Q16),
            decay_step_q16: step_over(time_cents_to_samples(params.decay_tc, rate)),
            release_step_q16: step_over(time_cents_to_samples(params.release_tc, rate)),
            shutdown_step_q16: step_over(time_cents_to_samples(params.shutdown_tc, rate)),
            linear: false,
        };
        env.settle();
        env
    }

    /// The current stage.
    #[must_use]
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// Whether the envelope has finished (the voice can be freed).
    #[must_use]
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done
    }

    /// Moves past stages that have no time left. At most one pass over the stages.
    fn settle(&mut self) {
        if self.stage == Stage::Delay && self.remaining == 0 {
            self.stage = Stage::Attack;
            self.remaining = self.attack_len;
        }
        if self.stage == Stage::Attack && self.remaining == 0 {
            self.stage = Stage::Hold;
            self.remaining = self.hold_len;
        }
        if self.stage == Stage::Hold && self.remaining == 0 {
            self.stage = Stage::Decay;
            // A decay of no time lands on the sustain level at once.
            self.attenuation_q16 = if self.decay_step_q16 >= FULL_RANGE_Q16 {
                self.sustain_q16
            } else {
                0
            };
            self.remaining = self.steps_to(self.sustain_q16, self.decay_step_q16);
        }
        if self.stage == Stage::Decay && self.attenuation_q16 >= self.sustain_q16 {
            self.attenuation_q16 = self.sustain_q16;
            self.stage = Stage::Sustain;
        }
        if matches!(self.stage, Stage::Sustain | Stage::Release)
            && self.attenuation_q16 >= FULL_RANGE_Q16
        {
            self.stage = Stage::Done;
        }
    }

    /// Note-off: enters the release from wherever the envelope is.
    pub fn release(&mut self) {
        self.attenuation_q16 = match self.stage {
            Stage::Delay | Stage::Done => FULL_RANGE_Q16,
            Stage::Attack if self.linear => {
                let level = u64::from(self.attack_gain());
                let fall = u64::from(FULL_RANGE_Q16) * (u64::from(UNITY_Q15) - level)
                    / u64::from(UNITY_Q15);
                u32::try_from(fall).unwrap_or(FULL_RANGE_Q16)
            }
            Stage::Attack => gain_q15_to_attenuation(self.attack_gain()).min(MAX_CB) << 16,
            Stage::Hold => 0,
            Stage::Decay | Stage::Sustain | Stage::Release => self.attenuation_q16,
        };
        self.stage = Stage::Release;
        if self.release_step_q16 >= FULL_RANGE_Q16 {
            // A release of no time ends the note at once.
            self.attenuation_q16 = FULL_RANGE_Q16;
        }
        self.remaining = self.steps_to(FULL_RANGE_Q16, self.release_step_q16);
        self.settle();
    }

    /// Shutdown (DLS2 §1.7.2.9): enters the release from wherever the envelope is, as
    /// [`Self::release`] does, but falls at the shutdown rate (96 dB over the shutdown time),
    /// so a shutdown from full level is silent after the shutdown time and from a lower level
    /// sooner. An envelope already in its release keeps its level and speeds up. The faster
    /// of the release and shutdown rates applies: a shutdown never makes a note end later
    /// (as Microsoft's DDK synth sample's quick stop keeps the shorter of the two).
    pub fn shutdown(&mut self) {
        self.release_step_q16 = self.release_step_q16.max(self.shutdown_step_q16);
        self.release();
    }

    fn attack_gain(&self) -> u16 {
        let elapsed = u64::from(self.attack_len - self.remaining.min(self.attack_len));
        let level = u64::from(UNITY_Q15) * elapsed / u64::from(self.attack_len.max(1));
        u16::try_from(level).unwrap_or(u16::MAX)
    }

    /// The gain of this sample (Q15), then advances by one sample.
    pub fn next_gain_q15(&mut self) -> u16 {
        let gain = self.gain_q15();
        self.advance(1);
        gain
    }

    /// The gain now (Q15), without advancing.
    #[must_use]
    pub fn gain_q15(&self) -> u16 {
        match self.stage {
            Stage::Delay | Stage::Done => 0,
            Stage::Attack => self.attack_gain(),
            Stage::Hold => UNITY_Q15,
            Stage::Decay | Stage::Sustain | Stage::Release => {
                self.falling_gain(self.attenuation_q16)
            }
        }
    }

    /// The gain of decay, sustain or release at `attenuation_q16`.
    fn falling_gain(&self, attenuation_q16: u32) -> u16 {
        if self.linear {
            let left = u64::from(FULL_RANGE_Q16.saturating_sub(attenuation_q16));
            u16::try_from(u64::from(UNITY_Q15) * left / u64::from(FULL_RANGE_Q16))
                .unwrap_or(UNITY_Q15)
        } else {
            attenuation_to_gain_q15(i32::try_from(attenuation_q16 >> 16).unwrap_or(i32::MAX))
        }
    }

    /// The gain of the last of the next `samples` samples (Q15), the envelope left past them:
    /// the same as [`Self::advance`]`(samples - 1)` then [`Self::next_gain_q15`] (for
    /// `samples` at least 1), in one step. EG2 is ticked so once a control period, and
    /// nearly always in sustain or within one stage: as two calls that was two stage
    /// matches and two in-stage updates a period.
    #[inline]
    pub fn last_gain_of(&mut self, samples: u32) -> u16 {
        match self.stage {
            // Advancing changes nothing here.
            Stage::Sustain => self.falling_gain(self.attenuation_q16),
            Stage::Done => 0,
            // Within the stage (see `advance`): neither advance reaches the stage's end.
            Stage::Decay | Stage::Release if samples < self.remaining => {
                let step = if self.stage == Stage::Decay {
                    self.decay_step_q16
                } else {
                    self.release_step_q16
                };
                let before_last = self
                    .attenuation_q16
                    .saturating_add(step.saturating_mul(samples - 1));
                self.attenuation_q16 = before_last.saturating_add(step);
                self.remaining -= samples;
                self.falling_gain(before_last)
            }
            _ => {
                self.advance(samples.saturating_sub(1));
                self.next_gain_q15()
            }
        }
    }

    /// Samples until the stage changes (`u32::MAX` in sustain or once done). Advancing by at
    /// most this many stays within one stage, where the gain moves steadily, so a caller can
    /// interpolate the gain across the span.
    #[must_use]
    pub fn samples_in_stage(&self) -> u32 {
        match self.stage {
            Stage::Delay | Stage::Attack | Stage::Hold | Stage::Decay | Stage::Release => {
                self.remaining.max(1)
            }
            Stage::Sustain | Stage::Done => u32::MAX,
        }
    }

    /// Steps of `step` from the attenuation now to `target` (at least one): the samples a
    /// falling stage lasts. Stepping `k` of them leaves exactly `k` fewer, so the count taken
    /// on entering the stage is counted down, never divided again.
    fn steps_to(&self, target: u32, step: u32) -> u32 {
        target
            .saturating_sub(self.attenuation_q16)
            .div_ceil(step.max(1))
            .max(1)
    }

    /// Advances by `samples` samples: the same state as that many calls of
    /// [`Self::next_gain_q15`], in constant time (at most one pass over the stages).
    ///
    /// Inline for the common cases, out of line across stage ends. A voice's block ends at
    /// the volume envelope's stage end and EG2 is advanced a control period at a time, so
    /// nearly every call stays within its stage (or is in sustain): those took ~70
    /// instructions through the general loop (a call, the stage match, `settle`'s five
    /// checks), some 4 % of a song's render.
    #[inline]
    pub fn advance(&mut self, samples: u32) {
        match self.stage {
            Stage::Sustain | Stage::Done => {}
            // Within the stage: `settle` would change nothing. For decay and release,
            // `remaining` is the steps left to the target (`steps_to`: the attenuation plus
            // fewer than that many steps stays below it), counted down as they are taken.
            Stage::Delay | Stage::Attack | Stage::Hold if samples < self.remaining => {
                self.remaining -= samples;
            }
            Stage::Decay | Stage::Release if samples < self.remaining => {
                let step = if self.stage == Stage::Decay {
                    self.decay_step_q16
                } else {
                    self.release_step_q16
                };
                self.attenuation_q16 = self
                    .attenuation_q16
                    .saturating_add(step.saturating_mul(samples));
                self.remaining -= samples;
            }
            _ => self.advance_across(samples),
        }
    }

    /// [`Self::advance`] through any number of stage ends.
    #[inline(never)]
    fn advance_across(&mut self, samples: u32) {
        let mut left = samples;
        // Each pass ends a stage or uses up `left`; there are six stages before Done.
        for _ in 0..7 {
            if left == 0 {
                break;
            }
            match self.stage {
                Stage::Delay | Stage::Attack | Stage::Hold => {
                    let taken = self.remaining.min(left);
                    self.remaining -= taken;
                    left -= taken;
                }
                Stage::Decay | Stage::Release => {
                    let step = if self.stage == Stage::Decay {
                        self.decay_step_q16
                    } else {
                        self.release_step_q16
                    };
                    let taken = left.min(self.samples_in_stage());
                    self.attenuation_q16 = self
                        .attenuation_q16
                        .saturating_add(step.saturating_mul(taken));
                    self.remaining = self.remaining.saturating_sub(taken);
                    left -= taken;
                }
                Stage::Sustain | Stage::Done => left = 0,
            }
            self.settle();
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::super::fixed::TIME_CENTS_ZERO;
    use super::*;

    fn run(env: &mut Envelope, n: usize) -> alloc::vec::Vec<u16> {
        (0..n).map(|_| env.next_gain_q15()).collect()
    }

    #[test]
    fn default_envelope_is_full_until_release_then_silent() {
        let mut env = Envelope::start(&EnvelopeParams::default(), 1000);
        assert_eq!(env.stage(), Stage::Sustain);
        assert_eq!(run(&mut env, 3), [32767; 3]);
        env.release();
        assert!(env.is_done());
        assert_eq!(env.next_gain_q15(), 0);
    }

    #[test]
    fn stages_take_their_times() {
        // At 1000 Hz: delay 0.5 s (-1200 tc), attack 1 s, hold 0.5 s, decay 2 s over 96 dB,
        // sustain 50 % (-48 dB), release 1 s over 96 dB.
        let p = EnvelopeParams {
            delay_tc: -1200,
            attack_tc: 0,
            hold_tc: -1200,
            decay_tc: 1200,
            sustain_permille: 500,
            release_tc: 0,
            shutdown_tc: DEFAULT_SHUTDOWN_TC,
        };
        let mut env = Envelope::start(&p, 1000);
        let g = run(&mut env, 500);
        assert!(g.iter().all(|&x| x == 0), "delay is silent");
        assert_eq!(env.stage(), Stage::Attack);
        let g = run(&mut env, 1000);
        assert_eq!(g[0], 0);
        assert_eq!(
            g[500], 16383,
            "half way up the attack is half the amplitude"
        );
        assert!(g.windows(2).all(|w| w[0] <= w[1]), "attack rises");
        assert_eq!(env.stage(), Stage::Hold);
        assert_eq!(run(&mut env, 500), [32767; 500]);
        assert_eq!(env.stage(), Stage::Decay);
        // 48 dB at 96 dB / 2 s takes 1 s.
        let g = run(&mut env, 999);
        assert_eq!(env.stage(), Stage::Decay);
        assert!(g.windows(2).all(|w| w[0] >= w[1]), "decay falls");
        let about_24_db = attenuation_to_gain_q15(240)..=attenuation_to_gain_q15(239);
        assert!(
            about_24_db.contains(&g[500]),
            "24 dB after 0.5 s, got {}",
            g[500]
        );
        run(&mut env, 2);
        assert_eq!(env.stage(), Stage::Sustain);
        assert_eq!(env.next_gain_q15(), attenuation_to_gain_q15(480));
        env.release();
        // The remaining 48 dB at 96 dB / 1 s take 0.5 s.
        let g = run(&mut env, 499);
        assert!(!env.is_done());
        assert!(g.windows(2).all(|w| w[0] >= w[1]));
        run(&mut env, 2);
        assert!(env.is_done());
    }

    #[test]
    fn release_during_attack_starts_from_the_current_level() {
        let p = EnvelopeParams {
            attack_tc: 0,
            release_tc: 0,
            ..EnvelopeParams::default()
        };
        let mut env = Envelope::start(&p, 1000);
        run(&mut env, 500);
        env.release();
        let first = env.next_gain_q15();
        assert!((16000..=16422).contains(&first), "about -6 dB, got {first}");
        let mut released = 1;
        while !env.is_done() {
            env.next_gain_q15();
            released += 1;
        }
        assert!(
            (930..=940).contains(&released),
            "about 90 dB at 96 dB/s, got {released} samples"
        );
    }

    #[test]
    fn linear_envelope_falls_in_value_not_decibels() {
        // Decay over 1 s at 1000 Hz to a 25 % sustain; release over 1 s.
        let p = EnvelopeParams {
            decay_tc: 0,
            sustain_permille: 250,
            release_tc: 0,
            ..EnvelopeParams::default()
        };
        let mut env = Envelope::start_linear(&p, 1000);
        let g = run(&mut env, 1000);
        assert_eq!(g[0], 32767);
        assert!(
            (16380..=16390).contains(&g[500]),
            "half way down the value, got {}",
            g[500]
        );
        assert_eq!(env.stage(), Stage::Sustain);
        assert!((8190..=8192).contains(&env.next_gain_q15()));
        env.release();
        let g = run(&mut env, 240);
        // 25 % left, falling 0.1 % of full scale per sample: 11 steps (about 1.1 %) remain.
        assert!((340..=380).contains(&g[239]), "got {}", g[239]);
        run(&mut env, 20);
        assert!(env.is_done());
    }

    #[test]
    fn release_during_delay_ends_at_once_and_zero_sustain_ends_after_decay() {
        let mut env = Envelope::start(
            &EnvelopeParams {
                delay_tc: 0,
                ..EnvelopeParams::default()
            },
            100,
        );
        env.release();
        assert!(env.is_done());
        let p = EnvelopeParams {
            decay_tc: TIME_CENTS_ZERO,
            sustain_permille: 0,
            ..EnvelopeParams::default()
        };
        let mut env = Envelope::start(&p, 100);
        assert!(env.is_done(), "instant decay to -96 dB is the end");
        assert_eq!(env.next_gain_q15(), 0);
    }

    /// Samples until the envelope is done (at most `limit`).
    fn samples_to_silence(env: &mut Envelope, limit: u32) -> u32 {
        let mut n = 0;
        while !env.is_done() && n < limit {
            env.next_gain_q15();
            n += 1;
        }
        n
    }

    /// One control period of the voice (the engine's note-on granularity within a render).
    const CONTROL_PERIOD: u32 = 64;

    #[test]
    fn shutdown_reaches_silence_in_the_shutdown_time() {
        // The DLS2 default, 15 ms: 720 samples at 48 kHz, from full level (sustain 100 %), on a
        // note whose own release is long (2700 tc, 4.8 s).
        let slow = EnvelopeParams {
            release_tc: 2700,
            ..EnvelopeParams::default()
        };
        let mut env = Envelope::start(&slow, 48_000);
        run(&mut env, 100);
        env.shutdown();
        assert_eq!(env.stage(), Stage::Release);
        let g = run(&mut env, 360);
        assert!(g.windows(2).all(|w| w[0] >= w[1]), "the shutdown falls");
        let about_48_db = attenuation_to_gain_q15(482)..=attenuation_to_gain_q15(478);
        assert!(
            about_48_db.contains(&g[359]),
            "half the time, half the 96 dB: got {}",
            g[359]
        );
        let n = 360 + samples_to_silence(&mut env, 10_000);
        std::println!("default shutdown at 48 kHz: silent after {n} samples (15 ms = 720)");
        assert!(n.abs_diff(720) <= CONTROL_PERIOD, "{n} samples");
        assert!(n.abs_diff(720) <= 2, "{n} samples");
        // A shutdown time of its own: -6000 tc = 2^-5 s, 1500 samples.
        let mut env = Envelope::start(
            &EnvelopeParams {
                shutdown_tc: -6000,
                ..slow
            },
            48_000,
        );
        env.shutdown();
        let n = samples_to_silence(&mut env, 10_000);
        assert!(n.abs_diff(1500) <= 2, "{n} samples");
    }

    #[test]
    fn shutdown_cuts_a_long_release_short() {
        // The GM open hi-hat's release: 2700 tc, about 4.8 s over 96 dB.
        let p = EnvelopeParams {
            release_tc: 2700,
            ..EnvelopeParams::default()
        };
        let mut released = Envelope::start(&p, 48_000);
        released.release();
        let mut shut = released.clone();
        run(&mut released, 960);
        run(&mut shut, 960);
        let level = shut.gain_q15();
        assert!(level > 31_000, "20 ms into the release: {level}");
        shut.shutdown();
        assert_eq!(
            shut.gain_q15(),
            level,
            "a shutdown starts where the release is"
        );
        let n = samples_to_silence(&mut shut, 10_000);
        std::println!("shutdown during a 2700 tc release: silent after {n} samples");
        assert!(
            n <= 720 + CONTROL_PERIOD && n + CONTROL_PERIOD >= 720,
            "{n} samples"
        );
        // The release alone would still be sounding 15 ms later, well above -96 dB.
        run(&mut released, 720);
        assert!(released.gain_q15() > 30_000, "{}", released.gain_q15());
        // Shut down twice: nothing changes the second time.
        let mut twice = Envelope::start(&p, 48_000);
        twice.shutdown();
        run(&mut twice, 100);
        let before = twice.clone();
        twice.shutdown();
        assert_eq!(twice, before);
    }

    #[test]
    fn shutdown_never_lengthens_a_faster_release_and_ends_a_delay_at_once() {
        // A release of no time: the shutdown ends the note at once too.
        let mut env = Envelope::start(&EnvelopeParams::default(), 48_000);
        env.shutdown();
        assert!(env.is_done());
        // A 4 ms release (-9600 tc = 2^-8 s, 187 samples) is faster than 15 ms: it stays.
        let mut env = Envelope::start(
            &EnvelopeParams {
                release_tc: -9600,
                ..EnvelopeParams::default()
            },
            48_000,
        );
        env.shutdown();
        let n = samples_to_silence(&mut env, 10_000);
        assert!(n.abs_diff(187) <= 2, "{n} samples");
        // Still in its delay: silent for good at once.
        let mut env = Envelope::start(
            &EnvelopeParams {
                delay_tc: 0,
                release_tc: 2700,
                ..EnvelopeParams::default()
            },
            48_000,
        );
        env.shutdown();
        assert!(env.is_done());
        // Half way up a 1 s attack (-6 dB): 90 of the 96 dB left at 96 dB per 15 ms.
        let mut env = Envelope::start(
            &EnvelopeParams {
                attack_tc: 0,
                release_tc: 2700,
                ..EnvelopeParams::default()
            },
            48_000,
        );
        run(&mut env, 24_000);
        env.shutdown();
        let n = samples_to_silence(&mut env, 10_000);
        assert!(n.abs_diff(675) <= 3, "{n} samples");
    }

    /// Envelope parameters from six time cents (delay, attack, hold, decay, release,
    /// shutdown) and a sustain level, as the property tests draw them.
    fn params_of(tcs: [i32; 6], sustain_permille: u32) -> EnvelopeParams {
        EnvelopeParams {
            delay_tc: tcs[0],
            attack_tc: tcs[1],
            hold_tc: tcs[2],
            decay_tc: tcs[3],
            sustain_permille,
            release_tc: tcs[4],
            shutdown_tc: tcs[5],
        }
    }

    proptest::proptest! {
        /// Advancing by n equals n single steps, and a span of `samples_in_stage` never
        /// crosses a stage.
        #[test]
        fn advancing_in_blocks_equals_single_steps(
            tcs in proptest::array::uniform6(-12_000i32..4000),
            sustain in 0u32..1100,
            linear in proptest::prelude::any::<bool>(),
            release_at in 0u32..3000,
            shutdown_at in 0u32..4000,
            blocks in proptest::collection::vec(1u32..200, 1..40),
        ) {
            let params = params_of(tcs, sustain);
            let start = if linear { Envelope::start_linear } else { Envelope::start };
            let (mut stepped, mut blocked) = (start(&params, 8000), start(&params, 8000));
            // The general loop alone, as every call took before `advance`'s inline cases.
            let mut general = start(&params, 8000);
            let mut at = 0;
            for n in blocks {
                if at >= release_at && stepped.stage() != Stage::Release {
                    stepped.release();
                    blocked.release();
                    general.release();
                }
                if at >= shutdown_at {
                    stepped.shutdown();
                    blocked.shutdown();
                    general.shutdown();
                }
                let in_stage = blocked.samples_in_stage();
                let stage = blocked.stage();
                for _ in 0..n {
                    stepped.next_gain_q15();
                }
                blocked.advance(n);
                general.advance_across(n);
                proptest::prop_assert_eq!(&stepped, &blocked);
                proptest::prop_assert_eq!(&general, &blocked);
                if n < in_stage {
                    proptest::prop_assert_eq!(blocked.stage(), stage);
                }
                at += n;
            }
        }

        /// `last_gain_of(n)` is `advance(n - 1)` then `next_gain_q15()`, gain and state, in
        /// every stage, across stage ends and after a release or shutdown.
        #[test]
        fn last_gain_of_a_span_equals_advance_then_next_gain(
            tcs in proptest::array::uniform6(-12_000i32..4000),
            sustain in 0u32..1100,
            linear in proptest::prelude::any::<bool>(),
            release_at in 0u32..3000,
            shutdown_at in 0u32..4000,
            blocks in proptest::collection::vec(1u32..200, 1..40),
        ) {
            let params = params_of(tcs, sustain);
            let start = if linear { Envelope::start_linear } else { Envelope::start };
            let (mut two_calls, mut one_call) = (start(&params, 8000), start(&params, 8000));
            let mut at = 0;
            for n in blocks {
                if at >= release_at && two_calls.stage() != Stage::Release {
                    two_calls.release();
                    one_call.release();
                }
                if at >= shutdown_at {
                    two_calls.shutdown();
                    one_call.shutdown();
                }
                two_calls.advance(n - 1);
                let gain = two_calls.next_gain_q15();
                proptest::prop_assert_eq!(one_call.last_gain_of(n), gain);
                proptest::prop_assert_eq!(&two_calls, &one_call);
                at += n;
            }
        }

        /// `samples_in_stage` is exact in every timed or falling stage, also once counted
        /// down part of the way and after a release or shutdown: one sample fewer stays in the
        /// stage, that many leave it.
        #[test]
        fn samples_in_stage_counts_down_exactly(
            tcs in proptest::array::uniform6(-6_000i32..2400),
            sustain in 0u32..1100,
            release_at in 0u32..2000,
            shutdown_at in 0u32..3000,
            blocks in proptest::collection::vec(1u32..100, 1..30),
        ) {
            let params = EnvelopeParams {
                delay_tc: tcs[0],
                attack_tc: tcs[1],
                hold_tc: tcs[2],
                decay_tc: tcs[3],
                sustain_permille: sustain,
                release_tc: tcs[4],
                shutdown_tc: tcs[5],
            };
            let mut env = Envelope::start(&params, 4000);
            let mut at = 0;
            for n in blocks {
                if at >= release_at && env.stage() != Stage::Release {
                    env.release();
                }
                if at >= shutdown_at {
                    env.shutdown();
                }
                let in_stage = env.samples_in_stage();
                if in_stage != u32::MAX && in_stage < 20_000 {
                    let (mut short, mut full) = (env.clone(), env.clone());
                    short.advance(in_stage - 1);
                    proptest::prop_assert_eq!(short.stage(), env.stage());
                    full.advance(in_stage);
                    proptest::prop_assert_ne!(full.stage(), env.stage());
                }
                env.advance(n);
                at += n;
            }
        }
    }
}
