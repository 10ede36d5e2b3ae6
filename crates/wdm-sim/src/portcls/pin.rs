//! Pins: opening (format check, `DataRangeIntersection`, `NewStream` with an outer
//! `IUnknown`), `KSSTATE` walks, and closing, with the KS rules checked.
//!
//! # Aggregation
//!
//! `PortCls` passes no outer object to `NewStream` (`ReactOS`' `CPortPinDMus::Init` passes
//! NULL), and that is the default here. A test can make the port pass each pin's own
//! `IUnknown` (a sim object) instead ([`super::api::pass_outer_unknown`]), to check a miniport
//! that supports aggregation. The contract the sim checks then: a stream that aggregates
//! forwards `QueryInterface` for interfaces it does not implement to the outer (so
//! `query_stream` with [`IID_ISIM_PIN`](super::pin_objects::IID_ISIM_PIN) reaches the pin
//! through the stream), and holds no counted reference on the outer beyond a call: the pin
//! owns the stream, so a reference from the stream to the pin would be a cycle that keeps both
//! alive. The outer's reference count is checked when the pin closes.

use alloc::format;
use alloc::string::String;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{IMXFVtbl, PMXF};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, NonPagedPool, PASSIVE_LEVEL, STATUS_NOT_IMPLEMENTED};
use dmus_sys::ks::{
    KSDATAFORMAT, KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSSTATE, KSSTATE_ACQUIRE, KSSTATE_PAUSE,
    KSSTATE_RUN, KSSTATE_STOP,
};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_TYPE_MUSIC,
};
use dmus_sys::ksmedia::KSDATARANGE_MUSIC;
use dmus_sys::portcls::PSERVICEGROUP;
use mxf::unpack::{DmusUnpacker, KsMusicUnpacker, Limits};

use super::allocator::with_allocator;
use super::descriptor::{DescriptorError, pin_factory};
use super::objects::{add_ref_object, query_foreign, release_foreign, vtable_of};
use super::pin_objects::{new_capture_sink, new_pin_outer};
use super::port::{miniport_base_vtable, miniport_vtable, port_binding};
use super::render;
use super::state::{PinFlow, PinFormat, PinRecord};
use crate::current::with_state;
use crate::dispatch::call_driver;

/// `KSSTATE` as KS spells it.
#[must_use]
pub const fn state_name(state: KSSTATE) -> &'static str {
    match state {
        KSSTATE_STOP => "KSSTATE_STOP",
        KSSTATE_ACQUIRE => "KSSTATE_ACQUIRE",
        KSSTATE_PAUSE => "KSSTATE_PAUSE",
        KSSTATE_RUN => "KSSTATE_RUN",
        _ => "KSSTATE_(invalid)",
    }
}

/// Why a pin did not open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenError {
    /// The port is not initialised (or not a port).
    NoPort,
    /// No such pin factory, or its descriptor is corrupt.
    Descriptor(DescriptorError),
    /// None of the pin's data ranges accepts the format.
    FormatNotSupported,
    /// `IMiniport::DataRangeIntersection` failed (other than `STATUS_NOT_IMPLEMENTED`, which
    /// lets the port intersect).
    Intersection(NTSTATUS),
    /// As many pins of this factory are open as its descriptor allows (the lower of
    /// `MaxFilterInstanceCount` and `MaxGlobalInstanceCount`).
    TooManyInstances,
    /// `IMiniportDMus::NewStream` failed (or succeeded without a stream).
    NewStream(NTSTATUS),
    /// The capture stream refused the port's capture sink (`ConnectOutput`).
    ConnectOutput(NTSTATUS),
}

/// The `KSDATAFORMAT` of a music pin in `format`.
#[must_use]
pub fn music_format(format: PinFormat) -> KSDATAFORMAT {
    KSDATAFORMAT {
        FormatSize: u32::try_from(core::mem::size_of::<KSDATAFORMAT>()).unwrap_or(0),
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
        SubFormat: match format {
            PinFormat::Midi => KSDATAFORMAT_SUBTYPE_MIDI,
            PinFormat::DirectMusic => KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
        },
        Specifier: KSDATAFORMAT_SPECIFIER_NONE,
    }
}

/// Calls `IMiniport::DataRangeIntersection` for the format against the pin's matching range;
/// `STATUS_NOT_IMPLEMENTED` means the port intersects itself (the matching range's format).
fn intersect(
    miniport: usize,
    factory: u32,
    format: &KSDATAFORMAT,
    matching: dmus_sys::ks::PKSDATARANGE,
) -> Result<KSDATAFORMAT, OpenError> {
    let mut client = KSDATARANGE_MUSIC {
        DataRange: *format,
        Technology: GUID::parse("00000000-0000-0000-0000-000000000000"),
        Channels: 0,
        Notes: 0,
        ChannelMask: 0xFFFF,
    };
    client.DataRange.FormatSize =
        u32::try_from(core::mem::size_of::<KSDATARANGE_MUSIC>()).unwrap_or(0);
    let mut result = KSDATAFORMAT::default();
    let mut length = 0_u32;
    // SAFETY: the port holds a reference on the miniport; PASSIVE_LEVEL (pin creation); the
    // client range, the miniport's own matching range and the result buffer are valid for
    // the call, and the buffer length is the result's size.
    let vtable = unsafe { miniport_base_vtable(miniport) };
    let routine = vtable.DataRangeIntersection;
    // SAFETY: as above.
    let status = call_driver(routine as usize, PASSIVE_LEVEL, || unsafe {
        routine(
            miniport as *mut _,
            factory,
            (&raw mut client).cast(),
            matching,
            u32::try_from(core::mem::size_of::<KSDATAFORMAT>()).unwrap_or(0),
            (&raw mut result).cast(),
            &raw mut length,
        )
    });
    if status == STATUS_NOT_IMPLEMENTED {
        return Ok(*format);
    }
    if !NT_SUCCESS(status) {
        return Err(OpenError::Intersection(status));
    }
    if result.MajorFormat != format.MajorFormat || result.SubFormat != format.SubFormat {
        with_state("IMiniport::DataRangeIntersection", |m| {
            m.report_port_contract(format!(
                "IMiniport::DataRangeIntersection for pin {factory} returned a format of another subtype than the one asked for"
            ));
        });
        return Err(OpenError::FormatNotSupported);
    }
    Ok(result)
}

/// Opens a pin of factory `factory` on `port` in `format`: the pin id.
///
/// # Errors
/// [`OpenError`]; nothing is left open then.
#[allow(
    clippy::too_many_lines,
    reason = "pin creation is one sequence of steps, each undone on failure"
)]
pub fn open(port: usize, factory: u32, format: PinFormat) -> Result<u32, OpenError> {
    let (miniport, descriptor) = port_binding(port).ok_or(OpenError::NoPort)?;
    // SAFETY: the descriptor of a live, initialised port's miniport.
    let pin = unsafe { pin_factory(descriptor, factory) }.map_err(OpenError::Descriptor)?;
    let wanted = music_format(format);
    let matching = pin
        .ranges
        .iter()
        .find(|(r, _)| r.MajorFormat == wanted.MajorFormat && r.SubFormat == wanted.SubFormat)
        .map(|&(_, address)| address)
        .ok_or(OpenError::FormatNotSupported)?;
    let stream_type = match pin.data_flow {
        KSPIN_DATAFLOW_IN => DMUS_STREAM_MIDI_RENDER,
        KSPIN_DATAFLOW_OUT => DMUS_STREAM_MIDI_CAPTURE,
        _ => return Err(OpenError::Descriptor(DescriptorError::Corrupt)),
    };
    let (allocator, clock, open_now) = with_state("open pin", |m| {
        let record = m.portcls.ports.get(&port)?;
        let open_now = m
            .portcls
            .pins
            .values()
            .filter(|p| p.port == port && p.factory == factory)
            .count();
        Some((record.allocator, record.clock, open_now))
    })
    .ok_or(OpenError::NoPort)?;
    if u32::try_from(open_now).unwrap_or(u32::MAX) >= pin.max_instances {
        return Err(OpenError::TooManyInstances);
    }
    let format_value = intersect(miniport, factory, &wanted, matching)?;
    let id = with_state("open pin", |m| {
        m.portcls.next_pin += 1;
        m.portcls.next_pin
    });
    let outer = if with_state("open pin", |m| m.portcls.pass_outer_unknown) {
        new_pin_outer()
    } else {
        0
    };
    add_ref_object(port, "open pin (port reference)");
    let mut data_format = alloc::boxed::Box::new(format_value);
    let mut stream: PMXF = core::ptr::null_mut();
    let mut group: PSERVICEGROUP = core::ptr::null_mut();
    let mut prefetch = 0_u64;
    // SAFETY: the port holds a reference on the miniport; PASSIVE_LEVEL; every out pointer
    // is writable; the outer, allocator and clock are live sim objects the port holds (the
    // stream AddRefs what it keeps); the format box outlives the stream.
    let vtable = unsafe { miniport_vtable(miniport) };
    let routine = vtable.NewStream;
    // SAFETY: as above.
    let status = call_driver(routine as usize, PASSIVE_LEVEL, || unsafe {
        routine(
            miniport as *mut _,
            &raw mut stream,
            outer as PUNKNOWN,
            NonPagedPool,
            factory,
            stream_type,
            &raw mut *data_format,
            &raw mut group,
            allocator as *mut _,
            clock as *mut _,
            &raw mut prefetch,
        )
    });
    let fail = |status: NTSTATUS, stream: PMXF, group: PSERVICEGROUP| {
        for object in [stream as usize, group as usize, outer, port] {
            if object != 0 {
                // SAFETY: references this open holds (the stream's and the group's were
                // handed to us by NewStream).
                unsafe { release_foreign(object as PUNKNOWN) };
            }
        }
        status
    };
    if !NT_SUCCESS(status) || stream.is_null() {
        if NT_SUCCESS(status) {
            with_state("NewStream", |m| {
                m.report_port_contract(format!(
                    "IMiniportDMus::NewStream for pin {factory} succeeded without a stream"
                ));
            });
        }
        let status = if NT_SUCCESS(status) {
            dmus_sys::kernel::STATUS_UNSUCCESSFUL
        } else {
            status
        };
        return Err(OpenError::NewStream(fail(
            status,
            core::ptr::null_mut(),
            group,
        )));
    }
    let flow = if stream_type == DMUS_STREAM_MIDI_RENDER {
        PinFlow::Render {
            ksmusic: alloc::boxed::Box::new(KsMusicUnpacker::new(1, Limits::DEFAULT)),
            dmus: DmusUnpacker::new(Limits::DEFAULT),
            sequencer: mxf::sequencer::Sequencer::new(),
            prefetch,
            generation: 0,
            next_delivery: None,
        }
    } else {
        let sink = new_capture_sink(id);
        // SAFETY: the stream is live (NewStream's reference); PASSIVE_LEVEL.
        let vtable = unsafe { vtable_of::<IMXFVtbl>(stream.cast()) };
        // SAFETY: ConnectOutput with our live sink.
        let connected = call_driver(vtable.ConnectOutput as usize, PASSIVE_LEVEL, || unsafe {
            (vtable.ConnectOutput)(stream, sink as PMXF)
        });
        if !NT_SUCCESS(connected) {
            // SAFETY: our own reference on the sink.
            unsafe { release_foreign(sink as PUNKNOWN) };
            return Err(OpenError::ConnectOutput(fail(connected, stream, group)));
        }
        PinFlow::Capture {
            sink,
            parser: alloc::boxed::Box::new(mxf::capture::CaptureParser::new(1)),
            packer: mxf::pack::Packer::new(),
        }
    };
    with_state("open pin", |m| {
        m.portcls.pins.insert(
            id,
            PinRecord {
                port,
                factory,
                format,
                state: KSSTATE_STOP,
                stream: stream as usize,
                service_group: group as usize,
                outer,
                data_format,
                flow,
            },
        );
        if let Some(record) = m.portcls.ports.get_mut(&port) {
            record.pins.insert(id);
        }
    });
    Ok(id)
}

/// A pin's name for messages.
fn describe(id: u32) -> String {
    with_state("pin", |m| {
        m.portcls.pins.get(&id).map_or_else(
            || format!("pin {id}"),
            |p| format!("pin {id} (factory {}, stream {:#x})", p.factory, p.stream),
        )
    })
}

/// The state one step from `from` towards `to` (KS walks STOP↔ACQUIRE↔PAUSE↔RUN).
const fn step(from: KSSTATE, to: KSSTATE) -> KSSTATE {
    if to > from { from + 1 } else { from - 1 }
}

/// Why a state change stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateError {
    /// No such pin.
    NoPin,
    /// Not a `KSSTATE`.
    InvalidState,
    /// The stream's `SetState` failed going to `state`; the pin stays one step before it.
    Stream {
        /// The state refused.
        state: KSSTATE,
        /// The stream's status.
        status: NTSTATUS,
    },
}

/// Moves pin `id` to `target` one KS step at a time, calling the stream's `SetState` at
/// `PASSIVE_LEVEL` for each step.
///
/// # Errors
/// [`StateError`].
pub fn set_state(id: u32, target: KSSTATE) -> Result<(), StateError> {
    if !(KSSTATE_STOP..=KSSTATE_RUN).contains(&target) {
        return Err(StateError::InvalidState);
    }
    loop {
        let (current, stream) = with_state("pin state", |m| {
            m.portcls.pins.get(&id).map(|p| (p.state, p.stream))
        })
        .ok_or(StateError::NoPin)?;
        if current == target {
            return Ok(());
        }
        let next = step(current, target);
        // The port stops feeding the stream before the stream hears of it.
        render::before_state(id, next);
        // SAFETY: the pin holds a reference on the stream; PASSIVE_LEVEL.
        let vtable = unsafe { vtable_of::<IMXFVtbl>(stream as *mut core::ffi::c_void) };
        // SAFETY: SetState on the live stream at PASSIVE_LEVEL.
        let status = call_driver(vtable.SetState as usize, PASSIVE_LEVEL, || unsafe {
            (vtable.SetState)(stream as PMXF, next)
        });
        if !NT_SUCCESS(status) && next != KSSTATE_STOP {
            return Err(StateError::Stream {
                state: next,
                status,
            });
        }
        if !NT_SUCCESS(status) {
            let name = describe(id);
            with_state("pin state", |m| {
                m.report_ks_state(
                    name,
                    format!("IMXF::SetState(KSSTATE_STOP) failed with {status:#x}; a stream must always be able to stop"),
                );
            });
        }
        with_state("pin state", |m| {
            if let Some(pin) = m.portcls.pins.get_mut(&id) {
                pin.state = next;
            }
        });
        render::after_state(id, next);
        if next == KSSTATE_STOP {
            check_nothing_held(id);
        }
    }
}

/// After STOP, a render stream holds no event (it gave everything back to the allocator).
fn check_nothing_held(id: u32) {
    let name = describe(id);
    with_state("pin state", |m| {
        let Some(pin) = m.portcls.pins.get(&id) else {
            return;
        };
        if !matches!(pin.flow, PinFlow::Render { .. }) {
            return;
        }
        let Some(allocator) = m.portcls.ports.get(&pin.port).map(|p| p.allocator) else {
            return;
        };
        let held = with_allocator(m, allocator, "pin state", |a| a.pool.held_by(id)).unwrap_or(0);
        if held > 0 {
            m.report_ks_state(
                name,
                format!("the stream still holds {held} event(s) after KSSTATE_STOP (render data must go back to the allocator in STOP)"),
            );
        }
    });
}

/// The state of pin `id`.
#[must_use]
pub fn state(id: u32) -> Option<KSSTATE> {
    with_state("pin state", |m| m.portcls.pins.get(&id).map(|p| p.state))
}

/// Closes pin `id`. A pin not in STOP is a finding (KS closes only stopped pins); the port
/// walks it down first so nothing leaks. A stream that kept references on its outer
/// `IUnknown` is a finding.
pub fn close(id: u32) {
    let Some(current) = state(id) else {
        return;
    };
    if current != KSSTATE_STOP {
        let name = describe(id);
        with_state("pin close", |m| {
            m.report_ks_state(
                name,
                format!(
                    "closed in {}; a pin must be walked down to KSSTATE_STOP before it is closed",
                    state_name(current)
                ),
            );
        });
        let _ = set_state(id, KSSTATE_STOP);
    }
    let name = describe(id);
    let Some(pin) = with_state("pin close", |m| {
        let pin = m.portcls.pins.remove(&id)?;
        if let Some(port) = m.portcls.ports.get_mut(&pin.port) {
            port.pins.remove(&id);
        }
        Some(pin)
    }) else {
        return;
    };
    if let PinFlow::Capture { sink, .. } = pin.flow {
        // SAFETY: the pin holds the stream; PASSIVE_LEVEL.
        let vtable = unsafe { vtable_of::<IMXFVtbl>(pin.stream as *mut core::ffi::c_void) };
        // SAFETY: DisconnectOutput of the sink ConnectOutput connected.
        call_driver(vtable.DisconnectOutput as usize, PASSIVE_LEVEL, || unsafe {
            (vtable.DisconnectOutput)(pin.stream as PMXF, sink as PMXF)
        });
        // SAFETY: the pin's own reference on its sink.
        unsafe { release_foreign(sink as PUNKNOWN) };
    }
    if let PinFlow::Capture { mut packer, .. } = pin.flow {
        with_state("pin close", |m| {
            let Some(allocator) = m.portcls.ports.get(&pin.port).map(|p| p.allocator) else {
                return;
            };
            with_allocator(m, allocator, "pin close", |a| packer.discard(&mut a.pool));
        });
    }
    for object in [pin.stream, pin.service_group] {
        if object != 0 {
            // SAFETY: references the pin holds (handed over by NewStream).
            unsafe { release_foreign(object as PUNKNOWN) };
        }
    }
    let outer_refs = with_state("pin close", |m| m.com.get(pin.outer).map_or(0, |r| r.refs));
    if pin.outer != 0 && outer_refs != 1 {
        with_state("pin close", |m| {
            m.report_port_contract(format!(
                "{name}: after the stream's last Release its outer IUnknown has {outer_refs} reference(s), expected 1 (the pin's own): an aggregated stream must not keep counted references on its outer"
            ));
        });
    }
    if pin.outer != 0 {
        // SAFETY: the pin's own reference on its outer.
        unsafe { release_foreign(pin.outer as PUNKNOWN) };
    }
    // SAFETY: the pin's reference on its port.
    unsafe { release_foreign(pin.port as PUNKNOWN) };
    drop(pin.data_format);
}

/// `QueryInterface` on pin `id`'s stream for `iid` (aggregation checks): the interface's
/// address (the reference is released again at once) or the stream's status.
///
/// # Errors
/// The stream's status.
pub fn query_stream(id: u32, iid: &GUID) -> Result<usize, NTSTATUS> {
    let stream = with_state("pin", |m| m.portcls.pins.get(&id).map(|p| p.stream))
        .ok_or(dmus_sys::kernel::STATUS_INVALID_PARAMETER)?;
    // SAFETY: the pin holds a reference on the stream.
    let found = unsafe { query_foreign(stream as PUNKNOWN, iid) }?;
    // SAFETY: the reference QueryInterface just gave us.
    unsafe { release_foreign(found.cast()) };
    Ok(found as usize)
}

/// The outer `IUnknown` of pin `id`, if the port passed one.
#[must_use]
pub fn outer(id: u32) -> Option<usize> {
    with_state("pin", |m| m.portcls.pins.get(&id).map(|p| p.outer)).filter(|&o| o != 0)
}
