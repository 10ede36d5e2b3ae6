//! Wire formats: byte readers with no behaviour.

pub mod bytes;
pub mod download;
pub mod file;
pub mod riff;
#[cfg(feature = "host")]
pub mod riff_writer;
