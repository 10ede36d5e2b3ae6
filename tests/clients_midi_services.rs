//! Windows MIDI Services' KS transport as a client of rdmus's filters.
//!
//! Each step follows microsoft/MIDI (read for the facts, nothing copied):
//! `src/api/Transport/KSAggregateTransport/Midi2.KSAggregateMidiEndpointManager.cpp` (and its
//! later `...Manager3.cpp`) enumerates filters with an enabled `KSCATEGORY_AUDIO` interface,
//! asks `KSPROPERTY_PIN_CTYPES`, then per pin `_COMMUNICATION` (a pin without communication is
//! skipped), `_DATARANGES` (a pin is a candidate only if one range is MUSIC/MIDI and none is
//! UMP; the list is walked by each range's `FormatSize`), `_DATAFLOW` and `_NAME`, opens every
//! candidate at once with a 64-byte `KSDATAFORMAT` MUSIC/MIDI/NONE and silently drops a pin
//! whose open fails; it names the port from `KSPROPSETID_General` /
//! `KSPROPERTY_GENERAL_COMPONENTID`'s `Name` under `MediaCategories` (the WinMM-compatible
//! name), else from the interface's `FriendlyName`. `src/api/Libs/MidiKs` streams: render
//! walks ACQUIRE → PAUSE → RUN and writes one `KSMUSICFORMAT` per IRP with `TimeDeltaMs` 0;
//! capture reads 2,056-byte buffers and uses only the first `KSMUSICFORMAT` of each, stamped
//! with the pin's start time plus its `TimeDeltaMs` (microsoft/MIDI #953, #1146); shutdown
//! pauses (RUN → PAUSE) before its read thread stops.

mod clients_common;

use clients_common::{
    Rig, component_id, driver_lock, get, guid_list, interface_friendly_name, pin_property, pin_u32,
    range_guids, ranges, u32_at, utf16,
};
use dmus_sys::ks::{
    KSPIN_COMMUNICATION_NONE, KSPIN_DATAFLOW_IN, KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN,
    KSSTATE_STOP,
};
use dmus_sys::ks_guids::{
    KSCATEGORY_AUDIO, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_SUBTYPE_MIDI_BUS, KSDATAFORMAT_TYPE_MUSIC, KSPROPERTY_PIN_CINSTANCES,
    KSPROPERTY_PIN_COMMUNICATION, KSPROPERTY_PIN_CTYPES, KSPROPERTY_PIN_DATAFLOW,
    KSPROPERTY_PIN_DATARANGES, KSPROPERTY_PIN_NAME, KSPROPERTY_TOPOLOGY_CATEGORIES,
    KSPROPSETID_Topology,
};
use wdm_sim::ms;
use wdm_sim::portcls::{Filter, Pin, PinFormat, PropertyTarget, media_categories};

/// The read buffer MIDI Services' capture thread hands KS.
const CAPTURE_BUFFER: usize = 2_056;

/// A MIDI Services endpoint: one candidate pin.
#[derive(Debug, PartialEq, Eq)]
struct Endpoint {
    pin: u32,
    /// MIDI out (the pin takes data in) or MIDI in.
    out: bool,
    /// `KSPROPERTY_PIN_NAME`.
    pin_name: String,
    /// The port's name: COMPONENTID's `Name` under `MediaCategories`, else `FriendlyName`.
    port_name: String,
}

/// `CMidi2KSAggregateMidiEndpointManager`'s enumeration of one filter.
fn enumerate(filter: Filter, ks_name: &str) -> Vec<Endpoint> {
    // Only filters with an enabled KSCATEGORY_AUDIO interface are looked at.
    let categories = get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_Topology,
        KSPROPERTY_TOPOLOGY_CATEGORIES,
        &[],
    )
    .expect("TOPOLOGY_CATEGORIES");
    assert!(guid_list(&categories).contains(&KSCATEGORY_AUDIO));
    let port_name = component_id(filter)
        .and_then(|id| media_categories::name_of(&id.Name))
        .unwrap_or_else(|| interface_friendly_name(ks_name));
    let count = pin_u32(filter, 0, KSPROPERTY_PIN_CTYPES).expect("CTYPES");
    let mut endpoints = Vec::new();
    for pin in 0..count {
        let communication = pin_u32(filter, pin, KSPROPERTY_PIN_COMMUNICATION).unwrap();
        if communication == KSPIN_COMMUNICATION_NONE as u32 {
            continue;
        }
        let list = pin_property(filter, pin, KSPROPERTY_PIN_DATARANGES).unwrap();
        let ranges = ranges(&list);
        let midi = ranges.iter().any(|r| {
            let (major, sub, _) = range_guids(r);
            major == KSDATAFORMAT_TYPE_MUSIC && sub == KSDATAFORMAT_SUBTYPE_MIDI
        });
        // No UMP range: every music range is one of the byte-stream kinds.
        let ump = ranges.iter().any(|r| {
            let (major, sub, _) = range_guids(r);
            major == KSDATAFORMAT_TYPE_MUSIC
                && ![
                    KSDATAFORMAT_SUBTYPE_MIDI,
                    KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
                    KSDATAFORMAT_SUBTYPE_MIDI_BUS,
                ]
                .contains(&sub)
        });
        if !midi || ump {
            continue;
        }
        let flow = pin_u32(filter, pin, KSPROPERTY_PIN_DATAFLOW).unwrap();
        let pin_name = utf16(&pin_property(filter, pin, KSPROPERTY_PIN_NAME).unwrap());
        // Every candidate is opened during enumeration (64-byte MUSIC/MIDI/NONE) and
        // dropped silently if that fails.
        let Ok(probe) = filter.open_pin(pin, PinFormat::Midi) else {
            continue;
        };
        probe.close();
        endpoints.push(Endpoint {
            pin,
            out: flow == KSPIN_DATAFLOW_IN as u32,
            pin_name,
            port_name: port_name.clone(),
        });
    }
    endpoints
}

/// One `KSMUSICFORMAT` record: `TimeDeltaMs`, `ByteCount`, the bytes, padding to 4.
fn ksmusic(delta_ms: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = delta_ms.to_le_bytes().to_vec();
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().next_multiple_of(4), 0);
    out
}

/// `MidiKs`' render open: STOP → ACQUIRE → PAUSE → RUN, one step at a time.
fn start_render(filter: Filter, pin: u32) -> Pin {
    let render = filter.open_pin(pin, PinFormat::Midi).expect("render open");
    for state in [KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN] {
        render.set_state(state).expect("render state");
    }
    render
}

/// `MidiKs`' send: each message alone in its IRP, `TimeDeltaMs` 0 (play now).
fn send_each(rig: &Rig, render: &Pin, messages: &[&[u8]], gap_ms: u64) -> Vec<i64> {
    let mut sent_at = Vec::new();
    for message in messages {
        sent_at.push(rig.now());
        render.write(0, &ksmusic(0, message)).expect("render IRP");
        rig.machine.run_for(ms(gap_ms));
    }
    sent_at
}

/// The wire cut into messages by status byte (no running status in these messages), with
/// each message's first byte's start.
fn wire_messages(rig: &Rig) -> Vec<(i64, Vec<u8>)> {
    let mut out: Vec<(i64, Vec<u8>)> = Vec::new();
    for (at, byte) in rig.machine.wire_log() {
        if byte >= 0x80 && !(out.last().is_some_and(|m| m.1[0] == 0xF0) && byte == 0xF7) {
            out.push((i64::try_from(at).unwrap(), vec![byte]));
        } else if let Some(last) = out.last_mut() {
            last.1.push(byte);
        }
    }
    out
}

/// `MidiKs`' shutdown: RUN → PAUSE first (the read thread still running), then STOP, close.
fn shut_down(pin: Pin) {
    pin.set_state(KSSTATE_PAUSE).expect("PAUSE");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
}

#[test]
fn midi_services_finds_the_mpu401s_midi_out_and_in_named_from_componentid() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let endpoints = enumerate(rig.filter(), "UART");
    let named = |pin, out, pin_name: &str| Endpoint {
        pin,
        out,
        pin_name: pin_name.into(),
        port_name: "rdmus MPU-401".into(),
    };
    assert_eq!(
        endpoints,
        [
            named(0, true, "rdmus MPU-401 Out"),
            named(4, false, "rdmus MPU-401 In")
        ]
    );
    rig.finish();
}

#[test]
fn midi_services_finds_the_synths_midi_out() {
    let _lock = driver_lock();
    let rig = Rig::synth();
    let endpoints = enumerate(rig.filter(), "Synth");
    assert_eq!(
        endpoints,
        [Endpoint {
            pin: 0,
            out: true,
            pin_name: "rdmus DLS Synth".into(),
            port_name: "rdmus DLS Synth".into(),
        }]
    );
    rig.finish();
}

#[test]
fn midi_services_renders_one_message_per_irp_and_captures_the_first_record_of_each_read() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let endpoints = enumerate(filter, "UART");
    let out = endpoints.iter().find(|e| e.out).unwrap().pin;
    let input = endpoints.iter().find(|e| !e.out).unwrap().pin;

    // Render.
    let render = start_render(filter, out);
    let messages: [&[u8]; 4] = [&[0x90, 60, 100], &[0xB0, 7, 90], &[0x80, 60, 0], &[0xC0, 5]];
    let sent_at = send_each(&rig, &render, &messages, 3);
    let wire = wire_messages(&rig);
    assert_eq!(
        wire.iter().map(|m| m.1.as_slice()).collect::<Vec<_>>(),
        messages,
        "every message on the wire, whole and in order"
    );
    for ((at, bytes), sent) in wire.iter().zip(&sent_at) {
        let late = at - sent;
        println!("{bytes:02x?}: on the wire {late} x 100 ns after its write");
        assert!((0..=ms(2).cast_signed()).contains(&late), "{late}");
    }
    shut_down(render);

    // Capture.
    let capture = filter
        .open_pin(input, PinFormat::Midi)
        .expect("capture open");
    for state in [KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN] {
        capture.set_state(state).expect("capture state");
    }
    let incoming: [&[u8]; 3] = [&[0x90, 64, 80], &[0xE0, 0, 64], &[0x80, 64, 0]];
    for message in incoming {
        let arrives = rig.machine.now() + ms(1);
        rig.machine.inject_midi_input(arrives, message);
        rig.machine.run_for(ms(5));
        let read = capture.read(CAPTURE_BUFFER).expect("read");
        assert!(read.data.len() <= CAPTURE_BUFFER);
        // Only the first KSMUSICFORMAT of the buffer is used.
        let delta_ms = u32_at(&read.data, 0);
        let count = u32_at(&read.data, 4) as usize;
        assert_eq!(&read.data[8..8 + count], message);
        let stamp = read.presentation_time.expect("stamped") + i64::from(delta_ms) * 10_000;
        let arrives = i64::try_from(arrives).unwrap();
        let last_byte = arrives + 3_200 * (i64::try_from(message.len()).unwrap() - 1);
        println!("{message:02x?}: arrived {arrives}, stamped {stamp}");
        assert!(
            (arrives - 10_000..=last_byte + 10_000).contains(&stamp),
            "stamp {stamp} vs arrival {arrives}"
        );
    }
    shut_down(capture);
    rig.finish();
}

#[test]
fn instance_counts_follow_the_pins_a_client_holds() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let counts = |pin| {
        let value = pin_property(filter, pin, KSPROPERTY_PIN_CINSTANCES).unwrap();
        (u32_at(&value, 0), u32_at(&value, 4))
    };
    let (possible, current) = counts(0);
    assert!(possible >= 1);
    assert_eq!(current, 0);
    let held = filter.open_pin(0, PinFormat::Midi).unwrap();
    assert_eq!(counts(0), (possible, 1));
    held.close();
    assert_eq!(counts(0), (possible, 0));
    rig.finish();
}

/// Two MIDI Services clients on one MPU-401 port (microsoft/MIDI #229): both enumerate it,
/// both render, the wire carries both clients' messages whole, and both capture clients get
/// every message (four streams per render pin and four on the capture pin, README "Several
/// applications on one port"); with one instance per pin the port vanished from the second
/// client's list while the first held it.
#[test]
fn two_midi_services_clients_share_one_mpu401_port() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let first = start_render(filter, 0);
    // The second client's enumeration still finds the port while the first holds it.
    let endpoints = enumerate(filter, "UART");
    assert!(endpoints.iter().any(|e| e.pin == 0), "{endpoints:?}");
    let second = start_render(filter, 0);
    let one: [&[u8]; 3] = [
        &[0x90, 60, 100],
        &[0x80, 60, 0],
        &[0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7],
    ];
    let two: [&[u8]; 3] = [
        &[0x91, 40, 90],
        &[0xF0, 0x43, 0x10, 0x4C, 0xF7],
        &[0x81, 40, 0],
    ];
    for (a, b) in one.iter().zip(&two) {
        first.write(0, &ksmusic(0, a)).unwrap();
        second.write(0, &ksmusic(0, b)).unwrap();
        rig.machine.run_for(ms(4));
    }
    let wire: Vec<Vec<u8>> = wire_messages(&rig).into_iter().map(|m| m.1).collect();
    for message in one.iter().chain(&two) {
        assert!(
            wire.contains(&message.to_vec()),
            "{message:02x?} whole in {wire:02x?}"
        );
    }
    assert_eq!(wire.len(), one.len() + two.len());
    shut_down(first);
    shut_down(second);

    let captures = [
        filter.open_pin(4, PinFormat::Midi).unwrap(),
        filter.open_pin(4, PinFormat::Midi).unwrap(),
    ];
    for capture in &captures {
        capture.set_state(KSSTATE_RUN).unwrap();
    }
    rig.machine
        .inject_midi_input(rig.machine.now() + ms(1), &[0x90, 1, 2]);
    rig.machine.run_for(ms(5));
    for capture in &captures {
        let read = capture.read(CAPTURE_BUFFER).unwrap();
        assert_eq!(&read.data[8..11], [0x90, 1, 2]);
    }
    for capture in captures {
        shut_down(capture);
    }
    rig.finish();
}
