//! `rdmus play`'s options: every size has a documented range and is a usage
//! error (exit 2) outside it, options of the other device are usage errors,
//! the original one-byte card plays with the DPC bound it needs by default,
//! and a file too long for a WAV is refused before anything is rendered.

use std::path::{Path, PathBuf};

use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use rdmus_cli::cli::{PinFormat, load_timeline, main_with};
use rdmus_cli::play_report::{DEFAULT_IRP_SPAN, packets};
use rdmus_cli::sim::{RenderPin, SimConfig, SynthOptions, render_synth};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-options-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// Runs the command in-process: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (u8, String, String) {
    let command_line = std::iter::once("rdmus")
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

#[test]
fn every_size_outside_its_range_is_a_usage_error_naming_the_range() {
    let file = data("test-c-major-scale.mid");
    let file = file.to_str().unwrap();
    let synth = ["--device", "synth", "--dls", "bank.dls", "--wav", "out.wav"];
    let cases: [(&[&str], &str, &[&str]); 14] = [
        (&[], "--irp-size", &["23", "65537", "4294967295"]),
        (&[], "--timer-res-us", &["499", "15626", "0"]),
        (&[], "--mpu-fifo", &["0", "1025", "4294967295"]),
        (&[], "--dpc-bound-us", &["0", "1000001"]),
        (&[], "--queue-ahead-ms", &["0", "60001"]),
        (&[], "--irp-ms", &["0", "10001"]),
        (&synth, "--rate", &["22049", "48001"]),
        (&synth, "--voices", &["0", "257"]),
        (&synth, "--irp-size", &["4294967295"]),
        (&synth, "--queue-ahead-ms", &["4294967295"]),
        (&synth, "--irp-ms", &["4294967295"]),
        (&synth, "--timer-res-us", &["4294967295"]),
        (&synth, "--dpc-bound-us", &["4294967295"]),
        (&[], "--format", &["wav"]),
    ];
    for (device, option, values) in cases {
        for value in values {
            let mut args = vec!["play", file];
            args.extend(device);
            args.extend([option, value]);
            let (code, out, err) = run(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(out.is_empty(), "{args:?}: no made-up results: {out}");
            assert!(err.contains(&format!("for '{option}")), "{args:?}: {err}");
        }
    }
    for command in [&["inspect", file][..], &["bench-wire", file][..]] {
        for (option, value) in [("--irp-size", "4294967295"), ("--timer-res-us", "20000")] {
            if command[0] == "inspect" && option == "--timer-res-us" {
                continue;
            }
            let mut args = command.to_vec();
            args.extend([option, value]);
            let (code, _, err) = run(&args);
            assert_eq!(code, 2, "{args:?}: {err}");
            assert!(err.contains("is not in"), "{args:?}: {err}");
        }
    }
}

#[test]
fn the_help_documents_every_range() {
    let (code, out, err) = run(&["play", "--help"]);
    assert_eq!(code, 0, "{err}");
    for range in [
        "24 (one DirectMusic record of a channel message) to 65,536",
        "500 (Windows' finest) to 15,625",
        "1 (the original card) to 1,024",
        "1 to 1,000,000",
        "1 to 60,000",
        "1 to 10,000",
        "22,050 to 48,000",
        "1 to 256",
    ] {
        assert!(out.contains(range), "{range} missing from:\n{out}");
    }
}

#[test]
fn options_of_the_other_device_are_usage_errors() {
    let file = data("test-c-major-scale.mid");
    let file = file.to_str().unwrap();
    let synth = ["--device", "synth", "--dls", "bank.dls", "--wav", "out.wav"];
    for (option, value) in [
        ("--mpu-fifo", "1"),
        ("--mpu-fault", "absent"),
        ("--wire", "w.tsv"),
    ] {
        let mut args = vec!["play", file];
        args.extend(synth);
        args.extend([option, value]);
        let (code, out, err) = run(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains(&format!(
                "{option} is for `--device mpu401`, not `--device synth`"
            )),
            "{err}"
        );
    }
    for (option, value) in [
        ("--dls", "bank.dls"),
        ("--wav", "out.wav"),
        ("--rate", "44100"),
        ("--voices", "8"),
    ] {
        let (code, out, err) = run(&["play", file, option, value]);
        assert_eq!(code, 2, "{option}: {err}");
        assert!(out.is_empty());
        assert!(
            err.contains(&format!(
                "{option} is for `--device synth`, not `--device mpu401`"
            )),
            "{err}"
        );
    }
}

#[test]
fn the_original_one_byte_card_plays_with_the_bound_it_needs_by_default() {
    let file = data("test-c-major-scale.mid");
    let file = file.to_str().unwrap();
    for format in ["ksmusic", "dmus"] {
        let (code, out, err) = run(&["play", file, "--mpu-fifo", "1", "--format", format]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("1-byte MPU-401 FIFO, DPC bound 1000 us"),
            "{out}"
        );
        assert!(
            out.contains("exactly the file's messages in order"),
            "{out}"
        );
        assert!(!out.contains("finding:"), "{out}");
    }
    // The bound is what makes the difference: the guideline's 100 µs, asked
    // for, fails the run (the driver must wait on a one-byte card).
    let (code, out, _) = run(&["play", file, "--mpu-fifo", "1", "--dpc-bound-us", "100"]);
    assert_eq!(code, 4, "{out}");
    assert!(out.contains("finding:"), "{out}");
    // A 16-byte FIFO keeps the guideline's bound.
    let (code, out, err) = run(&["play", file]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("16-byte MPU-401 FIFO, DPC bound 100 us"),
        "{out}"
    );
}

/// A format-0 file: one note, then End-of-Track `seconds` later (one tick a
/// quarter note at 1 s a quarter).
fn a_note_then_silence(seconds: u32) -> Vec<u8> {
    let mut delta = Vec::new();
    let mut n = seconds;
    delta.push(u8::try_from(n & 0x7F).unwrap());
    n >>= 7;
    while n > 0 {
        delta.insert(0, 0x80 | u8::try_from(n & 0x7F).unwrap());
        n >>= 7;
    }
    let mut track = vec![0, 0xFF, 0x51, 3, 0x0F, 0x42, 0x40, 0, 0x90, 60, 64];
    track.extend(&delta);
    track.extend([0x80, 60, 0, 0, 0xFF, 0x2F, 0]);
    let mut file = b"MThd".to_vec();
    file.extend(6_u32.to_be_bytes());
    file.extend([0, 0, 0, 1, 0, 1]);
    file.extend(b"MTrk");
    file.extend(u32::try_from(track.len()).unwrap().to_be_bytes());
    file.extend(track);
    file
}

#[test]
fn a_file_longer_than_a_wav_holds_is_refused_before_rendering() {
    let midi = scratch("day.mid");
    std::fs::write(&midi, a_note_then_silence(86_400)).unwrap();
    let wav = scratch("day.wav");
    let _ = std::fs::remove_file(&wav);
    let args = [
        "play",
        midi.to_str().unwrap(),
        "--device",
        "synth",
        // Never read: the length is checked first.
        "--dls",
        "absent.dls",
        "--wav",
        wav.to_str().unwrap(),
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(
        err.contains(
            "is 4147296000 frames, 86402 s at 48000 Hz; a WAV holds at most 1073741814 frames"
        ),
        "{err}"
    );
    assert!(!wav.exists(), "nothing was written");
    // At 22,050 Hz a day still does not fit; six hours do at 48 kHz.
    let (code, _, err) = run(&[&args[..], &["--rate", "22050"]].concat());
    assert_eq!(code, 1, "{err}");
    std::fs::write(&midi, a_note_then_silence(6 * 3_600)).unwrap();
    let timeline = load_timeline(&midi).unwrap();
    assert!(
        rdmus_cli::commands::wav_frames(&timeline, 48_000) <= rdmus_cli::commands::MAX_WAV_FRAMES
    );
}

#[test]
fn the_synth_grants_at_most_256_voices_however_many_are_asked() {
    // The command line stops at 256; an application may ask for more through
    // PORTPARAMETERS, and the driver grants what it has.
    let Some(bank) = test_data::read("dls/sf_GMbank.dls") else {
        test_data::skip("the GM bank dls/sf_GMbank.dls is absent");
        return;
    };
    let parsed = DlsFile::parse(&bank).unwrap();
    let buffers = build_collection(&parsed, 1, APPEND_SAMPLES).unwrap();
    let timeline = load_timeline(&data("test-c-major-scale.mid")).unwrap();
    let packets = packets(&timeline, PinFormat::Dmus, 4_096, DEFAULT_IRP_SPAN).unwrap();
    let options = SynthOptions {
        pin: RenderPin::DirectMusic,
        queue_ahead: 15_000_000,
        rate: 22_050,
        voices: Some(100_000),
        effects: 0,
        sim: SimConfig::default(),
    };
    let mut frames = 0;
    let run = render_synth(
        &packets,
        &buffers,
        2_205,
        &options,
        &mut |_| {},
        &mut |audio| {
            frames += audio.len() / 2;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(run.voices_granted, 256);
    assert_eq!((run.frames, frames), (2_205, 2_205));
    assert!(run.rig.findings.is_empty(), "{:?}", run.rig.findings);
}

#[test]
fn the_derived_dpc_bound_holds_across_fifo_depths_and_timer_periods() {
    // A sysex-heavy file (bursts that keep a shallow FIFO busy): with the
    // bound derived for each card, every run is exact and clean, whether the
    // FIFO covers a timer period (100 µs) or not (1 ms).
    let Some(file) = test_data::find("midi/jazz-soft/test-sysex-gs-40-1x-4x-scale-tuning.mid")
    else {
        test_data::skip("midi/jazz-soft/test-sysex-gs-40-1x-4x-scale-tuning.mid is absent");
        return;
    };
    let file = file.to_str().unwrap();
    for fifo in ["1", "2", "4", "8"] {
        for timer in ["500", "1000", "2000"] {
            let args = [
                "play",
                file,
                "--format",
                "dmus",
                "--mpu-fifo",
                fifo,
                "--timer-res-us",
                timer,
            ];
            let (code, out, err) = run(&args);
            assert_eq!(code, 0, "{args:?}: {out}{err}");
            assert!(
                out.contains("exactly the file's messages in order"),
                "{args:?}: {out}"
            );
            assert!(!out.contains("finding:"), "{args:?}: {out}");
        }
    }
}
