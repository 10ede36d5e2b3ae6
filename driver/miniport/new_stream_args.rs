//! The checks both miniports' `IMiniportDMus::NewStream` start with.

use dmus_sys::kernel::{NTSTATUS, STATUS_INVALID_PARAMETER};

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
