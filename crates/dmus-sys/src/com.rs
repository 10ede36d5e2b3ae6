//! Kernel-mode COM: `IUnknown` as PortCls declares it (punknown.h / portcls.h).
//!
//! PortCls' `QueryInterface` returns `NTSTATUS` (`STDMETHOD_(NTSTATUS, QueryInterface)`), not
//! `HRESULT`; both are 32-bit signed, and a miss is `STATUS_INVALID_PARAMETER` in the DDK
//! samples. Every interface is `#[repr(C)] struct IFoo { lpVtbl }`; a derived interface's
//! vtable embeds its base's as the first field `base`, so the slots keep the header's order.

use crate::guid::GUID;
use crate::kernel::{NTSTATUS, PVOID};

/// `IID_IUnknown` (punknown.h: `00000000-0000-0000-C000-000000000046`).
pub const IID_IUnknown: GUID = GUID::parse("00000000-0000-0000-c000-000000000046");

/// `IUnknown`.
#[repr(C)]
pub struct IUnknown {
    /// The vtable.
    pub lpVtbl: *const IUnknownVtbl,
}
/// `PUNKNOWN`.
pub type PUNKNOWN = *mut IUnknown;

/// `IUnknown`'s vtable: `QueryInterface`, `AddRef`, `Release`.
#[repr(C)]
pub struct IUnknownVtbl {
    /// `NTSTATUS QueryInterface(REFIID, PVOID*)`.
    pub QueryInterface: unsafe extern "system" fn(
        This: *mut IUnknown,
        InterfaceId: *const GUID,
        Interface: *mut PVOID,
    ) -> NTSTATUS,
    /// `ULONG AddRef()`.
    pub AddRef: unsafe extern "system" fn(This: *mut IUnknown) -> u32,
    /// `ULONG Release()`.
    pub Release: unsafe extern "system" fn(This: *mut IUnknown) -> u32,
}

crate::pin_layout!(IUnknown, "punknown.h (one vtable pointer)", size (4, 8), align (4, 8), { lpVtbl: (0, 0) });
