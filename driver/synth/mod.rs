//! The DLS software synthesizer DirectMusic miniport (the `Synth` subdevice).
//!
//! - [`miniport`]: the `IMiniportDMus` object, its [`dmus_synth::SynthCore`] behind a kernel
//!   mutex ([`mutex`], held at PASSIVE_LEVEL while it mixes) and the [`dmus_synth::Inbox`]
//!   the MIDI streams append events to at DISPATCH_LEVEL under a spin lock.
//! - [`descriptor`]: the filter (MIDI and DirectMusic render pins, the wave-out pin, the
//!   synthesizer node).
//! - [`render`]: the MIDI render streams (`IMXF`) that queue events into the synth.
//! - [`sink`]: the wave-sink stream (`ISynthSinkDMus`) the port pulls audio from.
//! - [`properties`] and [`download`]: `KSPROPSETID_Synth` and `KSPROPSETID_Synth_Dls`;
//!   [`lost_notes`]: rdmus's own set giving `SYNTH_STATS.LostNotes` by cause; [`voices`]:
//!   rdmus's own set starting and stopping wave voices (`PlayVoice`/`StopVoice`).
//!
//! The synth itself (its core, sample clock and event inbox) is the `dmus-synth` crate,
//! free of COM and kernel calls.

pub mod descriptor;
pub mod download;
pub mod lost_notes;
pub mod miniport;
pub mod mutex;
pub mod properties;
pub mod render;
pub mod sink;
pub mod voices;

pub use miniport::new_miniport;
