//! The 64-bit `SList` primitives behind the inline lookaside routines:
//! `ExpInterlockedPopEntrySList`, `ExpInterlockedPushEntrySList`, `ExpInterlockedFlushSList`.
//! One processor runs at a time, so plain reads and writes are atomic enough; the header is
//! encoded as Windows' `HeaderX64` ([`crate::slist`]). Traffic on a lookaside list's head is
//! counted for the delete-time counter check.

use alloc::format;

use dmus_sys::kernel::{PSLIST_ENTRY, PSLIST_HEADER, SLIST_ENTRY};

use crate::current::with_state;
use crate::finding::Finding;
use crate::slist::SListHeader;

fn decode(header: dmus_sys::kernel::SLIST_HEADER) -> SListHeader {
    SListHeader::decode(header.Alignment, header.Region)
}

/// Records a finding and returns true if `head` is not 16-byte aligned (the 64-bit header
/// must be: the kernel updates it with a 128-bit compare-exchange).
fn misaligned(call: &'static str, head: PSLIST_HEADER) -> bool {
    if head.is_aligned() {
        return false;
    }
    with_state(call, |m| {
        m.record(Finding::InvalidArgument {
            call,
            detail: format!("ListHead {head:p} is not 16-byte aligned"),
        });
    });
    true
}

/// Pops the first entry of `head`, or returns NULL.
///
/// # Safety
/// `head` points to a valid, 16-byte-aligned `SLIST_HEADER` whose entries are valid.
pub unsafe fn pop(head: PSLIST_HEADER) -> PSLIST_ENTRY {
    // SAFETY: the caller guarantees `head` is a valid header. Any IRQL.
    let header = decode(unsafe { head.read() });
    if header.first == 0 {
        return core::ptr::null_mut();
    }
    let entry = header.first as PSLIST_ENTRY;
    // SAFETY: `entry` is the list's first entry, which the caller guarantees valid.
    let next = unsafe { (*entry).Next } as usize;
    let (alignment, region) = header.popped(next).encode();
    // SAFETY: `head` is a valid header (caller's contract).
    unsafe {
        head.write(dmus_sys::kernel::SLIST_HEADER {
            Alignment: alignment,
            Region: region,
        });
    }
    entry
}

/// `ExpInterlockedPopEntrySList` (`InterlockedPopEntrySList` on 64-bit): any IRQL.
///
/// # Safety
/// `ListHead` is NULL (a finding) or a valid `SList` header whose entries are valid.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExpInterlockedPopEntrySList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY {
    const CALL: &str = "ExpInterlockedPopEntrySList";
    if ListHead.is_null() {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "ListHead",
            });
        });
        return core::ptr::null_mut();
    }
    if misaligned(CALL, ListHead) {
        return core::ptr::null_mut();
    }
    // SAFETY: non-null, and valid by the caller's contract.
    let entry = unsafe { pop(ListHead) };
    if !entry.is_null() {
        with_state(CALL, |m| m.lookasides.note_pop(ListHead as usize));
    }
    entry
}

/// `ExpInterlockedPushEntrySList` (`InterlockedPushEntrySList` on 64-bit): any IRQL; returns
/// the previous first entry. An entry that is not 16-byte aligned cannot be encoded in the
/// header: a finding, and the entry is not pushed.
///
/// # Safety
/// `ListHead` is NULL (a finding) or a valid `SList` header; `ListEntry` is NULL (a finding) or
/// writable `SLIST_ENTRY` storage not on any list.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExpInterlockedPushEntrySList(
    ListHead: PSLIST_HEADER,
    ListEntry: PSLIST_ENTRY,
) -> PSLIST_ENTRY {
    const CALL: &str = "ExpInterlockedPushEntrySList";
    let argument = if ListHead.is_null() {
        Some("ListHead")
    } else if ListEntry.is_null() {
        Some("ListEntry")
    } else {
        None
    };
    if let Some(argument) = argument {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument,
            });
        });
        return core::ptr::null_mut();
    }
    if misaligned(CALL, ListHead) {
        return core::ptr::null_mut();
    }
    // SAFETY: non-null and valid by the caller's contract. Any IRQL.
    let header = decode(unsafe { ListHead.read() });
    if !ListEntry.is_aligned() {
        with_state(CALL, |m| {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "entry {ListEntry:p} is not 16-byte aligned (MEMORY_ALLOCATION_ALIGNMENT)"
                ),
            });
        });
        return header.first as PSLIST_ENTRY;
    }
    // SAFETY: `ListEntry` is non-null, aligned and writable by the caller's contract.
    unsafe {
        ListEntry.write(SLIST_ENTRY {
            Next: header.first as PSLIST_ENTRY,
        });
    };
    let (alignment, region) = header.pushed(ListEntry as usize).encode();
    // SAFETY: `ListHead` is valid by the caller's contract.
    unsafe {
        ListHead.write(dmus_sys::kernel::SLIST_HEADER {
            Alignment: alignment,
            Region: region,
        });
    };
    with_state(CALL, |m| m.lookasides.note_push(ListHead as usize));
    header.first as PSLIST_ENTRY
}

/// `ExpInterlockedFlushSList` (`InterlockedFlushSList` on 64-bit): any IRQL; empties the list
/// and returns its former first entry (the entries stay chained).
///
/// # Safety
/// `ListHead` is NULL (a finding) or a valid `SList` header.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn ExpInterlockedFlushSList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY {
    const CALL: &str = "ExpInterlockedFlushSList";
    if ListHead.is_null() {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "ListHead",
            });
        });
        return core::ptr::null_mut();
    }
    if misaligned(CALL, ListHead) {
        return core::ptr::null_mut();
    }
    // SAFETY: non-null and valid by the caller's contract.
    let header = decode(unsafe { ListHead.read() });
    let emptied = SListHeader {
        depth: 0,
        sequence: header.sequence + 1,
        first: 0,
    };
    let (alignment, region) = emptied.encode();
    // SAFETY: as above.
    unsafe {
        ListHead.write(dmus_sys::kernel::SLIST_HEADER {
            Alignment: alignment,
            Region: region,
        });
    };
    with_state(CALL, |m| {
        for _ in 0..header.depth {
            m.lookasides.note_pop(ListHead as usize);
        }
    });
    header.first as PSLIST_ENTRY
}
