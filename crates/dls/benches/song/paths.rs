//! Where the shared data lives and the measurement constants.

use std::path::PathBuf;

/// The shared GM bank, under the shared data directory (`test_data`).
pub const BANK: &str = "dls/sf_GMbank.dls";
/// The shared MIDI files, under the shared data directory.
pub const MIDI_DIR: &str = "midi/jazz-soft";
/// RMS envelope window in milliseconds.
pub const WINDOW_MS: u32 = 50;

/// The bank path (`RDMUS_BANK` overrides [`BANK`]).
#[must_use]
pub fn bank_path() -> PathBuf {
    std::env::var_os("RDMUS_BANK").map_or_else(|| test_data::path(BANK), PathBuf::from)
}

/// A file of the shared MIDI directory.
#[must_use]
pub fn midi_path(name: &str) -> PathBuf {
    test_data::path(MIDI_DIR).join(name)
}
