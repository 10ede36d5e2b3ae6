//! DirectMusic kernel COM interfaces (dmusicks.h): the port, the miniport, the MXF transport,
//! the allocator, the synth's wave sink and the master clock, with their ids.
//!
//! Method order and signatures from dmusicks.h (ReactOS sdk/include/ddk/dmusicks.h,
//! mingw-w64 ddk/dmusicks.h, and the DDK's own 1998 dmusicks.h for `ISynthSinkDMus`). The
//! DDK declares the MXF methods with `STDMETHOD` (HRESULT) and ReactOS with
//! `STDMETHOD_(NTSTATUS, ...)`; both are a 32-bit signed status, spelled `NTSTATUS` here.
//!
//! No public header defines an `IID_IMasterClock` or `IID_IPositionNotify`: the port hands
//! out `IMasterClock` pointers directly (`NewStream`), so none is declared here.

use crate::com::{IUnknownVtbl, PUNKNOWN};
use crate::dmusic::{DMUS_STREAM_TYPE, PDMUS_KERNEL_EVENT, REFERENCE_TIME};
use crate::guid::GUID;
use crate::kernel::{NTSTATUS, POOL_TYPE};
use crate::ks::{KSSTATE, PKSDATAFORMAT};
use crate::portcls::{IMiniportVtbl, IPortVtbl, PRESOURCELIST, PSERVICEGROUP, interface};

/// `CLSID_PortDMus` (dmusicks.h): passed to `PcNewPort`.
pub const CLSID_PortDMus: GUID = GUID::parse("b7902fe9-fb0a-11d1-81b0-0060083316c1");
/// `CLSID_MiniportDriverDMusUART` (dmusicks.h): PortCls' built-in DMus UART miniport.
pub const CLSID_MiniportDriverDMusUART: GUID = GUID::parse("d3f0ce1c-fffc-11d1-81b0-0060083316c1");
/// `CLSID_MiniportDriverDMusUARTCapture` (dmusicks.h).
pub const CLSID_MiniportDriverDMusUARTCapture: GUID =
    GUID::parse("d3f0ce1d-fffc-11d1-81b0-0060083316c1");
/// `IID_IPortDMus` (dmusicks.h).
pub const IID_IPortDMus: GUID = GUID::parse("c096df9c-fb09-11d1-81b0-0060083316c1");
/// `IID_IMiniportDMus` (dmusicks.h).
pub const IID_IMiniportDMus: GUID = GUID::parse("c096df9d-fb09-11d1-81b0-0060083316c1");
/// `IID_IMXF` (dmusicks.h).
pub const IID_IMXF: GUID = GUID::parse("c096df9e-fb09-11d1-81b0-0060083316c1");
/// `IID_IAllocatorMXF` (dmusicks.h).
pub const IID_IAllocatorMXF: GUID = GUID::parse("a5f0d62c-b30f-11d2-b7a3-0060083316c1");
/// `IID_ISynthSinkDMus` (dmusicks.h).
pub const IID_ISynthSinkDMus: GUID = GUID::parse("1f476974-679b-11d2-8f7d-00c04fbf8fef");

interface!(
    /// `IMasterClock`: the port's master clock.
    IMasterClock, IMasterClockVtbl, PMASTERCLOCK
);

/// `IMasterClock`'s vtable.
#[repr(C)]
pub struct IMasterClockVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS GetTime(REFERENCE_TIME*)`: 100 ns units; callable at DISPATCH_LEVEL.
    pub GetTime:
        unsafe extern "system" fn(This: *mut IMasterClock, pTime: *mut REFERENCE_TIME) -> NTSTATUS,
}

interface!(
    /// `IMXF`: a MIDI transform filter (every stream, the allocator, the capture sink).
    IMXF, IMXFVtbl, PMXF
);

/// `IMXF`'s vtable (`DEFINE_ABSTRACT_IMXF`).
#[repr(C)]
pub struct IMXFVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS SetState(KSSTATE)`: PASSIVE_LEVEL.
    pub SetState: unsafe extern "system" fn(This: *mut IMXF, State: KSSTATE) -> NTSTATUS,
    /// `NTSTATUS PutMessage(PDMUS_KERNEL_EVENT)`: DISPATCH_LEVEL; takes ownership of the chain.
    pub PutMessage:
        unsafe extern "system" fn(This: *mut IMXF, pDMKEvt: PDMUS_KERNEL_EVENT) -> NTSTATUS,
    /// `NTSTATUS ConnectOutput(PMXF)`.
    pub ConnectOutput: unsafe extern "system" fn(This: *mut IMXF, sinkMXF: PMXF) -> NTSTATUS,
    /// `NTSTATUS DisconnectOutput(PMXF)`.
    pub DisconnectOutput: unsafe extern "system" fn(This: *mut IMXF, sinkMXF: PMXF) -> NTSTATUS,
}

interface!(
    /// `IAllocatorMXF` (derives `IMXF`): the port's event and buffer pool.
    IAllocatorMXF, IAllocatorMXFVtbl, PAllocatorMXF
);

/// `IAllocatorMXF`'s vtable.
#[repr(C)]
pub struct IAllocatorMXFVtbl {
    /// `IMXF`.
    pub base: IMXFVtbl,
    /// `NTSTATUS GetMessage(PDMUS_KERNEL_EVENT*)`: a zeroed event.
    pub GetMessage: unsafe extern "system" fn(
        This: *mut IAllocatorMXF,
        ppDMKEvt: *mut PDMUS_KERNEL_EVENT,
    ) -> NTSTATUS,
    /// `USHORT GetBufferSize()`.
    pub GetBufferSize: unsafe extern "system" fn(This: *mut IAllocatorMXF) -> u16,
    /// `NTSTATUS GetBuffer(PBYTE*)`.
    pub GetBuffer:
        unsafe extern "system" fn(This: *mut IAllocatorMXF, ppBuffer: *mut *mut u8) -> NTSTATUS,
    /// `NTSTATUS PutBuffer(PBYTE)`.
    pub PutBuffer:
        unsafe extern "system" fn(This: *mut IAllocatorMXF, pBuffer: *mut u8) -> NTSTATUS,
}

interface!(
    /// `ISynthSinkDMus` (derives `IMXF`): the synth stream the port's wave sink pulls from.
    ISynthSinkDMus, ISynthSinkDMusVtbl, PSYNTHSINKDMUS
);

/// `ISynthSinkDMus`'s vtable.
#[repr(C)]
pub struct ISynthSinkDMusVtbl {
    /// `IMXF`.
    pub base: IMXFVtbl,
    /// `void Render(PBYTE pBuffer, DWORD dwLength, LONGLONG llPosition)`: `dwLength` in
    /// samples, `llPosition` the sample time of the first.
    pub Render: unsafe extern "system" fn(
        This: *mut ISynthSinkDMus,
        pBuffer: *mut u8,
        dwLength: u32,
        llPosition: i64,
    ),
    /// `NTSTATUS SyncToMaster(REFERENCE_TIME, BOOL fStart)`.
    pub SyncToMaster: unsafe extern "system" fn(
        This: *mut ISynthSinkDMus,
        rfTime: REFERENCE_TIME,
        fStart: i32,
    ) -> NTSTATUS,
    /// `NTSTATUS SampleToRefTime(LONGLONG, REFERENCE_TIME*)`.
    pub SampleToRefTime: unsafe extern "system" fn(
        This: *mut ISynthSinkDMus,
        llSampleTime: i64,
        prfTime: *mut REFERENCE_TIME,
    ) -> NTSTATUS,
    /// `NTSTATUS RefTimeToSample(REFERENCE_TIME, LONGLONG*)`.
    pub RefTimeToSample: unsafe extern "system" fn(
        This: *mut ISynthSinkDMus,
        rfTime: REFERENCE_TIME,
        pllSampleTime: *mut i64,
    ) -> NTSTATUS,
}

interface!(
    /// `IPortDMus` (derives `IPort`): the DMus port.
    IPortDMus, IPortDMusVtbl, PPORTDMUS
);

/// `IPortDMus`'s vtable.
#[repr(C)]
pub struct IPortDMusVtbl {
    /// `IPort`.
    pub base: IPortVtbl,
    /// `void Notify(PSERVICEGROUP)`: asks the port to service (capture data ready).
    pub Notify: unsafe extern "system" fn(This: *mut IPortDMus, ServiceGroup: PSERVICEGROUP),
    /// `void RegisterServiceGroup(PSERVICEGROUP)`.
    pub RegisterServiceGroup:
        unsafe extern "system" fn(This: *mut IPortDMus, ServiceGroup: PSERVICEGROUP),
}

interface!(
    /// `IMiniportDMus` (derives `IMiniport`): a DirectMusic miniport.
    IMiniportDMus, IMiniportDMusVtbl, PMINIPORTDMUS
);

/// `IMiniportDMus`'s vtable.
#[repr(C)]
pub struct IMiniportDMusVtbl {
    /// `IMiniport`.
    pub base: IMiniportVtbl,
    /// `NTSTATUS Init(PUNKNOWN Adapter, PRESOURCELIST, PPORTDMUS, PSERVICEGROUP*)`.
    pub Init: unsafe extern "system" fn(
        This: *mut IMiniportDMus,
        UnknownAdapter: PUNKNOWN,
        ResourceList: PRESOURCELIST,
        Port: PPORTDMUS,
        ServiceGroup: *mut PSERVICEGROUP,
    ) -> NTSTATUS,
    /// `void Service()`.
    pub Service: unsafe extern "system" fn(This: *mut IMiniportDMus),
    /// `NTSTATUS NewStream(PMXF*, PUNKNOWN Outer, POOL_TYPE, ULONG PinID, DMUS_STREAM_TYPE,
    /// PKSDATAFORMAT, PSERVICEGROUP*, PAllocatorMXF, PMASTERCLOCK, PULONGLONG SchedulePreFetch)`.
    pub NewStream: unsafe extern "system" fn(
        This: *mut IMiniportDMus,
        MXF: *mut PMXF,
        OuterUnknown: PUNKNOWN,
        PoolType: POOL_TYPE,
        PinID: u32,
        StreamType: DMUS_STREAM_TYPE,
        DataFormat: PKSDATAFORMAT,
        ServiceGroup: *mut PSERVICEGROUP,
        AllocatorMXF: PAllocatorMXF,
        MasterClock: PMASTERCLOCK,
        SchedulePreFetch: *mut u64,
    ) -> NTSTATUS,
}
