//! The machine installed on this thread: the kernel functions the driver calls find their
//! state here. Tests on other threads have their own, so parallel tests share nothing.

use alloc::rc::Rc;
use core::cell::RefCell;

use crate::state::MachineState;

std::thread_local! {
    static CURRENT: RefCell<Option<Rc<RefCell<MachineState>>>> = const { RefCell::new(None) };
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

/// Removes this thread's machine.
pub fn uninstall() {
    CURRENT.with(|current| current.borrow_mut().take());
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
