//! `DirectMusic` DLS downloads: the validating parser (kernel side), the instrument store, and
//! (feature `host`) the builder of download buffers from a `.dls` file.

#[cfg(feature = "host")]
pub mod build;
mod chain;
pub mod error;
pub mod parse;
pub mod store;

pub use error::DownloadError;
pub use parse::{
    Articulation, Parsed, ParsedInstrument, ParsedRegion, ParsedWave, ParsedWaveArticulation,
    WaveKind, parse,
};
pub use store::{APPEND_SAMPLES, Downloaded, InstrumentStore, Refused, StoredWave, WaveSamples};
