//! Wire logs: the bytes on the MIDI wire with their times. The ideal log a
//! timeline should produce, the messages in a log, lateness of an observed
//! log against the ideal, bursts and early margins, and the TSV format logs
//! are written and read in. (Not a wire format: those are `mxf::wire` and
//! `dls::wire`.)

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
pub use tsv::{TsvError, out_of_order, read_tsv, write_tsv};
