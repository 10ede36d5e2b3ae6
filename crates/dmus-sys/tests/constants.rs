//! Status codes and debug-print ids, pinned to the hex literals of ntstatus.h (mingw-w64
//! include/ntstatus.h) and the `DPFLTR_TYPE` enum of dpfilter.h (`ReactOS` sdk/include/psdk,
//! mingw-w64 include): an edit that breaks one of them fails here, not on a Windows machine.

use dmus_sys::imports::{DPFLTR_ERROR_LEVEL, DPFLTR_IHVAUDIO_ID, DPFLTR_INFO_LEVEL};
use dmus_sys::kernel::*;

#[test]
fn status_codes_have_their_header_bit_patterns() {
    let codes: [(NTSTATUS, u32, &str); 17] = [
        (STATUS_SUCCESS, 0x0000_0000, "STATUS_SUCCESS"),
        (STATUS_PENDING, 0x0000_0103, "STATUS_PENDING"),
        (
            STATUS_BUFFER_OVERFLOW,
            0x8000_0005,
            "STATUS_BUFFER_OVERFLOW",
        ),
        (STATUS_UNSUCCESSFUL, 0xC000_0001, "STATUS_UNSUCCESSFUL"),
        (
            STATUS_NOT_IMPLEMENTED,
            0xC000_0002,
            "STATUS_NOT_IMPLEMENTED",
        ),
        (
            STATUS_INVALID_PARAMETER,
            0xC000_000D,
            "STATUS_INVALID_PARAMETER",
        ),
        (
            STATUS_INVALID_DEVICE_REQUEST,
            0xC000_0010,
            "STATUS_INVALID_DEVICE_REQUEST",
        ),
        (
            STATUS_BUFFER_TOO_SMALL,
            0xC000_0023,
            "STATUS_BUFFER_TOO_SMALL",
        ),
        (
            STATUS_INSUFFICIENT_RESOURCES,
            0xC000_009A,
            "STATUS_INSUFFICIENT_RESOURCES",
        ),
        (
            STATUS_DEVICE_NOT_CONNECTED,
            0xC000_009D,
            "STATUS_DEVICE_NOT_CONNECTED",
        ),
        (
            STATUS_DEVICE_NOT_READY,
            0xC000_00A3,
            "STATUS_DEVICE_NOT_READY",
        ),
        (STATUS_NOT_SUPPORTED, 0xC000_00BB, "STATUS_NOT_SUPPORTED"),
        (
            STATUS_INVALID_DEVICE_STATE,
            0xC000_0184,
            "STATUS_INVALID_DEVICE_STATE",
        ),
        (
            STATUS_IO_DEVICE_ERROR,
            0xC000_0185,
            "STATUS_IO_DEVICE_ERROR",
        ),
        (STATUS_NO_MATCH, 0xC000_0272, "STATUS_NO_MATCH"),
        (STATUS_NOINTERFACE, 0xC000_02B9, "STATUS_NOINTERFACE"),
        (
            STATUS_PROPSET_NOT_FOUND,
            0xC000_0230,
            "STATUS_PROPSET_NOT_FOUND",
        ),
    ];
    for (value, bits, name) in codes {
        assert_eq!(value.cast_unsigned(), bits, "{name}");
    }
}

#[test]
fn nt_success_splits_on_the_severity_bit() {
    assert!(NT_SUCCESS(STATUS_SUCCESS));
    assert!(NT_SUCCESS(STATUS_PENDING));
    assert!(
        !NT_SUCCESS(STATUS_BUFFER_OVERFLOW),
        "warnings are not success"
    );
    assert!(!NT_SUCCESS(STATUS_UNSUCCESSFUL));
    assert!(!NT_SUCCESS(STATUS_NO_MATCH));
}

#[test]
fn debug_print_ids_match_dpfilter() {
    assert_eq!(DPFLTR_IHVAUDIO_ID, 79);
    assert_eq!(DPFLTR_ERROR_LEVEL, 0);
    assert_eq!(DPFLTR_INFO_LEVEL, 3);
}

#[test]
fn irql_levels_match_wdm() {
    assert_eq!((PASSIVE_LEVEL, APC_LEVEL, DISPATCH_LEVEL), (0, 1, 2));
    // The host is 64-bit: HIGH_LEVEL is the x64/ARM64 value.
    #[cfg(target_pointer_width = "64")]
    assert_eq!(HIGH_LEVEL, 15);
}

#[test]
fn set_timer_parameters_start_zeroed() {
    let params = ExInitializeSetTimerParameters();
    assert_eq!(
        params,
        EXT_SET_PARAMETERS {
            Version: 0,
            Reserved: 0,
            NoWakeTolerance: 0
        }
    );
    assert_eq!(EX_TIMER_HIGH_RESOLUTION, 4);
}

#[test]
fn pool_flags_match_wdm() {
    assert_eq!(POOL_FLAG_NON_PAGED, 0x40);
    assert_eq!(POOL_FLAG_UNINITIALIZED, 0x2);
    assert_eq!(POOL_FLAG_CACHE_ALIGNED, 0x8);
    assert_eq!(NonPagedPoolNx, 512);
}
