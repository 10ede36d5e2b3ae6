//! The architecture intrinsics, routed per target: IRQL and byte port I/O.
//!
//! On x64 the WDK headers inline them (CR8, `in`/`out`), on x86 they are hal.dll
//! exports, on ARM64 the IRQL routines are hal.dll exports and port space does
//! not exist (a port resource is memory-mapped, accessed like a register), and
//! on the host they go to the simulated machine through the externs wdm-sim
//! defines (`dmus_sys::imports::host_arch`). Everything above this module
//! calls only these five functions.

#[cfg(all(target_os = "windows", target_arch = "aarch64"))]
mod aarch64;
#[cfg(not(target_os = "windows"))]
mod host;
#[cfg(all(target_os = "windows", target_arch = "x86"))]
mod x86;
#[cfg(all(target_os = "windows", target_arch = "x86_64"))]
mod x86_64;

#[cfg(all(target_os = "windows", target_arch = "aarch64"))]
pub use aarch64::{current_irql, lower_irql, raise_irql, read_port_u8, write_port_u8};
#[cfg(not(target_os = "windows"))]
pub use host::{current_irql, lower_irql, raise_irql, read_port_u8, write_port_u8};
#[cfg(all(target_os = "windows", target_arch = "x86"))]
pub use x86::{current_irql, lower_irql, raise_irql, read_port_u8, write_port_u8};
#[cfg(all(target_os = "windows", target_arch = "x86_64"))]
pub use x86_64::{current_irql, lower_irql, raise_irql, read_port_u8, write_port_u8};
