//! `rdmus play --device synth --dls BANK.dls --wav OUT.wav`.
//!
//! The WAV's length: the file's end (its latest End-of-Track, delta included)
//! plus a [`RELEASE_TAIL`] for the last notes' releases, rounded up to whole
//! frames. The audio streams to the WAV as it is rendered (memory does not
//! grow with the length); a file longer than a WAV's data chunk can hold
//! ([`MAX_WAV_FRAMES`]) is refused before anything is rendered.

use core::fmt;
use std::io::Write;
use std::path::Path;

use dls::download::APPEND_SAMPLES;
use dls::download::build::{CollectionBuffers, build_collection};
use dls::wire::file::DlsFile;

use super::progress::bar;
use crate::cli::{CliError, PinFormat};
use crate::loss::{Losses, Troubles};
use crate::play_report::{Micros, packets};
use crate::sim::{
    RenderPin, SimConfig, SynthError, SynthOptions, SynthRun, render_synth, with_teardown_findings,
};
use smf::{MessageKind, Timeline};

/// Audio kept after the file's end for releases: 2 s (100 ns).
pub const RELEASE_TAIL: u64 = 20_000_000;

/// What `play --device synth` is asked to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthPlayOptions {
    /// The pin and its buffer format.
    pub format: PinFormat,
    /// Bytes per IRP buffer.
    pub irp_size: u32,
    /// The most music one IRP covers, 100 ns.
    pub irp_span: u64,
    /// How far ahead of the clock IRPs are written, 100 ns.
    pub queue_ahead: u64,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Voices asked for.
    pub voices: Option<u32>,
    /// `SYNTH_EFFECT_*` flags asked for.
    pub effects: u32,
    /// The machine.
    pub sim: SimConfig,
}

/// The most frames of 16-bit stereo a WAV holds: its RIFF chunk's size is a
/// 32-bit count of everything after the first 8 bytes, and a PCM WAV's header
/// after those is 36 bytes (`WAVE`, the 24-byte `fmt ` chunk, the `data`
/// chunk's header), so the data is at most 4 GiB − 37 bytes, 4 bytes a
/// frame: 1,073,741,814 frames (6 h 12 min at 48 kHz).
pub const MAX_WAV_FRAMES: u64 = (u32::MAX as u64 - 36) / 4;

/// Frames of audio rendered for `timeline` at `rate`.
#[must_use]
pub fn wav_frames(timeline: &Timeline, rate: u32) -> u64 {
    let length = u128::from(timeline.end_time.saturating_add(RELEASE_TAIL)) * u128::from(rate);
    u64::try_from(length.div_ceil(10_000_000)).unwrap_or(u64::MAX)
}

/// Renders `timeline` (read from `file`) with the bank at `dls_path`, writes
/// `wav_path`, prints the summary to `out`.
///
/// # Errors
/// [`CliError::Io`], [`CliError::Dls`] for a bank that is not valid DLS,
/// [`CliError::Irp`], [`CliError::Sim`]; after the summary,
/// [`CliError::Findings`] when the verifier found faults, else
/// [`CliError::Loss`] when something was lost and `allow_loss` is false.
pub fn play_synth(
    file: &Path,
    timeline: &Timeline,
    options: &SynthPlayOptions,
    dls_path: &Path,
    wav_path: &Path,
    allow_loss: bool,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let frames = wav_frames(timeline, options.rate);
    if frames > MAX_WAV_FRAMES {
        return Err(CliError::TooLongForWav {
            path: file.into(),
            frames,
            rate: options.rate,
        });
    }
    let buffers = load_bank(dls_path)?;
    let packets =
        packets(timeline, options.format, options.irp_size, options.irp_span).map_err(|error| {
            CliError::Irp {
                path: file.into(),
                error,
            }
        })?;
    let pin = match options.format {
        PinFormat::Ksmusic => RenderPin::Legacy,
        PinFormat::Dmus => RenderPin::DirectMusic,
    };
    let sim_options = SynthOptions {
        pin,
        queue_ahead: options.queue_ahead,
        rate: options.rate,
        voices: options.voices,
        effects: options.effects,
        sim: options.sim,
    };
    let mut wav = WavOut::create(wav_path, options.rate)?;
    let progress = bar(timeline.end_time.saturating_add(RELEASE_TAIL), "rendering");
    let result = render_synth(
        &packets,
        &buffers,
        frames,
        &sim_options,
        &mut |at| {
            progress.set_position(at / 10_000);
        },
        &mut |samples| wav.write(samples),
    );
    progress.finish_and_clear();
    let run = match result {
        Ok(run) => run,
        Err(error) => {
            wav.abandon();
            return Err(match error {
                SynthError::Sim(error) => CliError::Sim {
                    path: file.into(),
                    error: with_teardown_findings(error),
                },
                SynthError::Audio(error) => CliError::Io {
                    path: wav_path.into(),
                    error,
                },
            });
        }
    };
    wav.finish(run.rate)?;
    let report = SynthReport {
        options: *options,
        events: timeline.messages.len(),
        channel_events: timeline
            .messages
            .iter()
            .filter(|m| m.kind == MessageKind::Channel)
            .count(),
        waves: buffers.waves.len(),
        instruments: buffers.instruments.len(),
        run: &run,
    };
    let stdout_error = |error| CliError::Io {
        path: "<stdout>".into(),
        error,
    };
    writeln!(out, "file:        {}", file.display()).map_err(stdout_error)?;
    for warning in &timeline.warnings {
        writeln!(out, "warning:     {warning}").map_err(stdout_error)?;
    }
    writeln!(out, "bank:        {}", dls_path.display()).map_err(stdout_error)?;
    writeln!(out, "wav:         {}", wav_path.display()).map_err(stdout_error)?;
    write!(out, "{report}").map_err(stdout_error)?;
    if !run.rig.findings.is_empty() {
        return Err(CliError::Findings {
            path: file.into(),
            findings: run.rig.findings,
        });
    }
    let losses = synth_losses(&run);
    if losses.is_empty() || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: file.into(),
            what: losses.one_line(),
        })
    }
}

/// Reads and validates the DLS bank at `path` and builds its download buffers.
pub(super) fn load_bank(path: &Path) -> Result<CollectionBuffers, CliError> {
    let bank = std::fs::read(path).map_err(|error| CliError::Io {
        path: path.into(),
        error,
    })?;
    let dls_error = |error: String| CliError::Dls {
        path: path.into(),
        error,
    };
    let parsed = DlsFile::parse(&bank).map_err(|e| dls_error(e.to_string()))?;
    build_collection(&parsed, 1, APPEND_SAMPLES).map_err(|e| dls_error(format!("{e:?}")))
}

/// What did not happen of what the file asked for: IRPs and records the port
/// refused (its write reports), notes the synth lost (`RUNNINGSTATS`
/// `LostNotes`, by cause through rdmus's lost-notes property), samples it
/// clipped (rdmus's clipped-samples property).
fn synth_losses(run: &SynthRun) -> Losses {
    let mut losses = Losses::new();
    losses.add_troubles(&run.write_troubles);
    let causes = &run.lost_causes;
    losses.add(
        u64::from(run.lost_notes),
        format!(
            "notes lost (RUNNINGSTATS LostNotes: {} stolen + {} late + {} dropped)",
            causes.StolenVoices, causes.LateEvents, causes.DroppedEvents
        ),
    );
    losses.add(
        run.clipped_samples,
        "samples clipped to 16 bits (rdmus clipped-samples property)",
    );
    losses
}

/// The WAV being written as the synth renders: 16-bit stereo PCM.
struct WavOut {
    path: std::path::PathBuf,
    writer: hound::WavWriter<std::io::BufWriter<std::fs::File>>,
    rate: u32,
}

/// hound's error as the I/O error it is (or wraps).
fn hound_io(error: hound::Error) -> std::io::Error {
    match error {
        hound::Error::IoError(error) => error,
        other => std::io::Error::other(other.to_string()),
    }
}

impl WavOut {
    /// Creates `path` for audio at `rate`.
    fn create(path: &Path, rate: u32) -> Result<Self, CliError> {
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(path, spec).map_err(|error| CliError::Io {
            path: path.into(),
            error: hound_io(error),
        })?;
        Ok(Self {
            path: path.into(),
            writer,
            rate,
        })
    }

    /// Appends interleaved samples.
    fn write(&mut self, samples: &[i16]) -> std::io::Result<()> {
        for &sample in samples {
            self.writer.write_sample(sample).map_err(hound_io)?;
        }
        Ok(())
    }

    /// Completes the header. The synth granted `granted` Hz: a rate other
    /// than the one the header was written with is an error, never a WAV
    /// that plays at the wrong speed.
    fn finish(self, granted: u32) -> Result<(), CliError> {
        let io_error = |error| CliError::Io {
            path: self.path.clone(),
            error,
        };
        if granted != self.rate {
            let _ = std::fs::remove_file(&self.path);
            return Err(io_error(std::io::Error::other(format!(
                "the synth granted {granted} Hz, not the {} Hz asked for",
                self.rate
            ))));
        }
        self.writer.finalize().map_err(|e| io_error(hound_io(e)))
    }

    /// Removes the partial file after a failed render (best effort: the
    /// render's error is what gets reported).
    fn abandon(self) {
        drop(self.writer);
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The printed summary.
struct SynthReport<'a> {
    options: SynthPlayOptions,
    events: usize,
    channel_events: usize,
    waves: usize,
    instruments: usize,
    run: &'a SynthRun,
}

impl fmt::Display for SynthReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = self.run;
        let format = self.options.format.description();
        writeln!(
            f,
            "device:      synth, {format}, IRPs of up to {} bytes and {} ms, queued {} ms ahead",
            self.options.irp_size,
            self.options.irp_span / 10_000,
            self.options.queue_ahead / 10_000
        )?;
        writeln!(
            f,
            "download:    {} waves and {} instruments through KSPROPERTY_SYNTH_DLS_DOWNLOAD",
            self.waves, self.instruments
        )?;
        let asked = self
            .options
            .voices
            .map_or_else(|| "default".to_owned(), |v| v.to_string());
        writeln!(
            f,
            "synth:       {} Hz stereo, {} voices granted (asked {asked})",
            run.rate, run.voices_granted
        )?;
        writeln!(
            f,
            "events:      {} ({} channel, {} sysex/escape), {} IRPs",
            self.events,
            self.channel_events,
            self.events - self.channel_events,
            run.irps
        )?;
        let frames = run.frames;
        let audio_seconds = audio_seconds(frames, run.rate);
        writeln!(
            f,
            "audio:       {frames} frames ({audio_seconds:.2} s, file end + 2 s tail), peak sample {}, {} samples at full scale",
            run.peak, run.full_scale
        )?;
        writeln!(
            f,
            "voices:      {} used at most (RUNNINGSTATS Voices, read every 10 ms)",
            run.voices_peak
        )?;
        let causes = &run.lost_causes;
        writeln!(
            f,
            "stolen:      {} voices taken from held notes (rdmus lost-notes property, StolenVoices)",
            causes.StolenVoices
        )?;
        writeln!(
            f,
            "lost notes:  {} (RUNNINGSTATS LostNotes: {} stolen + {} late + {} dropped)",
            run.lost_notes, causes.StolenVoices, causes.LateEvents, causes.DroppedEvents
        )?;
        let wall = run.render_time.as_secs_f64();
        if wall > 0.0 {
            writeln!(
                f,
                "real time:   {:.1}x ({audio_seconds:.2} s of audio in {wall:.2} s wall time)",
                audio_seconds / wall
            )?;
        } else {
            writeln!(f, "real time:   not measured")?;
        }
        writeln!(
            f,
            "longest DPC: {} ({} DPCs and timer callbacks)",
            Micros(i64::try_from(run.rig.longest_dpc).unwrap_or(i64::MAX)),
            run.rig.dpcs
        )?;
        writeln!(
            f,
            "clipped:     {} samples clamped to 16 bits (rdmus clipped-samples property)",
            run.clipped_samples
        )?;
        if run.irps_resent > 0 {
            writeln!(
                f,
                "resent:      {} IRPs with the records a port with a dry pool had not taken",
                run.irps_resent
            )?;
        }
        write!(f, "{}", Troubles(&run.write_troubles))?;
        write!(f, "{}", synth_losses(run))?;
        for finding in &run.rig.findings {
            writeln!(f, "finding:     {finding}")?;
        }
        Ok(())
    }
}

/// `frames` at `rate` in seconds: whole seconds and the rest, each exact in an f64.
pub(crate) fn audio_seconds(frames: u64, rate: u32) -> f64 {
    let rate = rate.max(1);
    let whole = u32::try_from(frames / u64::from(rate)).unwrap_or(u32::MAX);
    let rest = u32::try_from(frames % u64::from(rate)).unwrap_or(0);
    f64::from(whole) + f64::from(rest) / f64::from(rate)
}
