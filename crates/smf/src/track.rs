//! Decoding one `MTrk` chunk with midly into raw messages at absolute ticks.
//!
//! - Running status is expanded (every message carries its status byte), and
//!   it survives meta and sysex events: the SMF spec says those cancel it, but
//!   a conforming file always has a status byte there, so keeping it only
//!   changes files that would otherwise be unreadable (players commonly keep
//!   it; jazz-soft's `test-running-status-*.mid` expect a whole scale). Each
//!   such use is reported as a warning.
//! - System exclusive: an `F0` event whose data ends with `F7` is one complete
//!   message; one that does not is the first packet of a split message, and
//!   following `F7` events are its continuation packets (sent as they are)
//!   until one ends with `F7`. An `F7` event outside a split message is an
//!   escape: its bytes go on the wire as they are.
//! - Meta events are dropped, except Set Tempo, which is collected for the
//!   tempo map.

use midly::{MetaMessage, MidiMessage, TrackEventKind};

use crate::timeline::{MessageKind, SmfWarning};

/// A message at an absolute tick of its track.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TickMessage {
    /// Ticks from the start of the track.
    pub tick: u64,
    /// What the bytes are.
    pub kind: MessageKind,
    /// Wire bytes.
    pub bytes: Vec<u8>,
}

/// An event midly could not read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventFault {
    /// 0-based index of the event within its track.
    pub event_index: usize,
    /// File offset of the event (its delta time).
    pub offset: usize,
    /// What is wrong, in words.
    pub reason: String,
}

/// Everything read from one track.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackContent {
    /// Messages in track order.
    pub messages: Vec<TickMessage>,
    /// Set Tempo events: (tick, µs per quarter note), in track order.
    pub tempos: Vec<(u64, u32)>,
    /// The tick of the last event read (End of Track included).
    pub end_tick: u64,
    /// Odd but harmless things.
    pub warnings: Vec<SmfWarning>,
    /// The first unreadable event; every event before it is kept above.
    pub fault: Option<EventFault>,
}

/// Decodes the events of one track chunk. `data_offset` is the file offset
/// of `data`, for error messages.
#[must_use]
pub fn read_track(data: &[u8], data_offset: usize, track: u16) -> TrackContent {
    let mut content = TrackContent::default();
    let mut events = midly::EventIter::new(data);
    let mut channel_status: Option<u8> = None;
    let mut in_split_sysex = false;
    let mut tick: u64 = 0;
    let mut event_index = 0;
    let mut after_end = 0_usize;
    loop {
        let before = events.unread();
        if before.is_empty() {
            break;
        }
        let offset = data_offset + (data.len() - before.len());
        let event = match events.next() {
            Some(Ok(event)) => event,
            Some(Err(err)) => {
                content.fault = Some(EventFault {
                    event_index,
                    offset,
                    reason: diagnose(before, channel_status, &err),
                });
                break;
            }
            None => {
                let err = midly::Error::new(&midly::ErrorKind::Malformed("unreadable event"));
                content.fault = Some(EventFault {
                    event_index,
                    offset,
                    reason: diagnose(before, channel_status, &err),
                });
                break;
            }
        };
        if after_end > 0 {
            // After End-of-Track: read (to find the chunk's faults) but not played.
            after_end += 1;
            event_index += 1;
            continue;
        }
        tick += u64::from(event.delta.as_int());
        content.end_tick = tick;
        match event.kind {
            TrackEventKind::Midi { channel, message } => {
                let bytes = channel_message_bytes(channel.as_int(), message);
                channel_status = bytes.first().copied();
                content.messages.push(TickMessage {
                    tick,
                    kind: MessageKind::Channel,
                    bytes,
                });
            }
            TrackEventKind::SysEx(data) => {
                push_sysex(&mut content, &mut in_split_sysex, track, tick, data);
            }
            TrackEventKind::Escape(data) => {
                push_escape(&mut content, &mut in_split_sysex, tick, data);
            }
            TrackEventKind::Meta(MetaMessage::Tempo(tempo)) if tempo.as_int() == 0 => {
                content.warnings.push(SmfWarning::ZeroTempo { track, tick });
            }
            TrackEventKind::Meta(MetaMessage::Tempo(tempo)) => {
                content.tempos.push((tick, tempo.as_int()));
            }
            TrackEventKind::Meta(MetaMessage::EndOfTrack) => after_end = 1,
            TrackEventKind::Meta(_) => {}
        }
        if !matches!(event.kind, TrackEventKind::Midi { .. }) && channel_status.is_some() {
            // Keep channel running status across meta and sysex events.
            *events.running_status_mut() = channel_status;
            if next_event_uses_running_status(events.unread()) {
                let next_offset = data_offset + (data.len() - events.unread().len());
                content.warnings.push(SmfWarning::RunningStatusAcrossMeta {
                    track,
                    offset: next_offset,
                });
            }
        }
        event_index += 1;
    }
    if in_split_sysex {
        content
            .warnings
            .push(SmfWarning::UnterminatedSysEx { track });
    }
    if after_end > 1 {
        content.warnings.push(SmfWarning::EventsAfterEndOfTrack {
            track,
            count: after_end - 1,
        });
    }
    content
}

/// An `F0` event: a complete sysex message, or the first packet of a split one
/// (`in_split` then stays set until a continuation ends with `F7`).
fn push_sysex(content: &mut TrackContent, in_split: &mut bool, track: u16, tick: u64, data: &[u8]) {
    if *in_split {
        content
            .warnings
            .push(SmfWarning::UnterminatedSysEx { track });
    }
    let mut bytes = Vec::with_capacity(data.len() + 1);
    bytes.push(0xF0);
    bytes.extend_from_slice(data);
    *in_split = data.last() != Some(&0xF7);
    let kind = if *in_split {
        MessageKind::SysExStart
    } else {
        MessageKind::SysEx
    };
    content.messages.push(TickMessage { tick, kind, bytes });
}

/// An `F7` event: the next packet of a split sysex message, or an escape.
fn push_escape(content: &mut TrackContent, in_split: &mut bool, tick: u64, data: &[u8]) {
    let kind = if *in_split {
        *in_split = data.last() != Some(&0xF7);
        MessageKind::SysExContinuation
    } else {
        MessageKind::Escape
    };
    if !data.is_empty() {
        content.messages.push(TickMessage {
            tick,
            kind,
            bytes: data.to_vec(),
        });
    }
}

/// The wire bytes of a channel message, status byte included.
#[must_use]
pub fn channel_message_bytes(channel: u8, message: MidiMessage) -> Vec<u8> {
    let ch = channel & 0x0F;
    match message {
        MidiMessage::NoteOff { key, vel } => vec![0x80 | ch, key.as_int(), vel.as_int()],
        MidiMessage::NoteOn { key, vel } => vec![0x90 | ch, key.as_int(), vel.as_int()],
        MidiMessage::Aftertouch { key, vel } => vec![0xA0 | ch, key.as_int(), vel.as_int()],
        MidiMessage::Controller { controller, value } => {
            vec![0xB0 | ch, controller.as_int(), value.as_int()]
        }
        MidiMessage::ProgramChange { program } => vec![0xC0 | ch, program.as_int()],
        MidiMessage::ChannelAftertouch { vel } => vec![0xD0 | ch, vel.as_int()],
        MidiMessage::PitchBend { bend } => {
            let value = bend.0.as_int();
            let [lsb, msb] = [(value & 0x7F) as u8, ((value >> 7) & 0x7F) as u8];
            vec![0xE0 | ch, lsb, msb]
        }
    }
}

/// True if the next event (delta time, then status) starts with a data byte.
fn next_event_uses_running_status(unread: &[u8]) -> bool {
    read_varlen(unread)
        .and_then(|(_, rest)| rest.first())
        .is_some_and(|&status| status < 0x80)
}

/// Reads a variable-length quantity (at most four bytes) off the front of
/// `bytes`: its value and the rest, or `None` if it does not end within them.
fn read_varlen(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let end = bytes.iter().take(4).position(|&b| b & 0x80 == 0)?;
    let value = bytes
        .get(..=end)?
        .iter()
        .fold(0u32, |acc, &b| (acc << 7) | u32::from(b & 0x7F));
    Some((value, bytes.get(end + 1..)?))
}

/// Data bytes that follow a channel status byte.
fn channel_data_len(status: u8) -> usize {
    match status & 0xF0 {
        0xC0 | 0xD0 => 1,
        _ => 2,
    }
}

/// Says in words why the event at the start of `bytes` is unreadable. The
/// common faults are named from the bytes themselves; only an unforeseen one
/// falls back on midly's message (which release builds shorten to its
/// outermost context).
fn diagnose(bytes: &[u8], channel_status: Option<u8>, err: &midly::Error) -> String {
    let Some((_, rest)) = read_varlen(bytes) else {
        return "the delta time is not a valid variable-length number (or the track ends inside it)".into();
    };
    let Some((&status, after_status)) = rest.split_first() else {
        return "the track ends after a delta time, without an event".into();
    };
    let data = match status {
        0x00..=0x7F => {
            let Some(running) = channel_status else {
                return format!(
                    "data byte {status:#04X} where a status byte is required (no running status)"
                );
            };
            rest.get(..channel_data_len(running))
        }
        0x80..=0xEF => after_status.get(..channel_data_len(status)),
        0xF1..=0xF6 => {
            return format!(
                "status byte {status:#04X} is a system common message, which a Standard MIDI File cannot contain"
            );
        }
        0xF8..=0xFE => {
            return format!(
                "status byte {status:#04X} is a system real-time message, which a Standard MIDI File cannot contain"
            );
        }
        0xF0 | 0xF7 => read_varlen(after_status)
            .and_then(|(len, payload)| payload.get(..usize::try_from(len).ok()?)),
        0xFF => after_status
            .get(1..)
            .and_then(read_varlen)
            .and_then(|(len, payload)| payload.get(..usize::try_from(len).ok()?)),
    };
    match data {
        None => format!("the track ends inside an event with status byte {status:#04X}"),
        Some(data) if status < 0xF0 && data.iter().any(|&b| b >= 0x80) => {
            format!("a data byte of the channel message {status:#04X} has its top bit set")
        }
        Some(_) => {
            let mut root = err;
            while let Some(source) = root.source() {
                root = source;
            }
            format!("malformed event with status byte {status:#04X} ({root})")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_bytes(content: &TrackContent) -> Vec<(u64, MessageKind, Vec<u8>)> {
        content
            .messages
            .iter()
            .map(|m| (m.tick, m.kind, m.bytes.clone()))
            .collect()
    }

    #[test]
    fn running_status_is_expanded() {
        let content = read_track(b"\x00\x90\x3c\x7f\x60\x3c\x00\x00\xff\x2f\x00", 0, 0);
        assert_eq!(
            kinds_and_bytes(&content),
            [
                (0, MessageKind::Channel, vec![0x90, 0x3c, 0x7f]),
                (0x60, MessageKind::Channel, vec![0x90, 0x3c, 0x00])
            ]
        );
        assert_eq!(content.end_tick, 0x60);
        assert_eq!(content.fault, None);
    }

    #[test]
    fn running_status_survives_a_meta_event_with_a_warning() {
        let track = b"\x00\x90\x3c\x7f\x00\xff\x01\x01x\x10\x3e\x7f\x00\xff\x2f\x00";
        let content = read_track(track, 100, 3);
        assert_eq!(content.fault, None);
        assert_eq!(content.messages[1].bytes, [0x90, 0x3e, 0x7f]);
        assert_eq!(content.messages[1].tick, 0x10);
        assert_eq!(
            content.warnings,
            [SmfWarning::RunningStatusAcrossMeta {
                track: 3,
                offset: 109
            }]
        );
    }

    #[test]
    fn split_sysex_and_escape() {
        // F0 packet without F7, one F7 continuation ending in F7, then an
        // escape carrying a real-time byte.
        let track = b"\x00\xf0\x03\x43\x12\x00\x10\xf7\x02\x01\xf7\x05\xf7\x01\xf8\x00\xff\x2f\x00";
        let content = read_track(track, 0, 0);
        assert_eq!(
            kinds_and_bytes(&content),
            [
                (0, MessageKind::SysExStart, vec![0xF0, 0x43, 0x12, 0x00]),
                (0x10, MessageKind::SysExContinuation, vec![0x01, 0xF7]),
                (0x15, MessageKind::Escape, vec![0xF8]),
            ]
        );
        assert!(content.warnings.is_empty());
    }

    #[test]
    fn complete_sysex_and_unterminated_split() {
        let content = read_track(b"\x00\xf0\x02\x7e\xf7\x00\xf0\x01\x7e", 0, 1);
        assert_eq!(content.messages[0].kind, MessageKind::SysEx);
        assert_eq!(content.messages[0].bytes, [0xF0, 0x7E, 0xF7]);
        assert_eq!(content.messages[1].kind, MessageKind::SysExStart);
        assert_eq!(
            content.warnings,
            [SmfWarning::UnterminatedSysEx { track: 1 }]
        );
    }

    #[test]
    fn tempo_is_collected_and_meta_dropped() {
        let content = read_track(b"\x00\xff\x51\x03\x07\xa1\x20\x83\x00\xff\x2f\x00", 0, 0);
        assert!(content.messages.is_empty());
        assert_eq!(content.tempos, [(0, 500_000)]);
        assert_eq!(content.end_tick, 384);
    }

    #[test]
    fn events_after_end_of_track_are_ignored_with_a_warning() {
        let content = read_track(
            b"\x00\x90\x3c\x64\x60\x80\x3c\x40\x00\xff\x2f\x00\x00\x90\x3e\x64\x60\x80\x3e\x40",
            0,
            2,
        );
        assert_eq!(content.messages.len(), 2, "{content:?}");
        assert_eq!(content.end_tick, 96);
        assert_eq!(
            content.warnings,
            [SmfWarning::EventsAfterEndOfTrack { track: 2, count: 2 }]
        );
        assert!(
            content.warnings[0]
                .to_string()
                .contains("2 event(s) after End-of-Track ignored")
        );
    }

    #[test]
    fn a_zero_tempo_is_ignored_with_a_warning() {
        let content = read_track(
            b"\x00\xff\x51\x03\x07\xa1\x20\x60\xff\x51\x03\x00\x00\x00\x00\xff\x2f\x00",
            0,
            0,
        );
        assert_eq!(content.tempos, [(0, 500_000)]);
        assert_eq!(
            content.warnings,
            [SmfWarning::ZeroTempo { track: 0, tick: 96 }]
        );
    }

    #[test]
    fn system_common_status_is_a_fault_after_the_good_events() {
        let content = read_track(b"\x00\x90\x3c\x7f\x00\xf1\x7f\x00\x80\x3c\x40", 0x20, 0);
        assert_eq!(
            content.messages.len(),
            1,
            "the event before the fault is kept"
        );
        let fault = content.fault.unwrap();
        assert_eq!((fault.event_index, fault.offset), (1, 0x24));
        assert_eq!(
            fault.reason,
            "status byte 0xF1 is a system common message, which a Standard MIDI File cannot contain"
        );
    }

    #[test]
    fn truncated_event_is_a_fault() {
        let content = read_track(b"\x00\x90\x3c\x7f\x00\xff\x2f", 0, 0);
        assert_eq!(content.messages.len(), 1);
        let fault = content.fault.unwrap();
        assert_eq!(fault.event_index, 1);
        assert_eq!(
            fault.reason,
            "the track ends inside an event with status byte 0xFF"
        );
    }

    #[test]
    fn data_byte_without_running_status_and_top_bit_faults() {
        let content = read_track(b"\x00\x3c\x7f", 0, 0);
        assert_eq!(
            content.fault.unwrap().reason,
            "data byte 0x3C where a status byte is required (no running status)"
        );
        let content = read_track(b"\x00\x90\x3c\x80", 0, 0);
        assert_eq!(
            content.fault.unwrap().reason,
            "a data byte of the channel message 0x90 has its top bit set"
        );
        let content = read_track(b"\x00\xf0\x05\x7e", 0, 0);
        assert_eq!(
            content.fault.unwrap().reason,
            "the track ends inside an event with status byte 0xF0"
        );
        let content = read_track(b"\x80\x80\x80\x80\x00", 0, 0);
        assert!(
            content
                .fault
                .unwrap()
                .reason
                .starts_with("the delta time is not a valid")
        );
    }

    #[test]
    fn pitch_bend_bytes() {
        let bend = midly::PitchBend(midly::num::u14::new(0x2000));
        assert_eq!(
            channel_message_bytes(2, MidiMessage::PitchBend { bend }),
            [0xE2, 0x00, 0x40]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics_and_keeps_messages_in_tick_order(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
        ) {
            let content = read_track(&data, 0, 0);
            proptest::prop_assert!(content.messages.windows(2).all(|w| w[0].tick <= w[1].tick));
            proptest::prop_assert!(content.messages.iter().all(|m| !m.bytes.is_empty()));
            if let Some(fault) = content.fault {
                proptest::prop_assert!(fault.offset < data.len());
            }
        }
    }
}
