//! Unpack after pack gives back every valid message stream, for both formats,
//! with capture buffers of random sizes (messages that do not fit are carried
//! to the next buffer; sysex longer than a buffer is split).
#![allow(missing_docs)] // Test crate.

mod common;

use common::{Pool, pool};
use mxf::Chain;
use mxf::build::push_bytes;
use mxf::pack::{PackError, Packer};
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use proptest::prelude::*;

/// (time in 100 ns, channel group, message bytes).
type Message = (i64, u16, Vec<u8>);

fn message_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => (0x80u8..0xF0, 0u8..0x80, 0u8..0x80).prop_map(|(s, a, b)| {
            if (0xC0..0xE0).contains(&s) { vec![s, a] } else { vec![s, a, b] }
        }),
        1 => prop::sample::select(vec![0xF8u8, 0xFA, 0xFB, 0xFC, 0xFE, 0xFF]).prop_map(|b| vec![b]),
        1 => (prop::sample::select(vec![0xF1u8, 0xF2, 0xF3, 0xF6]), 0u8..0x80, 0u8..0x80).prop_map(|(s, a, b)| {
            match s { 0xF2 => vec![s, a, b], 0xF6 => vec![s], _ => vec![s, a] }
        }),
        1 => prop::collection::vec(0u8..0x80, 0..60).prop_map(|mut d| {
            d.insert(0, 0xF0);
            d.push(0xF7);
            d
        }),
    ]
}

/// Messages at non-decreasing times; `step` is the time grain.
fn stream(step: i64, groups: u16) -> impl Strategy<Value = Vec<Message>> {
    prop::collection::vec((0i64..30, 1..=groups, message_bytes()), 0..80).prop_map(move |items| {
        let mut t = 0;
        items
            .into_iter()
            .map(|(dt, g, bytes)| {
                t += dt * step;
                (t, g, bytes)
            })
            .collect()
    })
}

fn build(p: &mut Pool, messages: &[Message]) -> Chain {
    let mut chain = Chain::new();
    for (time, group, bytes) in messages {
        push_bytes(&mut chain, p, *time, *group, bytes, true).unwrap();
    }
    chain
}

/// Reassembles events into messages: sysex pieces are joined from `F0` to
/// `F7` and take the time of their first piece.
fn reassemble(events: &[(i64, u16, Vec<u8>)]) -> Vec<Message> {
    let mut out: Vec<Message> = Vec::new();
    let mut open: Option<Message> = None;
    for (time, group, bytes) in events {
        if let Some((_, _, sysex)) = open.as_mut() {
            sysex.extend_from_slice(bytes);
            if sysex.last() == Some(&0xF7) {
                out.extend(open.take());
            }
        } else if bytes.first() == Some(&0xF0) && bytes.last() != Some(&0xF7) {
            open = Some((*time, *group, bytes.clone()));
        } else {
            out.push((*time, *group, bytes.clone()));
        }
    }
    out.extend(open);
    out
}

fn collect(chain: &Chain) -> Vec<(i64, u16, Vec<u8>)> {
    chain
        .iter()
        .map(|e| (e.time(), e.channel_group(), e.data().to_vec()))
        .collect()
}

#[derive(Clone, Copy)]
enum Format {
    KsMusic,
    Dmus,
}

/// Packs `messages` into IRPs of `irp_size` bytes, unpacks them, and returns
/// the events read back.
fn pack_then_unpack(
    format: Format,
    messages: &[Message],
    irp_size: usize,
) -> Vec<(i64, u16, Vec<u8>)> {
    let mut p = pool(4096, 1024, 16);
    let mut packer = Packer::new();
    packer.push(build(&mut p, messages));
    let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let mut dm = DmusUnpacker::new(Limits::DEFAULT);
    let mut back = Vec::new();
    let mut irps = 0;
    while !packer.is_empty() {
        let mut irp = vec![0xEEu8; irp_size];
        let filled = match format {
            Format::KsMusic => packer.pack_ksmusic(&mut irp, &mut p),
            Format::Dmus => packer.pack_dmus(&mut irp, &mut p),
        }
        .unwrap();
        assert!(filled.data_used <= irp_size);
        assert!(filled.records > 0, "no progress with {irp_size}-byte IRPs");
        let header = IrpHeader::for_buffer(filled.presentation_time.unwrap(), filled.data_used);
        let unpacked = match format {
            Format::KsMusic => ks.unpack(&header, &irp, &mut p),
            Format::Dmus => dm.unpack(&header, &irp, &mut p),
        };
        assert_eq!(unpacked.error, None);
        assert_eq!(unpacked.records, filled.records);
        back.extend(collect(&unpacked.chain));
        unpacked.chain.free(&mut p);
        irps += 1;
        assert!(irps < 10_000);
    }
    p.check().unwrap();
    back
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn ksmusic_unpack_after_pack_gives_back_the_messages(
        messages in stream(10_000, 1),
        irp_size in 12usize..160,
    ) {
        let back = pack_then_unpack(Format::KsMusic, &messages, irp_size);
        prop_assert_eq!(reassemble(&back), messages);
    }

    #[test]
    fn dmus_unpack_after_pack_gives_back_the_messages(
        messages in stream(1, 4),
        irp_size in 24usize..200,
    ) {
        let back = pack_then_unpack(Format::Dmus, &messages, irp_size);
        prop_assert_eq!(reassemble(&back), messages);
    }
}

#[test]
fn a_message_that_does_not_fit_is_carried_to_the_next_buffer() {
    let mut p = pool(64, 8, 16);
    let mut packer = Packer::new();
    packer.push(build(
        &mut p,
        &[(0, 1, vec![0x90, 1, 2]), (10_000, 1, vec![0x80, 1, 2])],
    ));
    // 12 bytes hold one 3-byte record (8 + 3, padded to 12), not two.
    let mut irp = [0u8; 20];
    let first = packer.pack_ksmusic(&mut irp, &mut p).unwrap();
    assert_eq!(
        (
            first.records,
            first.events,
            first.data_used,
            first.presentation_time
        ),
        (1, 1, 12, Some(0))
    );
    let second = packer.pack_ksmusic(&mut irp, &mut p).unwrap();
    assert_eq!(
        (second.records, second.presentation_time),
        (1, Some(10_000))
    );
    assert_eq!(&irp[..11], &[0, 0, 0, 0, 3, 0, 0, 0, 0x80, 1, 2]);
    assert!(packer.is_empty());
    // Nothing to pack: an empty buffer, no error.
    assert_eq!(packer.pack_dmus(&mut irp, &mut p).unwrap().data_used, 0);
    // Too small for any record.
    packer.push(build(&mut p, &[(0, 1, vec![0xF8])]));
    assert_eq!(
        packer.pack_dmus(&mut irp, &mut p),
        Err(PackError::BufferTooSmall { len: 20 })
    );
    assert_eq!(packer.discard(&mut p).events, 1);
    p.check().unwrap();
}

#[test]
fn packages_are_opened_and_structured_flags_set() {
    let mut p = pool(64, 8, 16);
    let contents = build(
        &mut p,
        &[(5, 2, vec![0x90, 1, 2]), (5, 2, vec![0xF0, 1, 0xF7])],
    );
    let package = Chain::package(&mut p, 5, 2, contents).unwrap();
    let mut packer = Packer::new();
    packer.push(package);
    let mut irp = [0u8; 64];
    let filled = packer.pack_dmus(&mut irp, &mut p).unwrap();
    assert_eq!((filled.records, filled.events), (2, 2));
    let records: Vec<_> = mxf::wire::dmus::Reader::new(&irp[..filled.data_used])
        .map(Result::unwrap)
        .collect();
    assert_eq!(records[0].1.flags, 1);
    assert_eq!(records[0].1.channel_group, 2);
    assert_eq!(records[1].1.flags, 0);
    p.check().unwrap();
}
