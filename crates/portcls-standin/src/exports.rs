//! The functions rdmus.sys imports from portcls.sys, under their portcls.h names.
#![allow(non_snake_case, reason = "portcls.h's names and argument spellings")]

use dmus_sys::com::PUNKNOWN;
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    DRIVER_OBJECT, NTSTATUS, PDEVICE_OBJECT, PDRIVER_ADD_DEVICE, PDRIVER_OBJECT, PUNICODE_STRING,
    STATUS_INVALID_PARAMETER, STATUS_NOT_IMPLEMENTED, STATUS_SUCCESS,
};
use dmus_sys::portcls::{
    INTERRUPTSYNCMODE, PCPFNSTARTDEVICE, PINTERRUPTSYNC, PPORT, PRESOURCELIST, PSERVICEGROUP,
};

use crate::adapter_driver;

/// `PcInitializeAdapterDriver`: from the adapter's DriverEntry, PASSIVE_LEVEL. Records the
/// driver object and AddDevice, installs AddDevice in the driver extension (as PortCls does)
/// and PortCls' unload routine.
///
/// # Safety
/// `DriverObject` is the caller's live driver object (DriverEntry's own).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcInitializeAdapterDriver(
    DriverObject: PDRIVER_OBJECT,
    _RegistryPathName: PUNICODE_STRING,
    AddDevice: PDRIVER_ADD_DEVICE,
) -> NTSTATUS {
    if DriverObject.is_null() || AddDevice.is_none() {
        return STATUS_INVALID_PARAMETER;
    }
    adapter_driver::record(DriverObject, AddDevice);
    // SAFETY: DriverEntry's driver object, which the caller owns until DriverEntry returns
    // and nothing else touches meanwhile. PASSIVE_LEVEL.
    let extension = unsafe { (*DriverObject).DriverExtension };
    if !extension.is_null() {
        // SAFETY: the I/O manager's extension of that driver object; as above.
        unsafe { (*extension).AddDevice = AddDevice };
    }
    // SAFETY: as above.
    unsafe { (*DriverObject).DriverUnload = Some(portcls_unload) };
    STATUS_SUCCESS
}

/// PortCls' unload routine: the adapter driver's unload calls it last. PASSIVE_LEVEL.
unsafe extern "system" fn portcls_unload(_driver: *mut DRIVER_OBJECT) {
    adapter_driver::forget();
}

/// `PcAddAdapterDevice`: from AddDevice, PASSIVE_LEVEL.
///
/// # Safety
/// The arguments are AddDevice's own.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcAddAdapterDevice(
    _DriverObject: PDRIVER_OBJECT,
    _PhysicalDeviceObject: PDEVICE_OBJECT,
    _StartDevice: PCPFNSTARTDEVICE,
    _MaxObjects: u32,
    _DeviceExtensionSize: u32,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}

/// `PcNewPort`: PASSIVE_LEVEL.
///
/// # Safety
/// `OutPort` is writable, `ClassId` readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewPort(_OutPort: *mut PPORT, _ClassId: *const GUID) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}

/// `PcRegisterSubdevice`: PASSIVE_LEVEL.
///
/// # Safety
/// `Name` is NUL-terminated UTF-16 and `Unknown` a live port.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcRegisterSubdevice(
    _DeviceObject: PDEVICE_OBJECT,
    _Name: *const u16,
    _Unknown: PUNKNOWN,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}

/// `PcNewServiceGroup`: PASSIVE_LEVEL.
///
/// # Safety
/// `OutServiceGroup` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewServiceGroup(
    _OutServiceGroup: *mut PSERVICEGROUP,
    _OuterUnknown: PUNKNOWN,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}

/// `PcNewInterruptSync`: PASSIVE_LEVEL.
///
/// # Safety
/// `OutInterruptSync` is writable and `ResourceList` a live resource list.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewInterruptSync(
    _OutInterruptSync: *mut PINTERRUPTSYNC,
    _OuterUnknown: PUNKNOWN,
    _ResourceList: PRESOURCELIST,
    _ResourceIndex: u32,
    _Mode: INTERRUPTSYNCMODE,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}
