//! `rdmus inspect`: what a file would send, without a device.

use core::fmt;

use crate::irp::{DEFAULT_CHANNEL_GROUP, IrpError, build_dmus, build_ksmusic};
use crate::wire_log::{BYTE_TIME_100NS, ideal_wire};
use smf::{MessageKind, SmfFormat, Timeline};

/// The numbers `rdmus inspect` prints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The declared format.
    pub format: SmfFormat,
    /// Tracks read.
    pub tracks: u16,
    /// Messages (events sent to the device).
    pub messages: usize,
    /// Of those, channel messages.
    pub channel_messages: usize,
    /// Message bytes.
    pub bytes: usize,
    /// End of the file (End of Track included), 100 ns.
    pub duration: u64,
    /// When the ideal wire's last byte ends, 100 ns (0 for no bytes).
    pub wire_end: i64,
    /// The most any message's first byte waits behind its presentation time
    /// on the ideal wire (bandwidth alone), 100 ns.
    pub wire_max_wait: i64,
    /// The buffer size the IRP counts are for.
    pub irp_size: u32,
    /// IRPs for the legacy pin (`KSMUSICFORMAT`).
    pub ksmusic_irps: usize,
    /// IRPs for the DirectMusic pin (`DMUS_EVENTHEADER`).
    pub dmus_irps: usize,
    /// Warnings, as text.
    pub warnings: Vec<String>,
}

impl Summary {
    /// Computes the summary of `timeline` with IRP buffers of `irp_size` bytes.
    ///
    /// # Errors
    /// [`IrpError`] when the buffer size cannot carry the file.
    pub fn new(timeline: &Timeline, irp_size: u32) -> Result<Self, IrpError> {
        let wire = ideal_wire(timeline);
        let mut wire_max_wait = 0;
        let mut byte = 0;
        for message in &timeline.messages {
            if let Some(first) = wire.get(byte) {
                let due = i64::try_from(message.time).unwrap_or(i64::MAX);
                wire_max_wait = wire_max_wait.max(first.time.saturating_sub(due));
            }
            byte += message.bytes.len();
        }
        Ok(Self {
            format: timeline.format,
            tracks: timeline.tracks,
            messages: timeline.messages.len(),
            channel_messages: timeline
                .messages
                .iter()
                .filter(|m| m.kind == MessageKind::Channel)
                .count(),
            bytes: timeline.byte_count(),
            duration: timeline.end_time,
            wire_end: wire
                .last()
                .map_or(0, |b| b.time.saturating_add(BYTE_TIME_100NS)),
            wire_max_wait,
            irp_size,
            ksmusic_irps: build_ksmusic(timeline, irp_size)?.len(),
            dmus_irps: build_dmus(timeline, irp_size, DEFAULT_CHANNEL_GROUP)?.len(),
            warnings: timeline.warnings.iter().map(ToString::to_string).collect(),
        })
    }
}

/// Seconds with microsecond precision from 100 ns units.
struct Seconds(i128);

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let us = self.0.unsigned_abs() / 10;
        write!(f, "{sign}{}.{:06} s", us / 1_000_000, us % 1_000_000)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = match self.format {
            SmfFormat::SingleTrack => "0 (single track)",
            SmfFormat::Parallel => "1 (parallel tracks)",
            SmfFormat::Sequential => "2 (sequential tracks, played one after another)",
        };
        writeln!(f, "format:      {format}, {} track(s)", self.tracks)?;
        writeln!(
            f,
            "events:      {} ({} channel, {} sysex/escape), {} bytes",
            self.messages,
            self.channel_messages,
            self.messages - self.channel_messages,
            self.bytes
        )?;
        writeln!(f, "duration:    {}", Seconds(i128::from(self.duration)))?;
        writeln!(
            f,
            "ideal wire:  {} bytes at 320 us each, ends at {}, longest wait behind presentation time {}",
            self.bytes,
            Seconds(i128::from(self.wire_end)),
            Seconds(i128::from(self.wire_max_wait))
        )?;
        writeln!(
            f,
            "IRPs:        {} KSMUSICFORMAT (legacy pin), {} DMUS_EVENTHEADER (DirectMusic pin), {}-byte buffers",
            self.ksmusic_irps, self.dmus_irps, self.irp_size
        )?;
        for warning in &self.warnings {
            writeln!(f, "warning:     {warning}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smf::TimedMessage;

    #[test]
    fn chord_waits_on_the_wire() {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        t.tracks = 1;
        t.end_time = 10_000_000;
        for key in [0x3C, 0x40, 0x43] {
            t.messages.push(TimedMessage {
                time: 0,
                track: 0,
                kind: MessageKind::Channel,
                bytes: vec![0x90, key, 0x40],
            });
        }
        let summary = Summary::new(&t, 4096).unwrap();
        assert_eq!(summary.bytes, 9);
        assert_eq!(summary.wire_end, 9 * 3_200);
        assert_eq!(
            summary.wire_max_wait,
            6 * 3_200,
            "the third note waits for six bytes"
        );
        assert_eq!((summary.ksmusic_irps, summary.dmus_irps), (1, 1));
        let text = summary.to_string();
        assert!(text.contains("duration:    1.000000 s"), "{text}");
        assert!(
            text.contains("ends at 0.002880 s, longest wait behind presentation time 0.001920 s"),
            "{text}"
        );
    }

    #[test]
    fn warnings_print_in_words() {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        t.warnings.push(smf::SmfWarning::UnknownChunk {
            id: *b"Junk",
            offset: 14,
        });
        t.warnings.push(smf::SmfWarning::TrailingBytes {
            offset: 275,
            len: 1,
        });
        let text = Summary::new(&t, 4096).unwrap().to_string();
        assert!(
            text.contains("warning:     chunk \"Junk\" at byte 0xE is not a track; skipped"),
            "{text}"
        );
        assert!(
            text.contains("warning:     1 byte(s) after the last chunk, at byte 0x113, ignored"),
            "{text}"
        );
    }

    #[test]
    fn negative_seconds_print_with_a_sign() {
        assert_eq!(Seconds(-15).to_string(), "-0.000001 s");
    }
}
