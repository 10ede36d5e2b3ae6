//! Engine behaviours that the comparison with `FluidSynth` (`benches/vs_fluidsynth.rs`) exposed,
//! pinned on hand-built collections so they hold without `FluidSynth` or the shared bank.

mod common;

use common::{chunk, dls, instrument, list, u16s, u32s, wave16, wsmp};
use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::engine::Engine;
use dls::wire::file::DlsFile;

/// A self-exclusive region (`fusOptions` 0: no `F_RGN_OPTION_SELFNONEXCLUSIVE`) over every key,
/// looped, in exclusive class `key_group`, playing pool cue `cue`.
fn exclusive_region(key_group: u16, cue: u32) -> Vec<u8> {
    list(
        *b"rgn2",
        &[
            chunk(*b"rgnh", &u16s(&[0, 127, 0, 127, 0, key_group, 0])),
            wsmp(60, 0, 0, 0, Some((0, 64))),
            chunk(*b"wlnk", &[u16s(&[0, 0]), u32s(&[1, cue])].concat()),
        ],
    )
}

/// Program 0: two self-exclusive layers on every key (as the GM bank's "E.Piano 1").
/// Program 1: two layers in the same exclusive class.
fn layered() -> InstrumentStore<Vec<u8>> {
    let bytes = dls(
        &[
            instrument(
                "Layers",
                0,
                0,
                &[exclusive_region(0, 0), exclusive_region(0, 1)],
                None,
            ),
            instrument(
                "Class",
                0,
                1,
                &[exclusive_region(2, 0), exclusive_region(2, 1)],
                None,
            ),
        ],
        &[wave16(22050, 200, None), wave16(22050, 300, None)],
    );
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

/// (key, released) of every voice, in slot order.
fn voices(e: &Engine<8, 1>) -> Vec<(u8, bool)> {
    e.voices()
        .map(|(_, _, k, v)| (k, v.is_released()))
        .collect()
}

#[test]
fn layers_of_one_note_on_do_not_cut_each_other() {
    let store = layered();
    for program in [0u8, 1] {
        let mut e = Engine::<8, 1>::new(22050);
        e.message(&store, 1, &[0xc0, program]);
        e.message(&store, 1, &[0x90, 60, 100]);
        assert_eq!(
            voices(&e),
            [(60, false), (60, false)],
            "program {program}: both layers sound"
        );
        // Striking the key again cuts the earlier note's layers, not the new ones.
        e.message(&store, 1, &[0x90, 60, 100]);
        let mut got = voices(&e);
        got.sort_unstable();
        assert_eq!(
            got,
            [(60, false), (60, false), (60, true), (60, true)],
            "program {program}: the re-struck note replaces both earlier layers"
        );
    }
}

#[test]
fn layered_note_is_as_loud_as_its_layers_together() {
    let store = layered();
    let mut e = Engine::<8, 1>::new(22050);
    e.message(&store, 1, &[0x90, 60, 127]);
    let mut out = vec![0i32; 2 * 2048];
    e.render(&store, &mut out);
    // Both layers still play through their envelopes after a render period.
    assert_eq!(e.active_voices(), 2);
    assert!(voices(&e).iter().all(|&(_, released)| !released));
    assert!(out.iter().any(|&s| s != 0));
}
