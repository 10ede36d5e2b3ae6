//! The MPU-401's `KSPROPSETID_Synth` properties through its real handler, as PortCls calls
//! it for a node property: `MajorTarget` the miniport, `MinorTarget` the pin's stream, the
//! node id of the synth node. (The simulated port routes filter and pin properties only, so
//! the test binds the miniport itself and calls the handler the descriptor lists.)
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::dmus_com::{
    CLSID_MiniportDriverDMusUART, CLSID_MiniportDriverDMusUARTCapture, IID_IMXF,
};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_LATENCYCLOCK,
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth,
    SYNTH_PC_EXTERNAL, SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_CHANNELGROUPS,
    SYNTH_PORTPARAMS_SAMPLERATE, SYNTH_STATS, SYNTH_STATS_LOST_NOTES, SYNTHCAPS,
};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_OVERFLOW, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};
use dmus_sys::ks::{
    KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET, KSSTATE_RUN,
    KSSTATE_STOP,
};
use dmus_sys::portcls::{PCPROPERTY_ITEM, PCPROPERTY_REQUEST};
use mpu401_common::{Bound, Message, dmus_buffer, driver_lock, original_card};
use rdmus_driver::uart_synth_property;
use wdm_sim::portcls::{PinFormat, Resources};
use wdm_sim::{Machine, MachineConfig, Mpu401Config, Mpu401Fault, ms};

/// One request to the synth handler; returns the status and the value size it left.
#[allow(clippy::too_many_arguments, reason = "a PCPROPERTY_REQUEST's fields")]
fn ask(
    bound: &Bound,
    stream: usize,
    node: u32,
    id: u32,
    verb: u32,
    instance: &mut [u8],
    value: &mut [u8],
) -> (NTSTATUS, u32) {
    let item = PCPROPERTY_ITEM {
        Set: &KSPROPSETID_Synth,
        Id: id,
        Flags: verb,
        Handler: Some(uart_synth_property),
    };
    let mut request = PCPROPERTY_REQUEST {
        MajorTarget: bound.miniport,
        MinorTarget: stream as *mut _,
        Node: node,
        PropertyItem: &raw const item,
        Verb: verb,
        InstanceSize: u32::try_from(instance.len()).unwrap(),
        Instance: if instance.is_empty() {
            core::ptr::null_mut()
        } else {
            instance.as_mut_ptr().cast()
        },
        ValueSize: u32::try_from(value.len()).unwrap(),
        Value: if value.is_empty() {
            core::ptr::null_mut()
        } else {
            value.as_mut_ptr().cast()
        },
        Irp: core::ptr::null_mut(),
    };
    // SAFETY: the handler the descriptor lists, at PASSIVE_LEVEL, with the live miniport, a
    // live stream (or null) and buffers valid for their sizes.
    let status = unsafe { uart_synth_property(&raw mut request) };
    (status, request.ValueSize)
}

fn bytes_of<T: Copy>(value: &T) -> Vec<u8> {
    // SAFETY: T is a plain #[repr(C)] value; reading its bytes is sound.
    unsafe { core::slice::from_raw_parts((&raw const *value).cast::<u8>(), size_of::<T>()) }
        .to_vec()
}

fn value_of<T: Copy>(bytes: &[u8]) -> T {
    assert!(bytes.len() >= size_of::<T>());
    // SAFETY: the buffer holds a whole T written by the handler; unaligned read.
    unsafe { bytes.as_ptr().cast::<T>().read_unaligned() }
}

fn text(units: &[u16]) -> String {
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16(&units[..end]).unwrap()
}

fn card(fault: Mpu401Fault) -> Bound {
    let machine = Machine::new(MachineConfig {
        mpu401: Some(Mpu401Config {
            fault,
            ..Mpu401Config::default()
        }),
        ..original_card()
    });
    let list = Resources::of_machine().to_list();
    Bound::new(machine, list)
}

#[test]
fn caps_describe_both_ports() {
    let _lock = driver_lock();
    let bound = card(Mpu401Fault::None);
    let mut caps = vec![0u8; size_of::<SYNTHCAPS>()];
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_CAPS,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut caps
        )
        .0,
        STATUS_SUCCESS
    );
    let out: SYNTHCAPS = value_of(&caps);
    assert_eq!(out.Guid, CLSID_MiniportDriverDMusUART);
    assert_eq!(out.Flags, SYNTH_PC_EXTERNAL);
    assert_eq!(out.MaxChannelGroups, 1);
    assert_eq!(text(&out.Description), "rdmus MPU-401 Out [330]");
    assert_eq!(
        ask(
            &bound,
            0,
            1,
            KSPROPERTY_SYNTH_CAPS,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut caps
        )
        .0,
        STATUS_SUCCESS
    );
    let input: SYNTHCAPS = value_of(&caps);
    assert_eq!(input.Guid, CLSID_MiniportDriverDMusUARTCapture);
    assert_eq!(text(&input.Description), "rdmus MPU-401 In [330]");
    // A size query learns the size.
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_CAPS,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut []
        ),
        (
            STATUS_BUFFER_OVERFLOW,
            u32::try_from(size_of::<SYNTHCAPS>()).unwrap()
        )
    );

    bound.finish();
}

#[test]
fn one_channel_group_is_all_there_is() {
    let _lock = driver_lock();
    let bound = card(Mpu401Fault::None);
    let mut groups = [0u8; 4];
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut groups
        ),
        (STATUS_SUCCESS, 4)
    );
    assert_eq!(u32::from_ne_bytes(groups), 1);
    let mut two = 2u32.to_ne_bytes();
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            KSPROPERTY_TYPE_SET,
            &mut [],
            &mut two
        )
        .0,
        STATUS_INVALID_PARAMETER
    );
    let mut flags = [0u8; 4];
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_CHANNELGROUPS,
            KSPROPERTY_TYPE_BASICSUPPORT,
            &mut [],
            &mut flags
        )
        .0,
        STATUS_SUCCESS
    );
    assert_eq!(
        u32::from_ne_bytes(flags),
        KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET | KSPROPERTY_TYPE_SET
    );

    let asked = SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_CHANNELGROUPS | SYNTH_PORTPARAMS_SAMPLERATE,
        ChannelGroups: 16,
        SampleRate: 44_100,
        ..SYNTH_PORTPARAMS::default()
    };
    let mut instance = bytes_of(&asked);
    let mut granted = vec![0u8; size_of::<SYNTH_PORTPARAMS>()];
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_PORTPARAMETERS,
            KSPROPERTY_TYPE_GET,
            &mut instance,
            &mut granted
        )
        .0,
        STATUS_SUCCESS
    );
    let granted: SYNTH_PORTPARAMS = value_of(&granted);
    assert_eq!(
        (granted.ValidParams, granted.ChannelGroups),
        (SYNTH_PORTPARAMS_CHANNELGROUPS, 1)
    );
    bound.finish();
}

#[test]
fn the_latency_clock_counts_the_render_backlog() {
    let _lock = driver_lock();
    let bound = card(Mpu401Fault::None);
    let pin = bound
        .filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("render");
    let stream = pin.query_stream(&IID_IMXF).expect("the pin's stream");
    let mut clock = [0u8; 8];
    assert_eq!(
        ask(
            &bound,
            0,
            0,
            KSPROPERTY_SYNTH_LATENCYCLOCK,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut clock
        )
        .0,
        STATUS_INVALID_DEVICE_REQUEST,
        "per stream only"
    );
    assert_eq!(
        ask(
            &bound,
            stream,
            0,
            KSPROPERTY_SYNTH_LATENCYCLOCK,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut clock
        ),
        (STATUS_SUCCESS, 8)
    );
    let idle = i64::from_ne_bytes(clock) - i64::try_from(bound.machine.now()).unwrap();
    assert!(
        (0..=10).contains(&idle),
        "an idle port plays at once: {idle}"
    );
    pin.set_state(KSSTATE_RUN).expect("RUN");
    // Thirty note-ons due now: 90 bytes, 28.8 ms of wire.
    let burst: Vec<Message> = (0..30)
        .map(|i| Message::new(0, &[0x90, 40 + i, 100]))
        .collect();
    pin.write(0, &dmus_buffer(&burst)).expect("write");
    bound.machine.run_for(ms(2));
    assert_eq!(
        ask(
            &bound,
            stream,
            0,
            KSPROPERTY_SYNTH_LATENCYCLOCK,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut clock
        )
        .0,
        STATUS_SUCCESS
    );
    let behind = i64::from_ne_bytes(clock) - i64::try_from(bound.machine.now()).unwrap();
    assert!(
        (200_000..=290_000).contains(&behind),
        "a backlog of most of the burst: {behind}"
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    bound.finish();
}

#[test]
fn running_stats_count_events_a_stuck_card_lost() {
    let _lock = driver_lock();
    let bound = card(Mpu401Fault::NeverDrains);
    let pin = bound
        .filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("render");
    let stream = pin.query_stream(&IID_IMXF).expect("the pin's stream");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let notes: Vec<Message> = (0..10)
        .map(|i| Message::new(i * 10_000, &[0x90, 60, 100]))
        .collect();
    pin.write(0, &dmus_buffer(&notes)).expect("write");
    bound.machine.run_for(ms(1_000));
    let mut stats = vec![0u8; size_of::<SYNTH_STATS>()];
    assert_eq!(
        ask(
            &bound,
            stream,
            0,
            KSPROPERTY_SYNTH_RUNNINGSTATS,
            KSPROPERTY_TYPE_GET,
            &mut [],
            &mut stats
        )
        .0,
        STATUS_SUCCESS
    );
    let stats: SYNTH_STATS = value_of(&stats);
    assert_eq!(stats.ValidStats, SYNTH_STATS_LOST_NOTES);
    assert_eq!(stats.LostNotes, 10, "every event given back unplayed");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    bound.finish();
}
