//! The machine installed on this thread: the kernel functions the driver calls find their
//! state here. Tests on other threads have their own, so parallel tests share nothing.
//!
//! Also whose code runs on this thread, for the host's driver heap
//! ([`DriverHeap`](crate::DriverHeap)): the driver's (a routine the simulation entered, and
//! no kernel function of the simulation inside it), or anyone else's.

use alloc::rc::Rc;
use core::cell::{Cell, RefCell};

use crate::state::MachineState;

std::thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<MachineState>>>> = const { RefCell::new(None) };
    /// Whose code runs, innermost last (see [`Runner`]). A `Cell` of a small `Copy` value:
    /// every allocation of the process and every kernel call reads or changes it.
    static RUNNERS: Cell<Runners> = const { Cell::new(Runners::new()) };
}

/// Whose code runs at one level of this thread's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Runner {
    /// A driver routine the simulation called.
    Driver,
    /// A test's host callback.
    Host,
    /// The simulation's own kernel code ([`with_state`], [`KernelCode`]).
    Kernel,
}

impl Runner {
    const fn code(self) -> u128 {
        match self {
            Self::Driver => 1,
            Self::Host => 2,
            Self::Kernel => 3,
        }
    }

    const fn of_code(code: u128) -> Self {
        match code {
            1 => Self::Driver,
            2 => Self::Host,
            _ => Self::Kernel,
        }
    }
}

/// How deep whose-code-runs is followed (two bits a level in a `u128`); deeper levels are
/// counted, not recorded (their code counts as the deepest recorded level's). Kernel code
/// nests a few levels per driver routine, and routines nest a few deep.
const MAX_RUNNERS: u32 = 64;

/// A fixed stack of [`Runner`]s (no allocation: the global allocator reads it).
#[derive(Clone, Copy, Debug)]
struct Runners {
    /// Level `i` in bits `2i..2i + 2`.
    levels: u128,
    depth: u32,
    /// Levels pushed past [`MAX_RUNNERS`] (popped first).
    unrecorded: u32,
}

impl Runners {
    const fn new() -> Self {
        Self {
            levels: 0,
            depth: 0,
            unrecorded: 0,
        }
    }

    const fn level(&self, index: u32) -> Runner {
        Runner::of_code((self.levels >> (2 * index)) & 3)
    }

    const fn set_level(&mut self, index: u32, runner: Runner) {
        self.levels = (self.levels & !(3 << (2 * index))) | (runner.code() << (2 * index));
    }

    fn top(&self) -> Option<Runner> {
        self.depth.checked_sub(1).map(|top| self.level(top))
    }

    fn push(&mut self, runner: Runner) {
        if self.depth < MAX_RUNNERS {
            self.set_level(self.depth, runner);
            self.depth += 1;
        } else {
            self.unrecorded += 1;
        }
    }

    fn pop(&mut self) {
        if self.unrecorded > 0 {
            self.unrecorded -= 1;
        } else {
            self.depth = self.depth.saturating_sub(1);
        }
    }

    /// A routine was entered from inside kernel code (the top level): it runs once that
    /// kernel code returns, so it goes just below it.
    fn enter_below_top(&mut self, runner: Runner) {
        let Some(top) = self.top() else {
            self.push(runner);
            return;
        };
        if self.unrecorded > 0 || self.depth == MAX_RUNNERS {
            self.unrecorded += 1;
            return;
        }
        self.set_level(self.depth - 1, runner);
        self.set_level(self.depth, top);
        self.depth += 1;
    }

    /// The routine just below the top level returned.
    fn leave_below_top(&mut self) {
        if self.unrecorded > 0 {
            self.unrecorded -= 1;
            return;
        }
        if self.depth >= 2 {
            let top = self.level(self.depth - 1);
            self.set_level(self.depth - 2, top);
            self.depth -= 1;
        } else {
            self.depth = 0;
        }
    }
}

fn with_runners(f: impl FnOnce(&mut Runners)) {
    let _ = RUNNERS.try_with(|runners| {
        let mut changed = runners.get();
        f(&mut changed);
        runners.set(changed);
    });
}

/// Whether the driver's code runs now on this thread: a routine the simulation called
/// (`call_driver`, a DPC, timer, ISR, synchronized routine or work item) and no kernel
/// function of the simulation inside it, with a machine installed. False while the thread's
/// locals are being torn down.
#[must_use]
pub fn driver_running() -> bool {
    RUNNERS
        .try_with(|runners| runners.get().top() == Some(Runner::Driver))
        .unwrap_or(false)
        && CURRENT
            .try_with(|current| current.try_borrow().is_ok_and(|c| c.is_some()))
            .unwrap_or(false)
}

/// A routine is entered, from inside kernel code: the driver's (`driver`) or a test's host
/// callback. `MachineState::enter_routine` calls this.
pub(crate) fn enter_routine(driver: bool) {
    let runner = if driver { Runner::Driver } else { Runner::Host };
    with_runners(|runners| runners.enter_below_top(runner));
}

/// The routine entered last returns, seen from inside kernel code.
pub(crate) fn leave_routine() {
    with_runners(Runners::leave_below_top);
}

/// The simulation's own code runs while this lives (kernel functions, the `PortCls` model's
/// objects called by the driver): what it allocates is the host's, never the driver's pool.
/// A driver routine it calls runs as the driver's again.
pub(crate) struct KernelCode(());

impl KernelCode {
    /// Marks kernel code running until the guard drops.
    pub(crate) fn enter() -> Self {
        with_runners(|runners| runners.push(Runner::Kernel));
        Self(())
    }
}

impl Drop for KernelCode {
    fn drop(&mut self) {
        with_runners(Runners::pop);
    }
}

/// Installs `state` as this thread's machine.
///
/// # Panics
/// If a machine is already installed on this thread.
pub fn install(state: Rc<RefCell<MachineState>>) {
    CURRENT.with(|current| {
        let mut current = current.borrow_mut();
        assert!(
            current.is_none(),
            "wdm-sim: a Machine is already installed on this thread; one machine per test"
        );
        *current = Some(state);
    });
}

/// Removes this thread's machine. What the driver heap still holds of its pool is forgotten
/// (the pool goes with the machine; the unload checks reported it as leaked).
pub fn uninstall() {
    CURRENT.with(|current| current.borrow_mut().take());
    crate::driver_heap::orphan_all();
}

/// This thread's machine, if one is installed.
#[must_use]
pub fn try_current() -> Option<Rc<RefCell<MachineState>>> {
    CURRENT.with(|current| current.borrow().clone())
}

/// Runs `f` on this thread's machine, on behalf of the kernel function `call`.
///
/// # Panics
/// If no machine is installed (a kernel call outside any test machine fails loudly; from an
/// `extern "system"` function this aborts the test process with the message), or if the
/// machine is already borrowed (a simulation bug: state borrowed while driver code ran).
pub fn with_state<R>(call: &str, f: impl FnOnce(&mut MachineState) -> R) -> R {
    let _kernel = KernelCode::enter();
    let Some(state) = try_current() else {
        panic!(
            "wdm-sim: {call} called with no Machine installed on this thread (create a wdm_sim::Machine first)"
        )
    };
    let Ok(mut state) = state.try_borrow_mut() else {
        panic!(
            "wdm-sim: {call} re-entered the machine while its state was borrowed (never call the driver inside Machine::with)"
        )
    };
    f(&mut state)
}

/// Stops the process with the findings so far: what the simulation does where Windows would
/// have bugchecked and the test cannot go on (a routine that never returns, `KeBugCheckEx`).
pub fn fatal(reason: &str) -> ! {
    let findings = try_current()
        .and_then(|s| s.try_borrow().ok().map(|s| s.findings().to_vec()))
        .unwrap_or_default();
    std::eprintln!("*** wdm-sim STOP: {reason}");
    for finding in &findings {
        std::eprintln!("***   {finding}");
    }
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::{MAX_RUNNERS, Runner, Runners};

    #[test]
    fn a_routine_entered_inside_kernel_code_runs_once_that_code_returns() {
        let mut runners = Runners::new();
        assert_eq!(runners.top(), None);
        // with_state: kernel code; inside it the simulation enters a driver routine.
        runners.push(Runner::Kernel);
        runners.enter_below_top(Runner::Driver);
        assert_eq!(runners.top(), Some(Runner::Kernel));
        runners.pop();
        assert_eq!(runners.top(), Some(Runner::Driver), "the routine runs");
        // The driver calls a kernel function, which calls a host callback.
        runners.push(Runner::Kernel);
        runners.enter_below_top(Runner::Host);
        runners.pop();
        assert_eq!(runners.top(), Some(Runner::Host));
        // The callback returns (seen from kernel code), then that kernel code returns.
        runners.push(Runner::Kernel);
        runners.leave_below_top();
        runners.pop();
        assert_eq!(runners.top(), Some(Runner::Driver), "back in the routine");
        runners.push(Runner::Kernel);
        runners.leave_below_top();
        runners.pop();
        assert_eq!(runners.top(), None);
    }

    #[test]
    fn levels_past_the_recorded_depth_are_counted_and_popped_first() {
        let mut runners = Runners::new();
        for _ in 0..MAX_RUNNERS {
            runners.push(Runner::Driver);
        }
        runners.push(Runner::Kernel);
        runners.enter_below_top(Runner::Host);
        assert_eq!(
            runners.top(),
            Some(Runner::Driver),
            "the deepest recorded level"
        );
        runners.leave_below_top();
        runners.pop();
        assert_eq!(runners.depth, MAX_RUNNERS);
        for _ in 0..MAX_RUNNERS {
            runners.pop();
        }
        assert_eq!(runners.top(), None);
    }
}
