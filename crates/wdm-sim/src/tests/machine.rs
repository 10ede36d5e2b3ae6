//! The machine's lifecycle: one per thread, strict by default, independent across threads.

use crate::current::try_current;
use crate::{Finding, Machine, MachineConfig, ms};

use super::support::now;

#[test]
fn a_machine_installs_itself_for_its_lifetime() {
    assert!(try_current().is_none());
    let machine = Machine::new(MachineConfig::default());
    assert!(try_current().is_some());
    machine.run_for(ms(3));
    assert_eq!(now(), ms(3));
    drop(machine);
    assert!(try_current().is_none());
}

#[test]
#[should_panic(expected = "already installed")]
fn a_second_machine_on_one_thread_is_refused() {
    let _first = Machine::new(MachineConfig::default());
    let _second = Machine::new(MachineConfig::default());
}

#[test]
#[should_panic(expected = "dropped with 1 unacknowledged finding(s)")]
fn a_strict_machine_dropped_with_findings_fails_the_test() {
    let machine = Machine::new(MachineConfig::default());
    machine.with(|m| m.record(Finding::FreeNullPool));
}

#[test]
fn a_lenient_machine_keeps_its_findings_to_itself() {
    let machine = Machine::new(MachineConfig {
        strict: false,
        ..MachineConfig::default()
    });
    machine.with(|m| m.record(Finding::FreeNullPool));
    assert_eq!(machine.findings(), [Finding::FreeNullPool]);
}

#[test]
fn machines_on_parallel_threads_share_nothing() {
    let handles: alloc::vec::Vec<_> = (1..=4)
        .map(|i| {
            std::thread::spawn(move || {
                let machine = Machine::new(MachineConfig::default());
                machine.run_for(ms(i));
                now()
            })
        })
        .collect();
    let times: alloc::vec::Vec<u64> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(times, [ms(1), ms(2), ms(3), ms(4)]);
}

#[test]
fn call_driver_sets_the_irql_and_checks_what_the_routine_left() {
    use super::support::{irql, raise};
    let machine = Machine::new(MachineConfig::default());
    let seen = crate::call_driver(0x1234, 2, irql);
    assert_eq!((seen, irql()), (2, 0));
    crate::call_driver(0x1234, 2, || raise(4));
    assert_eq!(irql(), 0);
    assert_eq!(
        machine.take_findings(),
        [Finding::RoutineChangedIrql {
            kind: crate::RoutineKind::DriverCall,
            routine: 0x1234,
            irql: 4,
            expected: 2
        }]
    );
}

#[test]
fn debug_print_and_performance_counter() {
    use crate::exports::{debug, hal};
    let machine = Machine::new(MachineConfig::default());
    machine.run_for(ms(2));
    // SAFETY: a NUL-terminated format with one integer argument.
    unsafe { debug::DbgPrintEx(81, 0, c"rdmus: %d events\\n".as_ptr(), 42, 0, 0) };
    assert_eq!(machine.debug_log(), ["rdmus: 42 events\\n"]);
    let mut frequency = dmus_sys::kernel::LARGE_INTEGER::from_quad(0);
    // SAFETY: a writable out-parameter.
    let counter = unsafe { hal::KeQueryPerformanceCounter(&raw mut frequency) };
    // SAFETY: both members cover the whole integer.
    let counter = unsafe { counter.QuadPart };
    // SAFETY: as above.
    let frequency = unsafe { frequency.QuadPart };
    assert_eq!((counter, frequency), (20_000, 10_000_000));
}

#[test]
fn running_the_clock_at_a_raised_irql_is_a_finding_and_does_not_hang() {
    use super::support::{init_dpc, insert_dpc, lower, raise, recording_dpc, seen, storage};
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<dmus_sys::kernel::KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    let old = raise(2);
    insert_dpc(dpc);
    machine.run_for(ms(1));
    assert!(seen().is_empty(), "a DPC cannot run at DISPATCH_LEVEL");
    lower(old);
    assert_eq!(seen().len(), 1, "lowering the IRQL delivers it");
    assert_eq!(
        machine.take_findings(),
        [Finding::IrqlTooHigh {
            call: "Machine::run_until",
            irql: 2,
            max: 0
        }]
    );
}

#[test]
fn dropping_the_machine_rechecks_only_after_new_allocations() {
    use crate::exports::pool::{ExAllocatePool2, ExFreePoolWithTag};
    use dmus_sys::kernel::POOL_FLAG_NON_PAGED;
    let machine = Machine::new(MachineConfig::default());
    // SAFETY: no pointers.
    let leaked = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, super::support::TAG) };
    machine.unload_checks();
    assert_eq!(machine.take_findings().len(), 1, "the leak, acknowledged");
    assert!(machine.with(|m| m.unload_checked()));
    // SAFETY: no pointers.
    let more = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, super::support::TAG) };
    assert!(
        !machine.with(|m| m.unload_checked()),
        "new driver activity re-arms the drop-time check"
    );
    // SAFETY: both blocks came from ExAllocatePool2 with this tag.
    unsafe { ExFreePoolWithTag(more, super::support::TAG) };
    // SAFETY: as above.
    unsafe { ExFreePoolWithTag(leaked, super::support::TAG) };
    drop(machine);
}

#[test]
fn next_due_names_the_next_thing_the_machine_does_on_its_own() {
    use crate::state::HostLevel;
    let machine = Machine::new(MachineConfig::default());
    assert_eq!(machine.next_due(), None, "a new machine has nothing to do");
    machine.schedule_host(ms(5), HostLevel::Dispatch, alloc::boxed::Box::new(|| {}));
    machine.schedule_host(ms(9), HostLevel::Passive, alloc::boxed::Box::new(|| {}));
    assert_eq!(machine.next_due(), Some(ms(5)));
    // Due and queued but not run yet: runnable now.
    machine.with(|m| m.advance_to(ms(5)));
    assert_eq!(machine.next_due(), Some(ms(5)));
    machine.run_pending();
    assert_eq!(machine.next_due(), Some(ms(9)));
    machine.run_until(ms(9));
    assert_eq!(machine.next_due(), None);
}
