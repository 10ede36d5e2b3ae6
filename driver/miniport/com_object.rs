//! The `QueryInterface` rules every rdmus COM object follows (style.md,
//! windows-rs): null arguments are refused, a miss writes null and fails with
//! `STATUS_NOINTERFACE`, a hit adds a reference for the caller.

use dmus_sys::GUID;
use dmus_sys::kernel::{
    NTSTATUS, PVOID, STATUS_INVALID_PARAMETER, STATUS_NOINTERFACE, STATUS_SUCCESS,
};

/// What a `QueryInterface` decides, before any pointer is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The object has the interface: hand out `this` with a new reference.
    Hit,
    /// It does not.
    Miss,
    /// The interface id was null.
    NullId,
}

/// Whether an object implementing `supported` has interface `iid`.
#[must_use]
pub fn lookup(iid: Option<&GUID>, supported: &[GUID]) -> Lookup {
    match iid {
        None => Lookup::NullId,
        Some(iid) if supported.contains(iid) => Lookup::Hit,
        Some(_) => Lookup::Miss,
    }
}

/// `QueryInterface` over raw arguments for an object at `this` with one
/// interface pointer (its first field) that implements `supported`.
///
/// # Safety
/// `iid` is null or a readable GUID; `out` is null or writable; `add_ref`
/// adds one reference to the live object `this`.
pub unsafe fn query_interface(
    this: PVOID,
    iid: *const GUID,
    out: *mut PVOID,
    supported: &[GUID],
    add_ref: impl FnOnce(),
) -> NTSTATUS {
    if out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: null or a readable GUID (caller's contract). Any IRQL (memory only).
    let iid = unsafe { iid.as_ref() };
    let (result, status) = match lookup(iid, supported) {
        Lookup::Hit => {
            add_ref();
            (this, STATUS_SUCCESS)
        }
        Lookup::Miss => (core::ptr::null_mut(), STATUS_NOINTERFACE),
        Lookup::NullId => (core::ptr::null_mut(), STATUS_INVALID_PARAMETER),
    };
    // SAFETY: `out` is writable (checked non-null; caller's contract). Any IRQL (memory only).
    unsafe { out.write(result) };
    status
}

#[cfg(test)]
mod tests {
    use core::cell::Cell;

    use dmus_sys::com::IID_IUnknown;
    use dmus_sys::dmus_com::{IID_IMXF, IID_IMiniportDMus};
    use dmus_sys::kernel::{STATUS_INVALID_PARAMETER, STATUS_NOINTERFACE, STATUS_SUCCESS};

    use super::query_interface;

    #[test]
    fn hits_add_a_reference_and_misses_write_null() {
        let supported = [IID_IUnknown, IID_IMXF];
        let refs = Cell::new(1);
        let this = (&raw const refs).cast_mut().cast();
        let mut out = core::ptr::dangling_mut();
        // SAFETY: valid locals for every call. Host test, PASSIVE_LEVEL.
        let hit = unsafe {
            query_interface(this, &IID_IMXF, &raw mut out, &supported, || {
                refs.set(refs.get() + 1);
            })
        };
        assert_eq!((hit, out, refs.get()), (STATUS_SUCCESS, this, 2));
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let miss = unsafe {
            query_interface(this, &IID_IMiniportDMus, &raw mut out, &supported, || {
                refs.set(99);
            })
        };
        assert_eq!(
            (miss, out.is_null(), refs.get()),
            (STATUS_NOINTERFACE, true, 2)
        );
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let no_out = unsafe {
            query_interface(this, &IID_IMXF, core::ptr::null_mut(), &supported, || {
                refs.set(99);
            })
        };
        assert_eq!(no_out, STATUS_INVALID_PARAMETER);
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let no_id = unsafe {
            query_interface(this, core::ptr::null(), &raw mut out, &supported, || {
                refs.set(99);
            })
        };
        assert_eq!(
            (no_id, out.is_null(), refs.get()),
            (STATUS_INVALID_PARAMETER, true, 2)
        );
    }
}
