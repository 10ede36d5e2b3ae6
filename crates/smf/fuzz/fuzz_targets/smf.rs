//! Any bytes as a Standard MIDI File: read or refused without panicking; the
//! timeline (read, or kept before a fault) is in time order, every message has
//! bytes and none is after the end.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smf::read_smf;

fuzz_target!(|data: &[u8]| {
    let timeline = match read_smf(data) {
        Ok(timeline) => timeline,
        Err(error) => error.kept,
    };
    assert!(timeline.messages.windows(2).all(|w| w[0].time <= w[1].time));
    assert!(timeline.messages.iter().all(|m| !m.bytes.is_empty() && m.time <= timeline.end_time));
    assert_eq!(timeline.byte_count(), timeline.messages.iter().map(|m| m.bytes.len()).sum::<usize>());
});
