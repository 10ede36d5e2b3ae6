//! The image's heap: rdmus-driver's [`PoolAllocator`](rdmus_driver::PoolAllocator) over non-paged pool
//! (the `wdk` feature uses wdk-alloc instead, in `wdk_glue`). On the host the
//! same `PoolAllocator` serves the driver's code through wdm-sim's `DriverHeap`,
//! the global allocator rdmus-driver declares there (driver/pool.rs), so the
//! simulated pool sees every allocation the driver makes.

#[cfg(all(target_os = "windows", not(feature = "wdk")))]
use rdmus_driver::PoolAllocator;

/// The Windows image's global allocator.
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[global_allocator]
static GLOBAL_ALLOCATOR: PoolAllocator = PoolAllocator;
