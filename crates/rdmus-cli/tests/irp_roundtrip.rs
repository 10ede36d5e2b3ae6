//! The IRP buffers read back with mxf's own readers give the timeline back:
//! exactly for DirectMusic, within half a millisecond (and the same bytes)
//! for KSMUSICFORMAT, for every buffer size that can hold the file.

use mxf::wire::{dmus, ksmusic};
use proptest::prelude::*;
use rdmus_cli::irp::{build_dmus, build_ksmusic};
use smf::{MessageKind, SmfFormat, TimedMessage, Timeline};

fn message() -> impl Strategy<Value = (u64, MessageKind, Vec<u8>)> {
    prop_oneof![
        (0u64..2_000_000, 0x80u8..0xF0, any::<[u8; 2]>()).prop_map(|(dt, status, data)| (
            dt,
            MessageKind::Channel,
            vec![status, data[0] & 0x7F, data[1] & 0x7F]
        )),
        (0u64..2_000_000, proptest::collection::vec(0u8..0x80, 0..60)).prop_map(|(dt, body)| {
            let mut bytes = vec![0xF0];
            bytes.extend(body);
            bytes.push(0xF7);
            (dt, MessageKind::SysEx, bytes)
        }),
    ]
}

fn timeline(items: Vec<(u64, MessageKind, Vec<u8>)>) -> Timeline {
    let mut t = Timeline::empty(SmfFormat::SingleTrack);
    let mut time = 0;
    for (dt, kind, bytes) in items {
        time += dt;
        t.messages.push(TimedMessage {
            time,
            track: 0,
            kind,
            bytes,
        });
    }
    t
}

/// (time, structured, bytes) of each message, merging same-time unstructured
/// pieces back together.
fn join(records: Vec<(i64, bool, Vec<u8>)>) -> Vec<(i64, Vec<u8>)> {
    let mut out: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut open_sysex = false;
    for (time, structured, data) in records {
        match out.last_mut() {
            Some((t, bytes)) if open_sysex && !structured && *t == time => {
                bytes.extend(data.iter());
            }
            _ => out.push((time, data.clone())),
        }
        open_sysex = !structured && data.last() != Some(&0xF7);
    }
    out
}

proptest! {
    #[test]
    fn dmus_buffers_give_the_exact_timeline_back(
        items in proptest::collection::vec(message(), 0..80),
        size in 24u32..400,
    ) {
        let t = timeline(items);
        let packets = build_dmus(&t, size, 1).unwrap();
        let mut records = Vec::new();
        for p in &packets {
            prop_assert!(p.data.len() <= size as usize);
            for r in dmus::Reader::new(&p.data) {
                let (_, r) = r.unwrap();
                prop_assert_eq!(r.channel_group, 1);
                records.push((p.presentation_time + r.rt_delta, r.is_structured(), r.data.to_vec()));
            }
        }
        let expected: Vec<(i64, Vec<u8>)> = t.messages.iter().map(|m| (m.time.cast_signed(), m.bytes.clone())).collect();
        prop_assert_eq!(join(records), expected);
    }

    #[test]
    fn ksmusic_buffers_stay_within_half_a_millisecond(
        items in proptest::collection::vec(message(), 0..80),
        size in 12u32..400,
    ) {
        let t = timeline(items);
        let packets = build_ksmusic(&t, size).unwrap();
        let mut stream = Vec::new();
        let mut times = Vec::new();
        let mut last_ms = 0;
        for p in &packets {
            prop_assert!(p.data.len() <= size as usize);
            let mut ms = p.presentation_time / 10_000;
            prop_assert!(ms >= last_ms, "time never goes backwards across IRPs");
            for r in ksmusic::Reader::new(&p.data) {
                let (_, r) = r.unwrap();
                ms += i64::from(r.delta_ms);
                times.push((ms, r.data.len()));
                stream.extend_from_slice(r.data);
            }
            last_ms = ms;
        }
        let expected: Vec<u8> = t.messages.iter().flat_map(|m| m.bytes.iter().copied()).collect();
        prop_assert_eq!(stream, expected);
        // Each record's time is within 0.5 ms of its message's exact time.
        let mut byte = 0;
        let starts: Vec<(usize, u64)> = t.messages.iter().map(|m| { let s = (byte, m.time); byte += m.bytes.len(); s }).collect();
        let mut offset = 0;
        for (ms, len) in times {
            let index = starts.partition_point(|&(start, _)| start <= offset) - 1;
            let exact = starts[index].1.cast_signed();
            prop_assert!((ms * 10_000 - exact).abs() <= 5_000, "{ms} ms vs {exact}");
            offset += len;
        }
    }
}
