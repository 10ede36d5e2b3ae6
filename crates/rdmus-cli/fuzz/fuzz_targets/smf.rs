//! Any bytes as a Standard MIDI File: read or refused without panicking; a
//! timeline (read, or kept before a fault) is in time order, and its IRP
//! buffers, ideal wire and inspect summary are built without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdmus_cli::inspect::Summary;
use rdmus_cli::irp::{build_dmus, build_ksmusic};
use rdmus_cli::smf::read_smf;
use rdmus_cli::wire::{compare, ideal_wire};

fuzz_target!(|data: &[u8]| {
    let timeline = match read_smf(data) {
        Ok(timeline) => timeline,
        Err(error) => error.kept,
    };
    assert!(timeline.messages.windows(2).all(|w| w[0].time <= w[1].time));
    assert!(timeline.messages.iter().all(|m| !m.bytes.is_empty() && m.time <= timeline.end_time));
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
