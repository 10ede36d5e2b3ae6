//! The COM objects a pin hands to its stream: its outer `IUnknown` (for aggregation) and, for
//! capture, the capture sink (`IMXF`) the stream puts captured events to.
//!
//! The capture sink follows the capture `KSSTATE` rule: in RUN and PAUSE it takes events in
//! (raw `DMUS_KEF_EVENT_INCOMPLETE` byte events are parsed into messages first) and queues
//! them for reads; in STOP and ACQUIRE it gives them straight back to the allocator.

use alloc::format;

use com_object::{ComObject, Identified, InterfaceId, MxfImpl};
use dmus_sys::dmus_com::{IMXF, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    DISPATCH_LEVEL, NTSTATUS, PASSIVE_LEVEL, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;
use mxf::Chain;
use mxf::capture::capture_passes_data;

use super::allocator::with_allocator;
use super::state::PinFlow;
use crate::current::with_state;
use crate::sim_object::{Registered, SimObject, address_of, new_object};

/// A sim-private interface id answered by a pin's outer `IUnknown` (not a Windows GUID: it
/// names nothing outside the simulation). A stream that aggregates correctly answers a
/// `QueryInterface` for it by forwarding to its outer.
pub const IID_ISIM_PIN: GUID = GUID::parse("5e1f0000-7264-6d75-732d-73696d2d7069");

const OUTER: &str = "IUnknown (pin outer)";
const SINK: &str = "IMXF (capture sink)";

/// The pin outer's interface: an `IUnknown` that also answers [`IID_ISIM_PIN`].
struct SimPinId;

impl InterfaceId for SimPinId {
    const IID: GUID = IID_ISIM_PIN;
}

/// A pin's outer `IUnknown`: nothing but its identity and count.
struct Outer;

com_object::class!(Outer, Registered<Outer>: Identified<SimPinId>);

impl SimObject for Outer {
    const KIND: &'static str = OUTER;
    const QUERY_INTERFACE: &'static str = "IUnknown (pin outer)::QueryInterface";
}

/// A capture pin's sink (the machine's table maps it to its pin).
struct CaptureSink;

com_object::class!(CaptureSink, Registered<CaptureSink>: IMXF);

impl SimObject for CaptureSink {
    const KIND: &'static str = SINK;
    const QUERY_INTERFACE: &'static str = "IMXF (capture sink)::QueryInterface";

    fn destroyed(object: usize) {
        with_state("IMXF (capture sink)::Release", |m| {
            m.portcls.capture_sinks.remove(&object)
        });
    }
}

/// Makes a pin's outer `IUnknown` (one reference, the pin's).
#[must_use]
pub fn new_pin_outer() -> usize {
    new_object::<_, Identified<SimPinId>>(Outer).as_ptr() as usize
}

/// Makes pin `pin`'s capture sink (one reference, the pin's).
#[must_use]
pub fn new_capture_sink(pin: u32) -> usize {
    let object = new_object::<_, IMXF>(CaptureSink).as_ptr() as usize;
    with_state(SINK, |m| m.portcls.capture_sinks.insert(object, pin));
    object
}

impl MxfImpl for CaptureSink {
    fn set_state(_this: &ComObject<Self>, _state: KSSTATE) -> NTSTATUS {
        const CALL: &str = "IMXF (capture sink)::SetState";
        // The sink follows its pin's state, which the port sets; nothing to do.
        with_state(CALL, |m| m.check_call(CALL, PASSIVE_LEVEL, true));
        STATUS_SUCCESS
    }

    unsafe fn connect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        with_state("IMXF (capture sink)::ConnectOutput", |m| {
            m.report_port_contract(format!(
            "ConnectOutput({:#x}) on the port's capture sink {:#x}: the sink is the end of the capture path",
            sink as usize, address_of(this)
        ));
        });
        STATUS_UNSUCCESSFUL
    }

    unsafe fn disconnect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        with_state("IMXF (capture sink)::DisconnectOutput", |m| {
            m.report_port_contract(format!(
                "DisconnectOutput({:#x}) on the port's capture sink {:#x}: it has no output",
                sink as usize,
                address_of(this)
            ));
        });
        STATUS_UNSUCCESSFUL
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        const CALL: &str = "IMXF (capture sink)::PutMessage";
        with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            if event.is_null() {
                return STATUS_SUCCESS;
            }
            let Some(&pin_id) = m.portcls.capture_sinks.get(&address_of(this)) else {
                return STATUS_INVALID_PARAMETER;
            };
            let Some(port) = m.portcls.pins.get(&pin_id).map(|p| p.port) else {
                return STATUS_INVALID_PARAMETER;
            };
            let Some(allocator) = m.portcls.ports.get(&port).map(|p| p.allocator) else {
                return STATUS_INVALID_PARAMETER;
            };
            // The chain must be the allocator's events, handed out and not yet returned; anything
            // else is not trusted (the allocator's walk reports it).
            let valid = with_allocator(m, allocator, CALL, |a| {
                chain_is_out(&a.pool, event as usize)
            })
            .unwrap_or(false);
            if !valid {
                with_allocator(m, allocator, CALL, |a| {
                    a.pool.return_chain(event as usize, CALL);
                });
                return STATUS_INVALID_PARAMETER;
            }
            // SAFETY: every event of the chain is one of the allocator's, handed out and not
            // returned (checked just above, acyclic because the walk is bounded and stops at a
            // repeat), and the stream gave up its ownership by calling PutMessage.
            let mut chain = unsafe { Chain::from_raw(event) };
            let Some(pin) = m.portcls.pins.get_mut(&pin_id) else {
                return STATUS_INVALID_PARAMETER;
            };
            let state = pin.state;
            let PinFlow::Capture { parser, packer, .. } = &mut pin.flow else {
                return STATUS_INVALID_PARAMETER;
            };
            let Some(record) = m.portcls.allocators.get_mut(&allocator) else {
                return STATUS_INVALID_PARAMETER;
            };
            let pool = &mut record.pool;
            if capture_passes_data(state) {
                let mut out = Chain::new();
                while !chain.is_empty() {
                    let one = chain.pop_front();
                    let raw = one
                        .front()
                        .is_some_and(|e| e.is_incomplete() && !e.is_package());
                    if raw {
                        let bytes: alloc::vec::Vec<(u8, i64)> = one
                            .front()
                            .map(|e| e.data().iter().map(|&b| (b, e.time())).collect())
                            .unwrap_or_default();
                        one.free(pool);
                        parser.parse(bytes, pool, &mut out);
                    } else {
                        out.push_back(one);
                    }
                }
                packer.push(out);
            } else {
                chain.free(pool);
            }
            let findings = pool.take_findings();
            for finding in findings {
                m.record(finding);
            }
            STATUS_SUCCESS
        })
    }
}

/// Whether every event of the chain at `head` (not package contents) is handed out by `pool`
/// and the chain ends before it could repeat.
fn chain_is_out(pool: &super::event_memory::TrackedPool, head: usize) -> bool {
    let mut seen = alloc::collections::BTreeSet::new();
    let mut at = head;
    while at != 0 {
        if !pool.is_out(at) || !seen.insert(at) {
            return false;
        }
        // SAFETY: `at` is one of the pool's events, handed out (checked): valid for reads.
        at = unsafe { (*(at as *const dmus_sys::dmusic::DMUS_KERNEL_EVENT)).pNextEvt } as usize;
    }
    true
}
