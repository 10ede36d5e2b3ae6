//! `DbgPrintEx` and `KeBugCheckEx`.

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};
use core::fmt::Write;

use dmus_sys::kernel::ULONG_PTR;

use crate::current::{fatal, with_state};
use crate::finding::Finding;

/// Formats a printf-style `format` with integer `args` (`%d %i %u %x %X %p %c %s %%`, with
/// `l`, `ll`, `I64`, `z` and width digits accepted and ignored). `%s` arguments are read with
/// `read_str`; missing arguments print `<?>`.
#[must_use]
pub fn format_printf(format: &[u8], args: &[usize], read_str: impl Fn(usize) -> String) -> String {
    let mut out = String::new();
    let mut args = args.iter().copied();
    let mut bytes = format.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(char::from(b));
            continue;
        }
        while let Some(&c) = bytes.peek() {
            if c.is_ascii_digit() || matches!(c, b'l' | b'h' | b'z' | b'I' | b'-' | b'.' | b'#') {
                bytes.next();
            } else {
                break;
            }
        }
        let Some(conversion) = bytes.next() else {
            break;
        };
        if conversion == b'%' {
            out.push('%');
            continue;
        }
        let Some(arg) = args.next() else {
            out.push_str("<?>");
            continue;
        };
        let _ = match conversion {
            b'd' | b'i' => write!(out, "{}", isize::from_ne_bytes(arg.to_ne_bytes())),
            b'u' => write!(out, "{arg}"),
            b'x' => write!(out, "{arg:x}"),
            b'X' => write!(out, "{arg:X}"),
            b'p' => write!(out, "{arg:#x}"),
            b'c' => write!(
                out,
                "{}",
                char::from(u8::try_from(arg & 0xFF).unwrap_or(b'?'))
            ),
            b's' => write!(out, "{}", read_str(arg)),
            other => write!(out, "%{}", char::from(other)),
        };
    }
    out
}

/// `DbgPrintEx`: any IRQL ≤ DIRQL; the formatted line goes to the machine's debug log.
///
/// The import is variadic (`extern "C"` with `...`), which stable Rust cannot define; this
/// definition takes the three fixed arguments and the next three integer-register arguments,
/// which is where the x86-64 System V convention puts the first three variadic integers. A
/// format that uses more prints `<?>` for the rest.
///
/// # Safety
/// `Format` is NULL or a NUL-terminated string; each `%s` argument a NUL-terminated string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn DbgPrintEx(
    ComponentId: u32,
    Level: u32,
    Format: *const c_char,
    a1: usize,
    a2: usize,
    a3: usize,
) -> u32 {
    if Format.is_null() {
        return 0;
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract. Any IRQL.
    let format = unsafe { CStr::from_ptr(Format) }.to_bytes();
    let count = format
        .windows(2)
        .filter(|w| w[0] == b'%' && w[1] != b'%')
        .count();
    let args: Vec<usize> = [a1, a2, a3].into_iter().take(count).collect();
    let line = format_printf(format, &args, |p| {
        if p == 0 {
            return String::from("(null)");
        }
        // SAFETY: a `%s` argument is a NUL-terminated string by the caller's contract.
        let s = unsafe { CStr::from_ptr(p as *const c_char) };
        String::from_utf8_lossy(s.to_bytes()).into_owned()
    });
    let _ = (ComponentId, Level);
    with_state("DbgPrintEx", |m| m.debug_log.push(line));
    0
}

/// `KeBugCheckEx`: the driver stops the system. The simulation records the bugcheck and
/// aborts the test process with every finding listed (a bugcheck cannot be survived).
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn KeBugCheckEx(
    BugCheckCode: u32,
    BugCheckParameter1: ULONG_PTR,
    BugCheckParameter2: ULONG_PTR,
    BugCheckParameter3: ULONG_PTR,
    BugCheckParameter4: ULONG_PTR,
) -> ! {
    let finding = Finding::BugCheck {
        code: BugCheckCode,
        parameters: [
            BugCheckParameter1,
            BugCheckParameter2,
            BugCheckParameter3,
            BugCheckParameter4,
        ],
    };
    let text = alloc::format!("{finding}");
    with_state("KeBugCheckEx", |m| m.record(finding));
    fatal(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printf_subset_formats_integers_strings_and_missing_arguments() {
        let line = format_printf(
            b"rdmus: %d bytes at %p, tag %s, %lu%% %x %I64X %c %d",
            &[usize::MAX, 0x1000, 7, 42, 255, 0xab, 0x41],
            |p| alloc::format!("<str {p}>"),
        );
        assert_eq!(
            line,
            "rdmus: -1 bytes at 0x1000, tag <str 7>, 42% ff AB A <?>"
        );
    }
}
