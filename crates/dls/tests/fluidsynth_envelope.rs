//! The dls synth sounds like `FluidSynth` on real songs: the RMS envelopes (50 ms windows,
//! mono mix) of the two renders correlate at 0.85 or more.
//!
//! Needs the shared data (the GM bank and the jazz-soft MIDI files, found by `test_data`) and
//! Debian's `fluidsynth` on `PATH`; without either each test reports itself skipped and passes.
//!
//! `FluidSynth` 2.3 reads a DLS bank through libinstpatch, which drops every connection block,
//! `lAttenuation` and the key groups (see `benches/song/render.rs`, `BankReading`). Where a
//! song's sound does not depend on those (short chords), rdmus is compared with the whole bank;
//! where it does (long decays, releases, drum kits), with the bank read as `FluidSynth` reads
//! it, which compares the data path both synths apply: regions, waves, loops, pitch, velocity,
//! volume, pan, voice allocation and the mix. `cargo bench -p dls --bench vs_fluidsynth` prints
//! both figures for every file.

#[path = "../benches/song/mod.rs"]
mod song;

use song::{BankReading, FluidError, Song};
use std::path::PathBuf;

const GOAL: f64 = 0.85;
/// Longer songs are compared over their start, to keep the test short in a debug build.
const SECONDS: u32 = 40;

/// The correlation of rdmus's render of `name` (bank read as `reading`) with `FluidSynth`'s, or
/// `None` (with a message) when the shared data or `fluidsynth` is missing.
fn correlation(name: &str, reading: BankReading) -> Option<f64> {
    let bank = song::bank_path();
    let midi = song::midi_path(name);
    let (Ok(bank_bytes), Ok(midi_bytes)) = (std::fs::read(&bank), std::fs::read(&midi)) else {
        test_data::skip(&format!(
            "{} or {} is not readable",
            bank.display(),
            midi.display()
        ));
        return None;
    };
    let dir =
        std::env::temp_dir().join(format!("rdmus-fluidsynth-envelope-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let reference: PathBuf = dir.join(name.replace(".mid", ".wav"));
    match song::fluidsynth(&bank, &midi, &reference) {
        Ok(_) => {}
        Err(e @ FluidError::NotInstalled(_)) => {
            test_data::skip(&e.to_string());
            return None;
        }
        Err(e) => panic!("{name}: {e}"),
    }
    let (channels, rate, theirs) = song::read_wav(&reference).unwrap();
    std::fs::remove_file(&reference).unwrap();
    assert_eq!(rate, song::RATE, "{name}: FluidSynth's rate");

    let store = song::load_bank_read_as(&bank_bytes, reading).unwrap();
    let played = Song::read(&midi_bytes).unwrap().first_seconds(SECONDS);
    let ours = song::render(&store, &played);
    assert_eq!(
        ours.len() as u64,
        2 * played.frames,
        "{name}: every frame rendered"
    );
    let ours = song::rms_envelope(&ours, 2, song::RATE, song::WINDOW_MS);
    let theirs = song::rms_envelope(&theirs, channels, rate, song::WINDOW_MS);
    // FluidSynth renders the whole song: compare over rdmus's length, which it must cover.
    assert!(
        theirs.len() + 2 >= ours.len(),
        "{name}: FluidSynth rendered {} windows, rdmus {}",
        theirs.len(),
        ours.len()
    );
    let r = song::correlation(&ours, &theirs).expect("both renders have sound");
    eprintln!("{name} ({reading:?}, first {SECONDS} s at most): correlation {r:.3}");
    Some(r)
}

fn check(name: &str, reading: BankReading) {
    if let Some(r) = correlation(name, reading) {
        assert!(
            r >= GOAL,
            "{name} ({reading:?}): correlation {r:.3} < {GOAL}"
        );
    }
}

#[test]
fn chords_on_every_channel_with_the_whole_bank() {
    check("test-multichannel-chords-0.mid", BankReading::Dls);
    check("test-multichannel-chords-3.mid", BankReading::Dls);
}

#[test]
fn every_gm_sound_as_fluidsynth_reads_the_bank() {
    check("test-all-gm-sounds.mid", BankReading::AsFluidSynth);
}

#[test]
fn every_gm_drum_as_fluidsynth_reads_the_bank() {
    check("test-all-gm-percussion.mid", BankReading::AsFluidSynth);
}

#[test]
fn karaoke_song_as_fluidsynth_reads_the_bank() {
    check("test-karaoke-kar.mid", BankReading::AsFluidSynth);
}
