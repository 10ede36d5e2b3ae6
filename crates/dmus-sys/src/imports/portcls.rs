//! portcls.sys imports (portcls.h `PORTCLASSAPI` declarations).

use crate::com::PUNKNOWN;
use crate::guid::GUID;
use crate::kernel::{
    NTSTATUS, PDEVICE_OBJECT, PDRIVER_ADD_DEVICE, PDRIVER_OBJECT, PIRP, POOL_TYPE, PUNICODE_STRING,
    PVOID,
};
use crate::portcls::{
    INTERRUPTSYNCMODE, PCPFNSTARTDEVICE, PINTERRUPTSYNC, PPORT, PRESOURCELIST, PSERVICEGROUP,
};

#[cfg_attr(
    all(target_os = "windows", not(target_arch = "x86")),
    link(name = "portcls.sys", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "portcls.sys",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
unsafe extern "system" {
    /// `PcInitializeAdapterDriver`: from DriverEntry, PASSIVE_LEVEL; installs PortCls' IRP
    /// dispatch and `AddDevice`.
    pub fn PcInitializeAdapterDriver(
        DriverObject: PDRIVER_OBJECT,
        RegistryPathName: PUNICODE_STRING,
        AddDevice: PDRIVER_ADD_DEVICE,
    ) -> NTSTATUS;
    /// `PcAddAdapterDevice`: from AddDevice, PASSIVE_LEVEL.
    pub fn PcAddAdapterDevice(
        DriverObject: PDRIVER_OBJECT,
        PhysicalDeviceObject: PDEVICE_OBJECT,
        StartDevice: PCPFNSTARTDEVICE,
        MaxObjects: u32,
        DeviceExtensionSize: u32,
    ) -> NTSTATUS;
    /// `PcNewPort`: PASSIVE_LEVEL.
    pub fn PcNewPort(OutPort: *mut PPORT, ClassId: *const GUID) -> NTSTATUS;
    /// `PcRegisterSubdevice`: PASSIVE_LEVEL; `Name` is a NUL-terminated UTF-16 string.
    pub fn PcRegisterSubdevice(
        DeviceObject: PDEVICE_OBJECT,
        Name: *const u16,
        Unknown: PUNKNOWN,
    ) -> NTSTATUS;
    /// `PcNewServiceGroup`: PASSIVE_LEVEL.
    pub fn PcNewServiceGroup(
        OutServiceGroup: *mut PSERVICEGROUP,
        OuterUnknown: PUNKNOWN,
    ) -> NTSTATUS;
    /// `PcNewInterruptSync`: PASSIVE_LEVEL.
    pub fn PcNewInterruptSync(
        OutInterruptSync: *mut PINTERRUPTSYNC,
        OuterUnknown: PUNKNOWN,
        ResourceList: PRESOURCELIST,
        ResourceIndex: u32,
        Mode: INTERRUPTSYNCMODE,
    ) -> NTSTATUS;
    /// `PcRegisterPhysicalConnection`: PASSIVE_LEVEL.
    pub fn PcRegisterPhysicalConnection(
        DeviceObject: PDEVICE_OBJECT,
        FromUnknown: PUNKNOWN,
        FromPin: u32,
        ToUnknown: PUNKNOWN,
        ToPin: u32,
    ) -> NTSTATUS;
    /// `PcDispatchIrp`: hands an IRP to PortCls.
    pub fn PcDispatchIrp(DeviceObject: PDEVICE_OBJECT, Irp: PIRP) -> NTSTATUS;
    /// `PcGetTimeInterval`: 100 ns units elapsed since `Since` (a previous return of
    /// `PcGetTimeInterval(0)`).
    pub fn PcGetTimeInterval(Since: u64) -> u64;
    /// `PcRegisterAdapterPowerManagement`: PASSIVE_LEVEL; `pvContext1` is the FDO.
    pub fn PcRegisterAdapterPowerManagement(Unknown: PUNKNOWN, pvContext1: PVOID) -> NTSTATUS;
    /// `PcNewResourceSublist`: PASSIVE_LEVEL.
    pub fn PcNewResourceSublist(
        OutResourceList: *mut PRESOURCELIST,
        OuterUnknown: PUNKNOWN,
        PoolType: POOL_TYPE,
        ParentList: PRESOURCELIST,
        MaximumEntries: u32,
    ) -> NTSTATUS;
}
