//! The MIDI transport of rdmus: everything between the bytes user mode sends or
//! receives and the kernel events (`DMUS_KERNEL_EVENT`) a `DirectMusic` miniport handles.
//!
//! Plain `no_std` Rust: no COM, no kernel calls, no clock reads (time is always
//! an argument). `unsafe` is denied everywhere except in [`raw`], the one
//! module that owns and walks raw event chains.
// Unit tests and the `std` feature (host helpers) link std; everything else is core only.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]

pub mod build;
pub mod capture;
pub mod midi;
pub mod pack;
pub mod raw;
pub mod sequencer;
pub mod unpack;
pub mod wire;

pub use raw::{Chain, EventPool, EventRef, FixedPool, PoolStats};
