//! `DMUS_EVENTHEADER` buffers for the DirectMusic pin.
//!
//! Deltas are exact: each record's `rtDelta` is its message's time minus
//! the buffer's `PresentationTime` (the first record's time), in 100 ns, so
//! nothing is rounded. Channel messages carry `DMUS_EVENT_STRUCTURED`;
//! sysex and escape bytes do not (unstructured data).

use mxf::wire::{EmitError, dmus};

use super::pieces::{Piece, cut, payload, span_end};
use super::{IrpError, StreamPacket};
use crate::cli::PinFormat;
use smf::Timeline;

/// Channel group 1: the first (1-based) group of 16 channels.
pub const DEFAULT_CHANNEL_GROUP: u32 = 1;

/// Builds the buffers of `buffer_size` bytes that carry `timeline` to a
/// DirectMusic pin on `channel_group`, filling each before starting the next.
///
/// # Errors
/// [`IrpError::BufferTooSmall`] when a channel message record does not fit an
/// empty buffer.
pub fn build_dmus(
    timeline: &Timeline,
    buffer_size: u32,
    channel_group: u32,
) -> Result<Vec<StreamPacket>, IrpError> {
    build_dmus_within(timeline, buffer_size, channel_group, u64::MAX)
}

/// As [`build_dmus`], but a buffer also ends before a message more than
/// `max_span` (100 ns) after its first one, as DirectMusic's performance
/// writes what falls due in each time slice.
///
/// # Errors
/// As [`build_dmus`].
pub fn build_dmus_within(
    timeline: &Timeline,
    buffer_size: u32,
    channel_group: u32,
    max_span: u64,
) -> Result<Vec<StreamPacket>, IrpError> {
    let size = usize::try_from(buffer_size).unwrap_or(usize::MAX);
    let max_data = size.saturating_sub(dmus::HEADER_LEN);
    let pieces = cut(timeline, max_data, size, dmus::record_len)?;
    let mut packets = Vec::new();
    let mut next = 0;
    while next < pieces.len() {
        let mut buffer = vec![0u8; size];
        let start = pieces.get(next).map_or(0, |p| p.time);
        let first = next;
        let end = span_end(&pieces, next, max_span);
        let within = pieces.get(..end).unwrap_or_default();
        let (used, records) = fill(&mut buffer, within, &mut next, start, channel_group, size)?;
        let message_bytes = pieces.get(first..next).map_or(0, payload);
        buffer.truncate(used);
        // Kept for the whole run: hold what is used, not the IRP size.
        buffer.shrink_to_fit();
        let presentation_time = i64::try_from(start).unwrap_or(i64::MAX);
        packets.push(StreamPacket {
            presentation_time,
            frame_extent: buffer_size,
            data: buffer,
            records,
            message_bytes,
            format: PinFormat::Dmus,
        });
    }
    Ok(packets)
}

/// Writes pieces from `*next` on into `buffer` until one does not fit;
/// returns the bytes used and the records written.
fn fill(
    buffer: &mut [u8],
    pieces: &[Piece<'_>],
    next: &mut usize,
    start: u64,
    channel_group: u32,
    size: usize,
) -> Result<(usize, usize), IrpError> {
    let mut writer = dmus::Writer::new(buffer);
    while let Some(piece) = pieces.get(*next) {
        let rt_delta = i64::try_from(piece.time - start).map_err(|_| IrpError::DeltaTooLarge {
            message: piece.message,
        })?;
        let flags = if piece.structured {
            dmus::DMUS_EVENT_STRUCTURED
        } else {
            0
        };
        let record = dmus::RecordRepr {
            rt_delta,
            channel_group,
            flags,
            data: piece.data,
        };
        match writer.push(&record) {
            Ok(()) => *next += 1,
            Err(EmitError::Full) if !writer.is_empty() => break,
            // The pieces were cut to fit an empty buffer and are never empty.
            Err(EmitError::Full | EmitError::Empty | EmitError::TooLong) => {
                let needed = dmus::record_len(piece.data.len());
                return Err(IrpError::BufferTooSmall {
                    buffer_size: size,
                    needed,
                });
            }
        }
    }
    Ok((writer.len(), writer.records()))
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

    fn records(packet: &StreamPacket) -> Vec<(i64, u32, u32, Vec<u8>)> {
        dmus::Reader::new(&packet.data)
            .map(|r| {
                let (_, repr) = r.unwrap();
                (
                    repr.rt_delta,
                    repr.channel_group,
                    repr.flags,
                    repr.data.to_vec(),
                )
            })
            .collect()
    }

    #[test]
    fn exact_deltas_and_structured_flag() {
        let t = timeline(&[
            (52_083, MessageKind::Channel, &[0x90, 0x3C, 0x40]),
            (
                104_166,
                MessageKind::SysEx,
                &[0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7],
            ),
            (104_166, MessageKind::Escape, &[0xF8]),
        ]);
        let packets = build_dmus(&t, 4096, DEFAULT_CHANNEL_GROUP).unwrap();
        assert_eq!(packets.len(), 1);
        assert_eq!(packets[0].presentation_time, 52_083);
        assert_eq!(
            records(&packets[0]),
            [
                (0, 1, 1, vec![0x90, 0x3C, 0x40]),
                (52_083, 1, 0, vec![0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7]),
                (52_083, 1, 0, vec![0xF8]),
            ]
        );
        // Records of 3, 6 and 1 data bytes occupy 24, 32 and 24 bytes.
        assert_eq!(packets[0].data.len(), 24 + 32 + 24);
        assert_eq!(packets[0].records, 3);
    }

    #[test]
    fn buffers_split_when_full_and_restart_their_clock() {
        let t = timeline(&[
            (0, MessageKind::Channel, &[0x90, 0x3C, 0x40]),
            (1_000, MessageKind::Channel, &[0x90, 0x3E, 0x40]),
            (2_000, MessageKind::Channel, &[0x90, 0x40, 0x40]),
        ]);
        let packets = build_dmus(&t, 48, 2).unwrap();
        assert_eq!(packets.len(), 2);
        assert_eq!(packets[1].presentation_time, 2_000);
        assert_eq!(records(&packets[1]), [(0, 2, 1, vec![0x90, 0x40, 0x40])]);
    }

    #[test]
    fn buffers_also_end_at_their_time_span() {
        let t = timeline(&[
            (0, MessageKind::Channel, &[0x90, 0x3C, 0x40]),
            (1_000_000, MessageKind::Channel, &[0x90, 0x3E, 0x40]),
            (1_000_001, MessageKind::Channel, &[0x90, 0x40, 0x40]),
            (2_500_000, MessageKind::Channel, &[0x80, 0x40, 0x40]),
        ]);
        let packets = build_dmus_within(&t, 4096, 1, 1_000_000).unwrap();
        let starts: Vec<(i64, usize, u64)> = packets
            .iter()
            .map(|p| (p.presentation_time, p.records, p.message_bytes))
            .collect();
        assert_eq!(starts, [(0, 2, 6), (1_000_001, 1, 3), (2_500_000, 1, 3)]);
        assert_eq!(build_dmus(&t, 4096, 1).unwrap().len(), 1);
    }

    #[test]
    fn buffer_too_small_for_a_channel_message() {
        let t = timeline(&[(0, MessageKind::Channel, &[0x90, 0x3C, 0x40])]);
        assert_eq!(
            build_dmus(&t, 22, 1),
            Err(IrpError::BufferTooSmall {
                buffer_size: 22,
                needed: 24
            })
        );
    }
}
