//! The capture parser agrees with an independent decoder, midly's
//! `stream::MidiStream`, on random byte streams with realtime bytes
//! interleaved anywhere.
//!
//! The two differ by design in three places, which the comparison maps out:
//! - the order of realtime bytes relative to other messages: midly reports a
//!   realtime byte the moment it arrives, even inside another message, and a
//!   system common or sysex message only when the next status byte arrives;
//!   ours reports a realtime byte that interrupts a message right after that
//!   message, and one inside sysex between two sysex pieces, so that the sink
//!   sees times in order. Both orders carry the same information: each item
//!   has its own time (a realtime byte the time it arrived, a message the time
//!   of its first byte), so either list sorted by time is the same stream.
//!   The messages and the realtime bytes are therefore compared as two lists,
//!   each in arrival order, and every realtime byte with its arrival time
//!   (midly's is the position where it reported it). On top, our items must
//!   come in time order (unless the parser counted a realtime byte released
//!   early: more than `REALTIME_HOLD_CAPACITY` inside one message);
//! - midly reports the undefined status bytes (`F4`, `F5` as
//!   `SystemCommon::Undefined`, `F9`, `FD` as undefined realtime) and truncated
//!   system common messages (also as `Undefined`); our parser drops them (the
//!   MIDI specification asks receivers to ignore undefined status), so those
//!   midly events are filtered out;
//! - midly does not tell a sysex ended by `F7` from one cut short by another
//!   status byte; both parsers' sysex are compared as their data bytes.
//!
//! Every stream ends with an `F4`, which makes midly report what it still holds
//! and makes ours close an open sysex, without adding a message to either.

#![allow(missing_docs)] // Test crate.

use midly::live::{LiveEvent, SystemCommon, SystemRealtime};
use midly::stream::MidiStream;
use mxf::midi::{Parsed, Parser, SysExEnd};
use proptest::prelude::*;

#[derive(Debug, PartialEq, Eq)]
enum Msg {
    Short(Vec<u8>),
    SysEx(Vec<u8>),
}

/// Our messages, and our realtime bytes with their times; times are byte
/// positions.
fn ours(bytes: &[u8]) -> (Vec<Msg>, Vec<(u8, i64)>) {
    let mut parser = Parser::<16>::new();
    let mut msgs = Vec::new();
    let mut realtime = Vec::new();
    let mut sysex = Vec::new();
    let mut last_time = 0;
    let mut backwards = 0;
    let byte_at = |time: i64| bytes[usize::try_from(time).unwrap()];
    for (i, &b) in bytes.iter().enumerate() {
        let now = i64::try_from(i).unwrap();
        parser.feed(b, now, &mut |item| {
            let time = match item {
                Parsed::Message { time, .. }
                | Parsed::Realtime { time, .. }
                | Parsed::SysEx { time, .. } => time,
            };
            assert!(time <= now);
            if time < last_time {
                backwards += 1;
            }
            last_time = last_time.max(time);
            match item {
                Parsed::Message { bytes, time } => {
                    // Stamped at its own first byte: the status byte, or the
                    // first data byte under running status.
                    let first = byte_at(time);
                    assert!(first == bytes[0] || (first < 0x80 && first == bytes[1]));
                    msgs.push(Msg::Short(bytes.to_vec()));
                }
                Parsed::Realtime { byte, time } => {
                    assert_eq!(byte_at(time), byte, "stamped at its own arrival");
                    realtime.push((byte, time));
                }
                Parsed::SysEx {
                    bytes, first, end, ..
                } => {
                    if first {
                        assert_eq!(bytes.first(), Some(&0xF0));
                        assert_eq!(byte_at(time), 0xF0);
                        sysex.clear();
                    }
                    sysex.extend_from_slice(bytes);
                    if end != SysExEnd::Continues {
                        let mut data: &[u8] = &sysex[1..];
                        if end == SysExEnd::Terminated {
                            assert_eq!(data.last(), Some(&0xF7));
                            data = &data[..data.len() - 1];
                        }
                        assert!(data.iter().all(|&b| b < 0x80));
                        msgs.push(Msg::SysEx(data.to_vec()));
                    }
                }
            }
        });
    }
    if parser.stats().realtime_released_early == 0 {
        assert_eq!(backwards, 0, "items out of time order");
    }
    assert_eq!(
        parser.held_realtime(),
        0,
        "the final F4 releases held bytes"
    );
    (msgs, realtime)
}

/// midly's messages, and its realtime bytes with the position where it
/// reported them (fed one byte at a time).
fn theirs(bytes: &[u8]) -> (Vec<Msg>, Vec<(u8, i64)>) {
    let mut stream = MidiStream::new();
    let mut msgs = Vec::new();
    let mut realtime = Vec::new();
    for (i, byte) in bytes.iter().enumerate() {
        let now = i64::try_from(i).unwrap();
        stream.feed(std::slice::from_ref(byte), |ev| match ev {
            LiveEvent::Realtime(SystemRealtime::Undefined(_))
            | LiveEvent::Common(SystemCommon::Undefined(..)) => {}
            LiveEvent::Realtime(rt) => realtime.push((rt.encode(), now)),
            LiveEvent::Common(SystemCommon::SysEx(data)) => {
                msgs.push(Msg::SysEx(data.iter().map(|b| b.as_int()).collect()));
            }
            other => {
                let mut out = Vec::new();
                other.write(&mut out).unwrap();
                msgs.push(Msg::Short(out));
            }
        });
    }
    (msgs, realtime)
}

/// Bytes weighted towards meaningful streams: data bytes, channel status,
/// system common, sysex start/end, realtime and undefined bytes.
fn midi_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        8 => 0x00u8..0x80,
        3 => 0x80u8..0xF0,
        1 => prop::sample::select(vec![0xF0u8, 0xF7]),
        1 => prop::sample::select(vec![0xF1u8, 0xF2, 0xF3, 0xF6]),
        1 => 0xF8u8..=0xFF,
        1 => prop::sample::select(vec![0xF4u8, 0xF5]),
    ]
}

fn compare(bytes: &[u8]) {
    let mut stream = bytes.to_vec();
    stream.push(0xF4);
    let (our_msgs, our_rt) = ours(&stream);
    let (their_msgs, their_rt) = theirs(&stream);
    assert_eq!(our_msgs, their_msgs, "messages differ for {bytes:02x?}");
    assert_eq!(our_rt, their_rt, "realtime bytes differ for {bytes:02x?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn agrees_with_midly_on_random_streams(bytes in prop::collection::vec(midi_byte(), 0..200)) {
        compare(&bytes);
    }

    /// Valid messages with realtime bytes spliced in at random places.
    #[test]
    fn agrees_with_midly_on_valid_streams_with_realtime(
        notes in prop::collection::vec((0x80u8..0xF0, 0u8..0x80, 0u8..0x80, any::<bool>()), 0..40),
        sysex in prop::collection::vec(0u8..0x80, 0..40),
        realtime in prop::collection::vec((any::<prop::sample::Index>(), prop::sample::select(vec![0xF8u8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF, 0xF9, 0xFD])), 0..30),
    ) {
        let mut bytes = Vec::new();
        let mut running = None;
        for (status, a, b, use_running) in notes {
            if !(use_running && running == Some(status)) {
                bytes.push(status);
            }
            running = Some(status);
            bytes.push(a);
            if !(0xC0..0xE0).contains(&status) {
                bytes.push(b);
            }
        }
        bytes.push(0xF0);
        bytes.extend_from_slice(&sysex);
        bytes.push(0xF7);
        for (index, rt) in realtime {
            let at = index.index(bytes.len() + 1);
            bytes.insert(at, rt);
        }
        compare(&bytes);
    }
}

#[test]
fn agrees_on_hand_picked_edge_cases() {
    for case in [
        &[0x90, 0x3C, 0x40, 0x3E, 0x40][..],
        &[0xF0, 1, 2, 0x90, 1, 2],
        &[0xF2, 1, 0xF8, 2, 3, 4],
        &[0xF7, 1, 2, 0x80, 1, 2],
        &[0xF1, 0xF2, 0xF3, 1],
        &[0xF0, 0xF0, 1, 0xF7, 1],
        &[0xC0, 1, 2, 3, 0xF9, 4],
        &[0xB0, 0x07, 0xF8, 0x5A],
        &[0x90, 0xF8, 1, 0xFE, 2, 3, 0xF8, 4],
        &[0xF2, 1, 0xF8, 0x80, 1, 2],
        &[0xF0, 0xF8, 1, 0xFA, 0xF7],
        &[0xF0, 1, 0xF8, 0x90, 1, 2],
    ] {
        compare(case);
    }
    // A message stalled behind more clock bytes than the parser holds.
    let mut stalled = vec![0x90];
    stalled.extend([0xF8; 40]);
    stalled.extend([1, 2]);
    compare(&stalled);
}
