//! `rdmus describe`: both filters as a client sees them, KsStudio-style.
//!
//! Everything printed is asked of the simulated filter through KS properties, as an
//! application would ask the real one (never read from the descriptor structs): the
//! filter's categories, node types and COMPONENTID (`KSPROPSETID_Topology`,
//! `KSPROPSETID_General`), the property sets it answers (`KSPROPERTY_TYPE_SETSUPPORT` with
//! `GUID_NULL`, then each id probed with `KSPROPERTY_TYPE_BASICSUPPORT`), and per pin its
//! data flow, communication, instance counts, data ranges, category and name
//! (`KSPROPSETID_Pin`). The registry's `MediaCategories` names come from the INF, installed
//! into the machine as the package's `AddReg` would.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use dmus_sys::GUID;
use dmus_sys::dmusprop::{KSPROPSETID_Synth, KSPROPSETID_Synth_Dls};
use dmus_sys::kernel::{NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_NOT_FOUND, STATUS_SUCCESS};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SETSUPPORT};
use dmus_sys::ks_guids as ks;
use wdm_sim::portcls::{Filter, PropertyTarget, media_categories};

use crate::cli::{CliError, Device};
use crate::sim::{Rig, SimConfig};

/// The INF the package installs (its `MediaCategories` names).
const INF: &str = include_str!("../../../../inf/rdmus.inx");

/// The highest property id probed in each set.
const PROBED_IDS: u32 = 32;

/// `KSFILTER_NODE` (ks.h): a connection's end that is a filter pin, not a node.
const KSFILTER_NODE: u32 = u32::MAX;

/// Known GUIDs by name.
fn guid_name(guid: &GUID) -> String {
    let known: [(GUID, &str); 26] = [
        (ks::KSCATEGORY_AUDIO, "KSCATEGORY_AUDIO"),
        (ks::KSCATEGORY_RENDER, "KSCATEGORY_RENDER"),
        (ks::KSCATEGORY_CAPTURE, "KSCATEGORY_CAPTURE"),
        (ks::KSCATEGORY_TOPOLOGY, "KSCATEGORY_TOPOLOGY"),
        (ks::KSCATEGORY_SYNTHESIZER, "KSCATEGORY_SYNTHESIZER"),
        (ks::KSCATEGORY_DATATRANSFORM, "KSCATEGORY_DATATRANSFORM"),
        (
            ks::KSCATEGORY_WDMAUD_USE_PIN_NAME,
            "KSCATEGORY_WDMAUD_USE_PIN_NAME",
        ),
        (ks::KSNODETYPE_SWSYNTH, "KSNODETYPE_SWSYNTH"),
        (ks::KSNODETYPE_DAC, "KSNODETYPE_DAC"),
        (ks::KSDATAFORMAT_TYPE_MUSIC, "MUSIC"),
        (ks::KSDATAFORMAT_SUBTYPE_MIDI, "MIDI"),
        (ks::KSDATAFORMAT_SUBTYPE_MIDI_BUS, "MIDI_BUS"),
        (ks::KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, "DIRECTMUSIC"),
        (ks::KSDATAFORMAT_SPECIFIER_NONE, "NONE"),
        (ks::KSDATAFORMAT_TYPE_AUDIO, "AUDIO"),
        (ks::KSDATAFORMAT_SUBTYPE_PCM, "PCM"),
        (ks::KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, "WAVEFORMATEX"),
        (ks::KSPROPSETID_Pin, "KSPROPSETID_Pin"),
        (ks::KSPROPSETID_General, "KSPROPSETID_General"),
        (ks::KSPROPSETID_Connection, "KSPROPSETID_Connection"),
        (ks::KSPROPSETID_Stream, "KSPROPSETID_Stream"),
        (ks::KSPROPSETID_Topology, "KSPROPSETID_Topology"),
        (ks::KSPROPSETID_Audio, "KSPROPSETID_Audio"),
        (KSPROPSETID_Synth, "KSPROPSETID_Synth"),
        (KSPROPSETID_Synth_Dls, "KSPROPSETID_Synth_Dls"),
        (
            rdmus_driver::KSPROPSETID_RdmusSynthLostNotes,
            "KSPROPSETID_RdmusSynthLostNotes",
        ),
    ];
    known
        .iter()
        .find(|(known, _)| known == guid)
        .map_or_else(|| braced(guid), |(_, name)| (*name).to_string())
}

/// `{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}`.
fn braced(guid: &GUID) -> String {
    let d = guid.Data4;
    format!(
        "{{{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}}}",
        guid.Data1, guid.Data2, guid.Data3, d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
    )
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn guid_at(bytes: &[u8], at: usize) -> Option<GUID> {
    let b = bytes.get(at..at + 16)?;
    Some(GUID {
        Data1: u32_at(b, 0)?,
        Data2: u16::from_le_bytes([b[4], b[5]]),
        Data3: u16::from_le_bytes([b[6], b[7]]),
        Data4: b[8..16].try_into().ok()?,
    })
}

/// A KS GET as a client sends it: the size query, then the read.
fn get(filter: Filter, set: &GUID, id: u32, instance: &[u8]) -> Result<Vec<u8>, NTSTATUS> {
    let mut asked = instance.to_vec();
    let size = filter.property(
        PropertyTarget::Filter,
        set,
        id,
        KSPROPERTY_TYPE_GET,
        &mut asked,
        &mut [],
    );
    if size.status != STATUS_BUFFER_OVERFLOW {
        return Err(size.status);
    }
    let mut value = vec![0; size.value_size as usize];
    let mut asked = instance.to_vec();
    let answer = filter.property(
        PropertyTarget::Filter,
        set,
        id,
        KSPROPERTY_TYPE_GET,
        &mut asked,
        &mut value,
    );
    if answer.status != STATUS_SUCCESS {
        return Err(answer.status);
    }
    value.truncate(answer.value_size as usize);
    Ok(value)
}

fn pin_get(filter: Filter, pin: u32, id: u32) -> Result<Vec<u8>, NTSTATUS> {
    let ksp_pin = [pin.to_le_bytes(), 0u32.to_le_bytes()].concat();
    get(filter, &ks::KSPROPSETID_Pin, id, &ksp_pin)
}

fn pin_u32(filter: Filter, pin: u32, id: u32) -> Option<u32> {
    pin_get(filter, pin, id).ok().and_then(|v| u32_at(&v, 0))
}

/// The GUIDs of a `KSMULTIPLE_ITEM` of GUIDs.
fn guid_list(list: &[u8]) -> Vec<GUID> {
    let count = u32_at(list, 4).unwrap_or(0) as usize;
    (0..count)
        .filter_map(|index| guid_at(list, 8 + 16 * index))
        .collect()
}

fn utf16(bytes: &[u8]) -> String {
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
        .take_while(|&unit| unit != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

/// One data range: its three GUIDs and its size.
#[derive(Debug)]
struct Range {
    major: String,
    sub: String,
    specifier: String,
    size: u32,
}

/// One pin factory.
#[derive(Debug)]
struct PinView {
    id: u32,
    dataflow: &'static str,
    communication: &'static str,
    possible: u32,
    current: u32,
    global_possible: u32,
    ranges: Vec<Range>,
    category: Option<String>,
    name: Option<String>,
}

/// Property sets by name, each with the ids found in it.
type PropertySets = Vec<(String, Vec<u32>)>;

/// One filter.
#[derive(Debug)]
struct FilterView {
    subdevice: &'static str,
    /// The interface's `FriendlyName` (the INF's interface `AddReg`).
    friendly_name: Option<String>,
    /// `KSPROPERTY_TOPOLOGY_CONNECTIONS`, as "pin 0 -> node 0.1".
    connections: Vec<String>,
    categories: Vec<String>,
    component: Option<(String, String, String, Option<String>)>,
    /// Each node's type and the property sets it answers.
    nodes: Vec<(String, PropertySets)>,
    properties: PropertySets,
    pins: Vec<PinView>,
}

fn pin_view(filter: Filter, id: u32) -> PinView {
    let dataflow = match pin_u32(filter, id, ks::KSPROPERTY_PIN_DATAFLOW) {
        Some(1) => "in",
        Some(2) => "out",
        _ => "?",
    };
    let communication = match pin_u32(filter, id, ks::KSPROPERTY_PIN_COMMUNICATION) {
        Some(0) => "none",
        Some(1) => "sink",
        Some(2) => "source",
        Some(3) => "both",
        Some(4) => "bridge",
        _ => "?",
    };
    let counts = |property| {
        pin_get(filter, id, property).ok().map_or((0, 0), |v| {
            (u32_at(&v, 0).unwrap_or(0), u32_at(&v, 4).unwrap_or(0))
        })
    };
    let (possible, current) = counts(ks::KSPROPERTY_PIN_CINSTANCES);
    let (global_possible, _) = counts(ks::KSPROPERTY_PIN_GLOBALCINSTANCES);
    let mut ranges = Vec::new();
    if let Ok(list) = pin_get(filter, id, ks::KSPROPERTY_PIN_DATARANGES) {
        let mut at = 8;
        for _ in 0..u32_at(&list, 4).unwrap_or(0) {
            let (Some(size), Some(major), Some(sub), Some(specifier)) = (
                u32_at(&list, at),
                guid_at(&list, at + 16),
                guid_at(&list, at + 32),
                guid_at(&list, at + 48),
            ) else {
                break;
            };
            ranges.push(Range {
                major: guid_name(&major),
                sub: guid_name(&sub),
                specifier: guid_name(&specifier),
                size,
            });
            at += (size as usize).next_multiple_of(8);
        }
    }
    PinView {
        id,
        dataflow,
        communication,
        possible,
        current,
        global_possible,
        ranges,
        category: pin_get(filter, id, ks::KSPROPERTY_PIN_CATEGORY)
            .ok()
            .and_then(|v| guid_at(&v, 0))
            .map(|g| guid_name(&g)),
        name: pin_get(filter, id, ks::KSPROPERTY_PIN_NAME)
            .ok()
            .map(|v| utf16(&v)),
    }
}

/// The property sets `target` (the filter or a node) answers and, in each, the ids
/// `BASICSUPPORT` finds.
fn property_sets(filter: Filter, target: PropertyTarget) -> PropertySets {
    let mut list = vec![0u8; 16 * 32];
    let sets = filter.property(
        target,
        &GUID::from_fields(0, 0, 0, [0; 8]),
        0,
        KSPROPERTY_TYPE_SETSUPPORT,
        &mut [],
        &mut list,
    );
    if sets.status != STATUS_SUCCESS {
        return Vec::new();
    }
    list.truncate(sets.value_size as usize);
    list.chunks_exact(16)
        .filter_map(|bytes| guid_at(bytes, 0))
        .map(|set| {
            let ids = (0..PROBED_IDS)
                .filter(|&id| {
                    let mut flags = [0u8; 4];
                    let answer = filter.property(
                        target,
                        &set,
                        id,
                        KSPROPERTY_TYPE_BASICSUPPORT,
                        &mut [0u8; 8],
                        &mut flags,
                    );
                    answer.status != STATUS_NOT_FOUND
                })
                .collect();
            (guid_name(&set), ids)
        })
        .collect()
}

fn filter_view(filter: Filter, subdevice: &'static str) -> FilterView {
    let topology = |id| -> Vec<String> {
        get(filter, &ks::KSPROPSETID_Topology, id, &[])
            .map(|v| guid_list(&v).iter().map(guid_name).collect())
            .unwrap_or_default()
    };
    // KSCATEGORY_SYNTHESIZER is KSNODETYPE_SYNTHESIZER (ksmedia.h): a node gets the node name.
    let nodes = topology(ks::KSPROPERTY_TOPOLOGY_NODES)
        .into_iter()
        .map(|name| name.replace("KSCATEGORY_SYNTHESIZER", "KSNODETYPE_SYNTHESIZER"))
        .zip(0u32..)
        .map(|(name, node)| (name, property_sets(filter, PropertyTarget::Node(node))))
        .collect();
    let component = get(
        filter,
        &ks::KSPROPSETID_General,
        ks::KSPROPERTY_GENERAL_COMPONENTID,
        &[],
    )
    .ok()
    .and_then(|v| {
        let name = guid_at(&v, 48)?;
        Some((
            braced(&guid_at(&v, 0)?),
            braced(&guid_at(&v, 16)?),
            braced(&name),
            media_categories::name_of(&name),
        ))
    });
    let connections = get(
        filter,
        &ks::KSPROPSETID_Topology,
        ks::KSPROPERTY_TOPOLOGY_CONNECTIONS,
        &[],
    )
    .map(|list| {
        let count = u32_at(&list, 4).unwrap_or(0) as usize;
        (0..count)
            .filter_map(|index| {
                let at = 8 + 16 * index;
                let end = |node: u32, pin: u32| {
                    if node == KSFILTER_NODE {
                        format!("pin {pin}")
                    } else {
                        format!("node {node}.{pin}")
                    }
                };
                Some(format!(
                    "{} -> {}",
                    end(u32_at(&list, at)?, u32_at(&list, at + 4)?),
                    end(u32_at(&list, at + 8)?, u32_at(&list, at + 12)?)
                ))
            })
            .collect()
    })
    .unwrap_or_default();
    let count = pin_u32(filter, 0, ks::KSPROPERTY_PIN_CTYPES).unwrap_or(0);
    FilterView {
        subdevice,
        friendly_name: friendly_name(subdevice),
        connections,
        categories: topology(ks::KSPROPERTY_TOPOLOGY_CATEGORIES),
        component,
        nodes,
        properties: property_sets(filter, PropertyTarget::Filter),
        pins: (0..count).map(|id| pin_view(filter, id)).collect(),
    }
}

fn text(view: &FilterView, out: &mut impl Write) -> std::io::Result<()> {
    writeln!(out, "filter {}", view.subdevice)?;
    if let Some(name) = &view.friendly_name {
        writeln!(out, "  interface FriendlyName: \"{name}\"")?;
    }
    writeln!(out, "  categories: {}", view.categories.join(", "))?;
    match &view.component {
        Some((manufacturer, product, name, registered)) => writeln!(
            out,
            "  component id: manufacturer {manufacturer}, product {product}, name {name} = {}",
            registered
                .as_deref()
                .map_or("(not registered)".into(), |n| format!("\"{n}\""))
        )?,
        None => writeln!(out, "  component id: none")?,
    }
    for (index, (node, sets)) in view.nodes.iter().enumerate() {
        writeln!(out, "  node {index}: {node}")?;
        for (set, ids) in sets {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            writeln!(out, "    properties {set}: {}", ids.join(" "))?;
        }
    }
    writeln!(out, "  connections: {}", view.connections.join(", "))?;
    for (set, ids) in &view.properties {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        writeln!(out, "  properties {set}: {}", ids.join(" "))?;
    }
    for pin in &view.pins {
        writeln!(
            out,
            "  pin {}: {}, communication {}, instances {} (global {}, open {})",
            pin.id, pin.dataflow, pin.communication, pin.possible, pin.global_possible, pin.current
        )?;
        writeln!(
            out,
            "    name {}, category {}",
            pin.name
                .as_deref()
                .map_or("(none)".into(), |n| format!("\"{n}\"")),
            pin.category.as_deref().unwrap_or("(none)")
        )?;
        for range in &pin.ranges {
            writeln!(
                out,
                "    range {}/{}/{} ({} bytes)",
                range.major, range.sub, range.specifier, range.size
            )?;
        }
    }
    Ok(())
}

/// A JSON string literal.
fn json_string(value: &str) -> String {
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_strings(values: &[String]) -> String {
    let items: Vec<String> = values.iter().map(|v| json_string(v)).collect();
    format!("[{}]", items.join(", "))
}

fn json_option(value: Option<&str>) -> String {
    value.map_or_else(|| "null".into(), json_string)
}

/// Property sets and their ids as JSON objects (without the enclosing brackets).
fn json_sets(sets: &[(String, Vec<u32>)]) -> String {
    let items: Vec<String> = sets
        .iter()
        .map(|(set, ids)| {
            let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
            format!(
                "{{\"set\": {}, \"ids\": [{}]}}",
                json_string(set),
                ids.join(", ")
            )
        })
        .collect();
    items.join(", ")
}

fn json(view: &FilterView) -> String {
    let component = view.component.as_ref().map_or_else(
        || "null".into(),
        |(manufacturer, product, name, registered)| {
            format!(
                "{{\"manufacturer\": {}, \"product\": {}, \"name\": {}, \"registered_name\": {}}}",
                json_string(manufacturer),
                json_string(product),
                json_string(name),
                json_option(registered.as_deref())
            )
        },
    );
    let properties = json_sets(&view.properties);
    let nodes: Vec<String> = view
        .nodes
        .iter()
        .map(|(node, sets)| {
            format!(
                "{{\"type\": {}, \"properties\": [{}]}}",
                json_string(node),
                json_sets(sets)
            )
        })
        .collect();
    let pins: Vec<String> = view
        .pins
        .iter()
        .map(|pin| {
            let ranges: Vec<String> = pin
                .ranges
                .iter()
                .map(|r| {
                    format!(
                        "{{\"major\": {}, \"sub\": {}, \"specifier\": {}, \"size\": {}}}",
                        json_string(&r.major),
                        json_string(&r.sub),
                        json_string(&r.specifier),
                        r.size
                    )
                })
                .collect();
            format!(
                "{{\"id\": {}, \"dataflow\": {}, \"communication\": {}, \"instances\": {}, \"global_instances\": {}, \"open\": {}, \"name\": {}, \"category\": {}, \"ranges\": [{}]}}",
                pin.id,
                json_string(pin.dataflow),
                json_string(pin.communication),
                pin.possible,
                pin.global_possible,
                pin.current,
                json_option(pin.name.as_deref()),
                json_option(pin.category.as_deref()),
                ranges.join(", ")
            )
        })
        .collect();
    format!(
        "{{\"subdevice\": {}, \"friendly_name\": {}, \"connections\": {}, \"categories\": {}, \"component_id\": {}, \"nodes\": [{}], \"properties\": [{}], \"pins\": [{}]}}",
        json_string(view.subdevice),
        json_option(view.friendly_name.as_deref()),
        json_strings(&view.connections),
        json_strings(&view.categories),
        component,
        nodes.join(", "),
        properties,
        pins.join(", ")
    )
}

/// The `FriendlyName` the INF gives the KS interfaces of `subdevice` (the `[Strings]` value
/// its interface `AddReg` names: `HKR,,FriendlyName,,%token%` in `[rdmus.Interface.<name>.AddReg]`).
fn friendly_name(subdevice: &str) -> Option<String> {
    let section = format!("[rdmus.Interface.{subdevice}.AddReg]");
    let lines = INF
        .lines()
        .skip_while(|line| line.trim() != section)
        .skip(1);
    let token = lines
        .take_while(|line| !line.trim_start().starts_with('['))
        .find_map(|line| line.trim().strip_prefix("HKR,,FriendlyName,,"))?
        .trim()
        .trim_matches('%')
        .to_string();
    INF.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == token).then(|| value.trim().trim_matches('"').to_string())
    })
}

/// Starts `device` in the simulation, asks its filter everything, stops it again.
fn view_of(device: Device) -> Result<FilterView, CliError> {
    let config = SimConfig::default();
    let (rig, subdevice) = match device {
        Device::Mpu401 => (Rig::start(&config), "UART"),
        Device::Synth => (Rig::start_synth(&config), "Synth"),
    };
    let sim_error = |error| CliError::Sim {
        path: PathBuf::from("<describe>"),
        error,
    };
    let rig = rig.map_err(sim_error)?;
    media_categories::install_from_inf(INF).map_err(|error| {
        CliError::Usage(format!("the packaged INF's MediaCategories: {error:?}"))
    })?;
    let view = filter_view(*rig.filter(), subdevice);
    let report = rig.finish();
    if !report.findings.is_empty() {
        return Err(CliError::Findings {
            path: PathBuf::from("<describe>"),
            findings: report.findings,
        });
    }
    Ok(view)
}

/// `rdmus describe`: `device`'s filter, or both, as text or JSON (one object per filter in
/// an array).
///
/// # Errors
/// [`CliError::Sim`] or [`CliError::Findings`] when the simulated device fails, or
/// [`CliError::Io`] on a failed write.
pub fn describe(
    device: Option<Device>,
    as_json: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let devices = device.map_or_else(|| vec![Device::Mpu401, Device::Synth], |d| vec![d]);
    let mut views = Vec::new();
    for device in devices {
        views.push(view_of(device)?);
    }
    let io_error = |error| CliError::Io {
        path: "<stdout>".into(),
        error,
    };
    if as_json {
        let items: Vec<String> = views.iter().map(json).collect();
        writeln!(out, "[{}]", items.join(",\n")).map_err(io_error)?;
    } else {
        for (index, view) in views.iter().enumerate() {
            if index > 0 {
                writeln!(out).map_err(io_error)?;
            }
            text(view, out).map_err(io_error)?;
        }
    }
    Ok(())
}
