//! Unpacking records into events, and malformed buffers: each gives a clear
//! error and keeps every event before the fault.
#![allow(missing_docs)] // Test crate.

mod common;

use common::{Failures, events, ms, pool};
use mxf::raw::BuildError;
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits, UnpackError};
use mxf::wire::{WireError, dmus, ksmusic};

fn ks_irp(records: &[(u32, &[u8])]) -> Vec<u8> {
    let mut buf = vec![0u8; 1024];
    let mut w = ksmusic::Writer::new(&mut buf);
    for &(delta, bytes) in records {
        w.push(&ksmusic::RecordRepr {
            delta_ms: delta,
            data: bytes,
        })
        .unwrap();
    }
    let len = w.len();
    buf.truncate(len);
    buf
}

fn ks_unpack(irp: &[u8], p: &mut common::Pool) -> mxf::unpack::Unpacked {
    KsMusicUnpacker::new(1, Limits::DEFAULT).unpack(&IrpHeader::for_buffer(0, irp.len()), irp, p)
}

#[test]
fn a_record_with_several_messages_and_running_status() {
    let mut p = pool(64, 8, 16);
    let irp = ks_irp(&[
        (1, &[0x90, 60, 100, 62, 100, 0xF8, 64, 100, 0xC1, 5]),
        (2, &[7, 0xE0, 0]),
    ]);
    let out = ks_unpack(&irp, &mut p);
    assert_eq!(out.error, None);
    assert_eq!(out.records, 2);
    assert_eq!(
        events(&out.chain),
        vec![
            (ms(1), 1, false, vec![0x90, 60, 100]),
            (ms(1), 1, false, vec![0x90, 62, 100]),
            (ms(1), 1, false, vec![0xF8]),
            (ms(1), 1, false, vec![0x90, 64, 100]),
            (ms(1), 1, false, vec![0xC1, 5]),
            (ms(3), 1, false, vec![0xC1, 7]),
        ]
    );
    out.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn running_status_and_messages_continue_across_records_and_irps() {
    let mut p = pool(64, 8, 16);
    let mut u = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let irp1 = ks_irp(&[(0, &[0x90, 60]), (4, &[100, 61])]);
    let irp2 = ks_irp(&[(0, &[101])]);
    let out1 = u.unpack(&IrpHeader::for_buffer(0, irp1.len()), &irp1, &mut p);
    let out2 = u.unpack(&IrpHeader::for_buffer(ms(10), irp2.len()), &irp2, &mut p);
    // Each message takes the time of the record holding its first byte.
    assert_eq!(
        events(&out1.chain),
        vec![(0, 1, false, vec![0x90, 60, 100])]
    );
    assert_eq!(
        events(&out2.chain),
        vec![(ms(4), 1, false, vec![0x90, 61, 101])]
    );
    out1.chain.free(&mut p);
    out2.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn sysex_longer_than_a_buffer_becomes_incomplete_pieces() {
    let mut p = pool(64, 16, 16);
    let mut sysex = vec![0xF0];
    sysex.extend((0..40).map(|i| i % 0x80));
    sysex.push(0xF7);
    // Split over two records too.
    let irp = ks_irp(&[(0, &sysex[..30]), (1, &sysex[30..]), (0, &[0x80, 1, 2])]);
    let out = ks_unpack(&irp, &mut p);
    assert_eq!(out.error, None);
    let evs = events(&out.chain);
    let joined: Vec<u8> = evs[..evs.len() - 1]
        .iter()
        .flat_map(|e| e.3.clone())
        .collect();
    assert_eq!(joined, sysex);
    assert!(evs.iter().all(|e| e.3.len() <= 16));
    let flags: Vec<bool> = evs.iter().map(|e| e.2).collect();
    assert_eq!(flags, [true, true, false, false]);
    assert_eq!((evs[1].0, evs[2].0), (0, ms(1)));
    // DirectMusic unstructured data: passed through, cut at the buffer size.
    let mut buf = vec![0u8; 256];
    let mut w = dmus::Writer::new(&mut buf);
    w.push(&dmus::RecordRepr {
        rt_delta: 0,
        channel_group: 7,
        flags: 0,
        data: &sysex,
    })
    .unwrap();
    let len = w.len();
    let out2 = DmusUnpacker::new(Limits::DEFAULT).unpack(
        &IrpHeader::for_buffer(0, len),
        &buf[..len],
        &mut p,
    );
    let evs2 = events(&out2.chain);
    assert_eq!(
        evs2.iter()
            .map(|e| (e.1, e.2, e.3.len()))
            .collect::<Vec<_>>(),
        [(7, true, 16), (7, true, 16), (7, false, 10)]
    );
    out.chain.free(&mut p);
    out2.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn channel_groups_come_from_the_records() {
    let mut p = pool(64, 8, 16);
    let mut buf = vec![0u8; 256];
    let mut w = dmus::Writer::new(&mut buf);
    for group in [1, 2, 0, 65_535] {
        w.push(&dmus::RecordRepr {
            rt_delta: 0,
            channel_group: group,
            flags: 1,
            data: &[0x91, 1, 2],
        })
        .unwrap();
    }
    w.push(&dmus::RecordRepr {
        rt_delta: 0,
        channel_group: 65_536,
        flags: 1,
        data: &[0x91, 1, 2],
    })
    .unwrap();
    let len = w.len();
    let out = DmusUnpacker::new(Limits::DEFAULT).unpack(
        &IrpHeader::for_buffer(0, len),
        &buf[..len],
        &mut p,
    );
    let groups: Vec<u16> = out.chain.iter().map(|e| e.channel_group()).collect();
    assert_eq!(groups, [1, 2, 0, 65_535]);
    assert_eq!(
        out.error,
        Some(UnpackError::ChannelGroup {
            offset: 96,
            channel_group: 65_536
        })
    );
    out.chain.free(&mut p);
    p.check().unwrap();
}

/// A good record followed by a fault: the good one's event is kept.
fn assert_kept_then(irp: &[u8], header: IrpHeader, expected: UnpackError) {
    let mut p = pool(64, 8, 16);
    let out = KsMusicUnpacker::new(1, Limits::DEFAULT).unpack(&header, irp, &mut p);
    assert_eq!(out.error, Some(expected), "{}", out.error.unwrap());
    assert_eq!(
        events(&out.chain),
        vec![(ms(2), 1, false, vec![0x90, 1, 2])]
    );
    assert_eq!(out.records, 1);
    out.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn malformed_ksmusic_buffers_keep_the_events_before_the_fault() {
    let good = ks_irp(&[(2, &[0x90, 1, 2])]);
    let full = |irp: &[u8]| IrpHeader::for_buffer(0, irp.len());
    // ByteCount past the end.
    let mut irp = good.clone();
    irp.extend_from_slice(&[0, 0, 0, 0, 9, 0, 0, 0, 0x80, 1]);
    assert_kept_then(
        &irp,
        full(&irp),
        UnpackError::Wire(WireError::DataTruncated {
            offset: 12,
            byte_count: 9,
            available: 2,
        }),
    );
    // A header cut short.
    let mut irp = good.clone();
    irp.extend_from_slice(&[0, 0, 0]);
    assert_kept_then(
        &irp,
        full(&irp),
        UnpackError::Wire(WireError::HeaderTruncated { offset: 12 }),
    );
    // A zero-length record.
    let mut irp = good.clone();
    irp.extend_from_slice(&[0; 8]);
    assert_kept_then(
        &irp,
        full(&irp),
        UnpackError::Wire(WireError::EmptyRecord { offset: 12 }),
    );
    // An absurd delta (49 days).
    let mut irp = good.clone();
    irp.extend_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 0, 0, 0, 0xF8, 0, 0, 0]);
    assert_kept_then(
        &irp,
        full(&irp),
        UnpackError::AbsurdDelta {
            offset: 12,
            delta_100ns: i64::from(u32::MAX) * 10_000,
        },
    );
    // DataUsed beyond FrameExtent: what lies inside both is unpacked.
    let mut irp = good.clone();
    irp.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0, 0xF8, 0, 0, 0]);
    let header = IrpHeader {
        presentation_time: 0,
        data_used: 24,
        frame_extent: 12,
    };
    assert_kept_then(
        &irp,
        header,
        UnpackError::DataUsedBeyondFrameExtent {
            data_used: 24,
            frame_extent: 12,
        },
    );
    // DataUsed beyond the mapped buffer.
    let header = IrpHeader {
        presentation_time: 0,
        data_used: 4096,
        frame_extent: 4096,
    };
    assert_kept_then(
        &good,
        header,
        UnpackError::DataUsedBeyondBuffer {
            data_used: 4096,
            buffer_len: 12,
        },
    );
}

#[test]
fn malformed_dmus_buffers_keep_the_events_before_the_fault() {
    let mut p = pool(64, 8, 16);
    let mut buf = vec![0u8; 24];
    let mut w = dmus::Writer::new(&mut buf);
    w.push(&dmus::RecordRepr {
        rt_delta: 5,
        channel_group: 1,
        flags: 1,
        data: &[0x90, 1, 2],
    })
    .unwrap();
    let mut u = DmusUnpacker::new(Limits::DEFAULT);
    let cases: [(&[u8], UnpackError); 4] = [
        (
            &[
                9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x90,
            ],
            UnpackError::Wire(WireError::DataTruncated {
                offset: 24,
                byte_count: 9,
                available: 1,
            }),
        ),
        (
            &[1, 0, 0, 0, 1, 0],
            UnpackError::Wire(WireError::HeaderTruncated { offset: 24 }),
        ),
        (
            &[0; 24],
            UnpackError::Wire(WireError::EmptyRecord { offset: 24 }),
        ),
        (
            &[
                1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 1, 0, 0, 0, 0xF8, 0, 0, 0,
            ],
            UnpackError::AbsurdDelta {
                offset: 24,
                delta_100ns: i64::MIN,
            },
        ),
    ];
    for (tail, expected) in cases {
        let mut irp = buf.clone();
        irp.extend_from_slice(tail);
        u.reset();
        let out = u.unpack(&IrpHeader::for_buffer(0, irp.len()), &irp, &mut p);
        assert_eq!(out.error, Some(expected));
        assert_eq!(events(&out.chain), vec![(5, 1, false, vec![0x90, 1, 2])]);
        out.chain.free(&mut p);
    }
    p.check().unwrap();
}

#[test]
fn pool_exhaustion_is_reported_and_keeps_what_was_built() {
    let mut p = pool(2, 0, 16);
    let irp = ks_irp(&[(0, &[0x90, 1, 2]), (0, &[0x90, 3, 4]), (0, &[0x90, 5, 6])]);
    let out = ks_unpack(&irp, &mut p);
    assert_eq!(
        out.error,
        Some(UnpackError::Pool {
            offset: 24,
            error: BuildError::NoEvent
        })
    );
    assert_eq!(out.chain.len(), 2);
    assert_eq!(p.stats_failures(), 1);
    out.chain.free(&mut p);
    p.check().unwrap();
}
