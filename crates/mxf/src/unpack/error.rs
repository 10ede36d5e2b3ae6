//! What unpacking one IRP produced.

use crate::raw::{BuildError, Chain};
use crate::wire::WireError;
use core::fmt;

/// Why unpacking stopped early. Offsets are byte offsets of the faulty
/// record in the IRP's data buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnpackError {
    /// `DataUsed` exceeds `FrameExtent`; records inside both were unpacked.
    DataUsedBeyondFrameExtent {
        /// `KSSTREAM_HEADER.DataUsed`.
        data_used: u32,
        /// `KSSTREAM_HEADER.FrameExtent`.
        frame_extent: u32,
    },
    /// `DataUsed` exceeds the buffer actually mapped; records inside it were
    /// unpacked.
    DataUsedBeyondBuffer {
        /// `KSSTREAM_HEADER.DataUsed`.
        data_used: u32,
        /// Bytes of the mapped buffer.
        buffer_len: usize,
    },
    /// A record is cut short or empty.
    Wire(WireError),
    /// A delta larger than [`super::Limits::max_delta_100ns`], or one that
    /// overflows the time line.
    AbsurdDelta {
        /// Offset of the record.
        offset: usize,
        /// The delta in 100 ns units (saturated).
        delta_100ns: i64,
    },
    /// A channel group that does not fit the kernel event's 16 bits.
    ChannelGroup {
        /// Offset of the record.
        offset: usize,
        /// The group asked for.
        channel_group: u32,
    },
    /// The event pool ran out while unpacking this record.
    Pool {
        /// Offset of the record.
        offset: usize,
        /// What ran out.
        error: BuildError,
    },
}

impl fmt::Display for UnpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::DataUsedBeyondFrameExtent {
                data_used,
                frame_extent,
            } => {
                write!(f, "DataUsed {data_used} exceeds FrameExtent {frame_extent}")
            }
            Self::DataUsedBeyondBuffer {
                data_used,
                buffer_len,
            } => {
                write!(
                    f,
                    "DataUsed {data_used} exceeds the {buffer_len}-byte buffer"
                )
            }
            Self::Wire(e) => write!(f, "malformed buffer: {e}"),
            Self::AbsurdDelta {
                offset,
                delta_100ns,
            } => {
                write!(
                    f,
                    "record at offset {offset}: absurd delta of {delta_100ns} x 100 ns"
                )
            }
            Self::ChannelGroup {
                offset,
                channel_group,
            } => {
                write!(
                    f,
                    "record at offset {offset}: channel group {channel_group} out of range"
                )
            }
            Self::Pool { offset, error } => write!(f, "record at offset {offset}: {error}"),
        }
    }
}

/// The events of one IRP, and why unpacking stopped early if it did.
#[derive(Debug)]
#[must_use = "the chain must be sequenced or freed"]
pub struct Unpacked {
    /// Every event built, in record order.
    pub chain: Chain,
    /// Records fully unpacked.
    pub records: usize,
    /// The first fault, if any; `chain` holds everything before it.
    pub error: Option<UnpackError>,
}

/// The part of `buffer` to read given the header's `DataUsed` and
/// `FrameExtent`, and the header fault if any.
pub(crate) fn usable_len(
    data_used: u32,
    frame_extent: u32,
    buffer_len: usize,
) -> (usize, Option<UnpackError>) {
    let used = usize::try_from(data_used).unwrap_or(usize::MAX);
    let extent = usize::try_from(frame_extent).unwrap_or(usize::MAX);
    if data_used > frame_extent {
        let len = extent.min(buffer_len);
        return (
            len,
            Some(UnpackError::DataUsedBeyondFrameExtent {
                data_used,
                frame_extent,
            }),
        );
    }
    if used > buffer_len {
        return (
            buffer_len,
            Some(UnpackError::DataUsedBeyondBuffer {
                data_used,
                buffer_len,
            }),
        );
    }
    (used, None)
}
