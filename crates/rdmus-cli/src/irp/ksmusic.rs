//! `KSMUSICFORMAT` buffers for the legacy MIDI pin.
//!
//! Deltas are whole milliseconds. Rounding each gap on its own would let the
//! error pile up: a file ticking every 5.208 ms would be sent as 5 ms gaps and
//! run 4 % fast, drifting a whole second every 25 s. Instead every message's
//! **absolute** time is rounded to the nearest millisecond of one global grid
//! from tick 0, and each delta is the difference of two rounded absolute
//! times; so every message plays within ±0.5 ms of its exact time however
//! long the file is, and the deltas of a buffer sum to exactly its span. Each
//! buffer's `PresentationTime` is its first record's grid time, so times also
//! increase across IRPs as the port requires.

use mxf::wire::{EmitError, ksmusic};

use super::pieces::{Piece, cut, payload, span_end};
use super::{IrpError, StreamPacket};
use crate::cli::PinFormat;
use smf::Timeline;

/// `time` (100 ns) rounded to the nearest millisecond (half up).
#[must_use]
pub const fn round_to_ms(time: u64) -> u64 {
    time / 10_000 + if time % 10_000 >= 5_000 { 1 } else { 0 }
}

/// Builds the buffers of `buffer_size` bytes (`FrameExtent`) that carry
/// `timeline` to a legacy MIDI pin, filling each before starting the next.
///
/// # Errors
/// [`IrpError::BufferTooSmall`] when a channel message record does not fit an
/// empty buffer; [`IrpError::DeltaTooLarge`] for a gap over `u32::MAX` ms.
pub fn build_ksmusic(timeline: &Timeline, buffer_size: u32) -> Result<Vec<StreamPacket>, IrpError> {
    build_ksmusic_within(timeline, buffer_size, u64::MAX)
}

/// As [`build_ksmusic`], but a buffer also ends before a message more than
/// `max_span` (100 ns) after its first one, as an application that writes
/// what falls due in each time slice.
///
/// # Errors
/// As [`build_ksmusic`].
pub fn build_ksmusic_within(
    timeline: &Timeline,
    buffer_size: u32,
    max_span: u64,
) -> Result<Vec<StreamPacket>, IrpError> {
    let size = usize::try_from(buffer_size).unwrap_or(usize::MAX);
    let max_data = size.saturating_sub(ksmusic::HEADER_LEN);
    let pieces = cut(timeline, max_data, size, ksmusic::record_len)?;
    let mut packets = Vec::new();
    let mut next = 0;
    while next < pieces.len() {
        let mut buffer = vec![0u8; size];
        let first = next;
        let end = span_end(&pieces, next, max_span);
        let (used, records, start_ms) = fill(
            &mut buffer,
            pieces.get(..end).unwrap_or_default(),
            &mut next,
        )?;
        let message_bytes = pieces.get(first..next).map_or(0, payload);
        buffer.truncate(used);
        // Kept for the whole run: hold what is used, not the IRP size.
        buffer.shrink_to_fit();
        let presentation_time = i64::try_from(start_ms.saturating_mul(10_000)).unwrap_or(i64::MAX);
        packets.push(StreamPacket {
            presentation_time,
            frame_extent: buffer_size,
            data: buffer,
            records,
            message_bytes,
            format: PinFormat::Ksmusic,
        });
    }
    Ok(packets)
}

/// Writes pieces from `*next` on into `buffer` until one does not fit;
/// returns the bytes used, the records written and the buffer's start (ms).
fn fill(
    buffer: &mut [u8],
    pieces: &[Piece<'_>],
    next: &mut usize,
) -> Result<(usize, usize, u64), IrpError> {
    let size = buffer.len();
    let start_ms = pieces.get(*next).map_or(0, |p| round_to_ms(p.time));
    let mut writer = ksmusic::Writer::new(buffer);
    let mut previous_ms = start_ms;
    while let Some(piece) = pieces.get(*next) {
        let ms = round_to_ms(piece.time);
        let delta = u32::try_from(ms - previous_ms).map_err(|_| IrpError::DeltaTooLarge {
            message: piece.message,
        })?;
        match writer.push(&ksmusic::RecordRepr {
            delta_ms: delta,
            data: piece.data,
        }) {
            Ok(()) => {
                previous_ms = ms;
                *next += 1;
            }
            Err(EmitError::Full) if !writer.is_empty() => break,
            // The pieces were cut to fit an empty buffer and are never empty.
            Err(EmitError::Full | EmitError::Empty | EmitError::TooLong) => {
                let needed = ksmusic::record_len(piece.data.len());
                return Err(IrpError::BufferTooSmall {
                    buffer_size: size,
                    needed,
                });
            }
        }
    }
    Ok((writer.len(), writer.records(), start_ms))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smf::{MessageKind, SmfFormat, TimedMessage};

    fn timeline(messages: &[(u64, MessageKind, &[u8])]) -> Timeline {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        t.messages = messages
            .iter()
            .map(|&(time, kind, bytes)| TimedMessage {
                time,
                track: 0,
                kind,
                bytes: bytes.to_vec(),
            })
            .collect();
        t
    }

    fn records(packet: &StreamPacket) -> Vec<(u32, Vec<u8>)> {
        ksmusic::Reader::new(&packet.data)
            .map(|r| {
                let (_, record) = r.unwrap();
                (record.delta_ms, record.data.to_vec())
            })
            .collect()
    }

    #[test]
    fn rounding_is_half_up() {
        assert_eq!(round_to_ms(4_999), 0);
        assert_eq!(round_to_ms(5_000), 1);
        assert_eq!(round_to_ms(52_083), 5);
        assert_eq!(round_to_ms(104_166), 10);
    }

    #[test]
    fn deltas_come_from_rounded_absolute_times_without_drift() {
        // Messages every 5.2083 ms (one tick at 96 TPQ, 120 BPM).
        let note = [0x90u8, 0x3C, 0x40];
        let msgs: Vec<(u64, MessageKind, &[u8])> = (0..1_000u64)
            .map(|i| (i * 520_833_333 / 10_000, MessageKind::Channel, &note[..]))
            .collect();
        let t = timeline(&msgs);
        let packets = build_ksmusic(&t, 4096).unwrap();
        let mut absolute_ms = Vec::new();
        for packet in &packets {
            let mut ms = u64::try_from(packet.presentation_time).unwrap() / 10_000;
            for (delta, _) in records(packet) {
                ms += u64::from(delta);
                absolute_ms.push(ms);
            }
        }
        assert_eq!(absolute_ms.len(), 1_000);
        for (i, &ms) in absolute_ms.iter().enumerate() {
            let exact_100ns = t.messages[i].time;
            let error = ms.cast_signed() * 10_000 - exact_100ns.cast_signed();
            assert!(
                error.abs() <= 5_000,
                "message {i}: {ms} ms vs {exact_100ns} × 100 ns"
            );
        }
        // The last message is at 5203.1 ms; summing 5 ms gaps would say 4995.
        assert_eq!(absolute_ms[999], 5_203);
    }

    #[test]
    fn records_are_dword_padded_and_buffers_split_when_full() {
        let t = timeline(&[
            (0, MessageKind::Channel, &[0x90, 0x3C, 0x40]),
            (10_000, MessageKind::Channel, &[0xC0, 0x05]),
            (30_000, MessageKind::Channel, &[0x80, 0x3C, 0x40]),
        ]);
        // 12-byte records: two fit in 24 bytes.
        let packets = build_ksmusic(&t, 24).unwrap();
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[0].presentation_time, 0);
        assert_eq!(
            records(&packets[0]),
            [(0, vec![0x90, 0x3C, 0x40]), (1, vec![0xC0, 0x05])]
        );
        assert_eq!(packets[0].data.len(), 24);
        assert_eq!(packets[0].frame_extent, 24);
        assert_eq!(packets[1].presentation_time, 30_000);
        assert_eq!(records(&packets[1]), [(0, vec![0x80, 0x3C, 0x40])]);
        assert_eq!(packets[1].data.len(), 12);
    }

    #[test]
    fn long_sysex_is_cut_into_same_time_records() {
        let sysex: Vec<u8> = [0xF0].into_iter().chain(1..=20).chain([0xF7]).collect();
        let t = timeline(&[(20_000, MessageKind::SysEx, &sysex)]);
        let packets = build_ksmusic(&t, 16).unwrap();
        let all: Vec<(u32, Vec<u8>)> = packets.iter().flat_map(records).collect();
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|(delta, _)| *delta == 0));
        let joined: Vec<u8> = all.into_iter().flat_map(|(_, d)| d).collect();
        assert_eq!(joined, sysex);
        assert!(packets.iter().all(|p| p.presentation_time == 20_000));
    }

    #[test]
    fn buffer_too_small_for_a_channel_message() {
        let t = timeline(&[(0, MessageKind::Channel, &[0x90, 0x3C, 0x40])]);
        assert_eq!(
            build_ksmusic(&t, 10),
            Err(IrpError::BufferTooSmall {
                buffer_size: 10,
                needed: 12
            })
        );
        assert_eq!(
            build_ksmusic(&t, 4),
            Err(IrpError::BufferTooSmall {
                buffer_size: 4,
                needed: 12
            })
        );
    }

    #[test]
    fn buffers_also_end_at_their_time_span() {
        let t = timeline(&[
            (0, MessageKind::Channel, &[0x90, 0x3C, 0x40]),
            (999_999, MessageKind::Channel, &[0x90, 0x3E, 0x40]),
            (1_000_001, MessageKind::Channel, &[0x90, 0x40, 0x40]),
        ]);
        let packets = build_ksmusic_within(&t, 4096, 1_000_000).unwrap();
        assert_eq!(packets.len(), 2);
        assert_eq!(records(&packets[0]).len(), 2);
        assert_eq!(packets[1].presentation_time, 1_000_000);
        assert_eq!(records(&packets[1]), [(0, vec![0x90, 0x40, 0x40])]);
    }

    #[test]
    fn empty_timeline_has_no_packets() {
        assert_eq!(build_ksmusic(&timeline(&[]), 512), Ok(Vec::new()));
    }
}
