//! The send effects through the engine: GM2's CC91/CC93 and DLS2's `CONN_DST_REVERB` /
//! `CONN_DST_CHORUS` sends into the reverb and the chorus (issue 15 item 2's done-when).

mod common;

use common::{dls, gm_bank, instrument, region, wave16, wsmp};
use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::effects::EffectSwitches;
use dls::synth::engine::Engine;
use dls::wire::file::DlsFile;
use dmus_sys::dls::{
    CONN_DST_CHORUS, CONN_DST_EG1_RELEASETIME, CONN_DST_REVERB, CONN_SRC_CC91, CONN_SRC_NONE,
};

type Synth = Engine<64, 1>;
const RATE: u32 = 48_000;

fn store_of(bytes: &[u8]) -> InstrumentStore<Vec<u8>> {
    let file = DlsFile::parse(bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

/// A timed message list rendered to interleaved stereo: (frame, bytes) in order, then
/// `total` frames in all.
fn render(
    store: &InstrumentStore<Vec<u8>>,
    switches: EffectSwitches,
    events: &[(usize, Vec<u8>)],
    total: usize,
) -> Vec<i32> {
    let mut e = Synth::try_new(RATE, 64, 1).unwrap();
    e.set_effects(switches);
    assert_eq!(e.effects(), switches);
    let mut out = vec![0i32; 2 * total];
    let mut at = 0;
    for (frame, bytes) in events.iter().chain([&(total, vec![])]) {
        if *frame > at {
            e.render(store, &mut out[2 * at..2 * frame]);
            at = *frame;
        }
        if !bytes.is_empty() {
            e.message(store, 1, bytes);
        }
    }
    out
}

fn energy(interleaved: &[i32]) -> f64 {
    interleaved.iter().map(|&s| f64::from(s).powi(2)).sum()
}

/// Pearson correlation of the left and right channels.
fn lr_correlation(interleaved: &[i32]) -> f64 {
    let n = f64::from(u32::try_from(interleaved.len() / 2).unwrap());
    let (l, r): (Vec<f64>, Vec<f64>) = interleaved
        .chunks_exact(2)
        .map(|f| (f64::from(f[0]), f64::from(f[1])))
        .unzip();
    let (ml, mr) = (l.iter().sum::<f64>() / n, r.iter().sum::<f64>() / n);
    let cov: f64 = l.iter().zip(&r).map(|(a, b)| (a - ml) * (b - mr)).sum();
    let vl: f64 = l.iter().map(|a| (a - ml).powi(2)).sum();
    let vr: f64 = r.iter().map(|b| (b - mr).powi(2)).sum();
    cov / (vl * vr).sqrt()
}

const BOTH: EffectSwitches = EffectSwitches {
    reverb: true,
    chorus: true,
};
const OFF: EffectSwitches = EffectSwitches {
    reverb: false,
    chorus: false,
};

/// Eight staccato piano notes (60 ms on, every 125 ms) after CC91 = `cc91`; the last
/// note-off at frame `LAST_OFF`.
fn staccato(cc91: u8) -> Vec<(usize, Vec<u8>)> {
    let mut events = vec![(0, vec![0xb0, 91, cc91]), (0, vec![0xc0, 0])];
    for n in 0..8 {
        let key = 60 + [0u8, 4, 7, 12, 7, 4, 0, 7][n];
        events.push((n * 6_000, vec![0x90, key, 100]));
        events.push((n * 6_000 + 2_880, vec![0x80, key, 0]));
    }
    events
}
const LAST_OFF: usize = 7 * 6_000 + 2_880;

#[test]
fn cc91_127_on_staccato_notes_leaves_a_reverb_tail_cc91_0_does_not() {
    let Some(bank) = gm_bank() else {
        return;
    };
    let store = store_of(&bank);
    let total = LAST_OFF + 2 * 48_000;
    let wet = render(&store, BOTH, &staccato(127), total);
    // The GM bank's instruments send 7 % to the reverb by their own constant connection, so
    // CC91 = 0 leaves a faint tail of its own; with the effects off there is none.
    let dry = render(&store, BOTH, &staccato(0), total);
    let off = render(&store, OFF, &staccato(127), total);
    // From 0.3 s after the last note-off (the piano's own release is over) for 1.5 s.
    let tail = 2 * (LAST_OFF + 14_400)..2 * (LAST_OFF + 14_400 + 72_000);
    let after_off = 2 * LAST_OFF..2 * total;
    let (wet_tail, dry_tail) = (energy(&wet[tail.clone()]), energy(&dry[tail.clone()]));
    let off_tail = energy(&off[tail.clone()]);
    let (wet_after, dry_after) = (energy(&wet[after_off.clone()]), energy(&dry[after_off]));
    println!(
        "staccato tail energy (0.3-1.8 s after the last note-off): CC91=127 {wet_tail:.3e}, \
         CC91=0 {dry_tail:.3e} ({:.0}x), effects off {off_tail:.3e}; everything after the \
         note-off: {wet_after:.3e} vs {dry_after:.3e} ({:.1}x)",
        wet_tail / dry_tail.max(1.0),
        wet_after / dry_after.max(1.0)
    );
    assert!(wet_tail > 1e6, "an audible tail: {wet_tail:.3e}");
    assert!(
        wet_tail > 20.0 * dry_tail.max(1.0),
        "{wet_tail:.3e} vs {dry_tail:.3e}"
    );
    assert!(
        wet_tail > 100.0 * off_tail.max(1.0),
        "the dry piano has all but ended"
    );
    assert!(wet_after > 2.0 * dry_after);
}

#[test]
fn cc93_127_widens_a_centred_note() {
    let Some(bank) = gm_bank() else {
        return;
    };
    let store = store_of(&bank);
    let held = |cc93: u8| {
        vec![
            (0, vec![0xb0, 93, cc93]),
            (0, vec![0xb0, 91, 0]),
            (0, vec![0xc0, 48]),
            (0, vec![0x90, 60, 100]),
        ]
    };
    let chorus = EffectSwitches {
        reverb: false,
        chorus: true,
    };
    let total = 2 * 48_000;
    let wide = render(&store, chorus, &held(127), total);
    let plain = render(&store, chorus, &held(0), total);
    let (wide_r, plain_r) = (lr_correlation(&wide), lr_correlation(&plain));
    println!("L/R correlation of a centred string note: CC93=127 {wide_r:.4}, CC93=0 {plain_r:.4}");
    assert!(plain_r > 0.9999, "a centred voice alone is mono: {plain_r}");
    assert!(wide_r < 0.9, "the chorus decorrelates the sides: {wide_r}");
}

#[test]
fn with_both_off_the_sends_change_nothing() {
    let Some(bank) = gm_bank() else {
        return;
    };
    let store = store_of(&bank);
    let mut events = staccato(127);
    events.insert(0, (0, vec![0xb0, 93, 127]));
    let total = LAST_OFF + 24_000;
    let off = render(&store, OFF, &events, total);
    // The default CC91 (40) and CC93 (0): the same samples when the effects are off.
    assert!(off == render(&store, OFF, &staccato(40), total));
    assert!(
        off != render(&store, BOTH, &events, total),
        "the effects are heard when on"
    );
}

fn same(a: &[i32], b: &[i32]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y)
}

/// Program 0 sends 100 % to the reverb by a constant `CONN_DST_REVERB` and nothing by CC91
/// (its own CC91 connection at 0); program 1 sends by a constant `CONN_DST_CHORUS`.
fn sending_collection() -> Vec<u8> {
    let looped = || Some(wsmp(60, 0, 0, 0, Some((0, 1000))));
    let release = (
        CONN_SRC_NONE,
        CONN_SRC_NONE,
        CONN_DST_EG1_RELEASETIME,
        0,
        -12_000 << 16,
    );
    let to_reverb = (CONN_SRC_NONE, CONN_SRC_NONE, CONN_DST_REVERB, 0, 1000 << 16);
    let cc91_none = (CONN_SRC_CC91, CONN_SRC_NONE, CONN_DST_REVERB, 0, 0);
    let to_chorus = (CONN_SRC_NONE, CONN_SRC_NONE, CONN_DST_CHORUS, 0, 1000 << 16);
    let p0 = instrument(
        "Rev",
        0,
        0,
        &[region(
            (0, 127),
            (0, 127),
            0,
            0,
            looped(),
            &[release, to_reverb, cc91_none],
        )],
        None,
    );
    let p1 = instrument(
        "Cho",
        0,
        1,
        &[region(
            (0, 127),
            (0, 127),
            0,
            0,
            looped(),
            &[release, cc91_none, to_chorus],
        )],
        None,
    );
    let plain = instrument(
        "Plain",
        0,
        2,
        &[region((0, 127), (0, 127), 0, 0, looped(), &[release])],
        None,
    );
    dls(&[p0, p1, plain], &[wave16(22_050, 1000, None)])
}

#[test]
fn articulation_sends_reach_the_effects_whatever_the_controllers() {
    let store = store_of(&sending_collection());
    let note = |program: u8| {
        vec![
            (0, vec![0xb0, 91, 127]),
            (0, vec![0xb0, 93, 0]),
            (0, vec![0xc0, program]),
            (0, vec![0x90, 60, 100]),
            (4_800, vec![0x80, 60, 0]),
        ]
    };
    let total = 48_000;
    let after = 2 * 9_600..2 * total;
    let reverb_only = EffectSwitches {
        reverb: true,
        chorus: false,
    };
    let dry = render(&store, OFF, &note(0), total);
    assert!(
        dry[after.clone()].iter().all(|&s| s == 0),
        "a 1 ms release: silent after it"
    );
    let wet = render(&store, reverb_only, &note(0), total);
    assert!(
        energy(&wet[after.clone()]) > 1e6,
        "the constant send rings on"
    );
    // Program 1: CC91 = 127 but its CC91 connection scales it to nothing; its chorus send
    // is constant.
    assert!(same(
        &render(&store, reverb_only, &note(1), total),
        &render(&store, OFF, &note(1), total)
    ));
    let chorused = render(&store, BOTH, &note(1), total);
    assert!(!same(&chorused, &render(&store, OFF, &note(1), total)));
    // Program 2 sends nothing of its own; with CC91 and CC93 at 0 the effects, though on,
    // add exact zeros: the dry mix bit for bit.
    let silent = |program: u8| {
        vec![
            (0, vec![0xb0, 91, 0]),
            (0, vec![0xc0, program]),
            (0, vec![0x90, 60, 100]),
            (4_800, vec![0x80, 60, 0]),
        ]
    };
    assert!(same(
        &render(&store, BOTH, &silent(2), total),
        &render(&store, OFF, &silent(2), total)
    ));
}
