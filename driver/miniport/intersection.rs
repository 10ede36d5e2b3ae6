//! `IMiniport::DataRangeIntersection` for music pins.
//!
//! KS asks the miniport for the best format that lies in both the client's
//! data range and one of the pin's. Music ranges have no parameters beyond
//! their three GUIDs, so the intersection is our range's format when each of
//! the client's GUIDs equals ours or is the wildcard (`GUID_NULL`: ks.h defines
//! `KSDATAFORMAT_TYPE_WILDCARD`, `_SUBTYPE_WILDCARD` and `_SPECIFIER_WILDCARD`
//! as `GUID_NULL`). The result is a plain `KSDATAFORMAT`, the format the port
//! checks when a pin is opened.

use dmus_sys::GUID;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_PARAMETER,
    STATUS_NO_MATCH, STATUS_SUCCESS,
};
use dmus_sys::ks::KSDATAFORMAT;

/// The wildcard GUID of ks.h (`GUID_NULL`).
pub const WILDCARD: GUID = GUID::from_fields(0, 0, 0, [0; 8]);

/// Bytes of the resulting format.
#[allow(
    clippy::cast_possible_truncation,
    reason = "KSDATAFORMAT is 64 bytes (pinned in dmus-sys)"
)]
pub const FORMAT_SIZE: u32 = core::mem::size_of::<KSDATAFORMAT>() as u32;

fn matches(client: &GUID, ours: &GUID) -> bool {
    *client == *ours || *client == WILDCARD
}

/// The format in both ranges, if any.
#[must_use]
pub fn intersect(client: &KSDATAFORMAT, ours: &KSDATAFORMAT) -> Option<KSDATAFORMAT> {
    let fits = matches(&client.MajorFormat, &ours.MajorFormat)
        && matches(&client.SubFormat, &ours.SubFormat)
        && matches(&client.Specifier, &ours.Specifier);
    fits.then_some(KSDATAFORMAT {
        FormatSize: FORMAT_SIZE,
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: ours.MajorFormat,
        SubFormat: ours.SubFormat,
        Specifier: ours.Specifier,
    })
}

/// What to answer for a buffer of `output_length` bytes: the status and the
/// length to report, and whether to write the format.
#[must_use]
pub fn answer(found: Option<&KSDATAFORMAT>, output_length: u32) -> (NTSTATUS, u32, bool) {
    match found {
        None => (STATUS_NO_MATCH, 0, false),
        Some(_) if output_length == 0 => (STATUS_BUFFER_OVERFLOW, FORMAT_SIZE, false),
        Some(_) if output_length < FORMAT_SIZE => (STATUS_BUFFER_TOO_SMALL, FORMAT_SIZE, false),
        Some(_) => (STATUS_SUCCESS, FORMAT_SIZE, true),
    }
}

/// The whole `DataRangeIntersection` over raw arguments, given our range for the pin.
///
/// # Safety
/// `client` is null or a readable `KSDATARANGE`; `result` is null or writable for
/// `output_length` bytes; `result_length` is null or writable. IRQL PASSIVE_LEVEL.
pub unsafe fn data_range_intersection(
    ours: Option<&KSDATAFORMAT>,
    client: *const KSDATAFORMAT,
    output_length: u32,
    result: *mut core::ffi::c_void,
    result_length: *mut u32,
) -> NTSTATUS {
    if client.is_null() || result_length.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let Some(ours) = ours else {
        return STATUS_NO_MATCH;
    };
    // SAFETY: a readable range (caller's contract); unaligned because KS
    // buffers need not be 8-aligned. Any IRQL (memory only).
    let client = unsafe { client.read_unaligned() };
    if client.FormatSize < FORMAT_SIZE {
        return STATUS_INVALID_PARAMETER;
    }
    let found = intersect(&client, ours);
    let (status, length, write) = answer(found.as_ref(), output_length);
    if write {
        if result.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        if let Some(format) = found {
            // SAFETY: `result` holds output_length ≥ FORMAT_SIZE writable bytes. Any IRQL (memory
            // only).
            unsafe { result.cast::<KSDATAFORMAT>().write_unaligned(format) };
        }
    }
    // SAFETY: a writable ULONG (caller's contract). Any IRQL (memory only).
    unsafe { result_length.write(length) };
    status
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{
        STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_NO_MATCH, STATUS_SUCCESS,
    };
    use dmus_sys::ks::KSDATAFORMAT;
    use dmus_sys::ks_guids::{
        KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
        KSDATAFORMAT_TYPE_AUDIO, KSDATAFORMAT_TYPE_MUSIC,
    };

    use super::{FORMAT_SIZE, WILDCARD, data_range_intersection, intersect};

    fn range(major: dmus_sys::GUID, sub: dmus_sys::GUID, spec: dmus_sys::GUID) -> KSDATAFORMAT {
        KSDATAFORMAT {
            FormatSize: 96,
            MajorFormat: major,
            SubFormat: sub,
            Specifier: spec,
            ..KSDATAFORMAT::default()
        }
    }

    #[test]
    fn equal_and_wildcard_guids_intersect_to_our_format() {
        let midi = range(
            KSDATAFORMAT_TYPE_MUSIC,
            KSDATAFORMAT_SUBTYPE_MIDI,
            KSDATAFORMAT_SPECIFIER_NONE,
        );
        let exact = intersect(&midi, &midi).unwrap();
        assert_eq!(exact.FormatSize, FORMAT_SIZE);
        assert_eq!(exact.SubFormat, KSDATAFORMAT_SUBTYPE_MIDI);
        let any = range(KSDATAFORMAT_TYPE_MUSIC, WILDCARD, WILDCARD);
        assert_eq!(intersect(&any, &midi), Some(exact));
        let dmusic = range(
            KSDATAFORMAT_TYPE_MUSIC,
            KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
            KSDATAFORMAT_SPECIFIER_NONE,
        );
        assert_eq!(intersect(&dmusic, &midi), None);
        let audio = range(KSDATAFORMAT_TYPE_AUDIO, WILDCARD, WILDCARD);
        assert_eq!(intersect(&audio, &midi), None);
    }

    #[test]
    fn the_raw_call_follows_the_size_protocol() {
        let midi = range(
            KSDATAFORMAT_TYPE_MUSIC,
            KSDATAFORMAT_SUBTYPE_MIDI,
            KSDATAFORMAT_SPECIFIER_NONE,
        );
        let client = range(KSDATAFORMAT_TYPE_MUSIC, WILDCARD, WILDCARD);
        let mut length = 0u32;
        let mut out = KSDATAFORMAT::default();
        // SAFETY: valid pointers to locals for every call below. Host test, PASSIVE_LEVEL.
        let status = unsafe {
            data_range_intersection(
                Some(&midi),
                &raw const client,
                0,
                core::ptr::null_mut(),
                &raw mut length,
            )
        };
        assert_eq!((status, length), (STATUS_BUFFER_OVERFLOW, FORMAT_SIZE));
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let status = unsafe {
            data_range_intersection(
                Some(&midi),
                &raw const client,
                8,
                (&raw mut out).cast(),
                &raw mut length,
            )
        };
        assert_eq!(status, STATUS_BUFFER_TOO_SMALL);
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let status = unsafe {
            data_range_intersection(
                Some(&midi),
                &raw const client,
                FORMAT_SIZE,
                (&raw mut out).cast(),
                &raw mut length,
            )
        };
        assert_eq!((status, length), (STATUS_SUCCESS, FORMAT_SIZE));
        assert_eq!(out.SubFormat, KSDATAFORMAT_SUBTYPE_MIDI);
        // SAFETY: as above. Host test, PASSIVE_LEVEL.
        let status = unsafe {
            data_range_intersection(
                None,
                &raw const client,
                FORMAT_SIZE,
                (&raw mut out).cast(),
                &raw mut length,
            )
        };
        assert_eq!(status, STATUS_NO_MATCH);
    }
}
