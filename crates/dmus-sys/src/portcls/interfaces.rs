//! PortCls COM interfaces (portcls.h, `DECLARE_INTERFACE_` blocks; method order as declared,
//! checked against mingw-w64 ddk/portcls.h and ReactOS sdk/include/ddk/portcls.h).

use super::PCFILTER_DESCRIPTOR;
use crate::com::{IUnknownVtbl, PUNKNOWN};
use crate::kernel::{
    ACCESS_MASK, BOOLEAN, CM_RESOURCE_TYPE, DEVICE_REGISTRY_PROPERTY, NTSTATUS,
    PCM_PARTIAL_RESOURCE_DESCRIPTOR, PCM_RESOURCE_LIST, PDEVICE_CAPABILITIES, PDEVICE_OBJECT, PIRP,
    PKINTERRUPT, POBJECT_ATTRIBUTES, POWER_STATE, PUNICODE_STRING, PVOID,
};
use crate::ks::PKSDATARANGE;

/// Declares `#[repr(C)] struct $name { lpVtbl: *const $vtbl }` and its pointer alias.
macro_rules! interface {
    ($(#[$doc:meta])* $name:ident, $vtbl:ident, $ptr:ident) => {
        $(#[$doc])*
        #[repr(C)]
        pub struct $name {
            /// The vtable.
            pub lpVtbl: *const $vtbl,
        }
        #[doc = concat!("`", stringify!($ptr), "`.")]
        pub type $ptr = *mut $name;
        $crate::pin_layout!($name, "DECLARE_INTERFACE_: one vtable pointer", size (4, 8), align (4, 8), {
            lpVtbl: (0, 0),
        });
    };
}
pub(crate) use interface;

interface!(
    /// `IResourceList`: the resources PnP assigned to the adapter.
    IResourceList, IResourceListVtbl, PRESOURCELIST
);

/// `IResourceList`'s vtable.
#[repr(C)]
pub struct IResourceListVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `ULONG NumberOfEntries()`.
    pub NumberOfEntries: unsafe extern "system" fn(This: *mut IResourceList) -> u32,
    /// `ULONG NumberOfEntriesOfType(CM_RESOURCE_TYPE)`.
    pub NumberOfEntriesOfType:
        unsafe extern "system" fn(This: *mut IResourceList, Type: CM_RESOURCE_TYPE) -> u32,
    /// `PCM_PARTIAL_RESOURCE_DESCRIPTOR FindTranslatedEntry(CM_RESOURCE_TYPE, ULONG Index)`.
    pub FindTranslatedEntry: unsafe extern "system" fn(
        This: *mut IResourceList,
        Type: CM_RESOURCE_TYPE,
        Index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    /// `PCM_PARTIAL_RESOURCE_DESCRIPTOR FindUntranslatedEntry(CM_RESOURCE_TYPE, ULONG Index)`.
    pub FindUntranslatedEntry: unsafe extern "system" fn(
        This: *mut IResourceList,
        Type: CM_RESOURCE_TYPE,
        Index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    /// `NTSTATUS AddEntry(Translated, Untranslated)`.
    pub AddEntry: unsafe extern "system" fn(
        This: *mut IResourceList,
        Translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
        Untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> NTSTATUS,
    /// `NTSTATUS AddEntryFromParent(IResourceList* Parent, CM_RESOURCE_TYPE, ULONG Index)`.
    pub AddEntryFromParent: unsafe extern "system" fn(
        This: *mut IResourceList,
        Parent: *mut IResourceList,
        Type: CM_RESOURCE_TYPE,
        Index: u32,
    ) -> NTSTATUS,
    /// `PCM_RESOURCE_LIST TranslatedList()`.
    pub TranslatedList: unsafe extern "system" fn(This: *mut IResourceList) -> PCM_RESOURCE_LIST,
    /// `PCM_RESOURCE_LIST UntranslatedList()`.
    pub UntranslatedList: unsafe extern "system" fn(This: *mut IResourceList) -> PCM_RESOURCE_LIST,
}

interface!(
    /// `IServiceSink`: something a service group calls back.
    IServiceSink, IServiceSinkVtbl, PSERVICESINK
);

/// `IServiceSink`'s vtable.
#[repr(C)]
pub struct IServiceSinkVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `void RequestService()`: called at DISPATCH_LEVEL.
    pub RequestService: unsafe extern "system" fn(This: *mut IServiceSink),
}

interface!(
    /// `IServiceGroup` (derives `IServiceSink`): fans a service request out to its members.
    IServiceGroup, IServiceGroupVtbl, PSERVICEGROUP
);

/// `IServiceGroup`'s vtable.
#[repr(C)]
pub struct IServiceGroupVtbl {
    /// `IServiceSink`.
    pub base: IServiceSinkVtbl,
    /// `NTSTATUS AddMember(PSERVICESINK)`.
    pub AddMember:
        unsafe extern "system" fn(This: *mut IServiceGroup, ServiceSink: PSERVICESINK) -> NTSTATUS,
    /// `void RemoveMember(PSERVICESINK)`.
    pub RemoveMember:
        unsafe extern "system" fn(This: *mut IServiceGroup, ServiceSink: PSERVICESINK),
    /// `void SupportDelayedService()`.
    pub SupportDelayedService: unsafe extern "system" fn(This: *mut IServiceGroup),
    /// `void RequestDelayedService(ULONGLONG ullDelay)`: delay in 100 ns units (negative =
    /// relative, as `KeSetTimer`).
    pub RequestDelayedService: unsafe extern "system" fn(This: *mut IServiceGroup, ullDelay: u64),
    /// `void CancelDelayedService()`.
    pub CancelDelayedService: unsafe extern "system" fn(This: *mut IServiceGroup),
}

/// `INTERRUPTSYNCMODE` (portcls.h enum), for `PcNewInterruptSync`.
pub type INTERRUPTSYNCMODE = i32;
/// `InterruptSyncModeNormal`: call routines in order until one returns success.
pub const InterruptSyncModeNormal: INTERRUPTSYNCMODE = 1;
/// `InterruptSyncModeAll`: call every routine once.
pub const InterruptSyncModeAll: INTERRUPTSYNCMODE = 2;
/// `InterruptSyncModeRepeat`: repeat the list until every routine fails.
pub const InterruptSyncModeRepeat: INTERRUPTSYNCMODE = 3;

/// `PINTERRUPTSYNCROUTINE` (portcls.h): an ISR or synchronized routine; runs at DIRQL with the
/// interrupt spin lock held.
pub type PINTERRUPTSYNCROUTINE = Option<
    unsafe extern "system" fn(
        InterruptSync: *mut IInterruptSync,
        DynamicContext: PVOID,
    ) -> NTSTATUS,
>;

interface!(
    /// `IInterruptSync`: PortCls' interrupt object.
    IInterruptSync, IInterruptSyncVtbl, PINTERRUPTSYNC
);

/// `IInterruptSync`'s vtable.
#[repr(C)]
pub struct IInterruptSyncVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS CallSynchronizedRoutine(PINTERRUPTSYNCROUTINE, PVOID)`.
    pub CallSynchronizedRoutine: unsafe extern "system" fn(
        This: *mut IInterruptSync,
        Routine: PINTERRUPTSYNCROUTINE,
        DynamicContext: PVOID,
    ) -> NTSTATUS,
    /// `PKINTERRUPT GetKInterrupt()`.
    pub GetKInterrupt: unsafe extern "system" fn(This: *mut IInterruptSync) -> PKINTERRUPT,
    /// `NTSTATUS Connect()`.
    pub Connect: unsafe extern "system" fn(This: *mut IInterruptSync) -> NTSTATUS,
    /// `void Disconnect()`.
    pub Disconnect: unsafe extern "system" fn(This: *mut IInterruptSync),
    /// `NTSTATUS RegisterServiceRoutine(PINTERRUPTSYNCROUTINE, PVOID, BOOLEAN First)`.
    pub RegisterServiceRoutine: unsafe extern "system" fn(
        This: *mut IInterruptSync,
        Routine: PINTERRUPTSYNCROUTINE,
        DynamicContext: PVOID,
        First: BOOLEAN,
    ) -> NTSTATUS,
}

interface!(
    /// `IRegistryKey`: a registry key PortCls opens for the driver (`IPort::NewRegistryKey`).
    IRegistryKey, IRegistryKeyVtbl, PREGISTRYKEY
);

/// `KEY_INFORMATION_CLASS` / `KEY_VALUE_INFORMATION_CLASS` (wdm.h enums).
pub type KEY_INFORMATION_CLASS = i32;
/// `KEY_VALUE_INFORMATION_CLASS` (wdm.h enum).
pub type KEY_VALUE_INFORMATION_CLASS = i32;

/// `IRegistryKey`'s vtable (portcls.h).
#[repr(C)]
pub struct IRegistryKeyVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS QueryKey(KEY_INFORMATION_CLASS, PVOID, ULONG, PULONG)`.
    pub QueryKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        KeyInformationClass: KEY_INFORMATION_CLASS,
        KeyInformation: PVOID,
        Length: u32,
        ResultLength: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS EnumerateKey(ULONG, KEY_INFORMATION_CLASS, PVOID, ULONG, PULONG)`.
    pub EnumerateKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        Index: u32,
        KeyInformationClass: KEY_INFORMATION_CLASS,
        KeyInformation: PVOID,
        Length: u32,
        ResultLength: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS QueryValueKey(PUNICODE_STRING, KEY_VALUE_INFORMATION_CLASS, PVOID, ULONG, PULONG)`.
    pub QueryValueKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        ValueName: PUNICODE_STRING,
        KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
        KeyValueInformation: PVOID,
        Length: u32,
        ResultLength: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS EnumerateValueKey(ULONG, KEY_VALUE_INFORMATION_CLASS, PVOID, ULONG, PULONG)`.
    pub EnumerateValueKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        Index: u32,
        KeyValueInformationClass: KEY_VALUE_INFORMATION_CLASS,
        KeyValueInformation: PVOID,
        Length: u32,
        ResultLength: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS SetValueKey(PUNICODE_STRING, ULONG Type, PVOID, ULONG)`.
    pub SetValueKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        ValueName: PUNICODE_STRING,
        Type: u32,
        Data: PVOID,
        DataSize: u32,
    ) -> NTSTATUS,
    /// `NTSTATUS QueryRegistryValues(PRTL_QUERY_REGISTRY_TABLE, PVOID)`.
    pub QueryRegistryValues: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        QueryTable: PVOID,
        Context: PVOID,
    ) -> NTSTATUS,
    /// `NTSTATUS NewSubKey(IRegistryKey**, PUNKNOWN, ACCESS_MASK, PUNICODE_STRING, ULONG, PULONG)`.
    pub NewSubKey: unsafe extern "system" fn(
        This: *mut IRegistryKey,
        RegistrySubKey: *mut PREGISTRYKEY,
        OuterUnknown: PUNKNOWN,
        DesiredAccess: ACCESS_MASK,
        SubKeyName: PUNICODE_STRING,
        CreateOptions: u32,
        Disposition: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS DeleteKey()`.
    pub DeleteKey: unsafe extern "system" fn(This: *mut IRegistryKey) -> NTSTATUS,
}

interface!(
    /// `IPort`: the port driver's upper interface.
    IPort, IPortVtbl, PPORT
);

/// `IPort`'s vtable (`DEFINE_ABSTRACT_PORT`).
#[repr(C)]
pub struct IPortVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS Init(PDEVICE_OBJECT, PIRP, PUNKNOWN Miniport, PUNKNOWN Adapter, PRESOURCELIST)`.
    pub Init: unsafe extern "system" fn(
        This: *mut IPort,
        DeviceObject: PDEVICE_OBJECT,
        Irp: PIRP,
        UnknownMiniport: PUNKNOWN,
        UnknownAdapter: PUNKNOWN,
        ResourceList: PRESOURCELIST,
    ) -> NTSTATUS,
    /// `NTSTATUS GetDeviceProperty(DEVICE_REGISTRY_PROPERTY, ULONG, PVOID, PULONG)`.
    pub GetDeviceProperty: unsafe extern "system" fn(
        This: *mut IPort,
        DeviceProperty: DEVICE_REGISTRY_PROPERTY,
        BufferLength: u32,
        PropertyBuffer: PVOID,
        ResultLength: *mut u32,
    ) -> NTSTATUS,
    /// `NTSTATUS NewRegistryKey(PREGISTRYKEY*, PUNKNOWN, ULONG, ACCESS_MASK, POBJECT_ATTRIBUTES,
    /// ULONG, PULONG)`.
    pub NewRegistryKey: unsafe extern "system" fn(
        This: *mut IPort,
        OutRegistryKey: *mut PREGISTRYKEY,
        OuterUnknown: PUNKNOWN,
        RegistryKeyType: u32,
        DesiredAccess: ACCESS_MASK,
        ObjectAttributes: POBJECT_ATTRIBUTES,
        CreateOptions: u32,
        Disposition: *mut u32,
    ) -> NTSTATUS,
}

interface!(
    /// `IMiniport`: the miniport's base interface.
    IMiniport, IMiniportVtbl, PMINIPORT
);

/// `IMiniport`'s vtable (`DEFINE_ABSTRACT_MINIPORT`).
#[repr(C)]
pub struct IMiniportVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `NTSTATUS GetDescription(PPCFILTER_DESCRIPTOR* Description)`.
    pub GetDescription: unsafe extern "system" fn(
        This: *mut IMiniport,
        Description: *mut *mut PCFILTER_DESCRIPTOR,
    ) -> NTSTATUS,
    /// `NTSTATUS DataRangeIntersection(ULONG PinId, PKSDATARANGE, PKSDATARANGE Matching, ULONG
    /// OutputBufferLength, PVOID ResultantFormat, PULONG ResultantFormatLength)`.
    pub DataRangeIntersection: unsafe extern "system" fn(
        This: *mut IMiniport,
        PinId: u32,
        DataRange: PKSDATARANGE,
        MatchingDataRange: PKSDATARANGE,
        OutputBufferLength: u32,
        ResultantFormat: PVOID,
        ResultantFormatLength: *mut u32,
    ) -> NTSTATUS,
}

interface!(
    /// `IAdapterPowerManagement`: the adapter's power callbacks.
    IAdapterPowerManagement, IAdapterPowerManagementVtbl, PADAPTERPOWERMANAGEMENT
);

/// `IAdapterPowerManagement`'s vtable.
#[repr(C)]
pub struct IAdapterPowerManagementVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `void PowerChangeState(POWER_STATE)`.
    pub PowerChangeState:
        unsafe extern "system" fn(This: *mut IAdapterPowerManagement, NewState: POWER_STATE),
    /// `NTSTATUS QueryPowerChangeState(POWER_STATE)`.
    pub QueryPowerChangeState: unsafe extern "system" fn(
        This: *mut IAdapterPowerManagement,
        NewStateQuery: POWER_STATE,
    ) -> NTSTATUS,
    /// `NTSTATUS QueryDeviceCapabilities(PDEVICE_CAPABILITIES)`.
    pub QueryDeviceCapabilities: unsafe extern "system" fn(
        This: *mut IAdapterPowerManagement,
        PowerDeviceCaps: PDEVICE_CAPABILITIES,
    ) -> NTSTATUS,
}

interface!(
    /// `IPowerNotify`: a miniport's power-change callback.
    IPowerNotify, IPowerNotifyVtbl, PPOWERNOTIFY
);

/// `IPowerNotify`'s vtable.
#[repr(C)]
pub struct IPowerNotifyVtbl {
    /// `IUnknown`.
    pub base: IUnknownVtbl,
    /// `void PowerChangeNotify(POWER_STATE)`.
    pub PowerChangeNotify:
        unsafe extern "system" fn(This: *mut IPowerNotify, PowerState: POWER_STATE),
}

/// `PCPFNSTARTDEVICE` (portcls.h): the adapter's StartDevice, called by PortCls at
/// PASSIVE_LEVEL on IRP_MN_START_DEVICE.
pub type PCPFNSTARTDEVICE = Option<
    unsafe extern "system" fn(
        DeviceObject: PDEVICE_OBJECT,
        Irp: PIRP,
        ResourceList: PRESOURCELIST,
    ) -> NTSTATUS,
>;
