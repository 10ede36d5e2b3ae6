//! The stand-in's memory: nonpaged pool tagged `PcSt`, counted, as the global allocator (so
//! `alloc`'s collections work) and as the storage of its COM objects; and the accounting the
//! job reports (blocks and bytes outstanding, objects alive), which must all be back to zero
//! when the driver has unloaded.

use core::alloc::{GlobalAlloc, Layout};
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use com_object::{RefCount, Released, Storage};
use dmus_sys::kernel::{NTSTATUS, NonPagedPoolNx, STATUS_INSUFFICIENT_RESOURCES};

use crate::kernel::{ExAllocatePoolWithTag, ExFreePoolWithTag};

/// The pool tag: `PcSt` ("PortCls stand-in"), little-endian as the kernel reads it.
pub const TAG: u32 = u32::from_le_bytes(*b"PcSt");
/// Pool blocks are 16-byte aligned on x64 (wdm.h: pool allocations are aligned to
/// `MEMORY_ALLOCATION_ALIGNMENT`); larger alignments are refused.
const POOL_ALIGNMENT: usize = 16;

static BLOCKS: AtomicI64 = AtomicI64::new(0);
static BYTES: AtomicI64 = AtomicI64::new(0);
static OBJECTS: AtomicI64 = AtomicI64::new(0);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static FAILURES: AtomicU64 = AtomicU64::new(0);
static PEAK_BYTES: AtomicI64 = AtomicI64::new(0);

/// The accounting at one moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accounting {
    /// Pool blocks outstanding.
    pub blocks: i64,
    /// Bytes outstanding.
    pub bytes: i64,
    /// COM objects alive.
    pub objects: i64,
    /// Allocations ever made.
    pub allocations: u64,
    /// Allocations that failed.
    pub failures: u64,
    /// The most bytes outstanding at once: flat when memory does not grow with the job.
    pub peak_bytes: i64,
}

/// The accounting now.
#[must_use]
pub fn accounting() -> Accounting {
    Accounting {
        blocks: BLOCKS.load(Ordering::Acquire),
        bytes: BYTES.load(Ordering::Acquire),
        objects: OBJECTS.load(Ordering::Acquire),
        allocations: ALLOCATIONS.load(Ordering::Acquire),
        failures: FAILURES.load(Ordering::Acquire),
        peak_bytes: PEAK_BYTES.load(Ordering::Acquire),
    }
}

/// A counted nonpaged block of `layout` (null when the pool has none or the alignment is
/// more than the pool's). IRQL ≤ DISPATCH_LEVEL.
fn allocate(layout: Layout) -> *mut u8 {
    if layout.align() > POOL_ALIGNMENT {
        FAILURES.fetch_add(1, Ordering::Relaxed);
        return core::ptr::null_mut();
    }
    let size = layout.size().max(1);
    // SAFETY: nonpaged pool at IRQL ≤ DISPATCH_LEVEL (every caller); any size.
    let block = unsafe { ExAllocatePoolWithTag(NonPagedPoolNx, size, TAG) }.cast::<u8>();
    if block.is_null() {
        FAILURES.fetch_add(1, Ordering::Relaxed);
    } else {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BLOCKS.fetch_add(1, Ordering::AcqRel);
        let size = i64::try_from(size).unwrap_or(i64::MAX);
        let now = BYTES.fetch_add(size, Ordering::AcqRel).saturating_add(size);
        PEAK_BYTES.fetch_max(now, Ordering::AcqRel);
    }
    block
}

/// Frees a block [`allocate`] made for `layout`. IRQL ≤ DISPATCH_LEVEL.
fn free(block: *mut u8, layout: Layout) {
    // SAFETY: a block ExAllocatePoolWithTag gave with our tag (the caller's contract), at
    // IRQL ≤ DISPATCH_LEVEL.
    unsafe { ExFreePoolWithTag(block.cast(), TAG) };
    BLOCKS.fetch_sub(1, Ordering::AcqRel);
    BYTES.fetch_sub(
        i64::try_from(layout.size().max(1)).unwrap_or(i64::MAX),
        Ordering::AcqRel,
    );
}

/// A counted nonpaged block of `size` bytes, 16-byte aligned (null when the pool has none):
/// the entries of the allocator's lookaside lists (their `Allocate` routine). IRQL ≤
/// DISPATCH_LEVEL.
#[must_use]
pub fn allocate_block(size: usize) -> *mut c_void {
    Layout::from_size_align(size, POOL_ALIGNMENT)
        .map_or(core::ptr::null_mut(), |layout| allocate(layout).cast())
}

/// Frees a block [`allocate_block`] made for `size` bytes. IRQL ≤ DISPATCH_LEVEL.
///
/// # Safety
/// `block` came from `allocate_block(size)` with this `size` and is not used afterwards.
pub unsafe fn free_block(block: *mut c_void, size: usize) {
    if let Ok(layout) = Layout::from_size_align(size, POOL_ALIGNMENT) {
        free(block.cast(), layout);
    }
}

/// The global allocator over `allocate` / `free` (counted pool blocks).
pub struct PoolAllocator;

// SAFETY: blocks come from the pool with at least the asked size and (checked) alignment, and
// go back to it once; `alloc` returns null on failure as GlobalAlloc requires.
unsafe impl GlobalAlloc for PoolAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        allocate(layout)
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        free(block, layout);
    }
}

#[global_allocator]
static GLOBAL_ALLOCATOR: PoolAllocator = PoolAllocator;

/// The storage of the stand-in's COM objects: counted pool blocks with the reference count
/// in the object; alive objects are counted too.
pub enum Pool {}

// SAFETY: `allocate` hands back a block `init` initialised (freed again if `init` fails), which
// `free` drops and frees; RefCount says `Last` once, at zero.
unsafe impl Storage for Pool {
    type Count = RefCount;

    fn first_count(_identity: NonNull<c_void>, _name: &'static str) -> RefCount {
        RefCount::new()
    }

    fn add_ref(count: &RefCount, _identity: NonNull<c_void>) -> u32 {
        count.add_ref()
    }

    fn release(count: &RefCount, _identity: NonNull<c_void>) -> Released {
        count.release()
    }

    fn allocate<T>(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<NonNull<T>, NTSTATUS> {
        let layout = Layout::new::<T>();
        let block = NonNull::new(allocate(layout).cast::<MaybeUninit<T>>())
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        // SAFETY: a fresh block of T's size and alignment, ours alone. Any IRQL (memory only).
        let place = unsafe { &mut *block.as_ptr() };
        match init(place) {
            Ok(_) => {
                OBJECTS.fetch_add(1, Ordering::AcqRel);
                Ok(block.cast())
            }
            Err(status) => {
                free(block.as_ptr().cast(), layout);
                Err(status)
            }
        }
    }

    unsafe fn free<T>(object: NonNull<T>) {
        // SAFETY: an initialised T in a block `allocate` made, unused from here (the caller's
        // contract). IRQL ≤ DISPATCH_LEVEL.
        unsafe { core::ptr::drop_in_place(object.as_ptr()) };
        free(object.as_ptr().cast(), Layout::new::<T>());
        OBJECTS.fetch_sub(1, Ordering::AcqRel);
    }
}
