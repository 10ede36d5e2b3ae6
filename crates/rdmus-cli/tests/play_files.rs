//! Every file of the jazz-soft set played through the driver in the
//! simulation, in both pin formats: valid files reach the wire exactly
//! (every channel and sysex message, in order, nothing dropped, no verifier
//! finding); corrupt ones are refused with a clear error before anything is
//! played.

mod play_common;

use std::path::Path;

use play_common::{assert_clean, copies_dir, midi_files, play_with, shared_dir};
use rdmus_cli::cli::{PinFormat, load_timeline};
use rdmus_cli::sim::SimConfig;

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
