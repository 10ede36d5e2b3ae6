//! `GUID` (guiddef.h).

/// A COM GUID, laid out as in guiddef.h: `{ ULONG Data1; USHORT Data2; USHORT Data3; UCHAR Data4[8]; }`.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct GUID {
    /// First 32 bits.
    pub Data1: u32,
    /// Next 16 bits.
    pub Data2: u16,
    /// Next 16 bits.
    pub Data3: u16,
    /// Last 64 bits, in byte order.
    pub Data4: [u8; 8],
}

impl GUID {
    /// Builds a GUID from its textual form's fields, as `DEFINE_GUID` does.
    #[must_use]
    pub const fn from_fields(data1: u32, data2: u16, data3: u16, data4: [u8; 8]) -> Self {
        Self {
            Data1: data1,
            Data2: data2,
            Data3: data3,
            Data4: data4,
        }
    }

    /// Parses the registry form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (no braces, either case)
    /// at compile time.
    ///
    /// # Panics
    ///
    /// On malformed text: wrong length, a missing dash or a non-hex digit. Used in `const`
    /// items, where that panic is a compile error.
    #[must_use]
    pub const fn parse(text: &str) -> Self {
        let bytes = text.as_bytes();
        assert!(bytes.len() == 36, "GUID text must be 36 characters");
        assert!(
            bytes[8] == b'-' && bytes[13] == b'-' && bytes[18] == b'-' && bytes[23] == b'-',
            "GUID text must have dashes at 8, 13, 18 and 23"
        );
        let mut data4 = [0u8; 8];
        data4[0] = hex_byte(bytes, 19);
        data4[1] = hex_byte(bytes, 21);
        let mut index = 0;
        while index < 6 {
            data4[2 + index] = hex_byte(bytes, 24 + 2 * index);
            index += 1;
        }
        Self::from_fields(
            u32::from_be_bytes([
                hex_byte(bytes, 0),
                hex_byte(bytes, 2),
                hex_byte(bytes, 4),
                hex_byte(bytes, 6),
            ]),
            u16::from_be_bytes([hex_byte(bytes, 9), hex_byte(bytes, 11)]),
            u16::from_be_bytes([hex_byte(bytes, 14), hex_byte(bytes, 16)]),
            data4,
        )
    }
}

/// The byte written as two hex digits at `bytes[at..at + 2]`.
const fn hex_byte(bytes: &[u8], at: usize) -> u8 {
    (hex_digit(bytes[at]) << 4) | hex_digit(bytes[at + 1])
}

/// The value of one hex digit.
const fn hex_digit(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        b'A'..=b'F' => digit - b'A' + 10,
        _ => panic!("GUID text has a non-hex digit"),
    }
}

/// `REFGUID` / `REFIID` / `REFCLSID`.
pub type REFGUID = *const GUID;
