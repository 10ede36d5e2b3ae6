//! IRQL and spin-lock types (wdm.h).

/// `KIRQL`: an interrupt request level.
pub type KIRQL = u8;
/// `PKIRQL`.
pub type PKIRQL = *mut KIRQL;
/// `PASSIVE_LEVEL`.
pub const PASSIVE_LEVEL: KIRQL = 0;
/// `LOW_LEVEL`.
pub const LOW_LEVEL: KIRQL = 0;
/// `APC_LEVEL`.
pub const APC_LEVEL: KIRQL = 1;
/// `DISPATCH_LEVEL`.
pub const DISPATCH_LEVEL: KIRQL = 2;
/// `HIGH_LEVEL`: 31 on x86, 15 on x64 and ARM64 (wdm.h per-architecture sections).
#[cfg(target_arch = "x86")]
pub const HIGH_LEVEL: KIRQL = 31;
/// `HIGH_LEVEL`: 31 on x86, 15 on x64 and ARM64 (wdm.h per-architecture sections).
#[cfg(not(target_arch = "x86"))]
pub const HIGH_LEVEL: KIRQL = 15;

/// `KSPIN_LOCK` (`ULONG_PTR`).
pub type KSPIN_LOCK = usize;
/// `PKSPIN_LOCK`.
pub type PKSPIN_LOCK = *mut KSPIN_LOCK;

/// `KINTERRUPT`: opaque; PortCls' `IInterruptSync::GetKInterrupt` hands out a pointer.
#[repr(C)]
pub struct KINTERRUPT {
    _opaque: [u8; 0],
}
/// `PKINTERRUPT`.
pub type PKINTERRUPT = *mut KINTERRUPT;
