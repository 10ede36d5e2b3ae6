//! Where the shared data lives and the measurement constants.

use std::path::PathBuf;

/// The shared GM bank.
pub const BANK: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/dls/sf_GMbank.dls"
);
/// The shared MIDI files.
pub const MIDI_DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/midi/jazz-soft"
);
/// RMS envelope window in milliseconds.
pub const WINDOW_MS: u32 = 50;

/// The bank path (`RDMUS_BANK` overrides [`BANK`]).
#[must_use]
pub fn bank_path() -> PathBuf {
    std::env::var_os("RDMUS_BANK").map_or_else(|| PathBuf::from(BANK), PathBuf::from)
}

/// A file of the shared MIDI directory.
#[must_use]
pub fn midi_path(name: &str) -> PathBuf {
    PathBuf::from(MIDI_DIR).join(name)
}
