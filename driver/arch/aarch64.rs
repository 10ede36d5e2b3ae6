//! ARM64. IRQL: wdm.h declares `KeGetCurrentIrql`, `KfRaiseIrql` and
//! `KfLowerIrql` as `NTHALAPI` functions for ARM64 (`KeRaiseIrql`/`KeLowerIrql`
//! are macros over the `Kf` pair), so they are hal.dll imports, as on x86 but
//! with the ARM64 calling convention. (ReactOS sdk/include/xdk/arm64/ke.h, which
//! notes Windows does the same.)
//!
//! Ports: ARM has no I/O space. wdm.h's ARM `READ_PORT_*`/`WRITE_PORT_*` exist
//! only to bugcheck on misuse; a port resource on ARM64 arrives translated to
//! memory (`CM_RESOURCE_PORT_MEMORY`), mapped with `MmMapIoSpace`, and is read
//! and written the way wdm.h's `READ_REGISTER_UCHAR`/`WRITE_REGISTER_UCHAR` do:
//! a data synchronisation barrier, then one volatile byte access. So
//! [`read_port_u8`] and [`write_port_u8`] take the mapped register address.

use core::arch::asm;

use dmus_sys::kernel::KIRQL;

// These three belong beside the x86 block in dmus_sys::imports::hal (requested
// in the foundation report); declared here so the ARM64 image links meanwhile.
#[link(name = "hal.dll", kind = "raw-dylib", modifiers = "+verbatim")]
unsafe extern "system" {
    fn KeGetCurrentIrql() -> KIRQL;
    fn KfRaiseIrql(NewIrql: KIRQL) -> KIRQL;
    fn KfLowerIrql(NewIrql: KIRQL);
}

/// `KeGetCurrentIrql`.
#[must_use]
pub fn current_irql() -> KIRQL {
    // SAFETY: KeGetCurrentIrql has no preconditions and runs at any IRQL.
    unsafe { KeGetCurrentIrql() }
}

/// `KeRaiseIrql` (`KfRaiseIrql`): returns the previous IRQL.
///
/// # Safety
/// `new_irql` must be ≥ the current IRQL; lower back with [`lower_irql`].
#[must_use]
pub unsafe fn raise_irql(new_irql: KIRQL) -> KIRQL {
    // SAFETY: the caller guarantees a legal raise (from any IRQL ≤ new_irql).
    unsafe { KfRaiseIrql(new_irql) }
}

/// `KeLowerIrql` (`KfLowerIrql`).
///
/// # Safety
/// `new_irql` must be an IRQL this code raised from (≤ the current one).
pub unsafe fn lower_irql(new_irql: KIRQL) {
    // SAFETY: the caller guarantees a legal lowering (from the raised IRQL ≥ new_irql).
    unsafe { KfLowerIrql(new_irql) }
}

/// A byte read from a memory-mapped port register (`READ_REGISTER_UCHAR`).
///
/// # Safety
/// `port` must be the mapped address of a register the driver owns. Any IRQL.
pub unsafe fn read_port_u8(port: *mut u8) -> u8 {
    // SAFETY: `dsb sy` only orders memory; legal at any exception level and IRQL.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
    // SAFETY: the caller guarantees `port` is a mapped device register it owns;
    // a volatile byte load is exactly one device access.
    unsafe { port.read_volatile() }
}

/// A byte write to a memory-mapped port register (`WRITE_REGISTER_UCHAR`).
///
/// # Safety
/// `port` must be the mapped address of a register the driver owns. Any IRQL.
pub unsafe fn write_port_u8(port: *mut u8, value: u8) {
    // SAFETY: `dsb sy` only orders memory; legal at any exception level and IRQL.
    unsafe { asm!("dsb sy", options(nostack, preserves_flags)) };
    // SAFETY: the caller guarantees `port` is a mapped device register it owns;
    // a volatile byte store is exactly one device access.
    unsafe { port.write_volatile(value) }
}
