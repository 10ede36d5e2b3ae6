//! The test's handle on its simulated machine: creating it installs it on the thread, dropping
//! it runs the unload checks and, on a strict machine, fails the test with every finding
//! nobody took.

use alloc::rc::Rc;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;
use core::marker::PhantomData;

use crate::config::MachineConfig;
use crate::cpu::PASSIVE_LEVEL;
use crate::current;
use crate::finding::Finding;
use crate::scheduler;
use crate::state::{HostCallback, HostLevel, MachineState};
use crate::stats::DurationStats;

/// One simulated machine, installed on the creating thread for as long as it lives. The
/// driver's kernel calls on this thread reach it.
///
/// ```
/// use wdm_sim::{Machine, MachineConfig, Mpu401Config, ms, us};
///
/// let config = MachineConfig {
///     mpu401: Some(Mpu401Config { fifo_depth: 16, ..Mpu401Config::default() }),
///     high_res_resolution: us(500),
///     ..MachineConfig::default()
/// };
/// let machine = Machine::new(config);
/// // ... load the driver and open a pin through the port model ...
/// machine.inject_midi_input(ms(1), &[0x90, 0x3C, 0x40]);
/// machine.run_for(ms(10));
/// // No driver listened, so nothing reached the wire and nothing broke a rule.
/// assert!(machine.wire_log().is_empty());
/// assert_eq!(machine.dpc_stats().all.count, 0);
/// assert!(machine.take_findings().is_empty());
/// ```
pub struct Machine {
    state: Rc<RefCell<MachineState>>,
    /// A machine belongs to its thread.
    _not_send: PhantomData<*const ()>,
}

impl Machine {
    /// Builds a machine from `config` and installs it on this thread.
    ///
    /// # Panics
    /// If this thread already has a machine.
    #[must_use]
    pub fn new(config: MachineConfig) -> Self {
        let state = Rc::new(RefCell::new(MachineState::new(config)));
        current::install(Rc::clone(&state));
        Self {
            state,
            _not_send: PhantomData,
        }
    }

    /// Runs `f` on the machine's state. Never call the driver or a kernel function inside `f`
    /// (the state is borrowed; the simulation would stop with a re-entrancy message).
    pub fn with<R>(&self, f: impl FnOnce(&mut MachineState) -> R) -> R {
        f(&mut self.state.borrow_mut())
    }

    /// Virtual time in 100 ns ticks.
    #[must_use]
    pub fn now(&self) -> u64 {
        self.state.borrow().now()
    }

    /// Runs the machine up to virtual time `t`: timers expire in time order, device and host
    /// events happen, interrupts, DPCs and work items run. The clock ends at `t` (or later if
    /// a routine was still running past it).
    pub fn run_until(&self, t: u64) {
        self.with(|m| m.check_call("Machine::run_until", PASSIVE_LEVEL, false));
        scheduler::run_until(t);
    }

    /// When the machine next has something to do on its own: now if an interrupt, DPC or work
    /// item is runnable, else the earliest armed timer, injected device byte or scheduled host
    /// event; `None` when nothing will happen until the test calls into it. A caller that
    /// waits for something outside the machine (an application's next write) can run straight
    /// to it when this is later: [`Machine::run_until`] would find nothing to do before it.
    #[must_use]
    pub fn next_due(&self) -> Option<u64> {
        let state = self.state.borrow();
        if state.has_runnable_work() {
            Some(state.now())
        } else {
            state.next_event_time()
        }
    }

    /// When the earliest armed timer (`KTIMER` or `EX_TIMER`) expires, if one is armed.
    #[must_use]
    pub fn next_timer_expiry(&self) -> Option<u64> {
        self.state.borrow().timers.next_expiry()
    }

    /// Moves the clock to `t` as if processor 0 were busy all the while in the test's own code:
    /// timers expire and device and host events happen, but processor 0 runs nothing (queued
    /// DPCs run at its next kernel call or idle). On a machine with a second processor the
    /// DPCs that become due begin there, so a test can then make processor 0 tear down what a
    /// running DPC uses.
    pub fn advance_without_idling(&self, t: u64) {
        self.state.borrow_mut().advance_to(t);
    }

    /// Runs the machine for `d` ticks.
    pub fn run_for(&self, d: u64) {
        self.run_until(self.now() + d);
    }

    /// Runs whatever is due now (queued DPCs, work items) without moving the clock.
    pub fn run_pending(&self) {
        self.run_until(self.now());
    }

    /// Findings so far (cloned; they still count as unacknowledged).
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        self.state.borrow().findings().to_vec()
    }

    /// Takes the findings: a test that expects findings acknowledges them this way.
    #[must_use]
    pub fn take_findings(&self) -> Vec<Finding> {
        self.state.borrow_mut().take_findings()
    }

    /// The MIDI wire log so far: (start of the byte in ticks, byte).
    #[must_use]
    pub fn wire_log(&self) -> Vec<(u64, u8)> {
        self.state.borrow_mut().wire_log()
    }

    /// Schedules MIDI input on the MPU-401: `bytes` arrive back to back (one byte time
    /// apart), the first at `at`.
    pub fn inject_midi_input(&self, at: u64, bytes: &[u8]) {
        self.state.borrow_mut().inject_midi_input(at, bytes);
    }

    /// Schedules a host callback (see [`MachineState::schedule_host`]).
    pub fn schedule_host(&self, at: u64, level: HostLevel, callback: HostCallback) {
        self.state.borrow_mut().schedule_host(at, level, callback);
    }

    /// The MPU-401's counters (bytes sent, overruns, ACKs, input lost, interrupts), if the
    /// machine has one.
    #[must_use]
    pub fn mpu401_stats(&self) -> Option<crate::emulated_card::Mpu401Stats> {
        self.state.borrow_mut().mpu401().map(|mpu| mpu.stats())
    }

    /// DPC and timer-callback durations.
    #[must_use]
    pub fn dpc_stats(&self) -> DurationStats {
        self.state.borrow().dpc_stats().clone()
    }

    /// ISR durations.
    #[must_use]
    pub fn isr_stats(&self) -> DurationStats {
        self.state.borrow().isr_stats().clone()
    }

    /// Lines printed with `DbgPrintEx`.
    #[must_use]
    pub fn debug_log(&self) -> Vec<String> {
        self.state.borrow().debug_log().to_vec()
    }

    /// Runs the unload checks now (the port model calls this after `DriverUnload`); dropping
    /// the machine runs them again if the driver allocated anything since.
    pub fn unload_checks(&self) {
        self.state.borrow_mut().unload_checks();
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        let (findings, strict) = {
            let mut state = self.state.borrow_mut();
            if !state.unload_checked() {
                state.unload_checks();
            }
            (state.take_findings(), state.config().strict)
        };
        current::uninstall();
        if strict && !findings.is_empty() && !std::thread::panicking() {
            let list: Vec<String> = findings.iter().map(|f| alloc::format!("  {f}")).collect();
            panic!(
                "wdm-sim: the machine was dropped with {} unacknowledged finding(s) (take expected ones with take_findings()):\n{}",
                findings.len(),
                list.join("\n")
            );
        }
    }
}
