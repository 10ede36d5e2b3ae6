//! An MPU-401 card without an IRQ, in the simulation: the resource list PortCls hands the
//! miniport holds only the I/O range (built here as a sublist of the card's resources), so
//! Init connects no interrupt and the capture stream polls the card from its timer, 1 ms
//! apart. Render works the same; capture still parses and stamps what it reads.
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::imports::PcNewResourceSublist;
use dmus_sys::kernel::{CmResourceTypePort, NT_SUCCESS, NonPagedPool};
use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::portcls::PRESOURCELIST;
use mpu401_common::{
    Bound, Message, driver_lock, ksmusic_buffer, original_card, read_dmus, read_ksmusic, release,
    wire_messages,
};
use wdm_sim::portcls::{PinFormat, Resources};
use wdm_sim::{Machine, ms};

/// The card's resources without its interrupt: a sublist holding the first port range only.
fn ports_only() -> PRESOURCELIST {
    let full = Resources::of_machine().to_list();
    let mut sub: PRESOURCELIST = core::ptr::null_mut();
    // SAFETY: a writable out-pointer and a live parent list. PASSIVE_LEVEL.
    let status =
        unsafe { PcNewResourceSublist(&raw mut sub, core::ptr::null_mut(), NonPagedPool, full, 1) };
    assert!(NT_SUCCESS(status), "{status:#x}");
    // SAFETY: the live sublist just made.
    let vtable = unsafe { rdmus_driver::com::vtable(sub) };
    // SAFETY: both lists are live; the parent's first port range.
    let status =
        unsafe { (vtable.AddEntryFromParent)(sub, full, i32::from(CmResourceTypePort), 0) };
    assert!(NT_SUCCESS(status), "{status:#x}");
    // SAFETY: the parent's creation reference, ours.
    unsafe { release(full.cast()) };
    sub
}

#[test]
fn a_card_without_an_irq_renders_and_captures_by_polling() {
    let _lock = driver_lock();
    let machine = Machine::new(original_card());
    // The card has an IRQ line (9); the list PortCls hands the miniport withholds it.
    assert_eq!(
        machine.with(|m| m.mpu401().map(|c| c.config().irq)),
        Some(9)
    );
    let bound = Bound::new(machine, ports_only());
    let machine = &bound.machine;
    let filter = bound.filter();
    let render = filter.open_pin(0, PinFormat::Midi).expect("render");
    let capture = filter.open_pin(4, PinFormat::Midi).expect("capture");
    render.set_state(KSSTATE_RUN).expect("RUN");
    capture.set_state(KSSTATE_RUN).expect("RUN");
    render
        .write(0, &ksmusic_buffer(&[Message::new(0, &[0x90, 60, 100])]))
        .expect("write");
    let at = machine.now() + ms(3);
    machine.inject_midi_input(at, &[0x90, 64, 90, 66, 90]);
    machine.run_for(ms(30));
    let read = capture.read(256).expect("read");
    let records = read_ksmusic(&read.data, read.presentation_time.expect("captured"));
    let bytes: Vec<Vec<u8>> = records.iter().map(|r| r.bytes.clone()).collect();
    assert_eq!(bytes, [vec![0x90, 64, 90], vec![0x90, 66, 90]]);
    // Polled every millisecond: each message is stamped within a poll of its first byte.
    let first = i64::try_from(at).unwrap();
    assert!((records[0].time - first).abs() <= 20_000, "{records:?}");
    assert_eq!(wire_messages(&machine.wire_log()), [vec![0x90, 60, 100]]);
    assert_eq!(
        machine.isr_stats().all.count,
        0,
        "no interrupt was connected"
    );
    render.set_state(KSSTATE_STOP).expect("STOP");
    capture.set_state(KSSTATE_STOP).expect("STOP");
    render.close();
    capture.close();
    bound.finish();
}

/// A sender that stops inside a message must not hold back the clock bytes that arrived within
/// it: the polling capture DPC releases them once they have waited the parser's bound (5 ms),
/// each at its own arrival time. Without the release a clock byte would wait for the next input
/// byte, however late.
#[test]
fn clock_bytes_inside_a_stalled_message_are_not_held_back() {
    let _lock = driver_lock();
    let bound = Bound::new(Machine::new(original_card()), ports_only());
    let machine = &bound.machine;
    let capture = bound
        .filter()
        .open_pin(4, PinFormat::DirectMusic)
        .expect("capture");
    capture.set_state(KSSTATE_RUN).expect("RUN");
    let at = machine.now() + ms(3);
    // A controller change cut off after its first data byte, with a clock byte inside it.
    machine.inject_midi_input(at, &[0xB0, 0x07, 0xF8]);
    machine.run_for(ms(30));
    let read = capture.read(256).expect("read");
    let records = read_dmus(
        &read.data,
        read.presentation_time.expect("the clock byte came"),
    );
    let bytes: Vec<Vec<u8>> = records.iter().map(|r| r.bytes.clone()).collect();
    assert_eq!(bytes, [vec![0xF8]]);
    // Its arrival, two bytes after the first (320 µs a byte), within a poll (1 ms).
    let arrival = i64::try_from(at).unwrap() + 6_400;
    assert!((records[0].time - arrival).abs() <= 10_000, "{records:?}");
    capture.set_state(KSSTATE_STOP).expect("STOP");
    capture.close();
    bound.finish();
}
