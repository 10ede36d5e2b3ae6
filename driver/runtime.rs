//! What a kernel image needs from a C runtime it does not link.
//!
//! `_fltused`: MSVC-ABI objects that touch floating point reference this
//! symbol so that the CRT's floating-point support gets linked; a kernel image
//! has no CRT, so the driver defines it (as the WDK's own libraries and
//! wdk-sys do). The C memory routines (`memcpy`, `memset`, `memmove`,
//! `memcmp`) the compiler calls come from ntoskrnl.exe's exports through
//! `dmus_sys::imports`; `__chkstk` (large stack frames) is exported by
//! ntoskrnl.exe too, and the image check proves nothing else is imported.

/// The MSVC floating-point marker symbol (the `wdk` feature gets it from wdk-sys).
#[cfg(all(target_os = "windows", not(feature = "wdk")))]
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;
