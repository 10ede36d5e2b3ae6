//! Host-only: the architecture intrinsics the driver's arch module routes to the simulation.
//!
//! On Windows x64/ARM64 these are inline in wdm.h (CR8, `in`/`out`, the PCR); x86 imports some
//! from hal.dll (see [`super::hal`]). On a non-Windows host, wdm-sim defines them with these
//! exact names so that the driver's IRQL and port I/O go through the simulated machine.

use crate::kernel::KIRQL;

unsafe extern "system" {
    /// The simulated CPU's current IRQL.
    pub fn KeGetCurrentIrql() -> KIRQL;
    /// Raises the simulated IRQL to `NewIrql` (≥ current) and returns the previous one.
    pub fn KfRaiseIrql(NewIrql: KIRQL) -> KIRQL;
    /// Lowers the simulated IRQL to `NewIrql` (≤ current).
    pub fn KeLowerIrql(NewIrql: KIRQL);
    /// Reads a byte from a simulated I/O port.
    pub fn READ_PORT_UCHAR(Port: *mut u8) -> u8;
    /// Writes a byte to a simulated I/O port.
    pub fn WRITE_PORT_UCHAR(Port: *mut u8, Value: u8);
}
