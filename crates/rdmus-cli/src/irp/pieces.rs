//! Cutting messages into record-sized pieces.
//!
//! A channel message is never split (it must reach the device whole). A
//! system-exclusive or escape message longer than one record can carry is
//! cut into consecutive pieces at the same time: both pins carry raw bytes
//! there (KSMUSICFORMAT records form one byte stream; DirectMusic events
//! without `DMUS_EVENT_STRUCTURED` are unstructured data), so the device
//! receives the same byte sequence.
//!
//! Those pieces are at most [`UNSTRUCTURED_RECORD_BYTES`] long: a port unpacks
//! a record into events from its allocator's pool, and a record that fits
//! one of the pool's data buffers is taken whole or not at all when the pool
//! runs dry, so the client can write exactly the records not taken again
//! (`super::StreamPacket::rest_after`). A longer record could be cut short
//! inside, its first part played and the rest lost.

use super::IrpError;
use smf::Timeline;

/// The most bytes of a sysex or escape message one record carries: the data
/// buffer of wdm-sim's PortCls allocator (`IAllocatorMXF::GetBufferSize`,
/// `wdm_sim::portcls::PoolSize`'s default).
pub const UNSTRUCTURED_RECORD_BYTES: usize = 256;

/// A record's worth of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece<'a> {
    /// Index of the message in the timeline.
    pub message: usize,
    /// The message's time, 100 ns.
    pub time: u64,
    /// True for a complete channel message.
    pub structured: bool,
    /// The bytes of this piece.
    pub data: &'a [u8],
}

/// Cuts every message into pieces of at most `max_data` bytes; `record_len`
/// gives the buffer size one record of n data bytes needs (for the error).
pub fn cut(
    timeline: &Timeline,
    max_data: usize,
    buffer_size: usize,
    record_len: fn(usize) -> usize,
) -> Result<Vec<Piece<'_>>, IrpError> {
    let mut pieces = Vec::with_capacity(timeline.messages.len());
    for (index, message) in timeline.messages.iter().enumerate() {
        let structured = message.kind.is_structured();
        if structured && message.bytes.len() > max_data {
            return Err(IrpError::BufferTooSmall {
                buffer_size,
                needed: record_len(message.bytes.len()),
            });
        }
        if max_data == 0 {
            return Err(IrpError::BufferTooSmall {
                buffer_size,
                needed: record_len(1),
            });
        }
        let piece_len = if structured {
            max_data
        } else {
            max_data.min(UNSTRUCTURED_RECORD_BYTES)
        };
        for data in message.bytes.chunks(piece_len) {
            pieces.push(Piece {
                message: index,
                time: message.time,
                structured,
                data,
            });
        }
    }
    Ok(pieces)
}

/// The MIDI bytes `pieces` carry.
#[must_use]
pub fn payload(pieces: &[Piece<'_>]) -> u64 {
    pieces
        .iter()
        .map(|p| u64::try_from(p.data.len()).unwrap_or(u64::MAX))
        .sum()
}

/// The end (exclusive) of the pieces from `from` on that lie within
/// `max_span` (100 ns) of the piece at `from`: a buffer that starts there
/// holds nothing later.
#[must_use]
pub fn span_end(pieces: &[Piece<'_>], from: usize, max_span: u64) -> usize {
    let Some(first) = pieces.get(from) else {
        return pieces.len();
    };
    let limit = first.time.saturating_add(max_span);
    pieces
        .get(from..)
        .unwrap_or_default()
        .iter()
        .position(|p| p.time > limit)
        .map_or(pieces.len(), |i| from + i)
}
