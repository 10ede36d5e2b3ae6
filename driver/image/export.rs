//! The image's export: `DriverEntry`, the routine the kernel calls on load
//! (build.rs links with `/ENTRY:DriverEntry`).
//!
//! The routine itself is `rdmus_driver::DriverEntry`, which the host tests
//! load into wdm-sim; the image exports it under the name the kernel and the
//! linker look for.

use dmus_sys::kernel::{NTSTATUS, PDRIVER_OBJECT, PUNICODE_STRING};

/// The kernel's entry point, PASSIVE_LEVEL: the driver's DriverEntry.
///
/// # Safety
/// Called by the kernel once per load with a valid driver object and registry path.
#[allow(
    non_snake_case,
    reason = "the name the kernel and the linker's /ENTRY look for"
)]
#[unsafe(no_mangle)]
pub unsafe extern "system" fn DriverEntry(
    driver: PDRIVER_OBJECT,
    registry_path: PUNICODE_STRING,
) -> NTSTATUS {
    // SAFETY: the kernel's own arguments, passed on unchanged at PASSIVE_LEVEL:
    // the driver's DriverEntry has this routine's contract.
    unsafe { rdmus_driver::DriverEntry(driver, registry_path) }
}
