//! `IUnknown`, written once for every class: the generic `QueryInterface`, `AddRef` and
//! `Release` thunks of each slot's vtable.

use core::ffi::c_void;
use core::ptr::NonNull;

use dmus_sys::GUID;
use dmus_sys::com::{IUnknown, IUnknownVtbl};
use dmus_sys::kernel::{
    NTSTATUS, PVOID, STATUS_INVALID_PARAMETER, STATUS_NOINTERFACE, STATUS_SUCCESS,
};

use crate::class::{Class, VtablePointer};
use crate::interfaces::Vtable;
use crate::object::ComObject;
use crate::storage::{Refusal, Storage};

impl Vtable<IUnknown> {
    /// `IUnknown`'s slots for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: Class, const N: usize>() -> IUnknownVtbl {
        IUnknownVtbl {
            QueryInterface: query_interface::<C, N>,
            AddRef: add_ref::<C, N>,
            Release: release::<C, N>,
        }
    }
}

/// The live object behind a slot-`N` pointer a caller passed to one of our thunks.
///
/// # Safety
/// `this` is the slot-`N` interface pointer of a live `ComObject<C>` that stays alive for
/// `'a`: COM's contract for a call through the vtable [`class!`](crate::class!) stored at
/// that slot, which only ever sees such pointers. Any IRQL (memory only).
pub(crate) unsafe fn this<'a, C: Class, const N: usize, I>(this: *mut I) -> &'a ComObject<C> {
    let object = ComObject::<C>::from_slot::<N>(this.cast());
    // SAFETY: slot N's pointer sits N pointers after the object's start (its layout), so
    // `object` is the live object (caller's contract). Any IRQL (memory only).
    unsafe { &*object }
}

/// `QueryInterface` on `object`: null arguments are refused, a miss writes null and fails
/// with `STATUS_NOINTERFACE`, a hit writes the interface's pointer and adds a reference.
///
/// # Safety
/// `iid` is null or a readable GUID; `out` is null or writable (COM's contract). Any IRQL ≤
/// DISPATCH_LEVEL (memory only).
pub unsafe fn query<C: Class>(
    object: &ComObject<C>,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    let identity = object.identity();
    if out.is_null() {
        <C::Storage as Storage>::refused(identity, C::NAME, Refusal::NullOut);
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: null or a readable GUID (caller's contract). Any IRQL (memory only).
    let iid = unsafe { iid.as_ref() };
    let (result, status) = match iid.map(C::slot_of) {
        None => {
            <C::Storage as Storage>::refused(identity, C::NAME, Refusal::NullId);
            (core::ptr::null_mut(), STATUS_INVALID_PARAMETER)
        }
        Some(None) => (core::ptr::null_mut(), STATUS_NOINTERFACE),
        Some(Some(slot)) => {
            object.add_ref();
            let slots = identity.cast::<VtablePointer>();
            (
                slots.as_ptr().wrapping_add(slot).cast::<c_void>(),
                STATUS_SUCCESS,
            )
        }
    };
    // SAFETY: `out` is writable (checked non-null; caller's contract). Any IRQL (memory only).
    unsafe { out.write(result) };
    status
}

unsafe extern "system" fn query_interface<C: Class, const N: usize>(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: called through slot N's vtable: a live object's slot-N pointer. Any IRQL.
    let object = unsafe { self::this::<C, N, _>(this) };
    // SAFETY: the caller's arguments per QueryInterface's contract. IRQL ≤ DISPATCH_LEVEL.
    unsafe { query(object, iid, out) }
}

unsafe extern "system" fn add_ref<C: Class, const N: usize>(this: *mut IUnknown) -> u32 {
    // SAFETY: called through slot N's vtable: a live object's slot-N pointer. Any IRQL.
    unsafe { self::this::<C, N, _>(this) }.add_ref()
}

/// `Release` takes the raw pointer: the object may be freed before it returns.
unsafe extern "system" fn release<C: Class, const N: usize>(this: *mut IUnknown) -> u32 {
    let Some(object) = NonNull::new(ComObject::<C>::from_slot::<N>(this.cast())) else {
        return 0;
    };
    // SAFETY: called through slot N's vtable by a holder of a reference it gives up: a live
    // object (its address N pointers before the slot). IRQL ≤ DISPATCH_LEVEL.
    unsafe { ComObject::release_raw(object) }
}
