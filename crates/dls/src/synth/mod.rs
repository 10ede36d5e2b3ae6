//! The synth's data path, as plain `no_std` integer code: fixed-point DLS unit conversions,
//! the volume envelope, articulation from connection blocks, and the voice that reads samples
//! straight out of the [`crate::download::InstrumentStore`] with linear interpolation and loops,
//! panned with constant power into a stereo mix, and the engine that turns MIDI channel messages
//! into voices.

pub mod articulation;
pub mod effects;
pub mod engine;
pub mod envelope;
pub mod filter;
pub mod fixed;
pub mod modulation;
pub mod tables;
pub mod transform;
pub mod voice;
mod wave_read;
