//! Device power changes as `PortCls` carries them out ("Implementing `IPowerNotify`",
//! learn.microsoft.com): powering down from D0, the port pauses running streams, then calls
//! `IPowerNotify::PowerChangeNotify` on each miniport and stream that answers
//! `IID_IPowerNotify`, then the adapter's `IAdapterPowerManagement::PowerChangeState`;
//! powering up, the adapter first, then the notifications, then the paused streams run again.
//! Everything at `PASSIVE_LEVEL`.

use alloc::vec::Vec;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{
    DEVICE_POWER_STATE, NTSTATUS, PASSIVE_LEVEL, POWER_STATE, PowerDeviceD0, PowerDeviceD3,
    STATUS_SUCCESS,
};
use dmus_sys::ks::{KSSTATE_PAUSE, KSSTATE_RUN};
use dmus_sys::portcls::{IAdapterPowerManagementVtbl, IID_IPowerNotify, IPowerNotifyVtbl};

use super::objects::{query_foreign, release_foreign, vtable_of};
use super::pin;
use crate::current::with_state;
use crate::dispatch::call_driver;

/// Why a power change was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PowerError {
    /// No such device.
    NoDevice,
    /// Not a device power state (D0..D3).
    InvalidState,
}

/// The miniports of the device's subdevices and the streams of their open pins.
fn objects_of(fdo: usize) -> Vec<usize> {
    with_state("power", |m| {
        let Some(device) = m.portcls.devices.get(&fdo) else {
            return Vec::new();
        };
        let mut objects = Vec::new();
        for &(_, port) in &device.subdevices {
            let Some(record) = m.portcls.ports.get(&port) else {
                continue;
            };
            if record.miniport != 0 {
                objects.push(record.miniport);
            }
            for id in &record.pins {
                if let Some(p) = m.portcls.pins.get(id) {
                    objects.push(p.stream);
                }
            }
        }
        objects
    })
}

/// Open pins on the device's subdevices.
fn pins_of(fdo: usize) -> Vec<u32> {
    with_state("power", |m| {
        let Some(device) = m.portcls.devices.get(&fdo) else {
            return Vec::new();
        };
        device
            .subdevices
            .iter()
            .filter_map(|&(_, port)| m.portcls.ports.get(&port))
            .flat_map(|p| p.pins.iter().copied())
            .collect()
    })
}

/// `PowerChangeNotify(state)` on every object that answers `IID_IPowerNotify`.
fn notify(objects: &[usize], state: DEVICE_POWER_STATE) {
    for &object in objects {
        // SAFETY: the port or pin holds a reference on each object; PASSIVE_LEVEL.
        let Ok(notify) = (unsafe { query_foreign(object as PUNKNOWN, &IID_IPowerNotify) }) else {
            continue;
        };
        // SAFETY: the interface QueryInterface just returned (one reference, ours).
        let vtable = unsafe { vtable_of::<IPowerNotifyVtbl>(notify) };
        let power = POWER_STATE { DeviceState: state };
        // SAFETY: PowerChangeNotify at PASSIVE_LEVEL on the live interface.
        call_driver(
            vtable.PowerChangeNotify as usize,
            PASSIVE_LEVEL,
            || unsafe { (vtable.PowerChangeNotify)(notify.cast(), power) },
        );
        // SAFETY: the reference QueryInterface gave us.
        unsafe { release_foreign(notify.cast()) };
    }
}

/// The adapter's `IAdapterPowerManagement` registered for the device (0: none).
fn adapter_of(fdo: usize) -> usize {
    with_state("power", |m| {
        m.portcls
            .devices
            .get(&fdo)
            .map_or(0, |d| d.power_management)
    })
}

/// `IAdapterPowerManagement::PowerChangeState(state)`, if the adapter registered one.
fn adapter_change(fdo: usize, state: DEVICE_POWER_STATE) {
    let adapter = adapter_of(fdo);
    if adapter == 0 {
        return;
    }
    // SAFETY: the device holds a reference on the registration; PASSIVE_LEVEL.
    let vtable = unsafe { vtable_of::<IAdapterPowerManagementVtbl>(adapter as *mut _) };
    let power = POWER_STATE { DeviceState: state };
    // SAFETY: PowerChangeState at PASSIVE_LEVEL on the live interface.
    call_driver(vtable.PowerChangeState as usize, PASSIVE_LEVEL, || unsafe {
        (vtable.PowerChangeState)(adapter as *mut _, power);
    });
}

/// `IRP_MN_QUERY_POWER`: the adapter's `QueryPowerChangeState` (success without one).
///
/// # Errors
/// [`PowerError`].
pub fn query(fdo: usize, state: DEVICE_POWER_STATE) -> Result<NTSTATUS, PowerError> {
    if !(PowerDeviceD0..=PowerDeviceD3).contains(&state) {
        return Err(PowerError::InvalidState);
    }
    if !with_state("power", |m| m.portcls.devices.contains_key(&fdo)) {
        return Err(PowerError::NoDevice);
    }
    let adapter = adapter_of(fdo);
    if adapter == 0 {
        return Ok(STATUS_SUCCESS);
    }
    // SAFETY: as in adapter_change.
    let vtable = unsafe { vtable_of::<IAdapterPowerManagementVtbl>(adapter as *mut _) };
    let power = POWER_STATE { DeviceState: state };
    // SAFETY: QueryPowerChangeState at PASSIVE_LEVEL on the live interface.
    Ok(call_driver(
        vtable.QueryPowerChangeState as usize,
        PASSIVE_LEVEL,
        || unsafe { (vtable.QueryPowerChangeState)(adapter as *mut _, power) },
    ))
}

/// `IRP_MN_SET_POWER` for the device: moves it to `state` in `PortCls`' order.
///
/// # Errors
/// [`PowerError`].
pub fn set(fdo: usize, state: DEVICE_POWER_STATE) -> Result<(), PowerError> {
    if !(PowerDeviceD0..=PowerDeviceD3).contains(&state) {
        return Err(PowerError::InvalidState);
    }
    let current = with_state("power", |m| m.portcls.devices.get(&fdo).map(|d| d.power))
        .ok_or(PowerError::NoDevice)?;
    if current == state {
        return Ok(());
    }
    if current == PowerDeviceD0 {
        // Powering down: pause what runs, tell the miniports and streams, then the adapter.
        let running: Vec<u32> = pins_of(fdo)
            .into_iter()
            .filter(|&id| pin::state(id) == Some(KSSTATE_RUN))
            .collect();
        for &id in &running {
            let _ = pin::set_state(id, KSSTATE_PAUSE);
        }
        with_state("power", |m| {
            if let Some(d) = m.portcls.devices.get_mut(&fdo) {
                d.paused_for_power = running;
            }
        });
        notify(&objects_of(fdo), state);
        adapter_change(fdo, state);
    } else if state == PowerDeviceD0 {
        // Powering up: the adapter, then the miniports and streams, then what was running.
        adapter_change(fdo, state);
        notify(&objects_of(fdo), state);
        let paused = with_state("power", |m| {
            m.portcls
                .devices
                .get_mut(&fdo)
                .map(|d| core::mem::take(&mut d.paused_for_power))
                .unwrap_or_default()
        });
        for id in paused {
            let _ = pin::set_state(id, KSSTATE_RUN);
        }
    } else {
        // Between low-power states: notifications first, as when leaving D0.
        notify(&objects_of(fdo), state);
        adapter_change(fdo, state);
    }
    with_state("power", |m| {
        if let Some(d) = m.portcls.devices.get_mut(&fdo) {
            d.power = state;
        }
    });
    Ok(())
}
