//! DLS for rdmus: Downloadable Sounds collections and `DirectMusic` DLS download buffers.
//!
//! - [`wire`] reads bytes and nothing else: a checked RIFF reader, the `.dls` file model
//!   ([`wire::file`]) and the checked view of a download buffer ([`wire::download`]).
//! - [`download`] is behaviour: the validating parser of download buffers into owned
//!   instruments and borrowed waves, the [`download::InstrumentStore`] the synth plays from,
//!   and (feature `host`) the builder that turns a `.dls` file into download buffers the way
//!   `DirectMusic` does.
//! - [`model`] holds the plain value types both sides share.
//!
//! `no_std` + `alloc`; no clock, no kernel calls. Nothing here panics on input: every buffer is
//! checked before use and refused with a small error enum.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod download;
pub mod model;
pub mod synth;
pub mod wire;
