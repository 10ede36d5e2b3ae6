//! rdmus.sys: a WDM DirectMusic adapter driver (an MPU-401 UART port and a DLS synth).
//!
//! The kernel glue lives here: the entry points, the adapter's DMus port and
//! subdevice seam, the pool allocator, the panic handler and the architecture
//! intrinsics. The same code builds as `rdmus.sys` for Windows targets and as
//! an rlib on the host, where the tests run it against wdm-sim.
#![no_std]
// The docs quote the DDK's vocabulary (PortCls, StartDevice, PASSIVE_LEVEL, DMus)
// in almost every line; backticking each would bury the prose (as in dmus-sys).
#![allow(clippy::doc_markdown)]

// Host builds (the rlib that tests/ run against wdm-sim, and the host cdylib
// cargo also emits) take their panic runtime from std. Nothing in the driver
// names std; on Windows targets the driver has its own panic handler.
#[cfg(not(target_os = "windows"))]
extern crate std;

extern crate alloc;

pub mod adapter;
pub mod arch;
pub mod com;
pub mod entry;
pub mod miniport;
pub mod mpu401;
pub mod panic;
pub mod pool;
pub mod port;
pub mod resources;
pub mod runtime;
pub mod subdevice;
pub mod synth;
pub mod trace;
#[cfg(all(target_os = "windows", feature = "wdk"))]
mod wdk_glue;

pub use entry::DriverEntry;
pub use pool::{POOL_TAG, PoolAllocator};
pub use subdevice::SubdeviceKind;
