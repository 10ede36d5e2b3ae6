//! Recording through the driver's capture pin against an independent
//! decoder: the same byte stream, with times, fed to midly's stream parser
//! (`midly::stream::MidiStream`) gives the same messages, each at the time
//! of its first byte. Streams use running status, real-time bytes inside
//! sysex and between messages, and inside channel messages.

use midly::live::LiveEvent;
use midly::stream::MidiStream;

use rdmus_cli::sim::{CaptureFormat, SimConfig, capture, join_sysex};
use rdmus_cli::wire_log::{BYTE_TIME_100NS, WireByte};

/// (first byte's start time, bytes) per message, as midly decodes `input`.
fn midly_messages(input: &[WireByte]) -> Vec<(i64, Vec<u8>)> {
    let mut stream = MidiStream::new();
    let mut out = Vec::new();
    // Start of the message being received (status byte, or first data byte
    // of a running-status message).
    let mut start: Option<i64> = None;
    for &WireByte { time, byte } in input {
        let mut emitted = Vec::new();
        stream.feed(&[byte], |event: LiveEvent| {
            let mut bytes = Vec::new();
            event.write_std(&mut bytes).unwrap();
            emitted.push(bytes);
        });
        match byte {
            0xF8..=0xFF => out.extend(emitted.into_iter().map(|b| (time, b))),
            0x80..=0xF7 => {
                // A status byte ends the previous message (sysex, tune request).
                let previous = start.unwrap_or(time);
                out.extend(emitted.into_iter().map(|b| (previous, b)));
                start = Some(time);
            }
            _ => {
                let first = *start.get_or_insert(time);
                if !emitted.is_empty() {
                    out.extend(emitted.into_iter().map(|b| (first, b)));
                    start = None;
                }
            }
        }
    }
    out
}

/// A byte stream with running status, real-time bytes between messages and
/// inside a sysex, a tune request, and gaps.
fn scenario() -> Vec<WireByte> {
    let groups: [(i64, &[u8]); 7] = [
        (10_000, &[0x90, 60, 100, 62, 100, 64, 100]),
        (60_000, &[0xB0, 7, 90, 0xF8]),
        (90_000, &[0xF0, 0x7E, 0x7F, 0xF8, 0x09, 0xFE, 0x01, 0xF7]),
        (150_000, &[0xF6]),
        (151_000, &[0xE0, 0, 64, 10, 70, 0x7F, 0x7F]),
        (400_000, &[0xFA, 0xC3, 5, 6]),
        (420_000, &[0x80, 60, 0, 62, 0, 64, 0]),
    ];
    let mut out = Vec::new();
    for (start, bytes) in groups {
        let mut at = start;
        for &byte in bytes {
            out.push(WireByte { time: at, byte });
            at += BYTE_TIME_100NS;
        }
    }
    out
}

/// A pseudo-random stream (xorshift, `seed`): channel messages that use
/// running status or not, real-time bytes between messages and inside sysex
/// (and inside channel messages if `realtime_in_messages`), sysex messages,
/// gaps of 0 to 3 ms between bytes.
fn random_stream(seed: u64, messages: usize, realtime_in_messages: bool) -> Vec<WireByte> {
    let mut state = seed;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let mut bytes = Vec::new();
    let mut running: Option<u8> = None;
    for _ in 0..messages {
        match next(10) {
            0 => {
                bytes.push(0xF0);
                for _ in 0..next(40) {
                    bytes.push(u8::try_from(next(128)).unwrap());
                    if next(8) == 0 {
                        bytes.push(0xF8);
                    }
                }
                bytes.push(0xF7);
                running = None;
            }
            1 => bytes.push([0xF8, 0xFA, 0xFC, 0xFE][usize::try_from(next(4)).unwrap()]),
            _ => {
                let status = 0x80 | u8::try_from(next(0x70)).unwrap();
                let status = if status >= 0xF0 { 0x90 } else { status };
                if running != Some(status) || next(3) == 0 {
                    bytes.push(status);
                }
                running = Some(status);
                let data = if matches!(status & 0xF0, 0xC0 | 0xD0) {
                    1
                } else {
                    2
                };
                for _ in 0..data {
                    bytes.push(u8::try_from(next(128)).unwrap());
                    if realtime_in_messages && next(12) == 0 {
                        bytes.push(0xF8);
                    }
                }
            }
        }
    }
    let mut at = 20_000;
    bytes
        .into_iter()
        .map(|byte| {
            let wire = WireByte { time: at, byte };
            at += BYTE_TIME_100NS + i64::try_from(next(4) * next(7_500)).unwrap();
            wire
        })
        .collect()
}

/// Records `input` in `format` and compares with midly, allowing
/// `tolerance` (100 ns) on each time; returns the worst difference.
fn check(input: &[WireByte], format: CaptureFormat, tolerance: i64) -> i64 {
    let run = capture(input, format, &SimConfig::default()).expect("the driver captures");
    assert!(run.rig.findings.is_empty(), "{:#?}", run.rig.findings);
    assert_eq!(run.rig.input_lost, 0);
    assert_eq!(run.unreadable, 0);
    let mut captured: Vec<(i64, Vec<u8>)> = join_sysex(&run.records)
        .into_iter()
        .map(|m| (m.time, m.bytes))
        .collect();
    let mut expected = midly_messages(input);
    // Real-time bytes inside a message come out of the two in different
    // orders (midly: when they arrive; the driver: after the message they
    // interrupt, or beside its pieces): compare in time order.
    captured.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    expected.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    let bytes = |list: &[(i64, Vec<u8>)]| {
        let mut all: Vec<Vec<u8>> = list.iter().map(|m| m.1.clone()).collect();
        all.sort();
        all
    };
    assert_eq!(
        bytes(&captured),
        bytes(&expected),
        "{format:?}: the same messages"
    );
    // Pair them up by bytes, in time order, and compare times.
    let mut worst = 0;
    let mut pending = expected.clone();
    for (time, message) in &captured {
        let at = pending
            .iter()
            .position(|(_, b)| b == message)
            .expect("matched above");
        let (want, _) = pending.remove(at);
        let difference = time - want;
        worst = worst.max(difference.abs());
        assert!(
            difference.abs() <= tolerance,
            "{format:?}: {message:02x?} captured at {time}, midly says {want}"
        );
    }
    println!(
        "{format:?}: {} messages from {} bytes, worst time difference {} x 100 ns",
        captured.len(),
        input.len(),
        worst
    );
    worst
}

#[test]
fn the_scenario_is_captured_as_midly_decodes_it() {
    let input = scenario();
    let expected = midly_messages(&input);
    // midly's view, pinned: running status expanded, real-time bytes apart.
    assert!(expected.contains(&(10_000 + 3 * 3_200, vec![0x90, 62, 100])));
    assert!(expected.contains(&(90_000 + 3 * 3_200, vec![0xF8])));
    assert!(expected.contains(&(90_000, vec![0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7])));
    assert!(expected.contains(&(150_000, vec![0xF6])));
    // DirectMusic: each message stamped within 50 µs of its first byte.
    check(&input, CaptureFormat::DirectMusic, 500);
    // KSMUSICFORMAT carries whole milliseconds.
    check(&input, CaptureFormat::Legacy, 10_000);
}

#[test]
fn random_streams_are_captured_as_midly_decodes_them() {
    for seed in [0x9E37_79B9_7F4A_7C15, 1, 0xDEAD_BEEF, 42] {
        let input = random_stream(seed, 200, false);
        check(&input, CaptureFormat::DirectMusic, 500);
        check(&input, CaptureFormat::Legacy, 10_000);
    }
}

#[test]
fn realtime_bytes_inside_channel_messages_keep_the_message_time() {
    let input: Vec<WireByte> = [0xB0, 7, 0xF8, 90]
        .into_iter()
        .zip(0..)
        .map(|(byte, i)| WireByte {
            time: 60_000 + i * BYTE_TIME_100NS,
            byte,
        })
        .collect();
    check(&input, CaptureFormat::DirectMusic, 500);
    for seed in [0x9E37_79B9_7F4A_7C15, 1, 0xDEAD_BEEF, 42] {
        let input = random_stream(seed, 200, true);
        check(&input, CaptureFormat::DirectMusic, 500);
        check(&input, CaptureFormat::Legacy, 10_000);
    }
}
