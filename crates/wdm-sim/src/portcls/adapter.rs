//! The adapter driver's side of portcls.sys: `PcInitializeAdapterDriver`, `PcAddAdapterDevice`,
//! `PcRegisterSubdevice`, `PcRegisterPhysicalConnection`, `PcRegisterAdapterPowerManagement`,
//! `PcDispatchIrp`, and the driver and device objects the simulation lays out for them.
//!
//! The simulation drives `PnP` and `KS` through its test API ([`super::api`]) rather than through
//! IRPs: `PortCls`' dispatch routines, installed in the driver object as Windows does, refuse
//! any IRP sent to them.

use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{
    DEVICE_OBJECT, DO_DEVICE_INITIALIZING, DRIVER_EXTENSION, DRIVER_OBJECT, FILE_DEVICE_KS,
    IRP_MJ_MAXIMUM_FUNCTION, NTSTATUS, PASSIVE_LEVEL, PDEVICE_OBJECT, PDRIVER_ADD_DEVICE,
    PDRIVER_OBJECT, PIRP, PUNICODE_STRING, PVOID, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::portcls::{IID_IAdapterPowerManagement, PCPFNSTARTDEVICE};

use super::objects::{add_ref_object, query_foreign, release_foreign};
use super::state::{AdapterRegistration, DeviceRecord};
use crate::current::with_state;
use crate::finding::Finding;

/// `IO_TYPE_DEVICE` (the `Type` of a `DEVICE_OBJECT`).
const IO_TYPE_DEVICE: i16 = 3;
/// `IO_TYPE_DRIVER` (the `Type` of a `DRIVER_OBJECT`).
const IO_TYPE_DRIVER: i16 = 4;
/// The longest subdevice name the port reads (UTF-16 units).
const MAX_NAME: usize = 256;

/// Zeroed, 16-byte-aligned memory for a kernel object the simulation lays out.
#[derive(Debug)]
pub struct ObjectMemory {
    words: Box<[u128]>,
}

impl ObjectMemory {
    /// `bytes` zeroed bytes (at least one word).
    #[must_use]
    pub fn zeroed(bytes: usize) -> Self {
        // The kernel's object, even when the driver's call made it: the host's memory.
        let _kernel = crate::current::KernelCode::enter();
        Self {
            words: alloc::vec![0; bytes.div_ceil(16).max(1)].into_boxed_slice(),
        }
    }

    /// The memory as a `T` (the caller keeps within its size).
    #[must_use]
    pub fn as_ptr<T>(&self) -> *mut T {
        self.words.as_ptr().cast_mut().cast()
    }
}

/// A driver object with its extension, laid out as the I/O manager does before `DriverEntry`.
#[derive(Debug)]
pub struct DriverMemory {
    object: ObjectMemory,
    extension: ObjectMemory,
}

impl DriverMemory {
    /// A fresh driver object.
    #[must_use]
    pub fn new() -> Self {
        let memory = Self {
            object: ObjectMemory::zeroed(size_of::<DRIVER_OBJECT>()),
            extension: ObjectMemory::zeroed(size_of::<DRIVER_EXTENSION>()),
        };
        let driver = memory.object.as_ptr::<DRIVER_OBJECT>();
        let extension = memory.extension.as_ptr::<DRIVER_EXTENSION>();
        // SAFETY: both blocks are zeroed (a valid DRIVER_OBJECT / DRIVER_EXTENSION: integers,
        // null pointers, None routines), aligned and large enough for their types (sized
        // above); nothing else refers to them yet.
        let mut object = unsafe { driver.read() };
        object.Type = IO_TYPE_DRIVER;
        object.Size = i16::try_from(size_of::<DRIVER_OBJECT>()).unwrap_or(i16::MAX);
        object.DriverExtension = extension;
        // SAFETY: as above.
        unsafe { driver.write(object) };
        // SAFETY: as above.
        let mut ext = unsafe { extension.read() };
        ext.DriverObject = driver;
        // SAFETY: as above.
        unsafe { extension.write(ext) };
        memory
    }

    /// The `DRIVER_OBJECT`.
    #[must_use]
    pub fn driver(&self) -> PDRIVER_OBJECT {
        self.object.as_ptr()
    }
}

impl Default for DriverMemory {
    fn default() -> Self {
        Self::new()
    }
}

/// `PortCls`' dispatch routine for every IRP major function: the simulation sends no IRPs
/// through the table, so any that arrives is refused.
unsafe extern "system" fn portcls_dispatch(device: *mut DEVICE_OBJECT, irp: PIRP) -> NTSTATUS {
    let _ = (device, irp);
    STATUS_INVALID_DEVICE_REQUEST
}

/// `PortCls`' unload routine, which the driver's own unload calls last: every device must be
/// gone by then.
unsafe extern "system" fn portcls_unload(driver: *mut DRIVER_OBJECT) {
    const CALL: &str = "PortCls DriverUnload";
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        let left = m
            .portcls
            .devices
            .values()
            .filter(|d| d.driver_object == driver as usize)
            .count();
        if left > 0 {
            m.report_port_contract(format!(
                "driver {:#x} unloaded with {left} device(s) not removed",
                driver as usize
            ));
        }
        m.portcls
            .adapters
            .retain(|a| a.driver_object != driver as usize);
    });
}

/// `PcInitializeAdapterDriver`: installs `PortCls`' dispatch table, unload routine and the
/// adapter's `AddDevice`. `PASSIVE_LEVEL` (from `DriverEntry`).
///
/// # Safety
/// `DriverObject` is NULL (a finding) or the driver object `DriverEntry` was given.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcInitializeAdapterDriver(
    DriverObject: PDRIVER_OBJECT,
    RegistryPathName: PUNICODE_STRING,
    AddDevice: PDRIVER_ADD_DEVICE,
) -> NTSTATUS {
    const CALL: &str = "PcInitializeAdapterDriver";
    let _ = RegistryPathName;
    let ok = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if DriverObject.is_null() || AddDevice.is_none() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "DriverObject/AddDevice",
            });
            return false;
        }
        m.portcls.adapters.push(AdapterRegistration {
            driver_object: DriverObject as usize,
            add_device: AddDevice.map_or(0, |f| f as usize),
        });
        true
    });
    if !ok {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: the driver object DriverEntry was given (caller's contract), at PASSIVE_LEVEL
    // before any other routine of the driver runs.
    let mut driver = unsafe { DriverObject.read() };
    driver.MajorFunction = [Some(portcls_dispatch); IRP_MJ_MAXIMUM_FUNCTION + 1];
    driver.DriverUnload = Some(portcls_unload);
    // SAFETY: as above.
    unsafe { DriverObject.write(driver) };
    let extension = driver.DriverExtension;
    if !extension.is_null() {
        // SAFETY: the I/O manager's driver extension of that driver object.
        let mut ext = unsafe { extension.read() };
        ext.AddDevice = AddDevice;
        // SAFETY: as above.
        unsafe { extension.write(ext) };
    }
    STATUS_SUCCESS
}

/// `PcAddAdapterDevice`: creates the adapter's functional device object (`FILE_DEVICE_KS`)
/// on top of `PhysicalDeviceObject` and remembers `StartDevice`. `PASSIVE_LEVEL`.
///
/// # Safety
/// `DriverObject` and `PhysicalDeviceObject` are NULL (a finding) or live objects.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcAddAdapterDevice(
    DriverObject: PDRIVER_OBJECT,
    PhysicalDeviceObject: PDEVICE_OBJECT,
    StartDevice: PCPFNSTARTDEVICE,
    MaxObjects: u32,
    DeviceExtensionSize: u32,
) -> NTSTATUS {
    const CALL: &str = "PcAddAdapterDevice";
    let ok = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if DriverObject.is_null() || PhysicalDeviceObject.is_null() || StartDevice.is_none() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "DriverObject/PhysicalDeviceObject/StartDevice",
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if m.pool.inject_failure() {
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        Ok(())
    });
    if let Err(status) = ok {
        return status;
    }
    let memory = ObjectMemory::zeroed(size_of::<DEVICE_OBJECT>());
    let extension = ObjectMemory::zeroed(usize::try_from(DeviceExtensionSize).unwrap_or(0));
    let fdo = memory.as_ptr::<DEVICE_OBJECT>();
    // SAFETY: the driver object is live (caller's contract) and only this thread touches it,
    // at PASSIVE_LEVEL.
    let mut driver = unsafe { DriverObject.read() };
    // SAFETY: a zeroed (valid: integers and null pointers), aligned block of DEVICE_OBJECT's
    // size that nothing else refers to yet.
    let mut device = unsafe { fdo.read() };
    device.Type = IO_TYPE_DEVICE;
    device.Size = u16::try_from(size_of::<DEVICE_OBJECT>()).unwrap_or(u16::MAX);
    device.DriverObject = DriverObject;
    device.NextDevice = driver.DeviceObject;
    device.DeviceExtension = extension.as_ptr();
    device.DeviceType = FILE_DEVICE_KS;
    device.Flags &= !DO_DEVICE_INITIALIZING;
    // SAFETY: as above.
    unsafe { fdo.write(device) };
    driver.DeviceObject = fdo;
    // SAFETY: as above (the driver object).
    unsafe { DriverObject.write(driver) };
    with_state(CALL, |m| {
        m.portcls.devices.insert(
            fdo as usize,
            DeviceRecord {
                driver_object: DriverObject as usize,
                physical_device: PhysicalDeviceObject as usize,
                start_device: StartDevice,
                max_objects: MaxObjects,
                extension_size: DeviceExtensionSize,
                power: dmus_sys::kernel::PowerDeviceD0,
                ..DeviceRecord::default()
            },
        );
        m.portcls
            .device_memory
            .insert(fdo as usize, (memory, extension));
    });
    STATUS_SUCCESS
}

/// Reads a NUL-terminated UTF-16 name of at most [`MAX_NAME`] units.
///
/// # Safety
/// `name` is readable up to its terminator (or [`MAX_NAME`] units).
unsafe fn read_name(name: *const u16) -> Option<String> {
    // PortCls' copy of the name: the host's memory, not the driver's.
    let _kernel = crate::current::KernelCode::enter();
    let mut units = Vec::new();
    for index in 0..MAX_NAME {
        // SAFETY: the caller's contract: readable up to the terminator.
        let unit = unsafe { name.wrapping_add(index).read_unaligned() };
        if unit == 0 {
            return char::decode_utf16(units.iter().copied())
                .collect::<Result<String, _>>()
                .ok();
        }
        units.push(unit);
    }
    None
}

/// `PcRegisterSubdevice`: publishes an initialised port as the filter `Name` of the device.
/// The registration holds a reference on the port until the device stops. `PASSIVE_LEVEL`.
///
/// # Safety
/// `Name` is NULL (a finding) or NUL-terminated; `Unknown` NULL (a finding) or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcRegisterSubdevice(
    DeviceObject: PDEVICE_OBJECT,
    Name: *const u16,
    Unknown: PUNKNOWN,
) -> NTSTATUS {
    const CALL: &str = "PcRegisterSubdevice";
    if Name.is_null() || Unknown.is_null() {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Name/Unknown",
            });
        });
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null and NUL-terminated (caller's contract).
    let Some(name) = (unsafe { read_name(Name) }) else {
        with_state(CALL, |m| {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("the name is not valid UTF-16 of at most {MAX_NAME} units"),
            });
        });
        return STATUS_INVALID_PARAMETER;
    };
    let port = Unknown as usize;
    let status = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        let initialised = m.portcls.ports.get(&port).is_some_and(|p| p.initialised);
        if !initialised {
            m.report_port_contract(format!(
                "{CALL}(\"{name}\"): {port:#x} is not an initialised port (call IPort::Init first)"
            ));
            return STATUS_INVALID_PARAMETER;
        }
        let Some(device) = m.portcls.devices.get_mut(&(DeviceObject as usize)) else {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "{:#x} is no device PcAddAdapterDevice made",
                    DeviceObject as usize
                ),
            });
            return STATUS_INVALID_PARAMETER;
        };
        if device.subdevices.iter().any(|(n, _)| *n == name) {
            return STATUS_INVALID_PARAMETER;
        }
        if device.subdevices.len() >= usize::try_from(device.max_objects).unwrap_or(0) {
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        device.subdevices.push((name, port));
        STATUS_SUCCESS
    });
    if status == STATUS_SUCCESS {
        add_ref_object(port, CALL);
    }
    status
}

/// `PcRegisterPhysicalConnection`: records a connection between two subdevices' pins.
/// `PASSIVE_LEVEL`.
///
/// # Safety
/// The objects are live (or NULL, a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcRegisterPhysicalConnection(
    DeviceObject: PDEVICE_OBJECT,
    FromUnknown: PUNKNOWN,
    FromPin: u32,
    ToUnknown: PUNKNOWN,
    ToPin: u32,
) -> NTSTATUS {
    const CALL: &str = "PcRegisterPhysicalConnection";
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if FromUnknown.is_null() || ToUnknown.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "FromUnknown/ToUnknown",
            });
            return STATUS_INVALID_PARAMETER;
        }
        let Some(device) = m.portcls.devices.get_mut(&(DeviceObject as usize)) else {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "{:#x} is no device PcAddAdapterDevice made",
                    DeviceObject as usize
                ),
            });
            return STATUS_INVALID_PARAMETER;
        };
        device
            .connections
            .push((FromUnknown as usize, FromPin, ToUnknown as usize, ToPin));
        STATUS_SUCCESS
    })
}

/// `PcRegisterAdapterPowerManagement`: keeps the adapter's `IAdapterPowerManagement` (one
/// reference) until the device is removed. `pvContext1` is the device object. `PASSIVE_LEVEL`.
///
/// # Safety
/// `Unknown` is NULL (a finding) or a live object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcRegisterAdapterPowerManagement(
    Unknown: PUNKNOWN,
    pvContext1: PVOID,
) -> NTSTATUS {
    const CALL: &str = "PcRegisterAdapterPowerManagement";
    let known = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if Unknown.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Unknown",
            });
            return false;
        }
        if !m.portcls.devices.contains_key(&(pvContext1 as usize)) {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "pvContext1 {:#x} is no device PcAddAdapterDevice made",
                    pvContext1 as usize
                ),
            });
            return false;
        }
        true
    });
    if !known {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: a live object (caller's contract); PASSIVE_LEVEL.
    let power = match unsafe { query_foreign(Unknown, &IID_IAdapterPowerManagement) } {
        Ok(power) => power as usize,
        Err(status) => return status,
    };
    let old = with_state(CALL, |m| {
        m.portcls
            .devices
            .get_mut(&(pvContext1 as usize))
            .map_or(0, |d| core::mem::replace(&mut d.power_management, power))
    });
    if old != 0 {
        // SAFETY: the reference the device held on the earlier registration.
        unsafe { release_foreign(old as PUNKNOWN) };
    }
    STATUS_SUCCESS
}

/// `PcDispatchIrp`: hands an IRP to `PortCls`. The simulation's own IRPs (start, property)
/// have already been carried out by the time the driver sees them, so passing one on
/// succeeds; an IRP the simulation never issued is a finding.
///
/// # Safety
/// None beyond the kernel's: the IRP is only looked up, never dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcDispatchIrp(DeviceObject: PDEVICE_OBJECT, Irp: PIRP) -> NTSTATUS {
    const CALL: &str = "PcDispatchIrp";
    with_state(CALL, |m| {
        if m.portcls.irps.contains(&(Irp as usize))
            && m.portcls.devices.contains_key(&(DeviceObject as usize))
        {
            STATUS_SUCCESS
        } else {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!(
                    "IRP {:#x} for device {:#x}: no such IRP or device in flight",
                    Irp as usize, DeviceObject as usize
                ),
            });
            STATUS_INVALID_PARAMETER
        }
    })
}
