//! `rdmus record WIRE.tsv`.

use std::io::{BufReader, Write};
use std::path::Path;

use crate::cli::{CliError, PinFormat};
use crate::sim::{CaptureFormat, CapturedMessage, SimConfig, capture, join_sysex};
use crate::wine::{Images, JobSpec, run_job, write_capture_job};
use crate::wire_log::WireByte;
use crate::wire_log::{out_of_order, read_tsv};

/// Plays the wire log at `wire` into the card's input, reads the capture
/// pin in `format`, and writes the messages captured (with their times) to
/// `out_path` or `out`.
///
/// # Errors
/// [`CliError::Io`], [`CliError::Tsv`], [`CliError::Sim`], and after the output
/// [`CliError::Findings`] when the verifier found faults, else [`CliError::Loss`] when the
/// card lost input bytes and `allow_loss` is false.
pub fn record_file(
    wire: &Path,
    format: PinFormat,
    out_path: Option<&Path>,
    allow_loss: bool,
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
    if !run.rig.findings.is_empty() {
        return Err(CliError::Findings {
            path: wire.into(),
            findings: run.rig.findings,
        });
    }
    input_loss(wire, run.rig.input_lost, "the card", allow_loss)
}

/// The loss of a recording: input bytes `who` lost (the emulated card's count), unless
/// `allow_loss`.
fn input_loss(wire: &Path, lost: u64, who: &str, allow_loss: bool) -> Result<(), CliError> {
    if lost == 0 || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: wire.into(),
            what: format!(
                "{lost} input bytes {who} lost (its input queue full, or the card not yet in UART mode), so their messages are missing or cut"
            ),
        })
    }
}

/// `rdmus record --runtime wine`: the wire log at `wire` fed to the stand-in's emulated card
/// under the real x64 rdmus.sys, the capture pin's messages written as [`record_file`] writes
/// them (times are real time under Wine: the stand-in raises the card's interrupt from its
/// 1 ms loop).
///
/// # Errors
/// As [`record_file`], and [`CliError::Setup`], [`CliError::Wine`].
pub fn record_file_wine(
    wire: &Path,
    images: &Images,
    out_path: Option<&Path>,
    allow_loss: bool,
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
    // The job's times start at 0: a log that starts before its 0 is shifted, and the
    // captured times shifted back.
    let shift = -input.iter().map(|b| b.time).min().unwrap_or(0).min(0);
    let shifted: Vec<WireByte> = input
        .iter()
        .map(|b| WireByte {
            time: b.time + shift,
            byte: b.byte,
        })
        .collect();
    let last = shifted.iter().map(|b| b.time).max().unwrap_or(0);
    let write_job = |writer: &mut dyn Write| write_capture_job(writer, &shifted);
    let spec = JobSpec {
        write_job: &write_job,
        files: Vec::new(),
        music: std::time::Duration::from_nanos(u64::try_from(last).unwrap_or(0) * 100),
    };
    let run = run_job(images, &spec, wire)?;
    let captured = run.output("capture.tsv", wire)?;
    let text = std::fs::read_to_string(&captured).map_err(|error| CliError::Io {
        path: captured.clone(),
        error,
    })?;
    let mut messages = read_messages(&text).ok_or_else(|| CliError::Wine {
        path: wire.into(),
        error: format!("the stand-in's {} does not read", captured.display()),
    })?;
    for message in &mut messages {
        message.time -= shift;
    }
    let early = out_of_order(&input);
    let input_dropped = crate::wine::log_count(&run.log, "card:", "input dropped").unwrap_or(0);
    let comment = format!(
        "# {} input bytes, {} messages, input bytes lost {input_dropped}; under Wine: the packaged x64 rdmus.sys, real time (the host's clock), {:.1} s wall",
        input.len(),
        messages.len(),
        run.outcome.elapsed.as_secs_f64()
    );
    let mut lines = vec![comment];
    if early > 0 {
        lines.push(format!(
            "# warning: {early} bytes of the log start before a byte listed ahead of them; the card received every byte at its time, so they were re-sorted"
        ));
    }
    if let Some(path) = out_path {
        let io_error = |error| CliError::Io {
            path: path.into(),
            error,
        };
        let created = std::fs::File::create(path).map_err(io_error)?;
        let mut writer = std::io::BufWriter::new(created);
        for line in &lines {
            writeln!(writer, "{line}").map_err(io_error)?;
        }
        write_messages(&mut writer, &messages).map_err(io_error)?;
        writer.flush().map_err(io_error)?;
    } else {
        let stdout_error = |error| CliError::Io {
            path: "<stdout>".into(),
            error,
        };
        for line in &lines {
            writeln!(out, "{line}").map_err(stdout_error)?;
        }
        write_messages(out, &messages).map_err(stdout_error)?;
    }
    run.discard();
    input_loss(wire, input_dropped, "the stand-in's card", allow_loss)
}

/// Reads what [`write_messages`] writes (`#` lines and the header skipped); `None` at the
/// first line that is not `time_us<TAB>hex bytes`.
#[must_use]
pub fn read_messages(text: &str) -> Option<Vec<CapturedMessage>> {
    let mut messages = Vec::new();
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') || line.starts_with("time_us") {
            continue;
        }
        let (time, hex) = line.split_once('\t')?;
        let (negative, time) = time
            .strip_prefix('-')
            .map_or((false, time), |rest| (true, rest));
        let (us, tenth) = time.split_once('.').unwrap_or((time, "0"));
        if tenth.len() != 1 {
            return None;
        }
        let magnitude = us.parse::<i64>().ok()? * 10 + tenth.parse::<i64>().ok()?;
        let bytes = hex
            .split_whitespace()
            .map(|byte| u8::from_str_radix(byte, 16).ok())
            .collect::<Option<Vec<u8>>>()?;
        messages.push(CapturedMessage {
            time: if negative { -magnitude } else { magnitude },
            bytes,
        });
    }
    Some(messages)
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

#[cfg(test)]
mod tests {
    use super::{read_messages, write_messages};
    use crate::sim::CapturedMessage;

    #[test]
    fn messages_read_back_as_written() {
        let messages = vec![
            CapturedMessage {
                time: 10_003,
                bytes: vec![0x90, 0x40, 0x7F],
            },
            CapturedMessage {
                time: -7,
                bytes: vec![0xF8],
            },
        ];
        let mut text = Vec::new();
        write_messages(&mut text, &messages).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert_eq!(
            read_messages(&format!("# a comment\n{text}")),
            Some(messages)
        );
        assert_eq!(read_messages("time_us\tmessage\n1.23\t90\n"), None);
        assert_eq!(read_messages("1\tzz\n"), None);
    }
}
