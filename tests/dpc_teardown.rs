//! A stream closed while its timer's DPC runs on another processor: the driver must not free
//! the timer's `KTIMER`/`KDPC` or the stream before that DPC has finished. The simulated
//! machine has a second processor (`MachineConfig::second_processor`): the stream's timer
//! expires while the test (processor 0) is busy, so its DPC is running there, not queued, when
//! the pin is stopped and closed; freeing pool the running DPC still uses is a finding.
//!
//! Both timer paths: the `KeSetTimerEx` fallback (a down-level kernel: Windows 8, Wine), whose
//! teardown waits with `KeFlushQueuedDpcs`, and the high-resolution `EX_TIMER`, whose
//! `ExDeleteTimer(Cancel, Wait)` waits. The routine table is process-wide (one image per
//! kernel), so this file is its own test binary and its tests take turns through one lock.

#![allow(
    clippy::doc_markdown,
    reason = "the docs use the DDK's names (DirectMusic, PortCls) as prose"
)]

mod mpu401_common;

use std::sync::MutexGuard;

use dmus_sys::imports::PcNewResourceSublist;
use dmus_sys::kernel::{CmResourceTypePort, NT_SUCCESS, NonPagedPool};
use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::portcls::PRESOURCELIST;
use mpu401_common::{Bound, release};
use wdm_sim::portcls::{Driver, PinFormat, Resources};
use wdm_sim::{DOWN_LEVEL_MISSING_ROUTINES, Machine, MachineConfig, ms};

fn driver_lock() -> MutexGuard<'static, ()> {
    mpu401_common::driver_lock()
}

/// KSMUSICFORMAT record: delta, byte count, bytes, padded to a DWORD.
fn ksmusic(delta_ms: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&delta_ms.to_le_bytes());
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Two processors; `missing` hides routines as a down-level kernel does.
fn two_processors(missing: &'static [&'static str]) -> MachineConfig {
    MachineConfig {
        dpc_bound: ms(1),
        missing_routines: missing,
        second_processor: true,
        ..MachineConfig::default()
    }
}

/// Writes a burst of note-ons longer than the card holds through the UART's render pin, so
/// the stream arms its timer to send the rest; lets that timer expire while the test is busy, so its DPC is running on the second processor; then stops and closes the
/// pin, and unloads. Returns every finding.
fn close_while_the_timer_dpc_runs(config: MachineConfig) -> Vec<String> {
    let machine = Machine::new(config);
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry succeeds");
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::of_machine()).expect("StartDevice");
    let filter = device.filter("UART").expect("the UART subdevice");
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    // 32 note-ons at once: 96 bytes, about 31 ms of wire, far more than the card holds, so
    // the stream keeps the rest and arms its timer to retry.
    let irp: Vec<u8> = (0..32_u8)
        .flat_map(|key| ksmusic(0, &[0x90, 40 + key, 100]))
        .collect();
    pin.write(0, &irp).expect("write");
    machine.run_for(ms(1));
    let due = machine
        .next_timer_expiry()
        .expect("the stream's timer is armed to send the rest");
    machine.run_until(due - 1);
    machine.advance_without_idling(due);
    assert_eq!(
        machine.with(|m| m.second_processor_backlog()),
        1,
        "the timer's DPC has begun on the other processor"
    );
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    device.stop();
    device.remove();
    driver.unload();
    machine.run_pending();
    machine.unload_checks();
    machine
        .take_findings()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn closing_a_kernel_timer_stream_waits_for_its_running_dpc() {
    let _lock = driver_lock();
    let findings = close_while_the_timer_dpc_runs(two_processors(DOWN_LEVEL_MISSING_ROUTINES));
    assert!(
        findings.is_empty(),
        "the KeSetTimerEx stream freed memory its running DPC uses:\n{}",
        findings.join("\n")
    );
}

#[test]
fn closing_a_high_resolution_timer_stream_waits_for_its_running_callback() {
    let _lock = driver_lock();
    let findings = close_while_the_timer_dpc_runs(two_processors(&[]));
    assert!(
        findings.is_empty(),
        "the EX_TIMER stream freed memory its running callback uses:\n{}",
        findings.join("\n")
    );
}

/// The card's resources without its interrupt (as `mpu401_polled.rs`): the capture stream
/// then polls the card from its own timer.
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

/// A polled capture stream (a card without an IRQ) closed while its poll timer's DPC runs on
/// the other processor; returns every finding.
fn close_capture_while_its_poll_runs(config: MachineConfig) -> Vec<String> {
    let machine = Machine::new(config);
    // DriverEntry fills the routine table this kernel's streams use.
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry succeeds");
    let bound = Bound::new(machine, ports_only());
    let machine = &bound.machine;
    let capture = bound
        .filter()
        .open_pin(4, PinFormat::Midi)
        .expect("capture");
    capture.set_state(KSSTATE_RUN).expect("RUN");
    let due = machine
        .next_timer_expiry()
        .expect("the capture stream polls from its timer");
    machine.run_until(due - 1);
    machine.advance_without_idling(due);
    assert_eq!(
        machine.with(|m| m.second_processor_backlog()),
        1,
        "the poll DPC has begun on the other processor"
    );
    capture.set_state(KSSTATE_STOP).expect("STOP");
    capture.close();
    bound.device.stop();
    bound.device.remove();
    driver.unload();
    machine.run_pending();
    machine.unload_checks();
    machine
        .take_findings()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn closing_a_polled_capture_stream_waits_for_its_running_poll_on_both_timer_paths() {
    let _lock = driver_lock();
    for (kernel, missing) in [
        ("down-level (KeSetTimerEx)", DOWN_LEVEL_MISSING_ROUTINES),
        ("current (EX_TIMER)", &[][..]),
    ] {
        let findings = close_capture_while_its_poll_runs(two_processors(missing));
        assert!(
            findings.is_empty(),
            "{kernel}: the capture stream freed memory its running poll uses:\n{}",
            findings.join("\n")
        );
    }
}
