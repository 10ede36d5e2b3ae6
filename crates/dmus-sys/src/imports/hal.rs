//! hal.dll imports (wdm.h `NTHALAPI` declarations).

use crate::kernel::LARGE_INTEGER;

#[cfg_attr(
    all(target_os = "windows", not(target_arch = "x86")),
    link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "hal.dll",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
unsafe extern "system" {
    /// `KeQueryPerformanceCounter`: any IRQL; the counter, and its frequency if asked.
    pub fn KeQueryPerformanceCounter(PerformanceFrequency: *mut LARGE_INTEGER) -> LARGE_INTEGER;
    /// `KeStallExecutionProcessor`: any IRQL; busy-waits `MicroSeconds`.
    pub fn KeStallExecutionProcessor(MicroSeconds: u32);
}

// x86 only: IRQL and port I/O are HAL exports there (inline on x64 and ARM64).
#[cfg(target_arch = "x86")]
#[link(
    name = "hal.dll",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
unsafe extern "system" {
    /// `KeGetCurrentIrql` (x86 hal.dll).
    pub fn KeGetCurrentIrql() -> crate::kernel::KIRQL;
    /// `READ_PORT_UCHAR` (x86 hal.dll): any IRQL.
    pub fn READ_PORT_UCHAR(Port: *mut u8) -> u8;
    /// `WRITE_PORT_UCHAR` (x86 hal.dll): any IRQL.
    pub fn WRITE_PORT_UCHAR(Port: *mut u8, Value: u8);
}

// x86 only: `__fastcall` HAL exports.
#[cfg(target_arch = "x86")]
#[link(
    name = "hal.dll",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
unsafe extern "fastcall" {
    /// `KfRaiseIrql` (x86 `KeRaiseIrql`): returns the previous IRQL.
    pub fn KfRaiseIrql(NewIrql: crate::kernel::KIRQL) -> crate::kernel::KIRQL;
    /// `KfLowerIrql` (x86 `KeLowerIrql`).
    pub fn KfLowerIrql(NewIrql: crate::kernel::KIRQL);
    /// `KfAcquireSpinLock` (x86 `KeAcquireSpinLock` / `KeAcquireSpinLockRaiseToDpc`): raises to
    /// DISPATCH_LEVEL and returns the previous IRQL.
    pub fn KfAcquireSpinLock(SpinLock: *mut crate::kernel::KSPIN_LOCK) -> crate::kernel::KIRQL;
    /// `KfReleaseSpinLock` (x86 `KeReleaseSpinLock`).
    pub fn KfReleaseSpinLock(
        SpinLock: *mut crate::kernel::KSPIN_LOCK,
        NewIrql: crate::kernel::KIRQL,
    );
}
