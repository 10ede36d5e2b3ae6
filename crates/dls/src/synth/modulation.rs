//! Modulators of a voice: the modulation LFO, the vibrato LFO and the pitch envelope (EG2),
//! evaluated at a control rate and turned into a pitch offset and a gain offset.
//!
//! LFOs are triangles starting at zero and rising, silent until their delay has passed; their
//! frequency is in DLS absolute pitch cents (6900 = 440 Hz). Integer only.

use super::envelope::{Envelope, EnvelopeParams};
use super::fixed::{pitch_ratio_q32, time_cents_to_samples};

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
    /// Whether any modulator reaches pitch or gain.
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
    params: ModulationParams,
}

impl Modulator {
    /// Starts the modulators at note-on, for output at `rate` Hz.
    #[must_use]
    pub fn start(params: &ModulationParams, rate: u32) -> Self {
        Self {
            lfo: Lfo::start(&params.lfo, rate),
            vibrato: Lfo::start(&params.vibrato, rate),
            eg2: Envelope::start_linear(&params.pitch_envelope, rate),
            params: *params,
        }
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
        let lfo_heard =
            p.lfo_to_pitch_cents != 0 || p.lfo_to_gain_cb != 0 || p.lfo_to_cutoff_cents != 0;
        let lfo = if lfo_heard {
            i64::from(self.lfo.tick(samples))
        } else {
            0
        };
        let vibrato = if p.vibrato_to_pitch_cents == 0 {
            0
        } else {
            i64::from(self.vibrato.tick(samples))
        };
        let eg2_heard = p.eg2_to_pitch_cents != 0 || p.eg2_to_cutoff_cents != 0;
        // The gain at the period's last sample, as `samples` single steps would leave it.
        let eg2 = if samples == 0 || !eg2_heard {
            0
        } else {
            self.eg2.advance(samples - 1);
            i64::from(self.eg2.next_gain_q15())
        };
        let clamp =
            |v: i64| i32::try_from(v.clamp(i64::from(i32::MIN), i64::from(i32::MAX))).unwrap_or(0);
        Offsets {
            pitch_cents: clamp(
                (lfo * i64::from(p.lfo_to_pitch_cents)
                    + vibrato * i64::from(p.vibrato_to_pitch_cents)
                    + eg2 * i64::from(p.eg2_to_pitch_cents))
                    >> 15,
            ),
            gain_cb: clamp((lfo * i64::from(p.lfo_to_gain_cb)) >> 15),
            cutoff_cents: clamp(
                (lfo * i64::from(p.lfo_to_cutoff_cents) + eg2 * i64::from(p.eg2_to_cutoff_cents))
                    >> 15,
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
