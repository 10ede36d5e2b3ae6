//! Why a file could not be read completely.

use core::fmt;

use crate::timeline::Timeline;

/// What is wrong with a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmfFault {
    /// The file has no bytes at all.
    Empty,
    /// The file does not start with an `MThd` chunk.
    NotSmf {
        /// Up to its first four bytes.
        starts_with: Vec<u8>,
    },
    /// The `MThd` chunk is unreadable (midly's reason).
    BadHeader {
        /// What is wrong.
        reason: String,
    },
    /// The header's division is zero ticks per quarter note or per frame.
    ZeroDivision,
    /// A format 0 file must have exactly one track.
    Format0TrackCount {
        /// Tracks the header declares.
        declared: u16,
    },
    /// The file ends inside a track chunk.
    TruncatedTrack {
        /// Track (0-based).
        track: u16,
        /// File offset of the chunk header.
        offset: usize,
        /// Length the chunk header declares.
        declared_len: u32,
        /// Bytes actually present.
        present: usize,
    },
    /// An event midly cannot read.
    BadEvent {
        /// Track (0-based).
        track: u16,
        /// 0-based event index within the track.
        event_index: usize,
        /// File offset of the event.
        offset: usize,
        /// What is wrong.
        reason: String,
    },
    /// Fewer `MTrk` chunks than the header declares.
    MissingTracks {
        /// Tracks the header declares.
        declared: u16,
        /// Tracks found.
        found: usize,
    },
    /// An event's time does not fit in 64 bits of 100 ns.
    TimeOverflow {
        /// Track (0-based).
        track: u16,
    },
}

impl fmt::Display for SmfFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("the file is empty"),
            Self::NotSmf { starts_with } => {
                write!(
                    f,
                    "not a Standard MIDI File: it starts with {starts_with:02X?}, not \"MThd\""
                )
            }
            Self::BadHeader { reason } => write!(f, "unreadable MThd header: {reason}"),
            Self::ZeroDivision => f.write_str("the header's division is zero (no tick length)"),
            Self::Format0TrackCount { declared } => {
                write!(
                    f,
                    "format 0 allows exactly one track, but the header declares {declared}"
                )
            }
            Self::TruncatedTrack {
                track,
                offset,
                declared_len,
                present,
            } => write!(
                f,
                "track {track} (chunk at byte {offset:#X}) declares {declared_len} bytes, but the file ends after {present}"
            ),
            Self::BadEvent {
                track,
                event_index,
                offset,
                reason,
            } => {
                write!(
                    f,
                    "track {track}, event {event_index} at byte {offset:#X}: {reason}"
                )
            }
            Self::MissingTracks { declared, found } => {
                write!(
                    f,
                    "the header declares {declared} tracks, but the file has {found}"
                )
            }
            Self::TimeOverflow { track } => write!(
                f,
                "track {track} lasts too long to be timed in 100 ns units"
            ),
        }
    }
}

/// A file that could not be read completely: the fault, and every message
/// read before it (so nothing valid is lost).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmfError {
    /// What is wrong.
    pub fault: SmfFault,
    /// Every message read before the fault (empty for header faults).
    pub kept: Timeline,
}

impl fmt::Display for SmfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.fault)?;
        if !self.kept.messages.is_empty() {
            write!(
                f,
                " ({} messages before the fault were read)",
                self.kept.messages.len()
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for SmfError {}
