//! Unpacking render IRPs into event chains: `KSMUSICFORMAT` buffers (legacy
//! MIDI pins, millisecond deltas) and `DMUS_EVENTHEADER` buffers (`DirectMusic`
//! pins, 100 ns deltas).
//!
//! A malformed buffer gives a clear [`UnpackError`] for that IRP, and every
//! event built from the records before the fault is kept in the result.

mod dmus;
mod error;
mod header;
mod ksmusic;
mod timeline;

pub use dmus::DmusUnpacker;
pub use error::{UnpackError, Unpacked};
pub use header::{HeaderError, IrpHeader};
pub use ksmusic::KsMusicUnpacker;
pub use timeline::{Limits, Timeline};
