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
        Self { Data1: data1, Data2: data2, Data3: data3, Data4: data4 }
    }

    /// Parses the registry form `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (no braces) at compile
    /// time; panics (a compile error in const context) on malformed text.
    #[must_use]
    pub const fn parse(text: &str) -> Self {
        let b = text.as_bytes();
        assert!(b.len() == 36, "GUID text must be 36 characters");
        assert!(b[8] == b'-' && b[13] == b'-' && b[18] == b'-' && b[23] == b'-', "GUID dashes");
        let data1 = hex_run(b, 0, 8) as u32;
        let data2 = hex_run(b, 9, 4) as u16;
        let data3 = hex_run(b, 14, 4) as u16;
        let mut data4 = [0u8; 8];
        data4[0] = hex_run(b, 19, 2) as u8;
        data4[1] = hex_run(b, 21, 2) as u8;
        let mut i = 0;
        while i < 6 {
            data4[2 + i] = hex_run(b, 24 + 2 * i, 2) as u8;
            i += 1;
        }
        Self::from_fields(data1, data2, data3, data4)
    }
}

const fn hex_run(b: &[u8], start: usize, len: usize) -> u64 {
    let mut v = 0u64;
    let mut i = 0;
    while i < len {
        let c = b[start + i];
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => panic!("GUID text has a non-hex digit"),
        };
        v = (v << 4) | d as u64;
        i += 1;
    }
    v
}

/// `REFGUID` / `REFIID` / `REFCLSID`.
pub type REFGUID = *const GUID;
