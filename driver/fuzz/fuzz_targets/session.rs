//! Any bytes as a client's session with the driver on a simulated machine: pins of both
//! devices opened in any format, KS states walked, IRPs written and read, property requests
//! with any buffers, DLS downloads and unloads, closes, time, MIDI input, device power. Fails
//! on any verifier finding and on anything left behind (the driver's pool, user mappings).
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdmus_driver_fuzz::fuzz_one;

fuzz_target!(|data: &[u8]| fuzz_one(data));
