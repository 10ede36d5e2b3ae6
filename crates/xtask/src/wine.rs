//! `cargo xtask wine-smoke` (a step of `cargo xtask test`): the packaged x64 rdmus.sys loads
//! under Wine's kernel with the stand-in portcls.sys (`crates/portcls-standin`, built here),
//! `DriverEntry` returns `STATUS_SUCCESS`, `sc stop` unloads it, and nothing fatal happens
//! (`crates/wine-run` does the run; its docs list each step and its bound).
//!
//! Also checked from Wine's own trace: `DriverEntry` looks up the six late-bound routines with
//! `MmGetSystemRoutineAddress` and Wine 8.0 has none of them, so the driver runs on its
//! fallbacks (`driver/kernel_routines.rs`). The first run makes a template prefix under
//! `<target>/wine/template` (about 30 s on two cores); later runs copy it and take seconds.

use std::time::Duration;

use wine_run::{WineError, WineRun};

use crate::cmd::{self, TaskError, TaskResult};
use crate::image::Machine;

/// How many routines the driver resolves at `DriverEntry` (dmus-sys's `LATE_BOUND_ROUTINES`).
const LATE_BOUND_ROUTINES: usize = 6;

/// Runs the smoke run and prints its figures.
///
/// # Errors
/// Wine is missing, the package or the stand-in cannot be built or found, or the driver did
/// not load, return `STATUS_SUCCESS` and unload cleanly.
pub fn smoke() -> TaskResult {
    let rdmus_sys = crate::package::package_root()
        .join(Machine::Amd64.package_dir())
        .join("rdmus.sys");
    if !rdmus_sys.is_file() {
        return Err(TaskError::new(format!(
            "{} is missing: run `cargo xtask package` first",
            rdmus_sys.display()
        )));
    }
    wine_run::find_wine().map_err(to_task)?;
    let portcls_sys = crate::standin::build()?;
    let wine_dir = cmd::target_dir().join("wine");
    let spec = WineRun {
        rdmus_sys,
        portcls_sys,
        extra_modules: Vec::new(),
        job: None,
        out_dir: wine_dir.join("smoke"),
        template: wine_dir.join("template"),
        job_timeout: Duration::from_secs(10),
    };
    let outcome = wine_run::run(&spec).map_err(to_task)?;
    let trace = &outcome.trace;
    println!(
        "wine smoke: {:.1} s (prefix copy to teardown); sc start: {}; DriverEntry: {}; \
         MmGetSystemRoutineAddress: {} lookups, {} found; unload called: {}, returned: {}; \
         sc stop: {}; log {}",
        outcome.elapsed.as_secs_f64(),
        if outcome.started { "RUNNING" } else { "failed" },
        trace
            .entry_status
            .map_or_else(|| String::from("did not return"), |s| format!("{s:#010x}")),
        trace.routine_lookups.len(),
        trace.routine_lookups.iter().filter(|&&a| a != 0).count(),
        trace.unload_called,
        trace.unload_returned,
        if outcome.stopped {
            "STOPPED"
        } else {
            "not stopped"
        },
        outcome.log.display()
    );
    for line in &trace.fatal {
        println!("  FATAL: {line}");
    }
    if !outcome.loaded_and_unloaded() {
        return Err(TaskError::new(
            "rdmus.sys did not load, return STATUS_SUCCESS from DriverEntry and unload cleanly under Wine",
        ));
    }
    if trace.routine_lookups.len() != LATE_BOUND_ROUTINES {
        return Err(TaskError::new(format!(
            "DriverEntry looked up {} routines, expected {LATE_BOUND_ROUTINES}",
            trace.routine_lookups.len()
        )));
    }
    Ok(())
}

#[allow(clippy::needless_pass_by_value, reason = "used as map_err(to_task)")]
fn to_task(error: WineError) -> TaskError {
    TaskError::new(error.to_string())
}
