//! rdmus.sys, the image: what only the linked driver needs, over the driver's
//! code in `rdmus-driver`.
//!
//! - [`export`]: `DriverEntry`, the one export and the linker's `/ENTRY`;
//! - [`panic`](mod@panic): the panic handler (a bugcheck that names rdmus and the place);
//! - [`allocator`]: the global allocator over non-paged pool;
//! - [`runtime`]: what a kernel image needs from a C runtime it does not link;
//! - `wdk_glue`: the `wdk` feature's allocator, panic handler and layout checks.
//!
//! build.rs links it as a kernel driver for the `*-windows-msvc` targets. On
//! the host the crate builds too (cargo builds every target of the workspace)
//! but holds only the panic code's tests: the tests run the driver's code
//! through `rdmus-driver` against wdm-sim.
#![no_std]
// The docs quote the DDK's vocabulary (DriverEntry, PASSIVE_LEVEL, KeBugCheckEx).
#![allow(clippy::doc_markdown)]

// A host cdylib takes its panic runtime from std; on Windows targets the image
// has its own panic handler.
#[cfg(not(target_os = "windows"))]
extern crate std;

pub mod allocator;
pub mod export;
pub mod panic;
pub mod runtime;
#[cfg(all(target_os = "windows", feature = "wdk"))]
mod wdk_glue;
