//! Memory manager (ntddk.h / wdm.h): `MmCopyMemory`'s `MM_COPY_ADDRESS` and flags.
//!
//! Facts from the `MmCopyMemory` reference page (windows-driver-docs-ddi
//! `ntddk/nf-ntddk-mmcopymemory`): Windows 8.1 and later, IRQL ≤ APC_LEVEL, the target buffer
//! in nonpageable memory, `MM_COPY_MEMORY_VIRTUAL` sources in system space or in the current
//! process's user space; it returns STATUS_SUCCESS when the whole range was copied and an
//! error status otherwise (the bytes copied in `*NumberOfBytesTransferred`), and it does not
//! crash the system for an invalid address that a direct read would bugcheck on. Values as
//! in the WDK's ntddk.h (windows-sys `Wdk::System::SystemServices` `MM_COPY_MEMORY_*`,
//! mingw-w64-headers `ddk/ntddk.h`).

use super::PVOID;
use crate::pin_layout;

/// `MM_COPY_MEMORY_PHYSICAL`: `SourceAddress` is a physical address.
pub const MM_COPY_MEMORY_PHYSICAL: u32 = 0x1;
/// `MM_COPY_MEMORY_VIRTUAL`: `SourceAddress` is a virtual address.
pub const MM_COPY_MEMORY_VIRTUAL: u32 = 0x2;

/// `MM_COPY_ADDRESS` (ntddk.h): `union { PVOID VirtualAddress; PHYSICAL_ADDRESS
/// PhysicalAddress; }`, passed by value.
#[repr(C)]
#[derive(Clone, Copy)]
pub union MM_COPY_ADDRESS {
    /// With `MM_COPY_MEMORY_VIRTUAL`.
    pub VirtualAddress: PVOID,
    /// With `MM_COPY_MEMORY_PHYSICAL` (`PHYSICAL_ADDRESS`, a `LARGE_INTEGER`).
    pub PhysicalAddress: i64,
}

pin_layout!(MM_COPY_ADDRESS, "ntddk.h", size (8, 8), align (8, 8), {
    VirtualAddress: (0, 0),
    PhysicalAddress: (0, 0),
});
