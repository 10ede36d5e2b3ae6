//! The voice filter alone, timed: nanoseconds a sample of `LowPass::process_padded` on blocks
//! of 64 (the voice's way, pairs and one at a time), and nanoseconds a call of
//! `LowPass::tune` as EG2 sweeps the cutoff. Each figure is the least of five rounds of thread
//! CPU time, so another process holding the core counts less.
//!
//! `cargo run --release -p dls --example filter_speed [ROUNDS=5] [recursion|tune]`
//! (both parts unless one is named: one part alone under callgrind gives its instruction count)
//!
//! A checksum of every output is printed too: two builds that filter bit for bit alike print
//! the same one.

#[path = "../benches/song/mod.rs"]
mod song;

use dls::synth::filter::LowPass;
use std::hint::black_box;

/// Samples a block, as the voice hands them over.
const BLOCK: usize = 64;
/// Blocks a round of the recursion.
const BLOCKS: usize = 400_000;
/// Tunings a round.
const TUNINGS: u32 = 2_000_000;

fn main() {
    let rounds: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5);
    let part = std::env::args().nth(2).unwrap_or_default();
    if part != "tune" {
        recursion(rounds);
    }
    if part != "recursion" {
        tune(rounds);
    }
}

/// Times `LowPass::process_padded` on a bright wave at three settings.
fn recursion(rounds: usize) {
    // A bright, loud wave: a saw with noise, at 16-bit scale, 64 blocks long, repeated.
    let mut seed = 0x2545_f491_u32;
    let wave: Vec<i32> = (0..BLOCK * 64)
        .map(|i| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = i32::try_from(seed >> 20).unwrap_or(0) - 2048;
            let saw = i32::try_from(i % 97).unwrap_or(0) * 600 - 29_000;
            saw + noise
        })
        .collect();
    for (cutoff, resonance, what) in [
        (8000, 100, "pairs, 8000 cents, 10 dB"),
        (6000, 0, "pairs, 6000 cents, 0 dB"),
        (3000, 60, "one at a time, 3000 cents, 6 dB"),
    ] {
        let mut checksum = 0u64;
        let best = least_of(rounds, || {
            let mut filter = LowPass::new(cutoff, resonance, 48_000);
            let mut padded = [0i32; BLOCK + 2];
            let mut sum = 0u64;
            for (n, block) in wave.chunks_exact(BLOCK).cycle().take(BLOCKS).enumerate() {
                padded[2..].copy_from_slice(block);
                filter.process_padded(black_box(&mut padded));
                // The first output only (the checksum must not cost a pass of its own).
                sum = sum
                    .rotate_left(5)
                    .wrapping_add(u64::from(padded[n % BLOCK].unsigned_abs()));
            }
            checksum = sum;
        });
        #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
        let ns = best * 1e9 / (BLOCKS * BLOCK) as f64;
        println!("recursion, {what}: {ns:.3} ns a sample (checksum {checksum:016x})");
    }
}

/// Times `LowPass::tune` over EG2-like sweeps.
fn tune(rounds: usize) {
    let mut checksum = 0i64;
    let best = least_of(rounds, || {
        let mut filter = LowPass::new(8000, 100, 48_000);
        let mut probe = [0i32; 3];
        let mut sum = 0i64;
        // EG2's sweeps: the cutoff moves a few cents each control period, over 1700..13500.
        for n in 0..TUNINGS {
            let cents = 1700 + i32::try_from(n.wrapping_mul(7) % 11_800).unwrap_or(0);
            filter.tune(black_box(cents), 100, 48_000);
            if n % 1024 == 0 {
                probe[2] = 10_000;
                filter.process_padded(&mut probe);
                sum = sum.wrapping_mul(31).wrapping_add(i64::from(probe[0]));
            }
        }
        checksum = sum;
    });
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let ns = best * 1e9 / f64::from(TUNINGS);
    println!("tune: {ns:.2} ns a call (checksum {checksum:016x})");
}

/// The least thread CPU time, in seconds, of `rounds` runs of `round`.
fn least_of(rounds: usize, mut round: impl FnMut()) -> f64 {
    (0..rounds.max(1))
        .map(|_| {
            let start = song::thread_cpu_seconds().unwrap_or(0.0);
            round();
            song::thread_cpu_seconds().unwrap_or(0.0) - start
        })
        .fold(f64::INFINITY, f64::min)
}
