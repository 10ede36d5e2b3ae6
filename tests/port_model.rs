//! The simulated `PortCls` `DMus` port against test-only miniports: a correct one that renders
//! into a log and captures injected bytes, and deliberately wrong ones, each proving one
//! verifier check fires. Independent of the driver: every miniport here lives in this file.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;

use dmus_sys::com::{IID_IUnknown, IUnknown, IUnknownVtbl, PUNKNOWN};
use dmus_sys::dmus_com::{
    IAllocatorMXF, IAllocatorMXFVtbl, IID_IMXF, IID_IMiniportDMus, IMXF, IMXFVtbl, IMasterClock,
    IMasterClockVtbl, IMiniportDMus, IMiniportDMusVtbl, IPortDMus, IPortDMusVtbl, PMXF,
};
use dmus_sys::dmusic::{
    DMUS_KEF, DMUS_KERNEL_EVENT, DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_TYPE,
    DONT_HOLD_FOR_SEQUENCING, PDMUS_KERNEL_EVENT,
};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_VOLUME, KSPROPERTY_SYNTH_VOLUMEBOOST, KSPROPSETID_Synth,
};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{DEVICE_POWER_STATE, POWER_STATE, PowerDeviceD0, PowerDeviceD3};
use dmus_sys::kernel::{
    NT_SUCCESS, NTSTATUS, POOL_TYPE, PVOID, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND,
    STATUS_NOT_IMPLEMENTED, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSPIN_DATAFLOW, KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSPIN_DESCRIPTOR,
    KSPIN_DESCRIPTOR_CONSTRAINED, KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET,
    KSPROPERTY_TYPE_SET, KSSTATE, KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP,
    KSSTREAM_HEADER, KSTIME, PKSDATARANGE,
};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_TYPE_MUSIC, KSNODETYPE_SYNTHESIZER,
};
use dmus_sys::portcls::{
    IAdapterPowerManagement, IAdapterPowerManagementVtbl, IID_IAdapterPowerManagement,
    IID_IPowerNotify, IPowerNotify, IPowerNotifyVtbl,
};
use dmus_sys::portcls::{
    IMiniport, IMiniportVtbl, PCAUTOMATION_TABLE, PCFILTER_DESCRIPTOR, PCNODE_DESCRIPTOR,
    PCPIN_DESCRIPTOR, PCPROPERTY_ITEM, PCPROPERTY_REQUEST, PRESOURCELIST, PSERVICEGROUP,
};
use mxf::unpack::{HeaderError, UnpackError};
use wdm_sim::portcls::{
    Device, Filter, IID_ISIM_PIN, OpenError, PinFormat, PropertyTarget, Resources, WriteError,
    api::pass_outer_unknown,
};
use wdm_sim::{Finding, HostLevel, Machine, MachineConfig, ms};

// ----- what the test miniport saw -------------------------------------------------------------

/// One call the test miniport logged.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Seen {
    /// `IMXF::SetState(state)` at `irql`.
    SetState { state: KSSTATE, irql: u8 },
    /// A render event: master time it was received, its presentation time, bytes, IRQL.
    Render {
        at: u64,
        time: i64,
        bytes: Vec<u8>,
        irql: u8,
    },
    /// `IMiniportDMus::Service` at `irql`.
    Service { irql: u8 },
    /// `DataRangeIntersection` for `pin`.
    Intersection { pin: u32 },
    /// A power call: who (`"miniport"`, `"adapter"`, `"query"`), the device state, IRQL.
    Power {
        who: &'static str,
        state: DEVICE_POWER_STATE,
        irql: u8,
    },
}

/// Ways the test miniport can be wrong.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Fault {
    /// Correct.
    #[default]
    None,
    /// Render: returns every chain to the allocator twice.
    ReturnTwice,
    /// Render: returns each chain, then writes to its first event.
    WriteAfterReturn,
    /// Render: keeps every event, even after STOP.
    HoldAfterStop,
    /// Init: keeps a reference on the port that it never releases.
    LeakPortReference,
    /// Render: returns long-data buffers with `PutBuffer` as well.
    CallsPutBuffer,
    /// Streams aggregate by keeping a counted reference on their outer `IUnknown`.
    KeepsOuterReference,
    /// `SetState(STOP)` fails.
    FailsStop,
    /// `SchedulePreFetch` = `DONT_HOLD_FOR_SEQUENCING`.
    DontHold,
    /// `SchedulePreFetch` = 5 ms.
    Prefetch5ms,
    /// Service: calls `GetMessage` with the IRQL raised to a device level.
    GetMessageAtDirql,
    /// `DataRangeIntersection` answers MIDI requests with a `DirectMusic` format.
    IntersectsWrongSubtype,
}

thread_local! {
    static SEEN: RefCell<Vec<Seen>> = const { RefCell::new(Vec::new()) };
    static FAULT: Cell<Fault> = const { Cell::new(Fault::None) };
    static LIVE_OBJECTS: Cell<i64> = const { Cell::new(0) };
}

fn see(seen: Seen) {
    SEEN.with(|s| s.borrow_mut().push(seen));
}

fn seen() -> Vec<Seen> {
    SEEN.with(|s| s.borrow().clone())
}

fn fault() -> Fault {
    FAULT.with(Cell::get)
}

fn irql() -> u8 {
    // SAFETY: the simulation's KeGetCurrentIrql, any IRQL.
    unsafe { dmus_sys::imports::KeGetCurrentIrql() }
}

fn master_now() -> u64 {
    // SAFETY: the simulation's PcGetTimeInterval(0) is the virtual clock; any IRQL.
    unsafe { dmus_sys::imports::PcGetTimeInterval(0) }
}

/// The vtable of a live COM object.
///
/// # Safety
/// `object` is live and its vtable is a `V`.
unsafe fn vtable<'a, V>(object: *mut c_void) -> &'a V {
    // SAFETY: the caller's contract: the first field is the vtable pointer.
    let table = unsafe { object.cast::<*const V>().read() };
    // SAFETY: a live object's vtable outlives it.
    unsafe { &*table }
}

fn add_ref(object: *mut c_void) {
    // SAFETY: callers pass live COM objects.
    let table = unsafe { vtable::<IUnknownVtbl>(object) };
    // SAFETY: AddRef on a live object.
    unsafe { (table.AddRef)(object.cast()) };
}

fn release(object: *mut c_void) {
    // SAFETY: callers pass live COM objects they hold a reference on.
    let table = unsafe { vtable::<IUnknownVtbl>(object) };
    // SAFETY: Release of the caller's reference.
    unsafe { (table.Release)(object.cast()) };
}

// ----- the descriptor ---------------------------------------------------------------------------

/// Static tables full of raw pointers, shared read-only.
struct Table<T>(T);
// SAFETY: the tables are never written after construction; the pointers in them point to
// other statics.
unsafe impl<T> Sync for Table<T> {}

const fn music_range(sub: GUID) -> KSDATAFORMAT {
    KSDATAFORMAT {
        FormatSize: 64,
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
        SubFormat: sub,
        Specifier: KSDATAFORMAT_SPECIFIER_NONE,
    }
}

static MIDI_RANGE: Table<KSDATAFORMAT> = Table(music_range(KSDATAFORMAT_SUBTYPE_MIDI));
static DMUS_RANGE: Table<KSDATAFORMAT> = Table(music_range(KSDATAFORMAT_SUBTYPE_DIRECTMUSIC));
static BOTH_RANGES: Table<[PKSDATARANGE; 2]> = Table([
    (&raw const MIDI_RANGE.0).cast_mut(),
    (&raw const DMUS_RANGE.0).cast_mut(),
]);
static MIDI_ONLY: Table<[PKSDATARANGE; 1]> = Table([(&raw const MIDI_RANGE.0).cast_mut()]);

const fn pin(
    flow: KSPIN_DATAFLOW,
    ranges: *const PKSDATARANGE,
    count: u32,
    filter_instances: u32,
) -> PCPIN_DESCRIPTOR {
    PCPIN_DESCRIPTOR {
        MaxGlobalInstanceCount: 1,
        MaxFilterInstanceCount: filter_instances,
        MinFilterInstanceCount: 0,
        AutomationTable: core::ptr::null(),
        KsPinDescriptor: KSPIN_DESCRIPTOR {
            InterfacesCount: 0,
            Interfaces: core::ptr::null(),
            MediumsCount: 0,
            Mediums: core::ptr::null(),
            DataRangesCount: count,
            DataRanges: ranges,
            DataFlow: flow,
            Communication: 1,
            Category: core::ptr::null(),
            Name: core::ptr::null(),
            Constrained: KSPIN_DESCRIPTOR_CONSTRAINED {
                ConstrainedDataRangesCount: 0,
                ConstrainedDataRanges: core::ptr::null_mut(),
            },
        },
    }
}

/// A structure size as the tables' ULONG (the structures are far below 4 GiB).
const fn size_u32(size: usize) -> u32 {
    assert!(size <= u32::MAX as usize);
    #[allow(clippy::cast_possible_truncation, reason = "checked just above")]
    let size = size as u32;
    size
}

/// Pin 0: render (MIDI and `DirectMusic`); 1: capture (both); 2: render, MIDI only, two
/// instances per filter but one in all (the global count is the lower: one opens).
static PINS: Table<[PCPIN_DESCRIPTOR; 3]> = Table([
    pin(KSPIN_DATAFLOW_IN, (&raw const BOTH_RANGES.0).cast(), 2, 1),
    pin(KSPIN_DATAFLOW_OUT, (&raw const BOTH_RANGES.0).cast(), 2, 1),
    pin(KSPIN_DATAFLOW_IN, (&raw const MIDI_ONLY.0).cast(), 1, 2),
]);

thread_local! {
    static VOLUME: Cell<i32> = const { Cell::new(-600) };
}

unsafe extern "system" fn volume_handler(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: the port's request, valid for the call.
    let request = unsafe { &mut *request };
    if request.Verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        request.ValueSize = 0;
        return STATUS_SUCCESS;
    }
    if request.ValueSize < 4 || request.Value.is_null() {
        request.ValueSize = 4;
        return dmus_sys::kernel::STATUS_BUFFER_TOO_SMALL;
    }
    let value = request.Value.cast::<i32>();
    if request.Verb & KSPROPERTY_TYPE_GET != 0 {
        // SAFETY: at least 4 writable bytes (checked).
        unsafe { value.write_unaligned(VOLUME.with(Cell::get)) };
    } else {
        // SAFETY: at least 4 readable bytes (checked).
        VOLUME.with(|v| v.set(unsafe { value.read_unaligned() }));
    }
    request.ValueSize = 4;
    STATUS_SUCCESS
}

static PROPERTIES: Table<[PCPROPERTY_ITEM; 1]> = Table([PCPROPERTY_ITEM {
    Set: &KSPROPSETID_Synth,
    Id: KSPROPERTY_SYNTH_VOLUME,
    Flags: KSPROPERTY_TYPE_GET | KSPROPERTY_TYPE_SET | KSPROPERTY_TYPE_BASICSUPPORT,
    Handler: Some(volume_handler),
}]);

static AUTOMATION: Table<PCAUTOMATION_TABLE> = Table(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32(core::mem::size_of::<PCPROPERTY_ITEM>()),
    PropertyCount: 1,
    Properties: (&raw const PROPERTIES.0).cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

/// A node property: answers `Node + 100` so the test sees which node the port named.
unsafe extern "system" fn node_handler(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: the port's request, valid for the call.
    let request = unsafe { &mut *request };
    if request.ValueSize < 4 || request.Value.is_null() {
        return dmus_sys::kernel::STATUS_BUFFER_TOO_SMALL;
    }
    let value = request.Value.cast::<u32>();
    // SAFETY: at least 4 writable bytes (checked).
    unsafe { value.write_unaligned(request.Node + 100) };
    request.ValueSize = 4;
    STATUS_SUCCESS
}

static NODE_PROPERTIES: Table<[PCPROPERTY_ITEM; 1]> = Table([PCPROPERTY_ITEM {
    Set: &KSPROPSETID_Synth,
    Id: KSPROPERTY_SYNTH_VOLUMEBOOST,
    Flags: KSPROPERTY_TYPE_GET,
    Handler: Some(node_handler),
}]);

static NODE_AUTOMATION: Table<PCAUTOMATION_TABLE> = Table(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32(core::mem::size_of::<PCPROPERTY_ITEM>()),
    PropertyCount: 1,
    Properties: (&raw const NODE_PROPERTIES.0).cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

/// One node: a synthesizer with its own automation table.
static NODES: Table<[PCNODE_DESCRIPTOR; 1]> = Table([PCNODE_DESCRIPTOR {
    Flags: 0,
    AutomationTable: &raw const NODE_AUTOMATION.0,
    Type: &KSNODETYPE_SYNTHESIZER,
    Name: core::ptr::null(),
}]);

static FILTER: Table<PCFILTER_DESCRIPTOR> = Table(PCFILTER_DESCRIPTOR {
    Version: 0,
    AutomationTable: &raw const AUTOMATION.0,
    PinSize: size_u32(core::mem::size_of::<PCPIN_DESCRIPTOR>()),
    PinCount: 3,
    Pins: (&raw const PINS.0).cast(),
    NodeSize: size_u32(core::mem::size_of::<PCNODE_DESCRIPTOR>()),
    NodeCount: 1,
    Nodes: (&raw const NODES.0).cast(),
    ConnectionCount: 0,
    Connections: core::ptr::null(),
    CategoryCount: 0,
    Categories: core::ptr::null(),
});

// ----- the miniport -----------------------------------------------------------------------------

#[repr(C)]
struct Miniport {
    vtable: *const IMiniportDMusVtbl,
    /// The miniport's second interface, `IPowerNotify`.
    power: *const IPowerNotifyVtbl,
    refs: Cell<u32>,
    port: Cell<*mut IPortDMus>,
    group: Cell<PSERVICEGROUP>,
    /// Bytes "arriving" for capture, drained by Service.
    input: RefCell<Vec<u8>>,
    /// The open capture stream, if any.
    capture: Cell<*mut Stream>,
}

#[repr(C)]
struct Stream {
    vtable: *const IMXFVtbl,
    refs: Cell<u32>,
    outer: PUNKNOWN,
    capture: bool,
    allocator: *mut IAllocatorMXF,
    clock: *mut IMasterClock,
    sink: Cell<PMXF>,
    held: RefCell<Vec<PDMUS_KERNEL_EVENT>>,
    miniport: *mut Miniport,
}

static MINIPORT_VTABLE: IMiniportDMusVtbl = IMiniportDMusVtbl {
    base: IMiniportVtbl {
        base: IUnknownVtbl {
            QueryInterface: miniport_qi,
            AddRef: miniport_add_ref,
            Release: miniport_release,
        },
        GetDescription: get_description,
        DataRangeIntersection: data_range_intersection,
    },
    Init: miniport_init,
    Service: service,
    NewStream: new_stream,
};

static POWER_VTABLE: IPowerNotifyVtbl = IPowerNotifyVtbl {
    base: IUnknownVtbl {
        QueryInterface: power_qi,
        AddRef: power_add_ref,
        Release: power_release,
    },
    PowerChangeNotify: power_change_notify,
};

/// The miniport behind its `IPowerNotify` pointer.
fn miniport_of_power(this: *mut c_void) -> *mut Miniport {
    this.wrapping_byte_sub(core::mem::offset_of!(Miniport, power))
        .cast()
}

unsafe extern "system" fn power_qi(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: IUnknown's methods of the second interface delegate to the object's.
    unsafe { miniport_qi(miniport_of_power(this.cast()).cast(), iid, out) }
}

unsafe extern "system" fn power_add_ref(this: *mut IUnknown) -> u32 {
    // SAFETY: as above.
    unsafe { miniport_add_ref(miniport_of_power(this.cast()).cast()) }
}

unsafe extern "system" fn power_release(this: *mut IUnknown) -> u32 {
    // SAFETY: as above.
    unsafe { miniport_release(miniport_of_power(this.cast()).cast()) }
}

unsafe extern "system" fn power_change_notify(_this: *mut IPowerNotify, state: POWER_STATE) {
    see(Seen::Power {
        who: "miniport",
        // SAFETY: device power changes carry a DeviceState.
        state: unsafe { state.DeviceState },
        irql: irql(),
    });
}

/// A test adapter's `IAdapterPowerManagement`.
#[repr(C)]
struct Adapter {
    vtable: *const IAdapterPowerManagementVtbl,
    refs: Cell<u32>,
}

static ADAPTER_VTABLE: IAdapterPowerManagementVtbl = IAdapterPowerManagementVtbl {
    base: IUnknownVtbl {
        QueryInterface: adapter_qi,
        AddRef: adapter_add_ref,
        Release: adapter_release,
    },
    PowerChangeState: adapter_power_change_state,
    QueryPowerChangeState: adapter_query_power_change_state,
    QueryDeviceCapabilities: adapter_query_device_capabilities,
};

fn adapter_of<'a, T>(this: *mut T) -> &'a Adapter {
    // SAFETY: only called through ADAPTER_VTABLE on the live test adapter.
    unsafe { &*this.cast::<Adapter>() }
}

unsafe extern "system" fn adapter_qi(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: COM's contract: readable IID, writable out.
    let iid = unsafe { iid.read() };
    let known = iid == IID_IUnknown || iid == IID_IAdapterPowerManagement;
    if known {
        add_ref(this.cast());
    }
    let found: PVOID = if known {
        this.cast()
    } else {
        core::ptr::null_mut()
    };
    // SAFETY: as above.
    unsafe { out.write(found) };
    if known {
        STATUS_SUCCESS
    } else {
        STATUS_INVALID_PARAMETER
    }
}

unsafe extern "system" fn adapter_add_ref(this: *mut IUnknown) -> u32 {
    let a = adapter_of(this);
    a.refs.set(a.refs.get() + 1);
    a.refs.get()
}

unsafe extern "system" fn adapter_release(this: *mut IUnknown) -> u32 {
    let a = adapter_of(this);
    a.refs.set(a.refs.get() - 1);
    a.refs.get()
}

unsafe extern "system" fn adapter_power_change_state(
    _this: *mut IAdapterPowerManagement,
    state: POWER_STATE,
) {
    see(Seen::Power {
        who: "adapter",
        // SAFETY: device power changes carry a DeviceState.
        state: unsafe { state.DeviceState },
        irql: irql(),
    });
}

unsafe extern "system" fn adapter_query_power_change_state(
    _this: *mut IAdapterPowerManagement,
    state: POWER_STATE,
) -> NTSTATUS {
    see(Seen::Power {
        who: "query",
        // SAFETY: device power queries carry a DeviceState.
        state: unsafe { state.DeviceState },
        irql: irql(),
    });
    STATUS_SUCCESS
}

unsafe extern "system" fn adapter_query_device_capabilities(
    _this: *mut IAdapterPowerManagement,
    _caps: dmus_sys::kernel::PDEVICE_CAPABILITIES,
) -> NTSTATUS {
    STATUS_SUCCESS
}

static STREAM_VTABLE: IMXFVtbl = IMXFVtbl {
    base: IUnknownVtbl {
        QueryInterface: stream_qi,
        AddRef: stream_add_ref,
        Release: stream_release,
    },
    SetState: set_state,
    PutMessage: put_message,
    ConnectOutput: connect_output,
    DisconnectOutput: disconnect_output,
};

/// A new test miniport (one reference, the caller's).
fn new_miniport() -> PUNKNOWN {
    LIVE_OBJECTS.with(|l| l.set(l.get() + 1));
    Box::into_raw(Box::new(Miniport {
        vtable: &raw const MINIPORT_VTABLE,
        power: &raw const POWER_VTABLE,
        refs: Cell::new(1),
        port: Cell::new(core::ptr::null_mut()),
        group: Cell::new(core::ptr::null_mut()),
        input: RefCell::new(Vec::new()),
        capture: Cell::new(core::ptr::null_mut()),
    }))
    .cast()
}

fn miniport_of<'a, T>(this: *mut T) -> &'a Miniport {
    // SAFETY: only called through MINIPORT_VTABLE on a live Miniport.
    unsafe { &*this.cast::<Miniport>() }
}

fn stream_of<'a, T>(this: *mut T) -> &'a Stream {
    // SAFETY: only called through STREAM_VTABLE on a live Stream.
    unsafe { &*this.cast::<Stream>() }
}

unsafe extern "system" fn miniport_qi(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: COM's contract: readable IID, writable out.
    let iid = unsafe { iid.read() };
    if iid == IID_IPowerNotify {
        add_ref(this.cast());
        let power = this
            .cast::<u8>()
            .wrapping_byte_add(core::mem::offset_of!(Miniport, power));
        // SAFETY: as above; the object's second interface.
        unsafe { out.write(power.cast()) };
        return STATUS_SUCCESS;
    }
    if iid == IID_IUnknown || iid == IID_IMiniportDMus || iid == dmus_sys::portcls::IID_IMiniport {
        add_ref(this.cast());
        // SAFETY: as above.
        unsafe { out.write(this.cast()) };
        STATUS_SUCCESS
    } else {
        // SAFETY: as above.
        unsafe { out.write(core::ptr::null_mut()) };
        STATUS_INVALID_PARAMETER
    }
}

unsafe extern "system" fn miniport_add_ref(this: *mut IUnknown) -> u32 {
    let m = miniport_of(this);
    m.refs.set(m.refs.get() + 1);
    m.refs.get()
}

unsafe extern "system" fn miniport_release(this: *mut IUnknown) -> u32 {
    let m = miniport_of(this);
    let refs = m.refs.get() - 1;
    m.refs.set(refs);
    if refs == 0 {
        let group = m.group.get();
        if !group.is_null() {
            release(group.cast());
        }
        let port = m.port.get();
        if !port.is_null() && fault() != Fault::LeakPortReference {
            release(port.cast());
        }
        LIVE_OBJECTS.with(|l| l.set(l.get() - 1));
        // SAFETY: made by new_miniport; the last reference just went.
        drop(unsafe { Box::from_raw(this.cast::<Miniport>()) });
    }
    refs
}

unsafe extern "system" fn get_description(
    _this: *mut IMiniport,
    out: *mut *mut PCFILTER_DESCRIPTOR,
) -> NTSTATUS {
    // SAFETY: the port's writable out pointer.
    unsafe { out.write((&raw const FILTER.0).cast_mut()) };
    STATUS_SUCCESS
}

unsafe extern "system" fn data_range_intersection(
    _this: *mut IMiniport,
    pin: u32,
    _range: PKSDATARANGE,
    _matching: PKSDATARANGE,
    len: u32,
    format: PVOID,
    result_len: *mut u32,
) -> NTSTATUS {
    see(Seen::Intersection { pin });
    if fault() != Fault::IntersectsWrongSubtype {
        return STATUS_NOT_IMPLEMENTED;
    }
    // SAFETY: the port's result buffer of `len` bytes (at least a KSDATAFORMAT).
    unsafe { format.cast::<KSDATAFORMAT>().write_unaligned(DMUS_RANGE.0) };
    // SAFETY: the port's writable length.
    unsafe { result_len.write(64) };
    let _ = len;
    STATUS_SUCCESS
}

unsafe extern "system" fn miniport_init(
    this: *mut IMiniportDMus,
    _adapter: PUNKNOWN,
    _resources: PRESOURCELIST,
    port: *mut IPortDMus,
    group_out: *mut PSERVICEGROUP,
) -> NTSTATUS {
    let m = miniport_of(this);
    add_ref(port.cast());
    m.port.set(port);
    let mut group: PSERVICEGROUP = core::ptr::null_mut();
    // SAFETY: PASSIVE_LEVEL, a writable out pointer, no aggregation.
    let status =
        unsafe { dmus_sys::imports::PcNewServiceGroup(&raw mut group, core::ptr::null_mut()) };
    if !NT_SUCCESS(status) {
        return status;
    }
    m.group.set(group);
    add_ref(group.cast());
    // SAFETY: the port's writable out pointer; the port gets the reference just taken.
    unsafe { group_out.write(group) };
    STATUS_SUCCESS
}

unsafe extern "system" fn service(this: *mut IMiniportDMus) {
    see(Seen::Service { irql: irql() });
    let m = miniport_of(this);
    let stream = m.capture.get();
    let bytes: Vec<u8> = m.input.borrow_mut().drain(..).collect();
    if stream.is_null() || bytes.is_empty() {
        return;
    }
    let s = stream_of(stream);
    // SAFETY: the port's allocator, held by the stream.
    let allocator = unsafe { vtable::<IAllocatorMXFVtbl>(s.allocator.cast()) };
    let mut event: PDMUS_KERNEL_EVENT = core::ptr::null_mut();
    let raised = (fault() == Fault::GetMessageAtDirql).then(|| {
        // SAFETY: the wrong raise under test (to a device IRQL), lowered right after.
        unsafe { dmus_sys::imports::KfRaiseIrql(8) }
    });
    // SAFETY: GetMessage with a writable out pointer (at DISPATCH_LEVEL unless the fault).
    let status = unsafe { (allocator.GetMessage)(s.allocator, &raw mut event) };
    if let Some(old) = raised {
        // SAFETY: back to the IRQL raised from.
        unsafe { dmus_sys::imports::KeLowerIrql(old) };
    }
    if !NT_SUCCESS(status) || event.is_null() || bytes.len() > 8 {
        return;
    }
    let mut data = [0_u8; 8];
    data[..bytes.len()].copy_from_slice(&bytes);
    // SAFETY: a zeroed event the allocator just handed us.
    unsafe {
        event.write(DMUS_KERNEL_EVENT {
            bReserved: 0,
            cbStruct: 40,
            cbEvent: u16::try_from(bytes.len()).unwrap(),
            usChannelGroup: 1,
            usFlags: DMUS_KEF::EVENT_INCOMPLETE,
            ullPresTime100ns: i64::try_from(master_now()).unwrap(),
            ullBytePosition: 0,
            pNextEvt: core::ptr::null_mut(),
            uData: dmus_sys::dmusic::DMUS_KERNEL_EVENT_DATA { abData: data },
        });
    }
    let sink = s.sink.get();
    // SAFETY: the capture sink the port connected (or the allocator), at DISPATCH_LEVEL.
    let table = unsafe { vtable::<IMXFVtbl>(sink.cast()) };
    // SAFETY: PutMessage hands the event over.
    unsafe { (table.PutMessage)(sink, event) };
}

#[allow(
    clippy::too_many_arguments,
    reason = "IMiniportDMus::NewStream's signature"
)]
unsafe extern "system" fn new_stream(
    this: *mut IMiniportDMus,
    out: *mut PMXF,
    outer: PUNKNOWN,
    _pool: POOL_TYPE,
    _pin: u32,
    stream_type: DMUS_STREAM_TYPE,
    _format: *mut KSDATAFORMAT,
    group_out: *mut PSERVICEGROUP,
    allocator: *mut IAllocatorMXF,
    clock: *mut IMasterClock,
    prefetch: *mut u64,
) -> NTSTATUS {
    let capture = stream_type == DMUS_STREAM_MIDI_CAPTURE;
    add_ref(allocator.cast());
    add_ref(clock.cast());
    if !outer.is_null() && fault() == Fault::KeepsOuterReference {
        add_ref(outer.cast());
    }
    LIVE_OBJECTS.with(|l| l.set(l.get() + 1));
    let stream = Box::into_raw(Box::new(Stream {
        vtable: &raw const STREAM_VTABLE,
        refs: Cell::new(1),
        outer,
        capture,
        allocator,
        clock,
        sink: Cell::new(allocator.cast()),
        held: RefCell::new(Vec::new()),
        miniport: this.cast(),
    }));
    if capture {
        miniport_of(this).capture.set(stream);
    }
    let wait = match fault() {
        Fault::DontHold => DONT_HOLD_FOR_SEQUENCING,
        Fault::Prefetch5ms => ms(5),
        _ => 0,
    };
    // SAFETY: the port's writable out pointers.
    unsafe {
        prefetch.write(wait);
    }
    // SAFETY: as above.
    unsafe { group_out.write(core::ptr::null_mut()) };
    // SAFETY: as above; the port gets the creation reference.
    unsafe { out.write(stream.cast()) };
    STATUS_SUCCESS
}

unsafe extern "system" fn stream_qi(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    let s = stream_of(this);
    // SAFETY: COM's contract: readable IID, writable out.
    let wanted = unsafe { iid.read() };
    if wanted == IID_IUnknown || wanted == IID_IMXF {
        add_ref(this.cast());
        // SAFETY: as above.
        unsafe { out.write(this.cast()) };
        return STATUS_SUCCESS;
    }
    if !s.outer.is_null() {
        // Aggregated: what the stream does not implement, its outer may.
        // SAFETY: the outer outlives the stream (the pin owns both).
        let table = unsafe { vtable::<IUnknownVtbl>(s.outer.cast()) };
        // SAFETY: QueryInterface on the live outer with the caller's arguments.
        return unsafe { (table.QueryInterface)(s.outer, iid, out) };
    }
    // SAFETY: as above.
    unsafe { out.write(core::ptr::null_mut()) };
    STATUS_INVALID_PARAMETER
}

unsafe extern "system" fn stream_add_ref(this: *mut IUnknown) -> u32 {
    let s = stream_of(this);
    s.refs.set(s.refs.get() + 1);
    s.refs.get()
}

unsafe extern "system" fn stream_release(this: *mut IUnknown) -> u32 {
    let s = stream_of(this);
    let refs = s.refs.get() - 1;
    s.refs.set(refs);
    if refs == 0 {
        if s.capture {
            miniport_of(s.miniport).capture.set(core::ptr::null_mut());
        }
        release(s.allocator.cast());
        release(s.clock.cast());
        LIVE_OBJECTS.with(|l| l.set(l.get() - 1));
        // SAFETY: made by new_stream; the last reference just went.
        drop(unsafe { Box::from_raw(this.cast::<Stream>()) });
    }
    refs
}

fn return_to_allocator(s: &Stream, event: PDMUS_KERNEL_EVENT) {
    // SAFETY: the port's allocator, held by the stream.
    let table = unsafe { vtable::<IMXFVtbl>(s.allocator.cast()) };
    // SAFETY: PutMessage on the allocator with a chain the stream owns.
    unsafe { (table.PutMessage)(s.allocator.cast(), event) };
}

unsafe extern "system" fn set_state(this: *mut IMXF, state: KSSTATE) -> NTSTATUS {
    see(Seen::SetState {
        state,
        irql: irql(),
    });
    let s = stream_of(this);
    if state == KSSTATE_STOP {
        if fault() == Fault::FailsStop {
            return STATUS_UNSUCCESSFUL;
        }
        if fault() != Fault::HoldAfterStop {
            for event in s.held.borrow_mut().drain(..) {
                return_to_allocator(s, event);
            }
        }
    }
    STATUS_SUCCESS
}

unsafe extern "system" fn put_message(this: *mut IMXF, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
    let s = stream_of(this);
    let mut at = event;
    while !at.is_null() {
        // SAFETY: the port handed us a chain of valid events.
        let e = unsafe { at.read() };
        let len = usize::from(e.cbEvent);
        let bytes = if len <= 8 {
            // SAFETY: short events keep their data inline.
            let inline = unsafe { e.uData.abData };
            inline[..len].to_vec()
        } else {
            // SAFETY: long events point to a buffer of at least cbEvent bytes.
            let buffer = unsafe { e.uData.pbData };
            // SAFETY: as above.
            unsafe { std::slice::from_raw_parts(buffer, len) }.to_vec()
        };
        if fault() == Fault::CallsPutBuffer && len > 8 {
            // SAFETY: the allocator, held by the stream.
            let table = unsafe { vtable::<IAllocatorMXFVtbl>(s.allocator.cast()) };
            // SAFETY: a long event's payload is its buffer pointer.
            let buffer = unsafe { e.uData.pbData };
            // SAFETY: the wrong call under test.
            unsafe { (table.PutBuffer)(s.allocator, buffer) };
        }
        see(Seen::Render {
            at: master_now(),
            time: e.ullPresTime100ns,
            bytes,
            irql: irql(),
        });
        at = e.pNextEvt;
    }
    match fault() {
        Fault::HoldAfterStop => s.held.borrow_mut().push(event),
        Fault::ReturnTwice => {
            return_to_allocator(s, event);
            return_to_allocator(s, event);
        }
        Fault::WriteAfterReturn => {
            return_to_allocator(s, event);
            // SAFETY: the wrong write under test: the event is allocator memory the stream
            // gave back (still valid memory in the simulation).
            unsafe { (*event).usChannelGroup = 9 };
        }
        Fault::CallsPutBuffer => {
            // The buffers went back with PutBuffer: detach them before returning the chain.
            let mut at = event;
            while !at.is_null() {
                // SAFETY: the chain is still ours.
                let mut e = unsafe { at.read() };
                if e.cbEvent > 8 {
                    e.cbEvent = 0;
                    // SAFETY: as above.
                    unsafe { at.write(e) };
                }
                // SAFETY: as above.
                at = unsafe { (*at).pNextEvt };
            }
            return_to_allocator(s, event);
        }
        _ => return_to_allocator(s, event),
    }
    STATUS_SUCCESS
}

unsafe extern "system" fn connect_output(this: *mut IMXF, sink: PMXF) -> NTSTATUS {
    let s = stream_of(this);
    if !s.capture {
        return STATUS_UNSUCCESSFUL;
    }
    s.sink.set(sink);
    STATUS_SUCCESS
}

unsafe extern "system" fn disconnect_output(this: *mut IMXF, sink: PMXF) -> NTSTATUS {
    let s = stream_of(this);
    if s.sink.get() != sink {
        return STATUS_INVALID_PARAMETER;
    }
    s.sink.set(s.allocator.cast());
    STATUS_SUCCESS
}

// ----- helpers ----------------------------------------------------------------------------------

/// A machine, a device with the test miniport registered as "Test", and the filter.
fn setup(with_fault: Fault) -> (Machine, Device, Filter) {
    FAULT.with(|f| f.set(with_fault));
    SEEN.with(|s| s.borrow_mut().clear());
    let machine = Machine::new(MachineConfig::default());
    let device = Device::standalone();
    let miniport = new_miniport();
    // SAFETY: a live test miniport (one reference, ours until released below).
    let filter = unsafe { device.register_miniport("Test", miniport, &Resources::none()) }
        .expect("the test miniport initialises");
    release(miniport.cast());
    (machine, device, filter)
}

/// Stops and removes the device and runs the unload checks; the live test objects must be 0.
fn teardown(machine: &Machine, device: Device) {
    device.remove();
    machine.unload_checks();
    if fault() != Fault::LeakPortReference {
        assert_eq!(
            LIVE_OBJECTS.with(Cell::get),
            0,
            "the port released every miniport object"
        );
    }
}

fn ksmusic(delta_ms: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&delta_ms.to_le_bytes());
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

fn dmus_record(delta_100ns: i64, group: u32, structured: bool, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&group.to_le_bytes());
    out.extend_from_slice(&delta_100ns.to_le_bytes());
    out.extend_from_slice(&u32::from(structured).to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 8 != 0 {
        out.push(0);
    }
    out
}

fn renders() -> Vec<(u64, i64, Vec<u8>, u8)> {
    seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::Render {
                at,
                time,
                bytes,
                irql,
            } => Some((at, time, bytes, irql)),
            _ => None,
        })
        .collect()
}

fn states() -> Vec<(KSSTATE, u8)> {
    seen()
        .into_iter()
        .filter_map(|s| match s {
            Seen::SetState { state, irql } => Some((state, irql)),
            _ => None,
        })
        .collect()
}

// ----- correct use: quiet --------------------------------------------------------------------

#[test]
fn render_events_reach_put_message_at_their_time_at_dispatch_level() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    assert_eq!(seen(), [Seen::Intersection { pin: 0 }]);
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let run_start = machine.now();
    let irp = [ksmusic(2, &[0x90, 60, 100]), ksmusic(10, &[0x80, 60, 0])].concat();
    let report = pin.write(0, &irp).expect("write");
    assert_eq!((report.records, report.error), (2, None));
    machine.run_for(ms(20));
    let start = i64::try_from(run_start).unwrap();
    assert_eq!(
        renders(),
        [
            (run_start + ms(2), start + 20_000, vec![0x90, 60, 100], 2),
            (run_start + ms(12), start + 120_000, vec![0x80, 60, 0], 2),
        ]
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    assert_eq!(
        states(),
        [
            (KSSTATE_ACQUIRE, 0),
            (KSSTATE_PAUSE, 0),
            (KSSTATE_RUN, 0),
            (KSSTATE_PAUSE, 0),
            (KSSTATE_ACQUIRE, 0),
            (KSSTATE_STOP, 0),
        ],
        "one KS step at a time, at PASSIVE_LEVEL"
    );
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn prefetch_delivers_early_and_dont_hold_delivers_everything_at_once() {
    for (fault, expected) in [
        (Fault::Prefetch5ms, [ms(5), ms(45)]),
        (Fault::DontHold, [0, 0]),
    ] {
        let (machine, device, filter) = setup(fault);
        let pin = filter
            .open_pin(0, PinFormat::DirectMusic)
            .expect("render pin");
        pin.set_state(KSSTATE_RUN).expect("RUN");
        let t0 = machine.now();
        let irp = [
            dmus_record(ms(10).try_into().unwrap(), 1, true, &[0x90, 60, 100]),
            dmus_record(ms(50).try_into().unwrap(), 1, true, &[0x80, 60, 0]),
        ]
        .concat();
        pin.write(0, &irp).expect("write");
        machine.run_for(ms(100));
        let at: Vec<u64> = renders().iter().map(|r| r.0 - t0).collect();
        assert_eq!(at, expected, "{fault:?}");
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
        teardown(&machine, device);
        assert_eq!(machine.findings(), []);
    }
}

#[test]
fn presentation_time_stops_in_pause_and_is_reset_in_stop() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let t0 = machine.now();
    pin.write(0, &ksmusic(10, &[0xC0, 5])).expect("write");
    machine.run_for(ms(4));
    pin.set_state(KSSTATE_PAUSE).expect("PAUSE");
    machine.run_for(ms(100));
    assert!(renders().is_empty(), "nothing plays while paused");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    machine.run_for(ms(10));
    // 4 ms ran, 100 ms paused, then 6 more ms of presentation time.
    assert_eq!(
        renders().iter().map(|r| r.0 - t0).collect::<Vec<_>>(),
        [ms(110)]
    );
    // STOP throws held data away and resets presentation time to 0.
    pin.write(ms(500).try_into().unwrap(), &ksmusic(0, &[0xC0, 6]))
        .expect("write");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let t1 = machine.now();
    pin.write(0, &ksmusic(1, &[0xC0, 7])).expect("write");
    machine.run_for(ms(600));
    let late: Vec<(u64, Vec<u8>)> = renders()[1..]
        .iter()
        .map(|r| (r.0 - t1, r.2.clone()))
        .collect();
    assert_eq!(late, [(ms(1), vec![0xC0, 7])]);
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn capture_goes_from_the_service_routine_to_reads_in_both_formats() {
    for format in [PinFormat::Midi, PinFormat::DirectMusic] {
        let (machine, device, filter) = setup(Fault::None);
        let pin = filter.open_pin(1, format).expect("capture pin");
        pin.set_state(KSSTATE_RUN).expect("RUN");
        let at = machine.now() + ms(3);
        card_input(&machine, filter, &pin, at, &[0x90, 64, 90]);
        machine.run_for(ms(10));
        assert!(
            seen().contains(&Seen::Service { irql: 2 }),
            "Service ran at DISPATCH_LEVEL"
        );
        let read = pin.read(128).expect("read");
        assert_eq!(read.records, 1);
        assert_eq!(read.presentation_time, Some(i64::try_from(at).unwrap()));
        let header = if format == PinFormat::Midi { 8 } else { 20 };
        assert_eq!(
            &read.data[header..header + 3],
            &[0x90, 64, 90],
            "{format:?}"
        );
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
        teardown(&machine, device);
        assert_eq!(machine.findings(), []);
    }
}

/// The "card" delivers `bytes` at `at`: the miniport's ISR would queue them and `Notify` the
/// port, whose DPC calls the miniport's `Service`, which puts them to the capture sink.
fn card_input(
    machine: &Machine,
    filter: Filter,
    pin: &wdm_sim::portcls::Pin,
    at: u64,
    bytes: &'static [u8],
) {
    // The miniport behind the filter, through the capture stream.
    let stream = pin
        .query_stream(&IID_IMXF)
        .expect("the stream answers IMXF") as *mut Stream;
    let miniport = stream_of(stream).miniport;
    machine.schedule_host(
        at,
        HostLevel::Dispatch,
        Box::new(move || {
            miniport_of(miniport)
                .input
                .borrow_mut()
                .extend_from_slice(bytes);
            let port = filter.port() as *mut IPortDMus;
            // SAFETY: the live port's vtable.
            let table = unsafe { vtable::<IPortDMusVtbl>(port.cast()) };
            // SAFETY: Notify with the miniport's service group, at DISPATCH_LEVEL.
            unsafe { (table.Notify)(port, miniport_of(miniport).group.get()) };
        }),
    );
}

#[test]
fn the_capture_sink_joins_raw_bytes_into_messages_and_drops_them_when_not_running() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter
        .open_pin(1, PinFormat::DirectMusic)
        .expect("capture pin");
    pin.set_state(KSSTATE_ACQUIRE).expect("ACQUIRE");
    let t0 = machine.now();
    card_input(&machine, filter, &pin, t0 + ms(1), &[0xC0, 1]);
    machine.run_for(ms(2));
    assert_eq!(
        pin.read(128).expect("read").records,
        0,
        "ACQUIRE throws capture away"
    );
    pin.set_state(KSSTATE_RUN).expect("RUN");
    // A note on split over two ISR batches, then a clock byte inside the next message.
    card_input(&machine, filter, &pin, t0 + ms(3), &[0x90, 64]);
    card_input(&machine, filter, &pin, t0 + ms(4), &[90, 0x80]);
    card_input(&machine, filter, &pin, t0 + ms(5), &[0xF8, 64, 0]);
    machine.run_for(ms(10));
    let read = pin.read(256).expect("read");
    let mut records = Vec::new();
    let mut at = 0;
    while at + 20 <= read.data.len() {
        let len = u32::from_le_bytes(read.data[at..at + 4].try_into().unwrap()) as usize;
        let delta = i64::from_le_bytes(read.data[at + 8..at + 16].try_into().unwrap());
        records.push((delta, read.data[at + 20..at + 20 + len].to_vec()));
        at += (20 + len).next_multiple_of(8);
    }
    let first = i64::try_from(t0 + ms(3)).unwrap();
    assert_eq!(read.presentation_time, Some(first));
    let ms_i = |n: u64| i64::try_from(ms(n)).unwrap();
    assert_eq!(
        records,
        [
            (0, vec![0x90, 64, 90]),
            // The note off keeps the time of its first byte (4 ms): the clock byte that
            // arrived inside it is reported right after it, at its own time (mxf's parser).
            (ms_i(1), vec![0x80, 64, 0]),
            (ms_i(2), vec![0xF8]),
        ]
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn get_message_above_dispatch_level_is_a_finding() {
    let (machine, device, filter) = setup(Fault::GetMessageAtDirql);
    let pin = filter.open_pin(1, PinFormat::Midi).expect("capture pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    card_input(&machine, filter, &pin, machine.now(), &[0xF8]);
    machine.run_for(ms(1));
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [Finding::IrqlTooHigh {
            call: "IAllocatorMXF::GetMessage",
            irql: 8,
            max: 2
        }]
    );
    assert!(findings[0].to_string().starts_with(
        "DRIVER_VERIFIER_DETECTED_VIOLATION (c4): IAllocatorMXF::GetMessage called at IRQL 8"
    ));
}

#[test]
fn stream_headers_are_honoured_and_the_master_clock_never_pauses() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_PAUSE).expect("PAUSE");
    let buffer = [ksmusic(0, &[0xC0, 1]), ksmusic(0, &[0xC0, 2])].concat();
    let header = |data_used: u32, frame_extent: u32, denominator: u32| KSSTREAM_HEADER {
        Size: u32::try_from(core::mem::size_of::<KSSTREAM_HEADER>()).unwrap(),
        TypeSpecificFlags: 0,
        PresentationTime: KSTIME {
            Time: 3,
            Numerator: 10_000,
            Denominator: denominator,
        },
        Duration: 0,
        FrameExtent: frame_extent,
        DataUsed: data_used,
        Data: core::ptr::null_mut(),
        OptionsFlags: 0,
        #[cfg(target_pointer_width = "64")]
        Reserved: 0,
    };
    assert_eq!(
        pin.write_irp(&header(12, 12, 0), &buffer),
        Err(WriteError::Header(HeaderError::ZeroDenominator))
    );
    // DataUsed beyond FrameExtent: the record inside both is kept, the fault reported.
    let report = pin.write_irp(&header(24, 12, 1), &buffer).expect("write");
    assert_eq!(report.records, 1);
    assert_eq!(
        report.error,
        Some(UnpackError::DataUsedBeyondFrameExtent {
            data_used: 24,
            frame_extent: 12
        })
    );
    // The master clock runs while the pin is paused.
    let stream = pin.query_stream(&IID_IMXF).expect("IMXF") as *mut Stream;
    let clock = stream_of(stream).clock;
    // SAFETY: the port's master clock, held by the stream.
    let table = unsafe { vtable::<IMasterClockVtbl>(clock.cast()) };
    let mut before = 0_i64;
    // SAFETY: GetTime with a writable out pointer at PASSIVE_LEVEL.
    unsafe { (table.GetTime)(clock, &raw mut before) };
    machine.run_for(ms(7));
    let mut after = 0_i64;
    // SAFETY: as above.
    unsafe { (table.GetTime)(clock, &raw mut after) };
    assert_eq!(after - before, i64::try_from(ms(7)).unwrap());
    assert!(
        renders().is_empty(),
        "paused: held, 3 ms presentation time not reached"
    );
    pin.set_state(KSSTATE_RUN).expect("RUN");
    machine.run_for(ms(5));
    assert_eq!(renders().len(), 1);
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn power_goes_down_and_up_in_portcls_order() {
    let (machine, device, filter) = setup(Fault::None);
    let adapter = Box::into_raw(Box::new(Adapter {
        vtable: &raw const ADAPTER_VTABLE,
        refs: Cell::new(1),
    }));
    // SAFETY: a live adapter object and the device's FDO, at PASSIVE_LEVEL.
    let status = unsafe {
        dmus_sys::imports::PcRegisterAdapterPowerManagement(adapter.cast(), device.object().cast())
    };
    assert_eq!(status, STATUS_SUCCESS);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    SEEN.with(|s| s.borrow_mut().clear());
    assert_eq!(device.query_power(PowerDeviceD3), Ok(STATUS_SUCCESS));
    device.set_power(PowerDeviceD3).expect("D3");
    assert_eq!(pin.state(), Some(KSSTATE_PAUSE));
    device.set_power(PowerDeviceD0).expect("D0");
    assert_eq!(pin.state(), Some(KSSTATE_RUN));
    let power = |who, state| Seen::Power {
        who,
        state,
        irql: 0,
    };
    assert_eq!(
        seen(),
        [
            power("query", PowerDeviceD3),
            Seen::SetState {
                state: KSSTATE_PAUSE,
                irql: 0
            },
            power("miniport", PowerDeviceD3),
            power("adapter", PowerDeviceD3),
            power("adapter", PowerDeviceD0),
            power("miniport", PowerDeviceD0),
            Seen::SetState {
                state: KSSTATE_RUN,
                irql: 0
            },
        ]
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
    // SAFETY: the test's adapter; the device released its reference at removal.
    let adapter = unsafe { Box::from_raw(adapter) };
    assert_eq!(adapter.refs.get(), 1);
}

#[test]
fn properties_route_through_the_automation_table() {
    let (machine, device, filter) = setup(Fault::None);
    let mut value = [0_u8; 4];
    let get = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOLUME,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    assert_eq!(
        (get.status, get.value_size, i32::from_le_bytes(value)),
        (STATUS_SUCCESS, 4, -600)
    );
    let mut new = (-1200_i32).to_le_bytes();
    let set = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOLUME,
        KSPROPERTY_TYPE_SET,
        &mut [],
        &mut new,
    );
    assert_eq!(set.status, STATUS_SUCCESS);
    let get = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOLUME,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    assert_eq!(i32::from_le_bytes(value), -1200, "{get:?}");
    let missing = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        99,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    assert_eq!(missing.status, STATUS_NOT_FOUND);
    let on_pin = filter.property(
        PropertyTarget::PinFactory(0),
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_VOLUME,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    assert_eq!(
        on_pin.status, STATUS_NOT_FOUND,
        "pin 0 has no automation table"
    );
    let boost = |target| {
        let mut value = [0_u8; 4];
        let result = filter.property(
            target,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_VOLUMEBOOST,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut value,
        );
        (result.status, u32::from_le_bytes(value))
    };
    assert_eq!(
        boost(PropertyTarget::Node(0)),
        (STATUS_SUCCESS, 100),
        "Node names node 0"
    );
    assert_eq!(
        boost(PropertyTarget::Filter).0,
        STATUS_NOT_FOUND,
        "only the node has it"
    );
    assert_eq!(
        boost(PropertyTarget::Node(1)).0,
        STATUS_INVALID_PARAMETER,
        "no node 1"
    );
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn formats_are_checked_against_the_pins_data_ranges() {
    let (machine, device, filter) = setup(Fault::None);
    assert_eq!(
        filter.open_pin(2, PinFormat::DirectMusic).unwrap_err(),
        OpenError::FormatNotSupported
    );
    assert!(matches!(
        filter.open_pin(7, PinFormat::Midi),
        Err(OpenError::Descriptor(_))
    ));
    let pin = filter
        .open_pin(2, PinFormat::Midi)
        .expect("MIDI is in pin 2's ranges");
    assert_eq!(
        filter.open_pin(2, PinFormat::Midi).unwrap_err(),
        OpenError::TooManyInstances
    );
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn an_aggregating_stream_reaches_its_outer() {
    let (machine, device, filter) = setup(Fault::None);
    pass_outer_unknown(true);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    let outer = pin.outer().expect("the port passed an outer IUnknown");
    assert_eq!(
        pin.query_stream(&IID_ISIM_PIN),
        Ok(outer),
        "QueryInterface forwarded to the outer"
    );
    pin.close();
    teardown(&machine, device);
    assert_eq!(machine.findings(), []);
}

#[test]
fn the_same_scenario_gives_the_same_render_log_twice() {
    let run = || {
        let (machine, device, filter) = setup(Fault::None);
        let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
        pin.set_state(KSSTATE_RUN).expect("RUN");
        let irp: Vec<u8> = (0..50_u8)
            .flat_map(|n| ksmusic(u32::from(n % 7), &[0x90, n, 100]))
            .collect();
        pin.write(0, &irp).expect("write");
        machine.run_for(ms(400));
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
        teardown(&machine, device);
        assert_eq!(machine.findings(), []);
        renders()
    };
    let first = run();
    assert_eq!(first.len(), 50);
    assert_eq!(first, run());
}

// ----- wrong miniports: each check fires ------------------------------------------------------

fn render_one_note(
    machine: &Machine,
    filter: Filter,
    format: PinFormat,
    data: &[u8],
) -> wdm_sim::portcls::Pin {
    let pin = filter.open_pin(0, format).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    pin.write(0, data).expect("write");
    machine.run_for(ms(5));
    pin
}

#[test]
fn an_event_returned_twice_is_a_finding() {
    let (machine, device, filter) = setup(Fault::ReturnTwice);
    let pin = render_one_note(
        &machine,
        filter,
        PinFormat::Midi,
        &ksmusic(0, &[0x90, 1, 2]),
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(findings[..], [Finding::EventReturnedTwice { .. }]),
        "{findings:?}"
    );
}

#[test]
fn a_write_to_a_returned_event_is_a_finding() {
    let (machine, device, filter) = setup(Fault::WriteAfterReturn);
    let pin = render_one_note(
        &machine,
        filter,
        PinFormat::Midi,
        &ksmusic(0, &[0x90, 1, 2]),
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::EventUsedAfterReturn { detail, .. }] if detail.starts_with("usChannelGroup")),
        "{findings:?}"
    );
}

#[test]
fn a_stream_holding_events_after_stop_is_a_finding() {
    let (machine, device, filter) = setup(Fault::HoldAfterStop);
    let pin = render_one_note(
        &machine,
        filter,
        PinFormat::Midi,
        &ksmusic(0, &[0x90, 1, 2]),
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[0], Finding::KsStateViolation { detail, .. } if detail.contains("holds 1 event(s) after KSSTATE_STOP")),
        "{findings:?}"
    );
    assert!(
        matches!(&findings[1], Finding::PortContract { detail } if detail.contains("1 event(s) and 0 buffer(s) never returned")),
        "{findings:?}"
    );
    assert_eq!(findings.len(), 2);
}

#[test]
fn closing_a_running_pin_is_a_finding_and_the_port_still_stops_it() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    pin.close();
    assert_eq!(states().last(), Some(&(KSSTATE_STOP, 0)));
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::KsStateViolation { detail, .. }] if detail.starts_with("closed in KSSTATE_RUN")),
        "{findings:?}"
    );
}

#[test]
fn a_stream_that_cannot_stop_is_a_finding() {
    let (machine, device, filter) = setup(Fault::FailsStop);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_ACQUIRE).expect("ACQUIRE");
    pin.set_state(KSSTATE_STOP)
        .expect("the port goes on to STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::KsStateViolation { detail, .. }] if detail.contains("SetState(KSSTATE_STOP) failed")),
        "{findings:?}"
    );
}

#[test]
fn a_miniport_that_keeps_its_port_leaves_references_at_unload() {
    let (machine, device, filter) = setup(Fault::LeakPortReference);
    let _ = filter;
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        findings.iter().any(|f| matches!(
            f,
            Finding::ComReferencesOutstanding {
                kind: "IPortDMus",
                refs: 1,
                ..
            }
        )),
        "{findings:?}"
    );
}

#[test]
fn put_buffer_from_a_miniport_is_a_finding() {
    let (machine, device, filter) = setup(Fault::CallsPutBuffer);
    let sysex = [0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7, 0, 0, 0, 0, 0, 0];
    let data = dmus_record(0, 1, false, &sysex[..10]);
    let pin = render_one_note(&machine, filter, PinFormat::DirectMusic, &data);
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::PortContract { detail }] if detail.contains("miniports do not call PutBuffer")),
        "{findings:?}"
    );
}

#[test]
fn an_intersection_of_another_subtype_refuses_the_pin() {
    let (machine, device, filter) = setup(Fault::IntersectsWrongSubtype);
    assert_eq!(
        filter.open_pin(0, PinFormat::Midi).unwrap_err(),
        OpenError::FormatNotSupported
    );
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[..], [Finding::PortContract { detail }] if detail.contains("another subtype")),
        "{findings:?}"
    );
}

#[test]
fn a_device_stopped_under_an_open_pin_is_a_finding_and_nothing_leaks() {
    let (machine, device, filter) = setup(Fault::None);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    pin.write(0, &ksmusic(50, &[0x90, 1, 2])).expect("write");
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[0], Finding::PortContract { detail } if detail.contains("stopped with pin")),
        "{findings:?}"
    );
    assert!(
        matches!(&findings[1], Finding::KsStateViolation { detail, .. } if detail.starts_with("closed in KSSTATE_RUN")),
        "{findings:?}"
    );
    assert_eq!(findings.len(), 2, "{findings:?}");
}

#[test]
fn a_stream_keeping_its_outer_is_a_finding() {
    let (machine, device, filter) = setup(Fault::KeepsOuterReference);
    pass_outer_unknown(true);
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.close();
    teardown(&machine, device);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[0], Finding::PortContract { detail } if detail.contains("outer IUnknown has 2 reference(s)")),
        "{findings:?}"
    );
    assert!(
        findings.iter().any(|f| matches!(
            f,
            Finding::ComReferencesOutstanding {
                kind: "IUnknown (pin outer)",
                ..
            }
        )),
        "{findings:?}"
    );
}
