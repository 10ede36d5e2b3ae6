//! `IMiniportDMus::NewStream` (PASSIVE_LEVEL): render streams on pins 0 and 1, capture
//! streams on pin 4, as many per pin as its descriptor allows (`descriptor::instances`):
//! the render streams merge onto the one wire message by message, and every capture
//! stream gets every message.

use com_object::ComObject;
use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{PAllocatorMXF, PMASTERCLOCK, PMXF};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_TYPE};
use dmus_sys::kernel::{NTSTATUS, STATUS_INVALID_DEVICE_REQUEST, STATUS_NO_MATCH, STATUS_SUCCESS};
use dmus_sys::ks::PKSDATAFORMAT;
use dmus_sys::portcls::PSERVICEGROUP;

use super::object::{Miniport, RENDER_PREFETCH_100NS};
use crate::miniport::new_stream_args::begin_new_stream;
use crate::mpu401::capture::CaptureStream;
use crate::mpu401::descriptor::{PIN_CAPTURE, PIN_DMUSIC_RENDER, PIN_LEGACY_RENDER, our_range};
use crate::mpu401::render::RenderStream;

/// `NewStream`'s arguments, as PortCls passed them (the pool type is not used: every
/// rdmus object lives in nonpaged pool).
pub(super) struct Request {
    pub(super) mxf: *mut PMXF,
    pub(super) outer: PUNKNOWN,
    pub(super) pin: u32,
    pub(super) stream_type: DMUS_STREAM_TYPE,
    pub(super) format: PKSDATAFORMAT,
    pub(super) service_group: *mut PSERVICEGROUP,
    pub(super) allocator: PAllocatorMXF,
    pub(super) clock: PMASTERCLOCK,
    pub(super) prefetch: *mut u64,
}

/// `NewStream`.
///
/// # Safety
/// The request's out-pointers are null or writable; `outer`, `allocator` and `clock` null
/// or live; `format` null or readable. PASSIVE_LEVEL.
pub(super) unsafe fn new_stream(miniport: &ComObject<Miniport>, request: &Request) -> NTSTATUS {
    let &Request {
        mxf: mxf_out,
        outer,
        pin,
        stream_type,
        format,
        service_group: service_group_out,
        allocator,
        clock,
        prefetch,
    } = request;
    // SAFETY: PortCls' out-pointers, null or writable. Any IRQL (memory only).
    if let Err(status) = unsafe {
        begin_new_stream(
            mxf_out,
            service_group_out,
            prefetch,
            outer,
            allocator,
            clock,
        )
    } {
        return status;
    }
    let Some(setup) = miniport.setup() else {
        return STATUS_INVALID_DEVICE_REQUEST;
    };
    let capture = match (pin, stream_type) {
        (PIN_LEGACY_RENDER | PIN_DMUSIC_RENDER, DMUS_STREAM_MIDI_RENDER) => false,
        (PIN_CAPTURE, DMUS_STREAM_MIDI_CAPTURE) => true,
        _ => return STATUS_INVALID_DEVICE_REQUEST,
    };
    if !format.is_null() {
        // SAFETY: PortCls' format for the pin, readable; unaligned header read. Any IRQL (memory
        // only).
        let format = unsafe { format.read_unaligned() };
        if our_range(pin, &format).is_none() {
            return STATUS_NO_MATCH;
        }
    }
    let Some(id) = miniport.claim_pin(pin) else {
        return STATUS_INVALID_DEVICE_REQUEST;
    };
    let made = if capture {
        // SAFETY: live allocator and clock from PortCls; PASSIVE_LEVEL.
        unsafe { CaptureStream::create(miniport.to_ref(), id, setup, allocator, clock) }
    } else {
        // SAFETY: as above. PASSIVE_LEVEL (NewStream).
        unsafe { RenderStream::create(miniport.to_ref(), pin, id, setup, allocator, clock) }
    };
    let stream = match made {
        Ok(stream) => stream,
        Err(status) => {
            miniport.release_pin(pin, id);
            return status;
        }
    };
    // SAFETY: writable out-pointers (checked); the stream's one reference goes to PortCls. Any IRQL
    // (memory only).
    unsafe { mxf_out.write(stream.as_ptr()) };
    let ahead = if capture { 0 } else { RENDER_PREFETCH_100NS };
    // SAFETY: writable (checked). Any IRQL (memory only).
    unsafe { prefetch.write(ahead) };
    if capture {
        let group = setup.service_group;
        // SAFETY: AddRef on our live group; the reference handed out is the port's. IRQL ≤
        // DISPATCH_LEVEL.
        unsafe { crate::com::add_ref(group.as_ptr()) };
        // SAFETY: writable (checked). Any IRQL (memory only).
        unsafe { service_group_out.write(group.as_ptr()) };
    }
    STATUS_SUCCESS
}
