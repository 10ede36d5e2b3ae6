//! `WinMM`'s view of rdmus's filters: wdmaud (through sysaudio) makes a midiOut device of every
//! sink pin that takes `KSDATAFORMAT_TYPE_MUSIC` / `_SUBTYPE_MIDI` / `_SPECIFIER_NONE` and
//! flows in, a midiIn device of every such pin that flows out, and shows a pin's own name only
//! when the pin's category is `KSCATEGORY_WDMAUD_USE_PIN_NAME` (else the device's name).
//!
//! Each step follows `ReactOS`'s mmixer (`sdk/lib/drivers/sound/mmixer/midi.c`, read as a model
//! of wdmaud, nothing copied): `MMixerInitializeMidiForFilter` walks the pins
//! (`KSPROPERTY_PIN_CTYPES`), `MMixerGetPinDataFlowAndCommunication` reads each pin's flow and
//! communication, `MMixerCheckFilterPinMidiSupport` looks for a MUSIC/MIDI/NONE range in
//! `KSPROPERTY_PIN_DATARANGES`, `MMixerAddMidiPin` names it, `MMixerOpenMidiPin` opens it with
//! a plain `KSDATAFORMAT` of those three GUIDs.

mod clients_common;

use clients_common::{
    Rig, driver_lock, get, guid_list, inf_interface_categories, interface_friendly_name,
    pin_property, pin_u32, range_guids, ranges, utf16,
};
use dmus_sys::GUID;
use dmus_sys::ks::{KSPIN_COMMUNICATION_SINK, KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSSTATE_STOP};
use dmus_sys::ks_guids::{
    KSCATEGORY_AUDIO, KSCATEGORY_CAPTURE, KSCATEGORY_DATATRANSFORM, KSCATEGORY_RENDER,
    KSCATEGORY_SYNTHESIZER, KSCATEGORY_WDMAUD_USE_PIN_NAME, KSDATAFORMAT_SPECIFIER_NONE,
    KSDATAFORMAT_SUBTYPE_MIDI, KSDATAFORMAT_TYPE_MUSIC, KSPROPERTY_PIN_CATEGORY,
    KSPROPERTY_PIN_COMMUNICATION, KSPROPERTY_PIN_CTYPES, KSPROPERTY_PIN_DATAFLOW,
    KSPROPERTY_PIN_DATARANGES, KSPROPERTY_PIN_NAME, KSPROPERTY_TOPOLOGY_CATEGORIES,
    KSPROPSETID_Topology,
};
use wdm_sim::portcls::{Filter, PinFormat, PropertyTarget};

/// A `WinMM` device as wdmaud lists it.
#[derive(Debug, PartialEq, Eq)]
struct MidiDevice {
    /// midiOut (true) or midiIn.
    out: bool,
    /// The pin factory.
    pin: u32,
    /// The name an application sees.
    name: String,
}

/// `MMixerCheckFilterPinMidiSupport`: a MUSIC/MIDI/NONE range among the pin's.
fn takes_midi(filter: Filter, pin: u32) -> bool {
    let list = pin_property(filter, pin, KSPROPERTY_PIN_DATARANGES).expect("DATARANGES");
    ranges(&list).iter().any(|range| {
        range_guids(range)
            == (
                KSDATAFORMAT_TYPE_MUSIC,
                KSDATAFORMAT_SUBTYPE_MIDI,
                KSDATAFORMAT_SPECIFIER_NONE,
            )
    })
}

/// `MMixerAddMidiPin`'s name: the pin's own (`KSPROPERTY_PIN_NAME`) only under
/// `KSCATEGORY_WDMAUD_USE_PIN_NAME`, else the device interface's `FriendlyName`.
fn device_name(filter: Filter, pin: u32, ks_name: &str) -> String {
    let category = pin_property(filter, pin, KSPROPERTY_PIN_CATEGORY).expect("CATEGORY");
    if clients_common::guid_at(&category, 0) == KSCATEGORY_WDMAUD_USE_PIN_NAME {
        utf16(&pin_property(filter, pin, KSPROPERTY_PIN_NAME).expect("a named pin's NAME"))
    } else {
        interface_friendly_name(ks_name)
    }
}

/// `MMixerInitializeMidiForFilter`: every MIDI sink pin of the filter as a `WinMM` device.
fn winmm_devices(filter: Filter, ks_name: &str) -> Vec<MidiDevice> {
    let count = pin_u32(filter, 0, KSPROPERTY_PIN_CTYPES).expect("CTYPES");
    let mut devices = Vec::new();
    for pin in 0..count {
        // MMixerGetPinDataFlowAndCommunication.
        let flow = pin_u32(filter, pin, KSPROPERTY_PIN_DATAFLOW).expect("DATAFLOW");
        let communication =
            pin_u32(filter, pin, KSPROPERTY_PIN_COMMUNICATION).expect("COMMUNICATION");
        if communication != KSPIN_COMMUNICATION_SINK as u32 || !takes_midi(filter, pin) {
            continue;
        }
        devices.push(MidiDevice {
            out: flow == KSPIN_DATAFLOW_IN as u32,
            pin,
            name: device_name(filter, pin, ks_name),
        });
        assert!(flow == KSPIN_DATAFLOW_IN as u32 || flow == KSPIN_DATAFLOW_OUT as u32);
    }
    devices
}

/// `MMixerOpenMidiPin`: each device opens with MUSIC/MIDI/NONE and closes again.
fn open_each(filter: Filter, devices: &[MidiDevice]) {
    for device in devices {
        let pin = filter
            .open_pin(device.pin, PinFormat::Midi)
            .unwrap_or_else(|e| panic!("{device:?} opens: {e:?}"));
        assert_eq!(pin.state(), Some(KSSTATE_STOP));
        pin.close();
    }
}

fn filter_categories(filter: Filter) -> Vec<GUID> {
    guid_list(
        &get(
            filter,
            PropertyTarget::Filter,
            &KSPROPSETID_Topology,
            KSPROPERTY_TOPOLOGY_CATEGORIES,
            &[],
        )
        .expect("TOPOLOGY_CATEGORIES"),
    )
}

#[test]
fn winmm_lists_the_mpu401s_midi_out_and_in_by_their_pin_names() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let devices = winmm_devices(filter, "UART");
    assert_eq!(
        devices,
        [
            MidiDevice {
                out: true,
                pin: 0,
                name: "rdmus MPU-401 Out".into()
            },
            MidiDevice {
                out: false,
                pin: 4,
                name: "rdmus MPU-401 In".into()
            },
        ],
        "the DirectMusic-only pin and the bridges are no `WinMM` devices"
    );
    open_each(filter, &devices);
    // PortCls registers an interface per descriptor category; the INF's AddInterface lines
    // give exactly those their FriendlyName and proxy.
    let categories = filter_categories(filter);
    assert_eq!(
        categories,
        [KSCATEGORY_AUDIO, KSCATEGORY_RENDER, KSCATEGORY_CAPTURE]
    );
    assert_eq!(inf_interface_categories("UART"), categories);
    rig.finish();
}

#[test]
fn winmm_lists_the_synth_as_one_named_midi_out_of_a_software_synth() {
    let _lock = driver_lock();
    let rig = Rig::synth();
    let filter = rig.filter();
    let devices = winmm_devices(filter, "Synth");
    assert_eq!(
        devices,
        [MidiDevice {
            out: true,
            pin: 0,
            name: "rdmus DLS Synth".into()
        }]
    );
    open_each(filter, &devices);
    // ddksynth.inf's registration of a software synth with a wave pin; not RENDER.
    let categories = filter_categories(filter);
    assert_eq!(
        categories,
        [
            KSCATEGORY_AUDIO,
            KSCATEGORY_SYNTHESIZER,
            KSCATEGORY_DATATRANSFORM
        ]
    );
    assert!(!categories.contains(&KSCATEGORY_RENDER));
    assert_eq!(inf_interface_categories("Synth"), categories);
    rig.finish();
}

#[test]
fn every_named_pin_is_shown_by_name_and_its_name_is_in_the_inf() {
    let _lock = driver_lock();
    for start in [Rig::mpu401 as fn() -> Rig, Rig::synth] {
        let rig = start();
        let filter = rig.filter();
        let count = pin_u32(filter, 0, KSPROPERTY_PIN_CTYPES).unwrap();
        for pin in 0..count {
            let category = pin_property(filter, pin, KSPROPERTY_PIN_CATEGORY).unwrap();
            let category = clients_common::guid_at(&category, 0);
            let name = pin_property(filter, pin, KSPROPERTY_PIN_NAME);
            if category == KSCATEGORY_WDMAUD_USE_PIN_NAME {
                let name = utf16(&name.expect("a pin shown by name has a registered name"));
                assert!(name.starts_with("rdmus "), "{name}");
            } else {
                // Unnamed pins (bridges, the wave pin) fall back to the category's key,
                // which only Windows' own INFs register.
                assert_eq!(category, KSCATEGORY_AUDIO, "pin {pin}");
                assert!(name.is_err(), "pin {pin}");
            }
        }
        rig.finish();
    }
}
