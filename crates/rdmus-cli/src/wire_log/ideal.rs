//! The ideal wire: what a perfect device would put on the MIDI cable.

use smf::Timeline;

/// One byte on the wire, from its start bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireByte {
    /// Start of the byte in 100 ns units, from the presentation time of the
    /// file's tick 0 (negative only in a log of a device that ran early).
    pub time: i64,
    /// The byte.
    pub byte: u8,
}

/// One byte at 31,250 baud, 8-N-1 (10 bits): 320 µs in 100 ns units.
pub const BYTE_TIME_100NS: i64 = 3_200;

/// The ideal wire for `timeline`: each message starts at the later of its
/// presentation time and the end of the previous message, and its bytes
/// follow back to back, one every 320 µs. Status bytes are always sent (no
/// running status), as the timeline holds them.
#[must_use]
pub fn ideal_wire(timeline: &Timeline) -> Vec<WireByte> {
    let mut wire = Vec::with_capacity(timeline.byte_count());
    let mut free_at: i64 = 0;
    for message in &timeline.messages {
        let due = i64::try_from(message.time).unwrap_or(i64::MAX);
        let mut at = due.max(free_at);
        for &byte in &message.bytes {
            wire.push(WireByte { time: at, byte });
            at = at.saturating_add(BYTE_TIME_100NS);
        }
        free_at = at;
    }
    wire
}

#[cfg(test)]
mod tests {
    use super::*;
    use smf::{MessageKind, SmfFormat, TimedMessage};

    #[test]
    fn messages_queue_behind_each_other() {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        for (time, bytes) in [
            (0u64, vec![0x90, 0x3C, 0x40]),
            (0, vec![0x90, 0x40, 0x40]),
            (100_000, vec![0xC0, 0x01]),
        ] {
            t.messages.push(TimedMessage {
                time,
                track: 0,
                kind: MessageKind::Channel,
                bytes,
            });
        }
        let wire = ideal_wire(&t);
        let times: Vec<i64> = wire.iter().map(|b| b.time).collect();
        // The chord's second note waits for the first (0.96 ms); the program
        // change at 10 ms finds the wire free.
        assert_eq!(
            times,
            [0, 3_200, 6_400, 9_600, 12_800, 16_000, 100_000, 103_200]
        );
        assert_eq!(wire[3].byte, 0x90);
    }
}
