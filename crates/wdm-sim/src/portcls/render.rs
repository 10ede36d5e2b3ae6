//! The render path of a pin: IRP → unpack → sequencer → the stream's `PutMessage` at
//! `DISPATCH_LEVEL`, `SchedulePreFetch` early, or everything at once for
//! `DONT_HOLD_FOR_SEQUENCING`.
//!
//! Render times: IRP presentation times are the pin's presentation time (mxf's
//! `PresentationClock`: frozen in ACQUIRE/PAUSE, reset in STOP); the events a stream receives
//! carry master-clock times (the port adds the presentation-to-master offset of the current
//! run). Data is held in every state but RUN and discarded in STOP.

use alloc::boxed::Box;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{IMXFVtbl, PMXF};
use dmus_sys::dmusic::{DONT_HOLD_FOR_SEQUENCING, PDMUS_KERNEL_EVENT};
use dmus_sys::kernel::DISPATCH_LEVEL;
use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::unpack::{IrpHeader, UnpackError};

use super::objects::{add_ref_foreign, release_foreign, vtable_of};
use super::state::{PinFlow, PinFormat};
use crate::current::with_state;
use crate::dispatch::call_driver;
use crate::state::{HostLevel, MachineState};

fn master_now(m: &MachineState) -> i64 {
    i64::try_from(m.now()).unwrap_or(i64::MAX)
}

/// The port's side of a state step, before the stream hears of it: leaving RUN cancels the
/// pending delivery; the sequencer follows the state (STOP gives held events back); capture
/// going to STOP discards what waits for reads.
pub fn before_state(id: u32, next: KSSTATE) {
    with_state("pin state", |m| {
        let now = master_now(m);
        let Some(pin) = m.portcls.pins.get(&id) else {
            return;
        };
        let Some(allocator) = m.portcls.ports.get(&pin.port).map(|p| p.allocator) else {
            return;
        };
        let Some(record) = m.portcls.allocators.get_mut(&allocator) else {
            return;
        };
        let Some(pin) = m.portcls.pins.get_mut(&id) else {
            return;
        };
        match &mut pin.flow {
            PinFlow::Render {
                sequencer,
                generation,
                next_delivery,
                ksmusic,
                dmus,
                ..
            } => {
                if next != KSSTATE_RUN {
                    *generation += 1;
                    *next_delivery = None;
                }
                let _ = sequencer.set_state(next, now, &mut record.pool);
                if next == KSSTATE_STOP {
                    ksmusic.reset();
                    dmus.reset();
                }
            }
            PinFlow::Capture { packer, .. } => {
                if next == KSSTATE_STOP {
                    let _ = packer.discard(&mut record.pool);
                }
            }
            PinFlow::WaveSink(flow) => super::wave_sink::before_state(flow, next),
        }
    });
}

/// The port's side of a state step after the stream took it: entering RUN starts delivery.
pub fn after_state(id: u32, now_state: KSSTATE) {
    if now_state == KSSTATE_RUN {
        schedule_delivery(id);
    }
    super::wave_sink::after_state(id, now_state);
}

/// What one render write did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteReport {
    /// Records unpacked.
    pub records: usize,
    /// Why unpacking stopped early, if it did (everything before it was kept).
    pub error: Option<UnpackError>,
}

/// Why a write was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// No such pin, or not a render pin.
    NotRender,
    /// The pin is in STOP: KS accepts no data there.
    Stopped,
    /// The stream header cannot be used.
    Header(mxf::unpack::HeaderError),
}

/// Writes one IRP's buffer to render pin `id`: `presentation_time` is the stream header's
/// (100 ns, the pin's presentation time), `data` its buffer in the pin's format.
///
/// # Errors
/// [`WriteError`].
pub fn write(id: u32, presentation_time: i64, data: &[u8]) -> Result<WriteReport, WriteError> {
    write_with_header(
        id,
        &IrpHeader::for_buffer(presentation_time, data.len()),
        data,
    )
}

/// Writes one IRP to render pin `id` with the parts of its stream header unpacking uses.
///
/// # Errors
/// [`WriteError`].
pub fn write_with_header(
    id: u32,
    header: &IrpHeader,
    data: &[u8],
) -> Result<WriteReport, WriteError> {
    let report = with_state("pin write", |m| {
        let pin = m.portcls.pins.get(&id).ok_or(WriteError::NotRender)?;
        if pin.state == KSSTATE_STOP {
            return Err(WriteError::Stopped);
        }
        let allocator = m
            .portcls
            .ports
            .get(&pin.port)
            .map(|p| p.allocator)
            .ok_or(WriteError::NotRender)?;
        let record = m
            .portcls
            .allocators
            .get_mut(&allocator)
            .ok_or(WriteError::NotRender)?;
        let pin = m.portcls.pins.get_mut(&id).ok_or(WriteError::NotRender)?;
        let format = pin.format;
        let PinFlow::Render {
            ksmusic,
            dmus,
            sequencer,
            ..
        } = &mut pin.flow
        else {
            return Err(WriteError::NotRender);
        };
        let unpacked = match format {
            PinFormat::Midi => ksmusic.unpack(header, data, &mut record.pool),
            PinFormat::DirectMusic => dmus.unpack(header, data, &mut record.pool),
        };
        let _ = sequencer.put(unpacked.chain, &mut record.pool);
        let findings = record.pool.take_findings();
        for finding in findings {
            m.record(finding);
        }
        Ok(WriteReport {
            records: unpacked.records,
            error: unpacked.error,
        })
    })?;
    schedule_delivery(id);
    Ok(report)
}

/// Schedules the next delivery of pin `id` (a DPC at the master time the earliest held event
/// is due, minus the prefetch), if it runs and holds events; runs it now if it is due now.
pub fn schedule_delivery(id: u32) {
    let queued = with_state("render", |m| {
        let now = m.now();
        let pin = m.portcls.pins.get_mut(&id)?;
        if pin.state != KSSTATE_RUN {
            return None;
        }
        let PinFlow::Render {
            sequencer,
            prefetch,
            generation,
            next_delivery,
            ..
        } = &mut pin.flow
        else {
            return None;
        };
        let due = if *prefetch == DONT_HOLD_FOR_SEQUENCING {
            sequencer.next_presentation_time().map(|_| now)
        } else {
            let master = sequencer.next_due_time()?;
            let at = u64::try_from(master.max(0)).unwrap_or(0);
            Some(at.saturating_sub(*prefetch).max(now))
        }?;
        if next_delivery.is_some_and(|t| t <= due) {
            return None;
        }
        *generation += 1;
        *next_delivery = Some(due);
        let generation = *generation;
        let callback: crate::state::HostCallback = Box::new(move || deliver(id, generation));
        m.schedule_host(due, HostLevel::Dispatch, callback);
        Some(due <= now && m.irql() < DISPATCH_LEVEL)
    });
    if queued == Some(true) {
        crate::scheduler::service();
    }
}

/// The delivery DPC: hands every event due by now (plus the prefetch; all of them for
/// `DONT_HOLD_FOR_SEQUENCING`) to the stream's `PutMessage`, then schedules the next.
fn deliver(id: u32, generation: u64) {
    let handed = with_state("render DPC", |m| {
        let now = master_now(m);
        let pin = m.portcls.pins.get(&id)?;
        let (port, stream) = (pin.port, pin.stream);
        let allocator = m.portcls.ports.get(&port)?.allocator;
        let record = m.portcls.allocators.get_mut(&allocator)?;
        let pin = m.portcls.pins.get_mut(&id)?;
        let PinFlow::Render {
            sequencer,
            prefetch,
            generation: current,
            next_delivery,
            ..
        } = &mut pin.flow
        else {
            return None;
        };
        if *current != generation {
            return None;
        }
        *next_delivery = None;
        let chain = if *prefetch == DONT_HOLD_FOR_SEQUENCING {
            sequencer.pop_due_at_presentation(i64::MAX)
        } else {
            let horizon = now.saturating_add(i64::try_from(*prefetch).unwrap_or(i64::MAX));
            sequencer.pop_due(horizon)
        };
        let offset = now - sequencer.clock().now(now);
        let head = chain.into_raw();
        record.pool.deliver(head as usize, id, offset);
        Some((stream, head))
    });
    if let Some((stream, head)) = handed {
        if !head.is_null() {
            put_message(stream, head);
        }
    }
    schedule_delivery(id);
}

/// `IMXF::PutMessage` on a stream (`DISPATCH_LEVEL`, from the delivery DPC). The pin holds
/// the stream for the call.
fn put_message(stream: usize, head: PDMUS_KERNEL_EVENT) {
    // SAFETY: the pin holds a reference on the stream; an extra one covers the call in case
    // the pin closes meanwhile (it cannot on this thread, but the rule is cheap).
    unsafe { add_ref_foreign(stream as PUNKNOWN) };
    // SAFETY: a live stream's vtable.
    let vtable = unsafe { vtable_of::<IMXFVtbl>(stream as *mut core::ffi::c_void) };
    // SAFETY: PutMessage at DISPATCH_LEVEL with a chain of allocator events the port owns and
    // gives up here.
    call_driver(vtable.PutMessage as usize, DISPATCH_LEVEL, || unsafe {
        (vtable.PutMessage)(stream as PMXF, head)
    });
    // SAFETY: the extra reference taken above.
    unsafe { release_foreign(stream as PUNKNOWN) };
}
