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

/// The checks both miniports' `IMiniportDMus::NewStream` start with. The
/// out-pointers are required and cleared first, so a failure hands out
/// nothing; a stream needs the port's allocator and master clock. An rdmus
/// stream cannot be aggregated: NewStream returns a PMXF, not the
/// non-delegating `IUnknown` an outer object would need to own the stream's
/// lifetime (PortCls' DMus port passes no outer object).
///
/// # Errors
/// `STATUS_INVALID_PARAMETER` for a null out-pointer, an outer object, or no
/// allocator or clock.
///
/// # Safety
/// `mxf_out` and `service_group_out` are null or writable.
pub unsafe fn begin_new_stream(
    mxf_out: *mut *mut ::dmus_sys::dmus_com::IMXF,
    service_group_out: *mut ::dmus_sys::portcls::PSERVICEGROUP,
    prefetch: *mut u64,
    outer: ::dmus_sys::com::PUNKNOWN,
    allocator: *mut ::dmus_sys::dmus_com::IAllocatorMXF,
    clock: *mut ::dmus_sys::dmus_com::IMasterClock,
) -> Result<(), NTSTATUS> {
    if mxf_out.is_null() || service_group_out.is_null() || prefetch.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: writable out-pointers (checked non-null; caller's contract). Any
    // IRQL (memory only).
    unsafe { mxf_out.write(core::ptr::null_mut()) };
    // SAFETY: as above. Any IRQL (memory only).
    unsafe { service_group_out.write(core::ptr::null_mut()) };
    if !outer.is_null() || allocator.is_null() || clock.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    Ok(())
}

/// Defines the `IUnknown` thunks (`query_interface_thunk`, `add_ref_thunk`,
/// `release_thunk`) of a stream object, the same for every rdmus stream: the
/// object is `#[repr(C)]` with its one interface pointer first, has
/// `unsafe fn from_this<T>(*mut T) -> &Self`, a `refs: RefCount`, a
/// `miniport: NonNull<M>` it holds one reference on (`M::release`), was made by
/// `pool_box::try_new`, and answers the interface ids in `interfaces`. The last
/// `Release` frees the object (its `Drop` runs) and then releases the miniport.
macro_rules! stream_iunknown {
    ($stream:ty, $miniport:ty, $interfaces:expr) => {
        unsafe extern "system" fn query_interface_thunk(
            this: *mut ::dmus_sys::com::IUnknown,
            iid: *const ::dmus_sys::GUID,
            out: *mut ::dmus_sys::kernel::PVOID,
        ) -> ::dmus_sys::kernel::NTSTATUS {
            // SAFETY: called through our vtable on a live stream. Any IRQL (memory only).
            let stream = unsafe { <$stream>::from_this(this) };
            // SAFETY: PortCls' pointers per QueryInterface's contract; every
            // interface of a stream derives from IUnknown through its one vtable
            // pointer, so `this` serves each. IRQL ≤ DISPATCH_LEVEL.
            unsafe {
                $crate::miniport::com_object::query_interface(
                    this.cast(),
                    iid,
                    out,
                    &$interfaces,
                    || {
                        stream.refs.add_ref();
                    },
                )
            }
        }

        unsafe extern "system" fn add_ref_thunk(this: *mut ::dmus_sys::com::IUnknown) -> u32 {
            // SAFETY: called through our vtable on a live stream. Any IRQL (memory only).
            unsafe { <$stream>::from_this(this) }.refs.add_ref()
        }

        unsafe extern "system" fn release_thunk(this: *mut ::dmus_sys::com::IUnknown) -> u32 {
            // SAFETY: called through our vtable by a reference holder. IRQL ≤ DISPATCH_LEVEL.
            let outcome = unsafe { <$stream>::from_this(this) }.refs.release();
            if outcome == ::com_object::Released::Last {
                // SAFETY: the last reference is gone; PortCls closes pins at PASSIVE_LEVEL.
                let miniport = unsafe { <$stream>::from_this(this) }.miniport;
                #[allow(
                    clippy::cast_ptr_alignment,
                    reason = "the interface is the object's first field: `this` is the object's own, aligned address"
                )]
                let object = ::core::ptr::NonNull::new(this.cast::<$stream>());
                if let Some(object) = object {
                    // SAFETY: made by pool_box::try_new when the stream was created; last
                    // use (its Drop gives back what the stream holds). IRQL ≤ DISPATCH_LEVEL.
                    unsafe { $crate::miniport::pool_box::free(object) };
                }
                // SAFETY: the reference the stream took on its miniport when it was
                // created; released once, after the stream is gone. IRQL ≤ DISPATCH_LEVEL.
                unsafe { <$miniport>::release(miniport) };
            }
            ::com_object::release_result(outcome)
        }
    };
}
pub(crate) use stream_iunknown;

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
