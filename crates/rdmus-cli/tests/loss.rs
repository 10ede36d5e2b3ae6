//! Nothing lost silently (issue 13, item 5): `rdmus play` on files that ask
//! for more than the port's pool holds at once, or than the card carries,
//! either delivers everything or counts what it lost and exits 3
//! (`--allow-loss`: 0, still reported); malformed-but-readable files warn.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn rdmus(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdmus"))
        .args(args)
        .output()
        .expect("the rdmus binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn vlq(mut n: usize) -> Vec<u8> {
    let mut out = vec![u8::try_from(n & 0x7F).unwrap()];
    n >>= 7;
    while n > 0 {
        out.push(0x80 | u8::try_from(n & 0x7F).unwrap());
        n >>= 7;
    }
    out.reverse();
    out
}

/// A format-0 file, 96 ticks per quarter, of `track` (End-of-Track appended).
fn smf(name: &str, track: &[u8]) -> PathBuf {
    let mut track = track.to_vec();
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00]);
    let mut file = b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk".to_vec();
    file.extend_from_slice(&u32::try_from(track.len()).unwrap().to_be_bytes());
    file.extend_from_slice(&track);
    let dir = std::env::temp_dir().join(format!("rdmus-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, file).unwrap();
    path
}

#[test]
fn a_sysex_longer_than_the_pool_reaches_the_wire_whole() {
    // 64 KB: four times what the port's 64 data buffers of 256 bytes hold.
    let file = sysex_64k("sysex64k.mid");
    for format in ["ksmusic", "dmus"] {
        let out = rdmus(&[
            "play".as_ref(),
            file.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]);
        let stdout = text(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {stdout}{}",
            text(&out.stderr)
        );
        assert!(
            stdout.contains("wire:        65543 bytes, exactly the file's messages in order"),
            "{format}: {stdout}"
        );
        assert!(stdout.contains("loss:        none"), "{format}: {stdout}");
        assert!(!stdout.contains("IRP trouble"), "{format}: {stdout}");
    }
}

/// A file named `name` of one 64 KB sysex message and a note.
fn sysex_64k(name: &str) -> PathBuf {
    let mut data = vec![0x41_u8];
    data.extend((0..65_534_u32).map(|i| u8::try_from(i % 128).unwrap()));
    data.push(0xF7);
    let mut track = vec![0x00, 0xF0];
    track.extend(vlq(data.len()));
    track.extend(&data);
    track.extend_from_slice(&[0x00, 0x90, 0x3C, 0x64, 0x60, 0x80, 0x3C, 0x40]);
    smf(name, &track)
}

/// A client waiting for completions does not wait for ever on a card that
/// never sends: it writes on, and what the port or driver refuses is counted.
#[test]
fn a_long_sysex_to_a_stuck_card_ends_and_counts_what_was_lost() {
    let file = sysex_64k("sysex64k-stuck.mid");
    let out = rdmus(&[
        "play".as_ref(),
        file.as_os_str(),
        "--mpu-fault".as_ref(),
        "never-drains".as_ref(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "loss:        3 of the file's messages not on the wire (65543 bytes not sent)"
        ),
        "{stdout}"
    );
}

#[test]
fn a_card_that_loses_everything_exits_3_unless_loss_is_allowed() {
    // Ten notes: 60 bytes, more than the card's 16-byte FIFO takes.
    let mut track = Vec::new();
    for key in 60..70_u8 {
        track.extend_from_slice(&[0x00, 0x90, key, 0x64, 0x30, 0x80, key, 0x40]);
    }
    let file = smf("notes.mid", &track);
    let play = |extra: &[&str]| {
        let mut args: Vec<&std::ffi::OsStr> = vec![
            "play".as_ref(),
            file.as_os_str(),
            "--mpu-fault".as_ref(),
            "never-drains".as_ref(),
        ];
        args.extend(extra.iter().map(|a| std::ffi::OsStr::new(*a)));
        rdmus(&args)
    };
    let out = play(&[]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--allow-loss accepts this"));
    let out = play(&["--allow-loss"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .contains("loss:        20 of the file's messages not on the wire (60 bytes not sent)"),
        "{stdout}"
    );
    assert!(!stdout.contains("lateness:    p50"), "{stdout}");
    // The driver's own count, read as DirectMusic reads it (RUNNINGSTATS on the
    // output's synth node through the pin): what did not fit the card's FIFO
    // was given back unplayed.
    let driver_lost: u32 = stdout
        .lines()
        .find(|l| l.contains("events the driver gave back unplayed (RUNNINGSTATS"))
        .and_then(|l| l.strip_prefix("loss:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect(&stdout);
    assert!((10..=20).contains(&driver_lost), "{stdout}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = rdmus(&["--help".as_ref()]);
    let stdout = text(&out.stdout);
    for code in [
        "0  done",
        "1  bad input",
        "2  usage",
        "3  loss",
        "4  the driver",
        "5  setup",
        "130, 143, 129",
    ] {
        assert!(stdout.contains(code), "{stdout}");
    }
    for command in ["play", "record", "bench-wire"] {
        let out = rdmus(&[command.as_ref(), "--help".as_ref()]);
        assert!(text(&out.stdout).contains("--allow-loss"), "{command}");
    }
}

#[test]
fn events_after_end_of_track_are_ignored_with_a_warning() {
    let mut track = vec![0x00, 0x90, 0x3C, 0x64, 0x60, 0x80, 0x3C, 0x40];
    // A note after End-of-Track, then the End-of-Track smf() appends: 2 events.
    track.extend_from_slice(&[0x00, 0xFF, 0x2F, 0x00, 0x00, 0x90, 0x3E, 0x64]);
    let file = smf("after-eot.mid", &track);
    let out = rdmus(&["play".as_ref(), file.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("warning:     track 0: 2 event(s) after End-of-Track ignored"),
        "{stdout}"
    );
    assert!(stdout.contains("events:      2 "), "{stdout}");
}

#[test]
fn notes_the_synth_loses_are_counted_and_fail_the_run() {
    let Some(bank) = test_data::find("dls/sf_GMbank.dls") else {
        test_data::skip("the GM bank dls/sf_GMbank.dls is absent");
        return;
    };
    let bank = bank.as_path();
    // 3,000 notes at one tick: three times the port's event pool, and far
    // more than the synth's voices.
    let mut track = Vec::new();
    for i in 0..3_000_u32 {
        track.extend_from_slice(&[0x00, 0x90, 36 + u8::try_from(i % 60).unwrap(), 100]);
    }
    track.extend_from_slice(&[0x60, 0x80, 36, 0]);
    let file = smf("chord3000.mid", &track);
    let wav = file.with_extension("wav");
    let out = rdmus(&[
        "play".as_ref(),
        file.as_os_str(),
        "--device".as_ref(),
        "synth".as_ref(),
        "--dls".as_ref(),
        bank.as_os_str(),
        "--wav".as_ref(),
        wav.as_os_str(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("loss:        "), "{stdout}");
    assert!(
        stdout.contains("notes lost (RUNNINGSTATS LostNotes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("resent:      "),
        "the pool ran dry: {stdout}"
    );
    assert!(
        !stdout.contains("IRP trouble"),
        "every event accepted: {stdout}"
    );
}

#[test]
fn samples_the_synth_clips_are_counted_by_the_driver() {
    let Some(bank) = test_data::find("dls/sf_GMbank.dls") else {
        test_data::skip("the GM bank dls/sf_GMbank.dls is absent");
        return;
    };
    let bank = bank.as_path();
    // Six channels of church organ, twelve keys each at full velocity, for 0.5 s.
    let mut track = Vec::new();
    for channel in 0..6_u8 {
        track.extend_from_slice(&[0x00, 0xC0 | channel, 19]);
        for key in 48..60_u8 {
            track.extend_from_slice(&[0x00, 0x90 | channel, key, 127]);
        }
    }
    track.extend_from_slice(&[0x60, 0x80, 48, 0]);
    let file = smf("organ.mid", &track);
    let wav = file.with_extension("wav");
    let out = rdmus(&[
        "play".as_ref(),
        file.as_os_str(),
        "--device".as_ref(),
        "synth".as_ref(),
        "--dls".as_ref(),
        bank.as_os_str(),
        "--wav".as_ref(),
        wav.as_os_str(),
        "--allow-loss".as_ref(),
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    let clipped: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("clipped:"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .expect(&stdout);
    assert!(
        stdout.contains(&format!("loss:        {clipped} samples clipped")),
        "{stdout}"
    );
    // Every clamped sample is full scale in the WAV; a few full-scale samples were
    // exactly full scale without clamping.
    let full_scale = hound::WavReader::open(&wav)
        .unwrap()
        .samples::<i16>()
        .map(Result::unwrap)
        .filter(|&s| s == i16::MAX || s == i16::MIN)
        .count();
    let full_scale = u64::try_from(full_scale).unwrap();
    assert!(clipped > 0, "{stdout}");
    assert!(clipped <= full_scale, "{clipped} > {full_scale}");
    assert!(
        clipped * 100 >= full_scale * 99,
        "{clipped} of {full_scale}"
    );
}

/// A pool failure that costs a render stream its high-resolution timer: the
/// driver says so on the debugger output, and the summary counts it as a loss
/// (the file still plays, but at the clock interval's timing).
#[test]
fn a_stream_on_the_coarse_timer_is_reported() {
    use rdmus_cli::cli::{PinFormat, load_timeline};
    use rdmus_cli::play_report::{DEFAULT_IRP_SPAN, PlayOptions, play};
    use rdmus_cli::sim::{DEFAULT_QUEUE_AHEAD, SimConfig};
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft/test-c-major-scale.mid");
    let timeline = load_timeline(&file).expect("the scale");
    let options = |fail_nth| PlayOptions {
        format: PinFormat::Dmus,
        irp_size: 4096,
        irp_span: DEFAULT_IRP_SPAN,
        queue_ahead: DEFAULT_QUEUE_AHEAD,
        sim: SimConfig {
            fail_nth,
            ..SimConfig::default()
        },
    };
    let clean = play(&timeline, &options(None), &mut |_| {}).expect("plays");
    assert!(clean.losses.is_empty(), "{clean}");
    // Walk the allocations until the one that fails is the stream's timer.
    let fallen = (1..=400)
        .find_map(|nth| {
            play(&timeline, &options(Some(nth)), &mut |_| {})
                .ok()
                .filter(|report| {
                    report
                        .losses
                        .as_slice()
                        .iter()
                        .any(|loss| loss.what.contains("clock-interval timer"))
                })
        })
        .expect("some allocation failure leaves a stream on the coarse timer");
    assert!(fallen.exact, "it still plays every message: {fallen}");
    let text = fallen.to_string();
    assert!(
        text.contains("loss:        1 render streams on the clock-interval timer"),
        "{text}"
    );
    assert!(fallen.findings.is_empty(), "{text}");
}

#[test]
fn record_warns_when_the_log_goes_back_in_time() {
    let dir = std::env::temp_dir().join(format!("rdmus-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("backwards.tsv");
    // A note-on whose last byte is listed before its second.
    std::fs::write(&log, "time_us\thex\n0.0\t90\n640.0\t64\n320.0\t3c\n").unwrap();
    let out = rdmus(&["record".as_ref(), log.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("# warning: 1 bytes of the log start before a byte listed ahead of them"),
        "{stdout}"
    );
    // The card received them in time order: the message is whole.
    assert!(stdout.contains("\t90 3c 64"), "{stdout}");
    std::fs::write(&log, "time_us\thex\n0.0\t90\n320.0\t3c\n640.0\t64\n").unwrap();
    let out = rdmus(&["record".as_ref(), log.as_os_str()]);
    assert!(
        !text(&out.stdout).contains("warning"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn record_exits_3_when_the_card_loses_input_bytes_unless_loss_is_allowed() {
    // 100 one-byte messages received at once: the card's 64-byte input queue overflows
    // before its interrupt is served.
    let dir = std::env::temp_dir().join(format!("rdmus-record-loss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wire = dir.join("burst.tsv");
    std::fs::write(&wire, "0.0\tf8\n".repeat(100)).unwrap();
    let out = rdmus(&["record".as_ref(), wire.as_os_str()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("input bytes lost 36"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        text(&out.stderr).contains("36 input bytes the card lost")
            && text(&out.stderr).contains("--allow-loss accepts this"),
        "{}",
        text(&out.stderr)
    );
    let out = rdmus(&["record".as_ref(), wire.as_os_str(), "--allow-loss".as_ref()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Nothing lost: exit 0.
    std::fs::write(&wire, "0.0\tf8\n1000.0\tf8\n").unwrap();
    let out = rdmus(&["record".as_ref(), wire.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    std::fs::remove_dir_all(&dir).unwrap();
}
