//! `rdmus bench-wire FILES...`: each file played in both formats on a card
//! with a 16-byte FIFO and on the original one-byte card, each with the DPC
//! bound it needs ([`SimConfig::dpc_bound_for`]: 100 µs, and 1 ms for the
//! one-byte card under 1 ms timers, whose pacing forces busy-waiting), as a
//! table.

use core::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::progress::bar;
use crate::cli::{CliError, PinFormat, load_timeline};
use crate::play_report::{DEFAULT_IRP_SPAN, OfWire, PlayError, PlayOptions, PlayReport, play};
use crate::sim::{DEFAULT_QUEUE_AHEAD, SimConfig};
use smf::Timeline;

/// The MPU-401 FIFO depths a file is benchmarked on, bytes.
pub const FIFOS: [u32; 2] = [16, 1];

/// One line of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchRow {
    /// The file's name.
    pub file: String,
    /// The report of the run.
    pub report: PlayReport,
}

/// Plays `timeline` in both formats on both [`FIFOS`].
///
/// # Errors
/// [`PlayError`] of the first run that could not be made.
pub fn bench_runs(
    name: &str,
    timeline: &Timeline,
    timer_res_us: u32,
    irp_size: u32,
) -> Result<Vec<BenchRow>, PlayError> {
    let mut rows = Vec::new();
    for mpu_fifo in FIFOS {
        let dpc_bound_us = SimConfig::dpc_bound_for(mpu_fifo, timer_res_us);
        for format in [PinFormat::Dmus, PinFormat::Ksmusic] {
            let options = PlayOptions {
                format,
                irp_size,
                irp_span: DEFAULT_IRP_SPAN,
                queue_ahead: DEFAULT_QUEUE_AHEAD,
                sim: SimConfig {
                    timer_res_us,
                    mpu_fifo,
                    dpc_bound_us,
                    ..SimConfig::default()
                },
            };
            let label = format!("{name} {} fifo {mpu_fifo}", format_name(format));
            let progress = bar(timeline.end_time, &label);
            let report = play(timeline, &options, &mut |at| {
                progress.set_position(at / 10_000);
            });
            progress.finish_and_clear();
            rows.push(BenchRow {
                file: name.to_owned(),
                report: report?,
            });
        }
    }
    Ok(rows)
}

const fn format_name(format: PinFormat) -> &'static str {
    match format {
        PinFormat::Ksmusic => "ksmusic",
        PinFormat::Dmus => "dmus",
    }
}

/// 100 ns as whole µs (rounded down), for the table.
fn us(ticks: i64) -> i64 {
    ticks / 10
}

/// The table's header.
pub const HEADER: &str = "file\tformat\tfifo\tevents\tbytes\tdropped\texact\tp50_us\tp99_us\tmax_us\tearly\tdpc_max_us\tburst_bps\tburst_min_bps\tfindings";

impl fmt::Display for BenchRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = &self.report;
        // Lateness means something only when the wire is the file's messages.
        let (p50, p99, max) = r.lateness.lateness.filter(|_| r.exact).map_or_else(
            || ("-".to_owned(), "-".to_owned(), "-".to_owned()),
            |p| {
                (
                    us(p.p50).to_string(),
                    us(p.p99).to_string(),
                    us(p.max).to_string(),
                )
            },
        );
        let early = r
            .margins
            .map_or_else(|| "-".to_owned(), |m| m.early.to_string());
        let (overall, worst) = r.bursts.map_or_else(
            || ("-".to_owned(), "-".to_owned()),
            |b| {
                (
                    format!("{} ({})", b.overall, OfWire(b.overall)),
                    format!("{} ({})", b.worst, OfWire(b.worst)),
                )
            },
        );
        write!(
            f,
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{p50}\t{p99}\t{max}\t{early}\t{}\t{overall}\t{worst}\t{}",
            self.file,
            format_name(r.options.format),
            r.options.sim.mpu_fifo,
            r.events,
            r.bytes,
            r.dropped(),
            if r.exact { "yes" } else { "NO" },
            r.longest_dpc / 10,
            r.findings.len()
        )
    }
}

/// Benchmarks `files` and prints the table to `out`.
///
/// # Errors
/// [`CliError`] for a file that cannot be read or played, and after the table
/// [`CliError::Findings`] when any run had findings, else [`CliError::Loss`] when any run
/// lost something the file asked for (each such run gets a `# loss:` line under the table)
/// and `allow_loss` is false.
pub fn bench_wire(
    files: &[PathBuf],
    timer_res_us: u32,
    irp_size: u32,
    allow_loss: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let stdout_error = |error| CliError::Io {
        path: "<stdout>".into(),
        error,
    };
    let [deep, shallow] = FIFOS.map(|fifo| SimConfig::dpc_bound_for(fifo, timer_res_us));
    writeln!(
        out,
        "# {timer_res_us} us high-resolution timers; FIFO 16 with a {deep} us DPC bound, FIFO 1 with {shallow} us; IRPs of up to {irp_size} bytes and {} ms queued {} ms ahead; lateness against the ideal wire",
        DEFAULT_IRP_SPAN / 10_000,
        DEFAULT_QUEUE_AHEAD / 10_000
    )
    .map_err(stdout_error)?;
    writeln!(out, "{HEADER}").map_err(stdout_error)?;
    let mut findings = Vec::new();
    let mut lossy = Vec::new();
    for file in files {
        let timeline = load_timeline(file)?;
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let rows = bench_runs(&name, &timeline, timer_res_us, irp_size)
            .map_err(|error| play_error(file, error))?;
        for row in rows {
            writeln!(out, "{row}").map_err(stdout_error)?;
            findings.extend(row.report.findings.iter().map(|f| format!("{name}: {f}")));
            if !row.report.losses.is_empty() {
                lossy.push(format!(
                    "{name} {} fifo {}: {}",
                    format_name(row.report.options.format),
                    row.report.options.sim.mpu_fifo,
                    row.report.losses.one_line()
                ));
            }
        }
    }
    for line in &lossy {
        writeln!(out, "# loss: {line}").map_err(stdout_error)?;
    }
    outcome(
        files.first().map_or_else(PathBuf::new, Clone::clone),
        findings,
        &lossy,
        allow_loss,
    )
}

/// The exit of a bench: findings first (exit 4), then loss (exit 3) unless allowed.
fn outcome(
    first: PathBuf,
    findings: Vec<String>,
    lossy: &[String],
    allow_loss: bool,
) -> Result<(), CliError> {
    if !findings.is_empty() {
        return Err(CliError::Findings {
            path: first,
            findings,
        });
    }
    if lossy.is_empty() || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: first,
            what: format!(
                "{} of the runs lost something (the `# loss:` lines under the table)",
                lossy.len()
            ),
        })
    }
}

fn play_error(file: &Path, error: PlayError) -> CliError {
    match error {
        PlayError::Irp(error) => CliError::Irp {
            path: file.into(),
            error,
        },
        PlayError::Sim(error) => CliError::Sim {
            path: file.into(),
            error,
        },
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::outcome;

    #[test]
    fn a_run_that_lost_something_fails_the_bench_unless_loss_is_allowed() {
        let lossy = ["a.mid dmus fifo 1: 3 of the file's messages not on the wire".to_owned()];
        let error = outcome(PathBuf::from("a.mid"), Vec::new(), &lossy, false)
            .expect_err("a loss fails the bench");
        assert_eq!(error.exit_code(), 3, "{error}");
        assert!(
            error.to_string().contains("1 of the runs lost something"),
            "{error}"
        );
        assert!(outcome(PathBuf::from("a.mid"), Vec::new(), &lossy, true).is_ok());
        assert!(outcome(PathBuf::from("a.mid"), Vec::new(), &[], false).is_ok());
        let findings = outcome(PathBuf::from("a.mid"), vec!["f".into()], &lossy, true)
            .expect_err("findings win over allowed loss");
        assert_eq!(findings.exit_code(), 4);
    }
}
