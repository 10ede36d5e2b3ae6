//! Wire formats: checked readers and writers for the buffers user mode sends
//! and receives. These modules only parse and emit bytes; unpacking into event
//! chains and packing from them is behaviour that lives in [`crate::unpack`] and
//! [`crate::pack`].
//!
//! Both formats frame records the same way (a header with a byte count, the
//! data, padding), so one generic [`Record`] view, [`Reader`] and [`Writer`]
//! serve both; [`ksmusic`] and [`dmus`] each describe their header as a
//! [`RecordFormat`].
//!
//! All Windows targets are little-endian, so fields are read and written with
//! `from_le_bytes`/`to_le_bytes` at fixed offsets, never through pointer casts.

pub mod dmus;
mod error;
mod framing;
pub mod ksmusic;

pub use error::{EmitError, WireError};
pub use framing::{Reader, Record, RecordFormat, Writer, record_len};
