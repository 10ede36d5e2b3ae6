//! The image's heap: rdmus-driver's [`PoolAllocator`](rdmus_driver::PoolAllocator) over non-paged pool
//! (the `wdk` feature uses wdk-alloc instead, in `wdk_glue`). On the host the
//! tests use std's allocator.

#[cfg(all(target_os = "windows", not(feature = "wdk")))]
use rdmus_driver::PoolAllocator;

/// The Windows image's global allocator.
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[global_allocator]
static GLOBAL_ALLOCATOR: PoolAllocator = PoolAllocator;
