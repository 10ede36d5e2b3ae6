//! The miniport's `IMiniport` and `IMiniportDMus` methods: the filter description and data
//! ranges, and `Service`; `Init` and `NewStream` are their own modules' jobs.

use com_object::{ComObject, MiniportDMusImpl, MiniportImpl};
use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{PAllocatorMXF, PMASTERCLOCK, PMXF, PPORTDMUS};
use dmus_sys::dmusic::DMUS_STREAM_TYPE;
use dmus_sys::kernel::{NTSTATUS, POOL_TYPE, PVOID, STATUS_INVALID_PARAMETER, STATUS_SUCCESS};
use dmus_sys::ks::{PKSDATAFORMAT, PKSDATARANGE};
use dmus_sys::portcls::{PCFILTER_DESCRIPTOR, PRESOURCELIST, PSERVICEGROUP};

use super::object::Miniport;
use crate::miniport::intersection::data_range_intersection;
use crate::mpu401::descriptor::{FILTER, our_range};

impl MiniportImpl for Miniport {
    unsafe fn get_description(
        _this: &ComObject<Self>,
        description: *mut *mut PCFILTER_DESCRIPTOR,
    ) -> NTSTATUS {
        if description.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: a writable out-pointer from PortCls; the descriptor is a static
        // PortCls only reads. PASSIVE_LEVEL.
        unsafe { description.write(FILTER.as_mut_ptr()) };
        STATUS_SUCCESS
    }

    unsafe fn data_range_intersection(
        _this: &ComObject<Self>,
        pin: u32,
        client: PKSDATARANGE,
        matching: PKSDATARANGE,
        output_length: u32,
        result: PVOID,
        result_length: *mut u32,
    ) -> NTSTATUS {
        if matching.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: `matching` is one of the pin's ranges PortCls read from our
        // descriptor (a readable KSDATARANGE); unaligned read of its header. Any IRQL (memory
        // only).
        let matching = unsafe { matching.read_unaligned() };
        let ours = our_range(pin, &matching);
        // SAFETY: PortCls' buffers per DataRangeIntersection's contract. PASSIVE_LEVEL.
        unsafe { data_range_intersection(ours, client, output_length, result, result_length) }
    }
}

impl MiniportDMusImpl for Miniport {
    unsafe fn init(
        this: &ComObject<Self>,
        _adapter: PUNKNOWN,
        list: PRESOURCELIST,
        port: PPORTDMUS,
        service_group: *mut PSERVICEGROUP,
    ) -> NTSTATUS {
        // SAFETY: PortCls' arguments, passed on (Init's contract). PASSIVE_LEVEL.
        unsafe { super::init::init(this, list, port, service_group) }
    }

    /// `Service` (DISPATCH_LEVEL, from the service group): hands captured input to
    /// every open capture stream, or drops it when none is open.
    fn service(this: &ComObject<Self>) {
        crate::mpu401::capture::pump(this);
    }

    unsafe fn new_stream(
        this: &ComObject<Self>,
        mxf: *mut PMXF,
        outer: PUNKNOWN,
        _pool_type: POOL_TYPE,
        pin: u32,
        stream_type: DMUS_STREAM_TYPE,
        format: PKSDATAFORMAT,
        service_group: *mut PSERVICEGROUP,
        allocator: PAllocatorMXF,
        clock: PMASTERCLOCK,
        prefetch: *mut u64,
    ) -> NTSTATUS {
        let request = super::new_stream::Request {
            mxf,
            outer,
            pin,
            stream_type,
            format,
            service_group,
            allocator,
            clock,
            prefetch,
        };
        // SAFETY: PortCls' arguments, passed on (NewStream's contract). PASSIVE_LEVEL.
        unsafe { super::new_stream::new_stream(this, &request) }
    }
}
