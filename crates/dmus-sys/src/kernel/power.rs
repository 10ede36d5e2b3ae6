//! Power types (wdm.h) used by `IAdapterPowerManagement` and `IPowerNotify`.

use crate::pin_layout;

/// `SYSTEM_POWER_STATE` (wdm.h enum).
pub type SYSTEM_POWER_STATE = i32;
/// `PowerSystemWorking` (S0).
pub const PowerSystemWorking: SYSTEM_POWER_STATE = 1;
/// `PowerSystemMaximum`.
pub const PowerSystemMaximum: SYSTEM_POWER_STATE = 7;

/// `DEVICE_POWER_STATE` (wdm.h enum).
pub type DEVICE_POWER_STATE = i32;
/// `PowerDeviceUnspecified`.
pub const PowerDeviceUnspecified: DEVICE_POWER_STATE = 0;
/// `PowerDeviceD0`: fully on.
pub const PowerDeviceD0: DEVICE_POWER_STATE = 1;
/// `PowerDeviceD1`.
pub const PowerDeviceD1: DEVICE_POWER_STATE = 2;
/// `PowerDeviceD2`.
pub const PowerDeviceD2: DEVICE_POWER_STATE = 3;
/// `PowerDeviceD3`: off.
pub const PowerDeviceD3: DEVICE_POWER_STATE = 4;

/// `POWER_STATE` (wdm.h): a system or a device power state.
#[repr(C)]
#[derive(Clone, Copy)]
pub union POWER_STATE {
    /// As a system state.
    pub SystemState: SYSTEM_POWER_STATE,
    /// As a device state.
    pub DeviceState: DEVICE_POWER_STATE,
}

pin_layout!(POWER_STATE, "wdm.h", size (4, 4), align (4, 4), { SystemState: (0, 0), DeviceState: (0, 0) });

/// `DEVICE_CAPABILITIES` (wdm.h). The 32 one-bit flags (`DeviceD1` … `Reserved:14`) are one
/// `ULONG` here.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DEVICE_CAPABILITIES {
    /// Size of this structure.
    pub Size: u16,
    /// Version (1).
    pub Version: u16,
    /// `DeviceD1:1`, `DeviceD2:1`, `LockSupported:1`, … from bit 0 up.
    pub Flags: u32,
    /// Bus address.
    pub Address: u32,
    /// UI number.
    pub UINumber: u32,
    /// Device state for each system state.
    pub DeviceState: [DEVICE_POWER_STATE; 7],
    /// Lowest system state the device can wake.
    pub SystemWake: SYSTEM_POWER_STATE,
    /// Lowest device state the device can wake from.
    pub DeviceWake: DEVICE_POWER_STATE,
    /// D1 exit latency, 100 µs units.
    pub D1Latency: u32,
    /// D2 exit latency.
    pub D2Latency: u32,
    /// D3 exit latency.
    pub D3Latency: u32,
}
/// `PDEVICE_CAPABILITIES`.
pub type PDEVICE_CAPABILITIES = *mut DEVICE_CAPABILITIES;

pin_layout!(DEVICE_CAPABILITIES, "wdm.h", size (64, 64), align (4, 4), {
    Size: (0, 0),
    Version: (2, 2),
    Flags: (4, 4),
    Address: (8, 8),
    UINumber: (12, 12),
    DeviceState: (16, 16),
    SystemWake: (44, 44),
    DeviceWake: (48, 48),
    D1Latency: (52, 52),
    D2Latency: (56, 56),
    D3Latency: (60, 60),
});
