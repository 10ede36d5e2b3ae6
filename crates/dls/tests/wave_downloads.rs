//! Download types 4–6 (`DMUS_DOWNLOADINFO_WAVEARTICULATION`, `_STREAMINGWAVE`,
//! `_ONESHOTWAVE`): build → parse → store, every fault refused with the store unchanged, and
//! wave voices (`Engine::play_voice`) playing a one-shot once and a streamed wave across its
//! buffers.

mod common;

use common::{item_offset, put_u32};
use dls::download::build::{WaveDownload, build_wave, build_wave_articulation, build_wave_buffer};
use dls::download::{
    DownloadError, InstrumentStore, Parsed, ParsedWaveArticulation, WaveKind, parse,
};
use dls::model::WaveFormat;
use dls::synth::engine::Engine;
use dls::wire::file::Wave;
use dmus_sys::dls::{
    DMUS_DOWNLOADINFO_ONESHOTWAVE, DMUS_DOWNLOADINFO_STREAMINGWAVE,
    DMUS_DOWNLOADINFO_WAVEARTICULATION,
};

const APPEND: u32 = 1;
const RATE: u32 = 22_050;

fn format(rate: u32) -> WaveFormat {
    WaveFormat {
        format_tag: 1,
        channels: 1,
        sample_rate: rate,
        avg_bytes_per_sec: rate * 2,
        block_align: 2,
        bits_per_sample: 16,
    }
}

/// `frames` frames of a sawtooth starting at `from` (so buffers of one wave continue it).
fn saw(from: usize, frames: usize) -> Vec<u8> {
    (from..from + frames)
        .flat_map(|n| {
            let v = i16::try_from(i32::try_from(n % 100).unwrap() * 600 - 30_000).unwrap();
            v.to_le_bytes()
        })
        .collect()
}

fn one_shot(dlid: u32, frames: usize) -> Vec<u8> {
    build_wave_buffer(
        dlid,
        WaveDownload::OneShot,
        format(RATE),
        &saw(0, frames),
        APPEND,
    )
    .unwrap()
}

fn streaming(dlid: u32, from: usize, frames: usize) -> Vec<u8> {
    build_wave_buffer(
        dlid,
        WaveDownload::Streaming,
        format(RATE),
        &saw(from, frames),
        APPEND,
    )
    .unwrap()
}

fn articulation(dlid: u32, buffers: &[u32]) -> Vec<u8> {
    build_wave_articulation(dlid, buffers, 3, 0, 1).unwrap()
}

/// One-shot 10 (900 frames) with articulation 20; streamed buffers 11..=13 (300 frames each,
/// one sawtooth) with articulation 21.
fn store() -> InstrumentStore<Vec<u8>> {
    let mut store = InstrumentStore::new(APPEND);
    for b in [
        one_shot(10, 900),
        streaming(11, 0, 300),
        streaming(12, 300, 300),
        streaming(13, 600, 300),
        articulation(20, &[10]),
        articulation(21, &[11, 12, 13]),
    ] {
        store.download(b).expect("download");
    }
    store
}

#[test]
fn download_type_constants_are_dmdls_h() {
    // mingw-w64 include/dmdls.h: DMUS_DOWNLOADINFO_WAVEARTICULATION 0x4, _STREAMINGWAVE 0x5,
    // _ONESHOTWAVE 0x6.
    assert_eq!(
        (
            DMUS_DOWNLOADINFO_WAVEARTICULATION,
            DMUS_DOWNLOADINFO_STREAMINGWAVE,
            DMUS_DOWNLOADINFO_ONESHOTWAVE
        ),
        (4, 5, 6)
    );
}

#[test]
fn built_buffers_parse_to_what_was_built() {
    let b = one_shot(10, 900);
    // DMUS_DOWNLOADINFO, 3 offsets, DMUS_WAVEDL, DMUS_WAVE, DMUS_WAVEDATA + data + guard.
    assert_eq!(
        u32::from_le_bytes(b[0..4].try_into().unwrap()),
        DMUS_DOWNLOADINFO_ONESHOTWAVE
    );
    let Ok(Parsed::Wave(w)) = parse(&b, APPEND) else {
        panic!("one-shot refused")
    };
    assert_eq!((w.dlid, w.kind, w.frames()), (10, WaveKind::OneShot, 900));
    assert_eq!(w.format, format(RATE));
    assert_eq!(&b[w.data.clone()], &saw(0, 900)[..]);
    assert_eq!(w.guard.len(), 2);

    let Ok(Parsed::Wave(s)) = parse(&streaming(12, 300, 300), APPEND) else {
        panic!("streaming buffer refused")
    };
    assert_eq!((s.dlid, s.kind, s.frames()), (12, WaveKind::Streaming, 300));

    let a = articulation(21, &[11, 12, 13]);
    assert_eq!(
        parse(&a, APPEND),
        Ok(Parsed::WaveArticulation(ParsedWaveArticulation {
            dlid: 21,
            bus: 3,
            buffers: vec![11, 12, 13],
            master_dlid: 0,
            options: 1,
        }))
    );
    // DMUS_WAVEARTDL is 20 bytes (dmdls.h, pinned in dmus-sys): the ids follow at 16+8+20.
    assert_eq!(item_offset(&a, 1), 16 + 8 + 20);
}

#[test]
fn the_store_takes_a_whole_set_and_unloads_in_order() {
    let mut store = store();
    assert_eq!(
        (store.wave_count(), store.wave_articulation_count()),
        (4, 2)
    );
    assert_eq!(store.wave(11).unwrap().kind(), WaveKind::Streaming);
    assert_eq!(store.wave_articulation(21).unwrap().buffers, [11, 12, 13]);
    // A buffer a wave articulation plays stays until the articulation goes.
    assert_eq!(store.unload(12), Err(DownloadError::WaveInUse));
    assert_eq!(store.unload(10), Err(DownloadError::WaveInUse));
    assert_eq!(store.unload(21), Ok(None));
    assert!(store.unload(12).unwrap().is_some());
    assert_eq!(store.unload(21), Err(DownloadError::NotFound));
    // Ids are shared by every kind of download.
    assert_eq!(
        store.download(articulation(10, &[13])).unwrap_err().error,
        DownloadError::DuplicateId
    );
    assert_eq!(
        store.download(one_shot(20, 4)).unwrap_err().error,
        DownloadError::DuplicateId
    );
}

#[test]
fn wave_articulations_naming_the_wrong_buffers_are_refused() {
    let mut store = store();
    let whole = Wave {
        pool_offset: 0,
        name: b"whole",
        format: format(RATE),
        data: &saw(0, 50),
        sample: None,
    };
    store
        .download(build_wave(30, &whole, APPEND).unwrap())
        .unwrap();
    store
        .download(
            build_wave_buffer(
                31,
                WaveDownload::Streaming,
                format(44_100),
                &saw(0, 8),
                APPEND,
            )
            .unwrap(),
        )
        .unwrap();
    let cases: [(&[u32], DownloadError); 5] = [
        (&[11, 99], DownloadError::UnknownWave),
        // A one-shot plays alone.
        (&[10, 10], DownloadError::BadWaveArticulation),
        (&[11, 10], DownloadError::BadWaveArticulation),
        // Type 2 waves belong to instruments.
        (&[30], DownloadError::BadWaveArticulation),
        // One format across the buffers.
        (&[11, 31], DownloadError::BadWaveArticulation),
    ];
    for (buffers, error) in cases {
        let bytes = articulation(40, buffers);
        let refused = store.download(bytes.clone()).unwrap_err();
        assert_eq!(refused.error, error, "{buffers:?}");
        assert_eq!(refused.buffer, bytes, "handed back untouched");
    }
    assert_eq!(store.wave_articulation_count(), 2);
    assert!(store.wave_articulation(40).is_none());
}

#[test]
fn malformed_wave_articulations_are_refused() {
    let good = articulation(21, &[11, 12, 13]);
    let head = item_offset(&good, 0);
    let with = |at: usize, v: u32| {
        let mut b = good.clone();
        put_u32(&mut b, at, v);
        b
    };
    // ulDownloadIdIdx: 0 (the DMUS_WAVEARTDL itself), past the table.
    assert_eq!(parse(&with(head, 0), APPEND), Err(DownloadError::BadIndex));
    assert_eq!(parse(&with(head, 2), APPEND), Err(DownloadError::BadIndex));
    // No buffers.
    assert_eq!(
        parse(&with(head + 8, 0), APPEND),
        Err(DownloadError::BadWaveArticulation)
    );
    // ulBuffers larger than the id list that cbSize holds.
    assert_eq!(
        parse(&with(head + 8, 4), APPEND),
        Err(DownloadError::Truncated)
    );
    assert_eq!(
        parse(&with(head + 8, u32::MAX), APPEND),
        Err(DownloadError::Truncated)
    );
    // A DMUS_WAVEARTDL cut short by cbSize.
    let mut short = good.clone();
    put_u32(&mut short, 12, 16 + 8 + 12);
    put_u32(&mut short, 20, 16 + 8 + 4);
    assert_eq!(parse(&short, APPEND), Err(DownloadError::Truncated));
    // An unknown type.
    assert_eq!(parse(&with(0, 7), APPEND), Err(DownloadError::UnknownType));
}

#[test]
fn malformed_wave_buffers_are_refused() {
    let good = streaming(11, 0, 300);
    let dl = item_offset(&good, 0);
    let wave = item_offset(&good, 1);
    let data = item_offset(&good, 2);
    let with = |at: usize, v: u32| {
        let mut b = good.clone();
        put_u32(&mut b, at, v);
        b
    };
    assert!(parse(&good, APPEND).is_ok());
    // cbWaveData disagreeing with the DMUS_WAVEDATA, or not whole frames.
    assert_eq!(parse(&with(dl, 598), APPEND), Err(DownloadError::BadWave));
    let mut odd = with(dl, 599);
    put_u32(&mut odd, data, 599);
    assert_eq!(parse(&odd, APPEND), Err(DownloadError::BadWave));
    // An empty buffer.
    let mut empty = with(dl, 0);
    put_u32(&mut empty, data, 0);
    assert_eq!(parse(&empty, APPEND), Err(DownloadError::BadWave));
    // The data index: the wave itself (used twice), the DMUS_WAVEDL, past the table.
    assert_eq!(parse(&with(wave + 8, 1), APPEND), Err(DownloadError::Cycle));
    assert_eq!(
        parse(&with(wave + 8, 0), APPEND),
        Err(DownloadError::BadIndex)
    );
    assert_eq!(
        parse(&with(wave + 8, 3), APPEND),
        Err(DownloadError::BadIndex)
    );
    // Stereo is not taken.
    let mut stereo = good.clone();
    stereo[wave + 14..wave + 16].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(parse(&stereo, APPEND), Err(DownloadError::BadWave));
    // Data past cbSize; the guard frame missing.
    assert_eq!(
        parse(&with(dl, 10_000), APPEND),
        Err(DownloadError::BadWave)
    );
    let mut long = with(data, 10_000);
    put_u32(&mut long, dl, 10_000);
    assert_eq!(parse(&long, APPEND), Err(DownloadError::TruncatedWave));
    assert_eq!(
        parse(&good[..good.len() - 2], APPEND),
        Err(DownloadError::Truncated)
    );
    // Two guard frames fit in the item's alignment padding; three do not.
    assert!(parse(&good, 2).is_ok());
    assert_eq!(parse(&good, 3), Err(DownloadError::TruncatedWave));
    // A one-index table: no DMUS_WAVE.
    let mut one = good.clone();
    put_u32(&mut one, 8, 1);
    assert!(parse(&one, APPEND).is_err());
}

/// Renders `frames` stereo frames; returns the left channel.
fn render(engine: &mut Engine<8, 1>, store: &InstrumentStore<Vec<u8>>, frames: usize) -> Vec<i32> {
    let mut out = vec![0i32; 2 * frames];
    engine.render(store, &mut out);
    out.chunks_exact(2).map(|f| f[0]).collect()
}

#[test]
fn a_one_shot_plays_once_and_a_stream_plays_across_its_buffers() {
    let store = store();
    let mut once: Engine<8, 1> = Engine::new(RATE);
    assert!(once.play_voice(&store, 1, 1, 0, 20, 0, 0));
    let a = render(&mut once, &store, 1200);
    assert!(!once.voice_exists(1), "a one-shot ends with its wave");
    assert_eq!(once.active_voices(), 0);
    assert!(a[..900].iter().any(|&s| s != 0));
    assert!(a[900..].iter().all(|&s| s == 0), "played once");

    // The same sawtooth in three buffers, at the output rate (a step of exactly one frame):
    // the streamed voice gives the one-shot's output sample for sample.
    let mut streamed: Engine<8, 1> = Engine::new(RATE);
    assert!(streamed.play_voice(&store, 2, 1, 0, 21, 0, 0));
    let b = render(&mut streamed, &store, 1200);
    assert!(!streamed.voice_exists(2));
    assert_eq!(a, b);
}

#[test]
fn stop_voice_releases_and_note_offs_leave_wave_voices_alone() {
    let store = store();
    let mut engine: Engine<8, 1> = Engine::new(RATE);
    assert!(engine.play_voice(&store, 7, 1, 0, 21, 0, 0));
    // Note-off and all-notes-off style traffic for key 60 on the channel.
    engine.message(&store, 1, &[0x80, 60, 0]);
    render(&mut engine, &store, 100);
    assert!(engine.voice_exists(7));
    assert!(engine.stop_voice(7));
    assert!(!engine.stop_voice(8), "no such voice");
    // The release (DLS default: no articulation, the shortest) ends it before the wave ends.
    render(&mut engine, &store, 600);
    assert!(!engine.voice_exists(7));
    // Unknown articulations and groups start nothing.
    assert!(!engine.play_voice(&store, 9, 1, 0, 99, 0, 0));
    assert!(!engine.play_voice(&store, 9, 2, 0, 21, 0, 0));
    assert!(!engine.play_voice(&store, 9, 0, 0, 21, 0, 0));
    // Quieter with attenuation, higher with pitch.
    let mut loud: Engine<8, 1> = Engine::new(RATE);
    let mut soft: Engine<8, 1> = Engine::new(RATE);
    loud.play_voice(&store, 1, 1, 0, 20, 0, 0);
    soft.play_voice(&store, 1, 1, 0, 20, 0, -2000);
    let peak = |v: &[i32]| v.iter().map(|s| s.abs()).max().unwrap();
    let (l, s) = (
        peak(&render(&mut loud, &store, 400)),
        peak(&render(&mut soft, &store, 400)),
    );
    assert!(s * 8 < l && s * 12 > l, "-20 dB: {l} vs {s}");
    let mut high: Engine<8, 1> = Engine::new(RATE);
    high.play_voice(&store, 1, 1, 0, 20, 1200, 0);
    let h = render(&mut high, &store, 1200);
    let sounding = |v: &[i32]| v.iter().rposition(|&s| s != 0).unwrap();
    assert!(sounding(&h) < 460, "an octave up plays 900 frames in 450");
}

/// The download fuzz target's seeds for types 4–6 (the append byte, then the buffer) are
/// these builds; `RDMUS_WRITE_SEEDS=1` rewrites them.
#[test]
fn fuzz_seeds_are_the_built_buffers() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/download");
    let seeds = [
        ("wave_articulation_4", articulation(21, &[11, 12])),
        ("streaming_wave_5", streaming(11, 0, 6)),
        ("one_shot_wave_6", one_shot(10, 6)),
    ];
    for (name, buffer) in seeds {
        let seed = [&[u8::try_from(APPEND).unwrap()][..], &buffer].concat();
        let path = dir.join(name);
        if std::env::var_os("RDMUS_WRITE_SEEDS").is_some() {
            std::fs::write(&path, &seed).unwrap();
        }
        assert_eq!(std::fs::read(&path).unwrap(), seed, "{name}");
        assert!(parse(&buffer, APPEND).is_ok(), "{name}");
    }
}

#[test]
fn a_stream_goes_on_when_a_buffer_ends_on_a_render_boundary() {
    // Buffers of 256 frames at the output rate end exactly where the engine's mix parts
    // (and these 256-frame renders) end.
    let mut store = InstrumentStore::new(APPEND);
    for b in [
        one_shot(10, 768),
        streaming(11, 0, 256),
        streaming(12, 256, 256),
        streaming(13, 512, 256),
        articulation(20, &[10]),
        articulation(21, &[11, 12, 13]),
    ] {
        store.download(b).expect("download");
    }
    let mut once: Engine<8, 1> = Engine::new(RATE);
    let mut streamed: Engine<8, 1> = Engine::new(RATE);
    assert!(once.play_voice(&store, 1, 1, 0, 20, 0, 0));
    assert!(streamed.play_voice(&store, 1, 1, 0, 21, 0, 0));
    for _ in 0..4 {
        assert_eq!(
            render(&mut once, &store, 256),
            render(&mut streamed, &store, 256)
        );
    }
    assert!(!streamed.voice_exists(1));
}
