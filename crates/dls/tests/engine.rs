//! The synth engine: MIDI messages to voices, on a purpose-built collection and on the GM bank.

mod common;

use common::{chunk, dls, gm_bank, instrument, list, region, u16s, u32s, wave16, wsmp};
use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::engine::{DRUM_CHANNEL, Engine};
use dls::wire::file::DlsFile;
use proptest::prelude::*;

/// EG1 release of 1 s (0 time cents).
const RELEASE_1S: (u16, u16, u16, u16, i32) = (0, 0, 0x209, 0, 0);

/// Program 0: looped, no release. Program 1: looped, 1 s release. Program 2: like program 0 but
/// self-exclusive (no `F_RGN_OPTION_SELFNONEXCLUSIVE`). Drum kit 0: kick (36, one-shot), closed and
/// open hi-hat (42, 46: key group 1, looped so they ring).
fn collection() -> Vec<u8> {
    let looped = || Some(wsmp(60, 0, 0, 0, Some((0, 64))));
    let p0 = instrument(
        "P0",
        0,
        0,
        &[region((0, 127), (0, 127), 0, 0, looped(), &[])],
        None,
    );
    let p1 = instrument(
        "P1",
        0,
        1,
        &[region((0, 127), (0, 127), 0, 0, looped(), &[RELEASE_1S])],
        None,
    );
    let exclusive = list(
        *b"rgn2",
        &[
            chunk(*b"rgnh", &u16s(&[0, 127, 0, 127, 0, 0, 0])),
            wsmp(60, 0, 0, 0, Some((0, 64))),
            chunk(*b"wlnk", &[u16s(&[0, 0]), u32s(&[1, 0])].concat()),
        ],
    );
    let p2 = instrument("P2", 0, 2, &[exclusive], None);
    let kit = instrument(
        "Kit",
        0x8000_0000,
        0,
        &[
            region((36, 36), (0, 127), 0, 1, Some(wsmp(36, 0, 0, 0, None)), &[]),
            region((42, 42), (0, 127), 1, 0, looped(), &[]),
            region((46, 46), (0, 127), 1, 0, looped(), &[]),
        ],
        None,
    );
    dls(
        &[p0, p1, p2, kit],
        &[wave16(22050, 64, None), wave16(22050, 200, None)],
    )
}

fn store_of(bytes: &[u8]) -> InstrumentStore<Vec<u8>> {
    let file = DlsFile::parse(bytes).unwrap();
    let built = build_collection(&file, 1, APPEND_SAMPLES).unwrap();
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

fn render<const V: usize, const G: usize>(
    e: &mut Engine<V, G>,
    store: &InstrumentStore<Vec<u8>>,
    frames: usize,
) -> Vec<i32> {
    let mut out = vec![0; 2 * frames];
    e.render(store, &mut out);
    out
}

fn keys<const V: usize, const G: usize>(e: &Engine<V, G>) -> Vec<(u8, u8, bool)> {
    let mut k: Vec<_> = e
        .voices()
        .map(|(_, ch, key, v)| (ch, key, v.is_released()))
        .collect();
    k.sort_unstable();
    k
}

#[test]
fn note_on_sounds_and_note_off_ends_it() {
    let store = store_of(&collection());
    let mut e: Engine<8, 1> = Engine::new(22050);
    e.message(&store, 1, &[0x90, 60, 100]);
    assert_eq!(keys(&e), vec![(0, 60, false)]);
    let out = render(&mut e, &store, 256);
    assert!(out.iter().any(|&s| s != 0));
    assert_eq!(out[2], out[3], "centre pan: left equals right");
    e.message(&store, 1, &[0x80, 60, 0]);
    render(&mut e, &store, 16);
    assert_eq!(e.active_voices(), 0, "no release time: gone at once");
    // Note-on with velocity 0 is a note-off.
    e.message(&store, 1, &[0x90, 61, 100]);
    e.message(&store, 1, &[0x90, 61, 0]);
    render(&mut e, &store, 16);
    assert_eq!(e.active_voices(), 0);
}

#[test]
fn program_change_and_release_time() {
    let store = store_of(&collection());
    let mut e: Engine<8, 1> = Engine::new(1000);
    e.message(&store, 1, &[0xc3, 1]);
    e.message(&store, 1, &[0x93, 64, 127]);
    e.message(&store, 1, &[0x83, 64, 0]);
    assert_eq!(keys(&e), vec![(3, 64, true)]);
    // The release falls 96 dB in 1 s; a voice ends once it can only round to silence (some
    // 90 dB down at full velocity), so it is checked ringing at 0.8 s and gone after 1 s.
    render(&mut e, &store, 800);
    assert_eq!(
        e.active_voices(),
        1,
        "1 s release at 1000 Hz is still ringing"
    );
    render(&mut e, &store, 210);
    assert_eq!(e.active_voices(), 0);
}

#[test]
fn sustain_pedal_holds_notes_until_lifted() {
    let store = store_of(&collection());
    let mut e: Engine<8, 1> = Engine::new(22050);
    e.message(&store, 1, &[0xb0, 64, 127]);
    e.message(&store, 1, &[0x90, 60, 100]);
    e.message(&store, 1, &[0x80, 60, 0]);
    render(&mut e, &store, 64);
    assert_eq!(keys(&e), vec![(0, 60, false)]);
    e.message(&store, 1, &[0xb0, 64, 0]);
    render(&mut e, &store, 64);
    assert_eq!(e.active_voices(), 0);
}

#[test]
fn exclusive_class_and_same_key_retrigger_cut_the_old_voice() {
    let store = store_of(&collection());
    let mut e: Engine<8, 1> = Engine::new(22050);
    let drum = 0x90 | DRUM_CHANNEL;
    e.message(&store, 1, &[drum, 46, 100]);
    e.message(&store, 1, &[drum, 36, 100]);
    e.message(&store, 1, &[drum, 42, 100]);
    render(&mut e, &store, 8);
    assert_eq!(
        keys(&e),
        vec![(9, 36, false), (9, 42, false)],
        "closed hi-hat cuts the open one"
    );
    // Program 0's region is self-non-exclusive: a retriggered key sounds twice.
    e.message(&store, 1, &[0x90, 60, 100]);
    e.message(&store, 1, &[0x90, 60, 90]);
    render(&mut e, &store, 8);
    assert_eq!(
        e.voices()
            .filter(|(_, ch, key, _)| (*ch, *key) == (0, 60))
            .count(),
        2
    );
    // Program 2's is not: the retrigger cuts the sounding voice.
    e.message(&store, 1, &[0xc1, 2]);
    e.message(&store, 1, &[0x91, 60, 100]);
    e.message(&store, 1, &[0x91, 60, 90]);
    render(&mut e, &store, 8);
    assert_eq!(
        e.voices()
            .filter(|(_, ch, key, _)| (*ch, *key) == (1, 60))
            .count(),
        1
    );
}

#[test]
fn voices_are_stolen_oldest_first() {
    let store = store_of(&collection());
    let mut e: Engine<4, 1> = Engine::new(22050);
    for key in 60..66 {
        e.message(&store, 1, &[0x90, key, 100]);
    }
    assert_eq!(e.active_voices(), 4);
    assert_eq!(
        keys(&e).iter().map(|k| k.1).collect::<Vec<_>>(),
        vec![62, 63, 64, 65]
    );
    // 4 voices, 4 + 2 held notes: 2 steals.
    assert_eq!(e.stolen_voices(), 2);
    for key in 66..71 {
        e.message(&store, 1, &[0x90, key, 100]);
    }
    assert_eq!(e.stolen_voices(), 7, "4 voices, 4 + 7 notes");
    // Reset silences everything but keeps the statistic.
    e.reset(22050);
    assert_eq!((e.active_voices(), e.stolen_voices()), (0, 7));
}

/// Steals are voices taken from held notes; free and released voices, exclusive classes and
/// self-exclusive retriggers are not steals.
#[test]
fn only_voices_taken_from_held_notes_count_as_stolen() {
    let store = store_of(&collection());
    let mut e: Engine<2, 1> = Engine::new(22050);
    e.message(&store, 1, &[0x90, 60, 100]);
    e.message(&store, 1, &[0x90, 61, 100]);
    assert_eq!(e.stolen_voices(), 0, "two free voices");
    // Program 1 rings for 1 s after note-off: its released voices stay in their slots.
    e.message(&store, 1, &[0xc1, 1]);
    e.message(&store, 1, &[0x91, 62, 100]);
    e.message(&store, 1, &[0x91, 63, 100]);
    assert_eq!(e.stolen_voices(), 2, "both held program-0 notes lost");
    e.message(&store, 1, &[0x81, 62, 0]);
    e.message(&store, 1, &[0x81, 63, 0]);
    assert_eq!(keys(&e), vec![(1, 62, true), (1, 63, true)]);
    e.message(&store, 1, &[0x90, 64, 100]);
    e.message(&store, 1, &[0x90, 65, 100]);
    assert_eq!(
        e.stolen_voices(),
        2,
        "released voices (tails only) are not steals"
    );
    e.message(&store, 1, &[0xb0, 123, 0]);
    render(&mut e, &store, 16);
    assert_eq!(e.active_voices(), 0);
    // The closed hi-hat (key group 1) cuts the open one: the DLS rule, not a steal,
    // even when a later note takes the cut voice.
    let drum = 0x90 | DRUM_CHANNEL;
    e.message(&store, 1, &[drum, 46, 100]);
    e.message(&store, 1, &[drum, 42, 100]);
    e.message(&store, 1, &[0x90, 60, 100]);
    assert_eq!(
        e.stolen_voices(),
        2,
        "the exclusive class cut is not counted"
    );
    assert_eq!(keys(&e), vec![(0, 60, false), (9, 42, false)]);
    // A self-exclusive retrigger (program 2) shuts the old voice down (DLS2 §1.4.4): not a
    // steal either.
    e.message(&store, 1, &[0xb0, 123, 0]);
    e.message(&store, 1, &[0xb9, 123, 0]);
    render(&mut e, &store, 16);
    e.message(&store, 1, &[0xc2, 2]);
    e.message(&store, 1, &[0x92, 60, 100]);
    e.message(&store, 1, &[0x92, 60, 90]);
    e.message(&store, 1, &[0x92, 61, 90]);
    assert_eq!(e.stolen_voices(), 2);
    // A note held only by the sustain pedal is still held: taking it is a steal.
    e.message(&store, 1, &[0xb2, 64, 127]);
    e.message(&store, 1, &[0x82, 60, 0]);
    e.message(&store, 1, &[0x82, 61, 0]);
    e.message(&store, 1, &[0x92, 62, 100]);
    assert_eq!(e.stolen_voices(), 3, "a pedal-held note is lost");
}

/// The priority decides which voice goes; each one taken is counted once.
#[test]
fn priority_picks_the_stolen_voice_and_each_steal_counts() {
    let store = store_of(&collection());
    let mut e: Engine<3, 1> = Engine::new(22050);
    assert!(e.set_priority(1, 0, 300));
    assert!(e.set_priority(1, 1, 100));
    assert!(e.set_priority(1, 2, 200));
    e.message(&store, 1, &[0x90, 60, 100]);
    e.message(&store, 1, &[0x91, 62, 100]);
    e.message(&store, 1, &[0x92, 64, 100]);
    assert_eq!(e.stolen_voices(), 0);
    e.message(&store, 1, &[0x92, 65, 100]);
    assert_eq!(
        keys(&e),
        vec![(0, 60, false), (2, 64, false), (2, 65, false)],
        "channel 1 (lowest priority) lost its voice"
    );
    assert_eq!(e.stolen_voices(), 1);
    e.message(&store, 1, &[0x90, 67, 100]);
    assert_eq!(
        keys(&e),
        vec![(0, 60, false), (0, 67, false), (2, 65, false)],
        "then the older of channel 2's"
    );
    assert_eq!(e.stolen_voices(), 2);
}

#[test]
fn volume_pan_and_groups() {
    let store = store_of(&collection());
    let mut e: Engine<8, 2> = Engine::new(22050);
    e.message(&store, 2, &[0xb0, 10, 0]);
    e.message(&store, 2, &[0x90, 60, 127]);
    let out = render(&mut e, &store, 128);
    assert!(
        out.chunks(2).all(|f| f[1] == 0) && out.chunks(2).any(|f| f[0] != 0),
        "hard left"
    );
    e.message(&store, 2, &[0xb0, 7, 0]);
    let out = render(&mut e, &store, 128);
    assert!(out.iter().all(|&s| s == 0), "volume 0 is silent");
    assert_eq!(e.active_voices(), 1);
    // Group 0 reaches every group; group 3 does not exist here.
    e.message(&store, 3, &[0x90, 70, 100]);
    assert_eq!(e.active_voices(), 1);
    e.message(&store, 0, &[0x90, 70, 100]);
    assert_eq!(e.voices().filter(|v| v.2 == 70).count(), 2);
    e.message(&store, 0, &[0xb0, 120, 0]);
    assert_eq!(e.active_voices(), 0, "all sound off");
}

#[test]
fn pitch_bend_follows_the_rpn_range() {
    let store = store_of(&collection());
    let mut e: Engine<8, 1> = Engine::new(22050);
    e.message(&store, 1, &[0x90, 60, 100]);
    let step = |e: &Engine<8, 1>| e.voices().next().unwrap().3.step_q32();
    assert_eq!(step(&e), 1 << 32);
    // RPN 0 = 12 semitones, then full bend up.
    for msg in [[0xb0, 101, 0], [0xb0, 100, 0], [0xb0, 6, 12], [0xb0, 38, 0]] {
        e.message(&store, 1, &msg);
    }
    e.message(&store, 1, &[0xe0, 0x7f, 0x7f]);
    let up = step(&e);
    // 8191/8192 of 1200 cents rounds down to 1199 cents.
    assert!(
        up > 0x1_ff00_0000 && up < 2 << 32,
        "an octave up, got {up:#x}"
    );
    e.message(&store, 1, &[0xe0, 0, 0]);
    assert_eq!(step(&e), 1 << 31, "full bend down is an octave down");
    // New notes start bent; reset-all-controllers centres the bend.
    e.message(&store, 1, &[0xb0, 121, 0]);
    assert_eq!(step(&e), 1 << 32);
}

#[test]
fn bank_fallback_and_unloaded_waves() {
    let bytes = collection();
    let mut store = store_of(&bytes);
    let mut e: Engine<8, 1> = Engine::new(22050);
    e.message(&store, 1, &[0xb0, 0, 5]);
    e.message(&store, 1, &[0xc0, 1]);
    e.message(&store, 1, &[0x90, 60, 100]);
    assert_eq!(e.active_voices(), 1, "bank 5 falls back to bank 0");
    e.message(&store, 1, &[0xc9, 16]);
    e.message(&store, 1, &[0x99, 36, 100]);
    assert_eq!(
        e.active_voices(),
        2,
        "drum kit 16 falls back to the standard kit"
    );
    e.message(&store, 1, &[0xc0, 77]);
    e.message(&store, 1, &[0x90, 61, 100]);
    assert_eq!(
        e.active_voices(),
        2,
        "a melodic program that is nowhere plays nothing"
    );
    // Unload everything: the engine drops voices whose wave is gone.
    for dlid in [3, 4, 5, 6, 1, 2] {
        store.unload(dlid).unwrap();
    }
    render(&mut e, &store, 8);
    assert_eq!(e.active_voices(), 0);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any byte soup as messages: no panic, never more voices than slots, output bounded.
    #[test]
    fn arbitrary_messages_never_panic(msgs in prop::collection::vec((0u16..4, prop::collection::vec(any::<u8>(), 0..4)), 0..64)) {
        let store = store_of(&collection());
        let mut e: Engine<6, 2> = Engine::new(8000);
        for (group, bytes) in &msgs {
            e.message(&store, *group, bytes);
            prop_assert!(e.active_voices() <= 6);
            let out = render(&mut e, &store, 16);
            prop_assert!(out.iter().all(|s| s.unsigned_abs() <= 6 * 32768));
        }
    }
}

#[test]
fn gm_bank_chord_and_drums_render() {
    let Some(bytes) = gm_bank() else { return };
    let store = store_of(&bytes);
    let mut e: Engine<32, 1> = Engine::new(22050);
    for key in [60, 64, 67] {
        e.message(&store, 1, &[0x90, key, 100]);
    }
    e.message(&store, 1, &[0x99, 36, 120]);
    e.message(&store, 1, &[0x99, 42, 100]);
    let voices = e.active_voices();
    assert!(voices >= 5, "{voices} voices");
    let out = render(&mut e, &store, 22050);
    let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 1000, "peak {peak}");
    println!("GM chord + drums: {voices} voices, peak {peak}");
}
