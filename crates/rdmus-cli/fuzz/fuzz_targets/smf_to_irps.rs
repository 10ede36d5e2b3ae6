//! Any bytes as a Standard MIDI File, through the `rdmus` command's side: the
//! timeline the smf crate reads (or keeps before a fault) gives IRP buffers
//! within their size, an ideal wire with one byte per message byte that
//! compares with itself without loss, and an inspect summary, all without
//! panicking. (The reader's own checks are the smf crate's `smf` target.)
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdmus_cli::inspect::Summary;
use rdmus_cli::irp::{build_dmus, build_ksmusic};
use rdmus_cli::wire_log::{compare, ideal_wire};
use smf::read_smf;

fuzz_target!(|data: &[u8]| {
    let timeline = match read_smf(data) {
        Ok(timeline) => timeline,
        Err(error) => error.kept,
    };
    for size in [12, 64, 4096] {
        if let Ok(packets) = build_ksmusic(&timeline, size) {
            assert!(packets.iter().all(|p| p.data.len() <= size as usize));
        }
    }
    for size in [24, 4096] {
        if let Ok(packets) = build_dmus(&timeline, size, 1) {
            assert!(packets.iter().all(|p| p.data.len() <= size as usize));
        }
    }
    let wire = ideal_wire(&timeline);
    assert_eq!(wire.len(), timeline.byte_count());
    let result = compare(&wire, &wire);
    assert_eq!((result.missing_messages, result.extra_messages, result.reordered), (0, 0, 0));
    let _ = Summary::new(&timeline, 4096);
});
