//! Debug output to the kernel debugger.
//!
//! With the `wdk` feature, `wdk::println!`; otherwise `DbgPrintEx` for the
//! audio-driver component (`DPFLTR_IHVAUDIO_ID`), which the host simulation
//! also defines, so the same calls run in tests.

/// Prints `message` (prefixed with `rdmus: `) at the given `DPFLTR_*` level.
pub fn trace(level: u32, message: &str) {
    #[cfg(all(target_os = "windows", feature = "wdk"))]
    {
        let _ = level;
        wdk::println!("rdmus: {message}");
    }
    #[cfg(not(all(target_os = "windows", feature = "wdk")))]
    {
        // `%.*s` prints exactly `len` bytes: the message needs no terminator.
        let len = i32::try_from(message.len()).unwrap_or(i32::MAX);
        // SAFETY: DbgPrintEx runs at IRQL ≤ DIRQL; the format is a valid C
        // string whose one `%.*s` takes an int length and a byte pointer,
        // which are the two variadic arguments given.
        unsafe {
            dmus_sys::imports::DbgPrintEx(
                dmus_sys::imports::DPFLTR_IHVAUDIO_ID,
                level,
                c"rdmus: %.*s\n".as_ptr(),
                len,
                message.as_ptr(),
            );
        }
    }
}
