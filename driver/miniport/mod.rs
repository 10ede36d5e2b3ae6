//! Pieces every DMus miniport of rdmus shares (the MPU-401 one now, the synth later):
//! pool boxes, a spin lock, safe handles on the port's
//! allocator and master clock, property-request replies and data-range intersection.
//! (The render streams hold their events in `mxf`'s sequencer.)

pub mod allocator;
pub mod clock;
pub mod component;
pub mod intersection;
pub mod new_stream_args;
pub mod pool_box;
pub mod property;
pub mod shared;
pub mod spin_lock;
pub mod timer;

// The unit tests reach kernel imports through the miniports' static tables;
// link the simulation that defines them (tests only; nothing calls them).
#[cfg(test)]
use wdm_sim as _;
