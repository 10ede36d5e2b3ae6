//! High-resolution executive timers (wdm.h, Windows 8.1+): `ExAllocateTimer` and friends.

use super::PVOID;
use crate::pin_layout;

/// `EX_TIMER`: opaque; allocated and owned by the kernel.
#[repr(C)]
pub struct EX_TIMER {
    _opaque: [u8; 0],
}
/// `PEX_TIMER`.
pub type PEX_TIMER = *mut EX_TIMER;

/// `PEXT_CALLBACK` (wdm.h `EXT_CALLBACK`): runs at DISPATCH_LEVEL when the timer expires.
pub type PEXT_CALLBACK = Option<unsafe extern "system" fn(Timer: PEX_TIMER, Context: PVOID)>;

/// `PEXT_DELETE_CALLBACK` (wdm.h `EXT_DELETE_CALLBACK`).
pub type PEXT_DELETE_CALLBACK = Option<unsafe extern "system" fn(Context: PVOID)>;

/// `EX_TIMER_HIGH_RESOLUTION` (`ExAllocateTimer` attribute): expire at the system clock's
/// finest resolution rather than on clock-interval ticks.
pub const EX_TIMER_HIGH_RESOLUTION: u32 = 0x4;
/// `EX_TIMER_NO_WAKE` (`ExAllocateTimer` attribute).
pub const EX_TIMER_NO_WAKE: u32 = 0x8;
/// `EX_TIMER_NOTIFICATION` (`ExAllocateTimer` attribute).
pub const EX_TIMER_NOTIFICATION: u32 = 1 << 31;
/// `EX_TIMER_UNLIMITED_TOLERANCE` (`EXT_SET_PARAMETERS::NoWakeTolerance`).
pub const EX_TIMER_UNLIMITED_TOLERANCE: i64 = -1;

/// `EXT_SET_PARAMETERS` (`_EXT_SET_PARAMETERS_V0`, wdm.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EXT_SET_PARAMETERS {
    /// Structure version (0 for `_V0`).
    pub Version: u32,
    /// Zero.
    pub Reserved: u32,
    /// How long past expiry the timer may wait for the processor to wake, 100 ns units.
    pub NoWakeTolerance: i64,
}
/// `PEXT_SET_PARAMETERS`.
pub type PEXT_SET_PARAMETERS = *mut EXT_SET_PARAMETERS;

pin_layout!(EXT_SET_PARAMETERS, "wdm.h (_EXT_SET_PARAMETERS_V0)", size (16, 16), align (8, 8), {
    Version: (0, 0),
    Reserved: (4, 4),
    NoWakeTolerance: (8, 8),
});

/// `ExInitializeSetTimerParameters` is a FORCEINLINE in wdm.h (no export): it zeroes the
/// structure: version 0, reserved 0, `NoWakeTolerance` 0 (wake the processor on time), as
/// documented on learn.microsoft.com `ns-wdm-_ext_set_parameters_v0` and written in
/// mingw-w64 ddk/wdm.h (`KeInitializeTimer2SetParameters`: memset 0).
#[must_use]
pub const fn ExInitializeSetTimerParameters() -> EXT_SET_PARAMETERS {
    EXT_SET_PARAMETERS {
        Version: 0,
        Reserved: 0,
        NoWakeTolerance: 0,
    }
}

/// `EXT_CANCEL_PARAMETERS`: incomplete in wdm.h; always pass null.
#[repr(C)]
pub struct EXT_CANCEL_PARAMETERS {
    _opaque: [u8; 0],
}
/// `PEXT_CANCEL_PARAMETERS`.
pub type PEXT_CANCEL_PARAMETERS = *mut EXT_CANCEL_PARAMETERS;

/// `EXT_DELETE_PARAMETERS` (`_EXT_DELETE_PARAMETERS`, wdm.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct EXT_DELETE_PARAMETERS {
    /// Structure version (0).
    pub Version: u32,
    /// Zero.
    pub Reserved: u32,
    /// Called once the timer is deleted.
    pub DeleteCallback: PEXT_DELETE_CALLBACK,
    /// Its context.
    pub DeleteContext: PVOID,
}
/// `PEXT_DELETE_PARAMETERS`.
pub type PEXT_DELETE_PARAMETERS = *mut EXT_DELETE_PARAMETERS;

pin_layout!(EXT_DELETE_PARAMETERS, "wdm.h (_EXT_DELETE_PARAMETERS)", size (16, 24), align (4, 8), {
    Version: (0, 0),
    Reserved: (4, 4),
    DeleteCallback: (8, 8),
    DeleteContext: (12, 16),
});

/// `ExInitializeDeleteTimerParameters` (FORCEINLINE in wdm.h, no export): version 0, no
/// delete callback.
#[must_use]
pub const fn ExInitializeDeleteTimerParameters() -> EXT_DELETE_PARAMETERS {
    EXT_DELETE_PARAMETERS {
        Version: 0,
        Reserved: 0,
        DeleteCallback: None,
        DeleteContext: core::ptr::null_mut(),
    }
}
