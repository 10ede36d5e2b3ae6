//! The synth's render path allocates nothing: with the shared GM bank downloaded and every
//! event built beforehand, a second of music (state changes, 240 note events put to the synth,
//! 100 renders of 10 ms at 48 kHz with up to 256 voices, STOP giving the rest back) makes no
//! heap allocation on this thread. A counting global allocator watches.
//!
//! Reports itself skipped (`test_data`) when the shared data is absent.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_synth::synth::SynthCore;
use dmus_sys::dmusic::DMUS_KEF;
use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::raw::SharedPool;
use mxf::{Chain, EventPool, FixedPool};

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

/// One host event pool shared by the test (which builds events) and the synth's input
/// (which gives them back).
type Shared = SharedPool<FixedPool>;

fn pool(events: usize) -> Shared {
    SharedPool::new(FixedPool::leaked(events, 4, 64).expect("pool"))
}

#[test]
fn rendering_a_second_of_music_allocates_nothing() {
    let Some(bank) = test_data::read("dls/sf_GMbank.dls") else {
        return;
    };
    let file = DlsFile::parse(&bank).expect("the GM bank parses");
    let buffers = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    let mut core = Box::new(SynthCore::<Shared>::try_new(48_000, 256).expect("engine"));
    // With the reverb and the chorus on: the send stage's buffers came with the engine.
    core.set_effects(dls::synth::effects::EffectSwitches {
        reverb: true,
        chorus: true,
    });
    for buffer in buffers.waves.iter().chain(&buffers.instruments) {
        let copy: Box<[u8]> = buffer.bytes.clone().into_boxed_slice();
        assert!(core.store.download(copy).is_ok());
    }
    let events = pool(512);
    assert!(core.attach(0, events.clone()).is_ok());
    // Every event built before counting starts: 15 channels x 8 notes on, then off.
    let mut chains = Vec::with_capacity(256);
    let mut maker = events.clone();
    for (n, channel) in (0u8..16).filter(|&c| c != 9).enumerate() {
        let at = i64::try_from(n).unwrap() * 50_000;
        let program = Chain::event(
            &mut maker,
            at,
            1,
            DMUS_KEF::EVENT_COMPLETE,
            &[0xC0 | channel, 19],
        );
        chains.push(program.expect("event"));
        for key in 0..8u8 {
            let on = [0x90 | channel, 48 + 3 * key, 100];
            let off = [0x80 | channel, 48 + 3 * key, 0];
            let start = at + i64::from(key) * 10_000;
            chains.push(
                Chain::event(&mut maker, start, 1, DMUS_KEF::EVENT_COMPLETE, &on).expect("event"),
            );
            chains.push(
                Chain::event(
                    &mut maker,
                    start + 8_000_000,
                    1,
                    DMUS_KEF::EVENT_COMPLETE,
                    &off,
                )
                .expect("event"),
            );
        }
    }
    let total = chains.len();
    let mut out = vec![0i16; 2 * 480];
    let mut peak_voices = 0;
    let mut heard = 0i32;

    // The counter can fail: an allocation while counting is seen.
    COUNTING.with(|on| on.set(true));
    let probe = std::hint::black_box(vec![1u8; 16]);
    COUNTING.with(|on| on.set(false));
    drop(probe);
    assert_eq!(
        ALLOCATIONS.with(Cell::get),
        1,
        "the counter sees allocations"
    );
    ALLOCATIONS.with(|n| n.set(0));

    COUNTING.with(|on| on.set(true));
    core.sync_to_master(0, true, 0);
    core.set_state(0, KSSTATE_ACQUIRE, 0);
    core.set_state(0, KSSTATE_PAUSE, 0);
    core.set_state(0, KSSTATE_RUN, 0);
    for chain in chains.drain(..) {
        assert!(core.put(0, chain).is_ok());
    }
    for block in 0..100i64 {
        core.render(&mut out, block * 480);
        peak_voices = peak_voices.max(core.stats().voices);
        heard = heard.max(out.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0));
    }
    core.set_state(0, KSSTATE_STOP, 480_000);
    COUNTING.with(|on| on.set(false));

    let allocations = ALLOCATIONS.with(Cell::get);
    println!(
        "{total} events, 100 renders of 480 frames, up to {peak_voices} voices, peak {heard}: {allocations} allocations"
    );
    assert_eq!(allocations, 0, "the render path allocates nothing");
    assert!(peak_voices >= 100 && heard > 1_000);
    assert!(core.detach(0).is_some());
    assert_eq!(
        events.stats().events_in_use,
        0,
        "every event went back to the pool"
    );
}
