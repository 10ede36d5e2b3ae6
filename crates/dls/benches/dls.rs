//! DLS benchmarks on the shared GM bank (5 MB, 329 instruments, 488 waves):
//! `.dls` parse, download-buffer build, kernel-side validation of every buffer, store
//! download, the voice render loop (32 voices of piano, stereo), and the engine rendering
//! 32 held piano notes.
//!
//! `cargo bench -p dls --bench dls` (set `DLS_BENCH_BANK` to use another bank; without
//! the shared data, `test_data`, it prints a message and skips).
#![allow(missing_docs)] // Bench binary.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use dls::download::build::{CollectionBuffers, build_collection};
use dls::download::{APPEND_SAMPLES, InstrumentStore, parse};
use dls::model::Patch;
use dls::synth::articulation::note_params;
use dls::synth::engine::Engine;
use dls::synth::voice::Voice;
use dls::wire::file::DlsFile;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

const RATE: u32 = 22050;
const VOICES: usize = 32;
const BLOCK: usize = 1024;

fn bank() -> Option<Vec<u8>> {
    let path = std::env::var_os("DLS_BENCH_BANK")
        .map_or_else(|| test_data::path("dls/sf_GMbank.dls"), PathBuf::from);
    match std::fs::read(&path) {
        Ok(b) => Some(b),
        Err(e) => {
            eprintln!(
                "skipping dls benches: {} not readable ({e})",
                path.display()
            );
            None
        }
    }
}

fn store_of(built: &CollectionBuffers) -> InstrumentStore<Vec<u8>> {
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for b in built.waves.iter().chain(&built.instruments) {
        store
            .download(b.bytes.clone())
            .expect("built buffers download");
    }
    store
}

fn voices(store: &InstrumentStore<Vec<u8>>) -> Vec<(Voice, u32)> {
    let piano = store.instrument(Patch(0)).expect("GM piano");
    (0..VOICES)
        .map(|n| {
            let key = 36 + u8::try_from(n).unwrap() * 2;
            let (region, wave) = store
                .regions_for(Patch(0), key, 100)
                .next()
                .expect("a region per key");
            let params = note_params(piano.articulation.as_ref(), region, key, 100);
            (
                Voice::start(wave.format(), wave.frames(), &region.sample, &params, RATE),
                region.wave_dlid,
            )
        })
        .collect()
}

fn render_block(store: &InstrumentStore<Vec<u8>>, voices: &mut [(Voice, u32)], out: &mut [i32]) {
    out.fill(0);
    for (voice, dlid) in voices.iter_mut() {
        if let Some(wave) = store.wave(*dlid) {
            voice.render_stereo(wave.samples_with_guard(), out);
        }
    }
}

/// An engine sounding 32 notes of `program`; with `effects`, the reverb and the chorus on
/// (CC91 at its default 40, CC93 at 127): every voice sends, so each renders apart before the
/// mix, and both effects run.
fn engine_of(store: &InstrumentStore<Vec<u8>>, program: u8, effects: bool) -> Engine<VOICES, 1> {
    let mut engine: Engine<VOICES, 1> = Engine::new(RATE);
    engine.message(store, 1, &[0xc0, program]);
    if effects {
        engine.set_effects(dls::synth::effects::EffectSwitches {
            reverb: true,
            chorus: true,
        });
        engine.message(store, 1, &[0xb0, 93, 127]);
    }
    for n in 0..VOICES {
        let key = 36 + u8::try_from(n).unwrap() * 2;
        engine.message(store, 1, &[0x90, key, 100]);
    }
    engine
}

fn benches(c: &mut Criterion) {
    let Some(bytes) = bank() else { return };

    // One timed pass of each stage, printed as figures.
    let t = Instant::now();
    let file = DlsFile::parse(&bytes).expect("bank parses");
    let parse_time = t.elapsed();
    let t = Instant::now();
    let built = build_collection(&file, 1, APPEND_SAMPLES).expect("bank builds");
    let build_time = t.elapsed();
    let all: Vec<&[u8]> = built
        .waves
        .iter()
        .chain(&built.instruments)
        .map(|b| &b.bytes[..])
        .collect();
    let total: usize = all.iter().map(|b| b.len()).sum();
    let t = Instant::now();
    for b in &all {
        parse(b, APPEND_SAMPLES).expect("valid");
    }
    let validate_time = t.elapsed();
    let store = store_of(&built);
    let mut vs = voices(&store);
    let mut out = vec![0i32; 2 * BLOCK];
    let blocks = 200;
    let t = Instant::now();
    for _ in 0..blocks {
        render_block(&store, &mut vs, &mut out);
    }
    let render = t.elapsed();
    let voice_samples = f64::from(u32::try_from(blocks * BLOCK * VOICES).unwrap());
    let per_sec = voice_samples / render.as_secs_f64();
    println!(
        "GM bank {} bytes: parse {parse_time:?}, build {} buffers ({total} bytes) {build_time:?}, \
         validate all {validate_time:?}; render {VOICES} voices: {:.1} M voice-samples/s = {:.1}x real time at {RATE} Hz",
        bytes.len(),
        all.len(),
        per_sec / 1e6,
        per_sec / (f64::from(RATE) * f64::from(u32::try_from(VOICES).unwrap())),
    );

    let mut g = c.benchmark_group("gm_bank");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("parse_dls_file", |b| {
        b.iter(|| DlsFile::parse(black_box(&bytes)).unwrap().instruments.len());
    });
    g.bench_function("build_download_buffers", |b| {
        b.iter(|| build_collection(black_box(&file), 1, APPEND_SAMPLES).unwrap());
    });
    g.throughput(Throughput::Bytes(total as u64));
    g.bench_function("validate_all_buffers", |b| {
        b.iter(|| {
            all.iter()
                .filter(|buf| parse(black_box(buf), APPEND_SAMPLES).is_ok())
                .count()
        });
    });
    g.bench_function("download_all_into_store", |b| {
        b.iter_batched(
            || built.clone(),
            |built| {
                let mut store = InstrumentStore::new(APPEND_SAMPLES);
                for buf in built.waves.into_iter().chain(built.instruments) {
                    store.download(buf.bytes).unwrap();
                }
                store.wave_count()
            },
            BatchSize::LargeInput,
        );
    });
    g.finish();

    let mut g = c.benchmark_group("voice");
    g.throughput(Throughput::Elements((BLOCK * VOICES) as u64));
    g.bench_function("render_32_piano_voices_1024_stereo", |b| {
        let mut vs = voices(&store);
        b.iter(|| render_block(&store, &mut vs, &mut out));
    });
    g.bench_function("engine_32_notes_1024_stereo", |b| {
        let mut engine = engine_of(&store, 0, false);
        b.iter(|| {
            out.fill(0);
            engine.render(&store, &mut out);
        });
    });
    g.finish();
    effects_benches(c, &store);
}

/// The send stage's cost: 32 organ notes, which sustain (the piano's die away during the
/// measurement), dry and with both effects on; then each effect alone.
fn effects_benches(c: &mut Criterion, store: &InstrumentStore<Vec<u8>>) {
    let mut out = vec![0i32; 2 * BLOCK];
    let mut g = c.benchmark_group("voice");
    g.throughput(Throughput::Elements((BLOCK * VOICES) as u64));
    for (name, effects) in [
        ("engine_32_organ_notes_1024_stereo", false),
        ("engine_32_organ_notes_1024_stereo_reverb_chorus", true),
    ] {
        let mut engine = engine_of(store, 19, effects);
        g.bench_function(name, |b| {
            b.iter(|| {
                out.fill(0);
                engine.render(store, &mut out);
            });
        });
        println!(
            "{name}: {} voices sounding at the end",
            engine.active_voices()
        );
    }
    g.finish();

    // The effects alone, on a block of noise-like input.
    let mut g = c.benchmark_group("effects");
    g.throughput(Throughput::Elements(BLOCK as u64));
    let input: Vec<i32> = (0..BLOCK)
        .map(|n| i32::try_from((n * 7919) % 20_000).unwrap() - 10_000)
        .collect();
    let (mut left, mut right) = (vec![0i32; BLOCK], vec![0i32; BLOCK]);
    g.bench_function("reverb_1024", |b| {
        let mut reverb = dls::synth::effects::reverb::Reverb::try_new(48_000, RATE).unwrap();
        b.iter(|| reverb.process(&input, &mut left, &mut right));
    });
    g.bench_function("chorus_1024", |b| {
        let mut chorus = dls::synth::effects::chorus::Chorus::try_new(RATE).unwrap();
        b.iter(|| chorus.process(&input, &mut left, &mut right));
    });
    g.finish();
}

criterion_group!(dls_benches, benches);
criterion_main!(dls_benches);
