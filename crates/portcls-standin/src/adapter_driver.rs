//! What `PcInitializeAdapterDriver` records about the adapter driver: its AddDevice routine
//! and PortCls' unload, kept for the job that plays the PnP manager's part after DriverEntry
//! returns.

use core::sync::atomic::{AtomicUsize, Ordering};

use dmus_sys::kernel::{DRIVER_OBJECT, NTSTATUS, PDEVICE_OBJECT, PDRIVER_ADD_DEVICE};

/// The adapter driver's AddDevice routine, as an address (0 = none recorded).
static ADD_DEVICE: AtomicUsize = AtomicUsize::new(0);
/// The adapter's driver object, as an address (0 = none recorded).
static DRIVER: AtomicUsize = AtomicUsize::new(0);

/// The routine type `PDRIVER_ADD_DEVICE` wraps.
pub type AddDeviceRoutine =
    unsafe extern "system" fn(*mut DRIVER_OBJECT, PDEVICE_OBJECT) -> NTSTATUS;

/// Records the driver object and its AddDevice routine (`PcInitializeAdapterDriver`).
pub fn record(driver: *mut DRIVER_OBJECT, add_device: PDRIVER_ADD_DEVICE) {
    ADD_DEVICE.store(
        add_device.map_or(0, |routine| routine as usize),
        Ordering::Release,
    );
    DRIVER.store(driver as usize, Ordering::Release);
}

/// Forgets what [`record`] kept (the driver unloads).
pub fn forget() {
    ADD_DEVICE.store(0, Ordering::Release);
    DRIVER.store(0, Ordering::Release);
}

/// The recorded driver object and AddDevice routine, if `PcInitializeAdapterDriver` ran.
#[must_use]
pub fn recorded() -> Option<(*mut DRIVER_OBJECT, AddDeviceRoutine)> {
    let driver = DRIVER.load(Ordering::Acquire);
    let add_device = ADD_DEVICE.load(Ordering::Acquire);
    if driver == 0 || add_device == 0 {
        return None;
    }
    // SAFETY: `add_device` is non-zero and was stored by `record` from a routine of exactly
    // this type; the conversion back is a value conversion (any IRQL).
    let routine = unsafe { core::mem::transmute::<usize, AddDeviceRoutine>(add_device) };
    Some((driver as *mut DRIVER_OBJECT, routine))
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{DRIVER_OBJECT, NTSTATUS, PDEVICE_OBJECT, STATUS_SUCCESS};

    use super::{forget, record, recorded};

    unsafe extern "system" fn add_device(_: *mut DRIVER_OBJECT, _: PDEVICE_OBJECT) -> NTSTATUS {
        STATUS_SUCCESS
    }

    #[test]
    fn the_recorded_routine_comes_back_until_forgotten() {
        let driver = core::ptr::dangling_mut::<DRIVER_OBJECT>();
        assert!(recorded().is_none());
        record(driver, Some(add_device));
        let (got_driver, routine) = recorded().expect("recorded");
        assert_eq!(got_driver, driver);
        assert_eq!(routine as usize, add_device as *const () as usize);
        forget();
        assert!(recorded().is_none());
        record(driver, None);
        assert!(recorded().is_none(), "no AddDevice, nothing to run");
        forget();
    }
}
