//! Running tools: one place that prints what runs and turns failure into an error.

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

/// A task failed; the message says what and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskError(pub String);

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TaskError {}

impl TaskError {
    /// A failure described by `message`.
    #[must_use]
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

/// The result of every task.
pub type TaskResult<T = ()> = Result<T, TaskError>;

/// The workspace root (two levels above this crate).
#[must_use]
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// Cargo's target directory: `$CARGO_TARGET_DIR` if set, else `<root>/target`.
#[must_use]
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        }
        _ => workspace_root().join("target"),
    }
}

/// The cargo that runs us (`$CARGO`), or `cargo` from `PATH`.
#[must_use]
pub fn cargo() -> Command {
    let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(program);
    command.current_dir(workspace_root());
    command
}

/// Prints the command line, runs it with inherited output and fails on a
/// non-zero exit.
///
/// # Errors
/// The program could not start or exited unsuccessfully.
pub fn run(command: &mut Command) -> TaskResult {
    let shown = describe(command);
    println!("$ {shown}");
    let status = command
        .status()
        .map_err(|error| TaskError::new(format!("could not run `{shown}`: {error}")))?;
    check_status(&shown, status)
}

/// Runs a command quietly and returns its stdout; fails on a non-zero exit.
///
/// # Errors
/// The program could not start or exited unsuccessfully (its stderr is in the error).
pub fn output(command: &mut Command) -> TaskResult<String> {
    let shown = describe(command);
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| TaskError::new(format!("could not run `{shown}`: {error}")))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(TaskError::new(format!(
            "`{shown}` failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )))
    }
}

/// Whether `program --version` (or `args`) runs successfully: the tool is installed.
#[must_use]
pub fn available(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Turns an exit status into a result.
///
/// # Errors
/// The status is not success.
pub fn check_status(shown: &str, status: ExitStatus) -> TaskResult {
    if status.success() {
        Ok(())
    } else {
        Err(TaskError::new(format!("`{shown}` failed ({status})")))
    }
}

/// `program arg arg …` for printing.
#[must_use]
pub fn describe(command: &Command) -> String {
    let mut shown = command.get_program().to_string_lossy().into_owned();
    for arg in command.get_args() {
        shown.push(' ');
        shown.push_str(&arg.to_string_lossy());
    }
    shown
}

/// Prints a step header, so a log shows where each step starts.
pub fn header(step: usize, total: usize, title: &str) {
    println!();
    println!("==> [{step}/{total}] {title}");
}

/// Wraps an I/O error with the path it concerns.
#[must_use]
pub fn io_error(action: &str, path: &Path, error: &std::io::Error) -> TaskError {
    TaskError::new(format!("could not {action} {}: {error}", path.display()))
}
