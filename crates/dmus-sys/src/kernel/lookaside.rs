//! Lookaside lists (wdm.h `GENERAL_LOOKASIDE`, `NPAGED_LOOKASIDE_LIST`).
//!
//! `ExAllocateFromNPagedLookasideList` and `ExFreeToNPagedLookasideList` are FORCEINLINE in
//! wdm.h: they pop/push `L.ListHead` with the exported SList primitives, fall back to
//! `L.Allocate` / `L.Free`, and bump the counters. The kernel (`ExInitializeNPagedLookasideList`)
//! fills this layout and trims `Depth` over time, so rdmus implements the two inline routines
//! over exactly these fields.
//!
//! Alignment is `LOOKASIDE_ALIGN` = `DECLSPEC_CACHEALIGN` (`SYSTEM_CACHE_ALIGNMENT_SIZE`: 64 on
//! x86/x64, 128 on ARM64; ntdef.h). On x86 a file that includes ntddk.h gets no alignment
//! instead (`#if !defined(_WIN64) && (defined(_NTDDK_) ...)`), a 72/76-byte struct; PortCls
//! drivers include wdm.h only, and the cache-aligned form is the larger of the two, so
//! storage declared with this type is valid for the kernel either way.

use super::{LIST_ENTRY, POOL_TYPE, PVOID, SIZE_T, SLIST_HEADER};
use crate::pin_layout;

/// `PALLOCATE_FUNCTION` (wdm.h `ALLOCATE_FUNCTION`).
pub type PALLOCATE_FUNCTION = Option<
    unsafe extern "system" fn(PoolType: POOL_TYPE, NumberOfBytes: SIZE_T, Tag: u32) -> PVOID,
>;
/// `PFREE_FUNCTION` (wdm.h `FREE_FUNCTION`).
pub type PFREE_FUNCTION = Option<unsafe extern "system" fn(Buffer: PVOID)>;

/// `GENERAL_LOOKASIDE` (wdm.h `GENERAL_LOOKASIDE_LAYOUT`). Each single-member field here stands
/// for a union of same-sized members in the header (noted on the field).
#[cfg_attr(target_arch = "aarch64", repr(C, align(128)))]
#[cfg_attr(not(target_arch = "aarch64"), repr(C, align(64)))]
#[derive(Clone, Copy, Debug)]
pub struct GENERAL_LOOKASIDE {
    /// Free entries (`union { SLIST_HEADER ListHead; SINGLE_LIST_ENTRY SingleListHead; }`).
    pub ListHead: SLIST_HEADER,
    /// Current maximum number of free entries kept.
    pub Depth: u16,
    /// Upper bound of `Depth`.
    pub MaximumDepth: u16,
    /// Allocations served.
    pub TotalAllocates: u32,
    /// Allocations that fell back to `Allocate` (`union { AllocateMisses; AllocateHits; }`).
    pub AllocateMisses: u32,
    /// Frees served.
    pub TotalFrees: u32,
    /// Frees that went to `Free` (`union { FreeMisses; FreeHits; }`).
    pub FreeMisses: u32,
    /// Pool type of the entries.
    pub Type: POOL_TYPE,
    /// Pool tag of the entries.
    pub Tag: u32,
    /// Size of each entry.
    pub Size: u32,
    /// Allocation callback (`union { AllocateEx; Allocate; }`; non-paged lists use `Allocate`).
    pub Allocate: PALLOCATE_FUNCTION,
    /// Free callback (`union { FreeEx; Free; }`; non-paged lists use `Free`).
    pub Free: PFREE_FUNCTION,
    /// Link in the system's list of lookaside lists.
    pub ListEntry: LIST_ENTRY,
    /// Kernel bookkeeping for depth adjustment.
    pub LastTotalAllocates: u32,
    /// Kernel bookkeeping (`union { LastAllocateMisses; LastAllocateHits; }`).
    pub LastAllocateMisses: u32,
    /// Reserved.
    pub Future: [u32; 2],
}

// x86/x64; ARM64's 128-byte alignment is pinned below.
#[cfg(not(target_arch = "aarch64"))]
pin_layout!(GENERAL_LOOKASIDE, "wdm.h (GENERAL_LOOKASIDE_LAYOUT, LOOKASIDE_ALIGN)",
    size (128, 128), align (64, 64), {
    ListHead: (0, 0),
    Depth: (8, 16),
    MaximumDepth: (10, 18),
    TotalAllocates: (12, 20),
    AllocateMisses: (16, 24),
    TotalFrees: (20, 28),
    FreeMisses: (24, 32),
    Type: (28, 36),
    Tag: (32, 40),
    Size: (36, 44),
    Allocate: (40, 48),
    Free: (44, 56),
    ListEntry: (48, 64),
    LastTotalAllocates: (56, 80),
    LastAllocateMisses: (60, 84),
    Future: (64, 88),
});

/// `NPAGED_LOOKASIDE_LIST` (wdm.h). x86 keeps an obsolete spin lock after `L`.
#[cfg_attr(target_arch = "aarch64", repr(C, align(128)))]
#[cfg_attr(not(target_arch = "aarch64"), repr(C, align(64)))]
#[derive(Clone, Copy, Debug)]
pub struct NPAGED_LOOKASIDE_LIST {
    /// The list.
    pub L: GENERAL_LOOKASIDE,
    /// `Lock__ObsoleteButDoNotDelete` (x86 only).
    #[cfg(target_arch = "x86")]
    pub Lock__ObsoleteButDoNotDelete: super::KSPIN_LOCK,
}

/// `PNPAGED_LOOKASIDE_LIST`.
pub type PNPAGED_LOOKASIDE_LIST = *mut NPAGED_LOOKASIDE_LIST;

// x86: 128 bytes of L, then the lock, rounded to 64 → 192.
#[cfg(not(target_arch = "aarch64"))]
pin_layout!(NPAGED_LOOKASIDE_LIST, "wdm.h (_NPAGED_LOOKASIDE_LIST, LOOKASIDE_ALIGN)",
    size (192, 128), align (64, 64), { L: (0, 0) });

// ARM64: SYSTEM_CACHE_ALIGNMENT_SIZE is 128 (ntdef.h); the field offsets are x64's.
#[cfg(target_arch = "aarch64")]
pin_layout!(GENERAL_LOOKASIDE, "wdm.h (GENERAL_LOOKASIDE_LAYOUT, LOOKASIDE_ALIGN = 128 on ARM64)",
    size (128, 128), align (128, 128), {
    ListHead: (0, 0),
    Depth: (16, 16),
    TotalAllocates: (20, 20),
    Tag: (40, 40),
    Allocate: (48, 48),
    Free: (56, 56),
    ListEntry: (64, 64),
    Future: (88, 88),
});
#[cfg(target_arch = "aarch64")]
pin_layout!(NPAGED_LOOKASIDE_LIST, "wdm.h (_NPAGED_LOOKASIDE_LIST, LOOKASIDE_ALIGN = 128 on ARM64)",
    size (128, 128), align (128, 128), { L: (0, 0) });
