//! Time and port I/O: `KeQueryPerformanceCounter`, `KeStallExecutionProcessor` (hal.dll),
//! `READ_PORT_UCHAR`, `WRITE_PORT_UCHAR` (host arch intrinsics, `in`/`out` on x64).

use dmus_sys::kernel::LARGE_INTEGER;

use crate::current::with_state;
use crate::scheduler::busy_wait;
use crate::time::{PERFORMANCE_FREQUENCY, TICKS_PER_US};

fn ticks_as_i64(ticks: u64) -> i64 {
    i64::try_from(ticks).unwrap_or(i64::MAX)
}

/// `KeQueryPerformanceCounter`: any IRQL; a 10 MHz counter equal to the virtual clock.
///
/// # Safety
/// `PerformanceFrequency` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeQueryPerformanceCounter(
    PerformanceFrequency: *mut LARGE_INTEGER,
) -> LARGE_INTEGER {
    let now = with_state("KeQueryPerformanceCounter", |m| m.now());
    if !PerformanceFrequency.is_null() {
        // SAFETY: non-null and writable by the caller's contract.
        unsafe {
            PerformanceFrequency.write_unaligned(LARGE_INTEGER::from_quad(ticks_as_i64(
                PERFORMANCE_FREQUENCY,
            )));
        };
    }
    LARGE_INTEGER::from_quad(ticks_as_i64(now))
}

/// `KeStallExecutionProcessor`: any IRQL; busy-waits, so the time counts in the running
/// routine's duration, and interrupts (and, below `DISPATCH_LEVEL`, DPCs) arrive meanwhile.
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeStallExecutionProcessor(MicroSeconds: u32) {
    busy_wait(u64::from(MicroSeconds) * TICKS_PER_US);
}

/// `READ_PORT_UCHAR`: the device register at `Port` (the access happens now, then the bus
/// cycle's cost passes).
///
/// # Safety
/// None: the port is an I/O address, not memory.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn READ_PORT_UCHAR(Port: *mut u8) -> u8 {
    let (value, cost) = with_state("READ_PORT_UCHAR", |m| {
        (m.port_read(Port as usize), m.config.port_io_cost)
    });
    busy_wait(cost);
    value
}

/// `WRITE_PORT_UCHAR`: writes the device register at `Port`, then the bus cycle's cost passes.
///
/// # Safety
/// None: the port is an I/O address, not memory.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn WRITE_PORT_UCHAR(Port: *mut u8, Value: u8) {
    let cost = with_state("WRITE_PORT_UCHAR", |m| {
        m.port_write(Port as usize, Value);
        m.config.port_io_cost
    });
    busy_wait(cost);
}
