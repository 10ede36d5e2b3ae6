//! Errors shared by the wire readers and writers.

use core::fmt;

/// Why a record of a buffer could not be read. `offset` is the byte offset of
/// the record's header within the buffer; every record before it is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WireError {
    /// Fewer bytes remain than a record header needs.
    HeaderTruncated {
        /// Offset of the cut header.
        offset: usize,
    },
    /// The header's byte count runs past the end of the buffer.
    DataTruncated {
        /// Offset of the record.
        offset: usize,
        /// Byte count the header claims.
        byte_count: u32,
        /// Bytes actually available after the header.
        available: usize,
    },
    /// The record carries no data bytes.
    EmptyRecord {
        /// Offset of the record.
        offset: usize,
    },
}

impl WireError {
    /// Offset of the faulty record within the buffer.
    #[must_use]
    pub const fn offset(&self) -> usize {
        match *self {
            Self::HeaderTruncated { offset }
            | Self::DataTruncated { offset, .. }
            | Self::EmptyRecord { offset } => offset,
        }
    }
}

impl WireError {
    /// The same error, for a record found at `offset` of an enclosing buffer.
    #[must_use]
    pub const fn at(self, offset: usize) -> Self {
        match self {
            Self::HeaderTruncated { .. } => Self::HeaderTruncated { offset },
            Self::DataTruncated {
                byte_count,
                available,
                ..
            } => Self::DataTruncated {
                offset,
                byte_count,
                available,
            },
            Self::EmptyRecord { .. } => Self::EmptyRecord { offset },
        }
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::HeaderTruncated { offset } => {
                write!(f, "record header at offset {offset} is cut short")
            }
            Self::DataTruncated {
                offset,
                byte_count,
                available,
            } => write!(
                f,
                "record at offset {offset} claims {byte_count} data bytes but only {available} remain"
            ),
            Self::EmptyRecord { offset } => {
                write!(f, "record at offset {offset} has no data bytes")
            }
        }
    }
}

/// Why a writer refused a record; nothing of it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitError {
    /// The buffer has no room left for the record's header and data.
    Full,
    /// The record has no data bytes (readers reject such records).
    Empty,
    /// The data is longer than a record's byte count can express.
    TooLong,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "buffer full",
            Self::Empty => "record without data",
            Self::TooLong => "record data too long",
        })
    }
}
