//! Standard MIDI Files (read with midly) to a [`crate::timeline::Timeline`].

mod chunks;
mod error;
mod read;
mod tempo;
mod track;

pub use error::{SmfError, SmfFault};
pub use read::read_smf;
pub use tempo::{DEFAULT_TEMPO_US_PER_QUARTER, TempoMap, TimeBase};
