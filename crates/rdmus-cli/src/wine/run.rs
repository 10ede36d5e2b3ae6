//! One job under Wine: the bench copy of the image made (`wine_run::shim::prepare`), the run
//! (`wine_run::run_with_files`), and the stand-in's outputs read back and checked. Everything
//! that is not a clean run is an error, never a quiet success: the driver not loading or not
//! unloading, a fatal line in Wine's trace, a job that did not finish (`done.txt` missing or
//! `failed: ...`), an output missing, and any pool block or object the stand-in still counts
//! after the unload (`unload.txt`).
//!
//! A signal never leaves a Wine run behind: before the first run, SIGINT, SIGTERM and SIGHUP
//! are pointed at wine-run's stop flag (`stop_on_signals`); the run's waits end within
//! 50 ms, its teardown kills the prefix's wineserver (every Wine process of the prefix with
//! it) and removes the prefix, and the command exits 128 + the signal
//! ([`CliError::Interrupted`]) after removing the run's directory. A panic unwinds through
//! the same teardown (wine-run's guard).

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use wine_run::{Outcome, WineError, WineRun};

use super::images::{Images, target_dir};
use crate::cli::CliError;

/// What a finished job left, in the run's directory.
#[derive(Debug)]
pub struct JobRun {
    /// The run's directory (Wine's log, the prefix, the stand-in's outputs).
    pub dir: PathBuf,
    /// What Wine's trace and the service showed.
    pub outcome: Outcome,
    /// The stand-in's step log.
    pub log: String,
    /// The stand-in's pool accounting after the driver's unload.
    pub unload: Accounting,
    /// Bytes of the bench copy that differ from the packaged image (ranges).
    pub changed_ranges: usize,
}

impl JobRun {
    /// The output file `name` of the run.
    ///
    /// # Errors
    /// [`CliError::Wine`] when the stand-in did not write it.
    pub fn output(&self, name: &str, subject: &Path) -> Result<PathBuf, CliError> {
        let path = self.dir.join(name);
        if path.is_file() {
            Ok(path)
        } else {
            Err(CliError::Wine {
                path: subject.into(),
                error: format!(
                    "the stand-in wrote no {name} (its log: {})",
                    self.dir.join("standin.log").display()
                ),
            })
        }
    }

    /// The run's directory is no longer needed (a clean run): removed, best effort.
    pub fn discard(&self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `name<TAB>value` file of the stand-in's counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Accounting(pub Vec<(String, i64)>);

impl Accounting {
    /// Parses `name<TAB>value` lines (others are skipped).
    #[must_use]
    pub fn parse(text: &str) -> Self {
        Self(
            text.lines()
                .filter_map(|line| {
                    let (name, value) = line.split_once('\t')?;
                    Some((name.trim().to_owned(), value.trim().parse().ok()?))
                })
                .collect(),
        )
    }

    /// The value of `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<i64> {
        self.0.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }

    /// What is still held: every `*_outstanding` and `objects_alive` count that is not 0.
    #[must_use]
    pub fn leaks(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|(name, value)| {
                (name.ends_with("_outstanding") || name == "objects_alive") && *value != 0
            })
            .map(|(name, value)| format!("{name} {value}"))
            .collect()
    }
}

/// How long a job may take beyond its music: the template prefix (made once, ~30 s), the
/// driver's load, a bank's downloads, the unload.
pub const JOB_SLACK: Duration = Duration::from_secs(120);

/// Distinguishes the runs of one process.
static RUNS: AtomicU32 = AtomicU32::new(0);

/// The longest job line the stand-in reads (portcls-standin's `files::MAX_JOB_LINE_BYTES`):
/// it reads the job a line at a time, so the job's length is not bounded, only a line's (an
/// `event` line of a sysex of about 350,000 bytes).
pub const MAX_JOB_LINE_BYTES: usize = 1 << 20;

/// A writer that passes everything on and remembers the longest line written.
struct LongestLine<W> {
    inner: W,
    current: usize,
    longest: usize,
}

impl<W: Write> Write for LongestLine<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(bytes)?;
        for &byte in &bytes[..written] {
            if byte == b'\n' {
                self.current = 0;
            } else {
                self.current += 1;
                self.longest = self.longest.max(self.current);
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A job's files: the job (written by `write_job`) and the files it names, copied into the
/// run's directory under the names the job uses.
pub struct JobSpec<'a> {
    /// Writes the job text.
    pub write_job: &'a dyn Fn(&mut dyn Write) -> std::io::Result<()>,
    /// (source, name in `C:\rdmus`) of each file the job names.
    pub files: Vec<(PathBuf, &'static str)>,
    /// How long the job plays (its bound is that plus [`JOB_SLACK`]).
    pub music: Duration,
}

/// The signals that stop a Wine run: SIGHUP, SIGINT, SIGTERM (their Linux numbers, as
/// signal-hook's constants).
const STOP_SIGNALS: [i32; 3] = [
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
];

/// Points [`STOP_SIGNALS`] at wine-run's stop flag, once per process. From then on those
/// signals no longer end the process by themselves: the Wine run sees the flag and ends
/// (this is only done by a command that runs Wine, whose remaining work is reading the run's
/// outputs, which checks the flag too).
///
/// # Errors
/// [`CliError::Setup`] when a handler cannot be installed.
fn stop_on_signals() -> Result<(), CliError> {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    INSTALLED
        .get_or_init(|| {
            for signal in STOP_SIGNALS {
                let number = usize::try_from(signal).map_err(|e| e.to_string())?;
                signal_hook::flag::register_usize(
                    signal,
                    wine_run::process::stop_request(),
                    number,
                )
                .map_err(|error| format!("signal {signal}: {error}"))?;
            }
            Ok(())
        })
        .clone()
        .map_err(|error| CliError::Setup(format!("cannot catch the stop signals: {error}")))
}

/// The error of a run a signal stopped.
fn interrupted(subject: &Path, signal: i32) -> CliError {
    CliError::Interrupted {
        path: subject.into(),
        signal: u8::try_from(signal).unwrap_or(u8::MAX - 128),
    }
}

/// Runs a job under Wine. `subject` names the file in messages.
///
/// # Errors
/// [`CliError::Setup`] when Wine or mingw-w64 is missing; [`CliError::Io`] when the job
/// cannot be written; [`CliError::Wine`] when the run or the job failed;
/// [`CliError::Findings`] when the stand-in still holds pool blocks or objects after the
/// unload.
pub fn run_job(images: &Images, spec: &JobSpec<'_>, subject: &Path) -> Result<JobRun, CliError> {
    let wine_error = |error: WineError| match error {
        WineError::Interrupted(signal) => interrupted(subject, signal),
        WineError::Missing(what) => CliError::Setup(format!(
            "--runtime wine needs {what}; rdmus installs nothing itself"
        )),
        other => CliError::Wine {
            path: subject.into(),
            error: other.to_string(),
        },
    };
    wine_run::find_wine().map_err(wine_error)?;
    stop_on_signals()?;
    let wine_dir = target_dir().join("wine");
    let run_number = RUNS.fetch_add(1, Ordering::Relaxed);
    let dir = wine_dir.join(format!("play-{}-{run_number}", std::process::id()));
    let (bench_image, shim, shimmed) =
        wine_run::shim::prepare(&images.rdmus_sys, &dir.join("bench")).map_err(wine_error)?;
    let job = dir.join("job.txt");
    let io_error = |path: &Path| {
        let path = path.to_path_buf();
        move |error| CliError::Io { path, error }
    };
    let mut writer = LongestLine {
        inner: std::io::BufWriter::new(File::create(&job).map_err(io_error(&job))?),
        current: 0,
        longest: 0,
    };
    (spec.write_job)(&mut writer).map_err(io_error(&job))?;
    writer.flush().map_err(io_error(&job))?;
    let longest = writer.longest;
    drop(writer);
    if longest > MAX_JOB_LINE_BYTES {
        return Err(CliError::Wine {
            path: subject.into(),
            error: format!(
                "a line of its job is {longest} bytes; the stand-in reads lines of at most {MAX_JOB_LINE_BYTES} (a message this long plays only in the simulation)"
            ),
        });
    }
    let mut job_files = Vec::new();
    for (source, name) in &spec.files {
        let target = dir.join(name);
        std::fs::copy(source, &target).map_err(io_error(source))?;
        job_files.push(target);
    }
    let wine_spec = WineRun {
        rdmus_sys: bench_image,
        portcls_sys: images.portcls_sys.clone(),
        extra_modules: vec![shim],
        job: Some(job),
        out_dir: dir.clone(),
        template: wine_dir.join("template"),
        job_timeout: spec.music.saturating_add(JOB_SLACK),
    };
    let outcome = wine_run::run_with_files(&wine_spec, &job_files).map_err(|error| {
        if matches!(error, WineError::Interrupted(_)) {
            // Nothing of a stopped run is worth keeping (the prefix is already gone).
            let _ = std::fs::remove_dir_all(&dir);
        }
        wine_error(error)
    })?;
    if let Some(signal) = wine_run::process::stop_requested() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(interrupted(subject, signal));
    }
    let timeout = wine_spec.job_timeout;
    let (log, unload) = check_run(&outcome, &dir, timeout, subject)?;
    Ok(JobRun {
        dir,
        outcome,
        log,
        unload,
        changed_ranges: shimmed.changes.len(),
    })
}

/// The checks of a finished run (module docs): the stand-in's log and its accounting after
/// the unload.
fn check_run(
    outcome: &Outcome,
    dir: &Path,
    timeout: Duration,
    subject: &Path,
) -> Result<(String, Accounting), CliError> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let log = read("standin.log").unwrap_or_default();
    let failed = |what: String| CliError::Wine {
        path: subject.into(),
        error: format!("{what} (the run: {})", dir.display()),
    };
    if !outcome.loaded_and_unloaded() {
        let trace = &outcome.trace;
        return Err(failed(format!(
            "rdmus.sys did not load, run and unload cleanly: service started {}, DriverEntry {}, \
             unload called {} returned {}, service stopped {}{}",
            outcome.started,
            trace
                .entry_status
                .map_or_else(|| "did not return".to_owned(), |s| format!("{s:#010x}")),
            trace.unload_called,
            trace.unload_returned,
            outcome.stopped,
            trace.fatal.iter().fold(String::new(), |mut text, line| {
                let _ = write!(text, "; Wine: {line}");
                text
            })
        )));
    }
    match read("done.txt").as_deref().map(str::trim) {
        Some("ok") => {}
        Some(reason) => {
            return Err(failed(format!(
                "the stand-in's job {reason}; its last step: {}",
                log.lines().last().unwrap_or("none")
            )));
        }
        None => {
            return Err(failed(format!(
                "the job did not finish within {} s (no done.txt); the stand-in's last step: {}",
                timeout.as_secs(),
                log.lines().last().unwrap_or("none")
            )));
        }
    }
    let unload = read("unload.txt")
        .map(|text| Accounting::parse(&text))
        .ok_or_else(|| {
            failed("the stand-in wrote no unload.txt: its unload did not run to the end".into())
        })?;
    let leaks = unload.leaks();
    if !leaks.is_empty() {
        return Err(CliError::Findings {
            path: subject.into(),
            findings: vec![format!(
                "the stand-in's pool accounting after the driver's unload: {} (the run: {})",
                leaks.join(", "),
                dir.display()
            )],
        });
    }
    Ok((log, unload))
}

/// The value after `key` in the stand-in log's line that starts with `prefix`: e.g. the
/// card's `overruns` from `card: 3 reads, 2 writes, ... 0 overruns, ...`.
#[must_use]
pub fn log_count(log: &str, prefix: &str, key: &str) -> Option<u64> {
    let line = log.lines().find(|line| line.starts_with(prefix))?;
    line.split(',').find_map(|part| {
        let mut words = part.split_whitespace().skip_while(|w| w.ends_with(':'));
        let value = words.next()?.parse().ok()?;
        (words.collect::<Vec<_>>().join(" ") == key).then_some(value)
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::{Accounting, LongestLine, log_count};

    #[test]
    fn the_longest_line_of_a_job_is_measured_as_it_is_written() {
        let mut writer = LongestLine {
            inner: Vec::new(),
            current: 0,
            longest: 0,
        };
        write!(writer, "event 0 90\nevent 1").unwrap();
        write!(writer, "0 f0 7e 7f f7\nx\n").unwrap();
        assert_eq!(writer.longest, "event 10 f0 7e 7f f7".len());
        assert_eq!(writer.inner.len(), 34);
    }

    #[test]
    fn the_accounting_names_what_is_still_held() {
        let clean = Accounting::parse(
            "blocks_outstanding\t0\nbytes_outstanding\t0\nobjects_alive\t0\nallocations\t41\n",
        );
        assert!(clean.leaks().is_empty());
        assert_eq!(clean.get("allocations"), Some(41));
        let leaky =
            Accounting::parse("blocks_outstanding\t2\nbytes_outstanding\t96\nobjects_alive\t1\n");
        assert_eq!(
            leaky.leaks(),
            [
                "blocks_outstanding 2",
                "bytes_outstanding 96",
                "objects_alive 1"
            ]
        );
    }

    #[test]
    fn counts_are_read_from_the_card_line() {
        let log = "DriverEntry returned\ncard: 12 reads, 40 writes, 2 commands, 3 overruns, 0 wire bytes dropped, 0 input dropped\n";
        assert_eq!(log_count(log, "card:", "reads"), Some(12));
        assert_eq!(log_count(log, "card:", "overruns"), Some(3));
        assert_eq!(log_count(log, "card:", "wire bytes dropped"), Some(0));
        assert_eq!(log_count(log, "card:", "missing"), None);
        assert_eq!(log_count(log, "nothing:", "reads"), None);
    }
}
