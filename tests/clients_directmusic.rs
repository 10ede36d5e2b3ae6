//! `DirectMusic` as a client of rdmus's filters, in the order its documented WDM port model
//! runs (the WDK's "Synthesizers and Wave Sinks", "KS Properties for `DirectMusic`" and the
//! `KSPROPERTY_SYNTH_*` pages; dmusic.dll itself is not public):
//! `IDirectMusic8::EnumPort` lists every filter pin with a `KSDATAFORMAT_SUBTYPE_DIRECTMUSIC`
//! range and fills `DMUS_PORTCAPS` from the synthesizer node's `KSPROPERTY_SYNTH_CAPS` (sent
//! with `KSPROPERTY_TYPE_TOPOLOGY` to the node of type `KSNODETYPE_SYNTHESIZER`);
//! `IDirectMusic8::CreatePort` opens the pin and asks `KSPROPERTY_SYNTH_PORTPARAMETERS`
//! (`CHANNELGROUPS` too when it wants more than one group);
//! `IDirectMusicPort8::DownloadInstrument` sends `KSPROPERTY_SYNTH_DLS_DOWNLOAD`;
//! `IDirectMusicPort8::PlayBuffer` writes `DMUS_EVENTHEADER` IRPs; a software synth's audio
//! leaves through its wave pin (the port's wave sink here).

mod clients_common;

use clients_common::{
    Rig, driver_lock, get, guid_list, pin_property, pin_u32, range_guids, ranges, u32_at, utf16,
};
use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPSETID_Synth, SYNTH_PC_DLS,
    SYNTH_PC_EXTERNAL, SYNTH_PC_SOFTWARESYNTH, SYNTH_PORTPARAMS_CHANNELGROUPS,
    SYNTH_PORTPARAMS_VOICES,
};
use dmus_sys::ks::{KSPIN_DATAFLOW_IN, KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSNODETYPE_SYNTHESIZER, KSPROPERTY_PIN_CTYPES,
    KSPROPERTY_PIN_DATAFLOW, KSPROPERTY_PIN_DATARANGES, KSPROPERTY_PIN_NAME,
    KSPROPERTY_TOPOLOGY_NODES, KSPROPSETID_Topology,
};
use wdm_sim::ms;
use wdm_sim::portcls::{
    Filter, PinFormat, PropertyTarget, WaveSink, WaveSinkConfig, dls_download, dls_unload,
};

mod synth_fixture;
use synth_fixture::tiny_collection;

/// A `DirectMusic` port as `EnumPort` reports it.
#[derive(Debug)]
struct Port {
    pin: u32,
    out: bool,
    name: String,
    /// `SYNTHCAPS.Flags`, `MaxChannelGroups`, `Description`.
    flags: u32,
    channel_groups: u32,
    description: String,
}

/// The synthesizer nodes of the filter (`KSPROPERTY_TOPOLOGY_NODES`).
fn synth_nodes(filter: Filter) -> Vec<u32> {
    let nodes = get(
        filter,
        PropertyTarget::Filter,
        &KSPROPSETID_Topology,
        KSPROPERTY_TOPOLOGY_NODES,
        &[],
    )
    .expect("TOPOLOGY_NODES");
    guid_list(&nodes)
        .iter()
        .enumerate()
        .filter(|(_, t)| **t == KSNODETYPE_SYNTHESIZER)
        .map(|(i, _)| u32::try_from(i).unwrap())
        .collect()
}

/// `EnumPort`: every `DirectMusic` pin, with the caps of the synth node that serves it (the
/// first for render, the last for capture: rdmus's MPU-401 has one per direction).
fn enum_ports(filter: Filter) -> Vec<Port> {
    let nodes = synth_nodes(filter);
    assert!(
        !nodes.is_empty(),
        "a DirectMusic filter has a synthesizer node"
    );
    let count = pin_u32(filter, 0, KSPROPERTY_PIN_CTYPES).unwrap();
    let mut ports = Vec::new();
    for pin in 0..count {
        let list = pin_property(filter, pin, KSPROPERTY_PIN_DATARANGES).unwrap();
        if !ranges(&list)
            .iter()
            .any(|r| range_guids(r).1 == KSDATAFORMAT_SUBTYPE_DIRECTMUSIC)
        {
            continue;
        }
        let out =
            pin_u32(filter, pin, KSPROPERTY_PIN_DATAFLOW).unwrap() == KSPIN_DATAFLOW_IN as u32;
        let node = if out {
            nodes[0]
        } else {
            *nodes.last().unwrap()
        };
        let caps = get(
            filter,
            PropertyTarget::Node(node),
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_CAPS,
            &[],
        )
        .expect("SYNTH_CAPS");
        ports.push(Port {
            pin,
            out,
            name: utf16(&pin_property(filter, pin, KSPROPERTY_PIN_NAME).unwrap()),
            flags: u32_at(&caps, 16),
            channel_groups: u32_at(&caps, 24),
            description: utf16(&caps[40..]),
        });
    }
    ports
}

/// `CreatePort`'s `KSPROPERTY_SYNTH_PORTPARAMETERS`: what it asks (voices, channel groups),
/// what the synth grants (`ValidParams`, `Voices`, `ChannelGroups`).
fn port_parameters(filter: Filter, node: u32, voices: u32, groups: u32) -> (u32, u32, u32) {
    let asked: Vec<u8> = [
        SYNTH_PORTPARAMS_VOICES | SYNTH_PORTPARAMS_CHANNELGROUPS,
        voices,
        groups,
        2,
        48_000,
        0,
        0,
    ]
    .iter()
    .flat_map(|v| v.to_le_bytes())
    .collect();
    let granted = get(
        filter,
        PropertyTarget::Node(node),
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        &asked,
    )
    .expect("PORTPARAMETERS");
    (
        u32_at(&granted, 0),
        u32_at(&granted, 4),
        u32_at(&granted, 8),
    )
}

/// `DMUS_EVENTHEADER` records (dmusbuff.h): channel group 1, structured, `rtDelta` each
/// message's time (100 ns).
fn dmus_buffer(messages: &[(i64, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (time, bytes) in messages {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(&time.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
        out.extend_from_slice(bytes);
        out.resize(start + (out.len() - start).next_multiple_of(8), 0);
    }
    out
}

/// One instrument (bank 0, program 0, every key) on a looped 441-frame square wave.
#[test]
fn directmusic_enumerates_the_mpu401_as_an_external_port_and_plays_through_it() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let ports = enum_ports(filter);
    println!("{ports:#?}");
    assert_eq!(
        ports.iter().map(|p| (p.pin, p.out)).collect::<Vec<_>>(),
        [(1, true), (4, false)]
    );
    let out = &ports[0];
    assert_eq!(out.name, "rdmus MPU-401 Out (DirectMusic)");
    assert_eq!(out.flags & SYNTH_PC_EXTERNAL, SYNTH_PC_EXTERNAL);
    assert_eq!(out.channel_groups, 1);
    assert!(
        out.description.starts_with("rdmus MPU-401 Out ["),
        "{}",
        out.description
    );
    // CreatePort: one channel group is all an MPU-401 grants.
    let (valid, _, groups) = port_parameters(filter, synth_nodes(filter)[0], 32, 2);
    assert_eq!(
        valid & SYNTH_PORTPARAMS_CHANNELGROUPS,
        SYNTH_PORTPARAMS_CHANNELGROUPS
    );
    assert_eq!(groups, 1);
    // PlayBuffer.
    let pin = filter
        .open_pin(out.pin, PinFormat::DirectMusic)
        .expect("the DirectMusic pin opens");
    pin.set_state(KSSTATE_RUN).unwrap();
    pin.write(
        rig.now(),
        &dmus_buffer(&[(0, &[0x90, 60, 100]), (ms(5).cast_signed(), &[0x80, 60, 0])]),
    )
    .unwrap();
    rig.machine.run_for(ms(20));
    let bytes: Vec<u8> = rig.machine.wire_log().iter().map(|b| b.1).collect();
    assert_eq!(bytes, [0x90, 60, 100, 0x80, 60, 0]);
    pin.set_state(KSSTATE_STOP).unwrap();
    pin.close();
    rig.finish();
}

#[test]
fn directmusic_enumerates_downloads_to_and_plays_the_software_synth() {
    let _lock = driver_lock();
    let rig = Rig::synth();
    let filter = rig.filter();
    let ports = enum_ports(filter);
    assert_eq!(ports.len(), 1, "{ports:#?}");
    let port = &ports[0];
    assert_eq!((port.pin, port.out), (1, true));
    assert_eq!(port.name, "rdmus DLS Synth (DirectMusic)");
    assert_eq!(
        port.flags & (SYNTH_PC_DLS | SYNTH_PC_SOFTWARESYNTH),
        SYNTH_PC_DLS | SYNTH_PC_SOFTWARESYNTH
    );
    assert_eq!(port.flags & SYNTH_PC_EXTERNAL, 0);
    assert!(port.channel_groups >= 1);
    let (_, voices, groups) = port_parameters(filter, synth_nodes(filter)[0], 64, 1);
    assert!(
        voices >= 1 && groups == 1,
        "{voices} voices, {groups} groups"
    );
    // DownloadInstrument: the wave, then the instrument.
    let collection = tiny_collection();
    let file = DlsFile::parse(&collection).expect("a valid DLS file");
    let buffers = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    let handles: Vec<usize> = buffers
        .waves
        .iter()
        .chain(&buffers.instruments)
        .map(|b| dls_download(&filter, &b.bytes).expect("downloaded"))
        .collect();
    // PlayBuffer, with the audio leaving through the wave pin.
    let pin = filter.open_pin(port.pin, PinFormat::DirectMusic).unwrap();
    let sink = WaveSink::open(&filter, 2, WaveSinkConfig::default()).expect("wave sink");
    sink.set_state(KSSTATE_RUN).unwrap();
    pin.set_state(KSSTATE_RUN).unwrap();
    pin.write(
        0,
        &dmus_buffer(&[
            (ms(10).cast_signed(), &[0xC0, 0]),
            (ms(10).cast_signed(), &[0x90, 60, 127]),
            (ms(300).cast_signed(), &[0x80, 60, 0]),
        ]),
    )
    .unwrap();
    let audio = sink.pull(24_000).expect("half a second");
    let peak = audio.iter().map(|&s| i32::from(s).abs()).max().unwrap();
    assert!(
        peak > 1_000,
        "the downloaded instrument sounds: peak {peak}"
    );
    pin.set_state(KSSTATE_STOP).unwrap();
    sink.set_state(KSSTATE_STOP).unwrap();
    pin.close();
    sink.close();
    for handle in handles.into_iter().rev() {
        dls_unload(&filter, handle).expect("unloaded");
    }
    rig.finish();
}

/// MIDI Services on the legacy pin and `DirectMusic` on its own pin of the same MPU-401, at
/// once: both streams reach the one wire, each message whole.
#[test]
fn midi_services_and_directmusic_share_the_mpu401_wire() {
    let _lock = driver_lock();
    let rig = Rig::mpu401();
    let filter = rig.filter();
    let legacy = filter
        .open_pin(0, PinFormat::Midi)
        .expect("MIDI Services' pin");
    let dmus = filter
        .open_pin(1, PinFormat::DirectMusic)
        .expect("DirectMusic's pin");
    legacy.set_state(KSSTATE_RUN).unwrap();
    dmus.set_state(KSSTATE_RUN).unwrap();
    let ksmusic = |bytes: &[u8]| {
        let mut out = 0u32.to_le_bytes().to_vec();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(bytes);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    };
    let sysex: &[u8] = &[0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7];
    legacy.write(0, &ksmusic(sysex)).unwrap();
    dmus.write(rig.now(), &dmus_buffer(&[(0, &[0x91, 40, 90])]))
        .unwrap();
    legacy.write(0, &ksmusic(&[0x90, 60, 100])).unwrap();
    rig.machine.run_for(ms(20));
    let bytes: Vec<u8> = rig.machine.wire_log().iter().map(|b| b.1).collect();
    let find = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(find(sysex), "the sysex whole: {bytes:02x?}");
    assert!(find(&[0x91, 40, 90]), "{bytes:02x?}");
    assert!(find(&[0x90, 60, 100]), "{bytes:02x?}");
    assert_eq!(bytes.len(), sysex.len() + 6);
    for pin in [legacy, dmus] {
        pin.set_state(KSSTATE_STOP).unwrap();
        pin.close();
    }
    rig.finish();
}

/// MIDI Services on the synth's legacy pin and `DirectMusic` on its `DirectMusic` pin at once:
/// one instrument download serves both, and each client's note sounds at its own time.
#[test]
fn midi_services_and_directmusic_play_the_synth_at_once() {
    let _lock = driver_lock();
    let rig = Rig::synth();
    let filter = rig.filter();
    let collection = tiny_collection();
    let file = DlsFile::parse(&collection).expect("a valid DLS file");
    let buffers = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    let handles: Vec<usize> = buffers
        .waves
        .iter()
        .chain(&buffers.instruments)
        .map(|b| dls_download(&filter, &b.bytes).expect("downloaded"))
        .collect();
    let legacy = filter
        .open_pin(0, PinFormat::Midi)
        .expect("MIDI Services' pin");
    let dmus = filter
        .open_pin(1, PinFormat::DirectMusic)
        .expect("DirectMusic's pin");
    let sink = WaveSink::open(&filter, 2, WaveSinkConfig::default()).expect("wave sink");
    sink.set_state(KSSTATE_RUN).unwrap();
    legacy.set_state(KSSTATE_RUN).unwrap();
    dmus.set_state(KSSTATE_RUN).unwrap();
    // DirectMusic: a note from 100 ms to 200 ms; MIDI Services: one from 300 ms to 400 ms
    // (KSMUSICFORMAT deltas in ms from the IRP's time).
    dmus.write(
        0,
        &dmus_buffer(&[
            (ms(100).cast_signed(), &[0xC0, 0]),
            (ms(100).cast_signed(), &[0x90, 60, 127]),
            (ms(200).cast_signed(), &[0x80, 60, 0]),
        ]),
    )
    .unwrap();
    let ksmusic = |delta_ms: u32, bytes: &[u8]| {
        let mut out = delta_ms.to_le_bytes().to_vec();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
        out.extend_from_slice(bytes);
        out.resize(out.len().next_multiple_of(4), 0);
        out
    };
    let mut irp = ksmusic(300, &[0xC1, 0]);
    irp.extend(ksmusic(0, &[0x91, 67, 127]));
    irp.extend(ksmusic(100, &[0x81, 67, 0]));
    legacy.write(0, &irp).unwrap();
    let audio = sink.pull(48_000).expect("one second");
    let peak = |from_ms: usize, to_ms: usize| {
        audio[from_ms * 96..to_ms * 96]
            .iter()
            .map(|&s| i32::from(s).abs())
            .max()
            .unwrap()
    };
    println!(
        "peaks: before {}, DirectMusic's note {}, between {}, MIDI Services' note {}",
        peak(0, 90),
        peak(120, 180),
        peak(270, 295),
        peak(320, 380)
    );
    assert_eq!(peak(0, 90), 0, "silence before the first note");
    assert!(peak(120, 180) > 1_000, "DirectMusic's note sounds");
    assert!(peak(320, 380) > 1_000, "MIDI Services' note sounds");
    assert!(
        peak(270, 295) < peak(320, 380),
        "the second note is MIDI Services' own, not the first's release"
    );
    for pin in [legacy, dmus] {
        pin.set_state(KSSTATE_STOP).unwrap();
        pin.close();
    }
    sink.set_state(KSSTATE_STOP).unwrap();
    sink.close();
    for handle in handles.into_iter().rev() {
        dls_unload(&filter, handle).expect("unloaded");
    }
    rig.finish();
}
