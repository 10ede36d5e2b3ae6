//! `rdmus record WIRE.tsv`.

use std::io::{BufReader, Write};
use std::path::Path;

use crate::cli::{CliError, PinFormat};
use crate::sim::{CaptureFormat, CapturedMessage, SimConfig, capture, join_sysex};
use crate::wire_log::{out_of_order, read_tsv};

/// Plays the wire log at `wire` into the card's input, reads the capture
/// pin in `format`, and writes the messages captured (with their times) to
/// `out_path` or `out`.
///
/// # Errors
/// [`CliError::Io`], [`CliError::Tsv`], [`CliError::Sim`], and
/// [`CliError::Findings`] after the output when the verifier found faults.
pub fn record_file(
    wire: &Path,
    format: PinFormat,
    out_path: Option<&Path>,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let file = std::fs::File::open(wire).map_err(|error| CliError::Io {
        path: wire.into(),
        error,
    })?;
    let input = read_tsv(BufReader::new(file)).map_err(|error| CliError::Tsv {
        path: wire.into(),
        error,
    })?;
    let format = match format {
        PinFormat::Ksmusic => CaptureFormat::Legacy,
        PinFormat::Dmus => CaptureFormat::DirectMusic,
    };
    let run = capture(&input, format, &SimConfig::default()).map_err(|error| CliError::Sim {
        path: wire.into(),
        error,
    })?;
    let messages = join_sysex(&run.records);
    let early = out_of_order(&input);
    let warning = (early > 0).then(|| {
        format!(
            "# warning: {early} bytes of the log start before a byte listed ahead of them; the card received every byte at its time, so they were re-sorted"
        )
    });
    let comment = format!(
        "# {} input bytes, {} records in {} capture reads, {} messages; input bytes lost {}, longest ISR {} x 100 ns, longest DPC {} x 100 ns",
        input.len(),
        run.records.len(),
        run.reads,
        messages.len(),
        run.rig.input_lost,
        run.rig.longest_isr,
        run.rig.longest_dpc
    );
    if let Some(path) = out_path {
        let io_error = |error| CliError::Io {
            path: path.into(),
            error,
        };
        let created = std::fs::File::create(path).map_err(io_error)?;
        let mut writer = std::io::BufWriter::new(created);
        writeln!(writer, "{comment}").map_err(io_error)?;
        if let Some(warning) = &warning {
            writeln!(writer, "{warning}").map_err(io_error)?;
            writeln!(out, "{warning}").map_err(io_error)?;
        }
        write_messages(&mut writer, &messages).map_err(io_error)?;
        writer.flush().map_err(io_error)?;
    } else {
        let stdout_error = |error| CliError::Io {
            path: "<stdout>".into(),
            error,
        };
        writeln!(out, "{comment}").map_err(stdout_error)?;
        if let Some(warning) = &warning {
            writeln!(out, "{warning}").map_err(stdout_error)?;
        }
        write_messages(out, &messages).map_err(stdout_error)?;
    }
    if run.rig.findings.is_empty() {
        Ok(())
    } else {
        Err(CliError::Findings {
            path: wire.into(),
            findings: run.rig.findings,
        })
    }
}

/// Writes messages as `time_us<TAB>hex bytes` lines under a header, times
/// with one decimal (100 ns) as in the wire logs.
///
/// # Errors
/// Any I/O error of `out`.
pub fn write_messages(out: &mut impl Write, messages: &[CapturedMessage]) -> std::io::Result<()> {
    writeln!(out, "time_us\tmessage")?;
    for message in messages {
        let sign = if message.time < 0 { "-" } else { "" };
        let abs = message.time.unsigned_abs();
        let hex: Vec<String> = message.bytes.iter().map(|b| format!("{b:02x}")).collect();
        writeln!(out, "{sign}{}.{}\t{}", abs / 10, abs % 10, hex.join(" "))?;
    }
    Ok(())
}
