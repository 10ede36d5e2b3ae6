//! The driver in the simulation: rdmus's real code (its host rlib) loaded
//! into wdm-sim's kernel, PortCls port and emulated MPU-401, driven the way
//! an application drives a MIDI device.

mod capture;
mod render_stream;
mod rig;
mod running_stats;
mod synth;

pub use capture::{
    CaptureFormat, CaptureRun, CapturedMessage, CapturedRecord, capture, join_sysex,
};
pub use render_stream::{
    DEFAULT_QUEUE_AHEAD, RenderPin, StreamOptions, StreamRun, WriteTrouble, stream,
};
pub use rig::{DPC_GUIDELINE_US, Rig, RigReport, SimConfig, SimError, with_teardown_findings};
pub use synth::{SynthError, SynthOptions, SynthRun, render_synth};
pub use wdm_sim::Mpu401Fault;
