//! A file's playable content: every MIDI message with its absolute time.

/// What a [`TimedMessage`]'s bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A complete channel voice or mode message (status byte always present:
    /// SMF running status is expanded).
    Channel,
    /// A complete system-exclusive message, `F0 … F7`.
    SysEx,
    /// The first packet of a system-exclusive message split into packets:
    /// starts with `F0`, does not end with `F7`.
    SysExStart,
    /// A further packet of a split system-exclusive message (from an SMF `F7`
    /// event); the last one ends with `F7`.
    SysExContinuation,
    /// Bytes from an SMF `F7` "escape" event outside a split message, sent as
    /// they are (real-time or song-position messages, for example).
    Escape,
}

impl MessageKind {
    /// True for a complete channel message, the only kind a DirectMusic
    /// buffer marks `DMUS_EVENT_STRUCTURED`.
    #[must_use]
    pub const fn is_structured(self) -> bool {
        matches!(self, Self::Channel)
    }
}

/// One message to put on the wire at `time`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimedMessage {
    /// Absolute time in 100 ns units from the file's tick 0.
    pub time: u64,
    /// The track (0-based, in file order) the message came from.
    pub track: u16,
    /// What the bytes are.
    pub kind: MessageKind,
    /// The bytes as they go on the MIDI wire.
    pub bytes: Vec<u8>,
}

/// Standard MIDI File format, as declared in the header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmfFormat {
    /// Format 0: one track.
    SingleTrack,
    /// Format 1: tracks play together and share one tempo map.
    Parallel,
    /// Format 2: independent tracks, played one after another (see
    /// [`crate::read_smf`]).
    Sequential,
}

/// Something odd but harmless found while reading a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SmfWarning {
    /// Bytes after the last chunk, too few to be a chunk, were ignored.
    TrailingBytes {
        /// File offset of the first ignored byte.
        offset: usize,
        /// How many bytes were ignored.
        len: usize,
    },
    /// A chunk that is not `MTrk` was skipped, as the SMF spec requires.
    UnknownChunk {
        /// Its four-byte type, e.g. `*b"Junk"`.
        id: [u8; 4],
        /// File offset of its header.
        offset: usize,
    },
    /// `MTrk` chunks beyond the header's track count were ignored.
    ExtraTracks {
        /// Tracks the header declares.
        declared: u16,
        /// Tracks found.
        found: usize,
    },
    /// A data byte followed a meta or sysex event, continuing the channel
    /// running status from before it. The SMF spec says those events cancel
    /// running status; players commonly keep it, and so does rdmus.
    RunningStatusAcrossMeta {
        /// Track (0-based).
        track: u16,
        /// File offset of the event that relied on it.
        offset: usize,
    },
    /// A split sysex message was never finished with `F7` before the track (or
    /// a new `F0`) began; its packets were kept as they are.
    UnterminatedSysEx {
        /// Track (0-based).
        track: u16,
    },
    /// Events followed the track's End-of-Track meta event, which the SMF
    /// spec makes the last event: they were ignored (not played, and the
    /// track ends at its End-of-Track).
    EventsAfterEndOfTrack {
        /// Track (0-based).
        track: u16,
        /// Events ignored.
        count: usize,
    },
    /// A Set Tempo of 0 µs per quarter note (every later tick at one instant):
    /// ignored, the tempo before it stays.
    ZeroTempo {
        /// Track (0-based).
        track: u16,
        /// Its tick.
        tick: u64,
    },
}

impl core::fmt::Display for SmfWarning {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::TrailingBytes { offset, len } => {
                write!(
                    f,
                    "{len} byte(s) after the last chunk, at byte {offset:#X}, ignored"
                )
            }
            Self::UnknownChunk { id, offset } => {
                write!(
                    f,
                    "chunk {:?} at byte {offset:#X} is not a track; skipped",
                    String::from_utf8_lossy(id)
                )
            }
            Self::ExtraTracks { declared, found } => {
                write!(
                    f,
                    "{found} track chunks but the header declares {declared}; the extra ones are ignored"
                )
            }
            Self::RunningStatusAcrossMeta { track, offset } => write!(
                f,
                "track {track}, byte {offset:#X}: running status continues across a meta or sysex event"
            ),
            Self::UnterminatedSysEx { track } => {
                write!(f, "track {track}: a split sysex message never ends with F7")
            }
            Self::EventsAfterEndOfTrack { track, count } => write!(
                f,
                "track {track}: {count} event(s) after End-of-Track ignored (End-of-Track must be last)"
            ),
            Self::ZeroTempo { track, tick } => write!(
                f,
                "track {track}, tick {tick}: Set Tempo of 0 us per quarter ignored; the tempo before it stays"
            ),
        }
    }
}

/// A file's messages in time order (stable: equal times keep file order).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The declared format.
    pub format: SmfFormat,
    /// `MTrk` chunks read.
    pub tracks: u16,
    /// Every message, in time order.
    pub messages: Vec<TimedMessage>,
    /// The end of the file in 100 ns: the latest track end, End-of-Track
    /// delta included.
    pub end_time: u64,
    /// Odd things that did not stop the reading.
    pub warnings: Vec<SmfWarning>,
}

impl Timeline {
    /// An empty timeline (nothing read yet).
    #[must_use]
    pub const fn empty(format: SmfFormat) -> Self {
        Self {
            format,
            tracks: 0,
            messages: Vec::new(),
            end_time: 0,
            warnings: Vec::new(),
        }
    }

    /// Total message bytes.
    #[must_use]
    pub fn byte_count(&self) -> usize {
        self.messages.iter().map(|m| m.bytes.len()).sum()
    }
}
