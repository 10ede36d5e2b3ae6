//! The figures on the longest real files, in virtual time (the
//! simulation is deterministic; nothing here depends on the host's speed):
//!
//! - default machine (1 ms high-resolution timers, 16-byte FIFO, DPC bound
//!   100 µs), DirectMusic pin: lateness against the ideal wire p99 ≤ 1 ms and
//!   max ≤ 2 ms, no byte before its presentation time, no DPC over 100 µs;
//! - the original card (1-byte FIFO, DPC bound raised to 1 ms): the wire at
//!   ≥ 95 % of 3,125 bytes/s through bursts, no DPC over 1 ms.

mod play_common;

use play_common::{assert_clean, play_with, shared_dir};
use rdmus_cli::cli::{PinFormat, load_timeline};
use rdmus_cli::play_report::PlayReport;
use rdmus_cli::sim::SimConfig;

/// The longest files of the set, and the densest.
const LONG_FILES: [&str; 4] = [
    "test-all-gs-sounds.mid",
    "test-all-xg-sounds.mid",
    "test-all-gm2-sounds.mid",
    "test-rpn-00-00-pitch-bend-range.mid",
];

/// Files whose ideal wire has bursts (sounds started with a program change
/// and a note, chords, long sysex runs): the long ones and the sysex-heavy.
const BURSTY_FILES: [&str; 6] = [
    "test-all-gs-sounds.mid",
    "test-all-xg-sounds.mid",
    "test-all-gm2-sounds.mid",
    "test-sysex-7x-08-0x-scale-tuning.mid",
    "test-sysex-7f-04-04-master-coarse-tuning.mid",
    "test-sysex-gs-40-1x-4x-scale-tuning.mid",
];

/// 1 ms and 2 ms in 100 ns.
const MS: i64 = 10_000;

/// 95 % of the wire's 3,125 bytes/s.
const BURST_FLOOR: u32 = 2_969;

/// Plays each of `names` from the shared set on `sim` with `format`.
fn play_shared(names: &[&str], format: PinFormat, sim: SimConfig) -> Vec<(String, PlayReport)> {
    let Some(dir) = shared_dir() else {
        return Vec::new();
    };
    names
        .iter()
        .map(|name| {
            let timeline = load_timeline(&dir.join(name)).expect("a valid file");
            let report = play_with(&timeline, format, sim);
            println!("{name} {format:?} fifo {}:\n{report}", sim.mpu_fifo);
            ((*name).to_owned(), report)
        })
        .collect()
}

#[test]
fn long_files_on_the_default_machine_are_within_a_millisecond() {
    for (name, report) in play_shared(&LONG_FILES, PinFormat::Dmus, SimConfig::default()) {
        assert_clean(&name, &report);
        let p = report.lateness.lateness.expect("messages were matched");
        assert!(p.p99 <= MS, "{name}: p99 {} x 100 ns", p.p99);
        assert!(p.max <= 2 * MS, "{name}: max {} x 100 ns", p.max);
        assert!(
            report.longest_dpc <= 1_000,
            "{name}: longest DPC {} x 100 ns",
            report.longest_dpc
        );
    }
}

#[test]
fn long_files_never_start_a_message_before_its_presentation_time() {
    for format in [PinFormat::Dmus, PinFormat::Ksmusic] {
        for (name, report) in play_shared(&LONG_FILES, format, SimConfig::default()) {
            let margins = report.margins.expect("the wire is exact");
            assert_eq!(
                margins.early, 0,
                "{name} {format:?}: {} messages early, worst by {} x 100 ns",
                margins.early, -margins.least
            );
        }
    }
}

/// The original card, with the DPC bound raised to 1 ms.
const ONE_BYTE_FIFO: SimConfig = SimConfig {
    timer_res_us: 1_000,
    mpu_fifo: 1,
    dpc_bound_us: 1_000,
    mpu_fault: rdmus_cli::sim::Mpu401Fault::None,
    fail_nth: None,
};

#[test]
fn a_one_byte_fifo_plays_every_file_exactly_with_no_dpc_over_a_millisecond() {
    let names: Vec<&str> = LONG_FILES
        .iter()
        .chain(&BURSTY_FILES[3..])
        .copied()
        .collect();
    for (name, report) in play_shared(&names, PinFormat::Dmus, ONE_BYTE_FIFO) {
        assert_clean(&name, &report);
        assert!(
            report.longest_dpc <= 10_000,
            "{name}: longest DPC {} x 100 ns",
            report.longest_dpc
        );
    }
}

#[test]
fn a_one_byte_fifo_keeps_the_wire_at_95_percent_through_bursts() {
    for (name, report) in play_shared(&BURSTY_FILES, PinFormat::Dmus, ONE_BYTE_FIFO) {
        let bursts = report.bursts.expect("the file has bursts");
        assert!(
            bursts.overall >= BURST_FLOOR,
            "{name}: {} bytes/s through {} bursts",
            bursts.overall,
            bursts.bursts
        );
    }
}

#[test]
fn a_sixteen_byte_fifo_carries_bursts_at_full_speed() {
    for (name, report) in play_shared(&BURSTY_FILES, PinFormat::Dmus, SimConfig::default()) {
        let bursts = report.bursts.expect("the file has bursts");
        assert!(bursts.overall >= BURST_FLOOR, "{name}: {bursts:?}");
    }
}
