//! `NTSTATUS` and the status codes rdmus returns or checks (ntstatus.h; values checked against
//! mingw-w64-headers/include/ntstatus.h and ReactOS sdk/include/psdk/ntstatus.h).

/// `NTSTATUS` (ntdef.h): severity in the top two bits; negative means failure.
pub type NTSTATUS = i32;

/// `NT_SUCCESS(Status)` (ntdef.h): success and informational codes are non-negative.
#[must_use]
pub const fn NT_SUCCESS(status: NTSTATUS) -> bool {
    status >= 0
}

/// Reinterprets an `0xC…` literal from ntstatus.h as the signed `NTSTATUS` it is.
// The wrap is the point: ntstatus.h writes `((NTSTATUS)0xC0000001)`.
#[allow(clippy::cast_possible_wrap)]
const fn s(v: u32) -> NTSTATUS {
    v as NTSTATUS
}

/// `STATUS_SUCCESS`.
pub const STATUS_SUCCESS: NTSTATUS = s(0x0000_0000);
/// `STATUS_TIMEOUT`.
pub const STATUS_TIMEOUT: NTSTATUS = s(0x0000_0102);
/// `STATUS_PENDING`.
pub const STATUS_PENDING: NTSTATUS = s(0x0000_0103);
/// `STATUS_BUFFER_OVERFLOW` (a warning: the data was truncated to fit).
pub const STATUS_BUFFER_OVERFLOW: NTSTATUS = s(0x8000_0005);
/// `STATUS_PARTIAL_COPY`: not all the requested bytes could be copied (what the
/// simulation's `MmCopyMemory` returns for a short copy; a warning, so not `NT_SUCCESS`).
pub const STATUS_PARTIAL_COPY: NTSTATUS = s(0x8000_000D);
/// `STATUS_DEVICE_BUSY`.
pub const STATUS_DEVICE_BUSY: NTSTATUS = s(0x8000_0011);
/// `STATUS_NO_MORE_ENTRIES`.
pub const STATUS_NO_MORE_ENTRIES: NTSTATUS = s(0x8000_001A);
/// `STATUS_UNSUCCESSFUL`.
pub const STATUS_UNSUCCESSFUL: NTSTATUS = s(0xC000_0001);
/// `STATUS_NOT_IMPLEMENTED`.
pub const STATUS_NOT_IMPLEMENTED: NTSTATUS = s(0xC000_0002);
/// `STATUS_ACCESS_VIOLATION`: what `ProbeForRead` raises for a range outside user space.
pub const STATUS_ACCESS_VIOLATION: NTSTATUS = s(0xC000_0005);
/// `STATUS_INVALID_PARAMETER`.
pub const STATUS_INVALID_PARAMETER: NTSTATUS = s(0xC000_000D);
/// `STATUS_INVALID_DEVICE_REQUEST`.
pub const STATUS_INVALID_DEVICE_REQUEST: NTSTATUS = s(0xC000_0010);
/// `STATUS_NO_MEMORY`.
pub const STATUS_NO_MEMORY: NTSTATUS = s(0xC000_0017);
/// `STATUS_ALREADY_COMMITTED`.
pub const STATUS_ALREADY_COMMITTED: NTSTATUS = s(0xC000_0021);
/// `STATUS_BUFFER_TOO_SMALL`.
pub const STATUS_BUFFER_TOO_SMALL: NTSTATUS = s(0xC000_0023);
/// `STATUS_OBJECT_NAME_NOT_FOUND`.
pub const STATUS_OBJECT_NAME_NOT_FOUND: NTSTATUS = s(0xC000_0034);
/// `STATUS_INTEGER_OVERFLOW`.
pub const STATUS_INTEGER_OVERFLOW: NTSTATUS = s(0xC000_0095);
/// `STATUS_INSUFFICIENT_RESOURCES`.
pub const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS = s(0xC000_009A);
/// `STATUS_DEVICE_NOT_CONNECTED`.
pub const STATUS_DEVICE_NOT_CONNECTED: NTSTATUS = s(0xC000_009D);
/// `STATUS_DEVICE_NOT_READY`.
pub const STATUS_DEVICE_NOT_READY: NTSTATUS = s(0xC000_00A3);
/// `STATUS_NOT_SUPPORTED`.
pub const STATUS_NOT_SUPPORTED: NTSTATUS = s(0xC000_00BB);
/// `STATUS_DEVICE_DOES_NOT_EXIST`.
pub const STATUS_DEVICE_DOES_NOT_EXIST: NTSTATUS = s(0xC000_00C0);
/// `STATUS_CANCELLED`.
pub const STATUS_CANCELLED: NTSTATUS = s(0xC000_0120);
/// `STATUS_DEVICE_CONFIGURATION_ERROR`.
pub const STATUS_DEVICE_CONFIGURATION_ERROR: NTSTATUS = s(0xC000_0182);
/// `STATUS_INVALID_DEVICE_STATE`.
pub const STATUS_INVALID_DEVICE_STATE: NTSTATUS = s(0xC000_0184);
/// `STATUS_IO_DEVICE_ERROR`.
pub const STATUS_IO_DEVICE_ERROR: NTSTATUS = s(0xC000_0185);
/// `STATUS_INVALID_BUFFER_SIZE`.
pub const STATUS_INVALID_BUFFER_SIZE: NTSTATUS = s(0xC000_0206);
/// `STATUS_NOT_FOUND`.
pub const STATUS_NOT_FOUND: NTSTATUS = s(0xC000_0225);
/// `STATUS_PROPSET_NOT_FOUND` (KS: the property set is not supported).
pub const STATUS_PROPSET_NOT_FOUND: NTSTATUS = s(0xC000_0230);
/// `STATUS_NO_MATCH` (KS: no data format intersection).
pub const STATUS_NO_MATCH: NTSTATUS = s(0xC000_0272);
/// `STATUS_NOINTERFACE` (PortCls `QueryInterface` miss).
pub const STATUS_NOINTERFACE: NTSTATUS = s(0xC000_02B9);
