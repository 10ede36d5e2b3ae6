//! The adapter devices PcAddAdapterDevice made: their FDO, the PDO they sit on, the adapter's
//! StartDevice, and the subdevice PcRegisterSubdevice published (one reference each).

use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::PDEVICE_OBJECT;
use dmus_sys::portcls::PCPFNSTARTDEVICE;

use crate::spin::SpinMutex;

/// Devices the stand-in keeps at once.
const DEVICES: usize = 2;
/// Subdevices one device registers (rdmus: `MAX_SUBDEVICES_PER_ADAPTER`).
const SUBDEVICES: usize = 2;

/// One adapter device.
#[derive(Clone, Copy)]
pub struct Device {
    /// The FDO PcAddAdapterDevice created.
    pub fdo: PDEVICE_OBJECT,
    /// The PDO it was created for.
    pub pdo: PDEVICE_OBJECT,
    /// The adapter's StartDevice.
    pub start: PCPFNSTARTDEVICE,
    /// Registered subdevices (`IUnknown`, one reference each; null: free).
    pub subdevices: [PUNKNOWN; SUBDEVICES],
}

struct Table([Option<Device>; DEVICES]);

// SAFETY: the table holds kernel object and COM addresses, used by whoever takes them out under
// the lock; no thread affinity.
unsafe impl Send for Table {}

static TABLE: SpinMutex<Table> = SpinMutex::new(Table([None; DEVICES]));

/// Records a new device; false when the table is full.
pub fn add(device: Device) -> bool {
    let mut table = TABLE.lock();
    match table.0.iter_mut().find(|slot| slot.is_none()) {
        Some(slot) => {
            *slot = Some(device);
            true
        }
        None => false,
    }
}

/// The device whose FDO or PDO is `object`.
pub fn find(object: PDEVICE_OBJECT) -> Option<Device> {
    TABLE
        .lock()
        .0
        .iter()
        .flatten()
        .find(|device| device.fdo == object || device.pdo == object)
        .copied()
}

/// Adds a subdevice to the device with FDO `fdo`; false if there is no such device or no room.
pub fn register(fdo: PDEVICE_OBJECT, subdevice: PUNKNOWN) -> bool {
    let mut table = TABLE.lock();
    let Some(device) = table
        .0
        .iter_mut()
        .flatten()
        .find(|device| device.fdo == fdo)
    else {
        return false;
    };
    match device.subdevices.iter_mut().find(|slot| slot.is_null()) {
        Some(slot) => {
            *slot = subdevice;
            true
        }
        None => false,
    }
}

/// Takes the device with FDO `fdo` out of the table (removal).
pub fn remove(fdo: PDEVICE_OBJECT) -> Option<Device> {
    let mut table = TABLE.lock();
    table
        .0
        .iter_mut()
        .find(|slot| slot.is_some_and(|device| device.fdo == fdo))
        .and_then(Option::take)
}
