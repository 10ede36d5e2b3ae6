//! What a kernel image needs from a C runtime it does not link.
//!
//! `_fltused`: MSVC-ABI objects that touch floating point reference this
//! symbol so that the CRT's floating-point support gets linked; a kernel image
//! has no CRT, so the driver defines it (as the WDK's own libraries and
//! wdk-sys do). The C memory routines (`memcpy`, `memset`, `memmove`,
//! `memcmp`) the compiler calls come from ntoskrnl.exe's exports through
//! `dmus_sys::imports`. The image check proves nothing outside the kernel
//! modules is imported.
//!
//! `__chkstk`, the stack probe the compiler calls in any function whose frame
//! is larger than a page, is deliberately NOT provided: no rdmus function may
//! have such a frame (kernel stacks are 12 to 24 KiB, and ntoskrnl's ARM64
//! export of `__chkstk` is not something a driver should depend on). Objects of
//! kilobytes are made in place in pool (rdmus-driver's `miniport::pool_box::try_new_with`).
//! A frame over a page therefore fails the link with an undefined `__chkstk`,
//! and an image that imports it anyway fails `cargo xtask check-image`;
//! `llvm-objdump -d` on the image finds the function.

/// The MSVC floating-point marker symbol (the `wdk` feature gets it from wdk-sys).
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

/// `EXCEPTION_DISPOSITION::ExceptionContinueSearch` (excpt.h).
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
const EXCEPTION_CONTINUE_SEARCH: i32 = 1;

/// The C++ frame handler that the prebuilt `compiler_builtins` objects name in
/// their unwind data (`.xdata`): the Windows targets' standard library is
/// built with `panic = "unwind"`, so even its 128-bit division helpers carry a
/// personality routine. A kernel image links no C++ runtime, and the driver
/// is built with `panic = "abort"`, so no Rust frame ever unwinds. A kernel
/// SEH exception (raised by some other component) may still walk through such
/// a frame: those frames have no handlers or cleanups of their own, so "keep
/// searching" is the whole of the correct answer, exactly what the C++ runtime
/// would answer for a frame with nothing to do.
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[unsafe(no_mangle)]
pub extern "C" fn __CxxFrameHandler3(
    _exception_record: *mut core::ffi::c_void,
    _establisher_frame: *mut core::ffi::c_void,
    _context_record: *mut core::ffi::c_void,
    _dispatcher_context: *mut core::ffi::c_void,
) -> i32 {
    EXCEPTION_CONTINUE_SEARCH
}
