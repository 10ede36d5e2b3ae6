//! Splitting a wire byte stream into MIDI 1.0 messages, as a receiving
//! device would: running status expanded, real-time bytes (F8–FF) taken out
//! wherever they occur, system exclusive from F0 to F7.

use super::WireByte;

/// One message found on a wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WireMessage {
    /// Start of its first byte on the wire, 100 ns.
    pub time: i64,
    /// Its bytes, status byte included even when the wire used running status.
    pub bytes: Vec<u8>,
    /// False for a message cut short by a new status byte or the end of the
    /// log, and for stray data bytes without a status.
    pub complete: bool,
}

/// Data bytes after a status byte (system exclusive handled apart).
fn data_len(status: u8) -> usize {
    match status {
        0x80..=0xBF | 0xE0..=0xEF | 0xF2 => 2,
        0xC0..=0xDF | 0xF1 | 0xF3 => 1,
        _ => 0,
    }
}

/// The message being assembled.
struct Partial {
    time: i64,
    bytes: Vec<u8>,
    /// Data bytes still expected (ignored for sysex).
    remaining: usize,
}

/// A receiver's parsing state.
#[derive(Default)]
struct Splitter {
    out: Vec<WireMessage>,
    running: Option<u8>,
    partial: Option<Partial>,
    in_sysex: bool,
}

impl Splitter {
    fn emit(&mut self, time: i64, bytes: Vec<u8>, complete: bool) {
        self.out.push(WireMessage {
            time,
            bytes,
            complete,
        });
    }

    /// Emits the message being assembled, if any, as cut short.
    fn flush(&mut self) {
        if let Some(p) = self.partial.take() {
            self.emit(p.time, p.bytes, false);
        }
    }

    fn sysex_start(&mut self, time: i64) {
        self.flush();
        self.running = None;
        self.in_sysex = true;
        self.partial = Some(Partial {
            time,
            bytes: vec![0xF0],
            remaining: 0,
        });
    }

    fn sysex_end(&mut self, time: i64) {
        match self.partial.take() {
            Some(mut p) if self.in_sysex => {
                p.bytes.push(0xF7);
                self.emit(p.time, p.bytes, true);
            }
            partial => {
                self.partial = partial;
                self.flush();
                self.emit(time, vec![0xF7], false);
            }
        }
        self.in_sysex = false;
        self.running = None;
    }

    /// A channel or system common status byte.
    fn status(&mut self, time: i64, byte: u8) {
        self.flush();
        self.in_sysex = false;
        self.running = (byte < 0xF0).then_some(byte);
        let remaining = data_len(byte);
        if remaining == 0 {
            self.emit(time, vec![byte], true);
        } else {
            self.partial = Some(Partial {
                time,
                bytes: vec![byte],
                remaining,
            });
        }
    }

    fn data(&mut self, time: i64, byte: u8) {
        if self.in_sysex {
            if let Some(p) = self.partial.as_mut() {
                p.bytes.push(byte);
            }
            return;
        }
        if self.partial.is_none()
            && let Some(status) = self.running
        {
            self.partial = Some(Partial {
                time,
                bytes: vec![status],
                remaining: data_len(status),
            });
        }
        let Some(p) = self.partial.as_mut() else {
            self.emit(time, vec![byte], false);
            return;
        };
        p.bytes.push(byte);
        p.remaining = p.remaining.saturating_sub(1);
        if p.remaining == 0
            && let Some(p) = self.partial.take()
        {
            self.emit(p.time, p.bytes, true);
        }
    }
}

/// Splits `wire` into messages in the order their first bytes appear (a
/// real-time byte inside a message comes out before that message).
#[must_use]
pub fn split_messages(wire: &[WireByte]) -> Vec<WireMessage> {
    let mut splitter = Splitter::default();
    for &WireByte { time, byte } in wire {
        match byte {
            0xF8..=0xFF => splitter.emit(time, vec![byte], true),
            0xF0 => splitter.sysex_start(time),
            0xF7 => splitter.sysex_end(time),
            0x80..=0xF6 => splitter.status(time, byte),
            0x00..=0x7F => splitter.data(time, byte),
        }
    }
    splitter.flush();
    splitter.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(bytes: &[u8]) -> Vec<WireByte> {
        (0i64..)
            .zip(bytes)
            .map(|(i, &byte)| WireByte { time: i * 10, byte })
            .collect()
    }

    fn split(bytes: &[u8]) -> Vec<(i64, Vec<u8>, bool)> {
        split_messages(&wire(bytes))
            .into_iter()
            .map(|m| (m.time, m.bytes, m.complete))
            .collect()
    }

    #[test]
    fn running_status_is_expanded_with_the_first_data_byte_time() {
        assert_eq!(
            split(&[0x90, 0x3C, 0x40, 0x3E, 0x40, 0xC0, 0x05, 0x06]),
            [
                (0, vec![0x90, 0x3C, 0x40], true),
                (30, vec![0x90, 0x3E, 0x40], true),
                (50, vec![0xC0, 0x05], true),
                (70, vec![0xC0, 0x06], true),
            ]
        );
    }

    #[test]
    fn realtime_inside_a_message_and_sysex() {
        assert_eq!(
            split(&[0x90, 0x3C, 0xF8, 0x40, 0xF0, 0x7E, 0xFE, 0x01, 0xF7]),
            [
                (20, vec![0xF8], true),
                (0, vec![0x90, 0x3C, 0x40], true),
                (60, vec![0xFE], true),
                (40, vec![0xF0, 0x7E, 0x01, 0xF7], true),
            ]
        );
    }

    #[test]
    fn cut_messages_and_stray_bytes_are_incomplete() {
        assert_eq!(
            split(&[0x3C, 0x90, 0x3C, 0x80, 0x3C, 0x40, 0xF7, 0xF1]),
            [
                (0, vec![0x3C], false),
                (10, vec![0x90, 0x3C], false),
                (30, vec![0x80, 0x3C, 0x40], true),
                (60, vec![0xF7], false),
                (70, vec![0xF1], false),
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn every_byte_lands_in_exactly_one_message(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
            let messages = split_messages(&wire(&bytes));
            // Expanded running status adds status bytes; nothing is dropped.
            let status_free: usize = messages.iter().map(|m| m.bytes.len()).sum();
            proptest::prop_assert!(status_free >= bytes.len());
            let data_in: usize = bytes.iter().filter(|&&b| b < 0x80).count();
            let data_out: usize = messages.iter().flat_map(|m| &m.bytes).filter(|&&b| b < 0x80).count();
            proptest::prop_assert_eq!(data_in, data_out);
        }
    }
}
