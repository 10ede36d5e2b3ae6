//! What the client models share: a machine with rdmus started on one device and the INF's
//! `MediaCategories` entries installed, and KS property I/O done the way a user-mode client
//! does it (`DeviceIoControl(IOCTL_KS_PROPERTY)`: a size query with an empty buffer, then the
//! GET with a buffer of the size KS reported).
#![allow(dead_code, reason = "each client model uses a different part")]

use std::sync::{Mutex, MutexGuard};

use dmus_sys::GUID;
use dmus_sys::kernel::{NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_SUCCESS};
use dmus_sys::ks::{KSCOMPONENTID, KSPROPERTY_TYPE_GET};
use dmus_sys::ks_guids::{KSPROPERTY_GENERAL_COMPONENTID, KSPROPSETID_General, KSPROPSETID_Pin};
use wdm_sim::portcls::{Device, Driver, Filter, PropertyTarget, Resources, media_categories};
use wdm_sim::{Machine, MachineConfig, Mpu401Config};

/// The INF the package installs.
pub const INF: &str = include_str!("../../inf/rdmus.inx");

static DRIVER: Mutex<()> = Mutex::new(());

/// One test at a time owns the driver's globals.
pub fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A machine with rdmus installed (the INF's registry entries) and one device started.
pub struct Rig {
    /// The machine.
    pub machine: Machine,
    driver: Option<Driver>,
    device: Option<Device>,
    subdevice: &'static str,
}

impl Rig {
    fn start(config: MachineConfig, resources: fn() -> Resources, subdevice: &'static str) -> Self {
        let machine = Machine::new(config);
        media_categories::install_from_inf(INF).expect("the INF's MediaCategories entries");
        let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
        let device = driver.add_device().expect("AddDevice");
        device.start(&resources()).expect("StartDevice");
        Self {
            machine,
            driver: Some(driver),
            device: Some(device),
            subdevice,
        }
    }

    /// The MPU-401 (a 16-byte FIFO card at 0x330, IRQ 9): subdevice "UART".
    pub fn mpu401() -> Self {
        let config = MachineConfig {
            mpu401: Some(Mpu401Config {
                fifo_depth: 16,
                ..Mpu401Config::default()
            }),
            ..MachineConfig::default()
        };
        Self::start(config, Resources::of_machine, "UART")
    }

    /// The software synth (no resources): subdevice "Synth".
    pub fn synth() -> Self {
        Self::start(MachineConfig::default(), Resources::none, "Synth")
    }

    /// The started device's filter.
    pub fn filter(&self) -> Filter {
        self.device
            .as_ref()
            .and_then(|d| d.filter(self.subdevice))
            .expect("the subdevice is registered")
    }

    /// The virtual clock, 100 ns.
    pub fn now(&self) -> i64 {
        i64::try_from(self.machine.now()).unwrap()
    }

    /// Stops, removes, unloads; the machine must have found nothing.
    pub fn finish(mut self) {
        if let Some(device) = self.device.take() {
            device.stop();
            device.remove();
        }
        if let Some(driver) = self.driver.take() {
            driver.unload();
        }
        assert_eq!(self.machine.findings(), [], "verifier findings");
    }
}

/// A KS GET as a client sends it: the size query (an empty buffer: KS answers
/// `STATUS_BUFFER_OVERFLOW` and the size), then the GET with that much room.
///
/// # Errors
/// The status of whichever call failed.
pub fn get(
    filter: Filter,
    target: PropertyTarget,
    set: &GUID,
    id: u32,
    instance: &[u8],
) -> Result<Vec<u8>, NTSTATUS> {
    let mut asked = instance.to_vec();
    let size = filter.property(target, set, id, KSPROPERTY_TYPE_GET, &mut asked, &mut []);
    if size.status != STATUS_BUFFER_OVERFLOW {
        return Err(size.status);
    }
    let mut value = vec![0; size.value_size as usize];
    let mut asked = instance.to_vec();
    let answer = filter.property(target, set, id, KSPROPERTY_TYPE_GET, &mut asked, &mut value);
    if answer.status != STATUS_SUCCESS {
        return Err(answer.status);
    }
    value.truncate(answer.value_size as usize);
    Ok(value)
}

/// The `KSP_PIN` tail a filter-addressed pin property carries: the pin id, a reserved 0.
pub fn ksp_pin(pin: u32) -> Vec<u8> {
    [pin.to_le_bytes(), 0u32.to_le_bytes()].concat()
}

/// A `KSPROPSETID_Pin` property of pin factory `pin`, sent to the filter with a `KSP_PIN`.
///
/// # Errors
/// KS's status.
pub fn pin_property(filter: Filter, pin: u32, id: u32) -> Result<Vec<u8>, NTSTATUS> {
    get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_Pin,
        id,
        &ksp_pin(pin),
    )
}

/// A `ULONG`-valued pin property.
///
/// # Errors
/// KS's status.
pub fn pin_u32(filter: Filter, pin: u32, id: u32) -> Result<u32, NTSTATUS> {
    pin_property(filter, pin, id).map(|v| u32_at(&v, 0))
}

/// The `u32` at `at`.
pub fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap())
}

/// The GUID at `at`.
pub fn guid_at(bytes: &[u8], at: usize) -> GUID {
    GUID {
        Data1: u32_at(bytes, at),
        Data2: u16::from_le_bytes([bytes[at + 4], bytes[at + 5]]),
        Data3: u16::from_le_bytes([bytes[at + 6], bytes[at + 7]]),
        Data4: bytes[at + 8..at + 16].try_into().unwrap(),
    }
}

/// A NUL-terminated UTF-16 string.
pub fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|&unit| unit != 0)
        .collect();
    String::from_utf16(&units).unwrap()
}

/// The items of a `KSMULTIPLE_ITEM` of data ranges, walked by each range's `FormatSize`
/// (padded to 8 bytes, as KS aligns them), checking the header's `Size` and `Count`.
pub fn ranges(list: &[u8]) -> Vec<&[u8]> {
    assert_eq!(u32_at(list, 0) as usize, list.len(), "KSMULTIPLE_ITEM.Size");
    let count = u32_at(list, 4);
    let mut at = 8;
    let mut out = Vec::new();
    for _ in 0..count {
        let size = u32_at(list, at) as usize;
        out.push(&list[at..at + size]);
        at += size.next_multiple_of(8);
    }
    assert_eq!(at, list.len(), "the ranges fill the list");
    out
}

/// The (major, sub, specifier) GUIDs of a range.
pub fn range_guids(range: &[u8]) -> (GUID, GUID, GUID) {
    (guid_at(range, 16), guid_at(range, 32), guid_at(range, 48))
}

/// The GUIDs of a `KSMULTIPLE_ITEM` of GUIDs.
pub fn guid_list(list: &[u8]) -> Vec<GUID> {
    (0..u32_at(list, 4) as usize)
        .map(|index| guid_at(list, 8 + 16 * index))
        .collect()
}

/// `KSPROPERTY_GENERAL_COMPONENTID` of the filter, if it answers.
pub fn component_id(filter: Filter) -> Option<KSCOMPONENTID> {
    let bytes = get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_General,
        KSPROPERTY_GENERAL_COMPONENTID,
        &[],
    )
    .ok()?;
    assert_eq!(bytes.len(), size_of::<KSCOMPONENTID>());
    Some(KSCOMPONENTID {
        Manufacturer: guid_at(&bytes, 0),
        Product: guid_at(&bytes, 16),
        Component: guid_at(&bytes, 32),
        Name: guid_at(&bytes, 48),
        Version: u32_at(&bytes, 64),
        Revision: u32_at(&bytes, 68),
    })
}

/// The interface `FriendlyName` the INF gives subdevice `ks_name` (its interface `AddReg`).
pub fn interface_friendly_name(ks_name: &str) -> String {
    let token = match ks_name {
        "UART" => "rdmus.UART.FriendlyName",
        _ => "rdmus.Synth.FriendlyName",
    };
    inf_string(token)
}

/// A `[Strings]` value of the INF, quotes removed.
pub fn inf_string(token: &str) -> String {
    INF.lines()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == token).then(|| value.trim().trim_matches('"').to_string())
        })
        .unwrap_or_else(|| panic!("[Strings] {token}"))
}

/// The KS interface categories the INF registers for subdevice `ks_name` (`AddInterface`
/// lines naming `%KSNAME_<ks_name>%`), as GUIDs.
pub fn inf_interface_categories(ks_name: &str) -> Vec<GUID> {
    INF.lines()
        .filter(|line| line.trim_start().starts_with("AddInterface"))
        .filter(|line| line.contains(&format!("%KSNAME_{ks_name}%")))
        .map(|line| {
            let category = line.split_once('=').unwrap().1.split(',').next().unwrap();
            let token = category.trim().trim_matches('%');
            let braced = inf_string(token);
            GUID::parse(&braced[1..braced.len() - 1].to_ascii_lowercase())
        })
        .collect()
}
