//! The MPU-401 miniport's render path end to end in the simulation: IRPs written to the
//! legacy (`KSMUSICFORMAT`) and DirectMusic (`DMUS_EVENTHEADER`) pins reach the emulated
//! card's wire as exactly the messages written, in order, each starting within a
//! millisecond of the ideal wire (early or late), with no verifier finding and no DPC over
//! its bound.
//!
//! The driver keeps process-wide state (adapter slots), so tests here take turns.
#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use dmus_sys::ks::{KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use mpu401_common::{
    Message, Rig, dmus_buffer, driver_lock, ideal_error, ksmusic_buffer, wire_messages,
};
use wdm_sim::portcls::PinFormat;
use wdm_sim::{MachineConfig, Mpu401Config, ms, us};

/// A short phrase with a chord, running over half a second.
fn phrase() -> Vec<Message> {
    let mut out = Vec::new();
    let mut t = 0;
    for (i, key) in [60u8, 64, 67, 72].iter().enumerate() {
        out.push(Message::new(t, &[0x90, *key, 100]));
        if i == 3 {
            out.push(Message::new(t, &[0x90, 48, 90]));
            out.push(Message::new(t, &[0x90, 55, 90]));
        }
        t += 1_000_000; // 100 ms
        out.push(Message::new(t, &[0x80, *key, 0]));
    }
    out.push(Message::new(t, &[0xC0, 5]));
    out.push(Message::new(t + 20_000, &[0xB0, 7, 127]));
    out
}

fn play(config: MachineConfig, format: PinFormat, pin_id: u32, messages: &[Message]) -> i64 {
    let rig = Rig::start(config);
    let pin = rig
        .filter()
        .open_pin(pin_id, format)
        .expect("the render pin opens");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let run_start = rig.now();
    let data = match format {
        PinFormat::Midi => ksmusic_buffer(messages),
        PinFormat::DirectMusic => dmus_buffer(messages),
    };
    let report = pin.write(0, &data).expect("write");
    assert_eq!(report.records, messages.len());
    assert_eq!(report.error, None);
    let end = messages.last().map_or(0, |m| m.time);
    rig.machine.run_for(u64::try_from(end).unwrap() + ms(100));
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    let wire = rig.machine.wire_log();
    assert_eq!(
        wire_messages(&wire),
        messages.iter().map(|m| m.bytes.clone()).collect::<Vec<_>>(),
        "the wire carries exactly the messages written, in order"
    );
    let (earliest, latest) = ideal_error(&wire, messages, run_start);
    println!(
        "  {format:?}: {} messages from {} us early to {} us late",
        messages.len(),
        -earliest / 10,
        latest / 10
    );
    rig.finish();
    latest.max(-earliest)
}

/// The original card (a one-byte FIFO) on a machine whose high-resolution timers fire on a
/// 0.5 ms grid (Windows' finest timer resolution).
fn original_card() -> MachineConfig {
    MachineConfig {
        high_res_resolution: us(500),
        ..MachineConfig::default()
    }
}

#[test]
fn legacy_pin_plays_a_phrase_on_time() {
    let _lock = driver_lock();
    let worst = play(original_card(), PinFormat::Midi, 0, &phrase());
    assert!(
        worst <= 10_000,
        "worst error against the ideal wire: {worst} x 100 ns"
    );
}

#[test]
fn directmusic_pin_plays_a_phrase_on_time() {
    let _lock = driver_lock();
    let worst = play(original_card(), PinFormat::DirectMusic, 1, &phrase());
    assert!(
        worst <= 10_000,
        "worst error against the ideal wire: {worst} x 100 ns"
    );
}

/// Plays a real file through both pins; prints the worst error for each machine.
fn play_file(name: &str) {
    let Some(path) = mpu401_common::shared_midi(name) else {
        eprintln!("skipped: ../shared/data/midi/jazz-soft/{name} is not there");
        return;
    };
    let messages = mpu401_common::smf_messages(&std::fs::read(path).unwrap());
    assert!(messages.len() > 5, "{name}: {} messages", messages.len());
    for (format, pin) in [(PinFormat::Midi, 0), (PinFormat::DirectMusic, 1)] {
        let worst = play(original_card(), format, pin, &messages);
        println!(
            "{name} {format:?}: {} messages, worst error {} us",
            messages.len(),
            worst / 10
        );
        assert!(
            worst <= 10_000,
            "{name} {format:?}: worst error {worst} x 100 ns"
        );
        let default_timers = play(MachineConfig::default(), format, pin, &messages);
        println!(
            "{name} {format:?} on 1 ms timers: worst error {} us",
            default_timers / 10
        );
    }
}

#[test]
fn a_real_file_plays_exactly_and_in_order() {
    let _lock = driver_lock();
    play_file("test-c-major-scale.mid");
}

#[test]
fn a_real_file_with_chords_and_sysex_plays_exactly_and_in_order() {
    let _lock = driver_lock();
    play_file("test-multichannel-chords-0.mid");
    play_file("test-running-status-sysex.mid");
    play_file("test-karaoke-kar.mid");
}

#[test]
fn a_card_with_a_deep_fifo_plays_chords_back_to_back() {
    let _lock = driver_lock();
    let config = MachineConfig {
        mpu401: Some(Mpu401Config {
            fifo_depth: 16,
            ..Mpu401Config::default()
        }),
        ..MachineConfig::default()
    };
    let worst = play(config, PinFormat::DirectMusic, 1, &phrase());
    assert!(worst <= 10_000, "worst error: {worst}");
}

#[test]
fn the_same_scenario_gives_the_same_wire_bit_for_bit() {
    let _lock = driver_lock();
    let run = || {
        let rig = Rig::start(original_card());
        let pin = rig
            .filter()
            .open_pin(1, PinFormat::DirectMusic)
            .expect("open");
        pin.set_state(KSSTATE_RUN).expect("RUN");
        pin.write(0, &dmus_buffer(&phrase())).expect("write");
        rig.machine.run_for(ms(600));
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
        let wire = rig.machine.wire_log();
        rig.finish();
        wire
    };
    let first = run();
    assert!(!first.is_empty());
    assert_eq!(first, run());
}

#[test]
fn pause_freezes_presentation_time_and_stop_flushes() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let pin = rig
        .filter()
        .open_pin(1, PinFormat::DirectMusic)
        .expect("open");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let start = rig.now();
    let messages = [
        Message::new(0, &[0x90, 60, 100]),
        Message::new(1_000_000, &[0x80, 60, 0]),
        Message::new(3_000_000, &[0x90, 62, 100]),
    ];
    pin.write(0, &dmus_buffer(&messages)).expect("write");
    rig.machine.run_for(ms(50));
    pin.set_state(KSSTATE_PAUSE).expect("PAUSE");
    rig.machine.run_for(ms(200));
    assert_eq!(
        rig.machine.wire_log().len(),
        3,
        "nothing plays while paused"
    );
    pin.set_state(KSSTATE_RUN).expect("RUN");
    rig.machine.run_for(ms(100));
    let wire = rig.machine.wire_log();
    assert_eq!(
        wire.len(),
        6,
        "the note-off after the pause: {wire:?} start {start}"
    );
    // Due 100 ms into the stream; the stream stood still for the 200 ms pause.
    let off = i64::try_from(wire[3].0).unwrap() - start;
    assert!((2_990_000..=3_010_000).contains(&off), "note-off at {off}");
    pin.set_state(KSSTATE_STOP).expect("STOP");
    rig.machine.run_for(ms(500));
    assert_eq!(
        rig.machine.wire_log().len(),
        6,
        "STOP flushed the last note"
    );
    pin.close();
    rig.finish();
}

#[test]
fn two_pins_at_once_never_interleave_messages() {
    let _lock = driver_lock();
    let rig = Rig::start(original_card());
    let filter = rig.filter();
    let legacy = filter.open_pin(0, PinFormat::Midi).expect("legacy");
    let dmusic = filter
        .open_pin(1, PinFormat::DirectMusic)
        .expect("DirectMusic");
    legacy.set_state(KSSTATE_RUN).expect("RUN");
    dmusic.set_state(KSSTATE_RUN).expect("RUN");
    // Every message collides with one from the other pin, at the same instant or while
    // the other is half on the wire.
    let notes = |base: u8, skew: i64| -> Vec<Message> {
        (0..40)
            .map(|i| Message::new(i64::from(i) * 20_000 + skew, &[0x90, base + i % 12, 100]))
            .collect()
    };
    let (a, b) = (notes(40, 0), notes(70, 2_000));
    legacy.write(0, &ksmusic_buffer(&a)).expect("write");
    dmusic.write(0, &dmus_buffer(&b)).expect("write");
    rig.machine.run_for(ms(1_000));
    for pin in [legacy, dmusic] {
        pin.set_state(KSSTATE_STOP).expect("STOP");
        pin.close();
    }
    let wire = wire_messages(&rig.machine.wire_log());
    assert!(wire.iter().all(|m| m.len() == 3), "whole messages only");
    let from = |base: u8| -> Vec<Vec<u8>> {
        wire.iter()
            .filter(|m| (base..base + 12).contains(&m[1]))
            .cloned()
            .collect()
    };
    let bytes = |messages: &[Message]| -> Vec<Vec<u8>> {
        messages.iter().map(|m| m.bytes.clone()).collect()
    };
    assert_eq!(from(40), bytes(&a), "the legacy pin's messages, in order");
    assert_eq!(
        from(70),
        bytes(&b),
        "the DirectMusic pin's messages, in order"
    );
    rig.finish();
}
