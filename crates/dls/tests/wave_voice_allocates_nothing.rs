//! Wave voices allocate nothing: with a one-shot and a three-buffer stream downloaded, starting
//! voices on their articulations (`Engine::play_voice`), rendering them across the buffers in
//! 10 ms pieces and stopping them makes no heap allocation on this thread. A counting global
//! allocator watches.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dls::download::InstrumentStore;
use dls::download::build::{WaveDownload, build_wave_articulation, build_wave_buffer};
use dls::model::WaveFormat;
use dls::synth::engine::Engine;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting this thread's allocations while `COUNTING` is set.
struct Counting;

// SAFETY: forwards to the system allocator unchanged; the counters are thread-local cells
// that never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded: the block came from System.alloc with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

fn count() {
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn wave_voices_allocate_nothing() {
    let format = WaveFormat {
        format_tag: 1,
        channels: 1,
        sample_rate: 44_100,
        avg_bytes_per_sec: 88_200,
        block_align: 2,
        bits_per_sample: 16,
    };
    let data: Vec<u8> = (0..4_410u32)
        .flat_map(|n| i16::try_from(n % 400).unwrap().to_le_bytes())
        .collect();
    let mut store: InstrumentStore<Vec<u8>> = InstrumentStore::new(1);
    let buffers = [
        build_wave_buffer(1, WaveDownload::OneShot, format, &data, 1),
        build_wave_buffer(2, WaveDownload::Streaming, format, &data, 1),
        build_wave_buffer(3, WaveDownload::Streaming, format, &data, 1),
        build_wave_buffer(4, WaveDownload::Streaming, format, &data, 1),
        build_wave_articulation(10, &[1], 0, 0, 0),
        build_wave_articulation(11, &[2, 3, 4], 0, 0, 0),
    ];
    for b in buffers {
        assert!(store.download(b.unwrap()).is_ok());
    }
    let mut engine: Box<Engine<32, 2>> = Box::new(Engine::new(48_000));
    let mut out = vec![0i32; 2 * 480];
    let mut heard = 0u64;

    COUNTING.with(|c| c.set(true));
    for piece in 0..60 {
        if piece % 20 == 0 {
            assert!(engine.play_voice(&store, piece, 1, 0, 10, 0, 0));
            assert!(engine.play_voice(&store, piece + 1, 2, 3, 11, -300, -600));
        }
        if piece == 45 {
            assert!(engine.stop_voice(41));
        }
        out.fill(0);
        engine.render(&store, &mut out);
        heard += out
            .iter()
            .map(|s| s.unsigned_abs())
            .map(u64::from)
            .sum::<u64>();
    }
    COUNTING.with(|c| c.set(false));

    assert!(heard > 0, "the voices sounded");
    assert_eq!(
        ALLOCATIONS.with(Cell::get),
        0,
        "allocations on the render path"
    );
}
