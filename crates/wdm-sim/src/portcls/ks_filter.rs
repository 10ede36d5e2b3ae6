//! The properties a `PortCls` filter answers itself, from the miniport's descriptor, before a
//! request reaches the miniport's automation tables: `KSPROPSETID_Pin` (what `PcPinPropertyHandler`
//! answers through KS's pin property handler), `KSPROPSETID_Topology` (categories, node types,
//! connections) and the `KSPROPERTY_TYPE_SETSUPPORT` query for the list of property sets
//! (`Set` = `GUID_NULL`) of the filter or of one of its nodes.
//!
//! The value-size protocol is KS's, one rule for every property: a GET with an empty value
//! buffer asks for the size (`STATUS_BUFFER_OVERFLOW` and the size); a buffer too small gets
//! `STATUS_BUFFER_TOO_SMALL`; a `KSMULTIPLE_ITEM` list also answers a buffer of exactly the
//! header with the header alone (its `Size` and `Count`), as KS's sized-list queries do.
//! `KSPROPERTY_PIN_NAME` reads the registry's `MediaCategories` key of the pin's `Name` GUID,
//! else of its `Category` GUID ([`super::media_categories`]).

use alloc::vec::Vec;

use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    NT_SUCCESS, NTSTATUS, PASSIVE_LEVEL, STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NO_MATCH, STATUS_NOT_FOUND,
    STATUS_NOT_IMPLEMENTED, STATUS_SUCCESS,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SETSUPPORT,
};
use dmus_sys::ks_guids::{
    KSPROPERTY_PIN_CATEGORY, KSPROPERTY_PIN_CINSTANCES, KSPROPERTY_PIN_COMMUNICATION,
    KSPROPERTY_PIN_CTYPES, KSPROPERTY_PIN_DATAFLOW, KSPROPERTY_PIN_DATAINTERSECTION,
    KSPROPERTY_PIN_DATARANGES, KSPROPERTY_PIN_GLOBALCINSTANCES, KSPROPERTY_PIN_NAME,
    KSPROPERTY_PIN_NECESSARYINSTANCES, KSPROPERTY_TOPOLOGY_CATEGORIES,
    KSPROPERTY_TOPOLOGY_CONNECTIONS, KSPROPERTY_TOPOLOGY_NODES, KSPROPSETID_Pin,
    KSPROPSETID_Topology,
};

use super::descriptor::{
    PinFactory, categories, connections, filter_automation, node_automation, node_types, pin_count,
    pin_factory, properties,
};
use super::port::miniport_base_vtable;
use super::property::{PropertyResult, PropertyTarget};
use crate::current::with_state;
use crate::dispatch::call_driver;

/// `GUID_NULL`: with `KSPROPERTY_TYPE_SETSUPPORT`, the query for every supported set.
const GUID_NULL: GUID = GUID::from_fields(0, 0, 0, [0; 8]);
/// Bytes of a `KSDATAFORMAT`.
const FORMAT_SIZE: usize = core::mem::size_of::<KSDATAFORMAT>();
/// Bytes of a `KSMULTIPLE_ITEM` header.
const MULTIPLE_ITEM_SIZE: usize = 8;
/// The `KSPROPSETID_Pin` properties the port answers (and `BASICSUPPORT` reports).
const PIN_PROPERTIES: [u32; 10] = [
    KSPROPERTY_PIN_CINSTANCES,
    KSPROPERTY_PIN_CTYPES,
    KSPROPERTY_PIN_DATAFLOW,
    KSPROPERTY_PIN_DATARANGES,
    KSPROPERTY_PIN_DATAINTERSECTION,
    KSPROPERTY_PIN_COMMUNICATION,
    KSPROPERTY_PIN_GLOBALCINSTANCES,
    KSPROPERTY_PIN_NECESSARYINSTANCES,
    KSPROPERTY_PIN_CATEGORY,
    KSPROPERTY_PIN_NAME,
];
/// The `KSPROPSETID_Topology` properties the port answers.
const TOPOLOGY_PROPERTIES: [u32; 3] = [
    KSPROPERTY_TOPOLOGY_CATEGORIES,
    KSPROPERTY_TOPOLOGY_NODES,
    KSPROPERTY_TOPOLOGY_CONNECTIONS,
];

const fn result(status: NTSTATUS, value_size: usize) -> PropertyResult {
    PropertyResult {
        status,
        #[allow(
            clippy::cast_possible_truncation,
            reason = "values the port builds are a few KiB at most"
        )]
        value_size: value_size as u32,
    }
}

/// Answers a GET with `bytes`, following KS's size protocol.
fn reply(bytes: &[u8], value: &mut [u8]) -> PropertyResult {
    if value.is_empty() {
        return result(STATUS_BUFFER_OVERFLOW, bytes.len());
    }
    let Some(out) = value.get_mut(..bytes.len()) else {
        return result(STATUS_BUFFER_TOO_SMALL, 0);
    };
    out.copy_from_slice(bytes);
    result(STATUS_SUCCESS, bytes.len())
}

/// Answers a GET with a `KSMULTIPLE_ITEM` list of `items` (each padded to 8 bytes, as KS
/// aligns list items on quadwords); a buffer of exactly the header gets the header alone.
fn reply_list<I: AsRef<[u8]>>(items: &[I], value: &mut [u8]) -> PropertyResult {
    let mut body = Vec::new();
    for item in items {
        body.extend_from_slice(item.as_ref());
        body.resize(body.len().next_multiple_of(8), 0);
    }
    let size = u32::try_from(MULTIPLE_ITEM_SIZE + body.len()).unwrap_or(u32::MAX);
    let count = u32::try_from(items.len()).unwrap_or(u32::MAX);
    let mut bytes = Vec::with_capacity(size as usize);
    bytes.extend_from_slice(&size.to_le_bytes());
    bytes.extend_from_slice(&count.to_le_bytes());
    if value.len() == MULTIPLE_ITEM_SIZE {
        value.copy_from_slice(&bytes);
        return result(STATUS_SUCCESS, MULTIPLE_ITEM_SIZE);
    }
    bytes.extend_from_slice(&body);
    reply(&bytes, value)
}

/// A GUID's 16 bytes as `GUID` lays them out.
fn guid_bytes(guid: &GUID) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..4].copy_from_slice(&guid.Data1.to_le_bytes());
    bytes[4..6].copy_from_slice(&guid.Data2.to_le_bytes());
    bytes[6..8].copy_from_slice(&guid.Data3.to_le_bytes());
    bytes[8..].copy_from_slice(&guid.Data4);
    bytes
}

/// A GUID from its 16 bytes.
fn guid_from(bytes: &[u8]) -> Option<GUID> {
    let bytes: &[u8; 16] = bytes.get(..16)?.try_into().ok()?;
    Some(GUID {
        Data1: u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]),
        Data2: u16::from_le_bytes([bytes[4], bytes[5]]),
        Data3: u16::from_le_bytes([bytes[6], bytes[7]]),
        Data4: [
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15],
        ],
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The sets `target` answers: for the filter, the port's own and those of the miniport's
/// filter table; for a node, its table's; each once, in that order. `None`: the target does
/// not exist (a node beyond `NodeCount`) or its table cannot be read.
fn supported_sets(descriptor: usize, target: PropertyTarget) -> Option<Vec<GUID>> {
    let (mut sets, table) = match target {
        PropertyTarget::Node(node) | PropertyTarget::PinNode { node, .. } => (
            Vec::new(),
            // SAFETY: the descriptor of a live, initialised port's miniport.
            unsafe { node_automation(descriptor, node) }.ok()?,
        ),
        // SAFETY: as above.
        _ => (alloc::vec![KSPROPSETID_Pin, KSPROPSETID_Topology], unsafe {
            filter_automation(descriptor)
        }),
    };
    // SAFETY: as above.
    for item in unsafe { properties(table) }.ok()? {
        if !sets.contains(&item.set) {
            sets.push(item.set);
        }
    }
    Some(sets)
}

/// The pins open now of `factory`: on this filter (`port`), and on every filter of the same
/// descriptor (KS's global count).
fn open_counts(port: usize, descriptor: usize, factory: u32) -> (usize, usize) {
    with_state("pin property", |m| {
        let on_filter = m
            .portcls
            .pins
            .values()
            .filter(|p| p.port == port && p.factory == factory)
            .count();
        let global = m
            .portcls
            .pins
            .values()
            .filter(|p| {
                p.factory == factory
                    && m.portcls
                        .ports
                        .get(&p.port)
                        .is_some_and(|r| r.descriptor == descriptor)
            })
            .count();
        (on_filter, global)
    })
}

fn cinstances(possible: u32, current: usize) -> [u8; 8] {
    let mut bytes = [0; 8];
    bytes[..4].copy_from_slice(&possible.to_le_bytes());
    bytes[4..].copy_from_slice(&u32::try_from(current).unwrap_or(u32::MAX).to_le_bytes());
    bytes
}

/// The `Name` under `MediaCategories` of the pin's name GUID, else of its category, as UTF-16
/// with its terminating NUL.
fn pin_name(pin: &PinFactory) -> Option<Vec<u8>> {
    let name = pin
        .name
        .and_then(|guid| super::media_categories::name_of(&guid))
        .or_else(|| {
            pin.category
                .and_then(|guid| super::media_categories::name_of(&guid))
        })?;
    let mut bytes = Vec::new();
    for unit in name.encode_utf16().chain([0]) {
        bytes.extend_from_slice(&unit.to_le_bytes());
    }
    Some(bytes)
}

/// Whether a client's GUID matches the pin's (`GUID_NULL` is KS's wildcard).
fn fits(client: &GUID, ours: &GUID) -> bool {
    client == ours || *client == GUID_NULL
}

/// `KSPROPERTY_PIN_DATAINTERSECTION`: `instance` (after `KSP_PIN`'s pin id and reserved word)
/// is a `KSMULTIPLE_ITEM` of the client's ranges. For each, in order, each of the pin's ranges
/// whose GUIDs it fits goes to `IMiniport::DataRangeIntersection`; the first format found is
/// the answer. A miniport that answers `STATUS_NOT_IMPLEMENTED` leaves it to the port, which
/// returns the pin range's header as a `KSDATAFORMAT` when no GUID is a wildcard.
fn data_intersection(
    miniport: usize,
    factory: u32,
    pin: &PinFactory,
    list: &[u8],
    value: &mut [u8],
) -> PropertyResult {
    let (Some(size), Some(count)) = (u32_at(list, 0), u32_at(list, 4)) else {
        return result(STATUS_INVALID_PARAMETER, 0);
    };
    let Some(list) = list.get(..size as usize) else {
        return result(STATUS_INVALID_PARAMETER, 0);
    };
    let mut at = MULTIPLE_ITEM_SIZE;
    for _ in 0..count {
        let Some(format_size) = u32_at(list, at) else {
            return result(STATUS_INVALID_PARAMETER, 0);
        };
        let format_size = format_size as usize;
        if format_size < FORMAT_SIZE {
            return result(STATUS_INVALID_PARAMETER, 0);
        }
        let Some(client) = list.get(at..at + format_size) else {
            return result(STATUS_INVALID_PARAMETER, 0);
        };
        at += format_size.next_multiple_of(8);
        let (Some(major), Some(sub), Some(specifier)) = (
            guid_from(&client[16..]),
            guid_from(&client[32..]),
            guid_from(&client[48..]),
        ) else {
            return result(STATUS_INVALID_PARAMETER, 0);
        };
        // An 8-byte aligned copy the miniport may read as a KSDATARANGE.
        let mut aligned = alloc::vec![0_u64; format_size.div_ceil(8)];
        for (index, byte) in client.iter().enumerate() {
            let word = &mut aligned[index / 8];
            *word |= u64::from(*byte) << ((index % 8) * 8);
        }
        for ((ours, address), our_bytes) in pin.ranges.iter().zip(&pin.range_bytes) {
            if !(fits(&major, &ours.MajorFormat)
                && fits(&sub, &ours.SubFormat)
                && fits(&specifier, &ours.Specifier))
            {
                continue;
            }
            let mut length = 0_u32;
            // SAFETY: the port holds a reference on the miniport; PASSIVE_LEVEL (a property
            // request); the client range copy, the miniport's own range and the value buffer
            // (or NULL for a size query) are valid for the call, the length is the buffer's.
            let vtable = unsafe { miniport_base_vtable(miniport) };
            let routine = vtable.DataRangeIntersection;
            let output = if value.is_empty() {
                core::ptr::null_mut()
            } else {
                value.as_mut_ptr().cast()
            };
            // SAFETY: as above.
            let status = call_driver(routine as usize, PASSIVE_LEVEL, || unsafe {
                routine(
                    miniport as *mut _,
                    factory,
                    aligned.as_mut_ptr().cast(),
                    *address,
                    u32::try_from(value.len()).unwrap_or(u32::MAX),
                    output,
                    &raw mut length,
                )
            });
            if status == STATUS_NO_MATCH {
                continue;
            }
            if status == STATUS_NOT_IMPLEMENTED {
                if major == GUID_NULL || sub == GUID_NULL || specifier == GUID_NULL {
                    continue;
                }
                // The pin range's header as a KSDATAFORMAT (ranges are at least a header
                // long: the descriptor reader checked).
                let mut format = our_bytes[..FORMAT_SIZE].to_vec();
                format[..4].copy_from_slice(&u32::try_from(FORMAT_SIZE).unwrap_or(0).to_le_bytes());
                return reply(&format, value);
            }
            if status == STATUS_BUFFER_OVERFLOW || NT_SUCCESS(status) {
                return result(status, length as usize);
            }
            return result(status, 0);
        }
    }
    result(STATUS_NO_MATCH, 0)
}

/// Answers `KSPROPSETID_Pin` property `id` for pin factory `factory` (`None`: no pin id, as for
/// `CTYPES`).
fn pin_property(
    port: usize,
    miniport: usize,
    descriptor: usize,
    id: u32,
    factory: Option<u32>,
    list: &[u8],
    value: &mut [u8],
) -> PropertyResult {
    if id == KSPROPERTY_PIN_CTYPES {
        // SAFETY: the descriptor of a live, initialised port's miniport.
        return reply(&unsafe { pin_count(descriptor) }.to_le_bytes(), value);
    }
    let Some(factory) = factory else {
        return result(STATUS_INVALID_PARAMETER, 0);
    };
    // SAFETY: as above.
    let Ok(pin) = (unsafe { pin_factory(descriptor, factory) }) else {
        return result(STATUS_INVALID_PARAMETER, 0);
    };
    let (on_filter, global) = open_counts(port, descriptor, factory);
    match id {
        KSPROPERTY_PIN_DATAFLOW => reply(&pin.data_flow.to_le_bytes(), value),
        KSPROPERTY_PIN_COMMUNICATION => reply(&pin.communication.to_le_bytes(), value),
        KSPROPERTY_PIN_CINSTANCES => reply(&cinstances(pin.max_filter_instances, on_filter), value),
        KSPROPERTY_PIN_GLOBALCINSTANCES => {
            reply(&cinstances(pin.max_global_instances, global), value)
        }
        KSPROPERTY_PIN_NECESSARYINSTANCES => reply(&pin.min_instances.to_le_bytes(), value),
        KSPROPERTY_PIN_DATARANGES => reply_list(&pin.range_bytes, value),
        KSPROPERTY_PIN_CATEGORY => match pin.category {
            Some(category) => reply(&guid_bytes(&category), value),
            None => result(STATUS_NOT_FOUND, 0),
        },
        KSPROPERTY_PIN_NAME => match pin_name(&pin) {
            Some(name) => reply(&name, value),
            None => result(STATUS_NOT_FOUND, 0),
        },
        KSPROPERTY_PIN_DATAINTERSECTION => data_intersection(miniport, factory, &pin, list, value),
        _ => result(STATUS_NOT_FOUND, 0),
    }
}

/// Answers `KSPROPSETID_Topology` property `id`.
fn topology_property(descriptor: usize, id: u32, value: &mut [u8]) -> PropertyResult {
    let corrupt = result(STATUS_INVALID_DEVICE_REQUEST, 0);
    match id {
        KSPROPERTY_TOPOLOGY_CATEGORIES | KSPROPERTY_TOPOLOGY_NODES => {
            let guids = if id == KSPROPERTY_TOPOLOGY_NODES {
                // SAFETY: the descriptor of a live, initialised port's miniport.
                unsafe { node_types(descriptor) }
            } else {
                // SAFETY: as above.
                unsafe { categories(descriptor) }
            };
            let Ok(guids) = guids else { return corrupt };
            let items: Vec<[u8; 16]> = guids.iter().map(guid_bytes).collect();
            reply_list(&items, value)
        }
        KSPROPERTY_TOPOLOGY_CONNECTIONS => {
            // SAFETY: as above.
            let Ok(edges) = (unsafe { connections(descriptor) }) else {
                return corrupt;
            };
            let items: Vec<[u8; 16]> = edges
                .iter()
                .map(|edge| {
                    let mut bytes = [0; 16];
                    for (slot, field) in bytes.chunks_exact_mut(4).zip(edge) {
                        slot.copy_from_slice(&field.to_le_bytes());
                    }
                    bytes
                })
                .collect();
            reply_list(&items, value)
        }
        _ => result(STATUS_NOT_FOUND, 0),
    }
}

/// The port's answer to a request, or `None` when the request is the miniport's (its tables
/// decide then).
#[allow(
    clippy::too_many_arguments,
    reason = "a property request's parts, as KS has them"
)]
pub(super) fn answer(
    port: usize,
    miniport: usize,
    descriptor: usize,
    target: PropertyTarget,
    set: &GUID,
    id: u32,
    verb: u32,
    instance: &[u8],
    value: &mut [u8],
) -> Option<PropertyResult> {
    if verb == KSPROPERTY_TYPE_SETSUPPORT && !matches!(target, PropertyTarget::Pin(_)) {
        let Some(sets) = supported_sets(descriptor, target) else {
            return Some(result(STATUS_INVALID_PARAMETER, 0));
        };
        if *set == GUID_NULL {
            let bytes: Vec<u8> = sets.iter().flat_map(guid_bytes).collect();
            return Some(reply(&bytes, value));
        }
        let known = sets.contains(set);
        return Some(result(
            if known {
                STATUS_SUCCESS
            } else {
                STATUS_NOT_FOUND
            },
            0,
        ));
    }
    let factory = match target {
        PropertyTarget::Filter => u32_at(instance, 0),
        PropertyTarget::PinFactory(factory) => Some(factory),
        PropertyTarget::Pin(_) | PropertyTarget::Node(_) | PropertyTarget::PinNode { .. } => {
            return None;
        }
    };
    let ids: &[u32] = if *set == KSPROPSETID_Pin {
        &PIN_PROPERTIES
    } else if *set == KSPROPSETID_Topology {
        &TOPOLOGY_PROPERTIES
    } else {
        return None;
    };
    if !ids.contains(&id) {
        return Some(result(STATUS_NOT_FOUND, 0));
    }
    if verb == KSPROPERTY_TYPE_BASICSUPPORT {
        return Some(reply(&KSPROPERTY_TYPE_GET.to_le_bytes(), value));
    }
    if verb != KSPROPERTY_TYPE_GET {
        return Some(result(STATUS_INVALID_DEVICE_REQUEST, 0));
    }
    Some(if *set == KSPROPSETID_Pin {
        // KSP_PIN: the pin id and a reserved word, then (DATAINTERSECTION) the client's list.
        let list = instance.get(8..).unwrap_or(&[]);
        let factory = if id == KSPROPERTY_PIN_CTYPES {
            None
        } else {
            factory
        };
        pin_property(port, miniport, descriptor, id, factory, list, value)
    } else {
        topology_property(descriptor, id, value)
    })
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{STATUS_BUFFER_OVERFLOW, STATUS_BUFFER_TOO_SMALL, STATUS_SUCCESS};

    use super::{guid_bytes, guid_from, reply, reply_list};

    #[test]
    fn values_follow_the_size_protocol() {
        let mut none = [];
        assert_eq!(
            reply(&[1, 2, 3, 4], &mut none).status,
            STATUS_BUFFER_OVERFLOW
        );
        assert_eq!(reply(&[1, 2, 3, 4], &mut none).value_size, 4);
        let mut short = [0; 2];
        assert_eq!(
            reply(&[1, 2, 3, 4], &mut short).status,
            STATUS_BUFFER_TOO_SMALL
        );
        let mut room = [0; 8];
        let answered = reply(&[1, 2, 3, 4], &mut room);
        assert_eq!((answered.status, answered.value_size), (STATUS_SUCCESS, 4));
        assert_eq!(room[..4], [1, 2, 3, 4]);
    }

    #[test]
    fn lists_answer_the_header_alone_and_pad_items_to_quadwords() {
        let items = [[7_u8; 12], [9_u8; 12]];
        let mut header = [0; 8];
        let answered = reply_list(&items, &mut header);
        assert_eq!((answered.status, answered.value_size), (STATUS_SUCCESS, 8));
        assert_eq!(header, [40, 0, 0, 0, 2, 0, 0, 0]);
        let mut all = [0xFF; 40];
        assert_eq!(reply_list(&items, &mut all).value_size, 40);
        assert_eq!(all[8..20], [7; 12]);
        assert_eq!(all[20..24], [0; 4]);
        assert_eq!(all[24..36], [9; 12]);
    }

    #[test]
    fn guids_round_trip_through_their_bytes() {
        let guid = dmus_sys::ks_guids::KSPROPSETID_Pin;
        assert_eq!(guid_from(&guid_bytes(&guid)), Some(guid));
        assert_eq!(guid_bytes(&guid)[..4], [0x60, 0x49, 0x13, 0x8c]);
    }
}
