//! The controller and RPN test files of ../shared/data/midi against `FluidSynth`: the RMS
//! envelopes (50 ms windows, mono mix) of rdmus's render and `FluidSynth`'s, with the whole
//! bank, correlate at 0.85 or more. Each file's figure is printed (run with `--nocapture`).
//!
//! Meant for `FluidSynth` 2.5 (`RDMUS_FLUIDSYNTH`, its native DLS loader applies the bank's
//! connections as rdmus does). Differences it does not hide: `FluidSynth` adds `SoundFont`
//! 2.01's default modulators (the wheel and channel pressure to vibrato at 50 cents, velocity to
//! filter cutoff) to DLS instruments and ignores RPN 5; rdmus follows DLS2's defaults (no
//! wheel or pressure route) and GM2's RPN 5. Without the shared data or a `fluidsynth`, each
//! test reports itself skipped and passes.

#[path = "../benches/song/mod.rs"]
mod song;

use song::{BankReading, FluidError, Song};

const GOAL: f64 = 0.85;

/// The files that exercise controllers, RPNs and velocity (the mode messages' files,
/// test-control-7c..7f, play no note in either synth: nothing to compare).
const FILES: [&str; 9] = [
    "test-rpn-00-00-pitch-bend-range.mid",
    "test-rpn-00-01-fine-tuning.mid",
    "test-rpn-00-02-coarse-tuning.mid",
    "test-rpn-00-05-modulation-depth-range.mid",
    "test-control-00-20-bank-select.mid",
    "test-control-40-damper.mid",
    "test-control-41-portamento.mid",
    "test-control-54-portamento-control.mid",
    "test-note-on-velocity.mid",
];

/// What comparing one file gave.
enum Outcome {
    /// The shared data or `fluidsynth` is missing (reported skipped).
    Skipped,
    /// One of the renders has no sound.
    Silent,
    /// The envelopes' correlation.
    Correlation(f64),
}

/// The comparison of `name`.
fn correlation(name: &str) -> Outcome {
    let bank = song::bank_path();
    let midi = song::midi_path(name);
    let (Ok(bank_bytes), Ok(midi_bytes)) = (std::fs::read(&bank), std::fs::read(&midi)) else {
        test_data::skip(&format!(
            "{} or {} is not readable",
            bank.display(),
            midi.display()
        ));
        return Outcome::Skipped;
    };
    let dir = std::env::temp_dir().join(format!(
        "rdmus-fluidsynth-controllers-{}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let reference = dir.join(name.replace(".mid", ".wav"));
    match song::fluidsynth(&bank, &midi, &reference) {
        Ok(_) => {}
        Err(e @ FluidError::NotInstalled(_)) => {
            test_data::skip(&e.to_string());
            return Outcome::Skipped;
        }
        Err(e) => panic!("{name}: {e}"),
    }
    let (channels, rate, theirs) = song::read_wav(&reference).unwrap();
    std::fs::remove_file(&reference).unwrap();
    let store = song::load_bank_read_as(&bank_bytes, BankReading::Dls).unwrap();
    let played = Song::read(&midi_bytes).unwrap();
    let ours = song::render(&store, &played);
    let ours = song::rms_envelope(&ours, 2, song::RATE, song::WINDOW_MS);
    let theirs = song::rms_envelope(&theirs, channels, rate, song::WINDOW_MS);
    let loud = |e: &[f64]| e.iter().copied().fold(0.0, f64::max);
    eprintln!(
        "{name}: loudest window rdmus {:.0}, FluidSynth {:.0}",
        loud(&ours),
        loud(&theirs)
    );
    song::correlation(&ours, &theirs).map_or(Outcome::Silent, Outcome::Correlation)
}

#[test]
fn controller_files_sound_like_fluidsynth() {
    let mut low = Vec::new();
    for name in FILES {
        match correlation(name) {
            Outcome::Skipped => return,
            Outcome::Silent => low.push(format!("{name}: a render is silent")),
            Outcome::Correlation(r) => {
                eprintln!("{name}: correlation {r:.3}");
                if r < GOAL {
                    low.push(format!("{name}: {r:.3}"));
                }
            }
        }
    }
    assert!(low.is_empty(), "below {GOAL}: {low:?}");
}
