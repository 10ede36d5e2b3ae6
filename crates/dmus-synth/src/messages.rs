//! The channel messages in an event's bytes: what the synth plays of a MIDI event (running
//! status allowed; system messages and stray data bytes skipped).

/// One channel message: its status and up to two data bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Message {
    bytes: [u8; 3],
    len: usize,
}

impl Message {
    /// The message's bytes, status first.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// The channel messages in an event's bytes (running status allowed; system messages and
/// stray data bytes skipped).
pub struct Messages<'a> {
    bytes: &'a [u8],
    at: usize,
    status: Option<u8>,
}

impl<'a> Messages<'a> {
    /// Messages in `bytes`.
    #[must_use]
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            at: 0,
            status: None,
        }
    }
}

impl Iterator for Messages<'_> {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        // Each turn consumes at least one byte: bounded by the event's length.
        while let Some(&byte) = self.bytes.get(self.at) {
            if byte >= 0xF0 {
                // System messages are not for the synth. System common ones (0xF0..=0xF7)
                // end running status and their data bytes are skipped as strays; realtime
                // ones (0xF8..) may sit anywhere and change nothing.
                if byte < 0xF8 {
                    self.status = None;
                }
                self.at += 1;
                continue;
            }
            let status = if byte >= 0x80 {
                self.at += 1;
                self.status = Some(byte);
                byte
            } else if let Some(status) = self.status {
                status
            } else {
                self.at += 1;
                continue;
            };
            let data = if matches!(status & 0xF0, 0xC0 | 0xD0) {
                1
            } else {
                2
            };
            let Some(payload) = self.bytes.get(self.at..self.at + data) else {
                self.at = self.bytes.len();
                return None;
            };
            if let Some(cut) = payload.iter().position(|&b| b >= 0x80) {
                // A status byte where data was due: the message is cut short. Drop it and
                // read on from that status byte.
                self.at += cut;
                continue;
            }
            self.at += data;
            let mut bytes = [status, 0, 0];
            bytes[1..=data].copy_from_slice(payload);
            return Some(Message {
                bytes,
                len: 1 + data,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::Messages;

    #[test]
    fn messages_are_split_and_system_bytes_skipped() {
        let bytes = [0x90, 60, 100, 0xF8, 0x80, 60, 0, 0xC0, 5, 0xF7, 0x40];
        let found: std::vec::Vec<std::vec::Vec<u8>> =
            Messages::new(&bytes).map(|m| m.bytes().to_vec()).collect();
        assert_eq!(found, [&[0x90, 60, 100][..], &[0x80, 60, 0], &[0xC0, 5]]);
        let running: std::vec::Vec<std::vec::Vec<u8>> = Messages::new(&[0x90, 60, 100, 62, 90])
            .map(|m| m.bytes().to_vec())
            .collect();
        assert_eq!(running, [[0x90, 60, 100], [0x90, 62, 90]], "running status");
        assert_eq!(
            Messages::new(&[0x90, 60]).count(),
            0,
            "a cut message is dropped"
        );
        assert_eq!(
            Messages::new(&[60, 100]).count(),
            0,
            "no status, no message"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_give_whole_channel_messages(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut consumed = 0;
            for message in Messages::new(&bytes) {
                let m = message.bytes();
                proptest::prop_assert!((0x80..0xF0).contains(&m[0]));
                let data = if matches!(m[0] & 0xF0, 0xC0 | 0xD0) { 1 } else { 2 };
                proptest::prop_assert_eq!(m.len(), 1 + data);
                proptest::prop_assert!(m[1..].iter().all(|&b| b < 0x80));
                consumed += data;
            }
            proptest::prop_assert!(consumed <= bytes.len());
        }
    }
}
