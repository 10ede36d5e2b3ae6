//! What stops the simulation outright, as a bugcheck stops Windows: a routine that never
//! returns (the watchdog), `KeBugCheckEx`, a kernel call with no machine. Each scenario runs in
//! a child process (the abort would end this one); the parent checks how it died.

use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::string::String;

use dmus_sys::kernel::{KDPC, PVOID};

use super::support::{inb, init_dpc, insert_dpc, outb, storage};
use crate::{Machine, MachineConfig, Mpu401Config, Mpu401Fault, ms};

const CHILD: &str = "WDM_SIM_FATAL_CHILD";

/// Runs the ignored test `name` in a child process; returns its stderr after checking that
/// it aborted (SIGABRT).
fn run_child(name: &str) -> String {
    let output = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "--exact",
            name,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, name)
        .output()
        .expect("child test process");
    assert_eq!(
        output.status.signal(),
        Some(6),
        "the child should abort: {output:?}"
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_child(name: &str) {
    assert_eq!(
        std::env::var(CHILD).as_deref(),
        Ok(name),
        "run by its parent test, in a child process"
    );
}

unsafe extern "system" fn dpc_waiting_for_drr_forever(_: *mut KDPC, _: PVOID, _: PVOID, _: PVOID) {
    while inb(0x331) & 0x40 != 0 {}
}

#[test]
#[ignore = "aborts; run in a child process by dpc_that_never_returns_trips_the_watchdog"]
fn child_watchdog() {
    assert_child("tests::fatal::child_watchdog");
    let config = MachineConfig {
        mpu401: Some(Mpu401Config {
            fault: Mpu401Fault::NeverDrains,
            ..Mpu401Config::default()
        }),
        watchdog: ms(10),
        ..MachineConfig::default()
    };
    let _machine = Machine::new(config);
    outb(0x331, 0x3F);
    outb(0x330, 0x90);
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(dpc_waiting_for_drr_forever), 0);
    insert_dpc(dpc);
    unreachable!("the watchdog stops the DPC");
}

#[test]
fn dpc_that_never_returns_trips_the_watchdog() {
    let stderr = run_child("tests::fatal::child_watchdog");
    assert!(
        stderr.contains("*** wdm-sim STOP: DPC_WATCHDOG_VIOLATION (133): DPC routine"),
        "{stderr}"
    );
    assert!(stderr.contains("(bound 10000.0 µs)"), "{stderr}");
}

#[test]
#[ignore = "aborts; run in a child process by bugcheck_stops_the_machine_with_the_code"]
fn child_bugcheck() {
    assert_child("tests::fatal::child_bugcheck");
    let _machine = Machine::new(MachineConfig::default());
    // SAFETY: no pointers; this call does not return.
    unsafe { crate::exports::debug::KeBugCheckEx(0x5244_4d55, 1, 2, 3, 4) };
}

#[test]
fn bugcheck_stops_the_machine_with_the_code() {
    let stderr = run_child("tests::fatal::child_bugcheck");
    assert!(stderr.contains("*** wdm-sim STOP: KeBugCheckEx: driver called KeBugCheckEx(0x52444d55, 0x1, 0x2, 0x3, 0x4)"), "{stderr}");
}

#[test]
#[ignore = "aborts; run in a child process by kernel_call_without_a_machine_fails_loudly"]
fn child_no_machine() {
    assert_child("tests::fatal::child_no_machine");
    inb(0x331);
}

#[test]
fn kernel_call_without_a_machine_fails_loudly() {
    let stderr = run_child("tests::fatal::child_no_machine");
    assert!(
        stderr.contains("wdm-sim: READ_PORT_UCHAR called with no Machine installed on this thread"),
        "{stderr}"
    );
}
