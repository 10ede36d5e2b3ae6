//! Timers expire on quantised ticks and their DPCs run at `DISPATCH_LEVEL` at exactly those
//! times; DPC durations are measured and bounded.

use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;

use dmus_sys::kernel::{
    EX_TIMER_HIGH_RESOLUTION, FALSE, KDPC, KSPIN_LOCK, KTIMER, PEX_TIMER, PVOID, TRUE,
};

use super::support::{
    Seen, acquire, cancel_timer, init_dpc, init_timer, insert_dpc, irql, lower, raise,
    recording_dpc, release, see, seen, set_timer, stall, storage,
};
use crate::exports::{dpc_timer, sync};
use crate::{Finding, Machine, MachineConfig, RoutineKind, RoutineStats, ms, us};

fn dpc_at(at: u64) -> Seen {
    Seen {
        what: "dpc",
        at,
        irql: 2,
    }
}

#[test]
fn ke_set_timer_fires_on_the_next_15_625_ms_tick_at_dispatch_level() {
    let machine = Machine::new(MachineConfig::default());
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    machine.run_until(ms(1));
    // Due 2 ms after 1 ms = 3 ms: expires on the first clock tick, 15.625 ms.
    assert!(!set_timer(timer, -20_000, 0, dpc));
    machine.run_until(ms(40));
    assert_eq!(seen(), [dpc_at(156_250)]);
    // An absolute due time exactly on a tick expires on that tick.
    assert!(!set_timer(timer, 468_750, 0, dpc));
    machine.run_until(ms(60));
    assert_eq!(seen(), [dpc_at(468_750)]);
    assert!(machine.findings().is_empty());
}

#[test]
fn clock_interval_is_configurable() {
    let machine = Machine::new(MachineConfig {
        clock_interval: ms(1),
        ..MachineConfig::default()
    });
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -25_000, 0, dpc);
    machine.run_until(ms(10));
    assert_eq!(seen(), [dpc_at(30_000)]);
}

#[test]
fn periodic_timer_rearms_from_its_tick_until_cancelled() {
    let machine = Machine::new(MachineConfig::default());
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -100_000, 20, dpc);
    machine.run_until(ms(120));
    assert_eq!(
        seen(),
        [
            dpc_at(156_250),
            dpc_at(468_750),
            dpc_at(781_250),
            dpc_at(1_093_750)
        ]
    );
    assert!(cancel_timer(timer));
    assert!(!cancel_timer(timer));
    machine.run_until(ms(300));
    assert!(seen().is_empty());
}

#[test]
fn past_due_timer_runs_its_dpc_before_ke_set_timer_ex_returns_at_passive() {
    let machine = Machine::new(MachineConfig::default());
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    machine.run_until(ms(2));
    set_timer(timer, 0, 0, dpc);
    assert_eq!(seen(), [dpc_at(20_000)]);
    assert_eq!(irql(), 0);
}

unsafe extern "system" fn recording_ex_timer(_timer: PEX_TIMER, _context: PVOID) {
    see("ex");
}

fn allocate_ex_timer(attributes: u32) -> PEX_TIMER {
    // SAFETY: the callback runs at DISPATCH_LEVEL and ignores its context.
    let timer = unsafe {
        dpc_timer::ExAllocateTimer(Some(recording_ex_timer), core::ptr::null_mut(), attributes)
    };
    assert!(!timer.is_null());
    timer
}

fn ex_set(timer: PEX_TIMER, due: i64, period: i64) -> bool {
    // SAFETY: a live handle; NULL parameters are allowed.
    unsafe { dpc_timer::ExSetTimer(timer, due, period, core::ptr::null_mut()) == TRUE }
}

fn ex_delete(timer: PEX_TIMER) -> bool {
    // SAFETY: a live handle.
    unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, FALSE, core::ptr::null_mut()) == TRUE }
}

fn ex_at(at: u64) -> Seen {
    Seen {
        what: "ex",
        at,
        irql: 2,
    }
}

#[test]
fn high_resolution_timer_is_quantised_to_the_settable_resolution() {
    for (resolution, expected) in [(ms(1), 30_000), (us(500), 25_000)] {
        let machine = Machine::new(MachineConfig {
            high_res_resolution: resolution,
            ..MachineConfig::default()
        });
        let timer = allocate_ex_timer(EX_TIMER_HIGH_RESOLUTION);
        machine.run_until(us(300));
        // Due 2.1 ms after 0.3 ms = 2.4 ms.
        assert!(!ex_set(timer, -21_000, 0));
        machine.run_until(ms(10));
        assert_eq!(seen(), [ex_at(expected)], "resolution {resolution}");
        assert!(!ex_delete(timer));
        drop(machine);
    }
}

#[test]
fn periodic_high_resolution_timer_ticks_every_period() {
    let machine = Machine::new(MachineConfig::default());
    let timer = allocate_ex_timer(EX_TIMER_HIGH_RESOLUTION);
    ex_set(timer, -25_000, 10_000);
    machine.run_until(ms(6));
    let fired_at: Vec<u64> = seen().iter().map(|s| s.at).collect();
    assert_eq!(fired_at, [30_000, 40_000, 50_000, 60_000]);
    assert!(ex_delete(timer));
    machine.run_until(ms(20));
    assert!(seen().is_empty());
}

#[test]
fn ordinary_ex_timer_uses_the_clock_interval() {
    let machine = Machine::new(MachineConfig::default());
    let timer = allocate_ex_timer(0);
    ex_set(timer, -21_000, 0);
    machine.run_until(ms(20));
    assert_eq!(seen(), [ex_at(156_250)]);
    ex_delete(timer);
}

#[test]
fn ex_timer_never_deleted_is_active_at_unload() {
    let machine = Machine::new(MachineConfig::default());
    let timer = allocate_ex_timer(0);
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::ActiveAtUnload {
            kind: "EX_TIMER",
            object: timer as usize
        }]
    );
}

#[test]
fn dpc_queued_at_passive_runs_at_once_and_at_dispatch_after_the_lock_is_released() {
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    machine.run_until(us(10));
    assert!(insert_dpc(dpc));
    assert_eq!(seen(), [dpc_at(100)]);
    let mut lock: KSPIN_LOCK = 0;
    let old = acquire(&mut lock);
    assert!(insert_dpc(dpc));
    assert!(!insert_dpc(dpc), "already queued");
    stall(5);
    see("still in lock");
    release(&mut lock, old);
    assert_eq!(
        seen(),
        [
            Seen {
                what: "still in lock",
                at: 150,
                irql: 2
            },
            dpc_at(150)
        ]
    );
}

#[test]
fn removing_a_queued_dpc_keeps_it_from_running() {
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    let old = raise(2);
    insert_dpc(dpc);
    // SAFETY: live test storage.
    assert_eq!(unsafe { dpc_timer::KeRemoveQueueDpc(dpc) }, TRUE);
    lower(old);
    machine.run_for(ms(1));
    assert!(seen().is_empty());
}

#[test]
fn dpc_durations_are_recorded_per_routine_and_quiet_under_the_bound() {
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 50);
    insert_dpc(dpc);
    insert_dpc(dpc);
    let stats = machine.dpc_stats();
    assert_eq!(
        stats.routine(recording_dpc as *const () as usize),
        Some(RoutineStats {
            count: 2,
            total: 1_000,
            longest: 500
        })
    );
    assert_eq!(stats.all.count, 2);
    assert!(machine.findings().is_empty());
}

#[test]
fn dpc_over_the_bound_is_reported_once_with_the_longest_run() {
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 150);
    insert_dpc(dpc);
    init_dpc(dpc, Some(recording_dpc), 200);
    insert_dpc(dpc);
    let routine = recording_dpc as *const () as usize;
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [Finding::RoutineTooLong {
            kind: RoutineKind::Dpc,
            routine,
            longest: 2_000,
            over: 2,
            bound: 1_000
        }]
    );
    assert!(
        findings[0]
            .to_string()
            .starts_with("DPC_WATCHDOG_VIOLATION (133): DPC routine")
    );
    assert!(
        findings[0]
            .to_string()
            .ends_with("ran 200.0 µs (bound 100.0 µs); 2 run(s) over the bound")
    );
}

#[test]
fn dpc_bound_is_configurable() {
    let machine = Machine::new(MachineConfig {
        dpc_bound: us(300),
        ..MachineConfig::default()
    });
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 200);
    insert_dpc(dpc);
    assert!(machine.findings().is_empty());
}

unsafe extern "system" fn dpc_leaving_dispatch(_: *mut KDPC, _: PVOID, _: PVOID, _: PVOID) {
    raise(5);
}

unsafe extern "system" fn dpc_keeping_a_lock(_: *mut KDPC, context: PVOID, _: PVOID, _: PVOID) {
    // SAFETY: the context is a live KSPIN_LOCK the test owns.
    unsafe { sync::KeAcquireSpinLockAtDpcLevel(context.cast()) };
}

#[test]
fn dpc_returning_at_another_irql_or_holding_a_lock_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let mut d = storage();
    let dpc = d.as_ptr::<KDPC>();
    init_dpc(dpc, Some(dpc_leaving_dispatch), 0);
    insert_dpc(dpc);
    let mut lock: KSPIN_LOCK = 0;
    init_dpc(dpc, Some(dpc_keeping_a_lock), (&raw mut lock) as usize);
    insert_dpc(dpc);
    assert_eq!(irql(), 0, "the sim restores the IRQL");
    assert_eq!(
        machine.take_findings(),
        vec![
            Finding::RoutineChangedIrql {
                kind: RoutineKind::Dpc,
                routine: dpc_leaving_dispatch as *const () as usize,
                irql: 5,
                expected: 2
            },
            Finding::RoutineReturnedHoldingLock {
                kind: RoutineKind::Dpc,
                routine: dpc_keeping_a_lock as *const () as usize,
                lock: (&raw mut lock) as usize
            },
        ]
    );
}

#[test]
fn uninitialised_timer_and_dpc_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    assert!(!set_timer(timer, -1, 0, core::ptr::null_mut()));
    assert!(!insert_dpc(dpc));
    assert_eq!(
        machine.take_findings(),
        [
            Finding::UninitializedObject {
                call: "KeSetTimerEx",
                kind: "KTIMER",
                object: timer as usize
            },
            Finding::UninitializedObject {
                call: "KeInsertQueueDpc",
                kind: "KDPC",
                object: dpc as usize
            },
        ]
    );
}

#[test]
fn timer_still_set_at_unload_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let mut t = storage();
    let timer = t.as_ptr::<KTIMER>();
    init_timer(timer);
    set_timer(timer, -1_000_000, 0, core::ptr::null_mut());
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::ActiveAtUnload {
            kind: "KTIMER",
            object: timer as usize
        }]
    );
}

#[test]
fn a_timer_expiring_during_a_passive_stall_runs_its_dpc_on_time_and_the_stall_ends_on_time() {
    let machine = Machine::new(MachineConfig::default());
    let (mut t, mut d) = (storage(), storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 30);
    init_timer(timer);
    set_timer(timer, -100_000, 0, dpc);
    stall(20_000);
    see("stall done");
    assert_eq!(
        seen(),
        [
            dpc_at(156_250),
            Seen {
                what: "stall done",
                at: 200_000,
                irql: 0
            }
        ]
    );
    assert!(machine.findings().is_empty());
}

#[test]
fn null_kernel_objects_are_findings_not_crashes() {
    let machine = Machine::new(MachineConfig::default());
    init_dpc(core::ptr::null_mut(), Some(recording_dpc), 0);
    // SAFETY: NULL is what is being checked.
    let old = unsafe { sync::KeAcquireSpinLockRaiseToDpc(core::ptr::null_mut()) };
    assert_eq!((old, irql()), (0, 0));
    set_timer(core::ptr::null_mut(), -1, 0, core::ptr::null_mut());
    assert_eq!(
        machine.take_findings(),
        [
            Finding::NullArgument {
                call: "KeInitializeDpc",
                argument: "Dpc"
            },
            Finding::NullArgument {
                call: "KeAcquireSpinLockRaiseToDpc",
                argument: "SpinLock"
            },
            Finding::NullArgument {
                call: "KeSetTimerEx",
                argument: "Timer"
            },
        ]
    );
}

#[test]
fn a_timer_deleted_without_cancel_fires_once_more_and_its_handle_is_dead() {
    let machine = Machine::new(MachineConfig::default());
    let timer = allocate_ex_timer(EX_TIMER_HIGH_RESOLUTION);
    ex_set(timer, -20_000, 0);
    // SAFETY: a live handle.
    let cancelled = unsafe { dpc_timer::ExDeleteTimer(timer, FALSE, FALSE, core::ptr::null_mut()) };
    assert_eq!(cancelled, FALSE);
    assert!(!ex_set(timer, -10_000, 0), "the deleted handle is refused");
    machine.run_until(ms(5));
    assert_eq!(seen(), [ex_at(20_000)]);
    assert_eq!(
        machine.take_findings(),
        [Finding::UninitializedObject {
            call: "ExSetTimer",
            kind: "EX_TIMER",
            object: timer as usize
        }]
    );
    machine.unload_checks();
    assert!(machine.findings().is_empty(), "deleted after it fired");
}
