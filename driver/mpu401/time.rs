//! Timestamps the ISR can take, and the stream report for properties.

use com_object::ComObject;
use dmus_sys::com::IUnknown;
use dmus_sys::imports::KeQueryPerformanceCounter;
use dmus_sys::kernel::LARGE_INTEGER;

use super::capture::CaptureStream;
use super::properties::StreamReport;
use super::render::RenderStream;

/// The performance counter in 100 ns units: callable at any IRQL (the ISR
/// stamps each input byte with it; the capture DPC maps it to master time).
#[must_use]
pub fn qpc_100ns() -> u64 {
    let mut frequency = LARGE_INTEGER::from_quad(0);
    // SAFETY: KeQueryPerformanceCounter may be called at any IRQL and writes
    // the frequency to a valid LARGE_INTEGER.
    let counter = unsafe { KeQueryPerformanceCounter(&raw mut frequency) };
    // SAFETY: both LARGE_INTEGER members are plain integers over all 8 bytes. Any IRQL (memory
    // only).
    let counter = unsafe { counter.QuadPart };
    // SAFETY: as above. Any IRQL (memory only).
    let frequency = unsafe { frequency.QuadPart };
    ticks_to_100ns(counter, frequency)
}

/// Converts counter ticks at `frequency` Hz to 100 ns units (saturating).
///
/// Whole seconds and the remainder are scaled apart, which stays in `u64`
/// for any counter frequency below 1.8 THz (a 128-bit division would pull
/// compiler-builtins code with unwind tables into the ARM64 image).
#[must_use]
pub fn ticks_to_100ns(counter: i64, frequency: i64) -> u64 {
    const PER_SECOND: u64 = 10_000_000;
    let (Ok(counter), Ok(frequency)) = (u64::try_from(counter), u64::try_from(frequency)) else {
        return 0;
    };
    if frequency == 0 {
        return 0;
    }
    let seconds = counter / frequency;
    let rest = counter % frequency;
    seconds
        .saturating_mul(PER_SECOND)
        .saturating_add(rest.saturating_mul(PER_SECOND) / frequency)
}

/// Which stream an `IMXF` of this miniport belongs to: the first field of both stream
/// types (`#[repr(C)]`), which sits at the same offset in both objects (checked at compile
/// time below), so a pointer PortCls hands back as `MinorTarget` tells its type without
/// touching the vtables.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamKind {
    /// [`RenderStream`].
    Render = 0x5244_4E52,
    /// [`CaptureStream`].
    Capture = 0x5244_4E43,
}

/// Where [`StreamKind`] lies in either stream object.
const KIND_OFFSET: usize = ComObject::<RenderStream>::VALUE_OFFSET;
const _: () = assert!(
    ComObject::<CaptureStream>::VALUE_OFFSET == KIND_OFFSET,
    "both stream objects keep their kind at one offset"
);

/// The report of the stream behind a property request's `MinorTarget`.
///
/// # Safety
/// `minor` is null or the `IUnknown` of one of this miniport's live streams (PortCls
/// passes the stream of the pin the request addresses).
pub unsafe fn stream_report(minor: *mut IUnknown) -> Option<StreamReport> {
    if minor.is_null() {
        return None;
    }
    // SAFETY: both stream objects keep their `#[repr(C)]` value, whose first field is the
    // kind, at KIND_OFFSET (asserted above); live per the caller. Any IRQL (memory only).
    let kind = unsafe {
        minor
            .wrapping_byte_add(KIND_OFFSET)
            .cast::<StreamKind>()
            .read()
    };
    let report = match kind {
        StreamKind::Render => {
            // SAFETY: the tag says which stream it is; live per the caller. Any IRQL (memory
            // only).
            unsafe { ComObject::<RenderStream>::from_interface(minor) }?.report()
        }
        StreamKind::Capture => {
            // SAFETY: as above. Any IRQL (memory only).
            unsafe { ComObject::<CaptureStream>::from_interface(minor) }?.report()
        }
    };
    Some(report)
}

#[cfg(test)]
mod tests {
    use super::ticks_to_100ns;

    #[test]
    fn counter_ticks_become_100ns_units() {
        assert_eq!(ticks_to_100ns(10_000_000, 10_000_000), 10_000_000);
        assert_eq!(ticks_to_100ns(3_579_545, 3_579_545), 10_000_000);
        assert_eq!(ticks_to_100ns(1, 0), 0);
        assert_eq!(ticks_to_100ns(3_579_545 * 3 + 1, 3_579_545), 30_000_002);
        assert_eq!(ticks_to_100ns(i64::MAX, 1), u64::MAX);
        assert_eq!(ticks_to_100ns(-5, 10), 0);
    }
}
