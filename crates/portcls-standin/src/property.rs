//! Property requests to a filter, as PortCls routes a KS property IRP: the item of the filter
//! descriptor's automation table with the request's set and id gets a `PCPROPERTY_REQUEST`
//! (MajorTarget the miniport, no MinorTarget, node `ULONG_MAX`) and the IRP, whose
//! `RequestorMode` (KernelMode from `IoAllocateIrp`) tells the handler its buffers are system
//! addresses.

use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NTSTATUS, PIRP, STATUS_NOT_FOUND};
use dmus_sys::portcls::{PCFILTER_DESCRIPTOR, PCPROPERTY_ITEM, PCPROPERTY_REQUEST};

use crate::kernel::{IoAllocateIrp, IoFreeIrp};

/// What the handler said.
#[derive(Clone, Copy, Debug)]
pub struct PropertyResult {
    /// Its status.
    pub status: NTSTATUS,
    /// `ValueSize` as the handler left it (bytes written for a GET).
    pub value_size: u32,
}

/// The item of `descriptor`'s filter automation table for (`set`, `id`), or null.
///
/// # Safety
/// `descriptor` is a live filter descriptor (the miniport's, from GetDescription).
unsafe fn find_item(
    descriptor: *const PCFILTER_DESCRIPTOR,
    set: &GUID,
    id: u32,
) -> *const PCPROPERTY_ITEM {
    // SAFETY: the caller's live descriptor.
    let table = unsafe { (*descriptor).AutomationTable };
    // SAFETY: the descriptor's own table (or null).
    unsafe { find_in_table(table, set, id) }
}

/// The automation table of node `node` of `descriptor` (null when it has none or there is no
/// such node).
///
/// # Safety
/// `descriptor` is a live filter descriptor.
unsafe fn node_table(
    descriptor: *const PCFILTER_DESCRIPTOR,
    node: u32,
) -> *const dmus_sys::portcls::PCAUTOMATION_TABLE {
    // SAFETY: the caller's live descriptor.
    let filter = unsafe { &*descriptor };
    if node >= filter.NodeCount || filter.Nodes.is_null() {
        return core::ptr::null();
    }
    let stride = usize::try_from(filter.NodeSize)
        .unwrap_or(0)
        .max(core::mem::size_of::<dmus_sys::portcls::PCNODE_DESCRIPTOR>());
    let index = usize::try_from(node).unwrap_or(usize::MAX);
    // SAFETY: inside the descriptor's array of NodeCount nodes of NodeSize bytes.
    let node = unsafe { filter.Nodes.byte_add(index * stride) };
    // SAFETY: as above: an initialised node descriptor.
    unsafe { (*node).AutomationTable }
}

/// The item of `table` for (`set`, `id`), or null.
///
/// # Safety
/// `table` is null or a live automation table of the miniport.
unsafe fn find_in_table(
    table: *const dmus_sys::portcls::PCAUTOMATION_TABLE,
    set: &GUID,
    id: u32,
) -> *const PCPROPERTY_ITEM {
    if table.is_null() {
        return core::ptr::null();
    }
    // SAFETY: a live automation table (the descriptor's).
    let table = unsafe { &*table };
    let stride = usize::try_from(table.PropertyItemSize)
        .unwrap_or(0)
        .max(core::mem::size_of::<PCPROPERTY_ITEM>());
    for index in 0..usize::try_from(table.PropertyCount).unwrap_or(0) {
        // SAFETY: inside the table's array of PropertyCount items of PropertyItemSize bytes.
        let item = unsafe { table.Properties.byte_add(index * stride) };
        // SAFETY: as above; an initialised item.
        let item_ref = unsafe { &*item };
        // SAFETY: a non-null set pointer of a descriptor item is a static GUID.
        if item_ref.Id == id && !item_ref.Set.is_null() && unsafe { *item_ref.Set } == *set {
            return item;
        }
    }
    core::ptr::null()
}

/// Sends a property request to the filter: `verb` (`KSPROPERTY_TYPE_GET` / `SET`) with the
/// request's instance data and value buffer.
///
/// # Safety
/// `miniport` and `descriptor` are the live miniport of a bound port and its descriptor.
/// PASSIVE_LEVEL.
pub unsafe fn filter_property(
    miniport: dmus_sys::com::PUNKNOWN,
    descriptor: *const PCFILTER_DESCRIPTOR,
    set: &GUID,
    id: u32,
    verb: u32,
    instance: &mut [u8],
    value: &mut [u8],
) -> PropertyResult {
    // SAFETY: the caller's live descriptor.
    let item = unsafe { find_item(descriptor, set, id) };
    // SAFETY: a filter request: no stream, no node.
    unsafe {
        send(
            miniport,
            item,
            core::ptr::null_mut(),
            u32::MAX,
            verb,
            instance,
            value,
        )
    }
}

/// Sends a property request to node `node` through a pin, as a KS property IRP on the pin's
/// handle with a node id reaches the miniport: `MinorTarget` the pin's stream, the item from
/// the node's automation table.
///
/// # Safety
/// `miniport` and `descriptor` are the live miniport of a bound port and its descriptor;
/// `stream` is a live stream of that miniport. PASSIVE_LEVEL.
#[allow(clippy::too_many_arguments, reason = "a PCPROPERTY_REQUEST's fields")]
pub unsafe fn node_property(
    miniport: dmus_sys::com::PUNKNOWN,
    descriptor: *const PCFILTER_DESCRIPTOR,
    stream: dmus_sys::com::PUNKNOWN,
    node: u32,
    set: &GUID,
    id: u32,
    verb: u32,
    value: &mut [u8],
) -> PropertyResult {
    // SAFETY: the caller's live descriptor.
    let table = unsafe { node_table(descriptor, node) };
    // SAFETY: the node's own table (or null).
    let item = unsafe { find_in_table(table, set, id) };
    // SAFETY: the caller's live miniport and stream.
    unsafe { send(miniport, item, stream, node, verb, &mut [], value) }
}

/// Calls `item`'s handler with a request built from the rest.
///
/// # Safety
/// `item` is null or a live item of `miniport`'s descriptor; `stream` null or its live
/// stream. PASSIVE_LEVEL.
unsafe fn send(
    miniport: dmus_sys::com::PUNKNOWN,
    item: *const PCPROPERTY_ITEM,
    stream: dmus_sys::com::PUNKNOWN,
    node: u32,
    verb: u32,
    instance: &mut [u8],
    value: &mut [u8],
) -> PropertyResult {
    // SAFETY: non-null items are live (the descriptor's).
    let Some(handler) = (!item.is_null())
        .then(|| unsafe { (*item).Handler })
        .flatten()
    else {
        return PropertyResult {
            status: STATUS_NOT_FOUND,
            value_size: 0,
        };
    };
    // SAFETY: an IRP standing for the KS property IRP, freed below. PASSIVE_LEVEL.
    let irp: PIRP = unsafe { IoAllocateIrp(1, 0) };
    let mut request = PCPROPERTY_REQUEST {
        MajorTarget: miniport,
        MinorTarget: stream,
        Node: node,
        PropertyItem: item,
        Verb: verb,
        InstanceSize: u32::try_from(instance.len()).unwrap_or(0),
        Instance: if instance.is_empty() {
            core::ptr::null_mut()
        } else {
            instance.as_mut_ptr().cast()
        },
        ValueSize: u32::try_from(value.len()).unwrap_or(0),
        Value: if value.is_empty() {
            core::ptr::null_mut()
        } else {
            value.as_mut_ptr().cast()
        },
        Irp: irp,
    };
    // SAFETY: the miniport's handler with a request whose buffers live for the call.
    let status = unsafe { handler(&raw mut request) };
    if !irp.is_null() {
        // SAFETY: the IRP allocated above.
        unsafe { IoFreeIrp(irp) };
    }
    PropertyResult {
        status,
        value_size: request.ValueSize,
    }
}
