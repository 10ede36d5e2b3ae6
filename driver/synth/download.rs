//! `KSPROPSETID_Synth_Dls`: downloading and unloading DLS data.
//!
//! - `DOWNLOAD` (GET; instance `SYNTH_BUFFER`, value `SYNTHDOWNLOAD`): the synth copies the
//!   client's `BufferSize` bytes into one nonpaged allocation of its own and hands it to the
//!   instrument store, which validates every offset, size, count and cross-reference
//!   (crates/dls). Accepted: the value is the download handle (the download id plus one, so
//!   never NULL) and `Free = TRUE` (the synth works on its copy, so the client may free its
//!   buffer at once). Refused (offsets out of range, sizes that lie, cycles, truncated waves,
//!   unknown waves, a duplicate id): `STATUS_INVALID_PARAMETER`, the copy is freed and the
//!   store, and whatever is playing, is untouched. A buffer that cannot be read (see below):
//!   `STATUS_ACCESS_VIOLATION`, likewise. Every `DMUS_DOWNLOADINFO` type of dmdls.h is taken:
//!   instruments (1, 3), waves (2), and the wave tracks' types: wave articulations (4),
//!   streaming wave buffers (5) and one-shot waves (6); a wave articulation is refused unless
//!   the buffers it names are downloaded, of one kind and one format.
//! - `UNLOAD` (SET; value the handle): removes the download; a wave still used by a
//!   downloaded instrument or wave articulation, or an unknown handle, is
//!   `STATUS_INVALID_PARAMETER`.
//! - `COMPACT` (SET, no value): nothing to do: every download is its own allocation, so the
//!   largest free chunk is the pool's; playback is not interrupted (as the docs require).
//! - `APPEND` (GET): the sample frames every wave buffer carries after its data
//!   ([`APPEND_SAMPLES`]).
//! - `WAVEFORMAT` (GET): the `WAVEFORMATEX` the synth renders (PCM, stereo, 16-bit, the
//!   current rate).
//!
//! Copies and frees happen outside the synth's mutex (PASSIVE_LEVEL, as every property
//! handler); only the store's bookkeeping (a header parse, no sample scan) runs under it.
//! Buffers larger than [`MAX_DOWNLOAD_BYTES`] are refused.
//!
//! ## Download memory is bounded
//!
//! The synth keeps at most [`DOWNLOAD_MEMORY_BYTES`] of downloads (the waves' copies it
//! plays from, and every copy being made), so no client can exhaust nonpaged pool through
//! it. `SYNTHCAPS.MemorySize` reports what is free of it now ([`DownloadMemory::free`]). A
//! download larger than that is refused with `STATUS_INSUFFICIENT_RESOURCES` before anything
//! is copied (what a synth with full sample memory answers; DirectMusic reports it as out of
//! memory), and so is one whose copy or bookkeeping the pool cannot allocate. The room is
//! taken before the copy and given back when the copy is freed: at once for a refused
//! download and for an instrument (the store keeps its parse, a few hundred bytes, not the
//! buffer), at `UNLOAD` for a wave.
//!
//! ## The client's buffer is read through `MmCopyMemory`, never directly
//!
//! `BufferAddress` is an address in the caller's process: dmusic.dll's, for a request from
//! user mode. The driver must not trust it: it may be unmapped or freed by another thread
//! at any moment (a direct read would bugcheck), or be a kernel address (a direct read would
//! copy kernel memory into the synth for the caller to play back). The usual guard,
//! `ProbeForRead` inside `__try`, needs SEH, which Rust does not have. So:
//! - Who asked: the request's IRP (`PCPROPERTY_REQUEST.Irp`) has `RequestorMode`
//!   (wdm.h `_IRP`, read at its place through `IRP_HEADER`). `UserMode` (or no IRP at all,
//!   the cautious reading) means the address must be a user address.
//! - For a user-mode request the range must lie in user space, as `ProbeForRead` requires:
//!   `BufferAddress + BufferSize` must not overflow and must not pass `MmUserProbeAddress`
//!   (the ntoskrnl variable behind wdm.h's `MM_USER_PROBE_ADDRESS`: every user byte lies
//!   below it). Otherwise the request is refused with `STATUS_ACCESS_VIOLATION`, the status
//!   `ProbeForRead` raises for a range outside user space (windows-driver-docs-ddi
//!   `wdm/nf-wdm-probeforread`), before anything is read.
//! - The copy is `MmCopyMemory(copy, {VirtualAddress}, BufferSize, MM_COPY_MEMORY_VIRTUAL,
//!   &transferred)` (ntddk.h, Windows 8.1+): it accepts system and current-process user
//!   addresses and returns an error, instead of raising or crashing, when the source cannot
//!   be read. The property handler runs at PASSIVE_LEVEL in the caller's thread, so the
//!   process whose user space `BufferAddress` names is the current one, and the IRQL is
//!   below its APC_LEVEL limit (checked on x64 and x86: a higher IRQL refuses the copy; see
//!   `above_apc_level` for ARM64). The target is
//!   the driver's own allocation: non-paged pool on Windows (the image's global allocator),
//!   as `MmCopyMemory` requires. A short copy (an unmapped page, a range running into a
//!   guard, memory freed meanwhile) refuses the download with `STATUS_ACCESS_VIOLATION`,
//!   frees the copy, and leaves the store, and what plays, untouched.
//! - A kernel-mode request's address is a system address; it is copied the same way
//!   (`MmCopyMemory` survives an invalid system address too).
//! - A kernel without `MmCopyMemory` (before Windows 8.1; Wine 8.0; found at DriverEntry by
//!   `kernel_routines.rs`): a user-mode request is refused with `STATUS_NOT_SUPPORTED` (there
//!   is no safe way to read it without SEH); a kernel-mode request's buffer is copied directly,
//!   as a kernel component's system address is valid by its caller's contract.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use dls::download::{APPEND_SAMPLES, DownloadError, Downloaded, Refused};
use dmus_synth::synth::DownloadBuffer;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_APPEND, KSPROPERTY_SYNTH_DLS_COMPACT, KSPROPERTY_SYNTH_DLS_DOWNLOAD,
    KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_DLS_WAVEFORMAT, SYNTH_BUFFER, SYNTHDOWNLOAD,
};
use dmus_sys::imports::MmUserProbeAddress;
use dmus_sys::kernel::{
    IRP_HEADER, KernelMode, MM_COPY_ADDRESS, MM_COPY_MEMORY_VIRTUAL, NT_SUCCESS, NTSTATUS, PIRP,
    STATUS_ACCESS_VIOLATION, STATUS_BUFFER_OVERFLOW, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER,
    STATUS_NOT_FOUND, STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

use super::miniport::Miniport;
use super::sink::WaveFormat;
use crate::miniport::property::{PropertyRequest, size_check};

/// The largest single download buffer the synth takes (a whole GM collection is 5–7 MB, and
/// it comes one wave per buffer).
pub const MAX_DOWNLOAD_BYTES: usize = 32 << 20;

/// The most download memory the synth keeps at once (the GM collection is 5–7 MB).
pub const DOWNLOAD_MEMORY_BYTES: usize = 64 << 20;

/// The download memory in use: kept waves and copies being made. Any IRQL.
#[derive(Debug)]
pub struct DownloadMemory {
    used: AtomicUsize,
}

impl DownloadMemory {
    /// Nothing in use.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            used: AtomicUsize::new(0),
        }
    }

    /// Bytes free of [`DOWNLOAD_MEMORY_BYTES`] (what `SYNTHCAPS.MemorySize` reports).
    #[must_use]
    pub fn free(&self) -> usize {
        DOWNLOAD_MEMORY_BYTES.saturating_sub(self.used.load(Ordering::Acquire))
    }

    /// Takes `bytes` of room for a copy.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` when fewer than `bytes` are free (nothing is taken).
    pub fn take(&self, bytes: usize) -> Result<(), NTSTATUS> {
        self.used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes)
                    .filter(|&total| total <= DOWNLOAD_MEMORY_BYTES)
            })
            .map(|_| ())
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)
    }

    /// Gives back the room of a copy that is freed.
    pub fn give_back(&self, bytes: usize) {
        let _ = self
            .used
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}

impl Default for DownloadMemory {
    fn default() -> Self {
        Self::new()
    }
}

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

/// Who sent a request, from its IRP's `RequestorMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requestor {
    /// An application (`UserMode`): its pointers are user addresses.
    User,
    /// A kernel component (`KernelMode`): its pointers are system addresses.
    Kernel,
}

impl Requestor {
    /// The requestor of `irp`: [`Requestor::User`] for `UserMode`, or when there is no IRP
    /// or an unknown mode (the cautious reading: the address gets the user-space check).
    ///
    /// # Safety
    /// `irp` is null or the live IRP of the request being handled (PortCls' `Irp`).
    #[must_use]
    pub unsafe fn of_irp(irp: PIRP) -> Self {
        if irp.is_null() {
            return Self::User;
        }
        // SAFETY: a live IRP (caller's contract) begins with IRP_HEADER's members (wdm.h
        // layout, pinned in dmus-sys); a one-byte read of RequestorMode, which the I/O manager
        // set before the request reached the driver. PASSIVE_LEVEL (a property handler).
        let mode = unsafe { (*irp.cast::<IRP_HEADER>()).RequestorMode };
        if mode == KernelMode {
            Self::Kernel
        } else {
            Self::User
        }
    }
}

/// Whether a user-mode request may name `size` bytes at `address`: the whole range below
/// `probe_address` (`MmUserProbeAddress`), its end not overflowing (`ProbeForRead`'s rule).
///
/// # Errors
/// `STATUS_ACCESS_VIOLATION` when the range reaches system space or wraps around.
pub fn check_user_range(address: usize, size: usize, probe_address: usize) -> Result<(), NTSTATUS> {
    match address.checked_add(size) {
        Some(end) if end <= probe_address => Ok(()),
        _ => Err(STATUS_ACCESS_VIOLATION),
    }
}

/// `MmUserProbeAddress`: the first address above user space.
#[must_use]
pub fn user_probe_address() -> usize {
    // SAFETY: an exported ntoskrnl variable, set at boot and never changed after; a plain
    // aligned word read at any IRQL.
    unsafe { MmUserProbeAddress }
}

/// Whether the processor runs above APC_LEVEL, where `MmCopyMemory` may not be called.
///
/// Not read on ARM64: there the IRQL is a `hal.dll` import whose export is not yet confirmed
/// against a real ARM64 HAL (driver/arch/aarch64.rs and dmus-sys's import notes disagree on
/// it), and an unresolved import would stop the whole driver loading. PortCls calls property
/// handlers at PASSIVE_LEVEL, so this only guards against a misuse; x64 reads CR8, and the
/// host build (wdm-sim's tests) reads the simulated IRQL.
fn above_apc_level() -> bool {
    #[cfg(not(target_arch = "aarch64"))]
    {
        crate::arch::current_irql() > dmus_sys::kernel::APC_LEVEL
    }
    #[cfg(target_arch = "aarch64")]
    {
        false
    }
}

/// A copy of the client's buffer in the driver's own memory, read with `MmCopyMemory` after
/// the checks of the module docs. The driver never dereferences `BufferAddress`.
///
/// # Errors
/// `STATUS_INVALID_PARAMETER` for a null, empty or oversized buffer;
/// `STATUS_ACCESS_VIOLATION` for a user-mode range outside user space or a source that could
/// not be read whole; `STATUS_INVALID_DEVICE_STATE` above APC_LEVEL (never from a property
/// handler); `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted. Nothing stays
/// allocated on an error.
pub fn copy_client_buffer(
    buffer: &SYNTH_BUFFER,
    requestor: Requestor,
) -> Result<DownloadBuffer, NTSTATUS> {
    let size = usize::try_from(buffer.BufferSize).map_err(|_| STATUS_INVALID_PARAMETER)?;
    let address = buffer.BufferAddress as usize;
    if address == 0 || size == 0 || size > MAX_DOWNLOAD_BYTES {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if requestor == Requestor::User {
        check_user_range(address, size, user_probe_address())?;
    }
    // MmCopyMemory's limit; a property handler runs at PASSIVE_LEVEL.
    if above_apc_level() {
        return Err(STATUS_INVALID_DEVICE_STATE);
    }
    let copy_memory = crate::kernel_routines::copy_memory();
    if copy_memory.is_none() && requestor == Requestor::User {
        return Err(STATUS_NOT_SUPPORTED);
    }
    let mut copy = Vec::new();
    copy.try_reserve_exact(size)
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    copy.resize(size, 0);
    let Some(copy_memory) = copy_memory else {
        // SAFETY: a kernel-mode requestor's buffer (the only kind left here): `size` readable
        // bytes at a system address by the kernel caller's contract, not overlapping the
        // driver's fresh `copy`. PASSIVE_LEVEL (a property handler).
        unsafe {
            core::ptr::copy_nonoverlapping(
                buffer.BufferAddress.cast::<u8>(),
                copy.as_mut_ptr(),
                size,
            );
        }
        return Ok(copy.into_boxed_slice());
    };
    let mut transferred: usize = 0;
    // SAFETY: MmCopyMemory at ≤ APC_LEVEL (PASSIVE_LEVEL in the caller's thread: PortCls
    // calls property handlers there; checked above except on ARM64). The target is `size`
    // writable bytes of the driver's own allocation (non-paged pool in the image); the
    // source is only a number to it: it reads what it can and reports the rest, never
    // faulting; `transferred` is a live local.
    let status = unsafe {
        copy_memory(
            copy.as_mut_ptr().cast(),
            MM_COPY_ADDRESS {
                VirtualAddress: buffer.BufferAddress,
            },
            size,
            MM_COPY_MEMORY_VIRTUAL,
            &raw mut transferred,
        )
    };
    if !NT_SUCCESS(status) || transferred != size {
        // `copy` is freed here: nothing of a refused buffer is kept.
        return Err(STATUS_ACCESS_VIOLATION);
    }
    Ok(copy.into_boxed_slice())
}

/// What a download did.
#[derive(Debug, PartialEq, Eq)]
pub enum DownloadOutcome {
    /// Kept: the handle to return.
    Kept(usize),
    /// Refused with this status: `STATUS_INVALID_PARAMETER` when the buffer is not a valid
    /// download (or its id is taken), `STATUS_INSUFFICIENT_RESOURCES` when the memory to
    /// keep it could not be allocated.
    Refused(NTSTATUS),
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
                    (
                        DownloadOutcome::Refused(STATUS_INVALID_PARAMETER),
                        returned,
                        undone,
                    )
                }
            }
            Err(Refused { error, buffer }) => {
                let status = if error == DownloadError::OutOfMemory {
                    STATUS_INSUFFICIENT_RESOURCES
                } else {
                    STATUS_INVALID_PARAMETER
                };
                (DownloadOutcome::Refused(status), Some(buffer), None)
            }
        }
    };
    for freed in [spare, extra].into_iter().flatten() {
        miniport.download_memory().give_back(freed.len());
        drop(freed);
    }
    outcome
}

/// Unloads the download a handle names. False for an unknown handle or a wave in use.
pub fn unload(miniport: &Miniport, handle: usize) -> bool {
    let Some(dlid) = dlid_of(handle) else {
        return false;
    };
    let result = miniport.core().lock().store.unload(dlid);
    // A wave's buffer is freed here, outside the lock, and its room given back.
    match result {
        Ok(Some(buffer)) => {
            miniport.download_memory().give_back(buffer.len());
            drop(buffer);
            true
        }
        Ok(None) => true,
        Err(_) => false,
    }
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

/// Answers a DLS request for `miniport`, sent by `requestor`.
pub fn answer(
    request: &mut PropertyRequest,
    miniport: &Miniport,
    requestor: Requestor,
) -> NTSTATUS {
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
        KSPROPERTY_SYNTH_DLS_DOWNLOAD => answer_download(request, miniport, requestor),
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

fn answer_download(
    request: &mut PropertyRequest,
    miniport: &Miniport,
    requestor: Requestor,
) -> NTSTATUS {
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
    // Room for the copy first: a download larger than the free memory is refused before
    // anything is allocated. (A size copy_client_buffer refuses takes no room.)
    let size = usize::try_from(buffer.BufferSize).unwrap_or(usize::MAX);
    let sized = size != 0 && size <= MAX_DOWNLOAD_BYTES;
    if sized {
        if let Err(status) = miniport.download_memory().take(size) {
            return status;
        }
    }
    let copy = match copy_client_buffer(&buffer, requestor) {
        Ok(copy) => copy,
        Err(status) => {
            if sized {
                miniport.download_memory().give_back(size);
            }
            return status;
        }
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
        DownloadOutcome::Refused(status) => status,
    }
}

/// The `PCPFNPROPERTY_HANDLER` of every `KSPROPSETID_Synth_Dls` property (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this miniport.
pub unsafe extern "system" fn dls_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    if request.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: a non-null live request (PortCls', for this call); a plain read of its `Irp`
    // field at PASSIVE_LEVEL.
    let irp = unsafe { (*request).Irp };
    // SAFETY: `Irp` is the live IRP of this request (or null), for this call's duration.
    let requestor = unsafe { Requestor::of_irp(irp) };
    // SAFETY: PortCls' live request for this handler, which only the synth's tables name
    // (PASSIVE_LEVEL).
    unsafe {
        Miniport::answer_property(request, |wrapped, miniport| {
            answer(wrapped, miniport, requestor)
        })
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusprop::SYNTH_BUFFER;
    use dmus_sys::kernel::{
        IRP_HEADER, KernelMode, STATUS_ACCESS_VIOLATION, STATUS_INSUFFICIENT_RESOURCES,
        STATUS_INVALID_PARAMETER, UserMode,
    };

    use super::{
        DOWNLOAD_MEMORY_BYTES, DownloadMemory, MAX_DOWNLOAD_BYTES, Requestor, check_user_range,
        copy_client_buffer, dlid_of, handle_of,
    };

    #[test]
    fn download_memory_is_taken_up_to_its_bound_and_given_back() {
        let memory = DownloadMemory::new();
        assert_eq!(memory.free(), DOWNLOAD_MEMORY_BYTES);
        assert_eq!(memory.take(DOWNLOAD_MEMORY_BYTES - 10), Ok(()));
        assert_eq!(memory.free(), 10);
        assert_eq!(memory.take(11), Err(STATUS_INSUFFICIENT_RESOURCES));
        assert_eq!(memory.free(), 10, "a refused take takes nothing");
        assert_eq!(memory.take(usize::MAX), Err(STATUS_INSUFFICIENT_RESOURCES));
        assert_eq!(memory.take(10), Ok(()));
        assert_eq!(memory.free(), 0);
        memory.give_back(DOWNLOAD_MEMORY_BYTES);
        assert_eq!(memory.free(), DOWNLOAD_MEMORY_BYTES);
    }

    #[test]
    fn handles_are_never_null_and_map_back() {
        assert_eq!(handle_of(0), Some(1));
        assert_eq!(dlid_of(1), Some(0));
        assert_eq!(dlid_of(0), None);
        assert_eq!(dlid_of(handle_of(77).unwrap()), Some(77));
    }

    /// `ProbeForRead`'s rule: the whole range below `MmUserProbeAddress`, no wrap-around.
    #[test]
    fn a_user_range_must_end_at_or_below_the_probe_address() {
        let probe = 0x7FFF_0000;
        assert_eq!(check_user_range(0x1_0000, 16, probe), Ok(()));
        assert_eq!(
            check_user_range(probe - 16, 16, probe),
            Ok(()),
            "ends at it"
        );
        assert_eq!(
            check_user_range(probe - 16, 17, probe),
            Err(STATUS_ACCESS_VIOLATION),
            "crosses into system space"
        );
        assert_eq!(
            check_user_range(probe, 1, probe),
            Err(STATUS_ACCESS_VIOLATION),
            "a system address"
        );
        assert_eq!(
            check_user_range(usize::MAX - 3, 8, usize::MAX),
            Err(STATUS_ACCESS_VIOLATION),
            "wraps around"
        );
    }

    /// Refused before anything is read (no kernel call: no machine needed).
    #[test]
    fn null_empty_and_oversized_buffers_are_refused_up_front() {
        let bytes = [1u8, 2, 3, 4];
        let buffer = SYNTH_BUFFER {
            BufferSize: 4,
            BufferAddress: bytes.as_ptr().cast_mut().cast(),
        };
        let null = SYNTH_BUFFER {
            BufferAddress: core::ptr::null_mut(),
            ..buffer
        };
        let empty = SYNTH_BUFFER {
            BufferSize: 0,
            ..buffer
        };
        let huge = SYNTH_BUFFER {
            BufferSize: u32::try_from(MAX_DOWNLOAD_BYTES + 1).unwrap(),
            ..buffer
        };
        for requestor in [Requestor::User, Requestor::Kernel] {
            for refused in [&null, &empty, &huge] {
                assert_eq!(
                    copy_client_buffer(refused, requestor),
                    Err(STATUS_INVALID_PARAMETER)
                );
            }
        }
    }

    #[test]
    fn the_requestor_is_read_from_the_irp() {
        let mut header = IRP_HEADER {
            Type: 6,
            Size: 0,
            MdlAddress: core::ptr::null_mut(),
            Flags: 0,
            AssociatedIrp: core::ptr::null_mut(),
            ThreadListEntry: dmus_sys::kernel::LIST_ENTRY {
                Flink: core::ptr::null_mut(),
                Blink: core::ptr::null_mut(),
            },
            IoStatus: dmus_sys::kernel::IO_STATUS_BLOCK {
                u: dmus_sys::kernel::IO_STATUS_BLOCK_STATUS { Status: 0 },
                Information: 0,
            },
            RequestorMode: UserMode,
            PendingReturned: 0,
        };
        let irp = (&raw mut header).cast();
        // SAFETY: a live IRP_HEADER, all the function reads.
        assert_eq!(unsafe { Requestor::of_irp(irp) }, Requestor::User);
        header.RequestorMode = KernelMode;
        let irp = (&raw mut header).cast();
        // SAFETY: as above.
        assert_eq!(unsafe { Requestor::of_irp(irp) }, Requestor::Kernel);
        header.RequestorMode = 7;
        let irp = (&raw mut header).cast();
        // SAFETY: as above.
        let unknown = unsafe { Requestor::of_irp(irp) };
        assert_eq!(
            unknown,
            Requestor::User,
            "an unknown mode is treated as user mode"
        );
        // SAFETY: null is allowed.
        let none = unsafe { Requestor::of_irp(core::ptr::null_mut()) };
        assert_eq!(none, Requestor::User, "no IRP: cautious");
    }
}
