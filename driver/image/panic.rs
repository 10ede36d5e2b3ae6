//! Panics stop the machine with a bugcheck that names rdmus and the place.
//!
//! Kernel code cannot unwind and must not keep running after a broken
//! invariant. Like wdk-panic 0.5, the bugcheck parameters carry the panic
//! location: the file name's address and length, the line and the column, so
//! a crash dump shows where (`da <param1> L<param2>` prints the file name).

use core::panic::Location;

/// rdmus's bugcheck code: the ASCII bytes `RDMP` ("rdmus panic") read as a
/// big-endian number, 0x52444D50, recognisable in `!analyze` output.
pub const PANIC_BUGCHECK_CODE: u32 = u32::from_be_bytes(*b"RDMP");

/// `KeBugCheckEx`'s four parameters for a panic at `location`:
/// file name address, file name length, line, column (all zero if unknown).
#[must_use]
pub fn bugcheck_parameters(location: Option<&Location<'_>>) -> [usize; 4] {
    location.map_or([0; 4], |location| {
        [
            location.file().as_ptr() as usize,
            location.file().len(),
            location.line() as usize,
            location.column() as usize,
        ]
    })
}

/// The Windows image's panic handler (the `wdk` feature uses wdk-panic instead).
#[cfg(all(target_os = "windows", not(feature = "wdk"), not(test)))]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    let [file, file_len, line, column] = bugcheck_parameters(info.location());
    // SAFETY: KeBugCheckEx may be called at any IRQL and never returns; its
    // parameters are plain numbers for the crash dump.
    unsafe { dmus_sys::imports::KeBugCheckEx(PANIC_BUGCHECK_CODE, file, file_len, line, column) }
}

#[cfg(test)]
mod tests {
    use core::panic::Location;

    use super::{PANIC_BUGCHECK_CODE, bugcheck_parameters};

    #[test]
    fn the_code_spells_rdmp() {
        assert_eq!(PANIC_BUGCHECK_CODE, 0x5244_4D50);
    }

    #[test]
    fn the_parameters_locate_the_panic() {
        let here = Location::caller();
        let [file, len, line, column] = bugcheck_parameters(Some(here));
        assert_eq!(file, here.file().as_ptr() as usize);
        assert_eq!(len, here.file().len());
        assert!(here.file().ends_with("panic.rs"));
        assert_eq!(line, here.line() as usize);
        assert_eq!(column, here.column() as usize);
        assert_eq!(bugcheck_parameters(None), [0; 4]);
    }
}
