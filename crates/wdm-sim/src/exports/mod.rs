//! The kernel functions the driver imports, defined under their Windows names.
//!
//! On the host, `dmus_sys::imports` declares these symbols without a library, so the
//! driver's calls link to these `#[unsafe(no_mangle)] extern "system"` definitions. Each one
//! checks its IRQL and arguments like Driver Verifier would (a violation becomes a
//! [`Finding`](crate::Finding) and the call still completes where that is safe), then acts on
//! the thread's [`MachineState`](crate::MachineState). This module is the only place where
//! wdm-sim reads or writes memory through the driver's pointers.
//!
//! Not defined here: `memcpy`, `memmove`, `memset`, `memcmp` (the host's libc provides them)
//! and the portcls.sys exports other than `PcNewInterruptSync` and `PcGetTimeInterval`
//! (the port model's, in `crate::portcls`).

pub mod debug;
pub mod dpc_timer;
pub mod hal;
pub mod interrupt_sync;
pub mod mm;
pub mod mutex;
pub mod pool;
pub mod slist;
pub mod sync;
pub mod work;

#[cfg(test)]
mod signatures;
