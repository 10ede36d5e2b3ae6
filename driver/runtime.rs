//! What a kernel image needs from a C runtime it does not link.
//!
//! `_fltused`: MSVC-ABI objects that touch floating point reference this
//! symbol so that the CRT's floating-point support gets linked; a kernel image
//! has no CRT, so the driver defines it (as the WDK's own libraries and
//! wdk-sys do). The C memory routines (`memcpy`, `memset`, `memmove`,
//! `memcmp`) the compiler calls come from ntoskrnl.exe's exports through
//! `dmus_sys::imports`. `__chkstk`, which the compiler calls in any function
//! whose frame is larger than a page, is an ntoskrnl.exe export too (x64:
//! ReactOS ntoskrnl/ntoskrnl.spec, `@ cdecl -arch=x86_64 __chkstk()`); it is
//! declared below so such a frame links, and it is imported only if a frame
//! needs it. The image check proves nothing outside the kernel modules is
//! imported.

/// The MSVC floating-point marker symbol (the `wdk` feature gets it from wdk-sys).
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

// `__chkstk` belongs beside memcpy & co. in dmus_sys::imports (requested in
// the foundation report); declared here meanwhile. Never called from Rust: the
// compiler emits the calls, so the declaration only has to exist.
#[cfg(all(
    target_os = "windows",
    not(feature = "wdk"),
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
unsafe extern "C" {
    /// The stack probe for frames larger than a page (compiler-called only).
    pub fn __chkstk();
}

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
