//! Extended processor state (wdm.h `XSTATE_SAVE`) for `KeSaveExtendedProcessorState`.
//!
//! x86 kernel code must bracket x87/MMX/SSE use with it; x64 only for AVX and beyond; ARM64 does
//! not need it ("Using Floating Point in a WDM Driver", learn.microsoft.com), so rdmus declares
//! these for x86 and x64 only.

use super::PVOID;
use crate::pin_layout;

/// `XSTATE_MASK_LEGACY_FLOATING_POINT` (x87).
pub const XSTATE_MASK_LEGACY_FLOATING_POINT: u64 = 1 << 0;
/// `XSTATE_MASK_LEGACY_SSE`.
pub const XSTATE_MASK_LEGACY_SSE: u64 = 1 << 1;
/// `XSTATE_MASK_LEGACY`: x87 and SSE.
pub const XSTATE_MASK_LEGACY: u64 = XSTATE_MASK_LEGACY_FLOATING_POINT | XSTATE_MASK_LEGACY_SSE;

/// `XSTATE_CONTEXT` (wdm.h); x86 pads each pointer to 64 bits.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct XSTATE_CONTEXT {
    /// Features saved.
    pub Mask: u64,
    /// Bytes in `Area`.
    pub Length: u32,
    /// Reserved.
    pub Reserved1: u32,
    /// The XSAVE area (`PXSAVE_AREA`).
    pub Area: PVOID,
    /// Padding (x86 only).
    #[cfg(target_arch = "x86")]
    pub Reserved2: u32,
    /// Buffer.
    pub Buffer: PVOID,
    /// Padding (x86 only).
    #[cfg(target_arch = "x86")]
    pub Reserved3: u32,
}

pin_layout!(XSTATE_CONTEXT, "wdm.h", size (32, 32), align (8, 8), {
    Mask: (0, 0),
    Length: (8, 8),
    Reserved1: (12, 12),
    Area: (16, 16),
    Buffer: (24, 24),
});

/// `XSTATE_SAVE` (wdm.h): opaque to drivers; the kernel fills it. x64: `Prev`, `Thread`,
/// `Level`, then an `XSTATE_CONTEXT`; x86: a 32-byte union with an `XSTATE_CONTEXT`.
#[cfg(target_arch = "x86_64")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct XSTATE_SAVE {
    /// Previous save on this thread.
    pub Prev: *mut XSTATE_SAVE,
    /// Owning thread (`PKTHREAD`).
    pub Thread: PVOID,
    /// IRQL at save.
    pub Level: u8,
    /// The saved state.
    pub XStateContext: XSTATE_CONTEXT,
}

/// `XSTATE_SAVE` (wdm.h, x86): a union of kernel bookkeeping and an `XSTATE_CONTEXT`.
#[cfg(target_arch = "x86")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct XSTATE_SAVE {
    /// The saved state (aliases the kernel's bookkeeping fields).
    pub XStateContext: XSTATE_CONTEXT,
}

/// `PXSTATE_SAVE`.
pub type PXSTATE_SAVE = *mut XSTATE_SAVE;

pin_layout!(XSTATE_SAVE, "wdm.h", size (32, 56), align (8, 8), { XStateContext: (0, 24) });
