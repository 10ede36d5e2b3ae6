//! The functions rdmus.sys imports from portcls.sys, under their portcls.h names.
#![allow(non_snake_case, reason = "portcls.h's names and argument spellings")]

use com_object::ComObject;
use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{CLSID_PortDMus, IPortDMus};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    CmResourceTypeInterrupt, DO_DEVICE_INITIALIZING, DRIVER_OBJECT, FILE_DEVICE_KS, NT_SUCCESS,
    NTSTATUS, PDEVICE_OBJECT, PDRIVER_ADD_DEVICE, PDRIVER_OBJECT, PUNICODE_STRING,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
};
use dmus_sys::portcls::{
    IInterruptSync, INTERRUPTSYNCMODE, IServiceGroup, PCPFNSTARTDEVICE, PINTERRUPTSYNC, PPORT,
    PRESOURCELIST, PSERVICEGROUP,
};

use crate::adapter_driver;
use crate::devices::{self, Device};
use crate::kernel::{IoCreateDevice, IoDeleteDevice};
use crate::objects::interrupt::InterruptSync;
use crate::objects::port::Port;
use crate::objects::service::ServiceGroup;

/// `PORT_CLASS_DEVICE_EXTENSION_SIZE` (portcls.h): `64 * sizeof(ULONG_PTR)`, the least
/// extension PortCls gives an adapter's FDO.
pub const PORT_CLASS_DEVICE_EXTENSION_SIZE: u32 = 64 * 8;

/// `PcInitializeAdapterDriver`: from the adapter's DriverEntry, PASSIVE_LEVEL. Records the
/// driver object and AddDevice, installs AddDevice in the driver extension (as PortCls does)
/// and PortCls' unload routine, and starts the job thread (which waits for DriverEntry to
/// return before it plays the PnP manager).
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
    crate::runner::start(DriverObject, portcls_unload);
    STATUS_SUCCESS
}

/// PortCls' unload routine: the adapter driver's unload calls it last. Waits (bounded) for the
/// job thread, so the module is not unmapped under it, and writes the unload accounting.
/// PASSIVE_LEVEL.
unsafe extern "system" fn portcls_unload(_driver: *mut DRIVER_OBJECT) {
    crate::runner::unload();
    adapter_driver::forget();
}

/// `PcAddAdapterDevice`: from AddDevice, PASSIVE_LEVEL. Creates the FDO (a KS device with at
/// least PortCls' extension) and records the adapter's StartDevice for the job's start.
///
/// # Safety
/// The arguments are AddDevice's own.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcAddAdapterDevice(
    DriverObject: PDRIVER_OBJECT,
    PhysicalDeviceObject: PDEVICE_OBJECT,
    StartDevice: PCPFNSTARTDEVICE,
    MaxObjects: u32,
    DeviceExtensionSize: u32,
) -> NTSTATUS {
    if DriverObject.is_null()
        || PhysicalDeviceObject.is_null()
        || StartDevice.is_none()
        || MaxObjects == 0
    {
        return STATUS_INVALID_PARAMETER;
    }
    let extension = DeviceExtensionSize.max(PORT_CLASS_DEVICE_EXTENSION_SIZE);
    let mut fdo: PDEVICE_OBJECT = core::ptr::null_mut();
    // SAFETY: the caller's driver object; an unnamed device; a writable out pointer.
    // PASSIVE_LEVEL.
    let status = unsafe {
        IoCreateDevice(
            DriverObject,
            extension,
            core::ptr::null_mut(),
            FILE_DEVICE_KS,
            0,
            0,
            &raw mut fdo,
        )
    };
    if !NT_SUCCESS(status) {
        return status;
    }
    let recorded = devices::add(Device {
        fdo,
        pdo: PhysicalDeviceObject,
        start: StartDevice,
        subdevices: [core::ptr::null_mut(); 2],
    });
    if !recorded {
        // SAFETY: the device just made, unused. PASSIVE_LEVEL.
        unsafe { IoDeleteDevice(fdo) };
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // SAFETY: the FDO just made, ours until it is published. PASSIVE_LEVEL.
    unsafe { (*fdo).Flags &= !DO_DEVICE_INITIALIZING };
    STATUS_SUCCESS
}

/// `PcNewPort`: PASSIVE_LEVEL. Only the DMus port exists here.
///
/// # Safety
/// `OutPort` is writable, `ClassId` readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewPort(OutPort: *mut PPORT, ClassId: *const GUID) -> NTSTATUS {
    if OutPort.is_null() || ClassId.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: writable (the caller's contract); cleared so a failure hands out nothing.
    unsafe { OutPort.write(core::ptr::null_mut()) };
    // SAFETY: readable (the caller's contract).
    if unsafe { ClassId.read_unaligned() } != CLSID_PortDMus {
        return STATUS_NOT_SUPPORTED;
    }
    match Port::try_new() {
        Ok(port) => {
            // SAFETY: writable; the caller takes the reference.
            unsafe { OutPort.write(port.into_raw::<IPortDMus>().as_ptr().cast()) };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// `PcRegisterSubdevice`: PASSIVE_LEVEL. Keeps a reference on the port until the device is
/// removed (what publishing a KS filter does).
///
/// # Safety
/// `Name` is NUL-terminated UTF-16 and `Unknown` a live port.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcRegisterSubdevice(
    DeviceObject: PDEVICE_OBJECT,
    Name: *const u16,
    Unknown: PUNKNOWN,
) -> NTSTATUS {
    if DeviceObject.is_null() || Name.is_null() || Unknown.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the caller's live object; it stays alive on the reference taken here.
    unsafe { crate::objects::add_ref(Unknown) };
    if devices::register(DeviceObject, Unknown) {
        STATUS_SUCCESS
    } else {
        // SAFETY: the reference just taken.
        unsafe { crate::objects::release(Unknown) };
        STATUS_INVALID_DEVICE_REQUEST
    }
}

/// `PcNewServiceGroup`: PASSIVE_LEVEL.
///
/// # Safety
/// `OutServiceGroup` is writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewServiceGroup(
    OutServiceGroup: *mut PSERVICEGROUP,
    _OuterUnknown: PUNKNOWN,
) -> NTSTATUS {
    if OutServiceGroup.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    match ServiceGroup::try_new() {
        Ok(group) => {
            // SAFETY: writable (the caller's contract); the caller takes the reference.
            unsafe { OutServiceGroup.write(group.into_raw::<IServiceGroup>().as_ptr()) };
            STATUS_SUCCESS
        }
        Err(status) => {
            // SAFETY: as above.
            unsafe { OutServiceGroup.write(core::ptr::null_mut()) };
            status
        }
    }
}

/// `PcNewInterruptSync`: PASSIVE_LEVEL, for the `ResourceIndex`th interrupt of the list.
///
/// # Safety
/// `OutInterruptSync` is writable and `ResourceList` a live resource list.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewInterruptSync(
    OutInterruptSync: *mut PINTERRUPTSYNC,
    _OuterUnknown: PUNKNOWN,
    ResourceList: PRESOURCELIST,
    ResourceIndex: u32,
    Mode: INTERRUPTSYNCMODE,
) -> NTSTATUS {
    if OutInterruptSync.is_null() || ResourceList.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: writable (the caller's contract); cleared so a failure hands out nothing.
    unsafe { OutInterruptSync.write(core::ptr::null_mut()) };
    // SAFETY: the caller's live list; a plain vtable read.
    let vtable = unsafe { com_object::vtable(ResourceList) };
    // SAFETY: FindTranslatedEntry on the live list. PASSIVE_LEVEL.
    let entry = unsafe {
        (vtable.FindTranslatedEntry)(
            ResourceList,
            i32::from(CmResourceTypeInterrupt),
            ResourceIndex,
        )
    };
    if entry.is_null() {
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    match InterruptSync::try_new(Mode) {
        Ok(sync) => {
            // SAFETY: writable; the caller takes the reference.
            unsafe { OutInterruptSync.write(sync.into_raw::<IInterruptSync>().as_ptr()) };
            STATUS_SUCCESS
        }
        Err(status) => status,
    }
}

/// The port behind a registered subdevice's `IUnknown`, if it is a live port PcNewPort made.
///
/// # Safety
/// `unknown` stays alive for `'a` (a registration's reference keeps it).
pub unsafe fn port_of<'a>(unknown: PUNKNOWN) -> Option<&'a ComObject<Port>> {
    if !crate::objects::port::is_port(unknown as usize) {
        return None;
    }
    // SAFETY: one of our live ports, by its IPortDMus pointer (slot 0, the identity); alive
    // for 'a (the caller's contract).
    unsafe { ComObject::<Port>::from_interface(unknown.cast::<IPortDMus>()) }
}
