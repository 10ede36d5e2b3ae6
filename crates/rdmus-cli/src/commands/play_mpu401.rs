//! `rdmus play --device mpu401`: plays the file, prints the play report,
//! writes the observed wire log.

use std::io::Write;
use std::path::Path;

use super::progress::bar;
use crate::cli::CliError;
use crate::play_report::{PlayError, PlayOptions, play};
use crate::wire_log::write_tsv;
use smf::Timeline;

/// Plays `timeline` (read from `file`), prints the summary to `out`, writes
/// the observed wire to `wire_path` if given.
///
/// # Errors
/// [`CliError::Irp`], [`CliError::Sim`], [`CliError::Io`]; after the
/// summary, [`CliError::Findings`] when the verifier found faults, else
/// [`CliError::Loss`] when something was lost and `allow_loss` is false.
pub fn play_file(
    file: &Path,
    timeline: &Timeline,
    options: &PlayOptions,
    wire_path: Option<&Path>,
    allow_loss: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let progress = bar(timeline.end_time, "playing");
    let result = play(timeline, options, &mut |at| {
        progress.set_position(at / 10_000);
    });
    progress.finish_and_clear();
    let report = result.map_err(|error| match error {
        PlayError::Irp(error) => CliError::Irp {
            path: file.into(),
            error,
        },
        PlayError::Sim(error) => CliError::Sim {
            path: file.into(),
            error,
        },
    })?;
    let stdout_error = |error| CliError::Io {
        path: "<stdout>".into(),
        error,
    };
    writeln!(out, "file:        {}", file.display()).map_err(stdout_error)?;
    for warning in &timeline.warnings {
        writeln!(out, "warning:     {warning}").map_err(stdout_error)?;
    }
    write!(out, "{report}").map_err(stdout_error)?;
    if let Some(path) = wire_path {
        let io_error = |error| CliError::Io {
            path: path.into(),
            error,
        };
        let created = std::fs::File::create(path).map_err(io_error)?;
        write_tsv(std::io::BufWriter::new(created), &report.wire).map_err(io_error)?;
    }
    if !report.findings.is_empty() {
        return Err(CliError::Findings {
            path: file.into(),
            findings: report.findings,
        });
    }
    if report.losses.is_empty() || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: file.into(),
            what: report.losses.one_line(),
        })
    }
}
