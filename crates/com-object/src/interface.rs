//! COM interfaces as dmus-sys declares them, and calls through foreign interface pointers.
//!
//! Every PortCls interface is `#[repr(C)] struct IFoo { lpVtbl: *const IFooVtbl }`;
//! [`vtable`] reads that first field, so a call through an object rdmus did not make needs one
//! unsafe operation to get the vtable and one to call a slot.

use dmus_sys::GUID;
use dmus_sys::com::{IID_IUnknown, IUnknown, IUnknownVtbl};
use dmus_sys::dmus_com::{
    IAllocatorMXF, IAllocatorMXFVtbl, IID_IAllocatorMXF, IID_IMXF, IID_IMiniportDMus,
    IID_IPortDMus, IID_ISynthSinkDMus, IMXF, IMXFVtbl, IMasterClock, IMasterClockVtbl,
    IMiniportDMus, IMiniportDMusVtbl, IPortDMus, IPortDMusVtbl, ISynthSinkDMus, ISynthSinkDMusVtbl,
};
use dmus_sys::portcls::{
    IAdapterPowerManagement, IAdapterPowerManagementVtbl, IID_IAdapterPowerManagement,
    IID_IInterruptSync, IID_IMiniport, IID_IPort, IID_IPowerNotify, IID_IRegistryKey,
    IID_IResourceList, IID_IServiceGroup, IID_IServiceSink, IInterruptSync, IInterruptSyncVtbl,
    IMiniport, IMiniportVtbl, IPort, IPortVtbl, IPowerNotify, IPowerNotifyVtbl, IRegistryKey,
    IRegistryKeyVtbl, IResourceList, IResourceListVtbl, IServiceGroup, IServiceGroupVtbl,
    IServiceSink, IServiceSinkVtbl,
};

/// A COM interface whose only field is its vtable pointer.
///
/// # Safety
/// `Self` is `#[repr(C)]` with `*const Self::Vtbl` as its only field, and `Self::Vtbl`
/// starts with `IUnknownVtbl` (directly or through its bases).
pub unsafe trait Interface {
    /// The interface's vtable type.
    type Vtbl: 'static;
    /// The ids a pointer to this interface answers to in `QueryInterface`: its own and its
    /// bases', `IUnknown` apart (an object's `IUnknown` is always its first interface).
    const IIDS: &'static [GUID];
}

/// `unsafe impl Interface` for dmus-sys's interfaces.
macro_rules! interfaces {
    ($($interface:ty => $vtbl:ty, [$($iid:expr),*];)+) => {
        $(
            // SAFETY: dmus-sys declares it with its `interface!` macro, `#[repr(C)] struct {
            // lpVtbl: *const Vtbl }` (layout pinned there), and its vtable's first field is
            // `IUnknownVtbl` or a base vtable that starts with it. A layout fact; no IRQL.
            unsafe impl Interface for $interface {
                type Vtbl = $vtbl;
                const IIDS: &'static [GUID] = &[$($iid),*];
            }
        )+
    };
}

interfaces! {
    IUnknown => IUnknownVtbl, [];
    IMXF => IMXFVtbl, [IID_IMXF];
    IAllocatorMXF => IAllocatorMXFVtbl, [IID_IAllocatorMXF, IID_IMXF];
    ISynthSinkDMus => ISynthSinkDMusVtbl, [IID_ISynthSinkDMus, IID_IMXF];
    // No public header defines IID_IMasterClock: the port hands its clock out directly.
    IMasterClock => IMasterClockVtbl, [];
    IPort => IPortVtbl, [IID_IPort];
    IPortDMus => IPortDMusVtbl, [IID_IPortDMus, IID_IPort];
    IMiniport => IMiniportVtbl, [IID_IMiniport];
    IMiniportDMus => IMiniportDMusVtbl, [IID_IMiniportDMus, IID_IMiniport];
    IPowerNotify => IPowerNotifyVtbl, [IID_IPowerNotify];
    IAdapterPowerManagement => IAdapterPowerManagementVtbl, [IID_IAdapterPowerManagement];
    IResourceList => IResourceListVtbl, [IID_IResourceList];
    IServiceSink => IServiceSinkVtbl, [IID_IServiceSink];
    IServiceGroup => IServiceGroupVtbl, [IID_IServiceGroup, IID_IServiceSink];
    IInterruptSync => IInterruptSyncVtbl, [IID_IInterruptSync];
    IRegistryKey => IRegistryKeyVtbl, [IID_IRegistryKey];
}

/// The `IUnknown` id, for completeness of [`Interface::IIDS`] users that want every id.
pub const IUNKNOWN_IID: GUID = IID_IUnknown;

/// The vtable of a live interface pointer.
///
/// # Safety
/// `this` points to a live object implementing `I` for at least `'a`. Any IRQL (a plain
/// read).
pub unsafe fn vtable<'a, I: Interface>(this: *mut I) -> &'a I::Vtbl {
    // SAFETY: the caller guarantees a live object whose first field is the vtable pointer
    // (Interface's contract). A plain read: any IRQL.
    let vtable = unsafe { this.cast::<*const I::Vtbl>().read() };
    // SAFETY: a live COM object's vtable is valid for the object's lifetime. Any IRQL.
    unsafe { &*vtable }
}

/// `IUnknown::AddRef` on any interface pointer: the new count.
///
/// # Safety
/// `this` points to a live object; the caller owns the new reference. IRQL ≤ DISPATCH_LEVEL.
pub unsafe fn add_ref<I: Interface>(this: *mut I) -> u32 {
    let unknown = this.cast::<IUnknown>();
    // SAFETY: every interface's vtable starts with IUnknown's (Interface's contract); a live
    // object (caller's contract). A plain read, any IRQL.
    let vtable = unsafe { vtable(unknown) };
    // SAFETY: AddRef on a live object, IRQL ≤ DISPATCH_LEVEL (caller's contract).
    unsafe { (vtable.AddRef)(unknown) }
}

/// `IUnknown::Release` on any interface pointer.
///
/// # Safety
/// `this` holds a reference the caller owns and gives up here; IRQL ≤ DISPATCH_LEVEL.
pub unsafe fn release<I: Interface>(this: *mut I) -> u32 {
    let unknown = this.cast::<IUnknown>();
    // SAFETY: as in add_ref. A plain read, any IRQL.
    let vtable = unsafe { vtable(unknown) };
    // SAFETY: Release on a reference the caller owns, once.
    unsafe { (vtable.Release)(unknown) }
}
