//! Property requests routed through the miniport's automation tables, as `PortCls` does for a
//! KS property IRP: find the item by set and id in the filter's (or the pin's) table, check
//! the verb against the item's flags, and call its handler at `PASSIVE_LEVEL` with a
//! `PCPROPERTY_REQUEST` (`MajorTarget` the miniport, `MinorTarget` the stream for a pin, `Irp`
//! an IRP whose `RequestorMode` says whether an application or a kernel component asked).
//! `KSPROPSETID_Pin`, `KSPROPSETID_Topology` and the set-list query are the port's own,
//! answered from the descriptor before any table is consulted (the `ks_filter` module); a
//! filter-addressed `KSPROPSETID_Pin` request carries the `KSP_PIN` tail (pin id, reserved) as
//! its instance.

use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    KPROCESSOR_MODE, NTSTATUS, PASSIVE_LEVEL, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_NOT_SUPPORTED, UserMode,
};
use dmus_sys::portcls::{PCFILTER_NODE, PCPROPERTY_REQUEST};

use super::descriptor::{filter_automation, node_automation, pin_factory, properties};
use super::irp::SimIrp;
use super::port::port_binding;
use crate::current::with_state;
use crate::dispatch::call_driver;

/// What a property request is addressed to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PropertyTarget {
    /// The filter.
    Filter,
    /// A pin factory (no pin open).
    PinFactory(u32),
    /// An open pin, by id.
    Pin(u32),
    /// A topology node (a `KSNODEPROPERTY` sent with `KSPROPERTY_TYPE_TOPOLOGY`): the node's
    /// automation table, `Node` set in the request.
    Node(u32),
    /// A topology node through an open pin's handle (a `KSNODEPROPERTY` on the pin's file
    /// object, as `DirectMusic` sends `RUNNINGSTATS` to its port's pin): the node's automation
    /// table, `Node` set and `MinorTarget` the pin's stream.
    PinNode {
        /// The open pin, by id.
        pin: u32,
        /// The node.
        node: u32,
    },
}

/// The result of a request: the handler's status and the `ValueSize` it left.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PropertyResult {
    /// The handler's status (or the port's, when no handler ran).
    pub status: NTSTATUS,
    /// `ValueSize` after the handler: bytes written (GET) or needed.
    pub value_size: u32,
}

/// Sends a property request to the miniport of `port` from an application (its IRP's
/// `RequestorMode` is `UserMode`, as for every KS property IRP an application sends).
/// `verb` is `KSPROPERTY_TYPE_GET`, `_SET` or `_BASICSUPPORT`; `instance` follows the
/// `KSPROPERTY`; `value` is the buffer (read for SET, written for GET).
#[must_use]
pub fn request(
    port: usize,
    target: PropertyTarget,
    set: &GUID,
    id: u32,
    verb: u32,
    instance: &mut [u8],
    value: &mut [u8],
) -> PropertyResult {
    request_as(UserMode, port, target, set, id, verb, instance, value)
}

/// [`request`] with the IRP's `RequestorMode` set to `mode` (`KernelMode` for a request from
/// another kernel component, whose pointers are system addresses).
#[must_use]
#[allow(
    clippy::too_many_arguments,
    reason = "a property request's parts, as KS has them"
)]
pub fn request_as(
    mode: KPROCESSOR_MODE,
    port: usize,
    target: PropertyTarget,
    set: &GUID,
    id: u32,
    verb: u32,
    instance: &mut [u8],
    value: &mut [u8],
) -> PropertyResult {
    let refuse = |status| PropertyResult {
        status,
        value_size: 0,
    };
    let Some((miniport, descriptor)) = port_binding(port) else {
        return refuse(STATUS_INVALID_PARAMETER);
    };
    // KS's own sets (pins, topology, the set list) the port answers from the descriptor.
    if let Some(answered) = super::ks_filter::answer(
        port, miniport, descriptor, target, set, id, verb, instance, value,
    ) {
        return answered;
    }
    let (factory, stream) = match target {
        PropertyTarget::Filter | PropertyTarget::Node(_) => (None, 0),
        PropertyTarget::PinFactory(f) => (Some(f), 0),
        PropertyTarget::Pin(pin) | PropertyTarget::PinNode { pin, .. } => {
            match with_state("property", |m| {
                m.portcls
                    .pins
                    .get(&pin)
                    .filter(|p| p.port == port)
                    .map(|p| (p.factory, p.stream))
            }) {
                Some((f, s)) => (Some(f), s),
                None => return refuse(STATUS_INVALID_PARAMETER),
            }
        }
    };
    let node = match target {
        PropertyTarget::Node(node) | PropertyTarget::PinNode { node, .. } => node,
        _ => PCFILTER_NODE,
    };
    let table = if let PropertyTarget::Node(node) | PropertyTarget::PinNode { node, .. } = target {
        // SAFETY: the descriptor of a live, initialised port's miniport.
        match unsafe { node_automation(descriptor, node) } {
            Ok(table) => table,
            Err(_) => return refuse(STATUS_INVALID_PARAMETER),
        }
    } else if let Some(f) = factory {
        // SAFETY: the descriptor of a live, initialised port's miniport.
        match unsafe { pin_factory(descriptor, f) } {
            Ok(pin) => pin.automation,
            Err(_) => return refuse(STATUS_INVALID_PARAMETER),
        }
    } else {
        // SAFETY: as above.
        unsafe { filter_automation(descriptor) }
    };
    // SAFETY: a table of the live miniport (or NULL).
    let Ok(items) = (unsafe { properties(table) }) else {
        return refuse(STATUS_INVALID_DEVICE_REQUEST);
    };
    let Some(item) = items.iter().find(|i| i.set == *set && i.id == id) else {
        return refuse(STATUS_NOT_FOUND);
    };
    if item.flags & verb != verb || verb == 0 {
        return refuse(STATUS_INVALID_DEVICE_REQUEST);
    }
    let Some(handler) = item.handler else {
        return refuse(STATUS_NOT_SUPPORTED);
    };
    let irp = SimIrp::with_mode(mode);
    let mut request = PCPROPERTY_REQUEST {
        MajorTarget: miniport as *mut _,
        MinorTarget: stream as *mut _,
        Node: node,
        PropertyItem: item.address,
        Verb: verb,
        InstanceSize: u32::try_from(instance.len()).unwrap_or(u32::MAX),
        Instance: if instance.is_empty() {
            core::ptr::null_mut()
        } else {
            instance.as_mut_ptr().cast()
        },
        ValueSize: u32::try_from(value.len()).unwrap_or(u32::MAX),
        Value: if value.is_empty() {
            core::ptr::null_mut()
        } else {
            value.as_mut_ptr().cast()
        },
        Irp: irp.as_ptr(),
    };
    // SAFETY: the miniport's handler at PASSIVE_LEVEL with a request whose buffers are valid
    // for their sizes for the whole call; the miniport is held by its port.
    let status = call_driver(handler as usize, PASSIVE_LEVEL, || unsafe {
        handler(&raw mut request)
    });
    drop(irp);
    PropertyResult {
        status,
        value_size: request.ValueSize,
    }
}
