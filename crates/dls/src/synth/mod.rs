//! The synth's data path, as plain `no_std` integer code: fixed-point DLS unit conversions,
//! the volume envelope, articulation from connection blocks, and the voice that reads samples
//! straight out of the [`crate::download::InstrumentStore`] with linear interpolation and loops,
//! panned with constant power into a stereo mix.

pub mod articulation;
pub mod envelope;
pub mod fixed;
pub mod tables;
pub mod voice;
