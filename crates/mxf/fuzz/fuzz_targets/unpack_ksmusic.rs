//! KSMUSICFORMAT unpacking: any bytes, as two IRPs in a row, never panic,
//! never leak, and everything unpacked is well formed.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mxf::unpack::{IrpHeader, KsMusicUnpacker, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((time, data_used, frame_extent, buffer)) = common::split_header(data) else {
        return;
    };
    let half = buffer.len() / 2;
    common::with_pool(|pool| {
        let mut unpacker = KsMusicUnpacker::new(1, Limits::DEFAULT);
        for part in [&buffer[..half], &buffer[half..], buffer] {
            let header = IrpHeader { presentation_time: time, data_used, frame_extent };
            let out = unpacker.unpack(&header, part, pool);
            common::check_and_free(out.chain, pool);
        }
    });
});
