//! Songs through the `dls` synth, next to `FluidSynth`: shared by `benches/vs_fluidsynth.rs`,
//! `tests/fluidsynth_envelope.rs` and `examples/render.rs` (each includes it with `#[path]`).
//!
//! - [`load_bank`]: a `.dls` file into an [`InstrumentStore`] through the driver's path: host
//!   builder → download buffers → download parser → store.
//! - [`Song::read`]: a Standard MIDI File (the smf crate's reader: tempo map, formats 0/1/2) into
//!   channel messages at their exact output frame.
//! - [`render`]: the song through `Engine<64, 1>` at 48 kHz, 16-bit stereo.
//! - [`fluidsynth`]: the same song and bank through the `fluidsynth` command (or
//!   `$RDMUS_FLUIDSYNTH`), timed.
//! - [`rms_envelope`], [`correlation`]: the sound-alike measure.
#![allow(
    dead_code,
    unused_imports,
    reason = "the bench, the test and the example each use a different part of the module"
)]

pub mod cpu;
pub mod envelope;
pub mod fluid;
pub mod paths;
pub mod render;
pub mod stress;
pub mod wav;

pub use cpu::{children_cpu_seconds, thread_cpu_seconds};
pub use envelope::{correlation, rms_envelope};
pub use fluid::{
    FLUIDSYNTH_ENV, FluidEffects, FluidError, FluidRun, fluidsynth, fluidsynth_program,
    fluidsynth_version, fluidsynth_with,
};
pub use paths::{BANK, MIDI_DIR, WINDOW_MS, bank_path, midi_path};
pub use render::{
    BankReading, EFFECTS_ON, RATE, Rendered, Song, VOICES, load_bank, load_bank_read_as, render,
    render_counted, render_counted_into, render_with_effects_into,
};
pub use stress::held_notes_smf;
pub use wav::{read_wav, write_wav};
