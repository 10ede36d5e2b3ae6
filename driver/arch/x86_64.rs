//! x64: the wdm.h inlines. IRQL is the task-priority register CR8; port I/O is
//! `in`/`out` (`__inbyte`/`__outbyte`).

use core::arch::asm;

use dmus_sys::kernel::KIRQL;

/// `KeGetCurrentIrql`: reads CR8.
#[must_use]
pub fn current_irql() -> KIRQL {
    let cr8: u64;
    // SAFETY: reading CR8 is allowed at any IRQL in kernel mode (CPL 0, where
    // this image runs) and has no side effects. Not `nomem`: the read must not
    // move across the memory accesses around it.
    unsafe { asm!("mov {}, cr8", out(reg) cr8, options(nostack, preserves_flags)) };
    // CR8 holds a 4-bit priority class; the upper bits are reserved zero.
    (cr8 & 0xf) as KIRQL
}

/// `KeRaiseIrql`: writes CR8 and returns the previous IRQL.
///
/// # Safety
/// `new_irql` must be ≥ the current IRQL, and the caller must lower back to
/// the returned IRQL with [`lower_irql`] on the same processor.
#[must_use]
pub unsafe fn raise_irql(new_irql: KIRQL) -> KIRQL {
    let old = current_irql();
    // SAFETY: CPL 0; the caller guarantees new_irql ≥ current IRQL (the only
    // legal raise). No `nomem`: code after the raise must not be hoisted above it.
    unsafe { asm!("mov cr8, {}", in(reg) u64::from(new_irql), options(nostack, preserves_flags)) };
    old
}

/// `KeLowerIrql`: writes CR8.
///
/// # Safety
/// `new_irql` must be ≤ the current IRQL and the IRQL this code was entered at
/// or returned by the matching [`raise_irql`].
pub unsafe fn lower_irql(new_irql: KIRQL) {
    // SAFETY: CPL 0; the caller guarantees this restores an IRQL it raised from.
    // No `nomem`: accesses made at the higher IRQL must stay before the lowering.
    unsafe { asm!("mov cr8, {}", in(reg) u64::from(new_irql), options(nostack, preserves_flags)) };
}

/// The I/O port number the DDK passes as a pointer's low 16 bits.
#[allow(
    clippy::cast_possible_truncation,
    reason = "x86 I/O port numbers are 16 bits; the upper bits of the DDK's pointer are zero"
)]
fn port_number(port: *mut u8) -> u16 {
    port.addr() as u16
}

/// `READ_PORT_UCHAR`: `in al, dx`.
///
/// # Safety
/// `port` must be an I/O port the driver owns (from its resource list).
/// Callable at any IRQL.
pub unsafe fn read_port_u8(port: *mut u8) -> u8 {
    let port = port_number(port);
    let value: u8;
    // SAFETY: the caller owns the port; `in` is legal at CPL 0 at any IRQL.
    unsafe { asm!("in al, dx", out("al") value, in("dx") port, options(nostack, preserves_flags)) };
    value
}

/// `WRITE_PORT_UCHAR`: `out dx, al`.
///
/// # Safety
/// `port` must be an I/O port the driver owns (from its resource list).
/// Callable at any IRQL.
pub unsafe fn write_port_u8(port: *mut u8, value: u8) {
    let port = port_number(port);
    // SAFETY: the caller owns the port; `out` is legal at CPL 0 at any IRQL.
    unsafe { asm!("out dx, al", in("dx") port, in("al") value, options(nostack, preserves_flags)) };
}
