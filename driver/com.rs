//! Calling through kernel COM interface pointers.
//!
//! Every PortCls interface is `#[repr(C)] struct IFoo { lpVtbl: *const IFooVtbl }`
//! (dmus-sys); [`vtable`] reads that first field, so each call site needs one
//! unsafe operation to get the vtable and one to call a slot.

use dmus_sys::com::{IUnknown, IUnknownVtbl};
use dmus_sys::portcls::{IPort, IPortVtbl, IResourceList, IResourceListVtbl};

/// A COM interface whose only field is its vtable pointer.
///
/// # Safety
/// `Self` must be `#[repr(C)]` with `*const Self::Vtbl` as its first field.
pub unsafe trait Interface {
    /// The interface's vtable type.
    type Vtbl;
}

// SAFETY: dmus-sys declares each as `#[repr(C)] struct { lpVtbl: *const Vtbl }`
// (a layout fact; no IRQL involved).
unsafe impl Interface for IUnknown {
    type Vtbl = IUnknownVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IPort {
    type Vtbl = IPortVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IResourceList {
    type Vtbl = IResourceListVtbl;
}

/// The vtable of a live interface pointer.
///
/// # Safety
/// `this` points to a live object implementing `I` for at least `'a`. Any IRQL
/// (a plain read).
pub unsafe fn vtable<'a, I: Interface>(this: *mut I) -> &'a I::Vtbl {
    // SAFETY: the caller guarantees a live object whose first field is the
    // vtable pointer (Interface's contract). A plain read: any IRQL.
    let vtable = unsafe { this.cast::<*const I::Vtbl>().read() };
    // SAFETY: a live COM object's vtable is valid for the object's lifetime.
    // Any IRQL.
    unsafe { &*vtable }
}

/// `IUnknown::Release` on any interface pointer.
///
/// # Safety
/// `this` holds a reference the caller owns and gives up here; IRQL ≤ DISPATCH_LEVEL.
pub unsafe fn release(this: *mut IUnknown) -> u32 {
    // SAFETY: the caller's live reference; a plain read, any IRQL.
    let vtable = unsafe { vtable(this) };
    // SAFETY: Release on a reference the caller owns, once.
    unsafe { (vtable.Release)(this) }
}
