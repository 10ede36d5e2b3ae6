//! Basic types of ntdef.h / wdm.h: integers, strings, lists.

use crate::pin_layout;
use core::ffi::c_void;

/// `PVOID`.
pub type PVOID = *mut c_void;
/// `BOOLEAN` (`UCHAR`): `TRUE` is 1, `FALSE` 0.
pub type BOOLEAN = u8;
/// `TRUE` as a `BOOLEAN`.
pub const TRUE: BOOLEAN = 1;
/// `FALSE` as a `BOOLEAN`.
pub const FALSE: BOOLEAN = 0;
/// `WCHAR`: a UTF-16 code unit.
pub type WCHAR = u16;
/// `ULONG_PTR`.
pub type ULONG_PTR = usize;
/// `SIZE_T`.
pub type SIZE_T = usize;
/// `KAFFINITY` (`ULONG_PTR`).
pub type KAFFINITY = usize;
/// `CSHORT`.
pub type CSHORT = i16;
/// `ACCESS_MASK`.
pub type ACCESS_MASK = u32;

/// `LARGE_INTEGER` (ntdef.h): a 64-bit signed integer, or its two halves.
#[repr(C)]
#[derive(Clone, Copy)]
pub union LARGE_INTEGER {
    /// The halves, low first (little-endian).
    pub u: LARGE_INTEGER_PARTS,
    /// The whole value.
    pub QuadPart: i64,
}

impl LARGE_INTEGER {
    /// A `LARGE_INTEGER` holding `value`.
    #[must_use]
    pub const fn from_quad(value: i64) -> Self {
        Self { QuadPart: value }
    }
}

impl core::fmt::Debug for LARGE_INTEGER {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        // SAFETY: both members are plain integers covering all 8 bytes; any bit pattern is a
        // valid i64. No IRQL constraint (pure data).
        let quad = unsafe { self.QuadPart };
        f.debug_struct("LARGE_INTEGER")
            .field("QuadPart", &quad)
            .finish()
    }
}

/// `LARGE_INTEGER::u` / `ULARGE_INTEGER::u`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LARGE_INTEGER_PARTS {
    /// Low 32 bits.
    pub LowPart: u32,
    /// High 32 bits (signed in `LARGE_INTEGER`).
    pub HighPart: i32,
}

/// `PHYSICAL_ADDRESS` (`LARGE_INTEGER`).
pub type PHYSICAL_ADDRESS = LARGE_INTEGER;

pin_layout!(LARGE_INTEGER_PARTS, "ntdef.h", size (8, 8), align (4, 4), { LowPart: (0, 0), HighPart: (4, 4) });
pin_layout!(LARGE_INTEGER, "ntdef.h", size (8, 8), align (8, 8), { QuadPart: (0, 0) });

/// `UNICODE_STRING` (ntdef.h): a counted UTF-16 string, not necessarily terminated.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct UNICODE_STRING {
    /// Length in bytes, without any terminator.
    pub Length: u16,
    /// Size of `Buffer` in bytes.
    pub MaximumLength: u16,
    /// The characters.
    pub Buffer: *mut WCHAR,
}

/// `PUNICODE_STRING`.
pub type PUNICODE_STRING = *mut UNICODE_STRING;

pin_layout!(UNICODE_STRING, "ntdef.h", size (8, 16), align (4, 8), {
    Length: (0, 0),
    MaximumLength: (2, 2),
    Buffer: (4, 8),
});

/// `LIST_ENTRY` (ntdef.h): a doubly linked list link.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LIST_ENTRY {
    /// Next entry.
    pub Flink: *mut LIST_ENTRY,
    /// Previous entry.
    pub Blink: *mut LIST_ENTRY,
}

pin_layout!(LIST_ENTRY, "ntdef.h", size (8, 16), align (4, 8), { Flink: (0, 0), Blink: (4, 8) });

/// `SINGLE_LIST_ENTRY` (ntdef.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SINGLE_LIST_ENTRY {
    /// Next entry.
    pub Next: *mut SINGLE_LIST_ENTRY,
}

pin_layout!(SINGLE_LIST_ENTRY, "ntdef.h", size (4, 8), align (4, 8), { Next: (0, 0) });
