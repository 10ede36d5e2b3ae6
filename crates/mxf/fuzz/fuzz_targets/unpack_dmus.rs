//! DMUS_EVENTHEADER unpacking: any bytes never panic, never leak, and time
//! never goes backwards, within an IRP or across IRPs.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use mxf::unpack::{DmusUnpacker, IrpHeader, Limits};

fuzz_target!(|data: &[u8]| {
    let Some((time, data_used, frame_extent, buffer)) = common::split_header(data) else {
        return;
    };
    common::with_pool(|pool| {
        let mut unpacker = DmusUnpacker::new(Limits::DEFAULT);
        let mut last = i64::MIN;
        for _ in 0..2 {
            let header = IrpHeader { presentation_time: time, data_used, frame_extent };
            let out = unpacker.unpack(&header, buffer, pool);
            for event in &out.chain {
                assert!(event.time() >= last, "time went backwards");
                last = event.time();
            }
            common::check_and_free(out.chain, pool);
        }
    });
});
