//! Child processes with a deadline: every wait of the harness is bounded.
//!
//! A Wine command can hang (a service that never stops, a wineserver waiting for a client).
//! [`run_bounded`] polls the child and kills it (by its own process id, nothing else) when the
//! time is up, so the harness always returns.
//!
//! A run can also be asked to stop early: [`stop_request`] is the flag a program's signal
//! handler sets (`rdmus` registers SIGINT, SIGTERM and SIGHUP on it with `signal-hook`, which
//! stores the signal's number: an atomic store, safe in a handler). The run's waits
//! ([`run_interruptible`], and the job's wait) see it within one poll, return
//! [`WineError::Interrupted`], and the run's teardown (`wineserver -k`, the prefix removed)
//! still happens, because teardown commands use [`run_bounded`], which the flag does not stop.

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::WineError;

/// How often a running child is polled.
const POLL: Duration = Duration::from_millis(50);

/// What a bounded command did.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Its standard output (stderr goes to the log file).
    pub stdout: String,
}

/// The process-wide stop flag: 0, or the number of the signal that asked the runs to stop.
///
/// Hand it to a signal handler that stores the signal number (`signal_hook::flag::
/// register_usize(signal, stop_request(), signal)`); every later wait of a run returns
/// [`WineError::Interrupted`].
#[must_use]
pub fn stop_request() -> Arc<AtomicUsize> {
    Arc::clone(STOP.get_or_init(|| Arc::new(AtomicUsize::new(0))))
}

/// The signal that asked the runs to stop, if one did.
#[must_use]
pub fn stop_requested() -> Option<i32> {
    let signal = STOP.get()?.load(Ordering::SeqCst);
    (signal != 0).then(|| i32::try_from(signal).unwrap_or(i32::MAX))
}

static STOP: OnceLock<Arc<AtomicUsize>> = OnceLock::new();

/// Runs `command` with stdin closed, stdout captured and stderr appended to `log`, killing it
/// after `limit`.
///
/// # Errors
/// The command could not start, the log could not be opened, or the time ran out (the child
/// is killed and reaped first).
pub fn run_bounded(
    command: &mut Command,
    log: &Path,
    limit: Duration,
) -> Result<Finished, WineError> {
    run_until(command, log, limit, || None)
}

/// [`run_bounded`], also ended (the child killed and reaped) when a stop is requested
/// ([`stop_request`]).
///
/// # Errors
/// As [`run_bounded`], and [`WineError::Interrupted`] with the signal's number.
pub fn run_interruptible(
    command: &mut Command,
    log: &Path,
    limit: Duration,
) -> Result<Finished, WineError> {
    run_until(command, log, limit, stop_requested)
}

fn run_until(
    command: &mut Command,
    log: &Path,
    limit: Duration,
    stop: impl Fn() -> Option<i32>,
) -> Result<Finished, WineError> {
    let what = describe(command);
    let stderr = File::options()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|error| WineError::Io(format!("open {}: {error}", log.display())))?;
    let stdout_path = log.with_extension("stdout.tmp");
    let stdout = File::create(&stdout_path)
        .map_err(|error| WineError::Io(format!("create {}: {error}", stdout_path.display())))?;
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .map_err(|error| WineError::Io(format!("start {what}: {error}")))?;
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                // Only this child: its own pid, never a name.
                let _ = child.kill();
                let _ = child.wait();
                return Err(WineError::Timeout(format!(
                    "{what} did not finish within {limit:?}"
                )));
            }
            Ok(None) => match stop() {
                Some(signal) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(WineError::Interrupted(signal));
                }
                None => std::thread::sleep(POLL),
            },
            Err(error) => return Err(WineError::Io(format!("wait for {what}: {error}"))),
        }
    };
    // A child that ended as the signal came (a terminal's Ctrl-C reaches it too) did not
    // finish its work: the stop wins.
    if let Some(signal) = stop() {
        let _ = std::fs::remove_file(&stdout_path);
        return Err(WineError::Interrupted(signal));
    }
    let stdout = std::fs::read(&stdout_path)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let _ = std::fs::remove_file(&stdout_path);
    Ok(Finished { status, stdout })
}

/// Polls `done` every 50 ms until it returns true or `limit` passes; true if it did.
pub fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// The processes whose environment has `WINEPREFIX=prefix` (read from `/proc/PID/environ`;
/// processes that end while being read, or cannot be read, are skipped): what a run's
/// teardown must leave none of.
#[must_use]
pub fn prefix_processes(prefix: &Path) -> Vec<u32> {
    let mut wanted = b"WINEPREFIX=".to_vec();
    wanted.extend_from_slice(prefix.as_os_str().as_encoded_bytes());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut found: Vec<u32> = entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|environ| environ.split(|&b| b == 0).any(|var| var == wanted))
        })
        .collect();
    found.sort_unstable();
    found
}

/// `program arg arg ...`, for messages.
fn describe(command: &Command) -> String {
    let mut text = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

#[cfg(test)]
mod tests {
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::{run_bounded, wait_until};
    use crate::WineError;

    #[test]
    fn a_command_that_finishes_gives_its_output_and_status() {
        let dir = std::env::temp_dir().join(format!("wine-run-process-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let log = dir.join("a.log");
        let done = run_bounded(
            Command::new("sh").args(["-c", "echo out; echo err >&2; exit 3"]),
            &log,
            Duration::from_secs(10),
        )
        .expect("sh runs");
        assert_eq!(done.stdout, "out\n");
        assert_eq!(done.status.code(), Some(3));
        assert_eq!(std::fs::read_to_string(&log).unwrap(), "err\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_command_that_hangs_is_killed_at_its_deadline() {
        let dir = std::env::temp_dir().join(format!("wine-run-hang-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let started = Instant::now();
        let result = run_bounded(
            Command::new("sleep").arg("30"),
            &dir.join("b.log"),
            Duration::from_millis(300),
        );
        assert!(matches!(result, Err(WineError::Timeout(_))), "{result:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_processes_of_a_prefix_are_found_by_their_environment() {
        let prefix = std::env::temp_dir().join(format!("wine-run-environ-{}", std::process::id()));
        assert!(super::prefix_processes(&prefix).is_empty());
        let mut child = Command::new("sleep")
            .arg("30")
            .env("WINEPREFIX", &prefix)
            .spawn()
            .unwrap();
        let found = super::prefix_processes(&prefix);
        // Only this child: the pid, never a name.
        child.kill().unwrap();
        child.wait().unwrap();
        assert_eq!(found, [child.id()]);
        assert!(super::prefix_processes(&prefix).is_empty());
    }

    #[test]
    fn waiting_for_a_condition_stops_at_the_limit() {
        let mut polls = 0;
        assert!(!wait_until(Duration::from_millis(120), || {
            polls += 1;
            false
        }));
        assert!(polls >= 2);
        assert!(wait_until(Duration::from_secs(1), || true));
    }
}
