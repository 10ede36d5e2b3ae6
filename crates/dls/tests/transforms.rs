//! The DLS2 connection transforms heard through the engine: an instrument whose velocity, or
//! whose channel's controllers, reach gain and pitch through a linear, concave, convex or
//! switch curve (inverted, bipolar) plays at the levels and pitches the curves give
//! (`synth::transform`: DLS Level 2.2 §1.6.5).

mod common;

use common::{chunk, dls, instrument, list, region, u16s, u32s, wsmp};
use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::engine::Engine;
use dls::wire::file::DlsFile;
use dmus_sys::dls::{
    CONN_DST_ATTENUATION, CONN_DST_PITCH, CONN_SRC_CC1, CONN_SRC_CC11, CONN_SRC_KEYONVELOCITY,
    CONN_SRC_NONE, CONN_TRN_CONCAVE, CONN_TRN_CONVEX, CONN_TRN_NONE, CONN_TRN_SWITCH,
};

/// `usTransform` bits (DLS Level 2.2 §1.6.5): source invert, source bipolar, the source
/// curve's shift.
const INVERT: u16 = 0x8000;
const BIPOLAR: u16 = 0x4000;
const SOURCE_CURVE: u16 = 10;

/// A looped 16-bit square wave at full level (the note holds a steady level to measure).
fn square_wave() -> Vec<u8> {
    let rate = 22_050u32;
    let fmt = [u16s(&[1, 1]), u32s(&[rate, rate * 2]), u16s(&[2, 16])].concat();
    let data: Vec<u8> = (0..64)
        .flat_map(|i| if i < 32 { 16_000i16 } else { -16_000 }.to_le_bytes())
        .collect();
    list(
        *b"wave",
        &[
            chunk(*b"fmt ", &fmt),
            wsmp(60, 0, 0, 0, Some((0, 64))),
            chunk(*b"data", &data),
        ],
    )
}

/// One instrument (bank 0, program 0) of one region over every key with `connections`.
fn store_with(connections: &[(u16, u16, u16, u16, i32)]) -> InstrumentStore<Vec<u8>> {
    let ins = instrument(
        "Curves",
        0,
        0,
        &[region((0, 127), (0, 127), 0, 0, None, connections)],
        None,
    );
    let bytes = dls(&[ins], &[square_wave()]);
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

/// The RMS level (dB full scale of the left channel) of key 60 at `velocity` after `setup`,
/// measured over 0.1 s once the note has settled, and its voice's step.
fn note(store: &InstrumentStore<Vec<u8>>, setup: &[[u8; 3]], velocity: u8) -> (f64, u64) {
    let mut e: Engine<16, 1> = Engine::new(22_050);
    for m in setup {
        e.message(store, 1, m);
    }
    e.message(store, 1, &[0x90, 60, velocity]);
    let mut out = vec![0; 2 * 2205];
    e.render(store, &mut out);
    out.fill(0);
    e.render(store, &mut out);
    let step = e
        .voices()
        .map(|(_, _, _, v)| v.step_q32())
        .max()
        .unwrap_or(0);
    let sum: f64 = out.iter().step_by(2).map(|&s| f64::from(s).powi(2)).sum();
    let rms = (sum / 2205.0).sqrt().max(1e-9);
    (20.0 * (rms / 32768.0).log10(), step)
}

fn level(store: &InstrumentStore<Vec<u8>>, setup: &[[u8; 3]], velocity: u8) -> f64 {
    note(store, setup, velocity).0
}

/// Velocity → gain at -24 dB through each curve, inverted (full level at 127): the drop from
/// velocity 127 is the curve's value of `127 - v`, times 24 dB.
#[test]
fn velocity_reaches_gain_through_each_curve() {
    // (curve, velocity, the expected drop in dB: 24 · curve((127 - v)/127) for the curves,
    // 24 · (127 - v)/128 for the linear source).
    let cases: [(u16, u8, f64); 8] = [
        (CONN_TRN_NONE, 64, 24.0 * 63.0 / 128.0),
        (CONN_TRN_NONE, 1, 24.0 * 126.0 / 128.0),
        // Concave at 63/127: -(40/96)·log10(64/127) = 0.1240.
        (CONN_TRN_CONCAVE, 64, 24.0 * 0.124_0),
        (CONN_TRN_CONCAVE, 1, 24.0 * 0.876_6),
        // Convex at 63/127: 1 - concave(64/127) = 0.8731.
        (CONN_TRN_CONVEX, 64, 24.0 * 0.873_1),
        // Convex at 7/127: 1 + (40/96)·log10(7/127) = 0.4755.
        (CONN_TRN_CONVEX, 120, 24.0 * 0.475_5),
        // Switch: on from 64 of the inverted value, so below velocity 64 it drops all 24 dB.
        (CONN_TRN_SWITCH, 64, 0.0),
        (CONN_TRN_SWITCH, 63, 24.0),
    ];
    for (curve, velocity, drop_db) in cases {
        let store = store_with(&[(
            CONN_SRC_KEYONVELOCITY,
            CONN_SRC_NONE,
            CONN_DST_ATTENUATION,
            INVERT | (curve << SOURCE_CURVE),
            -240 << 16,
        )]);
        let full = level(&store, &[], 127);
        let measured = full - level(&store, &[], velocity);
        assert!(
            (measured - drop_db).abs() < 0.2,
            "curve {curve} velocity {velocity}: {measured:.2} dB down, the curve says {drop_db:.2}"
        );
    }
}

/// The modulation wheel to gain through a switch (nothing below 64, -20 dB from it), and
/// expression through a convex curve at -24 dB in place of its concave default.
#[test]
fn controllers_reach_gain_through_their_curves() {
    let store = store_with(&[
        (
            CONN_SRC_CC1,
            CONN_SRC_NONE,
            CONN_DST_ATTENUATION,
            CONN_TRN_SWITCH << SOURCE_CURVE,
            -200 << 16,
        ),
        (
            CONN_SRC_CC11,
            CONN_SRC_NONE,
            CONN_DST_ATTENUATION,
            INVERT | (CONN_TRN_CONVEX << SOURCE_CURVE),
            -240 << 16,
        ),
    ]);
    let base = level(&store, &[], 127);
    let with = |setup: &[[u8; 3]]| base - level(&store, setup, 127);
    assert!(
        with(&[[0xB0, 1, 63]]).abs() < 0.05,
        "the switch is off at 63"
    );
    assert!((with(&[[0xB0, 1, 64]]) - 20.0).abs() < 0.1, "and on at 64");
    // A wheel moved while the note sounds takes effect on it too.
    let mut e: Engine<16, 1> = Engine::new(22_050);
    e.message(&store, 1, &[0x90, 60, 127]);
    let mut out = vec![0; 2 * 2205];
    e.render(&store, &mut out);
    e.message(&store, 1, &[0xB0, 1, 127]);
    out.fill(0);
    e.render(&store, &mut out);
    // From the next control period on: the last half of the render.
    let peak = out[2205..]
        .iter()
        .step_by(2)
        .map(|s| s.abs())
        .max()
        .unwrap_or(0);
    let unmoved = 10f64.powf(base / 20.0) * 32768.0;
    assert!(f64::from(peak) < unmoved * 0.2, "peak {peak} vs {unmoved}");
    // Expression, inverted convex at 24 dB: nothing at 127; at 120, 24 · convex(7/127) =
    // 11.4 dB down; at 64, 24 · (1 - concave(64/127)) = 20.95 dB down (the concave default
    // would give 24 · 0.124 = 3 dB).
    assert!(with(&[[0xB0, 11, 127]]).abs() < 0.05);
    let at_120 = with(&[[0xB0, 11, 120]]);
    assert!((at_120 - 11.41).abs() < 0.2, "{at_120:.2} dB down");
    let at_64 = with(&[[0xB0, 11, 64]]);
    assert!((at_64 - 20.95).abs() < 0.2, "{at_64:.2} dB down");
}

/// The wheel to pitch through a bipolar concave curve: no shift at the centre, ±1200 cents at
/// the ends, 1200 · concave(32/63) half way up.
#[test]
fn the_wheel_reaches_pitch_through_a_bipolar_curve() {
    let store = store_with(&[(
        CONN_SRC_CC1,
        CONN_SRC_NONE,
        CONN_DST_PITCH,
        BIPOLAR | (CONN_TRN_CONCAVE << SOURCE_CURVE),
        1200 << 16,
    )]);
    let step = |wheel: u8| note(&store, &[[0xB0, 1, wheel]], 100).1;
    #[allow(clippy::cast_precision_loss, reason = "steps are far below 2^52")]
    let cents = |wheel: u8| 1200.0 * (step(wheel) as f64 / step(64) as f64).log2();
    let (top, bottom) = (cents(127), cents(0));
    assert!((top - 1200.0).abs() < 1.0, "{top}");
    assert!((bottom + 1200.0).abs() < 1.0, "{bottom}");
    // concave(32/63) = -(40/96)·log10(31/63) = 0.1284.
    let half = cents(96);
    assert!((half - 1200.0 * 0.128_4).abs() < 3.0, "{half}");
}

/// The connection masks this file uses, from the public DLS2 layout the library pins.
#[test]
fn the_masks_are_the_librarys() {
    use dls::synth::transform::{TRN_SOURCE_BIPOLAR, TRN_SOURCE_INVERT, TRN_SOURCE_SHIFT};
    assert_eq!(
        (INVERT, BIPOLAR, SOURCE_CURVE),
        (TRN_SOURCE_INVERT, TRN_SOURCE_BIPOLAR, TRN_SOURCE_SHIFT)
    );
}
