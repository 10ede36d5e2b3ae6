//! `DbgPrintEx` and `KeBugCheckEx`.

use alloc::string::String;
use alloc::vec::Vec;
use core::ffi::{CStr, c_char};
use core::fmt::Write;

use dmus_sys::kernel::ULONG_PTR;

use crate::current::{fatal, with_state};
use crate::finding::Finding;

/// Formats a printf-style `format` as Windows' `DbgPrintEx` would (LLP64: `int` and `long` are
/// 32 bits, `ll`, `I64`, `z` and `I` mean 64 bits on x64), with register-sized `args`:
/// conversions `%d %i %u %x %X %p %c %s %%`; flags and width are accepted but not applied; a
/// `%s` precision bounds the bytes read; a `*` width or precision takes an argument. `%s`
/// arguments are read with `read_str(pointer, precision)`; missing arguments print `<?>`.
#[must_use]
pub fn format_printf(
    format: &[u8],
    args: &[usize],
    read_str: impl Fn(usize, Option<usize>) -> String,
) -> String {
    let mut out = String::new();
    let mut args = args.iter().copied();
    let mut bytes = format.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            out.push(char::from(b));
            continue;
        }
        let mut precision = None;
        let mut in_precision = false;
        let mut modifiers = String::new();
        while let Some(&c) = bytes.peek() {
            match c {
                b'.' => in_precision = true,
                b'*' => {
                    // An `int` argument: only its low 32 bits are defined.
                    let value = args
                        .next()
                        .map(|v| i32::from_ne_bytes(low_32(v).to_ne_bytes()));
                    if in_precision {
                        precision = value.and_then(|v| usize::try_from(v).ok());
                    }
                }
                b'0'..=b'9' if in_precision => {
                    precision = Some(precision.unwrap_or(0) * 10 + usize::from(c - b'0'));
                }
                b'l' | b'h' | b'z' | b'I' | b'6' | b'4'
                    if !in_precision || modifiers.is_empty() =>
                {
                    if c.is_ascii_alphabetic() || !modifiers.is_empty() {
                        modifiers.push(char::from(c));
                    }
                }
                b'0'..=b'9' | b'-' | b'+' | b' ' | b'#' => {}
                _ => break,
            }
            bytes.next();
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
        let wide = modifiers.contains("ll")
            || modifiers.contains("I64")
            || modifiers == "z"
            || modifiers == "I";
        let unsigned = if wide {
            arg as u64
        } else {
            u64::from(low_32(arg))
        };
        let signed = if wide {
            i64::from_ne_bytes(unsigned.to_ne_bytes())
        } else {
            i64::from(i32::from_ne_bytes(low_32(arg).to_ne_bytes()))
        };
        let _ = match conversion {
            b'd' | b'i' => write!(out, "{signed}"),
            b'u' => write!(out, "{unsigned}"),
            b'x' => write!(out, "{unsigned:x}"),
            b'X' => write!(out, "{unsigned:X}"),
            b'p' => write!(out, "{arg:#x}"),
            b'c' => write!(
                out,
                "{}",
                char::from(u8::try_from(arg & 0xFF).unwrap_or(b'?'))
            ),
            b's' => write!(out, "{}", read_str(arg, precision)),
            other => write!(out, "%{}", char::from(other)),
        };
    }
    out
}

/// The low 32 bits of a register-sized argument.
fn low_32(value: usize) -> u32 {
    u32::try_from(value & 0xFFFF_FFFF).unwrap_or(0)
}

/// Reads the `%s` argument at `pointer`: up to its NUL, and at most `precision` bytes.
///
/// # Safety
/// `pointer` is NULL or readable up to its NUL or `precision` bytes, whichever comes first.
unsafe fn read_c_string(pointer: usize, precision: Option<usize>) -> String {
    if pointer == 0 {
        return String::from("(null)");
    }
    let start = pointer as *const u8;
    let mut bytes = Vec::new();
    for i in 0..precision.unwrap_or(usize::MAX) {
        let at = start.wrapping_add(i);
        // SAFETY: within the string by the caller's contract (we stop at its NUL or precision).
        let byte = unsafe { at.read() };
        if byte == 0 {
            break;
        }
        bytes.push(byte);
    }
    String::from_utf8_lossy(&bytes).into_owned()
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
    // The kernel's copy of the line: the host's memory, not the driver's.
    let _kernel = crate::current::KernelCode::enter();
    if Format.is_null() {
        return 0;
    }
    // SAFETY: non-null and NUL-terminated by the caller's contract. Any IRQL.
    let format = unsafe { CStr::from_ptr(Format) }.to_bytes();
    let args = [a1, a2, a3];
    let line = format_printf(format, &args, |p, precision| {
        // SAFETY: a `%s` argument is a string of at least its precision or up to its NUL, by
        // the caller's contract.
        unsafe { read_c_string(p, precision) }
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
    let _kernel = crate::current::KernelCode::enter();
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
            &[0xdead_beef_ffff_ffff, 0x1000, 7, 42, 255, 0xab, 0x41],
            |p, _| alloc::format!("<str {p}>"),
        );
        assert_eq!(
            line,
            "rdmus: -1 bytes at 0x1000, tag <str 7>, 42% ff AB A <?>"
        );
    }

    #[test]
    fn star_precision_bounds_a_string_without_terminator() {
        let text = b"hello world";
        let line = format_printf(
            b"[%.*s] %5.2d %lld %ld %lu",
            &[
                0x1234_0000_0005,
                text.as_ptr() as usize,
                7,
                usize::MAX,
                usize::MAX,
                usize::MAX,
            ],
            |p, precision| {
                // SAFETY: `p` is `text`, and the precision (5) is within it.
                unsafe { read_c_string(p, precision) }
            },
        );
        assert_eq!(line, "[hello] 7 -1 -1 4294967295");
    }
}
