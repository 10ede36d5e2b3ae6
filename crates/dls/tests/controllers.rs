//! Controllers and registered parameters through the engine: any sequence of controller
//! messages keeps a channel's tuning in range, and on the GM bank the modulation wheel and the
//! tuning RPNs change what is heard (the wheel does only where the bank connects it).

mod common;

use common::gm_bank;
use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::engine::{Channel, Engine};
use dls::wire::file::DlsFile;
use proptest::prelude::*;

fn store_of(bytes: &[u8]) -> InstrumentStore<Vec<u8>> {
    let file = DlsFile::parse(bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

fn render(e: &mut Engine<16, 1>, store: &InstrumentStore<Vec<u8>>, frames: usize) -> Vec<i32> {
    let mut out = vec![0; 2 * frames];
    e.render(store, &mut out);
    out
}

/// Controller numbers the channel state reads (and a few it does not).
const CONTROLLERS: [u8; 14] = [1, 6, 7, 10, 11, 38, 64, 96, 97, 98, 99, 100, 101, 121];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Data entry, increments and selections in any order: the bend range stays within RPN 0's
    /// 127 semitones 99 cents, the tunings within their 14 and 7 bits.
    #[test]
    fn controller_sequences_keep_the_channel_in_range(
        msgs in prop::collection::vec((0usize..CONTROLLERS.len(), 0u8..128, 0u8..4), 0..200)
    ) {
        let store: InstrumentStore<Vec<u8>> = InstrumentStore::new(APPEND_SAMPLES);
        let mut e: Engine<16, 1> = Engine::new(48_000);
        for (cc, value, kind) in msgs {
            let bytes = match kind {
                0 | 1 => [0xB0, CONTROLLERS[cc], value],
                2 => [0xD0, value, 0],
                _ => [0xE0, value, value],
            };
            e.message(&store, 1, &bytes);
            let c: Channel = *e.channel(1, 0).unwrap();
            prop_assert!((0..=127 * 100 + 99).contains(&c.bend_range_cents));
            prop_assert!(c.fine_tune <= 0x3fff && c.coarse_tune <= 127);
            prop_assert!(c.tuning_cents().abs() <= 64 * 100 + 100);
        }
    }
}

/// A held GM note (program 0) rendered for a second after `setup`, and its voice's step
/// (Q32.32 frames per sample) at the end.
fn held_note(store: &InstrumentStore<Vec<u8>>, setup: &[[u8; 3]]) -> (Vec<i32>, u64) {
    let mut e: Engine<16, 1> = Engine::new(22_050);
    for m in setup {
        e.message(store, 1, m);
    }
    e.message(store, 1, &[0x90, 69, 100]);
    let out = render(&mut e, store, 22_050);
    let step = e.voices().map(|(_, _, _, v)| v.step_q32()).max().unwrap();
    (out, step)
}

#[test]
fn the_gm_bank_follows_the_wheel_and_the_tuning() {
    let Some(bytes) = gm_bank() else { return };
    let store = store_of(&bytes);
    let plain = held_note(&store, &[]);
    // The bank states no modulation wheel connection and DLS2 has no default one (vibrato ×
    // CC1 → pitch is 0 cents in DLS2's table; see `synth::articulation`): the wheel alone
    // changes nothing.
    let wheel = held_note(&store, &[[0xB0, 1, 127]]);
    assert_eq!(plain.0, wheel.0, "no wheel connection, no vibrato");
    // RPN 2 at +12 semitones: an octave up, twice the step.
    let octave = held_note(&store, &[[0xB0, 101, 0], [0xB0, 100, 2], [0xB0, 6, 76]]);
    assert_eq!(
        octave.1.abs_diff(2 * plain.1) * 1000 / plain.1,
        0,
        "{} {}",
        octave.1,
        plain.1
    );
    assert_ne!(octave.0, plain.0);
    // The null RPN after selecting RPN 2: the data entry reaches nothing.
    let null = held_note(
        &store,
        &[
            [0xB0, 101, 0],
            [0xB0, 100, 2],
            [0xB0, 101, 127],
            [0xB0, 100, 127],
            [0xB0, 6, 76],
        ],
    );
    assert_eq!(null, plain);
}
