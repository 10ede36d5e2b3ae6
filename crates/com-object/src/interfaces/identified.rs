//! `IUnknown` under one more interface id: an object with no methods beyond `IUnknown`'s that
//! `QueryInterface` still finds by an id of its own (the simulation's pin outer answers a
//! private id, so a stream that forwards to its outer can be checked).

use core::marker::PhantomData;

use dmus_sys::GUID;
use dmus_sys::com::{IUnknown, IUnknownVtbl};

use super::Vtable;
use crate::class::Class;
use crate::interface::Interface;

/// The id an [`Identified`] interface answers to.
pub trait InterfaceId: 'static {
    /// The interface id.
    const IID: GUID;
}

/// An `IUnknown` that `QueryInterface` also hands out for `Id::IID`.
#[repr(C)]
pub struct Identified<Id: InterfaceId> {
    /// The vtable: `IUnknown`'s three slots (read by callers through the pointer, never by
    /// name).
    #[allow(
        dead_code,
        reason = "COM callers read it through the interface pointer"
    )]
    vtable: *const IUnknownVtbl,
    id: PhantomData<Id>,
}

// SAFETY: `#[repr(C)]` with the vtable pointer as its only field (PhantomData has no size),
// and the vtable is IUnknown's. A layout fact; no IRQL.
unsafe impl<Id: InterfaceId> Interface for Identified<Id> {
    type Vtbl = IUnknownVtbl;
    const IIDS: &'static [GUID] = &[Id::IID];
}

impl<Id: InterfaceId> Vtable<Identified<Id>> {
    /// The vtable for class `C` at slot `N`: `IUnknown`'s.
    #[must_use]
    pub const fn new<C: Class, const N: usize>() -> IUnknownVtbl {
        Vtable::<IUnknown>::new::<C, N>()
    }
}
