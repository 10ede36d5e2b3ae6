//! The MPU-401's port I/O under Wine: a vectored exception handler, first in line, that
//! catches the fault of an `in`/`out` the emulated card decodes, does the access on the card
//! ([`crate::card`]) and steps over the instruction. Wine emulates `mov cr8` and `cli`/`sti`
//! in its own ntoskrnl handler but not port I/O (issue 14's trial); anything we do not decode
//! goes on to the next handler.
//!
//! `CONTEXT` (x64, winnt.h; mingw-w64 `winnt.h` `struct _CONTEXT`): `Rax` at 0x78, `Rdx` at
//! 0x88, `Rip` at 0xF8. `EXCEPTION_POINTERS` is `{ PEXCEPTION_RECORD, PCONTEXT }`;
//! `EXCEPTION_RECORD` starts with `DWORD ExceptionCode`.

use core::ffi::c_void;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::card::EmulatedCard;
use crate::decode::decode;
use crate::kernel::{RtlAddVectoredExceptionHandler, RtlRemoveVectoredExceptionHandler};
use crate::spin::SpinMutex;

/// `EXCEPTION_PRIV_INSTRUCTION` (`STATUS_PRIVILEGED_INSTRUCTION`), what Wine raises for `in`/`out`.
const EXCEPTION_PRIV_INSTRUCTION: u32 = 0xC000_0096;
/// `EXCEPTION_ACCESS_VIOLATION`, raised instead on some kernels for a #GP.
const EXCEPTION_ACCESS_VIOLATION: u32 = 0xC000_0005;
/// `EXCEPTION_CONTINUE_EXECUTION`.
const CONTINUE_EXECUTION: i32 = -1;
/// `EXCEPTION_CONTINUE_SEARCH`.
const CONTINUE_SEARCH: i32 = 0;
const RAX: usize = 0x78;
const RDX: usize = 0x88;
const RIP: usize = 0xF8;

/// The card the handler drives (None: no card; every access goes to the next handler).
pub static CARD: SpinMutex<Option<EmulatedCard>> = SpinMutex::new(None);
/// Port accesses emulated.
pub static EMULATED: AtomicUsize = AtomicUsize::new(0);
static HANDLE: AtomicUsize = AtomicUsize::new(0);

/// Installs the handler (first in line). False if ntdll refused.
pub fn install() -> bool {
    // SAFETY: registers a handler with VECTORED_EXCEPTION_HANDLER's signature, removed in
    // `remove` before the module can unload. Any thread.
    let handle = unsafe { RtlAddVectoredExceptionHandler(1, handler) };
    HANDLE.store(handle as usize, Ordering::Release);
    !handle.is_null()
}

/// Removes the handler.
pub fn remove() {
    let handle = HANDLE.swap(0, Ordering::AcqRel);
    if handle != 0 {
        // SAFETY: the handle `install` got, removed once.
        let _ = unsafe { RtlRemoveVectoredExceptionHandler(handle as *mut c_void) };
    }
}

/// The `u64` field at byte `offset` of the context.
///
/// # Safety
/// `context` is a live x64 `CONTEXT`.
unsafe fn field(context: *mut c_void, offset: usize) -> *mut u64 {
    // SAFETY: inside the CONTEXT (offsets from winnt.h); CONTEXT is 16-byte aligned, these
    // fields 8-byte aligned. Address arithmetic only.
    unsafe { context.byte_add(offset).cast::<u64>() }
}

/// Reads the `u64` at `offset` in the context.
///
/// # Safety
/// `context` is a live x64 `CONTEXT`.
unsafe fn register(context: *mut c_void, offset: usize) -> u64 {
    // SAFETY: the caller's live context.
    let field = unsafe { field(context, offset) };
    // SAFETY: an aligned field of the live context.
    unsafe { field.read() }
}

/// Writes the `u64` at `offset` in the context.
///
/// # Safety
/// As [`register`].
unsafe fn set_register(context: *mut c_void, offset: usize, value: u64) {
    // SAFETY: the caller's live context.
    let field = unsafe { field(context, offset) };
    // SAFETY: an aligned field of the live context; the dispatcher resumes from it.
    unsafe { field.write(value) };
}

/// The bytes of the instruction at `rip` that [`decode`] needs (at most 3: an operand-size
/// prefix, the opcode, an immediate port), read one at a time and no further than an
/// `in`/`out` reaches, so a short instruction at the end of a page is never read past.
///
/// # Safety
/// `rip` is the address of a fetched instruction.
unsafe fn instruction_bytes(rip: u64) -> [u8; 3] {
    let at = |offset: u64| {
        let address = usize::try_from(rip + offset).unwrap_or(0) as *const u8;
        // SAFETY: within the instruction (the caller's contract and the checks below).
        unsafe { address.read() }
    };
    let mut bytes = [0_u8; 3];
    bytes[0] = at(0);
    let (opcode_at, opcode) = if bytes[0] == 0x66 {
        bytes[1] = at(1);
        (1, bytes[1])
    } else {
        (0, bytes[0])
    };
    if (0xE4..=0xE7).contains(&opcode) {
        bytes[opcode_at + 1] = at(u64::try_from(opcode_at).unwrap_or(0) + 1);
    }
    bytes
}

unsafe extern "system" fn handler(info: *mut c_void) -> i32 {
    if info.is_null() {
        return CONTINUE_SEARCH;
    }
    let pointers = info.cast::<[*mut c_void; 2]>();
    // SAFETY: EXCEPTION_POINTERS from the dispatcher: two pointers.
    let [record, context] = unsafe { pointers.read() };
    if record.is_null() || context.is_null() {
        return CONTINUE_SEARCH;
    }
    // SAFETY: EXCEPTION_RECORD starts with its code.
    let code = unsafe { record.cast::<u32>().read() };
    if code != EXCEPTION_PRIV_INSTRUCTION && code != EXCEPTION_ACCESS_VIOLATION {
        return CONTINUE_SEARCH;
    }
    // SAFETY: a live CONTEXT.
    let rip = unsafe { register(context, RIP) };
    // SAFETY: the faulting instruction's bytes: mapped code (it faulted executing, not
    // fetching), read only as far as an in/out needs them.
    let bytes = unsafe { instruction_bytes(rip) };
    let Some(io) = decode(&bytes) else {
        return CONTINUE_SEARCH;
    };
    // SAFETY: a live CONTEXT.
    let rdx = unsafe { register(context, RDX) };
    // SAFETY: a live CONTEXT.
    let rax = unsafe { register(context, RAX) };
    let port = io.port_number(u16::try_from(rdx & 0xFFFF).unwrap_or(0));
    let now = crate::objects::clock::now();
    let mut guard = CARD.lock();
    let Some(card) = guard.as_mut().filter(|card| card.decodes(port)) else {
        return CONTINUE_SEARCH;
    };
    if io.write {
        card.write(port, rax.to_le_bytes()[0], now);
    } else {
        let value = u64::from(card.read(port, now));
        let rax = match io.size {
            1 => (rax & !0xFF) | value,
            2 => (rax & !0xFFFF) | value,
            // A 32-bit destination zero-extends into the whole register.
            _ => value,
        };
        // SAFETY: a live CONTEXT.
        unsafe { set_register(context, RAX, rax) };
    }
    drop(guard);
    EMULATED.fetch_add(1, Ordering::Relaxed);
    // SAFETY: a live CONTEXT; execution resumes after the instruction.
    unsafe { set_register(context, RIP, rip + u64::from(io.length)) };
    CONTINUE_EXECUTION
}
