//! The buffers a Windows application sends to the driver's pins, built from
//! a [`smf::Timeline`]: `KSMUSICFORMAT` for the legacy MIDI pin
//! (winmm's midiOut/midiStream path, millisecond deltas) and
//! `DMUS_EVENTHEADER` for the DirectMusic pin (100 ns deltas), each buffer
//! with the `KSSTREAM_HEADER` values that travel with it. The record layouts
//! are written by `mxf::wire`, the same code the driver reads them with.

mod dmus;
mod ksmusic;
mod packet;
mod pieces;
mod resubmit;

pub use dmus::{DEFAULT_CHANNEL_GROUP, build_dmus, build_dmus_within};
pub use ksmusic::{build_ksmusic, build_ksmusic_within, round_to_ms};
pub use packet::{IrpError, StreamPacket};
pub use resubmit::is_pool_exhausted;
