//! `InstrumentStore::wave_placed`, the engine's per-part wave lookup: it gives exactly what
//! `wave` gives, whatever the place it is handed, and keeps the place up to date when an
//! unload moves the waves.

mod common;

use common::small_collection;
use dls::download::{InstrumentStore, StoredWave};

use dls::download::build::build_collection;
use dls::wire::file::DlsFile;

const APPEND: u32 = 1;

/// The small collection's waves alone (no instrument holds them, so any can be unloaded).
fn store_of_waves() -> (InstrumentStore<Vec<u8>>, Vec<u32>) {
    let bytes = small_collection();
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 100, APPEND).unwrap();
    let mut store = InstrumentStore::new(APPEND);
    let mut dlids = Vec::new();
    for b in built.waves {
        dlids.push(b.dlid);
        store.download(b.bytes).unwrap();
    }
    (store, dlids)
}

#[test]
fn a_placed_lookup_finds_what_a_search_finds_and_follows_an_unload() {
    let (mut store, dlids) = store_of_waves();
    assert!(dlids.len() >= 2, "the collection has two waves or more");
    for &dlid in &dlids {
        // Any place, right or wrong or past the table, gives the same wave.
        for start in [0, 1, dlids.len(), usize::MAX] {
            let mut place = start;
            let placed = store.wave_placed(dlid, &mut place).map(StoredWave::dlid);
            assert_eq!(placed, Some(dlid));
            assert_eq!(
                store.wave_placed(dlid, &mut place).map(StoredWave::dlid),
                Some(dlid)
            );
            // The place is now the wave's: asked again, it is not moved.
            let settled = place;
            store.wave_placed(dlid, &mut place);
            assert_eq!(place, settled);
        }
    }
    // The last wave's place, then the first wave unloaded: the last moves down one.
    let last = *dlids.last().unwrap();
    let mut place = 0;
    store.wave_placed(last, &mut place).unwrap();
    let before = place;
    assert_eq!(store.unload(dlids[0]), Ok(Some(store_bytes_of(&dlids, 0))));
    assert_eq!(
        store.wave_placed(last, &mut place).map(StoredWave::dlid),
        Some(last)
    );
    assert_eq!(place, before - 1, "the place follows the move");
    // A wave no longer there is not found, and the place is left alone.
    let mut place = 0;
    assert!(store.wave_placed(dlids[0], &mut place).is_none());
    assert_eq!(place, 0);
    assert!(store.wave(dlids[0]).is_none());
}

/// The download buffer of the collection's wave `index` (what an unload hands back).
fn store_bytes_of(dlids: &[u32], index: usize) -> Vec<u8> {
    let bytes = small_collection();
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 100, APPEND).unwrap();
    let buffer = built.waves.into_iter().nth(index).unwrap();
    assert_eq!(buffer.dlid, dlids[index]);
    buffer.bytes
}
