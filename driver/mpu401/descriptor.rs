//! The MPU-401 filter as PortCls publishes it (`IMiniport::GetDescription`).
//!
//! Five pins, in the shape of Microsoft's dmusuart sample (read in
//! KunYi/WDK7.1-Samples `audio/dmusuart/miniport.cpp` for the facts; these
//! tables are rdmus's own):
//!
//! | id | pin | flow | communication | ranges | name |
//! |---|---|---|---|---|---|
//! | 0 | legacy MIDI render | in | sink | MIDI (`KSMUSICFORMAT`) | "rdmus MPU-401 Out" |
//! | 1 | DirectMusic render | in | sink | DirectMusic (`DMUS_EVENTHEADER`) |
//! "rdmus MPU-401 Out (DirectMusic)" |
//! | 2 | bridge to the MIDI out jack | out | none | MIDI bus | – |
//! | 3 | bridge from the MIDI in jack | in | none | MIDI bus | – |
//! | 4 | capture | out | sink | MIDI and DirectMusic | "rdmus MPU-401 In" |
//!
//! A named pin's category is `KSCATEGORY_WDMAUD_USE_PIN_NAME`, so wdmaud shows its name (the
//! GUIDs in `crate::miniport::component`, registered under `MediaCategories` by the INF); the
//! bridges' is `KSCATEGORY_AUDIO`. The filter answers `KSPROPERTY_GENERAL_COMPONENTID`.
//!
//! Two synthesizer nodes (0: the output port, 1: the input port) carry the
//! `KSPROPSETID_Synth` properties. Connections: legacy in → bridge out
//! directly; DirectMusic in → synth node 0 → bridge out; bridge in → synth
//! node 1 → capture. Categories: audio, render, capture.

use dmus_sys::GUID;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_LATENCYCLOCK,
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSDATARANGE, KSPIN_COMMUNICATION_NONE, KSPIN_COMMUNICATION_SINK,
    KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSPIN_DESCRIPTOR, KSPIN_DESCRIPTOR_CONSTRAINED,
    PKSDATARANGE,
};
use dmus_sys::ks_guids::{
    KSCATEGORY_AUDIO, KSCATEGORY_CAPTURE, KSCATEGORY_RENDER, KSCATEGORY_WDMAUD_USE_PIN_NAME,
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_SUBTYPE_MIDI_BUS, KSDATAFORMAT_TYPE_MUSIC, KSMUSIC_TECHNOLOGY_PORT,
    KSNODETYPE_SYNTHESIZER, KSPROPERTY_GENERAL_COMPONENTID, KSPROPSETID_General,
};
use dmus_sys::ksmedia::KSDATARANGE_MUSIC;
use dmus_sys::portcls::{
    PCAUTOMATION_TABLE, PCCONNECTION_DESCRIPTOR, PCFILTER_DESCRIPTOR, PCFILTER_NODE,
    PCNODE_DESCRIPTOR, PCPIN_DESCRIPTOR, PCPROPERTY_ITEM, PCPROPERTY_ITEM_FLAG_BASICSUPPORT,
    PCPROPERTY_ITEM_FLAG_GET, PCPROPERTY_ITEM_FLAG_SET,
};

use crate::miniport::component::{
    RDMUS_NAME_MPU401_DMUS_OUT, RDMUS_NAME_MPU401_IN, RDMUS_NAME_MPU401_OUT,
};
use crate::miniport::shared::Shared;

/// Pin 0: legacy MIDI render (`KSMUSICFORMAT`).
pub const PIN_LEGACY_RENDER: u32 = 0;
/// Pin 1: DirectMusic render (`DMUS_EVENTHEADER`).
pub const PIN_DMUSIC_RENDER: u32 = 1;
/// Pin 2: bridge to the MIDI out jack.
pub const PIN_BRIDGE_OUT: u32 = 2;
/// Pin 3: bridge from the MIDI in jack.
pub const PIN_BRIDGE_IN: u32 = 3;
/// Pin 4: capture, in either format.
pub const PIN_CAPTURE: u32 = 4;
/// Number of pins.
pub const PIN_COUNT: u32 = 5;
/// Node 0: the synthesizer node of the output port.
pub const NODE_SYNTH_OUT: u32 = 0;
/// Node 1: the synthesizer node of the input port.
pub const NODE_SYNTH_IN: u32 = 1;

/// `KSNODEPIN_STANDARD_IN` (ks.h; also windows-rs's metadata: 1).
pub const KSNODEPIN_STANDARD_IN: u32 = 1;
/// `KSNODEPIN_STANDARD_OUT` (ks.h; also windows-rs's metadata: 0).
pub const KSNODEPIN_STANDARD_OUT: u32 = 0;

#[allow(
    clippy::cast_possible_truncation,
    reason = "KSDATARANGE_MUSIC is 96 bytes (pinned in dmus-sys)"
)]
const MUSIC_RANGE_SIZE: u32 = core::mem::size_of::<KSDATARANGE_MUSIC>() as u32;
#[allow(
    clippy::cast_possible_truncation,
    reason = "KSDATARANGE is 64 bytes (pinned in dmus-sys)"
)]
const RANGE_SIZE: u32 = core::mem::size_of::<KSDATARANGE>() as u32;

const fn music_range(sub_format: GUID) -> KSDATARANGE_MUSIC {
    KSDATARANGE_MUSIC {
        DataRange: KSDATARANGE {
            FormatSize: MUSIC_RANGE_SIZE,
            Flags: 0,
            SampleSize: 0,
            Reserved: 0,
            MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
            SubFormat: sub_format,
            Specifier: KSDATAFORMAT_SPECIFIER_NONE,
        },
        Technology: KSMUSIC_TECHNOLOGY_PORT,
        Channels: 0,
        Notes: 0,
        ChannelMask: 0xFFFF,
    }
}

static RANGE_LEGACY: Shared<KSDATARANGE_MUSIC> = Shared(music_range(KSDATAFORMAT_SUBTYPE_MIDI));
static RANGE_DMUSIC: Shared<KSDATARANGE_MUSIC> =
    Shared(music_range(KSDATAFORMAT_SUBTYPE_DIRECTMUSIC));
static RANGE_BRIDGE: Shared<KSDATARANGE> = Shared(KSDATARANGE {
    FormatSize: RANGE_SIZE,
    Flags: 0,
    SampleSize: 0,
    Reserved: 0,
    MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
    SubFormat: KSDATAFORMAT_SUBTYPE_MIDI_BUS,
    Specifier: KSDATAFORMAT_SPECIFIER_NONE,
});

static RANGES_LEGACY: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_LEGACY.as_mut_ptr().cast()]);
static RANGES_DMUSIC: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_DMUSIC.as_mut_ptr().cast()]);
static RANGES_CAPTURE: Shared<[PKSDATARANGE; 2]> = Shared([
    RANGE_LEGACY.as_mut_ptr().cast(),
    RANGE_DMUSIC.as_mut_ptr().cast(),
]);
static RANGES_BRIDGE: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_BRIDGE.as_mut_ptr()]);

static CATEGORY_AUDIO: GUID = KSCATEGORY_AUDIO;
static CATEGORY_USE_PIN_NAME: GUID = KSCATEGORY_WDMAUD_USE_PIN_NAME;
static NAME_OUT: GUID = RDMUS_NAME_MPU401_OUT;
static NAME_DMUS_OUT: GUID = RDMUS_NAME_MPU401_DMUS_OUT;
static NAME_IN: GUID = RDMUS_NAME_MPU401_IN;
static SET_GENERAL: GUID = KSPROPSETID_General;
static NODE_TYPE_SYNTH: GUID = KSNODETYPE_SYNTHESIZER;
static SET_SYNTH: GUID = KSPROPSETID_Synth;

/// The streams each render pin allows at once: four clients per format. The wire is the
/// bound: it carries 3,125 bytes/s (about 1,000 three-byte messages), and a dense song
/// peaks at a few hundred messages a second, so four clients already fill it in their
/// busiest passages; more would only make every client late. Eight render streams of
/// 20 ms prefetch draw on the port's one event pool (1,024 events in the simulation)
/// without exhausting it.
pub const RENDER_INSTANCES: u32 = 4;
/// The capture streams the capture pin allows at once: each gets every message, parsed
/// again for it and taken from the port's pool, so the cost grows with each; four
/// matches the render side (see `pins::MAX_CAPTURE_STREAMS`).
pub const CAPTURE_INSTANCES: u32 = 4;

/// The streams pin `pin` allows at once (0 for the bridge pins and unknown pins).
#[must_use]
pub const fn instances(pin: u32) -> u32 {
    match pin {
        PIN_LEGACY_RENDER | PIN_DMUSIC_RENDER => RENDER_INSTANCES,
        PIN_CAPTURE => CAPTURE_INSTANCES,
        _ => 0,
    }
}

const fn pin(
    instances: u32,
    ranges: *const PKSDATARANGE,
    range_count: u32,
    flow: i32,
    communication: i32,
    name: *const GUID,
) -> PCPIN_DESCRIPTOR {
    // wdmaud shows a pin's own name only under this category (ksmedia.h).
    let category = if name.is_null() {
        &raw const CATEGORY_AUDIO
    } else {
        &raw const CATEGORY_USE_PIN_NAME
    };
    PCPIN_DESCRIPTOR {
        MaxGlobalInstanceCount: instances,
        MaxFilterInstanceCount: instances,
        MinFilterInstanceCount: 0,
        AutomationTable: core::ptr::null(),
        KsPinDescriptor: KSPIN_DESCRIPTOR {
            InterfacesCount: 0,
            Interfaces: core::ptr::null(),
            MediumsCount: 0,
            Mediums: core::ptr::null(),
            DataRangesCount: range_count,
            DataRanges: ranges,
            DataFlow: flow,
            Communication: communication,
            Category: category,
            Name: name,
            Constrained: KSPIN_DESCRIPTOR_CONSTRAINED {
                ConstrainedDataRangesCount: 0,
                ConstrainedDataRanges: core::ptr::null_mut(),
            },
        },
    }
}

static PINS: Shared<[PCPIN_DESCRIPTOR; PIN_COUNT as usize]> = Shared([
    pin(
        instances(PIN_LEGACY_RENDER),
        RANGES_LEGACY.as_mut_ptr().cast(),
        1,
        KSPIN_DATAFLOW_IN,
        KSPIN_COMMUNICATION_SINK,
        &raw const NAME_OUT,
    ),
    pin(
        instances(PIN_DMUSIC_RENDER),
        RANGES_DMUSIC.as_mut_ptr().cast(),
        1,
        KSPIN_DATAFLOW_IN,
        KSPIN_COMMUNICATION_SINK,
        &raw const NAME_DMUS_OUT,
    ),
    pin(
        0,
        RANGES_BRIDGE.as_mut_ptr().cast(),
        1,
        KSPIN_DATAFLOW_OUT,
        KSPIN_COMMUNICATION_NONE,
        core::ptr::null(),
    ),
    pin(
        0,
        RANGES_BRIDGE.as_mut_ptr().cast(),
        1,
        KSPIN_DATAFLOW_IN,
        KSPIN_COMMUNICATION_NONE,
        core::ptr::null(),
    ),
    pin(
        instances(PIN_CAPTURE),
        RANGES_CAPTURE.as_mut_ptr().cast(),
        2,
        KSPIN_DATAFLOW_OUT,
        KSPIN_COMMUNICATION_SINK,
        &raw const NAME_IN,
    ),
]);

const GET_BASIC: u32 = PCPROPERTY_ITEM_FLAG_GET | PCPROPERTY_ITEM_FLAG_BASICSUPPORT;

const fn synth_item(id: u32, flags: u32) -> PCPROPERTY_ITEM {
    PCPROPERTY_ITEM {
        Set: &raw const SET_SYNTH,
        Id: id,
        Flags: flags,
        Handler: Some(super::properties::synth_property),
    }
}

/// The synth properties the nodes answer.
static SYNTH_PROPERTIES: Shared<[PCPROPERTY_ITEM; 5]> = Shared([
    synth_item(KSPROPERTY_SYNTH_CAPS, GET_BASIC),
    synth_item(KSPROPERTY_SYNTH_PORTPARAMETERS, GET_BASIC),
    synth_item(
        KSPROPERTY_SYNTH_CHANNELGROUPS,
        GET_BASIC | PCPROPERTY_ITEM_FLAG_SET,
    ),
    synth_item(KSPROPERTY_SYNTH_LATENCYCLOCK, GET_BASIC),
    synth_item(KSPROPERTY_SYNTH_RUNNINGSTATS, GET_BASIC),
]);

#[allow(
    clippy::cast_possible_truncation,
    reason = "PortCls' item and descriptor sizes are tens of bytes (pinned in dmus-sys)"
)]
const fn size_u32<T>() -> u32 {
    core::mem::size_of::<T>() as u32
}

static SYNTH_AUTOMATION: Shared<PCAUTOMATION_TABLE> = Shared(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32::<PCPROPERTY_ITEM>(),
    PropertyCount: 5,
    Properties: SYNTH_PROPERTIES.as_mut_ptr().cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

static NODES: Shared<[PCNODE_DESCRIPTOR; 2]> = Shared([
    PCNODE_DESCRIPTOR {
        Flags: 0,
        AutomationTable: SYNTH_AUTOMATION.as_mut_ptr(),
        Type: &raw const NODE_TYPE_SYNTH,
        Name: core::ptr::null(),
    },
    PCNODE_DESCRIPTOR {
        Flags: 0,
        AutomationTable: SYNTH_AUTOMATION.as_mut_ptr(),
        Type: &raw const NODE_TYPE_SYNTH,
        Name: core::ptr::null(),
    },
]);

const fn edge(from_node: u32, from_pin: u32, to_node: u32, to_pin: u32) -> PCCONNECTION_DESCRIPTOR {
    PCCONNECTION_DESCRIPTOR {
        FromNode: from_node,
        FromNodePin: from_pin,
        ToNode: to_node,
        ToNodePin: to_pin,
    }
}

static CONNECTIONS: Shared<[PCCONNECTION_DESCRIPTOR; 5]> = Shared([
    edge(
        PCFILTER_NODE,
        PIN_LEGACY_RENDER,
        PCFILTER_NODE,
        PIN_BRIDGE_OUT,
    ),
    edge(
        PCFILTER_NODE,
        PIN_DMUSIC_RENDER,
        NODE_SYNTH_OUT,
        KSNODEPIN_STANDARD_IN,
    ),
    edge(
        NODE_SYNTH_OUT,
        KSNODEPIN_STANDARD_OUT,
        PCFILTER_NODE,
        PIN_BRIDGE_OUT,
    ),
    edge(
        PCFILTER_NODE,
        PIN_BRIDGE_IN,
        NODE_SYNTH_IN,
        KSNODEPIN_STANDARD_IN,
    ),
    edge(
        NODE_SYNTH_IN,
        KSNODEPIN_STANDARD_OUT,
        PCFILTER_NODE,
        PIN_CAPTURE,
    ),
]);

static CATEGORIES: Shared<[GUID; 3]> =
    Shared([KSCATEGORY_AUDIO, KSCATEGORY_RENDER, KSCATEGORY_CAPTURE]);

/// The filter's own properties: who it is.
static FILTER_PROPERTIES: Shared<[PCPROPERTY_ITEM; 1]> = Shared([PCPROPERTY_ITEM {
    Set: &raw const SET_GENERAL,
    Id: KSPROPERTY_GENERAL_COMPONENTID,
    Flags: GET_BASIC,
    Handler: Some(super::properties::component_id_property),
}]);

static FILTER_AUTOMATION: Shared<PCAUTOMATION_TABLE> = Shared(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32::<PCPROPERTY_ITEM>(),
    PropertyCount: 1,
    Properties: FILTER_PROPERTIES.as_mut_ptr().cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

/// The filter descriptor `GetDescription` hands out (PortCls only reads it).
pub static FILTER: Shared<PCFILTER_DESCRIPTOR> = Shared(PCFILTER_DESCRIPTOR {
    Version: 0,
    AutomationTable: FILTER_AUTOMATION.as_mut_ptr(),
    PinSize: size_u32::<PCPIN_DESCRIPTOR>(),
    PinCount: PIN_COUNT,
    Pins: PINS.as_mut_ptr().cast(),
    NodeSize: size_u32::<PCNODE_DESCRIPTOR>(),
    NodeCount: 2,
    Nodes: NODES.as_mut_ptr().cast(),
    ConnectionCount: 5,
    Connections: CONNECTIONS.as_mut_ptr().cast(),
    CategoryCount: 3,
    Categories: CATEGORIES.as_mut_ptr().cast(),
});

/// The data ranges of `pin` (empty for an unknown pin), as their common header.
#[must_use]
pub fn pin_ranges(pin: u32) -> &'static [&'static KSDATAFORMAT] {
    static LEGACY: [&KSDATAFORMAT; 1] = [&RANGE_LEGACY.0.DataRange];
    static DMUSIC: [&KSDATAFORMAT; 1] = [&RANGE_DMUSIC.0.DataRange];
    static CAPTURE: [&KSDATAFORMAT; 2] = [&RANGE_LEGACY.0.DataRange, &RANGE_DMUSIC.0.DataRange];
    static BRIDGE: [&KSDATAFORMAT; 1] = [&RANGE_BRIDGE.0];
    match pin {
        PIN_LEGACY_RENDER => &LEGACY,
        PIN_DMUSIC_RENDER => &DMUSIC,
        PIN_BRIDGE_OUT | PIN_BRIDGE_IN => &BRIDGE,
        PIN_CAPTURE => &CAPTURE,
        _ => &[],
    }
}

/// Our range of `pin` with the same GUIDs as `range`, if there is one.
#[must_use]
pub fn our_range(pin: u32, range: &KSDATAFORMAT) -> Option<&'static KSDATAFORMAT> {
    pin_ranges(pin).iter().copied().find(|ours| {
        ours.MajorFormat == range.MajorFormat
            && ours.SubFormat == range.SubFormat
            && ours.Specifier == range.Specifier
    })
}

#[cfg(test)]
mod tests {
    use dmus_sys::ks::{KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT};
    use dmus_sys::ks_guids::{
        KSCATEGORY_AUDIO, KSCATEGORY_WDMAUD_USE_PIN_NAME, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
        KSDATAFORMAT_SUBTYPE_MIDI, KSDATAFORMAT_SUBTYPE_MIDI_BUS,
    };

    use crate::miniport::component::{
        RDMUS_NAME_MPU401_DMUS_OUT, RDMUS_NAME_MPU401_IN, RDMUS_NAME_MPU401_OUT,
    };
    use dmus_sys::portcls::{PCFILTER_NODE, PCPIN_DESCRIPTOR};

    use super::{
        FILTER, KSNODEPIN_STANDARD_IN, KSNODEPIN_STANDARD_OUT, PIN_CAPTURE, PIN_COUNT,
        PIN_DMUSIC_RENDER, PIN_LEGACY_RENDER, our_range, pin_ranges,
    };

    fn pins() -> &'static [PCPIN_DESCRIPTOR] {
        let filter = &FILTER.0;
        // SAFETY: `Pins` points to the static PINS array of PinCount entries. Host test,
        // PASSIVE_LEVEL.
        unsafe { core::slice::from_raw_parts(filter.Pins, filter.PinCount as usize) }
    }

    /// The sub-formats of a pin's ranges, read back through the raw descriptor.
    fn sub_formats(pin: &PCPIN_DESCRIPTOR) -> std::vec::Vec<dmus_sys::GUID> {
        let ks = &pin.KsPinDescriptor;
        // SAFETY: the static range-pointer array of DataRangesCount entries. Host test,
        // PASSIVE_LEVEL.
        let ranges =
            unsafe { core::slice::from_raw_parts(ks.DataRanges, ks.DataRangesCount as usize) };
        // SAFETY: each pointer is one of the static ranges. Host test, PASSIVE_LEVEL.
        ranges
            .iter()
            .map(|&range| unsafe { (*range).SubFormat })
            .collect()
    }

    #[test]
    fn the_pins_are_render_render_bridge_bridge_capture() {
        let pins = pins();
        assert_eq!(pins.len(), PIN_COUNT as usize);
        let flows: std::vec::Vec<i32> = pins.iter().map(|p| p.KsPinDescriptor.DataFlow).collect();
        assert_eq!(
            flows,
            [
                KSPIN_DATAFLOW_IN,
                KSPIN_DATAFLOW_IN,
                KSPIN_DATAFLOW_OUT,
                KSPIN_DATAFLOW_IN,
                KSPIN_DATAFLOW_OUT
            ]
        );
        assert_eq!(sub_formats(&pins[0]), [KSDATAFORMAT_SUBTYPE_MIDI]);
        assert_eq!(sub_formats(&pins[1]), [KSDATAFORMAT_SUBTYPE_DIRECTMUSIC]);
        assert_eq!(sub_formats(&pins[2]), [KSDATAFORMAT_SUBTYPE_MIDI_BUS]);
        assert_eq!(sub_formats(&pins[3]), [KSDATAFORMAT_SUBTYPE_MIDI_BUS]);
        assert_eq!(
            sub_formats(&pins[4]),
            [KSDATAFORMAT_SUBTYPE_MIDI, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC]
        );
        // SAFETY: the names are static GUIDs. Host test, PASSIVE_LEVEL.
        let name = |pin: u32| unsafe { *pins[pin as usize].KsPinDescriptor.Name };
        assert_eq!(name(PIN_LEGACY_RENDER), RDMUS_NAME_MPU401_OUT);
        assert_eq!(name(PIN_DMUSIC_RENDER), RDMUS_NAME_MPU401_DMUS_OUT);
        assert_eq!(name(PIN_CAPTURE), RDMUS_NAME_MPU401_IN);
        assert!(pins[2].KsPinDescriptor.Name.is_null());
        // SAFETY: the categories are static GUIDs. Host test, PASSIVE_LEVEL.
        let category = |pin: usize| unsafe { *pins[pin].KsPinDescriptor.Category };
        for named in [0, 1, 4] {
            assert_eq!(category(named), KSCATEGORY_WDMAUD_USE_PIN_NAME);
        }
        assert_eq!(category(2), KSCATEGORY_AUDIO);
    }

    #[test]
    fn every_connection_joins_existing_pins_and_nodes() {
        let filter = &FILTER.0;
        // SAFETY: static array of ConnectionCount entries. Host test, PASSIVE_LEVEL.
        let edges = unsafe {
            core::slice::from_raw_parts(filter.Connections, filter.ConnectionCount as usize)
        };
        for edge in edges {
            for (node, pin) in [
                (edge.FromNode, edge.FromNodePin),
                (edge.ToNode, edge.ToNodePin),
            ] {
                if node == PCFILTER_NODE {
                    assert!(pin < filter.PinCount, "{edge:?}");
                } else {
                    assert!(node < filter.NodeCount, "{edge:?}");
                    assert!(pin == KSNODEPIN_STANDARD_IN || pin == KSNODEPIN_STANDARD_OUT);
                }
            }
        }
        // Every streaming pin reaches a bridge: render pins lead out, bridge in leads to capture.
        assert!(
            edges
                .iter()
                .any(|e| e.FromNode == PCFILTER_NODE && e.FromNodePin == PIN_LEGACY_RENDER)
        );
        assert!(
            edges
                .iter()
                .any(|e| e.ToNode == PCFILTER_NODE && e.ToNodePin == PIN_CAPTURE)
        );
        // SAFETY: static node array; each node's automation table is the static synth table. Host
        // test, PASSIVE_LEVEL.
        let nodes = unsafe { core::slice::from_raw_parts(filter.Nodes, filter.NodeCount as usize) };
        for node in nodes {
            // SAFETY: as above. Host test, PASSIVE_LEVEL.
            let table = unsafe { &*node.AutomationTable };
            assert_eq!(table.PropertyCount, 5);
        }
    }

    #[test]
    fn ranges_are_found_by_their_guids() {
        let legacy = pin_ranges(PIN_LEGACY_RENDER)[0];
        assert_eq!(legacy.FormatSize, 96, "KSDATARANGE_MUSIC");
        assert!(our_range(PIN_CAPTURE, legacy).is_some());
        assert!(our_range(PIN_DMUSIC_RENDER, legacy).is_none());
        assert!(pin_ranges(99).is_empty());
    }
}
