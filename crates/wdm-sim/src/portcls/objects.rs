//! COM plumbing of the port model: an extra reference on a sim object by its address (the
//! objects themselves are declared on the COM layer, [`sim_object`](crate::sim_object)), and
//! calls to the `IUnknown` methods of objects the driver hands in. No borrow of the machine is
//! held while a foreign method runs.

use dmus_sys::com::{IUnknownVtbl, PUNKNOWN};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, PVOID, STATUS_INVALID_PARAMETER};

use crate::current::with_state;

/// `AddRef` on a sim object.
pub fn add_ref_object(object: usize, call: &'static str) -> u32 {
    with_state(call, |m| m.com_add_ref(object))
}

/// The `IUnknown` vtable of a foreign object.
///
/// # Safety
/// `object` is a live COM object (its first field is a vtable pointer starting with
/// `IUnknown`'s three slots).
unsafe fn unknown_vtable<'a>(object: PUNKNOWN) -> &'a IUnknownVtbl {
    // SAFETY: the caller's contract: a live COM object starts with its vtable pointer.
    let vtable = unsafe { (*object).lpVtbl };
    // SAFETY: a live object's vtable outlives the object.
    unsafe { &*vtable }
}

/// `AddRef` on an object the driver handed in.
///
/// # Safety
/// `object` is a live COM object; the caller runs at an IRQL where its `AddRef` may be called.
pub unsafe fn add_ref_foreign(object: PUNKNOWN) -> u32 {
    // SAFETY: the caller's contract.
    let vtable = unsafe { unknown_vtable(object) };
    // SAFETY: AddRef on a live object.
    unsafe { (vtable.AddRef)(object) }
}

/// `Release` on an object the driver handed in (the caller gives up one reference).
///
/// # Safety
/// `object` is a live COM object on which the caller holds the reference it gives up.
pub unsafe fn release_foreign(object: PUNKNOWN) -> u32 {
    // SAFETY: the caller's contract.
    let vtable = unsafe { unknown_vtable(object) };
    // SAFETY: Release of a reference the caller owns.
    unsafe { (vtable.Release)(object) }
}

/// `QueryInterface` on an object the driver handed in: the interface (one reference, the
/// caller's) or the failure status.
///
/// # Errors
/// The object's status, or `STATUS_INVALID_PARAMETER` if it "succeeded" with NULL.
///
/// # Safety
/// `object` is a live COM object.
pub unsafe fn query_foreign(object: PUNKNOWN, iid: &GUID) -> Result<PVOID, NTSTATUS> {
    // SAFETY: the caller's contract.
    let vtable = unsafe { unknown_vtable(object) };
    let mut out: PVOID = core::ptr::null_mut();
    // SAFETY: QueryInterface with a valid IID and out pointer.
    let status = unsafe { (vtable.QueryInterface)(object, iid, &raw mut out) };
    if !NT_SUCCESS(status) {
        return Err(status);
    }
    if out.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    Ok(out)
}

/// The vtable of a foreign interface pointer.
///
/// # Safety
/// `object` is a live COM object whose vtable is (or starts with) a `V`.
pub unsafe fn vtable_of<'a, V>(object: *mut core::ffi::c_void) -> &'a V {
    // SAFETY: the caller's contract: the object's first field is a pointer to its vtable.
    let vtable = unsafe { object.cast::<*const V>().read() };
    // SAFETY: a live object's vtable outlives the object.
    unsafe { &*vtable }
}
