//! Any bytes as a download buffer: the parser refuses or accepts without panicking, gives the
//! same answer twice, and the store takes the buffer whole or refuses it whole.
#![no_main]

use dls::download::{InstrumentStore, Parsed, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&append, buffer)) = data.split_first() else { return };
    let append = u32::from(append % 4);
    let parsed = parse(buffer, append);
    assert_eq!(parsed, parse(buffer, append));
    match &parsed {
        Ok(Parsed::Wave(wave)) => {
            assert!(wave.format.is_playable());
            assert!(wave.data.end == wave.guard.start && wave.guard.end <= buffer.len());
        }
        Ok(Parsed::WaveArticulation(articulation)) => assert!(!articulation.buffers.is_empty()),
        _ => {}
    }
    let mut store: InstrumentStore<Vec<u8>> = InstrumentStore::new(append);
    match store.download(buffer.to_vec()) {
        Ok(done) => {
            // A wave articulation needs its buffers in the store: alone it is refused.
            assert_eq!(store.wave_count() + store.instrument_count(), 1);
            assert_eq!(store.wave_articulation_count(), 0);
            assert!(store.unload(done.dlid).is_ok());
        }
        Err(refused) => {
            assert_eq!(refused.buffer, buffer);
            assert_eq!(
                store.wave_count() + store.instrument_count() + store.wave_articulation_count(),
                0
            );
        }
    }
});
