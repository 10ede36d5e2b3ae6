//! The MPU-401 miniport's streams as PortCls opens them, in the simulation: every pin of the
//! filter at once through a whole life with no finding, as many streams per pin as the descriptor allows, formats checked
//! against each pin's ranges (the port calls `DataRangeIntersection`), the streams' COM
//! identity, and aggregation refused by design (`NewStream` returns a `PMXF`, so an outer
//! object could not own the stream's lifetime; PortCls passes no outer object).
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::com::IID_IUnknown;
use dmus_sys::dmus_com::{IID_IMXF, IID_IMiniportDMus};
use dmus_sys::kernel::{STATUS_INVALID_PARAMETER, STATUS_NOINTERFACE};
use dmus_sys::ks::{KSPIN_DATAFLOW_IN, KSPIN_DATAFLOW_OUT, KSSTATE_RUN, KSSTATE_STOP};
use mpu401_common::{Message, Rig, driver_lock, ksmusic_buffer, original_card, wire_messages};
use wdm_sim::ms;
use wdm_sim::portcls::api::pass_outer_unknown;
use wdm_sim::portcls::{OpenError, PinFormat};

#[test]
fn every_pin_at_once_through_a_whole_life() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let filter = rig.filter();
    assert_eq!(
        filter.pin_flows(),
        [
            (0, KSPIN_DATAFLOW_IN),
            (1, KSPIN_DATAFLOW_IN),
            (2, KSPIN_DATAFLOW_OUT),
            (3, KSPIN_DATAFLOW_IN),
            (4, KSPIN_DATAFLOW_OUT),
        ]
    );
    let legacy = filter.open_pin(0, PinFormat::Midi).expect("legacy render");
    let dmusic = filter
        .open_pin(1, PinFormat::DirectMusic)
        .expect("DirectMusic render");
    let capture = filter.open_pin(4, PinFormat::DirectMusic).expect("capture");
    for pin in [&legacy, &dmusic, &capture] {
        pin.set_state(KSSTATE_RUN).expect("RUN");
    }
    legacy
        .write(0, &ksmusic_buffer(&[Message::new(0, &[0x90, 60, 100])]))
        .expect("write");
    rig.machine
        .inject_midi_input(rig.machine.now() + ms(1), &[0xB0, 7, 64]);
    rig.machine.run_for(ms(30));
    let read = capture.read(256).expect("read");
    assert_eq!(read.records, 1);
    for pin in [&legacy, &dmusic, &capture] {
        pin.set_state(KSSTATE_STOP).expect("STOP");
    }
    for pin in [legacy, dmusic, capture] {
        pin.close();
    }
    assert_eq!(
        wire_messages(&rig.machine.wire_log()),
        [vec![0x90, 60, 100]]
    );
    rig.finish();
}

#[test]
fn streams_per_pin_as_the_descriptor_allows_and_formats_follow_the_ranges() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let filter = rig.filter();
    // Four clients per render pin (driver/mpu401/descriptor.rs, RENDER_INSTANCES); the port
    // refuses a fifth from the descriptor's instance count.
    let mut open: Vec<_> = (0..4)
        .map(|_| filter.open_pin(0, PinFormat::Midi).expect("legacy render"))
        .collect();
    let fifth = filter.open_pin(0, PinFormat::Midi);
    assert!(
        matches!(fifth, Err(OpenError::TooManyInstances)),
        "{fifth:?}"
    );
    let first = open.remove(0);
    for pin in open {
        pin.close();
    }
    first.close();
    let again = filter
        .open_pin(0, PinFormat::Midi)
        .expect("the pin is free again");
    again.close();
    // The legacy pin speaks KSMUSICFORMAT only, the DirectMusic pin DMUS_EVENTHEADER only;
    // the capture pin both; the bridge pins are not streams.
    assert!(filter.open_pin(0, PinFormat::DirectMusic).is_err());
    assert!(filter.open_pin(1, PinFormat::Midi).is_err());
    for format in [PinFormat::Midi, PinFormat::DirectMusic] {
        filter
            .open_pin(4, format)
            .expect("capture in either format")
            .close();
        assert!(filter.open_pin(2, format).is_err());
        assert!(filter.open_pin(3, format).is_err());
    }
    rig.finish();
}

#[test]
fn streams_answer_for_imxf_only() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let pin = rig
        .filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("open");
    let mxf = pin.query_stream(&IID_IMXF).expect("IMXF");
    assert_eq!(pin.query_stream(&IID_IUnknown), Ok(mxf), "one identity");
    assert_eq!(
        pin.query_stream(&IID_IMiniportDMus),
        Err(STATUS_NOINTERFACE)
    );
    pin.close();
    rig.finish();
}

#[test]
fn aggregation_is_refused_cleanly() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    pass_outer_unknown(true);
    let refused = rig.filter().open_pin(1, PinFormat::DirectMusic);
    pass_outer_unknown(false);
    assert_eq!(
        refused.err(),
        Some(OpenError::NewStream(STATUS_INVALID_PARAMETER))
    );
    // Nothing was taken: the pin opens normally afterwards.
    rig.filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("open without an outer object")
        .close();
    rig.finish();
}

#[test]
fn a_thousand_pin_lives_leak_nothing() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let filter = rig.filter();
    let rdmus_blocks = || {
        rig.machine.with(|m| {
            m.pool()
                .usage_by_tag()
                .get(&rdmus_driver::POOL_TAG)
                .map_or(0, |usage| usage.count)
        })
    };
    let baseline = rdmus_blocks();
    assert!(baseline >= 1, "the miniport itself lives in tagged pool");
    for _ in 0..1_000 {
        let render = filter.open_pin(1, PinFormat::DirectMusic).expect("render");
        let capture = filter.open_pin(4, PinFormat::Midi).expect("capture");
        render.set_state(KSSTATE_RUN).expect("RUN");
        capture.set_state(KSSTATE_RUN).expect("RUN");
        render.set_state(KSSTATE_STOP).expect("STOP");
        capture.set_state(KSSTATE_STOP).expect("STOP");
        render.close();
        capture.close();
    }
    assert_eq!(
        rdmus_blocks(),
        baseline,
        "every stream went back to the pool"
    );
    rig.finish();
}
