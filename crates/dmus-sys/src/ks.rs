//! Kernel Streaming types the DirectMusic path uses (ks.h).

use crate::pin_layout;

/// `KSSTATE` (ks.h): the state of a pin.
pub type KSSTATE = i32;
/// `KSSTATE_STOP`.
pub const KSSTATE_STOP: KSSTATE = 0;
/// `KSSTATE_ACQUIRE`.
pub const KSSTATE_ACQUIRE: KSSTATE = 1;
/// `KSSTATE_PAUSE`.
pub const KSSTATE_PAUSE: KSSTATE = 2;
/// `KSSTATE_RUN`.
pub const KSSTATE_RUN: KSSTATE = 3;

/// `KSTIME` (ks.h): a time and the fraction that converts it to 100 ns units.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSTIME {
    /// The time, in units of `Numerator / Denominator` × 100 ns.
    pub Time: i64,
    /// Numerator of the scale.
    pub Numerator: u32,
    /// Denominator of the scale.
    pub Denominator: u32,
}

pin_layout!(KSTIME, "ks.h", size (16, 16), align (8, 8), {
    Time: (0, 0),
    Numerator: (8, 8),
    Denominator: (12, 12),
});

/// `KSSTREAM_HEADER` (ks.h). On 64-bit targets the header carries one more
/// `ULONG Reserved` (declared under `#if defined(_WIN64)`), so its size is 0x38
/// there and 0x30 on x86.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KSSTREAM_HEADER {
    /// Size of this header plus any extended header, in bytes.
    pub Size: u32,
    /// Type-specific flags.
    pub TypeSpecificFlags: u32,
    /// When the data is to be presented.
    pub PresentationTime: KSTIME,
    /// Duration of the data.
    pub Duration: i64,
    /// Size of the data buffer.
    pub FrameExtent: u32,
    /// Bytes of the buffer in use.
    pub DataUsed: u32,
    /// The data buffer.
    pub Data: *mut core::ffi::c_void,
    /// `KSSTREAM_HEADER_OPTIONSF_*`.
    pub OptionsFlags: u32,
    /// Present on 64-bit Windows only.
    #[cfg(target_pointer_width = "64")]
    pub Reserved: u32,
}

pin_layout!(KSSTREAM_HEADER, "ks.h", size (0x30, 0x38), align (8, 8), {
    Size: (0, 0),
    TypeSpecificFlags: (4, 4),
    PresentationTime: (8, 8),
    Duration: (0x18, 0x18),
    FrameExtent: (0x20, 0x20),
    DataUsed: (0x24, 0x24),
    Data: (0x28, 0x28),
    OptionsFlags: (0x2c, 0x30),
});
