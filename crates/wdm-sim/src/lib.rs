//! wdm-sim: a deterministic simulation of the Windows kernel, HAL and `PortCls`, with an
//! emulated MPU-401 on a timed MIDI wire and Driver Verifier-style checks, so that the rdmus
//! driver's real code runs in host tests.
//!
//! The simulation defines, under their Windows names, the kernel functions the driver imports
//! (`dmus_sys::imports`): on the host the driver's calls resolve to them. Each test builds its
//! own [`Machine`], which installs itself on the test's thread; DPCs, timers, ISRs and work
//! items run on that thread in virtual time (100 ns ticks), on one simulated processor, or with
//! the driver's DPCs on a second one ([`MachineConfig::second_processor`]: a DPC then runs
//! while the test's own calls tear down what it uses). What Driver Verifier would catch
//! becomes a [`Finding`]; a strict machine (the default) dropped with findings nobody took
//! fails the test.
//!
//! Layout: the model ([`state`] and the modules it owns) is safe Rust over addresses on
//! `core` + `alloc`; [`exports`] holds the `extern "system"` kernel functions (the only unsafe
//! code, which reads the driver's pointers); the COM objects the simulation hands out are
//! declared on the driver's COM layer (crates/com-object), their counts kept in the machine's
//! registry ([`sim_object`]); `scheduler` and `dispatch` run the driver's routines;
//! [`Machine`] is the test's handle. On the host, the driver's `Vec`s and `Box`es come from
//! the machine's pool too: the driver declares [`DriverHeap`] its global allocator.
#![no_std]
// The exported kernel functions keep the DDK's names and argument spellings.
#![allow(non_snake_case, reason = "kernel exports keep their Windows names")]

extern crate alloc;
extern crate std;

pub mod com;
pub mod config;
pub mod cpu;
mod current;
mod dispatch;
pub mod dpc;
pub mod driver_heap;
pub mod emulated_card;
pub mod exports;
pub mod finding;
pub mod interrupt;
pub mod lookaside;
mod machine;
pub mod pool;
pub mod portcls;
pub mod prng;
mod scheduler;
pub mod sim_object;
pub mod slist;
pub mod state;
pub mod stats;
pub mod time;
pub mod timers;
pub mod user_space;
pub mod work;

#[cfg(test)]
mod tests;

pub use config::{
    DOWN_LEVEL_MISSING_ROUTINES, FaultInjection, MachineConfig, Mpu401Config, Mpu401Fault,
    translated_interrupt,
};
pub use current::driver_running;
pub use dispatch::call_driver;
pub use driver_heap::DriverHeap;
pub use finding::{Finding, RoutineKind};
pub use machine::Machine;
pub use state::{HostCallback, HostLevel, MachineState};
pub use stats::{DurationStats, RoutineStats};
pub use time::{ms, us};
pub use user_space::{KernelBuffer, UserBuffer};
