//! `cargo xtask wine-smoke` (a step of `cargo xtask test`): the packaged x64 rdmus.sys loads
//! under Wine's kernel with the stand-in portcls.sys (`crates/portcls-standin`, built here),
//! `DriverEntry` returns `STATUS_SUCCESS`, `sc stop` unloads it, and nothing fatal happens
//! (`crates/wine-run` does the run; its docs list each step and its bound).
//!
//! Then `rdmus play --runtime wine` against `--runtime sim` on short real files from the shared
//! data ([`PLAY_FILES`]: both devices, both pin formats): the wire's bytes in the same order,
//! the WAV bit for bit; each Wine run's wall time and the wire's lateness are printed.
//! (crates/rdmus-cli/tests/wine_runtime.rs checks more of it in `cargo test`.)
//!
//! Also checked from Wine's own trace: `DriverEntry` looks up the six late-bound routines with
//! `MmGetSystemRoutineAddress` and Wine 8.0 has none of them, so the driver runs on its
//! fallbacks (`driver/kernel_routines.rs`). The first run makes a template prefix under
//! `<target>/wine/template` (about 30 s on two cores); later runs copy it and take seconds.

use std::path::Path;
use std::time::{Duration, Instant};

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
    report("shipped image", &outcome, &["rdmus.sys", "portcls.sys"])?;

    // The bench's copy: kernel imports through wineshim.sys (crates/wine-run/src/shim.rs).
    let (image, shim, shimmed) =
        wine_run::shim::prepare(&spec.rdmus_sys, &wine_dir.join("shim")).map_err(to_task)?;
    println!(
        "bench copy {}: {} ranges differ from the shipped image:",
        image.display(),
        shimmed.changes.len()
    );
    for change in &shimmed.changes {
        println!(
            "  {:#07x}: {:02x?} -> {:02x?} ({})",
            change.offset, change.before, change.after, change.what
        );
    }
    let job = cmd::workspace_root().join("crates/portcls-standin/wine/example-job.txt");
    let rdmus_sys = spec.rdmus_sys.clone();
    let shimmed_spec = WineRun {
        rdmus_sys: image,
        extra_modules: vec![shim],
        job: Some(job.clone()),
        out_dir: wine_dir.join("play"),
        ..spec
    };
    let outcome = wine_run::run(&shimmed_spec).map_err(to_task)?;
    report(
        "bench copy + wineshim.sys, playing the stand-in's example job",
        &outcome,
        &["rdmus.sys", "portcls.sys", "wineshim.sys"],
    )?;
    check_play(&outcome, &job)?;
    play_comparisons(&rdmus_sys, &shimmed_spec.portcls_sys)
}

/// The files `rdmus play --runtime wine` plays against `--runtime sim`: (file under the shared
/// data, device, pin format). Short: single notes; chords, a sysex and a 19-byte burst.
pub const PLAY_FILES: [(&str, &str, &str); 3] = [
    ("midi/jazz-soft/test-c-major-scale.mid", "mpu401", "ksmusic"),
    (
        "midi/jazz-soft/test-gs-doggy-01-00-7b.mid",
        "mpu401",
        "dmus",
    ),
    ("midi/jazz-soft/test-c-major-scale.mid", "synth", "dmus"),
];

/// The GM bank the synth plays with.
const BANK: &str = "dls/sf_GMbank.dls";

/// Plays [`PLAY_FILES`] with the `rdmus` command under both runtimes and compares the wire
/// logs and the WAVs.
fn play_comparisons(rdmus_sys: &Path, portcls_sys: &Path) -> TaskResult {
    let bank = test_data::path(BANK);
    if !bank.is_file() {
        println!(
            "wine play: skipped: {} is absent (the shared data)",
            bank.display()
        );
        return Ok(());
    }
    cmd::run(cmd::cargo().args(["build", "--package", "rdmus-cli", "--bin", "rdmus"]))?;
    let rdmus = cmd::target_dir().join("debug").join("rdmus");
    let out_dir = cmd::target_dir().join("wine").join("compare");
    std::fs::create_dir_all(&out_dir).map_err(|error| cmd::io_error("create", &out_dir, &error))?;
    for (relative, device, format) in PLAY_FILES {
        let file = test_data::path(relative);
        if !file.is_file() {
            println!("wine play: skipped: {} is absent", file.display());
            continue;
        }
        let stem = format!(
            "{}-{device}-{format}",
            file.file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned())
        );
        let output = |runtime: &str| {
            let extension = if device == "synth" { "wav" } else { "tsv" };
            out_dir.join(format!("{stem}.{runtime}.{extension}"))
        };
        let play = |runtime: &str| -> TaskResult<(String, Duration)> {
            let mut command = std::process::Command::new(&rdmus);
            command.arg("play").arg(&file).args([
                "--device",
                device,
                "--format",
                format,
                "--runtime",
                runtime,
            ]);
            if device == "synth" {
                command
                    .arg("--dls")
                    .arg(&bank)
                    .arg("--wav")
                    .arg(output(runtime));
            } else {
                command.arg("--wire").arg(output(runtime));
            }
            if runtime == "wine" {
                command
                    .arg("--image")
                    .arg(rdmus_sys)
                    .arg("--standin")
                    .arg(portcls_sys);
            }
            let started = Instant::now();
            let stdout = cmd::output(&mut command)?;
            Ok((stdout, started.elapsed()))
        };
        play("sim")?;
        let (stdout, wall) = play("wine")?;
        let (sim, wine) = (read(&output("sim"))?, read(&output("wine"))?);
        let same = if device == "synth" {
            sim == wine
        } else {
            bytes_column(&sim) == bytes_column(&wine) && !bytes_column(&sim).is_empty()
        };
        let detail = if device == "synth" {
            format!("WAV {} bytes, bit-identical: {same}", wine.len())
        } else {
            format!(
                "wire {} bytes, same bytes in the same order: {same}; {}",
                bytes_column(&wine).len(),
                stdout
                    .lines()
                    .find(|line| line.starts_with("lateness:"))
                    .unwrap_or("lateness: not printed")
                    .trim_start_matches("lateness:")
                    .trim()
            )
        };
        println!(
            "wine play {relative} ({device}, {format}): {:.1} s under Wine; {detail}",
            wall.as_secs_f64()
        );
        if !same {
            return Err(TaskError::new(format!(
                "{relative} ({device}, {format}): Wine and the simulation differ: compare {} and {}",
                output("wine").display(),
                output("sim").display()
            )));
        }
    }
    Ok(())
}

fn read(path: &Path) -> TaskResult<Vec<u8>> {
    std::fs::read(path).map_err(|error| cmd::io_error("read", path, &error))
}

/// The hex column of a wire log, in order.
fn bytes_column(tsv: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(tsv)
        .lines()
        .skip_while(|line| line.starts_with("time_us"))
        .filter_map(|line| line.split_once('\t').map(|(_, hex)| hex.to_owned()))
        .collect()
}

/// The job run's outputs: the stand-in finished `ok`, the wire log has the job's bytes, and
/// after the unload the stand-in holds no pool block and no object (`unload.txt`).
fn check_play(outcome: &wine_run::Outcome, job: &std::path::Path) -> TaskResult {
    let read = |name: &str| {
        outcome
            .outputs
            .iter()
            .find(|path| path.file_name().is_some_and(|file| file == name))
            .and_then(|path| std::fs::read_to_string(path).ok())
            .ok_or_else(|| TaskError::new(format!("the stand-in wrote no {name}")))
    };
    let done = read("done.txt")?;
    if !outcome.job_done || done.trim() != "ok" {
        return Err(TaskError::new(format!(
            "the job did not finish ok (done.txt: {:?}); see standin.log beside it",
            done.trim()
        )));
    }
    let wire = read("wire.tsv")?;
    let wire_bytes: Vec<String> = wire
        .lines()
        .skip_while(|line| line.starts_with("time_us"))
        .filter_map(|line| line.split_once('\t'))
        .flat_map(|(_, hex)| hex.split_whitespace().map(str::to_ascii_lowercase))
        .collect();
    let job_bytes: Vec<String> = std::fs::read_to_string(job)
        .map_err(|error| cmd::io_error("read", job, &error))?
        .lines()
        .filter_map(|line| line.strip_prefix("event "))
        .flat_map(|rest| rest.split_whitespace().skip(1).map(str::to_ascii_lowercase))
        .collect();
    let unload = read("unload.txt")?;
    let leaks: Vec<&str> = unload
        .lines()
        .filter(|line| {
            line.split_once('\t').is_some_and(|(name, value)| {
                (name.ends_with("_outstanding") || name == "objects_alive") && value.trim() != "0"
            })
        })
        .collect();
    println!(
        "wine play: done.txt ok; wire.tsv {} bytes, the job's {} event bytes, same order: {}; \
         after unload: {}",
        wire_bytes.len(),
        job_bytes.len(),
        wire_bytes == job_bytes,
        if leaks.is_empty() {
            "no pool block or object left"
        } else {
            "LEAKS"
        }
    );
    if wire_bytes != job_bytes {
        return Err(TaskError::new(format!(
            "the wire carried {wire_bytes:?}, the job's events are {job_bytes:?}"
        )));
    }
    if !leaks.is_empty() {
        return Err(TaskError::new(format!("unload.txt reports {leaks:?}")));
    }
    Ok(())
}

/// Prints one run's figures; fails unless the driver loaded, succeeded and unloaded, with
/// each of `modules` loaded as a native module.
fn report(what: &str, outcome: &wine_run::Outcome, modules: &[&str]) -> TaskResult {
    let trace = &outcome.trace;
    println!(
        "wine smoke ({what}): {:.1} s (prefix copy to teardown); sc start: {}; DriverEntry: {}; \
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
    println!(
        "  native modules loaded: {}",
        trace.native_modules.join(", ")
    );
    for module in modules {
        if !trace.native_modules.iter().any(|loaded| loaded == module) {
            return Err(TaskError::new(format!("Wine did not load {module}")));
        }
    }
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
