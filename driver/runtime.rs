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
