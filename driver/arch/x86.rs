//! x86: IRQL and port I/O are hal.dll exports (`KeGetCurrentIrql`,
//! `KfRaiseIrql`/`KfLowerIrql` `__fastcall`, `READ_PORT_UCHAR`/`WRITE_PORT_UCHAR`).

use dmus_sys::imports;
use dmus_sys::kernel::KIRQL;

/// `KeGetCurrentIrql`.
#[must_use]
pub fn current_irql() -> KIRQL {
    // SAFETY: KeGetCurrentIrql has no preconditions and runs at any IRQL.
    unsafe { imports::KeGetCurrentIrql() }
}

/// `KeRaiseIrql` (`KfRaiseIrql`): returns the previous IRQL.
///
/// # Safety
/// `new_irql` must be ≥ the current IRQL; lower back with [`lower_irql`].
#[must_use]
pub unsafe fn raise_irql(new_irql: KIRQL) -> KIRQL {
    // SAFETY: the caller guarantees a legal raise (from any IRQL ≤ new_irql).
    unsafe { imports::KfRaiseIrql(new_irql) }
}

/// `KeLowerIrql` (`KfLowerIrql`).
///
/// # Safety
/// `new_irql` must be an IRQL this code raised from (≤ the current one).
pub unsafe fn lower_irql(new_irql: KIRQL) {
    // SAFETY: the caller guarantees a legal lowering (from the raised IRQL ≥ new_irql).
    unsafe { imports::KfLowerIrql(new_irql) }
}

/// `READ_PORT_UCHAR`.
///
/// # Safety
/// `port` must be an I/O port the driver owns. Any IRQL.
pub unsafe fn read_port_u8(port: *mut u8) -> u8 {
    // SAFETY: the caller owns the port; the HAL routine runs at any IRQL.
    unsafe { imports::READ_PORT_UCHAR(port) }
}

/// `WRITE_PORT_UCHAR`.
///
/// # Safety
/// `port` must be an I/O port the driver owns. Any IRQL.
pub unsafe fn write_port_u8(port: *mut u8, value: u8) {
    // SAFETY: the caller owns the port; the HAL routine runs at any IRQL.
    unsafe { imports::WRITE_PORT_UCHAR(port, value) }
}
