//! Property tests of the wire readers and writers, and of unpacking garbage:
//! no panic, records tile the buffer, what a writer emits reads back, and no
//! event is lost or returned twice whatever the bytes.
#![allow(missing_docs)] // Test crate.

mod common;

use common::pool;
use dmus_sys::ks::{KSSTREAM_HEADER, KSTIME};
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use mxf::wire::{EmitError, dmus, ksmusic};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn ksmusic_reader_tiles_any_buffer(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut next = 0;
        for item in ksmusic::Reader::new(&bytes) {
            match item {
                Ok((offset, record)) => {
                    prop_assert_eq!(offset, next);
                    prop_assert!(!record.data.is_empty());
                    prop_assert!(offset + ksmusic::HEADER_LEN + record.data.len() <= bytes.len());
                    next = offset + record.padded_len();
                }
                Err(e) => prop_assert_eq!(e.offset(), next),
            }
        }
    }

    #[test]
    fn dmus_reader_tiles_any_buffer(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut next = 0;
        for item in dmus::Reader::new(&bytes) {
            match item {
                Ok((offset, record)) => {
                    prop_assert_eq!(offset, next);
                    prop_assert_eq!(offset % 8, 0);
                    prop_assert!(offset + dmus::HEADER_LEN + record.data.len() <= bytes.len());
                    next = offset + record.padded_len();
                }
                Err(e) => prop_assert_eq!(e.offset(), next),
            }
        }
    }

    #[test]
    fn ksmusic_writer_output_reads_back(
        records in prop::collection::vec((any::<u32>(), prop::collection::vec(any::<u8>(), 0..20)), 0..30),
        size in 0usize..400,
    ) {
        let mut buf = vec![0u8; size];
        let mut w = ksmusic::Writer::new(&mut buf);
        let mut written = Vec::new();
        for (delta, data) in &records {
            match w.push(&ksmusic::RecordRepr { delta_ms: *delta, data }) {
                Ok(()) => written.push((*delta, data.clone())),
                Err(EmitError::Empty) => prop_assert!(data.is_empty()),
                Err(e) => prop_assert_eq!(e, EmitError::Full),
            }
            prop_assert!(w.len() <= size);
        }
        let used = w.len();
        let back: Vec<(u32, Vec<u8>)> = ksmusic::Reader::new(&buf[..used])
            .map(|r| r.map(|(_, rec)| (rec.delta_ms, rec.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(back, written);
    }

    #[test]
    fn dmus_writer_output_reads_back(
        records in prop::collection::vec((any::<i64>(), any::<u32>(), any::<u32>(), prop::collection::vec(any::<u8>(), 1..30)), 0..20),
        size in 0usize..600,
    ) {
        let mut buf = vec![0u8; size];
        let mut w = dmus::Writer::new(&mut buf);
        let mut written = Vec::new();
        for (rt_delta, channel_group, flags, data) in &records {
            let rec = dmus::RecordRepr { rt_delta: *rt_delta, channel_group: *channel_group, flags: *flags, data };
            if w.push(&rec).is_ok() {
                written.push((*rt_delta, *channel_group, *flags, data.clone()));
            }
        }
        let used = w.len();
        let back: Vec<_> = dmus::Reader::new(&buf[..used])
            .map(|r| r.map(|(_, rec)| (rec.rt_delta, rec.channel_group, rec.flags, rec.data.to_vec())))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(back, written);
    }

    /// Whatever the bytes and header, unpacking keeps the pool whole.
    #[test]
    fn unpacking_garbage_loses_nothing(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        data_used in 0u32..500,
        frame_extent in 0u32..500,
        time in any::<i64>(),
    ) {
        let mut p = pool(2048, 256, 16);
        let header = IrpHeader { presentation_time: time, data_used, frame_extent };
        let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
        let mut dm = DmusUnpacker::new(Limits::DEFAULT);
        for _ in 0..2 {
            let a = ks.unpack(&header, &bytes, &mut p);
            let b = dm.unpack(&header, &bytes, &mut p);
            prop_assert!(b.chain.iter().all(|e| !e.data().is_empty()));
            a.chain.free(&mut p);
            b.chain.free(&mut p);
        }
        prop_assert!(p.check().is_ok());
    }
}

#[test]
fn stream_header_fields_are_read() {
    let header = KSSTREAM_HEADER {
        Size: 0x38,
        TypeSpecificFlags: 0,
        PresentationTime: KSTIME {
            Time: 123,
            Numerator: 10_000,
            Denominator: 1,
        },
        Duration: 0,
        FrameExtent: 64,
        DataUsed: 12,
        Data: core::ptr::null_mut(),
        OptionsFlags: 0,
        #[cfg(target_pointer_width = "64")]
        Reserved: 0,
    };
    let irp = IrpHeader::from_stream_header(&header).unwrap();
    assert_eq!(
        irp,
        IrpHeader {
            presentation_time: 1_230_000,
            data_used: 12,
            frame_extent: 64
        }
    );
}
