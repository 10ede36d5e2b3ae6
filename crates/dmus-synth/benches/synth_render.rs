//! The driver's synth render path at its full size: the shared GM bank downloaded into a
//! `SynthCore`, 256 voices sounding (every melodic channel of one channel group holding
//! organ chords with the sustain pedal down), rendered at 48 kHz in 10 ms buffers, as the
//! wave sink's `Render` calls it. Prints frames per second; above 48,000 means faster than
//! real time.
//!
//! `cargo bench --bench synth_render` (without the shared data, `test_data`, it prints a message and skips).
#![allow(missing_docs)] // Bench binary.

use std::hint::black_box;
use std::ptr::NonNull;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_synth::synth::{MAX_VOICES, SynthCore};
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;
use mxf::Discard;
use mxf::{EventPool, PoolStats};

const RATE: u32 = 48_000;
const PERIOD: usize = 480;

/// A pool with nothing in it: the bench attaches no stream, so no event ever exists.
struct NoEvents;

// SAFETY: it hands out nothing, so no promise about handed-out memory can be broken.
unsafe impl EventPool for NoEvents {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        None
    }
    unsafe fn put_event(&mut self, _event: NonNull<DMUS_KERNEL_EVENT>) {}
    fn buffer_size(&self) -> usize {
        0
    }
    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        None
    }
    unsafe fn put_buffer(&mut self, _buffer: NonNull<u8>) {}
    fn stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

impl Discard for NoEvents {}

fn loaded_core() -> Option<Box<SynthCore<NoEvents>>> {
    let bank = test_data::read("dls/sf_GMbank.dls")?;
    let file = DlsFile::parse(&bank).expect("the GM bank parses");
    let buffers = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    let mut core = Box::new(SynthCore::<NoEvents>::try_new(RATE, 256).expect("engine"));
    for buffer in buffers.waves.iter().chain(&buffers.instruments) {
        let copy: Box<[u8]> = buffer.bytes.clone().into_boxed_slice();
        assert!(core.store.download(copy).is_ok(), "a GM download is kept");
    }
    core.sync_to_master(0, true, 0);
    Some(core)
}

fn start_voices(core: &mut SynthCore<NoEvents>) -> u32 {
    let channels: Vec<u8> = (0..16).filter(|&c| c != 9).collect();
    let mut key = 36u8;
    for round in 0..MAX_VOICES {
        let channel = channels[round % channels.len()];
        if round < channels.len() {
            core.message_now(1, &[0xC0 | channel, 19]);
            core.message_now(1, &[0xB0 | channel, 64, 127]);
        }
        core.message_now(1, &[0x90 | channel, key, 90]);
        key = if key >= 96 { 36 } else { key + 1 };
    }
    core.stats().voices
}

fn render(c: &mut Criterion) {
    let Some(mut core) = loaded_core() else {
        return;
    };
    let voices = start_voices(&mut core);
    println!("synth_render: {voices} voices sounding at {RATE} Hz");
    let mut out = vec![0i16; 2 * PERIOD];
    let mut position = 0i64;
    let mut group = c.benchmark_group("synth_render");
    group.throughput(Throughput::Elements(u64::try_from(PERIOD).unwrap()));
    group.bench_function("render 10 ms, GM organ chords", |b| {
        b.iter(|| {
            core.render(black_box(&mut out), position);
            position += i64::try_from(PERIOD).unwrap();
        });
    });
    group.finish();
    println!(
        "synth_render: {} voices still sounding after the runs",
        core.stats().voices
    );
}

criterion_group!(benches, render);
criterion_main!(benches);
