//! The time rules of unpacking, with the seed's worked example.
#![allow(missing_docs)] // Test crate.

mod common;

use common::{events, ms, pool};
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use mxf::wire::{dmus, ksmusic};

fn ks_irp(records: &[(u32, &[u8])]) -> Vec<u8> {
    let mut buf = vec![0u8; 256];
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

/// ksmedia.h, KSMUSICFORMAT remarks: IRP #1 at 123 ms with deltas 0, 1, 7;
/// IRP #2 at 120 ms with deltas 5, 15. IRP #2's message #1 plays at 131 ms
/// (not 125), message #2 at 140 ms = 125 + 15: deltas accumulate on the IRP's
/// nominal time line; the clamp only delays what would play too early.
#[test]
fn seed_worked_example_cross_irp_clamp() {
    let mut p = pool(64, 8, 64);
    let mut u = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let irp1 = ks_irp(&[
        (0, &[0x90, 60, 100]),
        (1, &[0x90, 62, 100]),
        (7, &[0x90, 64, 100]),
    ]);
    let out1 = u.unpack(&IrpHeader::for_buffer(ms(123), irp1.len()), &irp1, &mut p);
    assert_eq!(out1.error, None);
    let times1: Vec<i64> = out1.chain.iter().map(|e| e.time()).collect();
    assert_eq!(times1, [ms(123), ms(124), ms(131)]);

    let irp2 = ks_irp(&[(5, &[0x80, 60, 0]), (15, &[0x80, 62, 0])]);
    let out2 = u.unpack(&IrpHeader::for_buffer(ms(120), irp2.len()), &irp2, &mut p);
    assert_eq!(out2.error, None);
    assert_eq!(
        events(&out2.chain),
        vec![
            (ms(131), 1, false, vec![0x80, 60, 0]),
            (ms(140), 1, false, vec![0x80, 62, 0])
        ]
    );
    out1.chain.free(&mut p);
    out2.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn first_delta_counts_from_presentation_time_later_from_previous_record() {
    let mut p = pool(64, 8, 64);
    let mut u = KsMusicUnpacker::new(3, Limits::DEFAULT);
    let irp = ks_irp(&[(10, &[0xF8]), (0, &[0xFA]), (250, &[0xFC])]);
    let out = u.unpack(&IrpHeader::for_buffer(ms(1000), irp.len()), &irp, &mut p);
    let times: Vec<i64> = out.chain.iter().map(|e| e.time()).collect();
    assert_eq!(times, [ms(1010), ms(1010), ms(1260)]);
    assert!(out.chain.iter().all(|e| e.channel_group() == 3));
    out.chain.free(&mut p);
    p.check().unwrap();
}

#[test]
fn dmus_deltas_count_from_the_buffer_start_and_never_go_back() {
    let mut p = pool(64, 8, 64);
    let mut u = DmusUnpacker::new(Limits::DEFAULT);
    let mut buf = vec![0u8; 256];
    let mut w = dmus::Writer::new(&mut buf);
    let rec = |rt_delta, data| dmus::RecordRepr {
        rt_delta,
        channel_group: 2,
        flags: dmus::DMUS_EVENT_STRUCTURED,
        data,
    };
    w.push(&rec(500, &[0x90, 1, 1])).unwrap();
    w.push(&rec(700, &[0x90, 2, 1])).unwrap();
    w.push(&rec(600, &[0x90, 3, 1])).unwrap(); // earlier than the previous: held to 700 + start
    let len = w.len();
    let out = u.unpack(&IrpHeader::for_buffer(10_000, len), &buf[..len], &mut p);
    let times: Vec<i64> = out.chain.iter().map(|e| e.time()).collect();
    assert_eq!(times, [10_500, 10_700, 10_700]);
    // The next IRP starts earlier than the last time played: clamped.
    let out2 = u.unpack(&IrpHeader::for_buffer(0, len), &buf[..len], &mut p);
    let times2: Vec<i64> = out2.chain.iter().map(|e| e.time()).collect();
    assert_eq!(times2, [10_700, 10_700, 10_700]);
    u.reset();
    let out3 = u.unpack(&IrpHeader::for_buffer(0, len), &buf[..len], &mut p);
    assert_eq!(out3.chain.front_time(), Some(500));
    for c in [out.chain, out2.chain, out3.chain] {
        c.free(&mut p);
    }
    p.check().unwrap();
}
