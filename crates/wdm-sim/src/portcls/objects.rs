//! COM plumbing of the port model: creating, counting and destroying the objects the sim hands
//! out (their reference counts live in the machine's [`ComRegistry`](crate::com::ComRegistry),
//! so outstanding references are reported at unload), and calling the `IUnknown` methods of
//! objects the driver hands in.
//!
//! Every sim object is a `Box` of a `#[repr(C)]` struct whose first field is the interface (a
//! vtable pointer); its address is its identity in the machine's tables. No borrow of the
//! machine is held while a foreign method runs.

use alloc::boxed::Box;

use dmus_sys::com::{IUnknownVtbl, PUNKNOWN};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, PVOID, STATUS_INVALID_PARAMETER, STATUS_SUCCESS};

use crate::current::with_state;
use crate::finding::Finding;

/// Boxes `value`, registers it as a COM object of interface `kind` with one reference (the
/// creator's) and returns its address.
pub fn new_object<T>(value: T, kind: &'static str) -> *mut T {
    let object = Box::into_raw(Box::new(value));
    with_state(kind, |m| m.register_com(object as usize, kind));
    object
}

/// `AddRef` on a sim object.
pub fn add_ref_object(object: usize, call: &'static str) -> u32 {
    with_state(call, |m| m.com_add_ref(object))
}

/// `Release` on a sim object: the new count, and whether it reached 0 (the caller destroys the
/// object then). An over-release is a finding and returns `(0, false)`.
pub fn release_object(object: usize, call: &'static str) -> (u32, bool) {
    match with_state(call, |m| m.com_release(object)) {
        Some(0) => (0, true),
        Some(refs) => (refs, false),
        None => (0, false),
    }
}

/// Frees a sim object's box once its count reached 0.
///
/// # Safety
/// `object` came from [`new_object`] with this `T`, its count just reached 0 (the registry
/// refuses every later `Release`), and nothing uses it afterwards.
pub unsafe fn free_object<T>(object: *mut T) {
    // SAFETY: the caller's contract: a live box from new_object, freed exactly once.
    drop(unsafe { Box::from_raw(object) });
}

/// The `QueryInterface` of a sim object: `accepted` interfaces answer with the object itself
/// (one more reference); anything else writes NULL and fails, as COM requires.
///
/// # Safety
/// `interface_id` and `out` are NULL (a finding) or valid for a read and a write.
pub unsafe fn query_object(
    object: usize,
    interface_id: *const GUID,
    out: *mut PVOID,
    accepted: &[GUID],
    call: &'static str,
) -> NTSTATUS {
    if interface_id.is_null() || out.is_null() {
        with_state(call, |m| {
            m.record(Finding::NullArgument {
                call,
                argument: "InterfaceId/Interface",
            });
        });
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null and readable (caller's contract).
    let iid = unsafe { interface_id.read_unaligned() };
    if accepted.contains(&iid) {
        add_ref_object(object, call);
        // SAFETY: non-null and writable (caller's contract).
        unsafe { out.write(object as PVOID) };
        STATUS_SUCCESS
    } else {
        // SAFETY: as above.
        unsafe { out.write(core::ptr::null_mut()) };
        STATUS_INVALID_PARAMETER
    }
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
