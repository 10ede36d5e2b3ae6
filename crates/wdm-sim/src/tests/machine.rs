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
