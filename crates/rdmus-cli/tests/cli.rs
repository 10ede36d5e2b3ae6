//! The `rdmus` command end to end: the built binary run as a user runs it,
//! its output, errors and exit codes.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft")
        .join(name)
}

/// Runs the `rdmus` binary with `args` and waits for it.
fn rdmus(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdmus"))
        .args(args)
        .output()
        .expect("the rdmus binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn inspect_prints_the_summary() {
    let file = data("test-2-tracks-type-1.mid");
    let out = rdmus(&[
        "inspect".as_ref(),
        file.as_os_str(),
        "--irp-size".as_ref(),
        "64".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("format:      1 (parallel tracks), 2 track(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("events:      32 (32 channel, 0 sysex/escape), 96 bytes"),
        "{stdout}"
    );
    assert!(stdout.contains("duration:    4.500000 s"), "{stdout}");
    // 12-byte KSMUSICFORMAT records: 5 per 64-byte buffer → 7 IRPs;
    // 24-byte DMUS_EVENTHEADER records: 2 per buffer (the third needs 72) → 16.
    assert!(
        stdout.contains("IRPs:        7 KSMUSICFORMAT (legacy pin), 16 DMUS_EVENTHEADER"),
        "{stdout}"
    );
}

#[test]
fn inspect_writes_the_ideal_wire() {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tsv = dir.join("ideal.tsv");
    let file = data("test-c-major-scale.mid");
    let out = rdmus(&[
        "inspect".as_ref(),
        file.as_os_str(),
        "--ideal-wire".as_ref(),
        tsv.as_os_str(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&tsv).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(lines.len(), 1 + 48);
    assert_eq!(lines[..4], ["time_us\thex", "0\t90", "320\t3c", "640\t7f"]);
    // The same log recorded through the driver's capture pin: every note
    // comes back stamped by the arrival of its first byte (received 320 µs
    // after its start, read by the ISR 3 µs later; the stamps are shown in
    // the log's frame, at the byte's start).
    let out = rdmus(&["record".as_ref(), tsv.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(lines[0].starts_with("# 48 input bytes"), "{stdout}");
    assert_eq!(lines[1], "time_us\tmessage");
    assert_eq!(lines.len(), 2 + 16, "{stdout}");
    assert_eq!(lines[2], "3.0\t90 3c 7f", "{stdout}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn invalid_midi_is_a_clear_error_with_exit_1() {
    let cases = [
        ("test-not-a-midi-file.mid", "not a Standard MIDI File"),
        ("test-empty-file.mid", "the file is empty"),
        (
            "test-corrupt-file-missing-byte.mid",
            "track 0, event 21 at byte 0x108",
        ),
        (
            "test-illegal-message-f1-xx.mid",
            "status byte 0xF1 is a system common message",
        ),
        (
            "test-2-tracks-type-0.mid",
            "format 0 allows exactly one track",
        ),
    ];
    for command in ["inspect", "play"] {
        for (name, expected) in cases {
            let file = data(name);
            let out = rdmus(&[command.as_ref(), file.as_os_str()]);
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{command} {name}: {stderr}");
            assert!(
                stderr.contains(name) && stderr.contains(expected),
                "{command} {name}: {stderr}"
            );
            assert!(!stderr.contains("panicked"), "{stderr}");
        }
    }
}

#[test]
fn play_prints_the_summary_and_writes_the_wire() {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-play-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = data("test-c-major-scale.mid");
    for format in ["ksmusic", "dmus"] {
        let tsv = dir.join(format!("{format}.tsv"));
        let out = rdmus(&[
            "play".as_ref(),
            file.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
            "--wire".as_ref(),
            tsv.as_os_str(),
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        for expected in [
            "events:      16 (16 channel, 0 sysex/escape), 48 bytes, 9 IRPs",
            "wire:        48 bytes, exactly the file's messages in order",
            "dropped:     0 events (0 bytes), 0 bytes overrun at the card",
            "machine:     1000 us high-resolution timers, 16-byte MPU-401 FIFO, DPC bound 100 us",
        ] {
            assert!(stdout.contains(expected), "{format}: {stdout}");
        }
        let lines = std::fs::read_to_string(&tsv).unwrap();
        let lines: Vec<&str> = lines.lines().collect();
        assert_eq!(lines.len(), 1 + 48, "{format}");
        assert_eq!(lines[0], "time_us\thex");
        assert!(lines[1].ends_with("\t90"), "{format}: {}", lines[1]);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_synth_without_a_bank_or_a_wav_is_a_usage_error() {
    let file = data("test-c-major-scale.mid");
    let plain = [
        "play".as_ref(),
        file.as_os_str(),
        "--device".as_ref(),
        "synth".as_ref(),
    ];
    let with = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = plain.to_vec();
        args.extend(extra.iter().map(|s| std::ffi::OsStr::new(*s)));
        rdmus(&args)
    };
    for out in [
        with(&[]),
        with(&["--dls", "bank.dls"]),
        with(&["--wav", "out.wav"]),
    ] {
        assert_eq!(out.status.code(), Some(2));
        assert!(out.stdout.is_empty(), "no made-up results");
        assert!(
            text(&out.stderr).contains("needs --dls BANK.dls and --wav OUT.wav"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn a_synth_rate_outside_22050_to_48000_is_refused() {
    let file = data("test-c-major-scale.mid");
    for rate in ["22049", "48001", "96000", "0"] {
        let out = rdmus(&[
            "play".as_ref(),
            file.as_os_str(),
            "--device".as_ref(),
            "synth".as_ref(),
            "--dls".as_ref(),
            "bank.dls".as_ref(),
            "--wav".as_ref(),
            "out.wav".as_ref(),
            "--rate".as_ref(),
            rate.as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{rate}");
        assert!(
            text(&out.stderr).contains("22050..=48000"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let file = data("test-c-major-scale.mid");
    let out = rdmus(&[
        "play".as_ref(),
        file.as_os_str(),
        "--device".as_ref(),
        "sb16".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = rdmus(&["record".as_ref()]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn malformed_wire_log_is_refused() {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-tsv-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let tsv = dir.join("bad.tsv");
    std::fs::write(&tsv, "time_us\thex\n0\t90\n320 3c\n").unwrap();
    let out = rdmus(&["record".as_ref(), tsv.as_os_str()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not a wire log: line 3: expected time_us<TAB>hex"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_irp_size_outside_24_to_65536_is_a_usage_error() {
    let file = data("test-c-major-scale.mid");
    for size in ["16", "23", "65537", "4294967295"] {
        let out = rdmus(&[
            "inspect".as_ref(),
            file.as_os_str(),
            "--irp-size".as_ref(),
            size.as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{size}");
        assert!(
            text(&out.stderr).contains("is not in 24..=65536"),
            "{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn bench_wire_prints_a_row_per_format_and_fifo() {
    let file = data("test-sysex-7e-09-01-gm1-enable.mid");
    let out = rdmus(&["bench-wire".as_ref(), file.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("# 1000 us high-resolution timers"),
        "{stdout}"
    );
    assert_eq!(lines[1], rdmus_cli::commands::BENCH_HEADER);
    let rows: Vec<Vec<&str>> = lines[2..].iter().map(|l| l.split('\t').collect()).collect();
    let keys: Vec<(&str, &str)> = rows.iter().map(|r| (r[1], r[2])).collect();
    assert_eq!(
        keys,
        [
            ("dmus", "16"),
            ("ksmusic", "16"),
            ("dmus", "1"),
            ("ksmusic", "1")
        ]
    );
    for row in &rows {
        // file, format, fifo, events, bytes, dropped, exact ... findings.
        assert_eq!(row[0], "test-sysex-7e-09-01-gm1-enable.mid");
        assert_eq!((row[3], row[4], row[5], row[6]), ("1", "6", "0", "yes"));
        assert_eq!(row.last(), Some(&"0"));
    }
}

#[test]
fn verifier_findings_are_printed_and_fail_the_run() {
    // A 1 µs DPC bound: the driver's first render DPC breaks it.
    let file = data("test-c-major-scale.mid");
    let out = rdmus(&[
        "play".as_ref(),
        file.as_os_str(),
        "--dpc-bound-us".as_ref(),
        "1".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert!(stdout.contains("finding:"), "{stdout}");
    assert!(
        stderr.contains("verifier finding(s) while the driver ran"),
        "{stderr}"
    );
}

#[test]
fn a_broken_card_is_reported() {
    let file = data("test-c-major-scale.mid");
    let play = |fault: &str| {
        rdmus(&[
            "play".as_ref(),
            file.as_os_str(),
            "--mpu-fault".as_ref(),
            fault.as_ref(),
        ])
    };
    // No card: StartDevice fails with STATUS_DEVICE_DOES_NOT_EXIST; nothing is printed.
    let out = play("absent");
    assert_eq!(out.status.code(), Some(4));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains(
            "the simulated device failed: StartDevice failed: STATUS_DEVICE_DOES_NOT_EXIST (0xc00000c0)"
        ),
        "{}",
        text(&out.stderr)
    );
    // A card that never sends: the driver gives up on the output, every event is
    // reported dropped (a loss: exit 3), and the verifier finds nothing wrong
    // with how it did so.
    let out = play("never-drains");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("16 of the file's messages not on the wire (48 bytes not sent)"),
        "{}",
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("loss:        16 of the file's messages not on the wire (48 bytes not sent)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("lateness:    not measured (the wire is not the file's messages)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("dropped:     16 events (48 bytes)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("wire:        0 bytes, NOT the file's messages"),
        "{stdout}"
    );
}
