//! The commands that run the driver in the simulation: `play`, `record` and
//! `bench-wire` (argument parsing and `inspect` live in [`crate::cli`]).

mod bench;
mod describe;
mod play_mpu401;
mod play_synth;
mod play_wine;
mod progress;
mod record;

pub use bench::{BenchRow, FIFOS, HEADER as BENCH_HEADER, bench_runs, bench_wire};
pub use describe::describe;
pub use play_mpu401::play_file;
pub use play_synth::{MAX_WAV_FRAMES, RELEASE_TAIL, SynthPlayOptions, play_synth, wav_frames};
pub use play_wine::{WineMpu401Options, WineSynthOptions, play_file_wine, play_synth_wine};
pub use record::{read_messages, record_file, record_file_wine, write_messages};
