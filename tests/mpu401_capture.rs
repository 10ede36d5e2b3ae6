//! The MPU-401 miniport's capture path end to end in the simulation: bytes arriving at the
//! emulated card's input are drained by the ISR with a timestamp each, parsed by the capture
//! DPC (running status, realtime bytes inside sysex) and read back through the capture pin in
//! both formats, each message stamped by the arrival of its own first byte.
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use mpu401_common::{Captured, Rig, driver_lock, original_card, read_dmus, read_ksmusic};
use wdm_sim::portcls::PinFormat;
use wdm_sim::{ms, us};

/// Pin 4 is the capture pin (see the descriptor).
const CAPTURE_PIN: u32 = 4;

/// Note on, a second note on in running status, a sysex with a clock byte in its middle,
/// and a note off: arriving back to back, 320 µs a byte.
const INPUT: [u8; 15] = [
    0x90, 60, 100, 62, 100, 0xF0, 0x7E, 0x7F, 0xF8, 0x09, 0x01, 0xF7, 0x80, 60, 0,
];

/// Master time at which byte `index` of [`INPUT`] has arrived when the first arrives at `at`.
fn arrival(at: u64, index: usize) -> i64 {
    i64::try_from(at).unwrap() + 3_200 * i64::try_from(index).unwrap()
}

fn capture(format: PinFormat) -> (Vec<Captured>, u64) {
    let rig = Rig::start(original_card());
    let pin = rig
        .filter()
        .open_pin(CAPTURE_PIN, format)
        .expect("the capture pin opens");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let at = rig.machine.now() + ms(2);
    rig.machine.inject_midi_input(at, &INPUT);
    rig.machine.run_for(ms(20));
    let read = pin.read(4_096).expect("read");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    let start = read.presentation_time.expect("something was captured");
    let records = match format {
        PinFormat::Midi => read_ksmusic(&read.data, start),
        PinFormat::DirectMusic => read_dmus(&read.data, start),
    };
    assert_eq!(records.len(), read.records);
    rig.finish();
    (records, at)
}

/// Checks what came back, with `tolerance` on each time (100 ns).
fn check(records: &[Captured], at: u64, tolerance: i64) {
    let find = |bytes: &[u8]| {
        records
            .iter()
            .find(|r| r.bytes == bytes)
            .unwrap_or_else(|| panic!("{bytes:02x?} in {records:02x?}"))
    };
    let near = |record: &Captured, index: usize| {
        let want = arrival(at, index);
        assert!(
            (record.time - want).abs() <= tolerance,
            "{record:02x?} stamped {} against its first byte's {want}",
            record.time
        );
    };
    near(find(&[0x90, 60, 100]), 0);
    near(find(&[0x90, 62, 100]), 3);
    near(find(&[0xF8]), 8);
    near(find(&[0x80, 60, 0]), 12);
    // Everything that is not a channel message or the clock byte is the sysex, in pieces.
    let sysex: Vec<u8> = records
        .iter()
        .filter(|r| !matches!(r.bytes[0], 0x80..=0xEF | 0xF8))
        .flat_map(|r| r.bytes.iter().copied())
        .collect();
    assert_eq!(
        sysex,
        [0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7],
        "{records:02x?}"
    );
    let order: Vec<u8> = records.iter().map(|r| r.bytes[0]).collect();
    let first_note = order.iter().position(|&b| b == 0x90).unwrap();
    let note_off = order.iter().position(|&b| b == 0x80).unwrap();
    assert!(first_note < note_off, "in arrival order: {order:02x?}");
}

#[test]
fn legacy_capture_keeps_running_status_and_realtime_inside_sysex() {
    let _lock = driver_lock();
    let (records, at) = capture(PinFormat::Midi);
    // KSMUSICFORMAT carries whole milliseconds.
    check(&records, at, 10_000);
}

#[test]
fn directmusic_capture_stamps_each_message_by_its_first_byte() {
    let _lock = driver_lock();
    let (records, at) = capture(PinFormat::DirectMusic);
    check(&records, at, u64_to_i64(us(50)));
    let note = records.iter().find(|r| r.bytes == [0x90, 60, 100]).unwrap();
    assert!(note.structured, "a whole message is DMUS_EVENT_STRUCTURED");
    let pieces = records
        .iter()
        .filter(|r| !matches!(r.bytes[0], 0x80..=0xEF | 0xF8));
    for piece in pieces {
        assert!(
            !piece.structured,
            "sysex travels unstructured: {piece:02x?}"
        );
    }
}

fn u64_to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap()
}

#[test]
fn input_outside_run_and_pause_is_thrown_away() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let pin = rig
        .filter()
        .open_pin(CAPTURE_PIN, PinFormat::Midi)
        .expect("the capture pin opens");
    pin.set_state(KSSTATE_ACQUIRE).expect("ACQUIRE");
    rig.machine
        .inject_midi_input(rig.machine.now() + ms(1), &[0x90, 1, 2]);
    rig.machine.run_for(ms(10));
    pin.set_state(KSSTATE_PAUSE).expect("PAUSE");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    rig.machine.run_for(ms(10));
    let stale = pin.read(256).expect("read");
    assert_eq!(stale.records, 0, "ACQUIRE drops input: {stale:?}");
    rig.machine
        .inject_midi_input(rig.machine.now() + ms(1), &[0xC0, 7]);
    rig.machine.run_for(ms(10));
    let fresh = pin.read(256).expect("read");
    assert_eq!(fresh.records, 1);
    assert_eq!(&fresh.data[8..10], &[0xC0, 7]);
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    rig.finish();
}

#[test]
fn a_long_sysex_arrives_whole_in_pieces() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let pin = rig
        .filter()
        .open_pin(CAPTURE_PIN, PinFormat::DirectMusic)
        .expect("the capture pin opens");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let sysex: Vec<u8> = core::iter::once(0xF0)
        .chain((0..300u32).map(|i| u8::try_from(i % 128).unwrap()))
        .chain(core::iter::once(0xF7))
        .collect();
    let at = rig.machine.now() + ms(1);
    rig.machine.inject_midi_input(at, &sysex);
    rig.machine
        .inject_midi_input(at + 3_200 * 302, &[0x90, 1, 2]);
    rig.machine.run_for(ms(150));
    let read = pin.read(8_192).expect("read");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    let records = read_dmus(&read.data, read.presentation_time.expect("captured"));
    let (note, pieces) = records.split_last().expect("records");
    assert_eq!(
        note.bytes,
        [0x90, 1, 2],
        "the note after the sysex comes last"
    );
    let joined: Vec<u8> = pieces
        .iter()
        .flat_map(|r| r.bytes.iter().copied())
        .collect();
    assert_eq!(
        joined,
        sysex,
        "every byte, in order, across {} pieces",
        pieces.len()
    );
    // Each piece is stamped by its own first byte.
    let mut offset = 0;
    for piece in pieces {
        let want = arrival(at, offset);
        assert!((piece.time - want).abs() <= 500, "{piece:02x?} vs {want}");
        offset += piece.bytes.len();
    }
    rig.finish();
}
