//! Every file of the jazz-soft set played through the driver in the
//! simulation, in both pin formats: valid files reach the wire exactly
//! (every channel and sysex message, in order, nothing dropped, no verifier
//! finding); corrupt ones are refused with a clear error before anything is
//! played.

use std::path::{Path, PathBuf};

use crate::cli::{PinFormat, load_timeline};
use crate::play::{PlayOptions, PlayReport, play};
use crate::sim::{DEFAULT_QUEUE_AHEAD, SimConfig};
use crate::timeline::Timeline;

/// The shared set, if it is there (a message says so when not).
pub fn shared_dir() -> Option<PathBuf> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/midi/jazz-soft");
    if shared.is_dir() {
        Some(shared)
    } else {
        eprintln!("skipped: {} is absent", shared.display());
        None
    }
}

/// The copies in tests/data.
pub fn copies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jazz-soft")
}

/// `.mid` files of `dir`, sorted.
pub fn midi_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mid")))
        .collect();
    files.sort();
    files
}

/// Plays `timeline` with `format` on `sim`.
pub fn play_with(timeline: &Timeline, format: PinFormat, sim: SimConfig) -> PlayReport {
    let options = PlayOptions {
        format,
        irp_size: crate::cli::DEFAULT_IRP_SIZE,
        irp_span: crate::play::DEFAULT_IRP_SPAN,
        queue_ahead: DEFAULT_QUEUE_AHEAD,
        sim,
    };
    play(timeline, &options, &mut |_| {}).expect("the driver plays")
}

/// Asserts the run put exactly the file on the wire, cleanly.
pub fn assert_clean(name: &str, report: &PlayReport) {
    let format = report.options.format;
    assert!(
        report.exact,
        "{name} {format:?}: the wire is not the file's messages: {}",
        report.lateness
    );
    assert_eq!(report.dropped(), 0, "{name} {format:?}: dropped");
    assert_eq!(report.lateness.reordered, 0, "{name} {format:?}: reordered");
    assert_eq!(
        report.overruns, 0,
        "{name} {format:?}: overruns at the card"
    );
    assert!(
        report.write_troubles.is_empty(),
        "{name} {format:?}: {:?}",
        report.write_troubles
    );
    assert!(
        report.findings.is_empty(),
        "{name} {format:?}: verifier findings {:#?}",
        report.findings
    );
}

/// Plays every file of `dir` in both formats: (played, refused, messages).
fn play_all(dir: &Path) -> (usize, usize, usize) {
    let (mut played, mut refused, mut messages) = (0, 0, 0);
    for path in midi_files(dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let timeline = match load_timeline(&path) {
            Ok(timeline) => timeline,
            Err(error) => {
                let text = error.to_string();
                assert!(
                    text.contains(&name) && text.contains("not valid MIDI"),
                    "{text}"
                );
                assert_eq!(error.exit_code(), 1);
                refused += 1;
                continue;
            }
        };
        for format in [PinFormat::Dmus, PinFormat::Ksmusic] {
            let report = play_with(&timeline, format, SimConfig::default());
            assert_clean(&name, &report);
            assert_eq!(report.events, timeline.messages.len());
            assert_eq!(report.wire.len(), timeline.byte_count(), "{name}");
        }
        played += 1;
        messages += timeline.messages.len();
    }
    println!("played {played} files ({messages} messages) in both formats, refused {refused}");
    (played, refused, messages)
}

#[test]
fn every_shared_file_plays_exactly_or_is_refused() {
    let Some(dir) = shared_dir() else { return };
    // 72 .mid files: 54 valid (some with odd content), 18 corrupt or illegal.
    assert_eq!(play_all(&dir), (54, 18, 40_099));
}

#[test]
fn the_copied_files_play_exactly_or_are_refused() {
    assert_eq!(play_all(&copies_dir()), (11, 5, 221));
}

#[test]
fn the_same_play_twice_gives_the_same_report_bit_for_bit() {
    let timeline = load_timeline(&copies_dir().join("test-running-status-sysex.mid")).unwrap();
    for format in [PinFormat::Dmus, PinFormat::Ksmusic] {
        let first = play_with(&timeline, format, SimConfig::default());
        let second = play_with(&timeline, format, SimConfig::default());
        assert_clean("test-running-status-sysex.mid", &first);
        assert_eq!(first, second, "{format:?}");
    }
}
