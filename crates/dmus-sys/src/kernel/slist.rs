//! Interlocked singly linked lists (wdm.h `SLIST_HEADER`, `SLIST_ENTRY`).
//!
//! On 64-bit Windows both the header and each entry are 16-byte aligned (`DECLSPEC_ALIGN(16)`)
//! because the kernel updates the header with a 128-bit compare-exchange; on x86 the header is
//! one 64-bit word (`Next`, `Depth`, `Sequence`) and an entry is a `SINGLE_LIST_ENTRY`.

use crate::pin_layout;

/// `SLIST_ENTRY` (64-bit: `DECLSPEC_ALIGN(16) struct { Next }`).
#[cfg(target_pointer_width = "64")]
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct SLIST_ENTRY {
    /// Next entry.
    pub Next: *mut SLIST_ENTRY,
}

/// `SLIST_ENTRY` (x86: `SINGLE_LIST_ENTRY`).
#[cfg(target_pointer_width = "32")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SLIST_ENTRY {
    /// Next entry.
    pub Next: *mut SLIST_ENTRY,
}

/// `PSLIST_ENTRY`.
pub type PSLIST_ENTRY = *mut SLIST_ENTRY;

pin_layout!(SLIST_ENTRY, "wdm.h", size (4, 16), align (4, 16), { Next: (0, 0) });

/// `SLIST_HEADER` (64-bit: `DECLSPEC_ALIGN(16) union { struct { ULONGLONG Alignment; ULONGLONG
/// Region; }; Header8; Header16; HeaderX64; }`). The depth is the low 16 bits of `Alignment`
/// (`ExQueryDepthSList`).
#[cfg(target_pointer_width = "64")]
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug, Default)]
pub struct SLIST_HEADER {
    /// Depth (bits 0..16), sequence and, depending on the header type, the first entry.
    pub Alignment: u64,
    /// The first entry (x64 `HeaderX64.NextEntry`, bits 4..64) or region bits.
    pub Region: u64,
}

/// `SLIST_HEADER` (x86: `union { ULONGLONG Alignment; struct { SLIST_ENTRY Next; USHORT Depth;
/// USHORT Sequence; }; }`).
#[cfg(target_pointer_width = "32")]
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug)]
pub struct SLIST_HEADER {
    /// First entry.
    pub Next: SLIST_ENTRY,
    /// Number of entries.
    pub Depth: u16,
    /// Bumped on every push and pop (ABA guard).
    pub Sequence: u16,
}

/// `PSLIST_HEADER`.
pub type PSLIST_HEADER = *mut SLIST_HEADER;

pin_layout!(SLIST_HEADER, "wdm.h", size(8, 16), align(8, 16), {});
