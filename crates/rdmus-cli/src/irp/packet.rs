//! One IRP's stream header values and data buffer.

use core::fmt;

use crate::cli::PinFormat;

/// What travels in one write IRP: the `KSSTREAM_HEADER` fields that matter
/// and the data buffer it points to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamPacket {
    /// `PresentationTime.Time` in 100 ns units (`Numerator` = `Denominator`
    /// = 1), from the presentation time of the file's tick 0.
    pub presentation_time: i64,
    /// `FrameExtent`: the buffer's size.
    pub frame_extent: u32,
    /// The buffer's used bytes; `data.len()` is `DataUsed`.
    pub data: Vec<u8>,
    /// Records in the buffer.
    pub records: usize,
    /// MIDI bytes the records carry (what reaches the wire).
    pub message_bytes: u64,
    /// The records' format (and with it the pin).
    pub format: PinFormat,
}

/// Why a timeline cannot be turned into buffers of the chosen size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrpError {
    /// The buffer cannot hold one record of a channel message, which must not
    /// be split.
    BufferTooSmall {
        /// The buffer size asked for.
        buffer_size: usize,
        /// The smallest size that holds the message's record.
        needed: usize,
    },
    /// A gap between two records does not fit the record's delta field
    /// (over 49 days in milliseconds).
    DeltaTooLarge {
        /// Index of the message in the timeline.
        message: usize,
    },
}

impl fmt::Display for IrpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall {
                buffer_size,
                needed,
            } => write!(
                f,
                "an IRP buffer of {buffer_size} bytes cannot hold a channel message record ({needed} bytes needed)"
            ),
            Self::DeltaTooLarge { message } => {
                write!(
                    f,
                    "message {message} is too far after the previous one for the record's delta field"
                )
            }
        }
    }
}

impl std::error::Error for IrpError {}
