//! `KSPROPSETID_Synth_Dls`: downloading and unloading DLS data.
//!
//! - `DOWNLOAD` (GET; instance `SYNTH_BUFFER`, value `SYNTHDOWNLOAD`): the synth copies the
//!   client's `BufferSize` bytes into one nonpaged allocation of its own and hands it to the
//!   instrument store, which validates every offset, size, count and cross-reference
//!   (crates/dls). Accepted: the value is the download handle (the download id plus one, so
//!   never NULL) and `Free = TRUE` (the synth works on its copy, so the client may free its
//!   buffer at once). Refused (offsets out of range, sizes that lie, cycles, truncated waves,
//!   unknown waves, a duplicate id): `STATUS_INVALID_PARAMETER`, the copy is freed and the
//!   store, and whatever is playing, is untouched.
//! - `UNLOAD` (SET; value the handle): removes the download; a wave still used by a
//!   downloaded instrument, or an unknown handle, is `STATUS_INVALID_PARAMETER`.
//! - `COMPACT` (SET, no value): nothing to do: every download is its own allocation, so the
//!   largest free chunk is the pool's; playback is not interrupted (as the docs require).
//! - `APPEND` (GET): the sample frames every wave buffer carries after its data
//!   ([`APPEND_SAMPLES`]).
//! - `WAVEFORMAT` (GET): the `WAVEFORMATEX` the synth renders (PCM, stereo, 16-bit, the
//!   current rate).
//!
//! Copies and frees happen outside the synth's mutex (PASSIVE_LEVEL, as every property
//! handler); only the store's bookkeeping (a header parse, no sample scan) runs under it. Buffers larger than [`MAX_DOWNLOAD_BYTES`] are
//! refused.
//!
//! On Windows the client's `BufferAddress` is a user-mode address. The copy here reads it
//! directly, which is what the simulation provides; a Windows build must make this copy a
//! probed one (rdmus's imports have no `ProbeForRead`/`MmCopyMemory` yet, and Rust has no
//! SEH): see the brief's report.

use alloc::vec::Vec;

use dls::download::{APPEND_SAMPLES, Downloaded, Refused};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_APPEND, KSPROPERTY_SYNTH_DLS_COMPACT, KSPROPERTY_SYNTH_DLS_DOWNLOAD,
    KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_DLS_WAVEFORMAT, SYNTH_BUFFER, SYNTHDOWNLOAD,
};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

use super::core::DownloadBuffer;
use super::miniport::Miniport;
use super::sink::WaveFormat;
use crate::miniport::property::{PropertyRequest, size_check};

/// The largest single download buffer the synth takes (a whole GM collection is 5–7 MB, and
/// it comes one wave per buffer).
pub const MAX_DOWNLOAD_BYTES: usize = 32 << 20;

/// The handle `DOWNLOAD` returns for download id `dlid` (never NULL).
#[must_use]
pub fn handle_of(dlid: u32) -> Option<usize> {
    usize::try_from(dlid).ok()?.checked_add(1)
}

/// The download id of a handle `DOWNLOAD` returned.
#[must_use]
pub fn dlid_of(handle: usize) -> Option<u32> {
    u32::try_from(handle.checked_sub(1)?).ok()
}

/// A copy of the client's buffer in the driver's own memory.
///
/// # Errors
/// `STATUS_INVALID_PARAMETER` for a null, empty or oversized buffer,
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted.
///
/// # Safety
/// `buffer.BufferAddress` is readable for `buffer.BufferSize` bytes (see the module docs).
pub unsafe fn copy_client_buffer(buffer: &SYNTH_BUFFER) -> Result<DownloadBuffer, NTSTATUS> {
    let size = usize::try_from(buffer.BufferSize).map_err(|_| STATUS_INVALID_PARAMETER)?;
    if buffer.BufferAddress.is_null() || size == 0 || size > MAX_DOWNLOAD_BYTES {
        return Err(STATUS_INVALID_PARAMETER);
    }
    let mut copy = Vec::new();
    copy.try_reserve_exact(size)
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    // SAFETY: the client's buffer is readable for `size` bytes (caller's contract); a plain
    // byte read at PASSIVE_LEVEL.
    let source = unsafe { core::slice::from_raw_parts(buffer.BufferAddress.cast::<u8>(), size) };
    copy.extend_from_slice(source);
    Ok(copy.into_boxed_slice())
}

/// What a download did.
#[derive(Debug, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// Kept: the handle to return.
    Kept(usize),
    /// Refused: the buffer is not a valid download (or its id is taken).
    Refused,
}

/// Downloads `buffer` into `miniport`'s store. The buffers the store does not keep are freed
/// after the lock is dropped.
pub fn download(miniport: &Miniport, buffer: DownloadBuffer) -> DownloadOutcome {
    let (outcome, spare, extra) = {
        let mut core = miniport.core().lock();
        match core.store.download(buffer) {
            Ok(Downloaded { dlid, returned }) => {
                if let Some(handle) = handle_of(dlid) {
                    (DownloadOutcome::Kept(handle), returned, None)
                } else {
                    // Only on 32-bit with dlid u32::MAX: no handle can name it; undo it.
                    let undone = core.store.unload(dlid).ok().flatten();
                    (DownloadOutcome::Refused, returned, undone)
                }
            }
            Err(Refused { buffer, .. }) => (DownloadOutcome::Refused, Some(buffer), None),
        }
    };
    drop(spare);
    drop(extra);
    outcome
}

/// Unloads the download a handle names. False for an unknown handle or a wave in use.
pub fn unload(miniport: &Miniport, handle: usize) -> bool {
    let Some(dlid) = dlid_of(handle) else {
        return false;
    };
    let result = miniport.core().lock().store.unload(dlid);
    // A wave's buffer is freed here, outside the lock.
    result.is_ok()
}

/// The verbs a DLS property supports.
#[must_use]
pub fn access_flags(id: u32) -> Option<u32> {
    let basic = KSPROPERTY_TYPE_BASICSUPPORT;
    match id {
        KSPROPERTY_SYNTH_DLS_DOWNLOAD
        | KSPROPERTY_SYNTH_DLS_APPEND
        | KSPROPERTY_SYNTH_DLS_WAVEFORMAT => Some(basic | KSPROPERTY_TYPE_GET),
        KSPROPERTY_SYNTH_DLS_UNLOAD | KSPROPERTY_SYNTH_DLS_COMPACT => {
            Some(basic | KSPROPERTY_TYPE_SET)
        }
        _ => None,
    }
}

/// Answers a DLS request for `miniport`.
pub fn answer(request: &mut PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let id = request.id();
    let Some(flags) = access_flags(id) else {
        return STATUS_NOT_FOUND;
    };
    let verb = request.verb();
    if verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&flags);
    }
    let wanted = if verb & KSPROPERTY_TYPE_SET != 0 {
        KSPROPERTY_TYPE_SET
    } else {
        KSPROPERTY_TYPE_GET
    };
    if flags & wanted == 0 {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    match id {
        KSPROPERTY_SYNTH_DLS_DOWNLOAD => answer_download(request, miniport),
        KSPROPERTY_SYNTH_DLS_UNLOAD => match request.read_value::<usize>() {
            Ok(handle) if unload(miniport, handle) => STATUS_SUCCESS,
            Ok(_) => STATUS_INVALID_PARAMETER,
            Err(status) => status,
        },
        KSPROPERTY_SYNTH_DLS_COMPACT => STATUS_SUCCESS,
        KSPROPERTY_SYNTH_DLS_APPEND => request.reply(&APPEND_SAMPLES),
        KSPROPERTY_SYNTH_DLS_WAVEFORMAT => {
            let rate = miniport.core().lock().rate();
            request.reply(&WaveFormat::waveformatex(rate))
        }
        _ => STATUS_NOT_FOUND,
    }
}

fn answer_download(request: &mut PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let needed = u32::try_from(core::mem::size_of::<SYNTHDOWNLOAD>()).unwrap_or(u32::MAX);
    // Size query first (nothing is downloaded for it), then the instance.
    if let Err((STATUS_BUFFER_OVERFLOW, _)) = size_check(request.value_size(), needed, true) {
        return request.reply(&SYNTHDOWNLOAD {
            DownloadHandle: core::ptr::null_mut(),
            Free: 0,
        });
    }
    if request.value_size() < needed {
        return dmus_sys::kernel::STATUS_BUFFER_TOO_SMALL;
    }
    let Some(buffer) = request.instance::<SYNTH_BUFFER>() else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: the client's buffer as the request describes it (see the module docs).
    let copy = match unsafe { copy_client_buffer(&buffer) } {
        Ok(copy) => copy,
        Err(status) => return status,
    };
    match download(miniport, copy) {
        DownloadOutcome::Kept(handle) => {
            let reply = SYNTHDOWNLOAD {
                DownloadHandle: handle as *mut core::ffi::c_void,
                Free: 1,
            };
            let status = request.reply(&reply);
            if status != STATUS_SUCCESS {
                // The client cannot learn the handle: do not keep what it cannot unload.
                let _ = unload(miniport, handle);
            }
            status
        }
        DownloadOutcome::Refused => STATUS_INVALID_PARAMETER,
    }
}

/// The `PCPFNPROPERTY_HANDLER` of every `KSPROPSETID_Synth_Dls` property (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this miniport.
pub unsafe extern "system" fn dls_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for the duration of this call.
    let Some(mut wrapped) = (unsafe { PropertyRequest::new(request) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let major = wrapped.major_target();
    if major.is_null() {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    // SAFETY: MajorTarget is the miniport whose automation table holds this handler.
    let miniport = unsafe { Miniport::from_this(major) };
    answer(&mut wrapped, miniport)
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusprop::SYNTH_BUFFER;
    use dmus_sys::kernel::STATUS_INVALID_PARAMETER;

    use super::{MAX_DOWNLOAD_BYTES, copy_client_buffer, dlid_of, handle_of};

    #[test]
    fn handles_are_never_null_and_map_back() {
        assert_eq!(handle_of(0), Some(1));
        assert_eq!(dlid_of(1), Some(0));
        assert_eq!(dlid_of(0), None);
        assert_eq!(dlid_of(handle_of(77).unwrap()), Some(77));
    }

    #[test]
    fn client_buffers_are_copied_or_refused() {
        let bytes = [1u8, 2, 3, 4];
        let buffer = SYNTH_BUFFER {
            BufferSize: 4,
            BufferAddress: bytes.as_ptr().cast_mut().cast(),
        };
        // SAFETY: a local array of the stated size.
        let copy = unsafe { copy_client_buffer(&buffer) }.expect("copied");
        assert_eq!(&copy[..], &bytes);
        let null = SYNTH_BUFFER {
            BufferSize: 4,
            BufferAddress: core::ptr::null_mut(),
        };
        // SAFETY: refused before any read.
        let refused = unsafe { copy_client_buffer(&null) };
        assert_eq!(refused, Err(STATUS_INVALID_PARAMETER));
        let huge = SYNTH_BUFFER {
            BufferSize: u32::try_from(MAX_DOWNLOAD_BYTES + 1).unwrap(),
            ..buffer
        };
        // SAFETY: refused before any read.
        let refused = unsafe { copy_client_buffer(&huge) };
        assert_eq!(refused, Err(STATUS_INVALID_PARAMETER));
    }
}
