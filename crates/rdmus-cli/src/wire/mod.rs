//! The MIDI wire: the ideal one a timeline should produce, the messages on a
//! wire log, lateness of an observed log against the ideal, and the TSV
//! format both are written and read in.

mod bursts;
mod early;
mod ideal;
mod lateness;
mod stream;
mod tsv;

pub use bursts::{BurstRate, MIN_BURST_BYTES, burst_rate, bursts};
pub use early::{Margins, margins};
pub use ideal::{BYTE_TIME_100NS, WireByte, ideal_wire};
pub use lateness::{Lateness, Percentiles, compare};
pub use stream::{WireMessage, split_messages};
pub use tsv::{TsvError, read_tsv, write_tsv};
