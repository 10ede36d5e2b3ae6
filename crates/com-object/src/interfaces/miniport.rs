//! `IMiniport` and `IMiniportDMus` (derives `IMiniport`).

use dmus_sys::com::{IUnknown, PUNKNOWN};
use dmus_sys::dmus_com::{
    IMiniportDMus, IMiniportDMusVtbl, PAllocatorMXF, PMASTERCLOCK, PMXF, PPORTDMUS,
};
use dmus_sys::dmusic::DMUS_STREAM_TYPE;
use dmus_sys::kernel::{NTSTATUS, POOL_TYPE, PVOID};
use dmus_sys::ks::{PKSDATAFORMAT, PKSDATARANGE};
use dmus_sys::portcls::{
    IMiniport, IMiniportVtbl, PCFILTER_DESCRIPTOR, PRESOURCELIST, PSERVICEGROUP,
};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IMiniport`: the miniport's base interface.
pub trait MiniportImpl: Class {
    /// `GetDescription` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `description` is null or writable.
    unsafe fn get_description(
        this: &ComObject<Self>,
        description: *mut *mut PCFILTER_DESCRIPTOR,
    ) -> NTSTATUS;

    /// `DataRangeIntersection` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// PortCls' buffers per the DDI: `client` and `matching` null or readable data ranges,
    /// `result` null or writable for `output_length` bytes, `result_length` null or writable.
    #[allow(
        clippy::too_many_arguments,
        reason = "IMiniport::DataRangeIntersection's signature"
    )]
    unsafe fn data_range_intersection(
        this: &ComObject<Self>,
        pin: u32,
        client: PKSDATARANGE,
        matching: PKSDATARANGE,
        output_length: u32,
        result: PVOID,
        result_length: *mut u32,
    ) -> NTSTATUS;
}

thunk!(unsafe get_description: MiniportImpl::get_description(IMiniport, description: *mut *mut PCFILTER_DESCRIPTOR) -> NTSTATUS);
thunk!(unsafe data_range_intersection: MiniportImpl::data_range_intersection(IMiniport, pin: u32, client: PKSDATARANGE, matching: PKSDATARANGE, output_length: u32, result: PVOID, result_length: *mut u32) -> NTSTATUS);

impl Vtable<IMiniport> {
    /// `IMiniport`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: MiniportImpl, const N: usize>() -> IMiniportVtbl {
        IMiniportVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            GetDescription: get_description::<C, N>,
            DataRangeIntersection: data_range_intersection::<C, N>,
        }
    }
}

/// `IMiniportDMus`: a DirectMusic miniport.
pub trait MiniportDMusImpl: MiniportImpl {
    /// `Init` (PASSIVE_LEVEL, once).
    ///
    /// # Safety
    /// `adapter`, `list` and `port` are null or live objects; `service_group` is null or
    /// writable.
    unsafe fn init(
        this: &ComObject<Self>,
        adapter: PUNKNOWN,
        list: PRESOURCELIST,
        port: PPORTDMUS,
        service_group: *mut PSERVICEGROUP,
    ) -> NTSTATUS;

    /// `Service` (DISPATCH_LEVEL, from the service group).
    fn service(this: &ComObject<Self>);

    /// `NewStream` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// Out-pointers (`mxf`, `service_group`, `prefetch`) null or writable; `outer`,
    /// `allocator` and `clock` null or live; `format` null or readable for its
    /// `FormatSize` bytes.
    #[allow(
        clippy::too_many_arguments,
        reason = "IMiniportDMus::NewStream's signature"
    )]
    unsafe fn new_stream(
        this: &ComObject<Self>,
        mxf: *mut PMXF,
        outer: PUNKNOWN,
        pool_type: POOL_TYPE,
        pin: u32,
        stream_type: DMUS_STREAM_TYPE,
        format: PKSDATAFORMAT,
        service_group: *mut PSERVICEGROUP,
        allocator: PAllocatorMXF,
        clock: PMASTERCLOCK,
        prefetch: *mut u64,
    ) -> NTSTATUS;
}

thunk!(unsafe init: MiniportDMusImpl::init(IMiniportDMus, adapter: PUNKNOWN, list: PRESOURCELIST, port: PPORTDMUS, service_group: *mut PSERVICEGROUP) -> NTSTATUS);
thunk!(safe service: MiniportDMusImpl::service(IMiniportDMus));
thunk!(unsafe new_stream: MiniportDMusImpl::new_stream(IMiniportDMus, mxf: *mut PMXF, outer: PUNKNOWN, pool_type: POOL_TYPE, pin: u32, stream_type: DMUS_STREAM_TYPE, format: PKSDATAFORMAT, service_group: *mut PSERVICEGROUP, allocator: PAllocatorMXF, clock: PMASTERCLOCK, prefetch: *mut u64) -> NTSTATUS);

impl Vtable<IMiniportDMus> {
    /// `IMiniportDMus`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: MiniportDMusImpl, const N: usize>() -> IMiniportDMusVtbl {
        IMiniportDMusVtbl {
            base: Vtable::<IMiniport>::new::<C, N>(),
            Init: init::<C, N>,
            Service: service::<C, N>,
            NewStream: new_stream::<C, N>,
        }
    }
}
