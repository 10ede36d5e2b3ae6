//! wine-run: runs the real x64 `rdmus.sys` under Wine's kernel (issue 14).
//!
//! Given the image and a `portcls.sys` stand-in (`crates/portcls-standin`), [`run`]:
//!
//! 1. makes a private prefix: a copy of a template prefix made once by `wineboot -i` (about
//!    half a minute, cached under the template directory) whose registry asks for the relay
//!    trace of `ntoskrnl.exe.MmGetSystemRoutineAddress` only, so each run starts in a second;
//! 2. copies both modules to the prefix's `C:\windows\system32\drivers`, and the job file (if
//!    any) to `C:\rdmus\job.txt`, where the stand-in reads it;
//! 3. starts a wineserver that stays up (`wineserver -p`: without it winedevice.exe exits 3 s
//!    after the last client), with `WINEDLLOVERRIDES="mscoree,mshtml="` and no display;
//! 4. registers rdmus as a kernel service through services.exe (`sc create rdmus type= kernel
//!    start= demand binpath= C:\windows\system32\drivers\rdmus.sys`) and starts it
//!    (`sc start rdmus`): winedevice.exe loads rdmus.sys, its imports pull in the stand-in,
//!    and DriverEntry runs;
//! 5. waits, bounded, for the stand-in's `C:\rdmus\done.txt` (a job run) or not at all (the
//!    smoke run), stops the service (`sc stop rdmus`, which unloads the driver) and waits,
//!    bounded, until `sc query` says STOPPED;
//! 6. copies everything under `C:\rdmus` to the output directory (what the stand-in writes:
//!    its log, the wire log, the WAV, its pool accounting; see the stand-in's crate docs), and
//!    kills the prefix's wineserver (`wineserver -k`: this prefix's only).
//!
//! Every wait is bounded ([`process`]), and ends early when a signal asks the run to stop
//! ([`process::stop_request`]). Whatever way the run ends (a return, an error, a stop, a
//! panic unwinding through it), its teardown runs: the prefix's wineserver is killed (`wineserver
//! -k`, which ends every Wine process of that prefix: winedevice.exe, services.exe), waited for
//! (`wineserver -w`, bounded), and the prefix directory is removed (the outputs were copied
//! out first). What
//! the driver did is read from Wine's own trace ([`relay_log`]): DriverEntry's status, the
//! routines it looked up, the unload call, and any fatal line.
//!
//! The API is one call so a `rdmus play --runtime wine` (issue 14, item 4) only has to write
//! the job file and read the outputs: `run(&WineRun { job: Some(path), .. })`.
// The docs quote Windows' and Wine's vocabulary (DriverEntry, NTSTATUS, winedevice.exe) in
// almost every line; backticking each would bury the prose (as in the driver).
#![allow(clippy::doc_markdown)]

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub mod prefix;
pub mod process;
pub mod relay_log;
pub mod shim;

pub use relay_log::DriverTrace;

/// The service name rdmus is registered under.
pub const SERVICE: &str = "rdmus";

/// Why a run could not be made (not: what the driver did; that is [`Outcome`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WineError {
    /// A tool is not installed: what, and how to get it.
    Missing(String),
    /// A file operation failed.
    Io(String),
    /// A bounded wait ran out.
    Timeout(String),
    /// A Wine command failed.
    Command(String),
    /// A signal asked the run to stop (its number); the run was torn down.
    Interrupted(i32),
}

impl fmt::Display for WineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(what) => write!(f, "missing: {what}"),
            Self::Io(what) => write!(f, "I/O: {what}"),
            Self::Timeout(what) => write!(f, "timeout: {what}"),
            Self::Command(what) => write!(f, "wine: {what}"),
            Self::Interrupted(signal) => write!(
                f,
                "stopped by signal {signal}; the run's wineserver was killed and its prefix removed"
            ),
        }
    }
}

impl std::error::Error for WineError {}

/// What to run and where.
#[derive(Debug, Clone)]
pub struct WineRun {
    /// The x64 rdmus.sys (the packaged image, or a test bench copy of it).
    pub rdmus_sys: PathBuf,
    /// The stand-in portcls.sys.
    pub portcls_sys: PathBuf,
    /// Further modules to place beside them in `drivers` (a shim, for instance).
    pub extra_modules: Vec<PathBuf>,
    /// The job for the stand-in (`C:\rdmus\job.txt`), or `None` for a smoke run (load,
    /// DriverEntry, stop, unload).
    pub job: Option<PathBuf>,
    /// Where the outputs go (created; its `prefix/` is the run's Wine prefix).
    pub out_dir: PathBuf,
    /// The template prefix (made on first use).
    pub template: PathBuf,
    /// How long the job may run before the service is stopped anyway.
    pub job_timeout: Duration,
}

/// What one run saw.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// `sc start` reported the service RUNNING (DriverEntry returned a success status).
    pub started: bool,
    /// `sc query` reported it STOPPED after `sc stop`.
    pub stopped: bool,
    /// The stand-in wrote `done.txt` before the job timeout (always false for a smoke run).
    pub job_done: bool,
    /// What Wine's trace says the driver did.
    pub trace: DriverTrace,
    /// The files collected from `C:\rdmus`.
    pub outputs: Vec<PathBuf>,
    /// Wine's log of the run (all Wine processes' stderr, with the relay lines).
    pub log: PathBuf,
    /// The run's wall time (prefix copy to teardown).
    pub elapsed: Duration,
}

impl Outcome {
    /// DriverEntry returned STATUS_SUCCESS, the service stopped, the unload routine ran and
    /// returned, and nothing fatal happened.
    #[must_use]
    pub fn loaded_and_unloaded(&self) -> bool {
        self.started
            && self.stopped
            && self.trace.entry_status == Some(0)
            && self.trace.unload_called
            && self.trace.unload_returned
            && self.trace.fatal.is_empty()
    }
}

/// Bounds of the Wine commands.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);
/// How long `sc stop` may take to reach STOPPED.
const STOP_LIMIT: Duration = Duration::from_secs(20);

/// The `wine` and `wineserver` programs, or how to get them.
///
/// # Errors
/// [`WineError::Missing`] when either is not on `PATH`.
pub fn find_wine() -> Result<(PathBuf, PathBuf), WineError> {
    let find = |name: &str| {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path)
                .map(|dir| dir.join(name))
                .find(|candidate| candidate.is_file())
        })
    };
    match (find("wine"), find("wineserver")) {
        (Some(wine), Some(server)) => Ok((wine, server)),
        _ => Err(WineError::Missing(
            "wine and wineserver (Debian: sudo apt-get install wine wine64)".into(),
        )),
    }
}

/// Runs rdmus.sys under Wine as the module docs say.
///
/// # Errors
/// Wine is missing, a file could not be copied, or a Wine command failed or timed out. (What
/// the driver itself did, good or bad, is in the [`Outcome`].)
pub fn run(spec: &WineRun) -> Result<Outcome, WineError> {
    run_with_files(spec, &[])
}

/// [`run`], with `job_files` copied beside the job into `C:\rdmus` under their own names
/// (what the job names: a synth job's DLS bank).
///
/// # Errors
/// As [`run`]; a job file that is missing is [`WineError::Missing`].
pub fn run_with_files(spec: &WineRun, job_files: &[PathBuf]) -> Result<Outcome, WineError> {
    let started_at = Instant::now();
    let (wine, wineserver) = find_wine()?;
    for module in [&spec.rdmus_sys, &spec.portcls_sys]
        .into_iter()
        .chain(&spec.extra_modules)
    {
        if !module.is_file() {
            return Err(WineError::Missing(format!("{}", module.display())));
        }
    }
    std::fs::create_dir_all(&spec.out_dir).map_err(|e| io("create", &spec.out_dir, &e))?;
    let log = spec.out_dir.join("wine.log");
    let _ = std::fs::remove_file(&log);
    prefix::ensure_template(&spec.template, &wine, &wineserver, &log)?;
    let prefix = spec.out_dir.join("prefix");
    prefix::copy_template(&spec.template, &prefix)?;
    let drive_c = prefix.join("drive_c");
    let drivers = drive_c.join("windows/system32/drivers");
    copy(&spec.rdmus_sys, &drivers.join("rdmus.sys"))?;
    copy(&spec.portcls_sys, &drivers.join("portcls.sys"))?;
    for module in &spec.extra_modules {
        let name = module
            .file_name()
            .ok_or_else(|| WineError::Io(format!("{}: no file name", module.display())))?;
        copy(module, &drivers.join(name))?;
    }
    let exchange = drive_c.join("rdmus");
    std::fs::create_dir_all(&exchange).map_err(|e| io("create", &exchange, &e))?;
    if let Some(job) = &spec.job {
        copy(job, &exchange.join("job.txt"))?;
    }
    for file in job_files {
        let name = file
            .file_name()
            .ok_or_else(|| WineError::Missing(format!("{}: no file name", file.display())))?;
        if !file.is_file() {
            return Err(WineError::Missing(format!("{}", file.display())));
        }
        copy(file, &exchange.join(name))?;
    }
    let session = Session {
        wine,
        wineserver,
        prefix,
        log: log.clone(),
    };
    // From here on every way out tears the prefix down (the guard's drop), a panic included.
    let mut teardown = Teardown {
        session: &session,
        server_killed: false,
    };
    if let Some(signal) = process::stop_requested() {
        return Err(WineError::Interrupted(signal));
    }
    session.wineserver(&["-p"])?;
    let result = drive(&session, spec, &exchange);
    teardown.kill_server();
    let (started, stopped, job_done) = result?;
    let outputs = collect(&exchange, &spec.out_dir, job_files)?;
    drop(teardown);
    let text = std::fs::read(&log)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    Ok(Outcome {
        started,
        stopped,
        job_done,
        trace: relay_log::parse(&text, SERVICE),
        outputs,
        log,
        elapsed: started_at.elapsed(),
    })
}

/// Registers, starts, waits for and stops the service: (started, stopped, job done).
fn drive(
    session: &Session,
    spec: &WineRun,
    exchange: &Path,
) -> Result<(bool, bool, bool), WineError> {
    let binpath = format!("C:\\windows\\system32\\drivers\\{SERVICE}.sys");
    let create = session.wine(&[
        "sc", "create", SERVICE, "type=", "kernel", "start=", "demand", "binpath=", &binpath,
    ])?;
    if !create.status.success() {
        return Err(WineError::Command(format!(
            "sc create failed ({}): {}",
            create.status, create.stdout
        )));
    }
    let start = session.wine(&["sc", "start", SERVICE])?;
    let started = start.status.success() && state(&start.stdout) == Some(4);
    let job_done = spec.job.is_some()
        && started
        && process::wait_until(spec.job_timeout, || {
            exchange.join("done.txt").exists() || process::stop_requested().is_some()
        });
    if let Some(signal) = process::stop_requested() {
        return Err(WineError::Interrupted(signal));
    }
    let mut stopped = false;
    if started {
        session.wine(&["sc", "stop", SERVICE])?;
        let deadline = Instant::now() + STOP_LIMIT;
        while Instant::now() < deadline {
            let query = session.wine(&["sc", "query", SERVICE])?;
            if state(&query.stdout) == Some(1) {
                stopped = true;
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    Ok((started, stopped, job_done))
}

/// The `STATE : N` number `sc` prints (1 STOPPED, 4 RUNNING).
fn state(sc_output: &str) -> Option<u32> {
    sc_output.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        (key.trim() == "STATE")
            .then(|| value.split_whitespace().next()?.parse().ok())
            .flatten()
    })
}

/// The Wine programs and the prefix one run uses.
struct Session {
    wine: PathBuf,
    wineserver: PathBuf,
    prefix: PathBuf,
    log: PathBuf,
}

impl Session {
    fn environment(&self, command: &mut Command) {
        environment(command, &self.prefix);
    }

    /// A `wine` command of the run: ended early by a stop request.
    fn wine(&self, args: &[&str]) -> Result<process::Finished, WineError> {
        let mut command = Command::new(&self.wine);
        command.args(args);
        self.environment(&mut command);
        process::run_interruptible(&mut command, &self.log, COMMAND_LIMIT)
    }

    /// A `wineserver` command: never ended by a stop request (the teardown uses it).
    fn wineserver(&self, args: &[&str]) -> Result<process::Finished, WineError> {
        let mut command = Command::new(&self.wineserver);
        command.args(args);
        self.environment(&mut command);
        process::run_bounded(&mut command, &self.log, COMMAND_LIMIT)
    }
}

/// The teardown of one run's prefix, on every way out of [`run_with_files`] (its drop runs on
/// a return, an error and a panic's unwinding alike).
struct Teardown<'a> {
    session: &'a Session,
    server_killed: bool,
}

impl Teardown<'_> {
    /// Kills the prefix's wineserver and every process it serves, and waits (bounded) for it
    /// to exit; once. Not stopped by a stop request: this is what a stop needs done.
    fn kill_server(&mut self) {
        if self.server_killed {
            return;
        }
        self.server_killed = true;
        let _ = self.session.wineserver(&["-k"]);
        let _ = self.session.wineserver(&["-w"]);
    }
}

impl Drop for Teardown<'_> {
    fn drop(&mut self) {
        self.kill_server();
        // The prefix is hard links to the template plus what the run wrote; the outputs were
        // copied out (or the run failed). Best effort: nothing to report to in a drop.
        let _ = std::fs::remove_dir_all(&self.session.prefix);
    }
}

/// The environment of every Wine command of a run: the private prefix, no Mono/Gecko
/// installers, no display, and the relay trace (narrowed by the prefix's `RelayInclude`).
pub(crate) fn environment(command: &mut Command, prefix: &Path) {
    command
        .env("WINEPREFIX", prefix)
        .env("WINEDLLOVERRIDES", "mscoree,mshtml=")
        .env("WINEDEBUG", "err+all,warn-all,fixme-all,+relay,+loaddll")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
}

/// Copies what the stand-in left in `C:\rdmus` (not the job and its files) into `out_dir`.
fn collect(
    exchange: &Path,
    out_dir: &Path,
    job_files: &[PathBuf],
) -> Result<Vec<PathBuf>, WineError> {
    let mut outputs = Vec::new();
    let entries = std::fs::read_dir(exchange).map_err(|e| io("read", exchange, &e))?;
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name();
        let given = job_files
            .iter()
            .any(|file| file.file_name() == Some(name.as_os_str()));
        if path.is_file() && name != "job.txt" && !given {
            let target = out_dir.join(entry.file_name());
            copy(&path, &target)?;
            outputs.push(target);
        }
    }
    outputs.sort();
    Ok(outputs)
}

fn copy(from: &Path, to: &Path) -> Result<(), WineError> {
    std::fs::copy(from, to).map(drop).map_err(|error| {
        WineError::Io(format!(
            "copy {} to {}: {error}",
            from.display(),
            to.display()
        ))
    })
}

fn io(what: &str, path: &Path, error: &std::io::Error) -> WineError {
    WineError::Io(format!("{what} {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::{Session, Teardown, find_wine, process, state};

    #[test]
    fn the_service_state_is_read_from_sc_output() {
        let running = "SERVICE_NAME: rdmus\n        TYPE               : 1  \n        STATE              : 4  RUNNING\n        WIN32_EXIT_CODE    : 0  (0x0)\n";
        assert_eq!(state(running), Some(4));
        assert_eq!(state("        STATE              : 1  STOPPED\n"), Some(1));
        assert_eq!(state("[SC] OpenService FAILED 1060\n"), None);
    }

    /// A panic while a run's wineserver is up still kills it and removes the prefix: the
    /// guard's drop runs as the panic unwinds.
    #[test]
    fn a_panic_during_a_run_tears_its_prefix_down() {
        let Ok((wine, wineserver)) = find_wine() else {
            println!(
                "rdmus-skip: wine-run::lib::a_panic_during_a_run_tears_its_prefix_down (Wine is not installed)"
            );
            return;
        };
        let dir = std::env::temp_dir().join(format!("wine-run-panic-{}", std::process::id()));
        let prefix = dir.join("prefix");
        std::fs::create_dir_all(&prefix).unwrap();
        let session = Session {
            wine,
            wineserver,
            prefix: prefix.clone(),
            log: dir.join("wine.log"),
        };
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _teardown = Teardown {
                session: &session,
                server_killed: false,
            };
            session.wineserver(&["-p"]).expect("wineserver -p");
            assert!(
                process::wait_until(std::time::Duration::from_secs(10), || {
                    !process::prefix_processes(&prefix).is_empty()
                }),
                "the persistent wineserver runs"
            );
            panic!("a panic mid-run");
        }));
        assert!(unwound.is_err());
        assert_eq!(process::prefix_processes(&prefix), Vec::<u32>::new());
        assert!(!prefix.exists(), "the prefix is removed");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
