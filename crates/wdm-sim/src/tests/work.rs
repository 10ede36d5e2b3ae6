//! Work items run at `PASSIVE_LEVEL` from the idle loop; misuse is caught.

use dmus_sys::kernel::{DEVICE_OBJECT, PIO_WORKITEM, PVOID};

use super::support::{Seen, see, seen, storage};
use crate::exports::work;
use crate::{Finding, HostLevel, Machine, MachineConfig, ms};

unsafe extern "system" fn recording_work(_device: *mut DEVICE_OBJECT, _context: PVOID) {
    see("work");
}

fn queue(item: PIO_WORKITEM) {
    // SAFETY: a live handle and a routine callable at PASSIVE_LEVEL.
    unsafe { work::IoQueueWorkItem(item, Some(recording_work), 1, core::ptr::null_mut()) };
}

#[test]
fn work_item_runs_at_passive_from_the_idle_loop() {
    let machine = Machine::new(MachineConfig::default());
    let mut device = storage();
    // SAFETY: a live device object stand-in.
    let item = unsafe { work::IoAllocateWorkItem(device.as_ptr::<DEVICE_OBJECT>()) };
    queue(item);
    assert!(seen().is_empty(), "work items wait for a worker thread");
    machine.run_for(ms(1));
    assert_eq!(
        seen(),
        [Seen {
            what: "work",
            at: 0,
            irql: 0
        }]
    );
    // SAFETY: a live handle, not queued.
    unsafe { work::IoFreeWorkItem(item) };
    machine.unload_checks();
    assert!(machine.findings().is_empty());
}

#[test]
fn work_item_queued_twice_freed_while_queued_or_leaked_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    let mut device = storage();
    // SAFETY: a live device object stand-in.
    let item = unsafe { work::IoAllocateWorkItem(device.as_ptr::<DEVICE_OBJECT>()) };
    queue(item);
    queue(item);
    // SAFETY: a live handle.
    unsafe { work::IoFreeWorkItem(item) };
    machine.run_for(ms(1));
    assert!(seen().is_empty());
    // SAFETY: as above.
    let leaked = unsafe { work::IoAllocateWorkItem(device.as_ptr::<DEVICE_OBJECT>()) };
    machine.unload_checks();
    let findings = machine.take_findings();
    assert_eq!(findings.len(), 3, "{findings:?}");
    assert!(
        matches!(&findings[0], Finding::InvalidArgument { call: "IoQueueWorkItem", detail } if detail.contains("queued twice"))
    );
    assert!(
        matches!(&findings[1], Finding::InvalidArgument { call: "IoFreeWorkItem", detail } if detail.contains("freed while queued"))
    );
    assert_eq!(
        findings[2],
        Finding::ActiveAtUnload {
            kind: "IO_WORKITEM",
            object: leaked as usize
        }
    );
}

#[test]
fn host_callbacks_run_at_their_time_and_level() {
    let machine = Machine::new(MachineConfig::default());
    machine.schedule_host(
        ms(5),
        HostLevel::Dispatch,
        alloc::boxed::Box::new(|| see("host dispatch")),
    );
    machine.schedule_host(
        ms(3),
        HostLevel::Passive,
        alloc::boxed::Box::new(|| see("host passive")),
    );
    machine.run_until(ms(10));
    assert_eq!(
        seen(),
        [
            Seen {
                what: "host passive",
                at: ms(3),
                irql: 0
            },
            Seen {
                what: "host dispatch",
                at: ms(5),
                irql: 2
            }
        ]
    );
    assert_eq!(machine.now(), ms(10));
}
