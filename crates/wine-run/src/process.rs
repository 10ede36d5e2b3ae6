//! Child processes with a deadline: every wait of the harness is bounded.
//!
//! A Wine command can hang (a service that never stops, a wineserver waiting for a client).
//! [`run_bounded`] polls the child and kills it (by its own process id, nothing else) when the
//! time is up, so the harness always returns.

use std::fs::File;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
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
            Ok(None) => std::thread::sleep(POLL),
            Err(error) => return Err(WineError::Io(format!("wait for {what}: {error}"))),
        }
    };
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
