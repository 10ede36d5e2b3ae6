//! The parts of `KSSTREAM_HEADER` that unpacking needs.

use core::fmt;
use dmus_sys::ks::{KSSTREAM_HEADER, KSTIME};

/// Why a stream header cannot be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderError {
    /// `PresentationTime.Denominator` is zero.
    ZeroDenominator,
    /// The presentation time does not fit 64 bits of 100 ns units.
    TimeOverflow,
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ZeroDenominator => "presentation time has a zero denominator",
            Self::TimeOverflow => "presentation time overflows",
        })
    }
}

/// What unpacking reads from a `KSSTREAM_HEADER`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IrpHeader {
    /// `PresentationTime` in 100 ns units.
    pub presentation_time: i64,
    /// `DataUsed`.
    pub data_used: u32,
    /// `FrameExtent`.
    pub frame_extent: u32,
}

impl IrpHeader {
    /// A header for a buffer of `len` bytes, all used, at `presentation_time`.
    #[must_use]
    pub fn for_buffer(presentation_time: i64, len: usize) -> Self {
        let len = u32::try_from(len).unwrap_or(u32::MAX);
        Self {
            presentation_time,
            data_used: len,
            frame_extent: len,
        }
    }

    /// Reads a stream header. `KSTIME` counts in units of
    /// `Numerator / Denominator` × 100 ns (ks.h).
    ///
    /// # Errors
    /// [`HeaderError`] for a zero denominator or a time that overflows.
    pub fn from_stream_header(header: &KSSTREAM_HEADER) -> Result<Self, HeaderError> {
        Ok(Self {
            presentation_time: ks_time_to_100ns(&header.PresentationTime)?,
            data_used: header.DataUsed,
            frame_extent: header.FrameExtent,
        })
    }
}

/// Converts a `KSTIME` to 100 ns units.
///
/// # Errors
/// [`HeaderError`] for a zero denominator or a result beyond `i64`.
pub fn ks_time_to_100ns(time: &KSTIME) -> Result<i64, HeaderError> {
    if time.Denominator == 0 {
        return Err(HeaderError::ZeroDenominator);
    }
    let scaled = i128::from(time.Time) * i128::from(time.Numerator) / i128::from(time.Denominator);
    i64::try_from(scaled).map_err(|_| HeaderError::TimeOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ks_time_scales_by_numerator_over_denominator() {
        let t = |time, n, d| {
            ks_time_to_100ns(&KSTIME {
                Time: time,
                Numerator: n,
                Denominator: d,
            })
        };
        assert_eq!(t(1_230_000, 1, 1), Ok(1_230_000));
        assert_eq!(t(123, 10_000, 1), Ok(1_230_000));
        assert_eq!(t(5, 1, 2), Ok(2));
        assert_eq!(t(5, 1, 0), Err(HeaderError::ZeroDenominator));
        assert_eq!(t(i64::MAX, 2, 1), Err(HeaderError::TimeOverflow));
    }
}
