//! The driver's entry points: DriverEntry, AddDevice, StartDevice, unload.
//!
//! PortCls does the WDM plumbing: `PcInitializeAdapterDriver` installs its IRP
//! dispatch and our AddDevice, `PcAddAdapterDevice` creates the FDO and calls
//! our StartDevice on `IRP_MN_START_DEVICE` with the assigned resources.
//! DriverEntry first finds the kernel routines newer than some Windows rdmus
//! loads on (`kernel_routines.rs`).
//! PortCls also installs its own unload routine; rdmus puts its own in front,
//! releases what it kept, then calls PortCls'.

use core::sync::atomic::{AtomicUsize, Ordering};

use dmus_sys::imports::{
    DPFLTR_ERROR_LEVEL, DPFLTR_INFO_LEVEL, PcAddAdapterDevice, PcInitializeAdapterDriver,
};
use dmus_sys::kernel::{
    DRIVER_OBJECT, NT_SUCCESS, NTSTATUS, PDEVICE_OBJECT, PDRIVER_OBJECT, PDRIVER_UNLOAD, PIRP,
    PUNICODE_STRING, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::portcls::PRESOURCELIST;

use crate::adapter::Adapter;
use crate::trace::trace;

/// The most subdevices (port/miniport pairs) one adapter registers:
/// `PcAddAdapterDevice`'s `MaxObjects`.
pub const MAX_SUBDEVICES_PER_ADAPTER: u32 = 2;

/// PortCls' unload routine, saved by DriverEntry (0 = none); rdmus's unload calls it last.
static PORTCLS_UNLOAD: AtomicUsize = AtomicUsize::new(0);

/// The driver's DriverEntry, PASSIVE_LEVEL: the image exports it under that
/// name (`driver/image/export.rs`), the host tests load it into wdm-sim.
///
/// # Safety
/// Called by the kernel once per load with a valid driver object and registry path.
#[allow(non_snake_case, reason = "the DDK's name for the routine")]
pub unsafe extern "system" fn DriverEntry(
    driver: PDRIVER_OBJECT,
    registry_path: PUNICODE_STRING,
) -> NTSTATUS {
    if driver.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // First: the routines newer than some kernel rdmus loads on, before anything can use them.
    // SAFETY: DriverEntry at PASSIVE_LEVEL, before PcInitializeAdapterDriver.
    if unsafe { crate::kernel_routines::resolve() } != 0 {
        trace(
            DPFLTR_INFO_LEVEL,
            "down-level kernel: pool, timer or copy routines missing, using the fallbacks",
        );
    }
    // SAFETY: the kernel's driver object and registry path, at PASSIVE_LEVEL,
    // as PcInitializeAdapterDriver requires; AddDevice matches PDRIVER_ADD_DEVICE.
    let status = unsafe { PcInitializeAdapterDriver(driver, registry_path, Some(add_device)) };
    if !NT_SUCCESS(status) {
        trace(DPFLTR_ERROR_LEVEL, "PcInitializeAdapterDriver failed");
        return status;
    }
    // SAFETY: DriverEntry owns the driver object until it returns; PortCls has
    // just set DriverUnload and nothing else runs yet. PASSIVE_LEVEL.
    let portcls_unload = unsafe { (*driver).DriverUnload };
    PORTCLS_UNLOAD.store(
        portcls_unload.map_or(0, |routine| routine as usize),
        Ordering::Release,
    );
    // SAFETY: as above (DriverEntry owns the object; PASSIVE_LEVEL).
    unsafe { (*driver).DriverUnload = Some(driver_unload) };
    STATUS_SUCCESS
}

/// AddDevice: PortCls creates the FDO and will call [`start_device`]. PASSIVE_LEVEL.
///
/// # Safety
/// Called by the PnP manager with valid driver and physical device objects.
pub unsafe extern "system" fn add_device(
    driver: *mut DRIVER_OBJECT,
    physical_device: PDEVICE_OBJECT,
) -> NTSTATUS {
    // SAFETY: the PnP manager's objects at PASSIVE_LEVEL; StartDevice matches
    // PCPFNSTARTDEVICE; 0 extra extension bytes (rdmus keeps no per-device state
    // of its own: PortCls' subdevice registration owns the port, and the port its miniport).
    unsafe {
        PcAddAdapterDevice(
            driver,
            physical_device,
            Some(start_device),
            MAX_SUBDEVICES_PER_ADAPTER,
            0,
        )
    }
}

/// StartDevice: reads the resources and creates the DMus port (see `adapter.rs`). PASSIVE_LEVEL.
///
/// # Safety
/// Called by PortCls with its device object, the start IRP and the resource list.
pub unsafe extern "system" fn start_device(
    device: PDEVICE_OBJECT,
    irp: PIRP,
    resources: PRESOURCELIST,
) -> NTSTATUS {
    // The adapter's own port reference goes when it drops here: a registered
    // subdevice is kept alive by PortCls (PcRegisterSubdevice takes a
    // reference that PortCls gives back when the device stops or is removed),
    // so removal frees everything without the driver seeing the remove IRP.
    // SAFETY: PortCls' own StartDevice arguments, forwarded. PASSIVE_LEVEL.
    match unsafe { Adapter::start(device, irp, resources) } {
        Ok(adapter) => {
            drop(adapter);
            STATUS_SUCCESS
        }
        Err(status) => {
            trace(DPFLTR_ERROR_LEVEL, "StartDevice failed");
            status
        }
    }
}

/// Unload: runs PortCls' unload (every device is gone by now, and with it every
/// port and miniport rdmus made). PASSIVE_LEVEL.
///
/// # Safety
/// Called by the kernel once, after every device is removed.
pub unsafe extern "system" fn driver_unload(driver: *mut DRIVER_OBJECT) {
    let saved = PORTCLS_UNLOAD.swap(0, Ordering::AcqRel);
    if saved != 0 {
        // SAFETY: `saved` is the DriverUnload pointer PortCls installed, stored
        // as usize by DriverEntry; a non-zero value converts back to the same
        // function pointer type. A value conversion: any IRQL.
        let portcls_unload: PDRIVER_UNLOAD = Some(unsafe {
            core::mem::transmute::<usize, unsafe extern "system" fn(*mut DRIVER_OBJECT)>(saved)
        });
        if let Some(routine) = portcls_unload {
            // SAFETY: PortCls' unload for this driver object, at PASSIVE_LEVEL, once.
            unsafe { routine(driver) };
        }
    }
}
