//! `--runtime wine`: the same commands with the real x64 `rdmus.sys` running under Wine's
//! kernel (issue 14) instead of the driver's host build in wdm-sim. The command writes the
//! stand-in portcls.sys's job ([`job`]: crates/portcls-standin's format), finds the two
//! modules ([`images`]), runs the job on the bench copy of the image with its shim
//! (crates/wine-run) and reads the stand-in's outputs back ([`run`]): the wire log, the
//! WAV, the captured messages, the synth's figures and the pool accounting.

pub mod images;
pub mod job;
pub mod run;

pub use images::Images;
pub use job::{JobDevice, write_capture_job, write_play_job};
pub use run::{Accounting, JobRun, JobSpec, log_count, run_job};
