//! Pool and lookaside lists: `ExAllocatePool2`, `ExFreePoolWithTag` (and the legacy
//! `ExAllocatePoolWithTag` / `ExFreePool` that a lookaside list uses by default),
//! `ExInitializeNPagedLookasideList`, `ExDeleteNPagedLookasideList`.

use alloc::format;

use dmus_sys::kernel::{
    APC_LEVEL, DISPATCH_LEVEL, GENERAL_LOOKASIDE, LIST_ENTRY, NPAGED_LOOKASIDE_LIST, NonPagedPool,
    PALLOCATE_FUNCTION, PFREE_FUNCTION, POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE,
    POOL_FLAG_PAGED, POOL_FLAG_UNINITIALIZED, POOL_FLAGS, POOL_TYPE, PVOID, SIZE_T, SLIST_ENTRY,
    SLIST_HEADER,
};

use crate::current::with_state;

/// The bit of a `POOL_TYPE` that makes it paged (wdm.h: `PagedPool` 1,
/// `PagedPoolCacheAligned` 5, ...; the non-paged types are even).
const PAGED_BIT: POOL_TYPE = 1;
use crate::finding::Finding;
use crate::lookaside::{
    INITIAL_DEPTH, LookasideCounters, LookasideRecord, MAXIMUM_DEPTH, check_counters,
};
use crate::slist::{HEADER_TYPE_X64, SListHeader};

/// `ExAllocatePool2`: IRQL ≤ `DISPATCH_LEVEL` (≤ `APC_LEVEL` for paged pool); exactly one pool
/// type flag; zeroed unless `POOL_FLAG_UNINITIALIZED`. NULL when fault injection fails it.
///
/// # Safety
/// None beyond the kernel's contract; no pointer is dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAllocatePool2(
    Flags: POOL_FLAGS,
    NumberOfBytes: SIZE_T,
    Tag: u32,
) -> PVOID {
    const CALL: &str = "ExAllocatePool2";
    with_state(CALL, |m| {
        m.check_exported(CALL);
        let kinds = [
            POOL_FLAG_NON_PAGED,
            POOL_FLAG_NON_PAGED_EXECUTE,
            POOL_FLAG_PAGED,
        ];
        let chosen = kinds.iter().filter(|&&k| Flags & k != 0).count();
        if chosen != 1 {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("Flags {Flags:#x} must name exactly one pool type"),
            });
            return core::ptr::null_mut();
        }
        let max = if Flags & POOL_FLAG_PAGED != 0 {
            APC_LEVEL
        } else {
            DISPATCH_LEVEL
        };
        m.check_call(CALL, max, false);
        m.allocate_pool(
            CALL,
            NumberOfBytes,
            Tag,
            Flags & POOL_FLAG_UNINITIALIZED == 0,
        ) as PVOID
    })
}

/// `ExAllocatePoolWithTag` (the default `Allocate` of a lookaside list): uninitialised pool.
///
/// # Safety
/// None beyond the kernel's contract; no pointer is dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExAllocatePoolWithTag(
    PoolType: POOL_TYPE,
    NumberOfBytes: SIZE_T,
    Tag: u32,
) -> PVOID {
    const CALL: &str = "ExAllocatePoolWithTag";
    with_state(CALL, |m| {
        let max = if PoolType & PAGED_BIT != 0 {
            APC_LEVEL
        } else {
            DISPATCH_LEVEL
        };
        m.check_call(CALL, max, false);
        m.allocate_pool(CALL, NumberOfBytes, Tag, false) as PVOID
    })
}

/// `ExFreePoolWithTag`: IRQL ≤ `DISPATCH_LEVEL`. NULL, a block not allocated (double free) and
/// a wrong tag are findings; pool holding a queued timer or DPC is a finding.
///
/// # Safety
/// None beyond the kernel's contract; the simulation checks `P` against its own table.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExFreePoolWithTag(P: PVOID, Tag: u32) {
    const CALL: &str = "ExFreePoolWithTag";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        m.free_pool(P as usize, Tag);
    });
}

/// `ExFreePool` (the default `Free` of a lookaside list): no tag check.
///
/// # Safety
/// As [`ExFreePoolWithTag`].
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExFreePool(P: PVOID) {
    const CALL: &str = "ExFreePool";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        m.free_pool(P as usize, 0);
    });
}

/// `ExInitializeNPagedLookasideList`: IRQL ≤ `DISPATCH_LEVEL`. Fills the real
/// `GENERAL_LOOKASIDE`: empty 64-bit `SList` head, `Depth` 4, `MaximumDepth` 256, zero counters,
/// `Type = NonPagedPool | Flags`, the tag and size, the callbacks (`ExAllocatePoolWithTag` /
/// `ExFreePool` when NULL), and a self-linked `ListEntry`. The `Depth` argument is reserved.
///
/// # Safety
/// `Lookaside` is NULL (a finding) or points to writable storage of the list's size and
/// alignment that stays put until `ExDeleteNPagedLookasideList`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExInitializeNPagedLookasideList(
    Lookaside: *mut NPAGED_LOOKASIDE_LIST,
    Allocate: PALLOCATE_FUNCTION,
    Free: PFREE_FUNCTION,
    Flags: u32,
    Size: SIZE_T,
    Tag: u32,
    Depth: u16,
) {
    const CALL: &str = "ExInitializeNPagedLookasideList";
    let _ = Depth;
    let proceed = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if Lookaside.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Lookaside",
            });
            return false;
        }
        if !Lookaside.cast::<SLIST_HEADER>().is_aligned() {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("Lookaside {Lookaside:p} is not 16-byte aligned"),
            });
            return false;
        }
        if Size < core::mem::size_of::<SLIST_ENTRY>() {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "Size {Size} is smaller than an SLIST_ENTRY; freed entries would overlap"
                ),
            });
        }
        let record = LookasideRecord {
            size: Size,
            tag: Tag,
            pops: 0,
            pushes: 0,
        };
        if m.lookasides
            .lists
            .insert(Lookaside as usize, record)
            .is_some()
        {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("lookaside list {Lookaside:p} initialised again without ExDeleteNPagedLookasideList"),
            });
        }
        true
    });
    if !proceed {
        return;
    }
    let (alignment, region) = SListHeader::decode(0, HEADER_TYPE_X64).encode();
    // SAFETY: `Lookaside` is non-null, aligned (checked above) and, by the caller's contract,
    // writable storage for an NPAGED_LOOKASIDE_LIST. Any IRQL ≤ DISPATCH_LEVEL.
    let list = unsafe { &raw mut (*Lookaside).L };
    // SAFETY: `list` points into valid storage (as above); this only computes a field address.
    let list_entry = unsafe { &raw mut (*list).ListEntry };
    let value = GENERAL_LOOKASIDE {
        ListHead: SLIST_HEADER {
            Alignment: alignment,
            Region: region,
        },
        Depth: INITIAL_DEPTH,
        MaximumDepth: MAXIMUM_DEPTH,
        TotalAllocates: 0,
        AllocateMisses: 0,
        TotalFrees: 0,
        FreeMisses: 0,
        Type: NonPagedPool | i32::from_ne_bytes(Flags.to_ne_bytes()),
        Tag,
        Size: u32::try_from(Size).unwrap_or(u32::MAX),
        Allocate: Allocate.or(Some(ExAllocatePoolWithTag)),
        Free: Free.or(Some(ExFreePool)),
        ListEntry: LIST_ENTRY {
            Flink: list_entry,
            Blink: list_entry,
        },
        LastTotalAllocates: 0,
        LastAllocateMisses: 0,
        Future: [0; 2],
    };
    // SAFETY: as above: `list` points to writable, aligned GENERAL_LOOKASIDE storage.
    unsafe { list.write_unaligned(value) };
}

/// `ExDeleteNPagedLookasideList`: IRQL ≤ `DISPATCH_LEVEL`. Checks the counters the driver's
/// inline allocate/free kept against each other and against the `SList` traffic the
/// simulation saw, then frees the cached entries through the list's `Free`.
///
/// # Safety
/// `Lookaside` is NULL (a finding) or a list initialised by `ExInitializeNPagedLookasideList`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExDeleteNPagedLookasideList(Lookaside: *mut NPAGED_LOOKASIDE_LIST) {
    const CALL: &str = "ExDeleteNPagedLookasideList";
    let record = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if Lookaside.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Lookaside",
            });
            return None;
        }
        let record = m.lookasides.lists.remove(&(Lookaside as usize));
        if record.is_none() {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "NPAGED_LOOKASIDE_LIST",
                object: Lookaside as usize,
            });
        }
        record
    });
    let Some(record) = record else { return };
    // The list's storage need only be 16-byte aligned (its SList head), not cache aligned.
    let list = Lookaside.cast::<GENERAL_LOOKASIDE>();
    // SAFETY: the simulation initialised this list (it is in its table), so the pointer is
    // valid GENERAL_LOOKASIDE storage (`L` is at offset 0). IRQL ≤ DISPATCH_LEVEL.
    let list = unsafe { list.read_unaligned() };
    let header = SListHeader::decode(list.ListHead.Alignment, list.ListHead.Region);
    let counters = LookasideCounters {
        depth: list.Depth,
        maximum_depth: list.MaximumDepth,
        total_allocates: list.TotalAllocates,
        allocate_misses: list.AllocateMisses,
        total_frees: list.TotalFrees,
        free_misses: list.FreeMisses,
        list_depth: header.depth,
    };
    let problems = check_counters(&record, &counters);
    with_state(CALL, |m| {
        for detail in problems {
            m.record(Finding::LookasideInconsistent {
                list: Lookaside as usize,
                detail,
            });
        }
    });
    let head = Lookaside.cast::<SLIST_HEADER>();
    for _ in 0..header.depth {
        // SAFETY: `head` is the list's SLIST_HEADER (offset 0), valid as above.
        let entry = unsafe { crate::exports::slist::pop(head) };
        if entry.is_null() {
            break;
        }
        if let Some(free) = list.Free {
            // SAFETY: the list's Free routine (the driver's, or ExFreePool) on an entry that
            // its Allocate produced, at the caller's IRQL (≤ DISPATCH_LEVEL), as Windows does.
            unsafe { free(entry.cast()) };
        }
    }
}
