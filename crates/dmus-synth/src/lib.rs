//! The engine of rdmus's DLS synth miniport, free of COM and kernel calls: it turns the
//! `DMUS_KERNEL_EVENT` chains the MIDI render streams send into samples for the wave sink.
//!
//! - [`synth`]: [`SynthCore`], the instrument store, `dls`'s voice engine, one `mxf`
//!   sequencer per MIDI render input (the `KSSTATE` rules on master-clock times), the output
//!   volume and the running statistics; its render plays each event at its own sample.
//! - [`inbox`]: where `IMXF::PutMessage` leaves events at `DISPATCH_LEVEL` (an O(1) append
//!   per input), for the synth to file by time before it renders.
//! - [`clock`]: the sample clock, which master time each output sample plays at, kept in
//!   step with the sink by `SyncToMaster`.
//! - [`messages`]: the channel messages in an event's bytes.
//!
//! The driver keeps the COM objects, the kernel mutex and spin lock around these, and the
//! pool they live in. `no_std` + `alloc` (every allocation fallible, none on the render
//! path); integer arithmetic only; no clock reads (time is an argument, in 100 ns units).
// Unit tests link std; everything else is core + alloc.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod clock;
pub mod inbox;
pub mod messages;
pub mod synth;

pub use crate::clock::SampleClock;
pub use crate::inbox::Inbox;
pub use crate::synth::{InputError, Stats, SynthCore, SynthEngine};
