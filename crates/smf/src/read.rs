//! Reading a whole Standard MIDI File into a [`Timeline`].
//!
//! Format 0 and 1 tracks play together and share one tempo map built from
//! Set Tempo events in **any** track. Format 2 tracks are independent
//! sequences: rdmus plays them one after another, each with its own tempo
//! map, each starting where the previous one ended (End of Track included).
//! This keeps every byte of the file audible rather than refusing it.

use crate::chunks::{Chunk, Chunks, split_chunks};
use crate::error::{SmfError, SmfFault};
use crate::tempo::{TempoMap, TimeBase};
use crate::timeline::{SmfFormat, SmfWarning, TimedMessage, Timeline};
use crate::track::{TrackContent, read_track};

/// Reads a Standard MIDI File.
///
/// # Errors
/// [`SmfError`] with the first fault and every message read before it.
pub fn read_smf(bytes: &[u8]) -> Result<Timeline, SmfError> {
    let (format, base, declared_tracks, found) = read_header(bytes).map_err(|fault| SmfError {
        fault,
        kept: Timeline::empty(SmfFormat::SingleTrack),
    })?;
    let mut reader = Reader {
        format,
        base,
        timeline: Timeline::empty(format),
        tracks: Vec::new(),
    };
    let mut track_chunks = Vec::new();
    for chunk in found.chunks.iter().skip(1) {
        if &chunk.id == b"MTrk" {
            track_chunks.push(chunk);
        } else {
            reader.timeline.warnings.push(SmfWarning::UnknownChunk {
                id: chunk.id,
                offset: chunk.offset,
            });
        }
    }
    if let Some((offset, len)) = found.trailing {
        reader
            .timeline
            .warnings
            .push(SmfWarning::TrailingBytes { offset, len });
    }
    if track_chunks.len() > usize::from(declared_tracks) {
        reader.timeline.warnings.push(SmfWarning::ExtraTracks {
            declared: declared_tracks,
            found: track_chunks.len(),
        });
        track_chunks.truncate(usize::from(declared_tracks));
    }

    let mut fault = None;
    for (track, chunk) in (0..declared_tracks).zip(&track_chunks) {
        let content = read_track(chunk.data, chunk.data_offset, track);
        fault = track_fault(track, chunk, &content);
        reader.tracks.push(content);
        if fault.is_some() {
            break;
        }
    }
    if fault.is_none() && track_chunks.len() < usize::from(declared_tracks) {
        fault = Some(SmfFault::MissingTracks {
            declared: declared_tracks,
            found: track_chunks.len(),
        });
    }
    if let Err(overflow) = reader.place_in_time() {
        fault = fault.or(Some(overflow));
    }
    match fault {
        None => Ok(reader.timeline),
        Some(fault) => Err(SmfError {
            fault,
            kept: reader.timeline,
        }),
    }
}

/// Checks the `MThd` chunk: the format, the time base, the declared track
/// count, and every chunk of the file.
fn read_header(bytes: &[u8]) -> Result<(SmfFormat, TimeBase, u16, Chunks<'_>), SmfFault> {
    if bytes.is_empty() {
        return Err(SmfFault::Empty);
    }
    if !bytes.starts_with(b"MThd") {
        return Err(SmfFault::NotSmf {
            starts_with: bytes.iter().take(4).copied().collect(),
        });
    }
    let found = split_chunks(bytes);
    let no_header = || SmfFault::BadHeader {
        reason: "no complete MThd chunk".into(),
    };
    let header_chunk = found.chunks.first().ok_or_else(no_header)?;
    let header_bytes = bytes
        .get(..header_chunk.data_offset + header_chunk.data.len())
        .ok_or_else(no_header)?;
    let declared_tracks = match header_chunk.data.get(2..4) {
        Some(&[hi, lo]) => u16::from_be_bytes([hi, lo]),
        _ => {
            return Err(SmfFault::BadHeader {
                reason: "MThd chunk shorter than 6 bytes".into(),
            });
        }
    };
    // midly negates the SMPTE frame-rate byte as an i8, which overflows (a
    // panic in debug builds) for 0x80; refuse every code but the four valid ones.
    if let Some(&[fps, _]) = header_chunk.data.get(4..6)
        && fps & 0x80 != 0
        && ![0xE8, 0xE7, 0xE3, 0xE2].contains(&fps)
    {
        return Err(SmfFault::BadHeader {
            reason: format!(
                "SMPTE division with frame-rate byte {fps:#04X} (valid: -24, -25, -29, -30)"
            ),
        });
    }
    let header = midly::parse(header_bytes)
        .map_err(|err| SmfFault::BadHeader {
            reason: err.to_string(),
        })?
        .0;
    let format = match header.format {
        midly::Format::SingleTrack => SmfFormat::SingleTrack,
        midly::Format::Parallel => SmfFormat::Parallel,
        midly::Format::Sequential => SmfFormat::Sequential,
    };
    if format == SmfFormat::SingleTrack && declared_tracks != 1 {
        return Err(SmfFault::Format0TrackCount {
            declared: declared_tracks,
        });
    }
    let base = TimeBase::from_timing(header.timing).map_err(|_| SmfFault::ZeroDivision)?;
    Ok((format, base, declared_tracks, found))
}

/// The fault of a decoded track: its first bad event, or else its truncation.
fn track_fault(track: u16, chunk: &Chunk<'_>, content: &TrackContent) -> Option<SmfFault> {
    if let Some(bad) = &content.fault {
        return Some(SmfFault::BadEvent {
            track,
            event_index: bad.event_index,
            offset: bad.offset,
            reason: bad.reason.clone(),
        });
    }
    chunk.is_truncated().then_some(SmfFault::TruncatedTrack {
        track,
        offset: chunk.offset,
        declared_len: chunk.declared_len,
        present: chunk.data.len(),
    })
}

/// A file being read: its decoded tracks, then the merged timeline.
struct Reader {
    format: SmfFormat,
    base: TimeBase,
    timeline: Timeline,
    tracks: Vec<TrackContent>,
}

impl Reader {
    /// Converts every track's ticks to time and merges them into the timeline.
    fn place_in_time(&mut self) -> Result<(), SmfFault> {
        let tracks = core::mem::take(&mut self.tracks);
        self.timeline.tracks = u16::try_from(tracks.len()).unwrap_or(u16::MAX);
        let mut result = Ok(());
        if self.format == SmfFormat::Sequential {
            let mut start = 0u64;
            for (track, content) in (0u16..).zip(tracks) {
                let map = TempoMap::new(self.base, &content.tempos);
                match self.add_track(track, content, &map, start) {
                    Ok(end) => start = end,
                    Err(fault) => {
                        result = Err(fault);
                        break;
                    }
                }
            }
        } else {
            let tempos: Vec<(u64, u32)> = tracks
                .iter()
                .flat_map(|t| t.tempos.iter().copied())
                .collect();
            let map = TempoMap::new(self.base, &tempos);
            let mut by_tick = Vec::new();
            for (track, content) in (0u16..).zip(tracks) {
                self.timeline.warnings.extend(content.warnings);
                let end = map.time_100ns(content.end_tick);
                let Some(end) = end else {
                    result = Err(SmfFault::TimeOverflow { track });
                    break;
                };
                self.timeline.end_time = self.timeline.end_time.max(end);
                by_tick.extend(content.messages.into_iter().map(|m| (m.tick, track, m)));
            }
            // Stable: equal ticks keep track order, then order within the track.
            by_tick.sort_by_key(|&(tick, track, _)| (tick, track));
            for (tick, track, message) in by_tick {
                let Some(time) = map.time_100ns(tick) else {
                    result = result.and(Err(SmfFault::TimeOverflow { track }));
                    break;
                };
                self.timeline.messages.push(TimedMessage {
                    time,
                    track,
                    kind: message.kind,
                    bytes: message.bytes,
                });
            }
        }
        result
    }

    /// Appends one format 2 track starting at `start`; returns its end time.
    fn add_track(
        &mut self,
        track: u16,
        content: TrackContent,
        map: &TempoMap,
        start: u64,
    ) -> Result<u64, SmfFault> {
        self.timeline.warnings.extend(content.warnings);
        let at = |tick| map.time_100ns(tick).and_then(|t| t.checked_add(start));
        for message in content.messages {
            let time = at(message.tick).ok_or(SmfFault::TimeOverflow { track })?;
            self.timeline.messages.push(TimedMessage {
                time,
                track,
                kind: message.kind,
                bytes: message.bytes,
            });
        }
        let end = at(content.end_tick).ok_or(SmfFault::TimeOverflow { track })?;
        self.timeline.end_time = end;
        Ok(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCALE: &[u8] = include_bytes!("../tests/data/jazz-soft/test-c-major-scale.mid");
    const KARAOKE: &[u8] = include_bytes!("../tests/data/jazz-soft/test-karaoke-kar.mid");

    fn check_invariants(timeline: &Timeline) -> Result<(), TestCaseError> {
        prop_assert!(timeline.messages.windows(2).all(|w| w[0].time <= w[1].time));
        prop_assert!(timeline.messages.iter().all(|m| !m.bytes.is_empty()));
        prop_assert!(
            timeline
                .messages
                .iter()
                .all(|m| m.time <= timeline.end_time)
        );
        Ok(())
    }

    #[test]
    fn format_1_tempo_in_any_track_applies_to_all() {
        // Track 0: a note at tick 96; track 1: tempo 1 s per quarter at tick 0.
        let mut file = b"MThd\0\0\0\x06\0\x01\0\x02\0\x60".to_vec();
        file.extend_from_slice(b"MTrk\0\0\0\x0c\x60\x90\x3c\x40\x00\x80\x3c\x40\x00\xff\x2f\x00");
        file.extend_from_slice(b"MTrk\0\0\0\x0b\x00\xff\x51\x03\x0f\x42\x40\x00\xff\x2f\x00");
        let timeline = read_smf(&file).unwrap();
        assert_eq!(
            timeline.messages[0].time, 10_000_000,
            "one quarter at 60 BPM"
        );
        assert_eq!(timeline.end_time, 10_000_000);
    }

    #[test]
    fn missing_track_and_truncated_track_keep_what_was_read() {
        let mut file = b"MThd\0\0\0\x06\0\x01\0\x02\0\x60".to_vec();
        file.extend_from_slice(b"MTrk\0\0\0\x08\x00\x90\x3c\x40\x00\xff\x2f\x00");
        let err = read_smf(&file).unwrap_err();
        assert_eq!(
            err.fault,
            SmfFault::MissingTracks {
                declared: 2,
                found: 1
            }
        );
        assert_eq!(err.kept.messages.len(), 1);

        let mut file = b"MThd\0\0\0\x06\0\0\0\x01\0\x60".to_vec();
        file.extend_from_slice(b"MTrk\0\0\0\x20\x00\x90\x3c\x40\x10\x80\x3c\x40");
        let err = read_smf(&file).unwrap_err();
        assert_eq!(
            err.fault,
            SmfFault::TruncatedTrack {
                track: 0,
                offset: 14,
                declared_len: 32,
                present: 8
            }
        );
        assert_eq!(err.kept.messages.len(), 2, "both complete events are kept");
    }

    #[test]
    fn smpte_division_times_ticks_in_seconds() {
        // 25 fps × 40 subframes = 1000 ticks per second (ms resolution).
        let mut file = b"MThd\0\0\0\x06\0\0\0\x01\xe7\x28".to_vec();
        file.extend_from_slice(b"MTrk\0\0\0\x0c\x87\x68\x90\x3c\x40\x00\xff\x51\x03\x01\x00\x00");
        let timeline = read_smf(&file).unwrap();
        assert_eq!(
            timeline.messages[0].time, 10_000_000,
            "1000 ticks = 1 s, tempo ignored"
        );
    }

    #[test]
    fn zero_division_and_bad_format_are_header_faults() {
        let err = read_smf(b"MThd\0\0\0\x06\0\0\0\x01\0\0MTrk\0\0\0\0").unwrap_err();
        assert_eq!(err.fault, SmfFault::ZeroDivision);
        let err = read_smf(b"MThd\0\0\0\x06\0\x07\0\x01\0\x60").unwrap_err();
        assert!(
            matches!(err.fault, SmfFault::BadHeader { .. }),
            "{:?}",
            err.fault
        );
        let err = read_smf(b"MThd\0\0\0\x06\0\0\0\x01\x80\x40").unwrap_err();
        assert_eq!(
            err.fault,
            SmfFault::BadHeader {
                reason: "SMPTE division with frame-rate byte 0x80 (valid: -24, -25, -29, -30)"
                    .into()
            },
            "found by the smf fuzz target: midly's negation overflows"
        );
        let err = read_smf(b"MThd\0\0").unwrap_err();
        assert!(
            matches!(err.fault, SmfFault::BadHeader { .. }),
            "{:?}",
            err.fault
        );
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            match read_smf(&bytes) {
                Ok(t) => check_invariants(&t)?,
                Err(e) => check_invariants(&e.kept)?,
            }
        }

        #[test]
        fn never_panics_on_mutated_real_files(
            which in 0..2usize,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = [SCALE, KARAOKE][which].to_vec();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            match read_smf(&bytes) {
                Ok(t) => check_invariants(&t)?,
                Err(e) => check_invariants(&e.kept)?,
            }
        }
    }
}
