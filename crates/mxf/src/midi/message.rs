//! Facts about MIDI 1.0 status bytes (MIDI 1.0 Detailed Specification,
//! "Summary of MIDI Messages").

/// `0xF0`: start of system exclusive.
pub const SYSEX_START: u8 = 0xF0;
/// `0xF7`: end of system exclusive.
pub const SYSEX_END: u8 = 0xF7;

/// The full length (status byte included) of a message that starts with
/// `status`, or `None` for bytes that do not start a fixed-length message
/// (data bytes, sysex start/end, undefined `F4`/`F5`/`F9`/`FD`).
#[must_use]
pub const fn message_len(status: u8) -> Option<usize> {
    match status {
        0x80..=0xBF | 0xE0..=0xEF | 0xF2 => Some(3),
        0xC0..=0xDF | 0xF1 | 0xF3 => Some(2),
        0xF6 | 0xF8 | 0xFA..=0xFC | 0xFE | 0xFF => Some(1),
        _ => None,
    }
}

/// Whether `byte` is a system realtime byte (`F8`–`FF`, undefined ones
/// included), which may appear anywhere, even inside other messages.
#[must_use]
pub const fn is_realtime(byte: u8) -> bool {
    byte >= 0xF8
}

/// Whether `byte` is one of the undefined status bytes `F4`, `F5`, `F9`, `FD`.
#[must_use]
pub const fn is_undefined(byte: u8) -> bool {
    matches!(byte, 0xF4 | 0xF5 | 0xF9 | 0xFD)
}

/// Whether `bytes` is exactly one complete short message (channel, system
/// common or realtime) with its status byte.
#[must_use]
pub fn is_complete_short_message(bytes: &[u8]) -> bool {
    match bytes.split_first() {
        Some((&status, data)) => {
            message_len(status) == Some(bytes.len()) && data.iter().all(|&b| b < 0x80)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_follow_the_midi_summary_table() {
        assert_eq!(message_len(0x90), Some(3));
        assert_eq!(message_len(0xC5), Some(2));
        assert_eq!(message_len(0xD0), Some(2));
        assert_eq!(message_len(0xE1), Some(3));
        assert_eq!(message_len(0xF1), Some(2));
        assert_eq!(message_len(0xF2), Some(3));
        assert_eq!(message_len(0xF3), Some(2));
        assert_eq!(message_len(0xF6), Some(1));
        assert_eq!(message_len(0xF8), Some(1));
        for b in [0x00, 0x7F, 0xF0, 0xF4, 0xF5, 0xF7, 0xF9, 0xFD] {
            assert_eq!(message_len(b), None, "{b:#x}");
        }
        assert!(is_complete_short_message(&[0x90, 1, 2]));
        assert!(!is_complete_short_message(&[0x90, 1]));
        assert!(!is_complete_short_message(&[0x90, 1, 0x80]));
        assert!(!is_complete_short_message(&[]));
        assert!(is_undefined(0xFD) && !is_undefined(0xFE));
    }
}
