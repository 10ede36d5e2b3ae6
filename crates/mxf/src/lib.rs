//! The MIDI transport of rdmus: everything between the bytes user mode sends or
//! receives and the kernel events (`DMUS_KERNEL_EVENT`) a `DirectMusic` miniport handles.
//!
//! Plain `no_std` Rust: no COM, no kernel calls, no clock reads (time is always
//! an argument, in 100 ns units). `unsafe` is denied everywhere except in
//! [`raw`], the one module that owns and walks raw event chains.
//!
//! | module | job |
//! |---|---|
//! | [`wire`] | checked views of `KSMUSICFORMAT` and `DMUS_EVENTHEADER` records and one generic reader and writer for both (bytes only) |
//! | [`raw`] | [`Chain`] (owned `pNextEvt` chains, packages, long data), the [`EventPool`] and [`Discard`] traits, [`FixedPool`] (host) and [`raw::CountingPool`] (checking wrapper) |
//! | [`unpack`] | render IRP → chain, with the time rules (first delta from `PresentationTime`, never backwards across IRPs) |
//! | [`sequencer`] | time-ordered, intrusive queue with the render `KSSTATE` rules, on the port's presentation clock or a miniport's master-clock timeline |
//! | [`pack`] | capture chain → IRP buffers of a given size, carrying what does not fit |
//! | [`midi`] | MIDI 1.0 byte-stream parser (running status, realtime anywhere, sysex pieces) |
//! | [`capture`] | captured `(byte, time)` → events; the capture `KSSTATE` rule |
//! | [`build`] | messages → events (split into `DMUS_KEF_EVENT_INCOMPLETE` pieces when long) |
//!
//! Render, as the port and driver use it: `unpack::KsMusicUnpacker::unpack`
//! (or `DmusUnpacker`) → `Sequencer::put` → on the timer, `Sequencer::pop_due`
//! → play → `Chain::free` to the pool; `Sequencer::next_due_time` arms the
//! timer. Capture: `capture::CaptureParser::parse` → `pack::Packer::push` →
//! `Packer::pack_ksmusic`/`pack_dmus` per IRP. A user-mode application's
//! buffers are built with `wire::ksmusic::Writer` / `wire::dmus::Writer`.
// Unit tests and the `std` feature (host helpers) link std; everything else is core only.
#![cfg_attr(not(any(test, feature = "std")), no_std)]
#![deny(unsafe_code)]
// The unsafe of `raw` is explained block by block, one operation a block, with no exception.
#![forbid(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]

pub mod build;
pub mod capture;
pub mod midi;
pub mod pack;
pub mod raw;
pub mod sequencer;
pub mod unpack;
pub mod wire;

pub use raw::{Chain, Discard, EventPool, EventRef, FixedPool, PoolStats};
