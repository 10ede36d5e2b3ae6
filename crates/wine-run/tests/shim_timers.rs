//! wineshim.sys's timer and DPC routines, driven directly under Wine by `shim_probe.c` (built
//! here with mingw-w64 beside the shim, run as a console program in a copy of this checkout's
//! template prefix): the return values of set, cancel and remove; due times never early
//! (relative and absolute); a DPC re-arming its own timer from inside itself; no wait for a
//! running DPC; a cancelled-and-removed DPC never running; a periodic timer; `KeFlushQueuedDpcs`
//! waiting for the running DPC and the one queued behind it, and returning at once with none;
//! the unload ending the timer thread at once; and, in further processes, the bug check when
//! the shim is unloaded with a timer still queued, and when a DPC calls `KeFlushQueuedDpcs`.
//!
//! Skipped, saying why, without wine or without mingw-w64's gcc.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use wine_run::process::{Finished, run_bounded};
use wine_run::shim::SUPPLIED;
use wine_run::{WineError, prefix};

const PROBE_SOURCE: &str = include_str!("shim_probe.c");

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// A Wine prefix (a copy of the template) with the probe and the shim built into `dir`.
struct Bench {
    wine: PathBuf,
    wineserver: PathBuf,
    prefix: PathBuf,
    probe: PathBuf,
    log: PathBuf,
}

impl Bench {
    /// `None` (skipped, said why) without wine or mingw-w64.
    fn new(dir: &Path) -> Option<Self> {
        let (wine, wineserver) = match wine_run::find_wine() {
            Ok(found) => found,
            Err(error) => {
                eprintln!("skipped: {error}");
                return None;
            }
        };
        // The shim as the bench builds it, for an image that imports exactly the supplied
        // routines (the module each comes from is what the image names).
        let imports: Vec<(String, String)> = SUPPLIED
            .iter()
            .map(|name| {
                let module = if *name == "KeStallExecutionProcessor" {
                    "hal.dll"
                } else {
                    "ntoskrnl.exe"
                };
                (module.to_owned(), (*name).to_owned())
            })
            .collect();
        match wine_run::shim::build(dir, &imports) {
            Ok(_) => {}
            Err(WineError::Missing(what)) => {
                eprintln!("skipped: missing {what}");
                return None;
            }
            Err(error) => panic!("building the shim: {error}"),
        }
        let source = dir.join("shim_probe.c");
        std::fs::write(&source, PROBE_SOURCE).unwrap();
        let probe = dir.join("shim_probe.exe");
        let log = dir.join("wine.log");
        let _ = std::fs::remove_file(&log);
        let built = run_bounded(
            Command::new("x86_64-w64-mingw32-gcc")
                .args(["-O2", "-Wall", "-Wextra", "-Werror", "-o"])
                .arg(&probe)
                .arg(&source),
            &dir.join("probe-build.log"),
            Duration::from_secs(60),
        )
        .expect("gcc runs");
        assert!(
            built.status.success(),
            "building the probe: {}",
            std::fs::read_to_string(dir.join("probe-build.log")).unwrap_or_default()
        );
        let template = target_dir().join("wine/template");
        prefix::ensure_template(&template, &wine, &wineserver, &log).expect("template prefix");
        let prefix = dir.join("prefix");
        prefix::copy_template(&template, &prefix).expect("prefix copy");
        Some(Self {
            wine,
            wineserver,
            prefix,
            probe,
            log,
        })
    }

    fn environment<'a>(&self, command: &'a mut Command) -> &'a mut Command {
        command
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
            .env("WINEDEBUG", "err+all,warn-all,fixme-all")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
    }

    /// Runs the probe in `mode`; its stdout, and Wine's stderr (the log) from this run.
    fn probe(&self, mode: &str) -> (Finished, String) {
        let before = std::fs::read(&self.log).map_or(0, |text| text.len());
        let started = Instant::now();
        let finished = run_bounded(
            self.environment(Command::new(&self.wine).arg(&self.probe).arg(mode)),
            &self.log,
            Duration::from_secs(60),
        )
        .unwrap_or_else(|error| panic!("shim_probe {mode}: {error}"));
        println!(
            "shim_probe {mode}: {:.1} s under Wine, exit {:?}",
            started.elapsed().as_secs_f64(),
            finished.status.code()
        );
        let log = std::fs::read(&self.log).unwrap_or_default();
        let stderr = String::from_utf8_lossy(&log[before.min(log.len())..]).into_owned();
        (finished, stderr)
    }
}

impl Drop for Bench {
    fn drop(&mut self) {
        let _ = run_bounded(
            self.environment(Command::new(&self.wineserver).arg("-k")),
            &self.log,
            Duration::from_secs(30),
        );
    }
}

#[test]
fn the_shims_timers_behave_as_windows_documents_them() {
    let dir = target_dir().join("wine-run-tests/shim-probe");
    let Some(bench) = Bench::new(&dir) else {
        return;
    };
    let (finished, stderr) = bench.probe("semantics");
    print!("{}", finished.stdout);
    let checks: Vec<&str> = finished.stdout.lines().collect();
    let expected = [
        "set_and_cancel_return_values",
        "due_times",
        "rearm_from_own_dpc",
        "no_wait_for_a_running_dpc",
        "removed_dpc_does_not_run",
        "periodic",
        "flush_waits_for_running_and_queued",
        "flush_idle",
        "back_to_back_flushes",
        "unload",
    ];
    for name in expected {
        assert!(
            checks
                .iter()
                .any(|line| line.starts_with(&format!("ok {name}: "))),
            "{name} did not pass:\n{}\n{stderr}",
            finished.stdout
        );
    }
    assert!(
        !checks.iter().any(|line| line.starts_with("FAIL")),
        "{}",
        finished.stdout
    );
    assert_eq!(finished.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("KeBugCheck"), "{stderr}");

    // Unloading the shim with a timer still queued is a driver bug Windows stops on (0xC7).
    let (finished, stderr) = bench.probe("leak");
    let left = finished
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("leaving timer "))
        .and_then(|rest| rest.strip_suffix(" queued"))
        .map(|address| address.trim_start_matches('0').to_ascii_lowercase())
        .expect("the probe names the timer it leaves");
    let bug_check = stderr
        .lines()
        .find(|line| line.contains("KeBugCheckEx"))
        .unwrap_or_else(|| panic!("no bug check at unload:\n{}\n{stderr}", finished.stdout));
    println!("unloaded with timer {left} queued: {bug_check}");
    assert!(
        bug_check.contains(&format!("KeBugCheckEx c7 0 {left} ")),
        "{bug_check}"
    );
    assert!(!finished.stdout.contains("FAIL"), "{}", finished.stdout);

    // KeFlushQueuedDpcs from a DPC (DISPATCH_LEVEL on Windows) would wait for itself: 0xC4.
    let (finished, stderr) = bench.probe("flush_in_dpc");
    let dpc = finished
        .stdout
        .lines()
        .find_map(|line| line.strip_prefix("flushing from DPC "))
        .map(|address| address.trim_start_matches('0').to_ascii_lowercase())
        .expect("the probe names the DPC that flushes");
    let bug_check = stderr
        .lines()
        .find(|line| line.contains("KeBugCheckEx"))
        .unwrap_or_else(|| panic!("no bug check:\n{}\n{stderr}", finished.stdout));
    println!("KeFlushQueuedDpcs from DPC {dpc}: {bug_check}");
    assert!(
        bug_check.contains(&format!("KeBugCheckEx c4 1000 {dpc} ")),
        "{bug_check}"
    );
    assert!(!finished.stdout.contains("FAIL"), "{}", finished.stdout);
}
