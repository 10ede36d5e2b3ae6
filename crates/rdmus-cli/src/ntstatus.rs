//! `NTSTATUS` values by name: the statuses the driver and the simulated
//! kernel return, so that a failure reads `STATUS_DEVICE_DOES_NOT_EXIST
//! (0xc00000c0)` rather than a bare number. Values from ntstatus.h
//! (mingw-w64's copy is compared with this table in the tests).

use core::fmt;

/// (name, value) of every status the tool may meet by name.
pub const NAMES: [(&str, u32); 25] = [
    ("STATUS_SUCCESS", 0x0000_0000),
    ("STATUS_TIMEOUT", 0x0000_0102),
    ("STATUS_PENDING", 0x0000_0103),
    ("STATUS_BUFFER_OVERFLOW", 0x8000_0005),
    ("STATUS_UNSUCCESSFUL", 0xC000_0001),
    ("STATUS_NOT_IMPLEMENTED", 0xC000_0002),
    ("STATUS_ACCESS_VIOLATION", 0xC000_0005),
    ("STATUS_INVALID_PARAMETER", 0xC000_000D),
    ("STATUS_INVALID_DEVICE_REQUEST", 0xC000_0010),
    ("STATUS_NO_MEMORY", 0xC000_0017),
    ("STATUS_ALREADY_COMMITTED", 0xC000_0021),
    ("STATUS_BUFFER_TOO_SMALL", 0xC000_0023),
    ("STATUS_INTEGER_OVERFLOW", 0xC000_0095),
    ("STATUS_INSUFFICIENT_RESOURCES", 0xC000_009A),
    ("STATUS_DEVICE_NOT_READY", 0xC000_00A3),
    ("STATUS_NOT_SUPPORTED", 0xC000_00BB),
    ("STATUS_DEVICE_DOES_NOT_EXIST", 0xC000_00C0),
    ("STATUS_CANCELLED", 0xC000_0120),
    ("STATUS_DEVICE_CONFIGURATION_ERROR", 0xC000_0182),
    ("STATUS_INVALID_DEVICE_STATE", 0xC000_0184),
    ("STATUS_IO_DEVICE_ERROR", 0xC000_0185),
    ("STATUS_INVALID_BUFFER_SIZE", 0xC000_0206),
    ("STATUS_NOT_FOUND", 0xC000_0225),
    ("STATUS_NO_MATCH", 0xC000_0272),
    ("STATUS_NOINTERFACE", 0xC000_02B9),
];

/// The name of `status`, if the table has it.
#[must_use]
pub fn name(status: i32) -> Option<&'static str> {
    let bits = u32::from_ne_bytes(status.to_ne_bytes());
    NAMES
        .iter()
        .find(|&&(_, value)| value == bits)
        .map(|&(name, _)| name)
}

/// An `NTSTATUS` printed by name and value (`0x…` alone when unnamed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub i32);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match name(self.0) {
            Some(name) => write!(f, "{name} ({:#010x})", self.0),
            None => write!(f, "{:#010x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{NAMES, Status, name};

    #[test]
    fn statuses_print_by_name_and_value() {
        assert_eq!(
            Status(dmus_sys::kernel::STATUS_DEVICE_DOES_NOT_EXIST).to_string(),
            "STATUS_DEVICE_DOES_NOT_EXIST (0xc00000c0)"
        );
        assert_eq!(
            name(dmus_sys::kernel::STATUS_INSUFFICIENT_RESOURCES),
            Some("STATUS_INSUFFICIENT_RESOURCES")
        );
        assert_eq!(Status(0x1234).to_string(), "0x00001234");
    }

    #[test]
    fn the_table_matches_mingw_w64_ntstatus_h() {
        let path = "/usr/x86_64-w64-mingw32/include/ntstatus.h";
        let Ok(header) = std::fs::read_to_string(path) else {
            eprintln!("skipped: {path} absent (Debian's mingw-w64 package installs it)");
            return;
        };
        for (name, value) in NAMES {
            let define = format!("#define {name} ((NTSTATUS){value:#010X})").replace("0X", "0x");
            assert!(header.contains(&define), "{define} not in {path}");
        }
    }
}
