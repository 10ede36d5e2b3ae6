//! Interrupt objects: what each `IInterruptSync` the simulation handed out is connected to and
//! which service routines it runs, and how (`INTERRUPTSYNCMODE`).

use alloc::vec::Vec;

use dmus_sys::kernel::PVOID;
use dmus_sys::portcls::PINTERRUPTSYNCROUTINE;

/// `InterruptSyncModeNormal`: call routines in order until one succeeds.
pub const MODE_NORMAL: i32 = 1;
/// `InterruptSyncModeAll`: call every routine once.
pub const MODE_ALL: i32 = 2;
/// `InterruptSyncModeRepeat`: call every routine, again and again, until none succeeds.
pub const MODE_REPEAT: i32 = 3;
/// Passes of `InterruptSyncModeRepeat` after which the simulation calls it a storm.
pub const MAX_REPEAT_PASSES: usize = 1000;

/// One `IInterruptSync`.
#[derive(Clone, Debug)]
pub struct InterruptObject {
    /// The ISA IRQ it serves.
    pub irq: u8,
    /// The IRQL its routines run at.
    pub dirql: u8,
    /// `INTERRUPTSYNCMODE`.
    pub mode: i32,
    /// Registered service routines with their contexts, in calling order.
    pub routines: Vec<(PINTERRUPTSYNCROUTINE, PVOID)>,
    /// Between `Connect` and `Disconnect`.
    pub connected: bool,
}
