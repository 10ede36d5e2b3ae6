//! The commands that run the driver in the simulation: `play`, `record` and
//! `bench-wire` (argument parsing and `inspect` live in [`crate::cli`]).

mod bench;
mod play;
mod progress;
mod record;
mod synth;

pub use bench::{BenchRow, HEADER as BENCH_HEADER, MACHINES, bench_runs, bench_wire};
pub use play::play_file;
pub use record::{record_file, write_messages};
pub use synth::{RELEASE_TAIL, SynthPlayOptions, play_synth, wav_frames};
