//! `rdmus play --device synth`: a short file rendered with the GM bank
//! through the driver's synth in the simulation, a WAV of the right shape
//! and length that sounds where notes play, and a corrupt bank refused.
//!
//! The length rule: the file's end (latest End-of-Track) plus 2 s of
//! release tail, rounded up to whole frames ([`rdmus_cli::commands::wav_frames`]).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use rdmus_cli::cli::{load_timeline, main_with};
use rdmus_cli::commands::{RELEASE_TAIL, wav_frames};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft")
        .join(name)
}

/// The shared GM bank (for the test's whole run), or `None`: the test is reported skipped.
fn gm_bank() -> Option<&'static Path> {
    test_data::find("dls/sf_GMbank.dls").map(|path| &*Box::leak(path.into_boxed_path()))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-synth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&OsStr]) -> (u8, String, String) {
    let command_line = std::iter::once(OsStr::new("rdmus"))
        .chain(args.iter().copied())
        .map(std::ffi::OsString::from);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(command_line, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn play(file: &Path, bank: &Path, wav: &Path, extra: &[&str]) -> (u8, String, String) {
    let mut args: Vec<&OsStr> = vec![
        "play".as_ref(),
        file.as_os_str(),
        "--device".as_ref(),
        "synth".as_ref(),
        "--dls".as_ref(),
        bank.as_os_str(),
        "--wav".as_ref(),
        wav.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    run(&args)
}

/// Peak absolute sample over frames `from..to`.
fn peak(samples: &[i16], from: usize, to: usize) -> i32 {
    samples
        .get(from * 2..(to * 2).min(samples.len()))
        .unwrap_or(&[])
        .iter()
        .map(|&s| i32::from(s).abs())
        .max()
        .unwrap_or(0)
}

#[test]
fn a_short_file_renders_a_wav_with_the_gm_bank() {
    let Some(bank) = gm_bank() else { return };
    let file = data("test-c-major-scale.mid");
    let timeline = load_timeline(&file).unwrap();
    for (format, rate) in [("dmus", 48_000_u32), ("ksmusic", 22_050)] {
        let wav = scratch(&format!("scale-{format}.wav"));
        let rate_text = rate.to_string();
        let (code, out, err) = play(
            &file,
            bank,
            &wav,
            &["--format", format, "--rate", &rate_text, "--voices", "24"],
        );
        assert_eq!(code, 0, "{err}");
        let reader = hound::WavReader::open(&wav).expect("the WAV exists");
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (2, rate, 16)
        );
        let frames = u64::from(reader.duration());
        let expected = (timeline.end_time + RELEASE_TAIL) * u64::from(rate);
        assert_eq!(frames, expected.div_ceil(10_000_000));
        assert_eq!(frames, wav_frames(&timeline, rate));
        let samples: Vec<i16> = reader.into_samples().map(Result::unwrap).collect();
        assert_eq!(samples.len() as u64, frames * 2);
        // Silence before the first note, sound in the 100 ms after each note-on.
        let frame_of = |time: u64| usize::try_from(time * u64::from(rate) / 10_000_000).unwrap();
        let notes: Vec<u64> = timeline
            .messages
            .iter()
            .filter(|m| m.bytes[0] & 0xF0 == 0x90 && m.bytes[2] > 0)
            .map(|m| m.time)
            .collect();
        assert_eq!(notes.len(), 8, "the scale's eight notes");
        assert_eq!(
            peak(&samples, 0, frame_of(notes[0])),
            0,
            "{format}: silent before"
        );
        let tenth = usize::try_from(rate / 10).unwrap();
        for &on in &notes {
            let at = frame_of(on);
            assert!(
                peak(&samples, at, at + tenth) > 500,
                "{format}: a note sounds at frame {at}"
            );
        }
        assert!(
            out.contains(&format!(
                "synth:       {rate} Hz stereo, 24 voices granted (asked 24)"
            )),
            "{out}"
        );
        assert!(
            out.contains("download:    488 waves and 329 instruments"),
            "{out}"
        );
        let voices_line = out.lines().find(|l| l.starts_with("voices:")).expect(&out);
        let used: u32 = voices_line
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse().ok())
            .expect(voices_line);
        assert!((1..=24).contains(&used), "{voices_line}");
        assert!(out.contains("lost notes:  0 "), "{out}");
        assert!(out.contains("real time:"), "{out}");
        std::fs::remove_file(&wav).unwrap();
    }
}

#[test]
fn a_corrupt_bank_is_refused_with_exit_1() {
    let file = data("test-c-major-scale.mid");
    let wav = scratch("never.wav");
    let not_riff = scratch("not-a-bank.dls");
    std::fs::write(&not_riff, b"this is not a DLS collection").unwrap();
    let mut truncated_bytes = b"RIFF".to_vec();
    truncated_bytes.extend_from_slice(&1000_u32.to_le_bytes());
    truncated_bytes.extend_from_slice(b"DLS colh");
    let truncated = scratch("truncated.dls");
    std::fs::write(&truncated, &truncated_bytes).unwrap();
    for bank in [&not_riff, &truncated] {
        let (code, out, err) = play(&file, bank, &wav, &[]);
        assert_eq!(code, 1, "{err}");
        assert!(out.is_empty(), "no made-up results: {out}");
        assert!(err.contains("not a valid DLS collection"), "{err}");
        assert!(!wav.exists(), "no WAV written");
    }
    let (code, _, err) = play(&file, &scratch("absent.dls"), &wav, &[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("absent.dls"), "{err}");
}

#[test]
fn the_voices_asked_are_granted_within_the_synths_limit() {
    let Some(bank) = gm_bank() else { return };
    let file = data("test-c-major-scale.mid");
    let wav = scratch("voices.wav");
    for (asked, granted) in [("2", 2), ("256", 256)] {
        let (code, out, err) = play(&file, bank, &wav, &["--voices", asked, "--rate", "22050"]);
        assert_eq!(code, 0, "{err}");
        assert!(
            out.contains(&format!(
                "synth:       22050 Hz stereo, {granted} voices granted (asked {asked})"
            )),
            "{out}"
        );
        let used: u32 = out
            .lines()
            .find_map(|l| l.strip_prefix("voices:"))
            .and_then(|l| l.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect(&out);
        assert!(used >= 1 && used <= granted, "{out}");
    }
    std::fs::remove_file(&wav).unwrap();
}

/// A format-0 file: `keys` struck together at tick 0 on channel 0 (GM piano), held one beat
/// (480 ticks at 120 bpm: 0.5 s), then released.
fn chord_file(keys: &[u8]) -> Vec<u8> {
    let mut track = Vec::new();
    for &key in keys {
        track.extend_from_slice(&[0x00, 0x90, key, 100]);
    }
    for (index, &key) in keys.iter().enumerate() {
        // Delta 480 (two-byte variable length) before the first note-off, 0 after.
        if index == 0 {
            track.extend_from_slice(&[0x83, 0x60]);
        } else {
            track.push(0x00);
        }
        track.extend_from_slice(&[0x80, key, 0]);
    }
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut file = b"MThd".to_vec();
    file.extend_from_slice(&6_u32.to_be_bytes());
    file.extend_from_slice(&[0, 0, 0, 1, 0x01, 0xE0]);
    file.extend_from_slice(b"MTrk");
    file.extend_from_slice(&u32::try_from(track.len()).unwrap().to_be_bytes());
    file.extend_from_slice(&track);
    file
}

/// Voices a fresh engine of `voices` voices steals when `keys` start at once on the GM bank's
/// piano: the engine's own count, for the same notes, with nothing rendered in between (the
/// driver plays every event due at sample 0 before it renders sample 0).
fn engine_steals(bank: &Path, voices: usize, keys: &[u8]) -> u64 {
    use dls::download::build::build_collection;
    use dls::download::{APPEND_SAMPLES, InstrumentStore};
    use dls::synth::engine::Engine;
    use dls::wire::file::DlsFile;
    let bytes = std::fs::read(bank).unwrap();
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for buffer in built.waves.into_iter().chain(built.instruments) {
        store.download(buffer.bytes).unwrap();
    }
    let mut engine = Engine::<256, 16>::try_new(48_000, voices, 16).unwrap();
    for &key in keys {
        engine.message(&store, 1, &[0x90, key, 100]);
    }
    engine.stolen_voices()
}

/// `--voices 4` and an eight-note chord: the summary's stolen count is measured (through
/// the driver's lost-notes property), above zero, equal to the engine's own count for the
/// same notes, and part of RUNNINGSTATS' `LostNotes`.
#[test]
fn stolen_voices_are_counted_by_the_driver_and_printed() {
    let Some(bank) = gm_bank() else { return };
    let keys = [48_u8, 52, 55, 60, 64, 67, 72, 76];
    let midi = scratch("chord8.mid");
    std::fs::write(&midi, chord_file(&keys)).unwrap();
    let wav = scratch("chord8.wav");
    let expected = engine_steals(bank, 4, &keys);
    assert!(expected >= 4, "eight notes on four voices: {expected}");
    // Stolen voices are lost notes: exit 3 (a loss), or 0 with --allow-loss.
    let (code, _, err) = play(&midi, bank, &wav, &["--voices", "4"]);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("notes lost (RUNNINGSTATS LostNotes"), "{err}");
    let (code, out, err) = play(&midi, bank, &wav, &["--voices", "4", "--allow-loss"]);
    assert_eq!(code, 0, "{err}");
    let stolen: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("stolen:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect(&out);
    assert_eq!(stolen, expected, "{out}");
    assert!(
        out.contains(&format!(
            "lost notes:  {expected} (RUNNINGSTATS LostNotes: {expected} stolen + 0 late + 0 dropped)"
        )),
        "{out}"
    );
    // Enough voices: nothing stolen.
    let (code, out, err) = play(&midi, bank, &wav, &["--voices", "64"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("stolen:      0 voices"), "{out}");
    std::fs::remove_file(&wav).unwrap();
    std::fs::remove_file(&midi).unwrap();
}

/// Energy of the samples from frame `from` on.
fn energy_from(samples: &[i16], from: usize) -> f64 {
    samples
        .get(from * 2..)
        .unwrap_or(&[])
        .iter()
        .map(|&s| f64::from(s).powi(2))
        .sum()
}

#[test]
fn reverb_is_on_by_default_and_the_switches_reach_the_synth() {
    let Some(bank) = gm_bank() else { return };
    let file = scratch("staccato.mid");
    std::fs::write(&file, chord_file(&[60, 64, 67])).unwrap();
    let render = |name: &str, extra: &[&str]| {
        let wav = scratch(name);
        let (code, _, err) = play(&file, bank, &wav, extra);
        assert_eq!(code, 0, "{err}");
        let reader = hound::WavReader::open(&wav).expect("the WAV exists");
        reader
            .into_samples()
            .map(Result::unwrap)
            .collect::<Vec<i16>>()
    };
    let default = render("default.wav", &[]);
    let on = render("reverb-on.wav", &["--reverb", "on"]);
    let off = render("reverb-off.wav", &["--reverb", "off"]);
    let no_send = render("chorus-no-send.wav", &["--reverb", "off", "--chorus", "on"]);
    assert_eq!(default, on, "--reverb on is the default");
    // CC93 is 0 after reset and the GM bank sends nothing to the chorus of its own.
    assert_eq!(no_send, off, "a chorus nothing is sent to adds nothing");
    // The chord ends at 0.5 s; from 1 s the piano's own release is all but over.
    let (wet, dry) = (energy_from(&on, 48_000), energy_from(&off, 48_000));
    println!("energy from 0.5 s after the chord: reverb on {wet:.3e}, off {dry:.3e}");
    assert!(wet > 10.0 * dry.max(1.0), "{wet:.3e} vs {dry:.3e}");
    // The same chord after CC93 = 127: the chorus is heard.
    let mut sent = chord_file(&[60, 64, 67]);
    let track = sent.windows(4).position(|w| w == b"MTrk").unwrap() + 8;
    sent.splice(track..track, [0x00, 0xB0, 93, 127]);
    let length = u32::from_be_bytes(sent[track - 4..track].try_into().unwrap()) + 4;
    sent[track - 4..track].copy_from_slice(&length.to_be_bytes());
    std::fs::write(&file, sent).unwrap();
    let chorus = render("chorus.wav", &["--reverb", "off", "--chorus", "on"]);
    let plain = render("chorus-off.wav", &["--reverb", "off"]);
    assert!(chorus != plain, "--chorus on is heard once CC93 sends");
}

#[test]
fn the_effect_switches_are_for_the_synth_only() {
    let file = data("test-c-major-scale.mid");
    for flag in ["--reverb", "--chorus"] {
        let (code, _, err) = run(&[
            "play".as_ref(),
            file.as_os_str(),
            flag.as_ref(),
            "on".as_ref(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains(&format!("{flag} is for `--device synth`")),
            "{err}"
        );
    }
}
