//! The host (tests, the `rdmus` command): the simulated machine's IRQL and
//! ports, defined by wdm-sim under the names dmus-sys declares.

use dmus_sys::imports;
use dmus_sys::kernel::KIRQL;

/// `KeGetCurrentIrql` of the simulated processor.
#[must_use]
pub fn current_irql() -> KIRQL {
    // SAFETY: the simulation's KeGetCurrentIrql has no preconditions (any IRQL).
    unsafe { imports::KeGetCurrentIrql() }
}

/// `KeRaiseIrql`: returns the previous IRQL.
///
/// # Safety
/// `new_irql` must be ≥ the current IRQL; lower back with [`lower_irql`].
#[must_use]
pub unsafe fn raise_irql(new_irql: KIRQL) -> KIRQL {
    // SAFETY: the caller guarantees a legal raise (from any IRQL ≤ new_irql); the
    // simulation checks it too.
    unsafe { imports::KfRaiseIrql(new_irql) }
}

/// `KeLowerIrql`.
///
/// # Safety
/// `new_irql` must be an IRQL this code raised from (≤ the current one).
pub unsafe fn lower_irql(new_irql: KIRQL) {
    // SAFETY: the caller guarantees a legal lowering (from the raised IRQL ≥
    // new_irql); the simulation checks it too.
    unsafe { imports::KeLowerIrql(new_irql) }
}

/// `READ_PORT_UCHAR` on the simulated bus.
///
/// # Safety
/// `port` must be a port from the driver's resource list. Any IRQL.
pub unsafe fn read_port_u8(port: *mut u8) -> u8 {
    // SAFETY: the caller owns the port; the simulated bus runs at any IRQL.
    unsafe { imports::READ_PORT_UCHAR(port) }
}

/// `WRITE_PORT_UCHAR` on the simulated bus.
///
/// # Safety
/// `port` must be a port from the driver's resource list. Any IRQL.
pub unsafe fn write_port_u8(port: *mut u8, value: u8) {
    // SAFETY: the caller owns the port; the simulated bus runs at any IRQL.
    unsafe { imports::WRITE_PORT_UCHAR(port, value) }
}
