//! Render path benchmark: unpack → sequencer → pop on a real Standard MIDI
//! File, with IRPs built by the wire writers the way an application's buffers
//! arrive. Only unpack → sequencer → pop is timed. A counting global allocator
//! proves that the measured section allocates nothing (asserted, and printed).
//!
//! `cargo bench -p mxf --bench render_path` (set `MXF_BENCH_MIDI` to use
//! another file; without the shared data, `test_data`, it prints a message and skips).
#![allow(missing_docs)] // Bench binary.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dmus_sys::ks::KSSTATE_RUN;
use midly::{MetaMessage, Smf, Timing, TrackEventKind};
use mxf::raw::FixedPool;
use mxf::sequencer::Sequencer;
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use mxf::wire::{dmus, ksmusic};
use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Counts every allocation and reallocation.
struct CountingAlloc;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours, passed through.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours, passed through.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as ours, passed through.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

const IRP_SIZE: usize = 4096;

/// The file's messages as (time in 100 ns, bytes), all tracks merged.
fn messages(smf: &Smf<'_>) -> Vec<(i64, Vec<u8>)> {
    let mut all = Vec::new();
    for (track_index, track) in smf.tracks.iter().enumerate() {
        let mut tick = 0u64;
        for (i, event) in track.iter().enumerate() {
            tick += u64::from(event.delta.as_int());
            all.push((tick, track_index, i, event.kind));
        }
    }
    all.sort_by_key(|&(tick, track, i, _)| (tick, track, i));
    let ticks_per_beat = match smf.header.timing {
        Timing::Metrical(tpb) => i128::from(tpb.as_int().max(1)),
        Timing::Timecode(fps, sub) => -i128::from(fps.as_int()) * i128::from(sub),
    };
    let (mut tempo_us, mut last_tick, mut last_time) = (500_000i128, 0u64, 0i128);
    let mut out = Vec::new();
    for (tick, _, _, kind) in all {
        let ticks = i128::from(tick - last_tick);
        last_time += if ticks_per_beat > 0 {
            ticks * tempo_us * 10 / ticks_per_beat
        } else {
            ticks * 10_000_000 / -ticks_per_beat
        };
        last_tick = tick;
        let time = i64::try_from(last_time).unwrap();
        match kind {
            TrackEventKind::Meta(MetaMessage::Tempo(t)) => tempo_us = i128::from(t.as_int()),
            TrackEventKind::Midi { .. } | TrackEventKind::SysEx(_) | TrackEventKind::Escape(_) => {
                if let Some(live) = kind.as_live_event() {
                    let mut bytes = Vec::new();
                    live.write(&mut bytes).unwrap();
                    out.push((time, bytes));
                }
            }
            TrackEventKind::Meta(_) => {}
        }
    }
    out
}

/// IRPs as an application builds them: consecutive messages packed until the
/// buffer is full.
fn ksmusic_irps(messages: &[(i64, Vec<u8>)]) -> Vec<(IrpHeader, Vec<u8>)> {
    let mut irps = Vec::new();
    let mut rest = messages;
    while let Some(((start, _), _)) = rest.split_first() {
        let mut buf = vec![0u8; IRP_SIZE];
        let mut writer = ksmusic::Writer::new(&mut buf);
        let mut last_ms = 0;
        let mut taken = 0;
        for (time, bytes) in rest {
            let ms = (time - start) / 10_000;
            if writer
                .push(&ksmusic::RecordRepr {
                    delta_ms: u32::try_from(ms - last_ms).unwrap(),
                    data: bytes,
                })
                .is_err()
            {
                break;
            }
            last_ms = ms;
            taken += 1;
        }
        assert!(taken > 0, "a message larger than an IRP");
        let used = writer.len();
        buf.truncate(used);
        irps.push((IrpHeader::for_buffer(*start, used), buf));
        rest = &rest[taken..];
    }
    irps
}

fn dmus_irps(messages: &[(i64, Vec<u8>)]) -> Vec<(IrpHeader, Vec<u8>)> {
    let mut irps = Vec::new();
    let mut rest = messages;
    while let Some(((start, _), _)) = rest.split_first() {
        let mut buf = vec![0u8; IRP_SIZE];
        let mut writer = dmus::Writer::new(&mut buf);
        let mut taken = 0;
        for (time, bytes) in rest {
            let structured = bytes.first().is_some_and(|&b| b != 0xF0);
            let record = dmus::RecordRepr {
                rt_delta: time - start,
                channel_group: 1,
                flags: u32::from(structured),
                data: bytes,
            };
            if writer.push(&record).is_err() {
                break;
            }
            taken += 1;
        }
        assert!(taken > 0, "a message larger than an IRP");
        let used = writer.len();
        buf.truncate(used);
        irps.push((IrpHeader::for_buffer(*start, used), buf));
        rest = &rest[taken..];
    }
    irps
}

#[derive(Clone, Copy)]
enum Format {
    KsMusic,
    Dmus,
}

/// The measured section: every IRP unpacked, sequenced, and popped when due
/// (at the IRP's own time, as a render DPC would), then the rest popped.
/// Returns the events that came out.
fn render(format: Format, irps: &[(IrpHeader, Vec<u8>)], pool: &mut FixedPool) -> usize {
    let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let mut dm = DmusUnpacker::new(Limits::DEFAULT);
    let mut seq = Sequencer::new();
    seq.set_state(KSSTATE_RUN, 0, pool);
    let mut popped = 0;
    for (header, buffer) in irps {
        let out = match format {
            Format::KsMusic => ks.unpack(header, buffer, pool),
            Format::Dmus => dm.unpack(header, buffer, pool),
        };
        assert!(out.error.is_none());
        seq.put(out.chain, pool);
        let due = seq.pop_due(header.presentation_time);
        popped += due.len();
        black_box(due.front_time());
        due.free(pool);
    }
    let rest = seq.pop_due(i64::MAX);
    popped += rest.len();
    rest.free(pool);
    popped
}

/// Runs the measured section once, asserting it allocates nothing.
fn measured(
    format: Format,
    irps: &[(IrpHeader, Vec<u8>)],
    pool: &mut FixedPool,
) -> (usize, Duration, u64) {
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let start = Instant::now();
    let events = render(format, black_box(irps), pool);
    let elapsed = start.elapsed();
    let allocations = ALLOCATIONS.load(Ordering::SeqCst) - before;
    assert_eq!(allocations, 0, "the render path allocated");
    (events, elapsed, allocations)
}

fn midi_file() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MXF_BENCH_MIDI") {
        return Some(PathBuf::from(path));
    }
    test_data::find("midi/jazz-soft/test-all-gs-sounds.mid")
}

fn bench(c: &mut Criterion) {
    let Some(path) = midi_file() else {
        println!("render_path: skipped, the shared MIDI file is absent (set MXF_BENCH_MIDI)");
        return;
    };
    let bytes = std::fs::read(&path).unwrap();
    let smf = Smf::parse(&bytes).unwrap();
    let messages = messages(&smf);
    let mut pool = FixedPool::leaked(messages.len() * 2 + 64, 1024, 64).unwrap();
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    for (label, format, irps) in [
        ("ksmusic", Format::KsMusic, ksmusic_irps(&messages)),
        ("dmus", Format::Dmus, dmus_irps(&messages)),
    ] {
        // Warm up, then a plain timed run for the headline figures.
        measured(format, &irps, &mut pool);
        let runs = 50u32;
        let (mut events, mut total, mut allocations) = (0, Duration::ZERO, 0);
        for _ in 0..runs {
            let (n, t, a) = measured(format, &irps, &mut pool);
            events += n;
            total += t;
            allocations += a;
        }
        // Figures for a human: f64 precision is ample for these counts.
        #[allow(clippy::cast_precision_loss)]
        let (events_f, nanos) = (events as f64, total.as_nanos() as f64);
        println!(
            "render_path/{label}: {name}: {} messages in {} IRPs; {:.0} events/s, {:.1} ns/event; \
             allocations in the measured section: {allocations}",
            messages.len(),
            irps.len(),
            events_f / total.as_secs_f64(),
            nanos / events_f,
        );
        assert_eq!(pool_in_use(&pool), 0);
        let mut group = c.benchmark_group("render_path");
        group.throughput(Throughput::Elements(u64::try_from(messages.len()).unwrap()));
        group.bench_function(label, |b| {
            b.iter_custom(|iters| {
                (0..iters)
                    .map(|_| measured(format, &irps, &mut pool).1)
                    .sum()
            });
        });
        group.finish();
    }
}

fn pool_in_use(pool: &FixedPool) -> usize {
    use mxf::EventPool;
    let s = pool.stats();
    s.events_in_use + s.buffers_in_use
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(500));
    targets = bench
}
criterion_main!(benches);
