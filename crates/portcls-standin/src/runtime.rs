//! What the module needs in place of a C runtime it does not link, and its entry point.
//!
//! - `DllMain`: the linker's `/ENTRY`; Wine's loader calls it as a DLL's entry (see the crate
//!   docs) and it answers TRUE to every notification;
//! - the panic handler: a bugcheck with the location, as rdmus.sys does;
//! - `_fltused` and `__CxxFrameHandler3`: the symbols MSVC-ABI objects (ours and the prebuilt
//!   `compiler_builtins`) reference; see `driver/image/runtime.rs` for why each is sound.

use core::ffi::c_void;

/// The stand-in's bugcheck code: the ASCII bytes `PCSP` ("PortCls stand-in panic").
const PANIC_BUGCHECK_CODE: u32 = u32::from_be_bytes(*b"PCSP");

/// `EXCEPTION_DISPOSITION::ExceptionContinueSearch` (excpt.h).
const EXCEPTION_CONTINUE_SEARCH: i32 = 1;

/// The module entry (`DllMain`): nothing to do per notification; TRUE lets the load go on.
#[allow(non_snake_case, reason = "the name the linker's /ENTRY looks for")]
#[unsafe(no_mangle)]
pub extern "system" fn DllMain(_module: *mut c_void, _reason: u32, _reserved: *mut c_void) -> i32 {
    1
}

/// The MSVC floating-point marker symbol.
#[unsafe(no_mangle)]
#[used]
pub static _fltused: i32 = 0;

/// The C++ frame handler the prebuilt `compiler_builtins` objects name in their unwind data;
/// no Rust frame unwinds (`panic = "abort"`), so "keep searching" is the whole answer.
#[unsafe(no_mangle)]
pub extern "C" fn __CxxFrameHandler3(
    _exception_record: *mut c_void,
    _establisher_frame: *mut c_void,
    _context_record: *mut c_void,
    _dispatcher_context: *mut c_void,
) -> i32 {
    EXCEPTION_CONTINUE_SEARCH
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let (file, file_len, line, column) = info.location().map_or((0, 0, 0, 0), |location| {
        (
            location.file().as_ptr() as usize,
            location.file().len(),
            location.line() as usize,
            location.column() as usize,
        )
    });
    // SAFETY: KeBugCheckEx may be called at any IRQL and never returns; its parameters are
    // plain numbers for the crash dump.
    unsafe { dmus_sys::imports::KeBugCheckEx(PANIC_BUGCHECK_CODE, file, file_len, line, column) }
}
