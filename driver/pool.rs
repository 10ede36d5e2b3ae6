//! The driver's heap: non-paged pool from `ExAllocatePool2`, tagged `rdmu`.
//!
//! `ExAllocatePool2` returns blocks aligned to `MEMORY_ALLOCATION_ALIGNMENT`
//! (16 bytes on 64-bit Windows, 8 on x86). A larger alignment is honoured by
//! over-allocating `size + align` bytes and handing out the first aligned
//! address strictly above the pool block; the pool block's own address is
//! stored in the word just below the aligned one, where `dealloc` finds it.
//!
//! [`PoolAllocator`] is the `#[global_allocator]` of the Windows image (in
//! `driver/image/allocator.rs`, the root package's). On the host it is the
//! driver's half of wdm-sim's `DriverHeap`, the global allocator this crate
//! declares there: while the driver's code runs (a routine the simulation
//! called), every `Vec` and `Box` it makes goes through this same
//! `PoolAllocator` to `ExAllocatePool2`, so the simulated pool tags it `rdmu`,
//! checks it for leaks at unload, quarantines it when freed and fails it on
//! purpose; everything else (the tests, the simulation) uses std's allocator.
//!
//! Why a routing global allocator and not an allocator handed to the driver:
//! on stable Rust a collection cannot take an allocator (`Vec<T, A>`,
//! `Box::try_new_in` are `allocator_api`, unstable), so handing one over would
//! mean our own pool-backed vector and box in every crate the driver uses
//! (dls's store and parser, dmus-synth's engine), each with its own bugs,
//! while the image keeps `alloc`'s. Routing keeps one code path: the same
//! `alloc` collections, the same `PoolAllocator`, on Windows and in the
//! simulation; what the driver must do itself is ask fallibly
//! (`try_reserve`, `Vec::try_with_capacity`-style helpers) and turn a refusal
//! into `STATUS_INSUFFICIENT_RESOURCES`, which the failure-injection tests
//! check at every allocation.

use core::alloc::{GlobalAlloc, Layout};
use core::mem::size_of;

use dmus_sys::imports::ExFreePoolWithTag;
use dmus_sys::kernel::{POOL_FLAG_NON_PAGED, POOL_FLAG_UNINITIALIZED, POOL_FLAGS};

/// The host's global allocator: the driver's allocations to [`PoolAllocator`]
/// (so to the simulated pool), everyone else's to std's (see the module docs).
#[cfg(not(target_os = "windows"))]
#[global_allocator]
static HOST_HEAP: wdm_sim::DriverHeap<PoolAllocator> = wdm_sim::DriverHeap::new(PoolAllocator);

/// rdmus's pool tag: shows as `rdmu` in pool tools (the bytes in memory order).
pub const POOL_TAG: u32 = u32::from_ne_bytes(*b"rdmu");

/// The alignment every pool block has (`MEMORY_ALLOCATION_ALIGNMENT`, wdm.h).
pub const POOL_ALIGNMENT: usize = if cfg!(target_pointer_width = "64") {
    16
} else {
    8
};

/// The global allocator over non-paged pool. Usable at IRQL ≤ `DISPATCH_LEVEL`.
pub struct PoolAllocator;

/// How many bytes to ask the pool for, to place `layout` at its alignment.
///
/// `size + align` cannot overflow: a `Layout`'s size rounded up to its
/// alignment is at most `isize::MAX`, and `isize::MAX + align ≤ usize::MAX`.
/// A request the pool cannot satisfy comes back null from `ExAllocatePool2`.
#[must_use]
pub fn pool_request_size(layout: Layout) -> usize {
    if layout.align() <= POOL_ALIGNMENT {
        layout.size()
    } else {
        layout.size() + layout.align()
    }
}

/// The aligned address handed out from a pool block at `raw`, for an
/// alignment above [`POOL_ALIGNMENT`]: the first multiple of `align`
/// strictly above `raw`. Because `raw` and `align` are both multiples of
/// `POOL_ALIGNMENT`, at least `POOL_ALIGNMENT` (≥ one word) bytes lie
/// between them for the stored pool address, and `aligned + size` stays within
/// the `size + align` bytes requested.
#[must_use]
pub fn over_aligned_address(raw: usize, align: usize) -> usize {
    (raw + align) & !(align - 1)
}

// SAFETY: alloc returns either null or a block of at least layout.size() bytes
// at layout.align() that no one else uses until dealloc; dealloc frees exactly
// the pool block alloc took (found again from the layout it is given, which the
// GlobalAlloc contract says is the same as at alloc). Neither unwinds. Both
// run at the caller's IRQL, which must be ≤ DISPATCH_LEVEL (non-paged pool).
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded contract (non-zero size, caller's IRQL ≤ DISPATCH_LEVEL).
        unsafe { allocate(layout, POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // ExAllocatePool2 zeroes the block unless told POOL_FLAG_UNINITIALIZED.
        // SAFETY: forwarded contract (non-zero size, caller's IRQL ≤ DISPATCH_LEVEL).
        unsafe { allocate(layout, POOL_FLAG_NON_PAGED) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let raw = if layout.align() <= POOL_ALIGNMENT {
            ptr
        } else {
            // SAFETY: alloc stored the pool block's address in the word just
            // below every over-aligned block, inside the same pool block, at a
            // word-aligned address (ptr is a multiple of align > word size).
            // A plain read of memory we own: any IRQL.
            unsafe { stored_pool_address(ptr).read() }
        };
        // SAFETY: raw is the address ExAllocatePool2 returned with POOL_TAG;
        // non-paged pool may be freed at IRQL ≤ DISPATCH_LEVEL, the same IRQL
        // rule as allocation, which the caller already keeps.
        unsafe { ExFreePoolWithTag(raw.cast(), POOL_TAG) };
    }
}

/// Allocates `layout` from non-paged pool with `flags`.
///
/// # Safety
/// IRQL ≤ `DISPATCH_LEVEL`; `layout.size()` is non-zero.
unsafe fn allocate(layout: Layout, flags: POOL_FLAGS) -> *mut u8 {
    let request = pool_request_size(layout);
    // SAFETY: non-paged pool may be allocated at IRQL ≤ DISPATCH_LEVEL (the
    // caller's contract); a null return is passed on as allocation failure.
    let raw =
        unsafe { crate::kernel_routines::allocate_pool(flags, request, POOL_TAG) }.cast::<u8>();
    if raw.is_null() || layout.align() <= POOL_ALIGNMENT {
        return raw;
    }
    let offset = over_aligned_address(raw as usize, layout.align()) - raw as usize;
    // SAFETY: offset ≤ align, so the aligned block (offset + size ≤ request)
    // and the word below it (offset ≥ POOL_ALIGNMENT ≥ a word) both lie
    // inside the pool block just allocated. Pointer arithmetic: any IRQL.
    let aligned = unsafe { raw.add(offset) };
    // SAFETY: see above: the word below `aligned` is in the block and
    // word-aligned (aligned is a multiple of align > POOL_ALIGNMENT ≥ word).
    // A plain write to non-paged memory we own: any IRQL.
    unsafe { stored_pool_address(aligned).write(raw) };
    aligned
}

/// Where the pool block's address is kept for an over-aligned block: the word
/// just below it. (Pointer arithmetic only; the caller reads or writes it.)
fn stored_pool_address(aligned: *mut u8) -> *mut *mut u8 {
    // wrapping_sub: no dereference here, so no in-bounds requirement yet; the
    // address is word-aligned because `aligned` is (see `allocate`).
    #[allow(
        clippy::cast_ptr_alignment,
        reason = "aligned is a multiple of an alignment above the word size"
    )]
    aligned.wrapping_sub(size_of::<*mut u8>()).cast::<*mut u8>()
}

const _: () = assert!(
    POOL_ALIGNMENT >= size_of::<usize>(),
    "room for the stored pool address"
);

#[cfg(test)]
mod tests {
    use core::alloc::Layout;
    use core::mem::size_of;

    use super::{POOL_ALIGNMENT, POOL_TAG, over_aligned_address, pool_request_size};

    #[test]
    fn the_pool_tag_reads_rdmu_in_memory_order() {
        assert_eq!(POOL_TAG.to_ne_bytes(), *b"rdmu");
    }

    #[test]
    fn small_alignments_use_the_pool_block_as_is() {
        for align in [1, 2, 4, 8, POOL_ALIGNMENT] {
            let layout = Layout::from_size_align(24, align).unwrap();
            assert_eq!(pool_request_size(layout), 24);
        }
    }

    #[test]
    fn large_alignments_over_allocate_and_fit() {
        // Every pool address a 64-bit pool can return near a page boundary,
        // every power-of-two alignment above the pool's.
        for size in [1usize, 7, 64, 4096] {
            let mut align = POOL_ALIGNMENT * 2;
            while align <= 8192 {
                let layout = Layout::from_size_align(size, align).unwrap();
                let request = pool_request_size(layout);
                for raw in (0x1_0000..0x1_0000 + 2 * align).step_by(POOL_ALIGNMENT) {
                    let aligned = over_aligned_address(raw, align);
                    assert_eq!(aligned % align, 0);
                    assert!(
                        aligned - raw >= size_of::<usize>(),
                        "room for the pool address"
                    );
                    assert!(aligned + size <= raw + request, "the block fits");
                }
                align *= 2;
            }
        }
    }

    #[test]
    fn the_largest_layout_does_not_overflow_the_request() {
        let align = 64;
        let largest = Layout::from_size_align(isize::MAX as usize - (align - 1), align).unwrap();
        assert_eq!(pool_request_size(largest), isize::MAX as usize + 1);
    }
}
