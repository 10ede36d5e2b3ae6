//! One nonpaged lookaside list of fixed-size entries, as PortCls keeps its allocator's events
//! and buffers.
//!
//! The kernel initialises and deletes the list (`ExInitializeNPagedLookasideList`,
//! `ExDeleteNPagedLookasideList`; Wine 8.0's ntoskrnl implements both, not as stubs: it fills
//! wdm.h's `GENERAL_LOOKASIDE` with a depth of 4 (at most 256), our `Allocate`/`Free`
//! routines, the size and the tag, and deleting frees every cached entry with `Free`. It does
//! not export `ExInitializeLookasideListEx`, so the list is the `NPAGED_LOOKASIDE_LIST` kind).
//! The two routines wdm.h makes `FORCEINLINE` on x64 are written here from the header:
//! - `ExAllocateFromNPagedLookasideList`: `TotalAllocates++`; pop an entry off `ListHead`
//!   (`InterlockedPopEntrySList`, which is `ExpInterlockedPopEntrySList` on 64-bit); when none
//!   is cached, `AllocateMisses++` and `Allocate(Type, Size, Tag)`;
//! - `ExFreeToNPagedLookasideList`: `TotalFrees++`; when `ExQueryDepthSList(&ListHead)` (the
//!   low 16 bits of the header's first word) has reached `Depth`, `FreeMisses++` and
//!   `Free(Entry)`, else push the entry (`ExpInterlockedPushEntrySList`).
//!
//! The entries are blocks of the stand-in's counted pool (the list's `Allocate` and `Free` are
//! ours, [`crate::pool::allocate_block`]), so the pool accounting sees every entry, cached or
//! handed out, and nothing outstanding after the unload proves that none leaked.
//!
//! The list sits in a pool block of its own at wdm.h's alignment (`LOOKASIDE_ALIGN`, 64 on
//! x64; pool blocks are 16-byte aligned, so the block has room to align it) and never moves
//! between initialise and delete: Windows links it into the kernel's list of lookaside lists.

use core::ffi::c_void;
use core::ptr::NonNull;

use dmus_sys::imports::{
    ExDeleteNPagedLookasideList, ExInitializeNPagedLookasideList, ExpInterlockedPopEntrySList,
    ExpInterlockedPushEntrySList,
};
use dmus_sys::kernel::{
    NPAGED_LOOKASIDE_LIST, NTSTATUS, POOL_TYPE, PVOID, SIZE_T, SLIST_HEADER,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_NOT_SUPPORTED,
};

use crate::pool::{TAG, allocate_block, free_block};

/// The pool block a list sits in: the list, and room to align it.
const LIST_BLOCK: usize = size_of::<NPAGED_LOOKASIDE_LIST>() + align_of::<NPAGED_LOOKASIDE_LIST>();

/// The `Free` routine of a list: frees one entry of the list's size.
pub type FreeEntry = unsafe extern "system" fn(buffer: PVOID);

/// The counters of a list (`GENERAL_LOOKASIDE`), for the allocator's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookasideCounters {
    /// `TotalAllocates`.
    pub allocates: u32,
    /// `AllocateMisses`: allocations the cache could not serve (`Allocate` called).
    pub allocate_misses: u32,
    /// `TotalFrees`.
    pub frees: u32,
    /// `FreeMisses`: frees past the depth (`Free` called).
    pub free_misses: u32,
    /// `Depth`.
    pub depth: u16,
    /// Entries cached on `ListHead` now.
    pub cached: u16,
}

/// An initialised `NPAGED_LOOKASIDE_LIST` in its own pool block.
pub struct LookasideList {
    /// The pool block (freed after the list is deleted).
    block: NonNull<c_void>,
    /// The list, 64-byte aligned inside `block`.
    list: NonNull<NPAGED_LOOKASIDE_LIST>,
}

// SAFETY: the list is reached only through `&mut self` (the allocator's lock) and the kernel's
// interlocked routines; it is usable from any thread at IRQL ≤ DISPATCH_LEVEL.
unsafe impl Send for LookasideList {}

/// The list's `Allocate` routine (`ALLOCATE_FUNCTION`): a counted pool block; the pool type and
/// tag are the stand-in's own (nonpaged, `PcSt`). IRQL ≤ DISPATCH_LEVEL.
unsafe extern "system" fn allocate_entry(_pool_type: POOL_TYPE, size: SIZE_T, _tag: u32) -> PVOID {
    allocate_block(size)
}

/// `ExQueryDepthSList` on 64-bit (wdm.h, inline): the low 16 bits of the header's first word.
fn depth_of(head: &SLIST_HEADER) -> u16 {
    u16::try_from(head.Alignment & 0xFFFF).unwrap_or(u16::MAX)
}

impl LookasideList {
    /// Initialises a list of `size`-byte entries whose `Free` routine is `free` (it knows the
    /// size: the accounting counts bytes). IRQL ≤ DISPATCH_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` without pool; `STATUS_NOT_SUPPORTED` when the kernel did
    /// not fill the list as wdm.h lays it out (a stub: the size, depth or routines missing).
    pub fn try_new(size: usize, free: FreeEntry) -> Result<Self, NTSTATUS> {
        let block =
            NonNull::new(allocate_block(LIST_BLOCK)).ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let offset = block
            .as_ptr()
            .cast::<u8>()
            .align_offset(align_of::<NPAGED_LOOKASIDE_LIST>());
        // The block is 16-byte aligned, so at most 48 bytes of it come before the list.
        #[allow(
            clippy::cast_ptr_alignment,
            reason = "align_offset moved the pointer to the list's alignment"
        )]
        let list = block
            .as_ptr()
            .cast::<u8>()
            .wrapping_add(offset)
            .cast::<NPAGED_LOOKASIDE_LIST>();
        // SAFETY: `list` is aligned and lies inside the fresh block (offset < the alignment, and
        // the block is the list's size plus the alignment long); all-zero bytes are a valid
        // list for the kernel to fill, and what a kernel that fills nothing leaves (checked
        // below). Any IRQL (memory only).
        unsafe { core::ptr::write_bytes(list, 0, 1) };
        // SAFETY: storage for the list that stays put until `drop` deletes it; our Allocate and
        // Free; no flags; depth 0 (the kernel chooses). IRQL ≤ DISPATCH_LEVEL.
        unsafe {
            ExInitializeNPagedLookasideList(
                list,
                Some(allocate_entry),
                Some(free),
                0,
                size,
                TAG,
                0,
            );
        };
        // SAFETY: the list, just initialised; read only.
        let filled = unsafe { &(*list).L };
        let usable = usize::try_from(filled.Size).is_ok_and(|filled_size| filled_size == size)
            && filled.Depth > 0
            && filled.Allocate.is_some()
            && filled.Free.is_some();
        let Some(list) = NonNull::new(list).filter(|_| usable) else {
            // SAFETY: the block from allocate_block(LIST_BLOCK), unused (a list the kernel did
            // not set up is never deleted). IRQL ≤ DISPATCH_LEVEL.
            unsafe { free_block(block.as_ptr(), LIST_BLOCK) };
            return Err(STATUS_NOT_SUPPORTED);
        };
        Ok(Self { block, list })
    }

    /// `ExAllocateFromNPagedLookasideList`: an entry (not zeroed), or null when the pool has
    /// none. IRQL ≤ DISPATCH_LEVEL.
    pub fn allocate(&mut self) -> *mut c_void {
        // SAFETY: the initialised list, ours alone through `&mut self`.
        let list = unsafe { &mut self.list.as_mut().L };
        list.TotalAllocates = list.TotalAllocates.wrapping_add(1);
        // SAFETY: the list's SList head, which only the kernel's interlocked routines change.
        // Any IRQL.
        let entry = unsafe { ExpInterlockedPopEntrySList(&raw mut list.ListHead) };
        if !entry.is_null() {
            return entry.cast();
        }
        list.AllocateMisses = list.AllocateMisses.wrapping_add(1);
        let size = usize::try_from(list.Size).unwrap_or(usize::MAX);
        match list.Allocate {
            // SAFETY: the list's Allocate routine with the list's own type, size and tag, as
            // wdm.h calls it. IRQL ≤ DISPATCH_LEVEL.
            Some(allocate) => unsafe { allocate(list.Type, size, list.Tag) },
            None => core::ptr::null_mut(),
        }
    }

    /// `ExFreeToNPagedLookasideList`. IRQL ≤ DISPATCH_LEVEL.
    ///
    /// # Safety
    /// `entry` came from this list's [`allocate`](Self::allocate) and is not used afterwards.
    pub unsafe fn free(&mut self, entry: NonNull<c_void>) {
        // SAFETY: the initialised list, ours alone through `&mut self`.
        let list = unsafe { &mut self.list.as_mut().L };
        list.TotalFrees = list.TotalFrees.wrapping_add(1);
        if depth_of(&list.ListHead) >= list.Depth {
            list.FreeMisses = list.FreeMisses.wrapping_add(1);
            if let Some(free) = list.Free {
                // SAFETY: an entry of this list, given up (the caller's contract), to the
                // list's Free routine. IRQL ≤ DISPATCH_LEVEL.
                unsafe { free(entry.as_ptr()) };
            }
        } else {
            // SAFETY: an entry of this list's size (at least an SLIST_ENTRY, 16-byte aligned:
            // a pool block), given up; pushed onto the list's head. Any IRQL.
            unsafe { ExpInterlockedPushEntrySList(&raw mut list.ListHead, entry.as_ptr().cast()) };
        }
    }

    /// The list's counters now.
    pub fn counters(&self) -> LookasideCounters {
        // SAFETY: the initialised list; read only.
        let list = unsafe { &self.list.as_ref().L };
        LookasideCounters {
            allocates: list.TotalAllocates,
            allocate_misses: list.AllocateMisses,
            frees: list.TotalFrees,
            free_misses: list.FreeMisses,
            depth: list.Depth,
            cached: depth_of(&list.ListHead),
        }
    }
}

impl Drop for LookasideList {
    fn drop(&mut self) {
        // SAFETY: the list initialised in try_new, deleted once; the kernel frees the cached
        // entries with our Free. IRQL ≤ DISPATCH_LEVEL.
        unsafe { ExDeleteNPagedLookasideList(self.list.as_ptr()) };
        // SAFETY: the block from allocate_block(LIST_BLOCK); the list in it is deleted.
        unsafe { free_block(self.block.as_ptr(), LIST_BLOCK) };
    }
}
