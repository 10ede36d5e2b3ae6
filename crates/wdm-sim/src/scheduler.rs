//! The processor's scheduling: what runs when, in virtual time.
//!
//! Interrupts and DPCs are delivered like on a single Windows processor: whenever the kernel
//! gets control (a kernel call that advances the clock, lowers the IRQL or queues a DPC, and
//! the idle loop), a pending interrupt runs if the IRQL is below its DIRQL, then queued DPCs run
//! if the IRQL is below `DISPATCH_LEVEL`. Work items run only from the idle loop
//! ([`run_until`]), at `PASSIVE_LEVEL`. On a machine with a second processor
//! ([`MachineConfig::second_processor`](crate::MachineConfig::second_processor)) the driver's
//! DPCs run there instead: begun when queued, finished when processor 0 idles or waits. Busy-waiting (`KeStallExecutionProcessor`, port I/O)
//! moves the clock, so timers expire and interrupts arrive in the middle of it, exactly when
//! their time comes.

use alloc::string::ToString;

use crate::current::{fatal, with_state};
use crate::dispatch;
use crate::state::{MachineState, Ready};

/// Routines run at one instant after which the simulation calls it a livelock.
const LIVELOCK_RUNS: u32 = 1_000_000;

/// Runs every interrupt and DPC deliverable at the current IRQL.
pub fn service() {
    let mut runs = 0_u32;
    while let Some(ready) = with_state("scheduler", crate::state::MachineState::next_ready) {
        match ready {
            Ready::Interrupt(object) => dispatch::run_interrupt(object),
            Ready::Dpc(dpc) => dispatch::run_dpc(dpc),
        }
        runs += 1;
        if runs > LIVELOCK_RUNS {
            fatal(
                "SIMULATION_LIVELOCK: a million interrupts and DPCs without returning to the caller",
            );
        }
    }
}

/// Finishes the DPC running on the second processor (calls its routine at `DISPATCH_LEVEL`)
/// and begins the next one waiting for it; false if none was running. Processor 0 idles or
/// waits meanwhile, so it holds no spin lock.
pub fn finish_second_processor() -> bool {
    let Some(dpc) = with_state("second processor", MachineState::take_second_processor_dpc) else {
        return false;
    };
    let ex_timer = match &dpc {
        crate::state::ReadyDpc::ExTimer { timer, .. } => Some(*timer),
        _ => None,
    };
    dispatch::run_dpc(dpc);
    with_state("second processor", |m| {
        if let Some(timer) = ex_timer {
            m.timers.executive_callback_returned(timer);
        }
        m.begin_on_second_processor();
    });
    true
}

/// Busy-waits `ticks` of virtual time at the current IRQL (`KeStallExecutionProcessor`, a
/// port access): the clock moves event by event, each event's interrupts and DPCs running
/// when the IRQL allows; the wait ends at its target time (or later, if what ran took longer).
pub fn busy_wait(ticks: u64) {
    let target = with_state("scheduler", |m| m.now()) + ticks;
    loop {
        service();
        let stepped = with_state("scheduler", |m| match m.next_event_time() {
            Some(t) if t <= target && t > m.now() => {
                m.advance_to(t);
                true
            }
            _ => false,
        });
        check_watchdog();
        if !stepped {
            break;
        }
    }
    with_state("scheduler", |m| m.advance_to(target));
    check_watchdog();
    service();
}

fn check_watchdog() {
    if let Some(finding) = with_state("scheduler", |m| m.advance(0)) {
        let text = finding.to_string();
        with_state("scheduler", |m| m.record(finding));
        fatal(&text);
    }
}

/// The idle loop: runs everything due up to virtual time `target` in time order (timers,
/// device events, host events, interrupts, DPCs, work items), then leaves the clock at
/// `target`. Must be called at `PASSIVE_LEVEL` from outside any driver routine.
pub fn run_until(target: u64) {
    let mut runs_at_instant = 0_u32;
    let mut instant = with_state("run_until", |m| m.now());
    loop {
        // Processor 0 idles: a DPC running on the second processor gets to finish.
        finish_second_processor();
        service();
        if let Some(work) = with_state("run_until", crate::state::MachineState::next_work) {
            dispatch::run_work(work);
        } else {
            let stepped = with_state("run_until", |m| {
                let next = m.next_event_time().filter(|&t| t <= target);
                match next {
                    Some(t) => m.advance_to(t),
                    None if m.now() < target => m.advance_to(target),
                    None => return m.has_runnable_work(),
                }
                true
            });
            if !stepped {
                break;
            }
        }
        let now = with_state("run_until", |m| m.now());
        if now == instant {
            runs_at_instant += 1;
            if runs_at_instant > LIVELOCK_RUNS {
                fatal("SIMULATION_LIVELOCK: work keeps queueing work without virtual time passing");
            }
        } else {
            instant = now;
            runs_at_instant = 0;
        }
    }
}
