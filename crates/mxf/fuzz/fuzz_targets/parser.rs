//! The MIDI byte-stream parser: any bytes never panic; every message is well
//! formed; and it agrees with midly's MidiStream (see tests/parser_vs_midly.rs
//! for the mapping of their deliberate differences).
#![no_main]

use libfuzzer_sys::fuzz_target;
use midly::live::{LiveEvent, SystemCommon, SystemRealtime};
use midly::stream::MidiStream;
use mxf::midi::{Parsed, Parser, SysExEnd, message_len};

fuzz_target!(|data: &[u8]| {
    let mut stream = data.to_vec();
    stream.push(0xF4);
    let mut parser = Parser::<16>::new();
    let (mut ours, mut our_rt, mut sysex) = (Vec::new(), Vec::new(), Vec::new());
    // Items must reach the sink in time order unless the parser counted a
    // realtime byte released early (see mxf::midi::parser's module docs).
    let (mut last_time, mut backwards) = (0, 0u32);
    for (i, &byte) in stream.iter().enumerate() {
        let now = i64::try_from(i).unwrap_or(i64::MAX);
        parser.feed(byte, now, &mut |item| {
            let (Parsed::Message { time, .. }
            | Parsed::Realtime { time, .. }
            | Parsed::SysEx { time, .. }) = item;
            backwards += u32::from(time < last_time);
            last_time = last_time.max(time);
            match item {
                Parsed::Message { bytes, time } => {
                    assert!(time <= now);
                    assert_eq!(message_len(bytes[0]), Some(bytes.len()));
                    assert!(bytes[1..].iter().all(|&b| b < 0x80));
                    ours.push(bytes.to_vec());
                }
                Parsed::Realtime { byte, time } => {
                    // Stamped at its own arrival, however long it was held.
                    assert_eq!(stream[usize::try_from(time).unwrap_or(usize::MAX)], byte);
                    our_rt.push(byte);
                }
                Parsed::SysEx {
                    bytes, first, end, ..
                } => {
                    assert!(bytes.len() <= 16);
                    if first {
                        sysex.clear();
                    }
                    sysex.extend_from_slice(bytes);
                    if end != SysExEnd::Continues {
                        let mut body = sysex[1..].to_vec();
                        if end == SysExEnd::Terminated {
                            body.pop();
                        }
                        let mut msg = vec![0xF0];
                        msg.extend(body);
                        ours.push(msg);
                    }
                }
            }
        });
    }
    assert!(backwards == 0 || parser.stats().realtime_released_early > 0);
    assert_eq!(parser.held_realtime(), 0);
    let (mut theirs, mut their_rt) = (Vec::new(), Vec::new());
    MidiStream::new().feed(&stream, |ev| match ev {
        LiveEvent::Realtime(SystemRealtime::Undefined(_))
        | LiveEvent::Common(SystemCommon::Undefined(..)) => {}
        LiveEvent::Realtime(rt) => their_rt.push(rt.encode()),
        LiveEvent::Common(SystemCommon::SysEx(d)) => {
            let mut msg = vec![0xF0];
            msg.extend(d.iter().map(|b| b.as_int()));
            theirs.push(msg);
        }
        other => {
            let mut out = Vec::new();
            other.write(&mut out).expect("write to a Vec");
            theirs.push(out);
        }
    });
    assert_eq!(ours, theirs);
    assert_eq!(our_rt, their_rt);
});
