//! The one place in `mxf` with `unsafe`: ownership of raw `DMUS_KERNEL_EVENT`
//! chains and the pools they come from.
//!
//! Events travel between `PortCls` and the miniport as raw pointers linked
//! through `pNextEvt`, with long data in `uData.pbData` and packages in
//! `uData.pPackageEvt`. This module turns them into owned values: a
//! [`Chain`] owns every event in it, the package contents and data buffers
//! included, and the only ways to end a chain are to give it back to a pool
//! ([`Chain::free`]) or to hand it on as a raw pointer ([`Chain::into_raw`]).
//! Everything outside this module is safe code over these types.
//! (`SharedPool`, feature `std`, lends one host pool to a test and the code
//! under test at once.)
#![allow(unsafe_code)] // The reason for this module: see above.

mod chain;
mod checked_pool;
mod fixed_pool;
mod pool;
#[cfg(any(test, feature = "std"))]
mod shared_pool;

pub use chain::{BuildError, Chain, ChainIter, EventRef, FreeCount, INLINE_CAPACITY};
pub use checked_pool::{CountingPool, Violations};
pub use fixed_pool::{FixedPool, PoolConfigError};
pub use pool::{Discard, EventPool, PoolStats};
#[cfg(any(test, feature = "std"))]
pub use shared_pool::SharedPool;

#[cfg(test)]
mod tests;
