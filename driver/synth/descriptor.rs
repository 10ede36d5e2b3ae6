//! The synth filter as PortCls publishes it (`IMiniport::GetDescription`).
//!
//! In the shape "A Wave Sink for Kernel-Mode Software Synthesizers" asks for (and Microsoft's
//! ddksynth sample has, read in KunYi/WDK7.1-Samples `audio/ddksynth/miniport.cpp` for the
//! facts; these tables are rdmus's own):
//!
//! | id | pin | flow | communication | ranges | name |
//! |---|---|---|---|---|---|
//! | 0 | legacy MIDI render | in | sink | MIDI (`KSMUSICFORMAT`) | "rdmus DLS Synth" |
//! | 1 | DirectMusic render | in | sink | DirectMusic (`DMUS_EVENTHEADER`) | "rdmus DLS Synth (DirectMusic)" |
//! | 2 | wave out | out | source | PCM, 2 channels, 16 bits, 22,050–48,000 Hz | – |
//!
//! One synthesizer node carries the `KSPROPSETID_Synth` and `KSPROPSETID_Synth_Dls`
//! properties (and rdmus's own `KSPROPSETID_RdmusSynthLostNotes`); the same table is on
//! both render pins, and on the filter with `KSPROPERTY_GENERAL_COMPONENTID` added, so a
//! request reaches it however it is addressed (the synth is one per miniport, so every
//! handler answers from the miniport's state). Connections: both render pins → node → wave
//! out.
//!
//! Categories: a software synthesizer with a wave pin registers as `KSCATEGORY_AUDIO`,
//! `KSCATEGORY_SYNTHESIZER` and `KSCATEGORY_DATATRANSFORM` (as Microsoft's ddksynth.inf does);
//! `KSCATEGORY_RENDER` is for a synthesizer that plays to hardware itself, without a wave pin.
//! The named pins' category is `KSCATEGORY_WDMAUD_USE_PIN_NAME`, so wdmaud shows their names.

use dmus_synth::synth::{AUDIO_CHANNELS, MAX_RATE, MIN_RATE};
use dmus_sys::GUID;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_DLS_APPEND,
    KSPROPERTY_SYNTH_DLS_COMPACT, KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD,
    KSPROPERTY_SYNTH_DLS_WAVEFORMAT, KSPROPERTY_SYNTH_LATENCYCLOCK,
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPERTY_SYNTH_VOICEPRIORITY,
    KSPROPERTY_SYNTH_VOLUME, KSPROPSETID_Synth, KSPROPSETID_Synth_Dls,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSDATARANGE, KSPIN_COMMUNICATION_SINK, KSPIN_COMMUNICATION_SOURCE,
    KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSPIN_DESCRIPTOR, KSPIN_DESCRIPTOR_CONSTRAINED,
    PKSDATARANGE,
};
use dmus_sys::ks_guids::{
    KSCATEGORY_AUDIO, KSCATEGORY_DATATRANSFORM, KSCATEGORY_SYNTHESIZER,
    KSCATEGORY_WDMAUD_USE_PIN_NAME, KSDATAFORMAT_SPECIFIER_NONE,
    KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
    KSDATAFORMAT_SUBTYPE_MIDI, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
    KSDATAFORMAT_TYPE_MUSIC, KSMUSIC_TECHNOLOGY_WAVETABLE, KSNODETYPE_SYNTHESIZER,
    KSPROPERTY_GENERAL_COMPONENTID, KSPROPSETID_General,
};
use dmus_sys::ksmedia::{KSDATARANGE_AUDIO, KSDATARANGE_MUSIC};
use dmus_sys::portcls::{
    PCAUTOMATION_TABLE, PCCONNECTION_DESCRIPTOR, PCFILTER_DESCRIPTOR, PCFILTER_NODE,
    PCNODE_DESCRIPTOR, PCPIN_DESCRIPTOR, PCPROPERTY_ITEM, PCPROPERTY_ITEM_FLAG_BASICSUPPORT,
    PCPROPERTY_ITEM_FLAG_GET, PCPROPERTY_ITEM_FLAG_SET,
};

use super::lost_notes::{
    KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES, KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
    KSPROPSETID_RdmusSynthLostNotes,
};
use crate::miniport::component::{RDMUS_NAME_SYNTH, RDMUS_NAME_SYNTH_DMUS};
use crate::miniport::shared::Shared;

/// Pin 0: legacy MIDI render.
pub const PIN_LEGACY_RENDER: u32 = 0;
/// Pin 1: DirectMusic render.
pub const PIN_DMUSIC_RENDER: u32 = 1;
/// Pin 2: the wave output the port's wave sink pulls from.
pub const PIN_WAVE_OUT: u32 = 2;
/// Number of pins.
pub const PIN_COUNT: u32 = 3;
/// Node 0: the synthesizer.
pub const NODE_SYNTH: u32 = 0;
/// `KSNODEPIN_STANDARD_IN` (ks.h).
pub const KSNODEPIN_STANDARD_IN: u32 = 1;
/// `KSNODEPIN_STANDARD_OUT` (ks.h).
pub const KSNODEPIN_STANDARD_OUT: u32 = 0;
/// Bits per output sample.
pub const BITS_PER_SAMPLE: u32 = 16;

#[allow(
    clippy::cast_possible_truncation,
    reason = "descriptor structures are tens of bytes (pinned in dmus-sys and below)"
)]
const fn size_u32<T>() -> u32 {
    core::mem::size_of::<T>() as u32
}

const fn music_range(sub_format: GUID) -> KSDATARANGE_MUSIC {
    KSDATARANGE_MUSIC {
        DataRange: KSDATARANGE {
            FormatSize: size_u32::<KSDATARANGE_MUSIC>(),
            Flags: 0,
            SampleSize: 0,
            Reserved: 0,
            MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
            SubFormat: sub_format,
            Specifier: KSDATAFORMAT_SPECIFIER_NONE,
        },
        Technology: KSMUSIC_TECHNOLOGY_WAVETABLE,
        Channels: 0,
        Notes: 0,
        ChannelMask: 0xFFFF,
    }
}

static RANGE_LEGACY: Shared<KSDATARANGE_MUSIC> = Shared(music_range(KSDATAFORMAT_SUBTYPE_MIDI));
static RANGE_DMUSIC: Shared<KSDATARANGE_MUSIC> =
    Shared(music_range(KSDATAFORMAT_SUBTYPE_DIRECTMUSIC));
/// The wave-out range.
pub static RANGE_WAVE: Shared<KSDATARANGE_AUDIO> = Shared(KSDATARANGE_AUDIO {
    DataRange: KSDATARANGE {
        FormatSize: size_u32::<KSDATARANGE_AUDIO>(),
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: KSDATAFORMAT_TYPE_AUDIO,
        SubFormat: KSDATAFORMAT_SUBTYPE_PCM,
        Specifier: KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
    },
    #[allow(clippy::cast_possible_truncation, reason = "AUDIO_CHANNELS is 2")]
    MaximumChannels: AUDIO_CHANNELS as u32,
    MinimumBitsPerSample: BITS_PER_SAMPLE,
    MaximumBitsPerSample: BITS_PER_SAMPLE,
    MinimumSampleFrequency: MIN_RATE,
    MaximumSampleFrequency: MAX_RATE,
});

static RANGES_LEGACY: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_LEGACY.as_mut_ptr().cast()]);
static RANGES_DMUSIC: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_DMUSIC.as_mut_ptr().cast()]);
static RANGES_WAVE: Shared<[PKSDATARANGE; 1]> = Shared([RANGE_WAVE.as_mut_ptr().cast()]);

static CATEGORY_AUDIO: GUID = KSCATEGORY_AUDIO;
static CATEGORY_USE_PIN_NAME: GUID = KSCATEGORY_WDMAUD_USE_PIN_NAME;
static NAME_SYNTH: GUID = RDMUS_NAME_SYNTH;
static NAME_SYNTH_DMUS: GUID = RDMUS_NAME_SYNTH_DMUS;
static SET_GENERAL: GUID = KSPROPSETID_General;
static NODE_TYPE_SYNTH: GUID = KSNODETYPE_SYNTHESIZER;
static SET_SYNTH: GUID = KSPROPSETID_Synth;
static SET_SYNTH_DLS: GUID = KSPROPSETID_Synth_Dls;
static SET_LOST_NOTES: GUID = KSPROPSETID_RdmusSynthLostNotes;

/// The streams each MIDI pin allows at once: four clients per format, each a render input
/// of the synth with its own channel groups, all sharing the voices (`dmus_synth`'s
/// `RENDER_INPUTS` is two pins' worth). The wave pin has one stream: the synth's one output.
pub const MIDI_PIN_INSTANCES: u32 = 4;
const _: () = assert!(MIDI_PIN_INSTANCES as usize * 2 == dmus_synth::synth::RENDER_INPUTS);

const fn pin(
    instances: u32,
    ranges: *const PKSDATARANGE,
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
        AutomationTable: SYNTH_AUTOMATION.as_mut_ptr(),
        KsPinDescriptor: KSPIN_DESCRIPTOR {
            InterfacesCount: 0,
            Interfaces: core::ptr::null(),
            MediumsCount: 0,
            Mediums: core::ptr::null(),
            DataRangesCount: 1,
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
        MIDI_PIN_INSTANCES,
        RANGES_LEGACY.as_mut_ptr().cast(),
        KSPIN_DATAFLOW_IN,
        KSPIN_COMMUNICATION_SINK,
        &raw const NAME_SYNTH,
    ),
    pin(
        MIDI_PIN_INSTANCES,
        RANGES_DMUSIC.as_mut_ptr().cast(),
        KSPIN_DATAFLOW_IN,
        KSPIN_COMMUNICATION_SINK,
        &raw const NAME_SYNTH_DMUS,
    ),
    pin(
        1,
        RANGES_WAVE.as_mut_ptr().cast(),
        KSPIN_DATAFLOW_OUT,
        KSPIN_COMMUNICATION_SOURCE,
        core::ptr::null(),
    ),
]);

const GET: u32 = PCPROPERTY_ITEM_FLAG_GET | PCPROPERTY_ITEM_FLAG_BASICSUPPORT;
const GET_SET: u32 = GET | PCPROPERTY_ITEM_FLAG_SET;
const SET: u32 = PCPROPERTY_ITEM_FLAG_SET | PCPROPERTY_ITEM_FLAG_BASICSUPPORT;

const fn synth_item(id: u32, flags: u32) -> PCPROPERTY_ITEM {
    PCPROPERTY_ITEM {
        Set: &raw const SET_SYNTH,
        Id: id,
        Flags: flags,
        Handler: Some(super::properties::synth_property),
    }
}

const fn dls_item(id: u32, flags: u32) -> PCPROPERTY_ITEM {
    PCPROPERTY_ITEM {
        Set: &raw const SET_SYNTH_DLS,
        Id: id,
        Flags: flags,
        Handler: Some(super::download::dls_property),
    }
}

/// Properties the synth answers.
pub const PROPERTY_COUNT: usize = 14;

/// The synth's items, once for the pins and node and once more on the filter.
macro_rules! synth_items {
    ($($extra:expr),*) => {[
    synth_item(KSPROPERTY_SYNTH_VOLUME, GET_SET),
    synth_item(KSPROPERTY_SYNTH_CAPS, GET),
    synth_item(KSPROPERTY_SYNTH_PORTPARAMETERS, GET),
    synth_item(KSPROPERTY_SYNTH_CHANNELGROUPS, GET_SET),
    synth_item(KSPROPERTY_SYNTH_VOICEPRIORITY, GET_SET),
    synth_item(KSPROPERTY_SYNTH_LATENCYCLOCK, GET),
    synth_item(KSPROPERTY_SYNTH_RUNNINGSTATS, GET),
    dls_item(KSPROPERTY_SYNTH_DLS_DOWNLOAD, GET),
    dls_item(KSPROPERTY_SYNTH_DLS_UNLOAD, SET),
    dls_item(KSPROPERTY_SYNTH_DLS_COMPACT, SET),
    dls_item(KSPROPERTY_SYNTH_DLS_APPEND, GET),
    dls_item(KSPROPERTY_SYNTH_DLS_WAVEFORMAT, GET),
    PCPROPERTY_ITEM {
        Set: &raw const SET_LOST_NOTES,
        Id: KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
        Flags: GET,
        Handler: Some(super::lost_notes::lost_notes_property),
    },
    PCPROPERTY_ITEM {
        Set: &raw const SET_LOST_NOTES,
        Id: KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES,
        Flags: GET,
        Handler: Some(super::lost_notes::lost_notes_property),
    },
    $($extra),*
    ]};
}

static PROPERTIES: Shared<[PCPROPERTY_ITEM; PROPERTY_COUNT]> = Shared(synth_items!());

/// The filter's items: the synth's and who the filter is.
static FILTER_PROPERTIES: Shared<[PCPROPERTY_ITEM; PROPERTY_COUNT + 1]> =
    Shared(synth_items!(PCPROPERTY_ITEM {
        Set: &raw const SET_GENERAL,
        Id: KSPROPERTY_GENERAL_COMPONENTID,
        Flags: GET,
        Handler: Some(super::properties::component_id_property),
    }));

static SYNTH_AUTOMATION: Shared<PCAUTOMATION_TABLE> = Shared(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32::<PCPROPERTY_ITEM>(),
    #[allow(clippy::cast_possible_truncation, reason = "PROPERTY_COUNT is 14")]
    PropertyCount: PROPERTY_COUNT as u32,
    Properties: PROPERTIES.as_mut_ptr().cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

static FILTER_AUTOMATION: Shared<PCAUTOMATION_TABLE> = Shared(PCAUTOMATION_TABLE {
    PropertyItemSize: size_u32::<PCPROPERTY_ITEM>(),
    #[allow(clippy::cast_possible_truncation, reason = "PROPERTY_COUNT is 13")]
    PropertyCount: PROPERTY_COUNT as u32 + 1,
    Properties: FILTER_PROPERTIES.as_mut_ptr().cast(),
    MethodItemSize: 0,
    MethodCount: 0,
    Methods: core::ptr::null(),
    EventItemSize: 0,
    EventCount: 0,
    Events: core::ptr::null(),
    Reserved: 0,
});

static NODES: Shared<[PCNODE_DESCRIPTOR; 1]> = Shared([PCNODE_DESCRIPTOR {
    Flags: 0,
    AutomationTable: SYNTH_AUTOMATION.as_mut_ptr(),
    Type: &raw const NODE_TYPE_SYNTH,
    Name: core::ptr::null(),
}]);

const fn edge(from_node: u32, from_pin: u32, to_node: u32, to_pin: u32) -> PCCONNECTION_DESCRIPTOR {
    PCCONNECTION_DESCRIPTOR {
        FromNode: from_node,
        FromNodePin: from_pin,
        ToNode: to_node,
        ToNodePin: to_pin,
    }
}

static CONNECTIONS: Shared<[PCCONNECTION_DESCRIPTOR; 3]> = Shared([
    edge(
        PCFILTER_NODE,
        PIN_LEGACY_RENDER,
        NODE_SYNTH,
        KSNODEPIN_STANDARD_IN,
    ),
    edge(
        PCFILTER_NODE,
        PIN_DMUSIC_RENDER,
        NODE_SYNTH,
        KSNODEPIN_STANDARD_IN,
    ),
    edge(
        NODE_SYNTH,
        KSNODEPIN_STANDARD_OUT,
        PCFILTER_NODE,
        PIN_WAVE_OUT,
    ),
]);

static CATEGORIES: Shared<[GUID; 3]> = Shared([
    KSCATEGORY_AUDIO,
    KSCATEGORY_SYNTHESIZER,
    KSCATEGORY_DATATRANSFORM,
]);

/// The filter descriptor `GetDescription` hands out (PortCls only reads it).
pub static FILTER: Shared<PCFILTER_DESCRIPTOR> = Shared(PCFILTER_DESCRIPTOR {
    Version: 0,
    AutomationTable: FILTER_AUTOMATION.as_mut_ptr(),
    PinSize: size_u32::<PCPIN_DESCRIPTOR>(),
    PinCount: PIN_COUNT,
    Pins: PINS.as_mut_ptr().cast(),
    NodeSize: size_u32::<PCNODE_DESCRIPTOR>(),
    NodeCount: 1,
    Nodes: NODES.as_mut_ptr().cast(),
    ConnectionCount: 3,
    Connections: CONNECTIONS.as_mut_ptr().cast(),
    CategoryCount: 3,
    Categories: CATEGORIES.as_mut_ptr().cast(),
});

/// The range header of `pin` (`None` for an unknown pin).
#[must_use]
pub fn pin_range(pin: u32) -> Option<&'static KSDATAFORMAT> {
    match pin {
        PIN_LEGACY_RENDER => Some(&RANGE_LEGACY.0.DataRange),
        PIN_DMUSIC_RENDER => Some(&RANGE_DMUSIC.0.DataRange),
        PIN_WAVE_OUT => Some(&RANGE_WAVE.0.DataRange),
        _ => None,
    }
}

/// Our range of `pin` if it has the same three GUIDs as `range`.
#[must_use]
pub fn our_range(pin: u32, range: &KSDATAFORMAT) -> Option<&'static KSDATAFORMAT> {
    pin_range(pin).filter(|ours| {
        ours.MajorFormat == range.MajorFormat
            && ours.SubFormat == range.SubFormat
            && ours.Specifier == range.Specifier
    })
}

#[cfg(test)]
mod tests {
    use dmus_sys::ks::{KSPIN_COMMUNICATION_SOURCE, KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT};
    use dmus_sys::ks_guids::{
        KSCATEGORY_AUDIO, KSCATEGORY_DATATRANSFORM, KSCATEGORY_RENDER, KSCATEGORY_SYNTHESIZER,
        KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_PCM,
    };

    use super::{FILTER, PIN_WAVE_OUT, PROPERTY_COUNT, our_range, pin_range};

    #[test]
    fn the_pins_are_midi_in_dmusic_in_wave_out() {
        let filter = &FILTER.0;
        // SAFETY: `Pins` points to the static PINS array of PinCount entries.
        let pins = unsafe { core::slice::from_raw_parts(filter.Pins, filter.PinCount as usize) };
        let flows: std::vec::Vec<i32> = pins.iter().map(|p| p.KsPinDescriptor.DataFlow).collect();
        assert_eq!(
            flows,
            [KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT]
        );
        assert_eq!(
            pins[PIN_WAVE_OUT as usize].KsPinDescriptor.Communication,
            KSPIN_COMMUNICATION_SOURCE
        );
        assert_eq!(
            pin_range(1).unwrap().SubFormat,
            KSDATAFORMAT_SUBTYPE_DIRECTMUSIC
        );
        assert_eq!(pin_range(2).unwrap().SubFormat, KSDATAFORMAT_SUBTYPE_PCM);
        assert!(our_range(2, pin_range(1).unwrap()).is_none());
        assert!(pin_range(3).is_none());
        // SAFETY: the filter's automation table is the static synth table.
        let table = unsafe { &*filter.AutomationTable };
        assert_eq!(table.PropertyCount as usize, PROPERTY_COUNT + 1);
        // SAFETY: the static category array of CategoryCount entries.
        let categories = unsafe {
            core::slice::from_raw_parts(filter.Categories, filter.CategoryCount as usize)
        };
        assert_eq!(
            categories,
            [
                KSCATEGORY_AUDIO,
                KSCATEGORY_SYNTHESIZER,
                KSCATEGORY_DATATRANSFORM
            ]
        );
        assert!(!categories.contains(&KSCATEGORY_RENDER));
    }
}
