//! Any bytes as a stream of MIDI messages into the synth engine playing the seed collection:
//! no panic, never more voices than slots, output bounded by the voice count.
#![no_main]

use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::engine::Engine;
use dls::wire::file::DlsFile;
use libfuzzer_sys::fuzz_target;

static COLLECTION: &[u8] = include_bytes!("../seeds/dls_file/small_collection.dls");

fuzz_target!(|data: &[u8]| {
    let file = DlsFile::parse(COLLECTION).expect("seed collection parses");
    let built = build_collection(&file, 1, APPEND_SAMPLES).expect("seed collection builds");
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).expect("seed buffers download");
    }
    let mut engine: Engine<8, 2> = Engine::new(8000);
    let mut out = [0i32; 32];
    for record in data.chunks(4) {
        let Some((&group, message)) = record.split_first() else { continue };
        engine.message(&store, u16::from(group % 4), message);
        out.fill(0);
        engine.render(&store, &mut out);
        assert!(engine.active_voices() <= 8);
        assert!(out.iter().all(|s| s.unsigned_abs() <= 8 * 32768));
    }
});
