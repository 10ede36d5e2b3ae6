//! Capture end to end: any byte stream parsed into events, packed into IRPs
//! of a size the input picks (both formats), and unpacked again. No panic, no
//! progress stall, nothing leaked, and the bytes that come back are the bytes
//! the capture parser produced.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mxf::Chain;
use mxf::capture::CaptureParser;
use mxf::pack::{PackError, Packer};
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((&size, bytes)) = data.split_first() else {
        return;
    };
    let irp_size = usize::from(size) + 1;
    common::with_pool(|pool| {
        for dmus in [false, true] {
            let mut parser = CaptureParser::<16>::new(1);
            let mut captured = Chain::new();
            let timed = bytes.iter().zip(0i64..).map(|(&b, t)| (b, t * 3_000));
            parser.parse(timed, pool, &mut captured);
            let sent: Vec<u8> = captured.iter().flat_map(|e| e.data().to_vec()).collect();
            let mut packer = Packer::new();
            packer.push(captured);
            let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
            let mut dm = DmusUnpacker::new(Limits::DEFAULT);
            let mut back = Vec::new();
            while !packer.is_empty() {
                let mut irp = vec![0u8; irp_size];
                let packed = if dmus { packer.pack_dmus(&mut irp, pool) } else { packer.pack_ksmusic(&mut irp, pool) };
                let packed = match packed {
                    Ok(p) => p,
                    Err(PackError::BufferTooSmall { .. }) => {
                        packer.discard(pool);
                        back.clear();
                        break;
                    }
                };
                assert!(packed.records > 0 && packed.data_used <= irp_size);
                let header = IrpHeader::for_buffer(packed.presentation_time.unwrap_or(0), packed.data_used);
                let out = if dmus { dm.unpack(&header, &irp, pool) } else { ks.unpack(&header, &irp, pool) };
                assert_eq!(out.error, None);
                back.extend(out.chain.iter().flat_map(|e| e.data().to_vec()));
                out.chain.free(pool);
            }
            if dmus && !back.is_empty() {
                // DirectMusic records carry bytes as they are.
                assert_eq!(back, sent);
            }
        }
    });
});
