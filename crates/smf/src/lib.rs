//! Standard MIDI Files to a [`Timeline`]: every MIDI message of a file with
//! its absolute time, read with midly and checked by rdmus's own rules
//! (tempo maps of formats 0/1/2, running status, split sysex, faults kept
//! with what was read before them).
//!
//! A host crate: the `rdmus` command plays its timelines through the driver,
//! and dls's benches render them with the synth.
#![forbid(unsafe_code)]

mod chunks;
mod error;
mod read;
mod tempo;
mod timeline;
mod track;

pub use error::{SmfError, SmfFault};
pub use read::read_smf;
pub use tempo::{DEFAULT_TEMPO_US_PER_QUARTER, TempoMap, TimeBase};
pub use timeline::{MessageKind, SmfFormat, SmfWarning, TimedMessage, Timeline};
