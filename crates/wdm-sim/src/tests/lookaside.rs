//! Lookaside lists: the real `NPAGED_LOOKASIDE_LIST` filled by the sim, the WDK's inline
//! allocate/free (written here as the driver writes them) over the exported `SList` primitives,
//! and the counter check at delete.

use alloc::vec::Vec;

use dmus_sys::kernel::{NPAGED_LOOKASIDE_LIST, SLIST_ENTRY};

use super::support::{TAG, storage};
use crate::exports::{pool, slist};
use crate::slist::SListHeader;
use crate::{Finding, Machine, MachineConfig};

/// `ExAllocateFromNPagedLookasideList` as wdm.h inlines it.
fn allocate_from(list: *mut NPAGED_LOOKASIDE_LIST) -> *mut u8 {
    // SAFETY: `list` is a live, initialised list (test storage).
    let l = unsafe { &mut (*list).L };
    l.TotalAllocates += 1;
    // SAFETY: the list head is a valid SList header.
    let entry = unsafe { slist::ExpInterlockedPopEntrySList(&raw mut l.ListHead) };
    if !entry.is_null() {
        return entry.cast();
    }
    l.AllocateMisses += 1;
    let allocate = l.Allocate.expect("initialised lists have an Allocate");
    // SAFETY: the list's Allocate routine with its own type, size and tag.
    unsafe { allocate(l.Type, l.Size as usize, l.Tag) }.cast()
}

/// `ExFreeToNPagedLookasideList` as wdm.h inlines it; `count` false forgets the counter
/// (the bug the delete-time check catches).
fn free_to(list: *mut NPAGED_LOOKASIDE_LIST, entry: *mut u8, count: bool) {
    // SAFETY: `list` is a live, initialised list (test storage).
    let l = unsafe { &mut (*list).L };
    if count {
        l.TotalFrees += 1;
    }
    let depth = SListHeader::decode(l.ListHead.Alignment, l.ListHead.Region).depth;
    if depth >= l.Depth {
        l.FreeMisses += 1;
        let free = l.Free.expect("initialised lists have a Free");
        // SAFETY: the list's Free routine on an entry its Allocate produced.
        unsafe { free(entry.cast()) };
    } else {
        let entry = entry.cast::<core::ffi::c_void>().cast::<SLIST_ENTRY>();
        // SAFETY: a valid head and an entry the list owns, 16-byte aligned.
        unsafe { slist::ExpInterlockedPushEntrySList(&raw mut l.ListHead, entry) };
    }
}

fn init(list: *mut NPAGED_LOOKASIDE_LIST, size: usize) {
    // SAFETY: live, aligned test storage.
    unsafe { pool::ExInitializeNPagedLookasideList(list, None, None, 0, size, TAG, 0) };
}

fn delete(list: *mut NPAGED_LOOKASIDE_LIST) {
    // SAFETY: a list initialised above.
    unsafe { pool::ExDeleteNPagedLookasideList(list) };
}

#[test]
fn initialise_fills_the_real_structure() {
    let machine = Machine::new(MachineConfig::default());
    let mut s = storage();
    let list = s.as_ptr::<NPAGED_LOOKASIDE_LIST>();
    init(list, 48);
    // SAFETY: initialised above.
    let l = unsafe { (*list).L };
    assert_eq!(
        (l.Depth, l.MaximumDepth, l.Size, l.Tag, l.Type),
        (4, 256, 48, TAG, 0)
    );
    assert_eq!(
        (
            l.TotalAllocates,
            l.AllocateMisses,
            l.TotalFrees,
            l.FreeMisses
        ),
        (0, 0, 0, 0)
    );
    assert_eq!(
        l.Allocate.map(|f| f as usize),
        Some(pool::ExAllocatePoolWithTag as *const () as usize)
    );
    assert_eq!(
        l.Free.map(|f| f as usize),
        Some(pool::ExFreePool as *const () as usize)
    );
    assert_eq!((l.ListHead.Alignment, l.ListHead.Region), (0, 1));
    assert_eq!(l.ListEntry.Flink, l.ListEntry.Blink);
    delete(list);
    assert!(machine.findings().is_empty());
}

#[test]
fn inline_allocate_and_free_keep_counters_the_delete_check_accepts() {
    let machine = Machine::new(MachineConfig::default());
    let mut s = storage();
    let list = s.as_ptr::<NPAGED_LOOKASIDE_LIST>();
    init(list, 48);
    let first: Vec<*mut u8> = (0..6).map(|_| allocate_from(list)).collect();
    for &e in &first {
        free_to(list, e, true);
    }
    let second: Vec<*mut u8> = (0..3).map(|_| allocate_from(list)).collect();
    for &e in &second {
        free_to(list, e, true);
    }
    // SAFETY: initialised above.
    let l = unsafe { (*list).L };
    let depth = SListHeader::decode(l.ListHead.Alignment, l.ListHead.Region).depth;
    assert_eq!(
        (
            l.TotalAllocates,
            l.AllocateMisses,
            l.TotalFrees,
            l.FreeMisses,
            depth
        ),
        (9, 6, 9, 2, 4)
    );
    machine.with(|m| assert_eq!(m.pool.live(), 4));
    delete(list);
    machine.with(|m| assert_eq!(m.pool.live(), 0));
    machine.unload_checks();
    assert!(machine.findings().is_empty());
}

#[test]
fn a_free_the_counters_missed_is_caught_at_delete() {
    let machine = Machine::new(MachineConfig::default());
    let mut s = storage();
    let list = s.as_ptr::<NPAGED_LOOKASIDE_LIST>();
    init(list, 48);
    let a = allocate_from(list);
    let b = allocate_from(list);
    free_to(list, a, true);
    free_to(list, b, false);
    delete(list);
    let l = list as usize;
    assert_eq!(
        machine.take_findings(),
        [
            Finding::LookasideInconsistent {
                list: l,
                detail: "TotalAllocates 2 but TotalFrees 1: 1 entr(ies) not freed to the list"
                    .into()
            },
            Finding::LookasideInconsistent {
                list: l,
                detail: "TotalFrees - FreeMisses = 1, but the list head was pushed 2 time(s)"
                    .into()
            },
        ]
    );
}

#[test]
fn a_list_never_deleted_is_active_at_unload() {
    let machine = Machine::new(MachineConfig::default());
    let mut s = storage();
    let list = s.as_ptr::<NPAGED_LOOKASIDE_LIST>();
    init(list, 48);
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::ActiveAtUnload {
            kind: "NPAGED_LOOKASIDE_LIST",
            object: list as usize
        }]
    );
}
