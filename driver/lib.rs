//! The rdmus driver's code: a WDM DirectMusic adapter driver (an MPU-401 UART
//! port and a DLS synth).
//!
//! The entry points, the adapter's DMus port and subdevice seam, the two
//! miniports' COM objects, the pool allocator and the architecture
//! intrinsics. The image `rdmus.sys` (the root package, `driver/image/`) links
//! this crate for the Windows targets and adds the export, the panic handler
//! and the global allocator; on the host the tests (`tests/`, rdmus-cli) run
//! the same code against wdm-sim.
//!
//! Every module is private: the public items below are the facade those
//! callers need, and nothing else.
#![no_std]
// The docs quote the DDK's vocabulary (PortCls, StartDevice, PASSIVE_LEVEL, DMus)
// in almost every line; backticking each would bury the prose (as in dmus-sys).
#![allow(clippy::doc_markdown)]

extern crate alloc;
// The unit tests use std's collections and run on the host against wdm-sim.
#[cfg(test)]
extern crate std;

mod adapter;
pub mod arch;
pub mod com;
mod entry;
mod miniport;
mod mpu401;
mod pool;
mod port;
mod resources;
mod synth;
mod trace;

// What the kernel and PortCls see: the entry point, the subdevices a device
// registers and the resources they start from.
pub use adapter::{ALL_SUBDEVICES, SubdeviceKind};
pub use entry::DriverEntry;
pub use resources::AdapterResources;

// The heap and the debugger output (the simulation checks both), and the line a
// stream prints when it falls back to the clock-interval timer.
pub use miniport::timer::TIMER_FALLBACK_TRACE;
pub use pool::{POOL_TAG, PoolAllocator};
pub use trace::trace;

// The MPU-401 (UART) miniport: its constructor, its object (pool sizes), the
// pins a client opens, its output's synth node and its synth property handler.
pub use mpu401::descriptor::{
    NODE_SYNTH_OUT as UART_NODE_SYNTH_OUT, PIN_CAPTURE as UART_PIN_CAPTURE,
    PIN_DMUSIC_RENDER as UART_PIN_DMUSIC_RENDER, PIN_LEGACY_RENDER as UART_PIN_LEGACY_RENDER,
};
pub use mpu401::miniport::Miniport as UartMiniport;
pub use mpu401::new_miniport as new_uart_miniport;
pub use mpu401::properties::synth_property as uart_synth_property;

// The DLS synth miniport: its constructor, its objects (pool sizes), its lost
// notes property set, the kernel mutex over its state, the copy of a client's
// download buffer. (The synth engine itself is the dmus-synth crate.)
pub use synth::download::{Requestor, copy_client_buffer};
pub use synth::lost_notes::{
    KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES, KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
    KSPROPSETID_RdmusSynthLostNotes, RDMUS_SYNTH_LOST_NOTES,
};
pub use synth::miniport::{Core as SynthMiniportCore, Miniport as SynthMiniport};
pub use synth::mutex::KMutex;
pub use synth::new_miniport as new_synth_miniport;
