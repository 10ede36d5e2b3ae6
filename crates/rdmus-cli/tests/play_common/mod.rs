//! Helpers the tests that play files share: where the files are, one play
//! with the default options, and what a clean run is.
#![allow(dead_code, reason = "each test file uses a different part")]

use std::path::{Path, PathBuf};

use rdmus_cli::cli::{DEFAULT_IRP_SIZE, PinFormat};
use rdmus_cli::play_report::{DEFAULT_IRP_SPAN, PlayOptions, PlayReport, play};
use rdmus_cli::sim::{DEFAULT_QUEUE_AHEAD, SimConfig};
use smf::Timeline;

/// The shared set, if it is there (the test is reported skipped when not, `test_data`).
pub fn shared_dir() -> Option<PathBuf> {
    test_data::find("midi/jazz-soft")
}

/// The copies in the smf crate's tests/data.
pub fn copies_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../smf/tests/data/jazz-soft")
}

/// `.mid` files of `dir`, sorted.
pub fn midi_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("mid")))
        .collect();
    files.sort();
    files
}

/// Plays `timeline` with `format` on `sim`.
pub fn play_with(timeline: &Timeline, format: PinFormat, sim: SimConfig) -> PlayReport {
    let options = PlayOptions {
        format,
        irp_size: DEFAULT_IRP_SIZE,
        irp_span: DEFAULT_IRP_SPAN,
        queue_ahead: DEFAULT_QUEUE_AHEAD,
        sim,
    };
    play(timeline, &options, &mut |_| {}).expect("the driver plays")
}

/// Asserts the run put exactly the file on the wire, cleanly.
pub fn assert_clean(name: &str, report: &PlayReport) {
    let format = report.options.format;
    assert!(
        report.exact,
        "{name} {format:?}: the wire is not the file's messages: {}",
        report.lateness
    );
    assert_eq!(report.dropped(), 0, "{name} {format:?}: dropped");
    assert_eq!(report.lateness.reordered, 0, "{name} {format:?}: reordered");
    assert_eq!(
        report.overruns, 0,
        "{name} {format:?}: overruns at the card"
    );
    assert!(
        report.write_troubles.is_empty(),
        "{name} {format:?}: {:?}",
        report.write_troubles
    );
    assert!(
        report.findings.is_empty(),
        "{name} {format:?}: verifier findings {:#?}",
        report.findings
    );
}
