//! Every file of the jazz-soft test set, classified and pinned: valid files
//! (some with odd content that rdmus tolerates with a warning) and truly
//! corrupt or illegal ones (a clear fault, every message before it kept).

use std::path::{Path, PathBuf};

use smf::{MessageKind, SmfFormat, SmfWarning};
use smf::{SmfFault, read_smf};

/// The expected outcome of reading one file.
enum Expect {
    /// Read: messages, message bytes, end time (100 ns), warnings.
    Ok(usize, usize, u64, usize),
    /// Refused with this fault and this many messages kept.
    Err(SmfFault, usize),
}

fn ok(messages: usize, bytes: usize, end: u64, warnings: usize) -> Expect {
    Expect::Ok(messages, bytes, end, warnings)
}

/// An illegal status byte as the 5th event of track 0 (after four meta events).
fn illegal(offset: usize, status: u8) -> Expect {
    let class = if status < 0xF8 {
        "system common"
    } else {
        "system real-time"
    };
    Expect::Err(
        SmfFault::BadEvent {
            track: 0,
            event_index: 4,
            offset,
            reason: format!(
                "status byte {status:#04X} is a {class} message, which a Standard MIDI File cannot contain"
            ),
        },
        0,
    )
}

#[rustfmt::skip]
fn expectations() -> Vec<(&'static str, Expect)> {
    vec![
        // Corrupt or illegal: refused.
        ("test-2-tracks-type-0.mid", Expect::Err(SmfFault::Format0TrackCount { declared: 2 }, 0)),
        ("test-corrupt-file-missing-byte.mid", Expect::Err(SmfFault::BadEvent {
            track: 0, event_index: 21, offset: 0x108,
            reason: "the track ends inside an event with status byte 0xFF".into(),
        }, 16)),
        ("test-empty-file.mid", Expect::Err(SmfFault::Empty, 0)),
        ("test-not-a-midi-file.mid", Expect::Err(SmfFault::NotSmf { starts_with: b"not ".to_vec() }, 0)),
        ("test-illegal-message-all.mid", illegal(0xBA, 0xF1)),
        ("test-illegal-message-f1-xx.mid", illegal(0xD7, 0xF1)),
        ("test-illegal-message-f2-xx-xx.mid", illegal(0xDC, 0xF2)),
        ("test-illegal-message-f3-xx.mid", illegal(0xD4, 0xF3)),
        ("test-illegal-message-f4.mid", illegal(0xCC, 0xF4)),
        ("test-illegal-message-f5.mid", illegal(0xCC, 0xF5)),
        ("test-illegal-message-f6.mid", illegal(0xCF, 0xF6)),
        ("test-illegal-message-f8.mid", illegal(0xCF, 0xF8)),
        ("test-illegal-message-f9.mid", illegal(0xCC, 0xF9)),
        ("test-illegal-message-fa.mid", illegal(0xC8, 0xFA)),
        ("test-illegal-message-fb.mid", illegal(0xCB, 0xFB)),
        ("test-illegal-message-fc.mid", illegal(0xC7, 0xFC)),
        ("test-illegal-message-fd.mid", illegal(0xCC, 0xFD)),
        ("test-illegal-message-fe.mid", illegal(0xD1, 0xFE)),
        // Valid with odd content: read, with a warning.
        ("test-corrupt-file-extra-byte.mid", ok(16, 48, 40_000_000, 1)),
        ("test-non-midi-track.mid", ok(16, 48, 40_000_000, 1)),
        ("test-running-status-metaevent.mid", ok(16, 48, 40_000_000, 1)),
        ("test-running-status-sysex.mid", ok(17, 54, 40_000_000, 1)),
        // Valid.
        ("test-2-tracks-type-1.mid", ok(32, 96, 45_000_000, 0)),
        ("test-2-tracks-type-2.mid", ok(32, 96, 90_000_000, 0)),
        ("test-all-gm-percussion.mid", ok(367, 1104, 1_372_500_000, 0)),
        ("test-all-gm-sounds.mid", ok(1152, 3328, 3_520_000_000, 0)),
        ("test-all-gm2-sounds.mid", ok(2916, 8486, 7_287_500_000, 0)),
        ("test-all-gs-sounds.mid", ok(13872, 40363, 34_677_500_000, 0)),
        ("test-all-microsoft-gs-wavetable-synth-sounds.mid", ok(2487, 7243, 6_215_000_000, 0)),
        ("test-all-xg-sounds.mid", ok(12541, 36489, 31_350_000_000, 0)),
        ("test-c-major-scale.mid", ok(16, 48, 40_000_000, 0)),
        ("test-control-00-20-bank-select.mid", ok(28, 80, 55_000_000, 0)),
        ("test-control-40-damper.mid", ok(18, 54, 80_000_000, 0)),
        ("test-control-41-portamento.mid", ok(18, 54, 70_000_000, 0)),
        ("test-control-54-portamento-control.mid", ok(5, 15, 30_000_000, 0)),
        ("test-control-7c-omni-mode-off.mid", ok(1, 3, 5_000_000, 0)),
        ("test-control-7d-omni-mode-on.mid", ok(1, 3, 5_000_000, 0)),
        ("test-control-7e-mono-mode-on.mid", ok(1, 3, 5_000_000, 0)),
        ("test-control-7f-poly-mode-on.mid", ok(1, 3, 5_000_000, 0)),
        ("test-empty.mid", ok(0, 0, 0, 0)),
        ("test-gm2-doggy-78-00-38-4c.mid", ok(10, 32, 15_000_000, 0)),
        ("test-gm2-doggy-79-01-7b.mid", ok(10, 32, 15_000_000, 0)),
        ("test-gs-doggy-01-00-7b.mid", ok(10, 37, 15_000_000, 0)),
        ("test-karaoke-kar.mid", ok(59, 176, 106_000_053, 0)),
        ("test-multichannel-chords-0.mid", ok(48, 144, 40_000_000, 0)),
        ("test-multichannel-chords-1.mid", ok(48, 144, 40_000_000, 0)),
        ("test-multichannel-chords-2.mid", ok(48, 144, 40_000_000, 0)),
        ("test-multichannel-chords-3.mid", ok(48, 144, 40_000_000, 0)),
        ("test-note-on-velocity.mid", ok(18, 54, 45_000_000, 0)),
        ("test-rpn-00-00-pitch-bend-range.mid", ok(3875, 11624, 295_000_000, 0)),
        ("test-rpn-00-01-fine-tuning.mid", ok(62, 186, 125_000_000, 0)),
        ("test-rpn-00-02-coarse-tuning.mid", ok(43, 129, 40_000_000, 0)),
        ("test-rpn-00-05-modulation-depth-range.mid", ok(1965, 5894, 170_000_000, 0)),
        ("test-silence-all-notes-off.mid", ok(1, 3, 50_000_000, 0)),
        ("test-silence-end-of-track.mid", ok(0, 0, 50_000_000, 0)),
        ("test-silence-text-metaevent.mid", ok(0, 0, 50_000_000, 0)),
        ("test-smpte-offset.mid", ok(16, 48, 40_000_000, 0)),
        ("test-sysex-7e-06-01-id-request.mid", ok(1, 6, 5_000_000, 0)),
        ("test-sysex-7e-09-01-gm1-enable.mid", ok(1, 6, 5_000_000, 0)),
        ("test-sysex-7e-09-02-gm-disable.mid", ok(1, 6, 5_000_000, 0)),
        ("test-sysex-7e-09-03-gm2-enable.mid", ok(1, 6, 5_000_000, 0)),
        ("test-sysex-7f-04-03-master-fine-tuning.mid", ok(17, 84, 25_000_000, 0)),
        ("test-sysex-7f-04-04-master-coarse-tuning.mid", ok(26, 126, 40_000_000, 0)),
        ("test-sysex-7x-08-0x-scale-tuning.mid", ok(138, 606, 345_000_000, 0)),
        ("test-sysex-gs-40-1x-15-drum-part-change.mid", ok(19, 81, 60_000_000, 0)),
        ("test-sysex-gs-40-1x-4x-scale-tuning.mid", ok(11, 73, 15_000_000, 0)),
        ("test-track-length.mid", ok(2, 6, 15_000_000, 0)),
        ("test-vlq-2-byte.mid", ok(16, 48, 40_000_000, 0)),
        ("test-vlq-3-byte.mid", ok(16, 48, 40_000_000, 0)),
        ("test-vlq-4-byte.mid", ok(16, 48, 40_000_000, 0)),
        ("test-xg-doggy-40-00-30.mid", ok(10, 35, 15_000_000, 0)),
        ("test-xg-doggy-7e-00-00-54.mid", ok(10, 35, 15_000_000, 0)),
    ]
}

fn check(path: &Path, expect: &Expect) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = path.display();
    match (read_smf(&bytes), expect) {
        (Ok(t), Expect::Ok(messages, size, end, warnings)) => {
            assert_eq!(t.messages.len(), *messages, "{name}: messages");
            assert_eq!(t.byte_count(), *size, "{name}: bytes");
            assert_eq!(t.end_time, *end, "{name}: end time");
            assert_eq!(
                t.warnings.len(),
                *warnings,
                "{name}: warnings {:?}",
                t.warnings
            );
            assert!(
                t.messages.windows(2).all(|w| w[0].time <= w[1].time),
                "{name}: time order"
            );
        }
        (Err(e), Expect::Err(fault, kept)) => {
            assert_eq!(&e.fault, fault, "{name}");
            assert_eq!(e.kept.messages.len(), *kept, "{name}: kept");
        }
        (Ok(t), Expect::Err(fault, _)) => panic!(
            "{name}: read {} messages, expected {fault}",
            t.messages.len()
        ),
        (Err(e), Expect::Ok(..)) => panic!("{name}: {e}"),
    }
}

fn shared_dir() -> Option<PathBuf> {
    test_data::find("midi/jazz-soft")
}

#[test]
fn every_shared_file_is_classified_and_pinned() {
    let Some(dir) = shared_dir() else { return };
    let table = expectations();
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("mid"))
        })
        .collect();
    on_disk.sort();
    let mut pinned: Vec<String> = table.iter().map(|(n, _)| (*n).to_string()).collect();
    pinned.sort();
    assert_eq!(
        on_disk, pinned,
        "every .mid file has exactly one pinned outcome"
    );
    for (name, expect) in &table {
        check(&dir.join(name), expect);
    }
}

#[test]
fn copied_files_give_the_same_outcomes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/jazz-soft");
    let mut checked = 0;
    for (name, expect) in &expectations() {
        let path = dir.join(name);
        if path.exists() {
            check(&path, expect);
            checked += 1;
        }
    }
    assert_eq!(checked, 16);
}

fn copied(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/jazz-soft")
            .join(name),
    )
    .unwrap()
}

#[test]
fn c_major_scale_timeline_is_exact() {
    let t = read_smf(&copied("test-c-major-scale.mid")).unwrap();
    assert_eq!(t.format, SmfFormat::SingleTrack);
    let keys = [0x3C, 0x3E, 0x40, 0x41, 0x43, 0x45, 0x47, 0x48];
    for (i, key) in keys.iter().enumerate() {
        let on = &t.messages[2 * i];
        let off = &t.messages[2 * i + 1];
        let start = i as u64 * 5_000_000;
        assert_eq!(
            (on.time, on.bytes.as_slice()),
            (start, &[0x90, *key, 0x7F][..])
        );
        assert_eq!(off.time, start + 5_000_000, "a quarter note at 120 BPM");
        assert_eq!(off.bytes[0] & 0xF0, 0x80);
        assert_eq!(on.kind, MessageKind::Channel);
    }
}

#[test]
fn format_1_merges_tracks_and_format_2_plays_them_in_turn() {
    let parallel = read_smf(&copied("test-2-tracks-type-1.mid")).unwrap();
    let sequential = read_smf(&copied("test-2-tracks-type-2.mid")).unwrap();
    // Format 1: the two scales interleave (track 0 first at equal times).
    assert_eq!(parallel.messages[0].track, 0);
    assert_eq!(parallel.messages[1].track, 1);
    assert_eq!(parallel.messages[0].time, parallel.messages[1].time);
    // Format 2: track 1 starts where track 0 ended.
    let first_of_track_1 = sequential
        .messages
        .iter()
        .position(|m| m.track == 1)
        .unwrap();
    assert_eq!(first_of_track_1, 16);
    assert!(sequential.messages[first_of_track_1].time >= sequential.messages[15].time);
    assert_eq!(sequential.end_time, 2 * parallel.end_time);
}

#[test]
fn running_status_across_sysex_keeps_the_whole_scale() {
    let t = read_smf(&copied("test-running-status-sysex.mid")).unwrap();
    let notes_on = t
        .messages
        .iter()
        .filter(|m| m.bytes[0] == 0x90 && m.bytes[2] > 0)
        .count();
    assert_eq!(notes_on, 8);
    let sysex: Vec<_> = t
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::SysEx)
        .collect();
    assert_eq!(sysex.len(), 1);
    assert_eq!(sysex[0].bytes, [0xF0, 0x7E, 0x7F, 0x06, 0x01, 0xF7]);
    assert!(matches!(
        t.warnings[..],
        [SmfWarning::RunningStatusAcrossMeta { track: 0, .. }]
    ));
}

#[test]
fn missing_byte_keeps_every_note_before_the_fault() {
    let err = read_smf(&copied("test-corrupt-file-missing-byte.mid")).unwrap_err();
    assert_eq!(err.kept.messages.len(), 16);
    assert!(
        err.to_string()
            .ends_with("(16 messages before the fault were read)"),
        "{err}"
    );
}
