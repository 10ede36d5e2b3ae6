//! `rdmus play --runtime wine`: the file played by the real x64 rdmus.sys under Wine (the
//! stand-in portcls.sys hands the events to the driver's stream as PortCls would; no IRPs
//! reach a driver under Wine), the same summary lines as in the simulation, the same wire
//! log and WAV, and the same loss accounting and exit codes.

use core::fmt;
use core::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use super::play_synth::{MAX_WAV_FRAMES, audio_seconds, load_bank, wav_frames};
use crate::cli::{CardFault, CliError, PinFormat};
use crate::loss::Losses;
use crate::play_report::{Micros, fmt_timing};
use crate::wine::job::presented;
use crate::wine::{Images, JobDevice, JobRun, JobSpec, log_count, run_job, write_play_job};
use crate::wire_log::{
    BurstRate, Lateness, Margins, burst_rate, compare, ideal_wire, margins, read_tsv, write_tsv,
};
use clap::ValueEnum as _;
use smf::{MessageKind, Timeline};

/// The clock line of every Wine summary.
const CLOCK: &str = "clock:       Wine: real time, the host's clock (the stand-in's master clock is \
                     KeQueryPerformanceCounter; its port loop runs every 1 ms)";

/// The machine line of every Wine summary.
fn machine_line(run: &JobRun) -> String {
    format!(
        "machine:     Wine: the packaged x64 rdmus.sys (its bench copy: {} ranges differ, kernel \
         imports through wineshim.sys) with the stand-in portcls.sys; {:.1} s wall (prefix copy \
         to teardown)",
        run.changed_ranges,
        run.outcome.elapsed.as_secs_f64()
    )
}

/// The pool line of every Wine summary.
fn pool_line(run: &JobRun) -> String {
    format!(
        "pool:        nothing left after the unload ({} allocations, {} failed, peak {} bytes \
         outstanding; the stand-in's accounting)",
        run.unload.get("allocations").unwrap_or(0),
        run.unload.get("allocation_failures").unwrap_or(0),
        run.unload.get("peak_bytes").unwrap_or(0)
    )
}

fn stdout_error(error: std::io::Error) -> CliError {
    CliError::Io {
        path: "<stdout>".into(),
        error,
    }
}

fn music_length(timeline: &Timeline, tail: u64) -> Duration {
    Duration::from_nanos(timeline.end_time.saturating_add(tail).saturating_mul(100))
}

/// What `play --device mpu401 --runtime wine` asks for.
#[derive(Clone, Copy, Debug)]
pub struct WineMpu401Options<'a> {
    /// The pin and its format.
    pub format: PinFormat,
    /// How the card is broken (`--mpu-fault`).
    pub card: CardFault,
    /// Where the observed wire goes.
    pub wire: Option<&'a Path>,
    /// Exit 0 despite losses.
    pub allow_loss: bool,
}

/// Plays `timeline` on the MPU-401 under Wine, prints the summary, writes the observed wire.
///
/// # Errors
/// [`CliError::Setup`], [`CliError::Wine`] (also: the device did not start), [`CliError::Io`],
/// [`CliError::Findings`] for the stand-in's leak accounting, [`CliError::Loss`] when
/// something was lost and `allow_loss` is false.
pub fn play_file_wine(
    file: &Path,
    timeline: &Timeline,
    options: &WineMpu401Options<'_>,
    images: &Images,
    out: &mut impl Write,
) -> Result<(), CliError> {
    let WineMpu401Options {
        format,
        card,
        wire: wire_path,
        allow_loss,
    } = *options;
    let device = JobDevice::Mpu401 { card };
    let write_job = |writer: &mut dyn Write| write_play_job(writer, timeline, &device, format);
    let spec = JobSpec {
        write_job: &write_job,
        files: Vec::new(),
        music: music_length(timeline, 10_000_000),
    };
    let run = run_job(images, &spec, file)?;
    if card == CardFault::Absent {
        return absent_card(file, &run);
    }
    if run.log.contains("broken card: StartDevice failed") {
        return broken_card(file, card, &run);
    }
    let wire_file = run.output("wire.tsv", file)?;
    let wire = std::fs::File::open(&wire_file)
        .map_err(|error| CliError::Io {
            path: wire_file.clone(),
            error,
        })
        .and_then(|opened| {
            read_tsv(std::io::BufReader::new(opened)).map_err(|error| CliError::Tsv {
                path: wire_file.clone(),
                error,
            })
        })?;
    // The render stream's RUNNINGSTATS LostNotes, read by the stand-in after STOP (a job
    // without events opens no render stream).
    let driver_lost = if timeline.messages.iter().any(|m| !m.bytes.is_empty()) {
        let stats_file = run.output("stats.txt", file)?;
        let text = std::fs::read_to_string(&stats_file).map_err(|error| CliError::Io {
            path: stats_file.clone(),
            error,
        })?;
        crate::wine::Accounting::parse(&text)
            .get("lost_events")
            .and_then(|lost| u64::try_from(lost).ok())
            .ok_or_else(|| CliError::Wine {
                path: file.into(),
                error: format!("{} has no lost_events count", stats_file.display()),
            })?
    } else {
        0
    };
    let ideal = ideal_wire(timeline);
    let report = WireReport {
        driver_lost,
        format,
        events: timeline.messages.len(),
        channel_events: count_channel(timeline),
        bytes: timeline.byte_count(),
        exact: wire.len() == ideal.len() && wire.iter().zip(&ideal).all(|(a, b)| a.byte == b.byte),
        lateness: compare(&ideal, &wire),
        margins: margins(timeline, &wire, |time| presented(time, format)),
        bursts: burst_rate(&ideal, &wire),
        overruns: log_count(&run.log, "card:", "overruns").unwrap_or(0),
        card_dropped: log_count(&run.log, "card:", "wire bytes dropped").unwrap_or(0),
        wire_len: wire.len(),
    };
    let losses = report.losses();
    writeln!(out, "file:        {}", file.display()).map_err(stdout_error)?;
    for warning in &timeline.warnings {
        writeln!(out, "warning:     {warning}").map_err(stdout_error)?;
    }
    write!(out, "{report}").map_err(stdout_error)?;
    writeln!(out, "{}", machine_line(&run)).map_err(stdout_error)?;
    writeln!(out, "{CLOCK}").map_err(stdout_error)?;
    writeln!(out, "{}", pool_line(&run)).map_err(stdout_error)?;
    write!(out, "{losses}").map_err(stdout_error)?;
    if let Some(path) = wire_path {
        let io_error = |error| CliError::Io {
            path: path.into(),
            error,
        };
        let created = std::fs::File::create(path).map_err(io_error)?;
        write_tsv(std::io::BufWriter::new(created), &wire).map_err(io_error)?;
    }
    run.discard();
    if losses.is_empty() || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: file.into(),
            what: losses.one_line(),
        })
    }
}

/// A job without a card: `StartDevice` must have failed and the driver unloaded cleanly (both
/// checked by then); the run is still a failed device, as in the simulation.
fn absent_card(file: &Path, run: &JobRun) -> Result<(), CliError> {
    let start = run
        .log
        .lines()
        .find(|line| line.starts_with("StartDevice:"))
        .unwrap_or("StartDevice: not called");
    let error = if run.log.contains("no card: StartDevice failed as it must") {
        format!(
            "the device did not start: {start} (no card answers); the driver unloaded cleanly, \
             nothing left in the stand-in's pool ({:.1} s under Wine)",
            run.outcome.elapsed.as_secs_f64()
        )
    } else {
        format!(
            "no card answers, yet the stand-in's log does not show StartDevice failing ({start}); see {}",
            run.dir.display()
        )
    };
    run.discard();
    Err(CliError::Wine {
        path: file.into(),
        error,
    })
}

/// A broken card whose `StartDevice` failed (as `never-acks` does in the simulation: the
/// driver waits for an ACK that never comes): a failed device, exit 4 as in the simulation;
/// the driver still unloaded cleanly (checked by then).
fn broken_card(file: &Path, card: CardFault, run: &JobRun) -> Result<(), CliError> {
    let start = run
        .log
        .lines()
        .find(|line| line.starts_with("StartDevice:"))
        .unwrap_or("StartDevice: not called");
    let name = card
        .to_possible_value()
        .map_or_else(String::new, |v| v.get_name().to_owned());
    let error = format!(
        "the device did not start: {start} (--mpu-fault {name}); the driver unloaded cleanly, \
         nothing left in the stand-in's pool ({:.1} s under Wine)",
        run.outcome.elapsed.as_secs_f64()
    );
    run.discard();
    Err(CliError::Wine {
        path: file.into(),
        error,
    })
}

fn count_channel(timeline: &Timeline) -> usize {
    timeline
        .messages
        .iter()
        .filter(|m| m.kind == MessageKind::Channel)
        .count()
}

/// What the wire under Wine showed.
struct WireReport {
    driver_lost: u64,
    format: PinFormat,
    events: usize,
    channel_events: usize,
    bytes: usize,
    exact: bool,
    lateness: Lateness,
    margins: Option<Margins>,
    bursts: Option<BurstRate>,
    overruns: u64,
    card_dropped: u64,
    wire_len: usize,
}

impl WireReport {
    /// The losses the simulation's `play` counts that the Wine run can show: the file's
    /// messages missing, out of order or with extra bytes on the wire, events the driver gave
    /// back unplayed, bytes written while the card was not ready, and bytes the stand-in's card
    /// could not log. (No IRPs under Wine, so none refused; the timer-fallback trace goes to
    /// Wine's debug channel, not read here.)
    fn losses(&self) -> Losses {
        let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
        let mut losses = Losses::new();
        losses.add(
            count(self.lateness.missing_messages),
            format!(
                "of the file's messages not on the wire ({} bytes not sent)",
                self.lateness.missing_bytes
            ),
        );
        losses.add(
            count(self.lateness.reordered),
            "messages on the wire out of order",
        );
        losses.add(
            count(self.lateness.extra_bytes),
            "bytes on the wire the file did not ask for",
        );
        losses.add(
            self.driver_lost,
            "events the driver gave back unplayed (RUNNINGSTATS LostNotes of the render stream)",
        );
        losses.add(
            self.overruns,
            "bytes written while the card's output was not ready (lost at the card)",
        );
        losses.add(
            self.card_dropped,
            "bytes the stand-in's card could not log (its wire log full)",
        );
        losses
    }
}

impl fmt::Display for WireReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = self.format.description();
        writeln!(
            f,
            "device:      mpu401, {format}, events handed to the stream by the stand-in's port \
             (KS pin I/O does not reach a driver under Wine)"
        )?;
        writeln!(
            f,
            "events:      {} ({} channel, {} sysex/escape), {} bytes",
            self.events,
            self.channel_events,
            self.events - self.channel_events,
            self.bytes
        )?;
        let l = &self.lateness;
        if self.exact {
            writeln!(
                f,
                "wire:        {} bytes, exactly the file's messages in order",
                self.wire_len
            )?;
            match l.lateness {
                Some(p) => writeln!(
                    f,
                    "lateness:    p50 {}, p99 {}, max {} against the ideal wire (real time under Wine)",
                    Micros(p.p50),
                    Micros(p.p99),
                    Micros(p.max)
                )?,
                None => writeln!(f, "lateness:    no message to measure")?,
            }
        } else {
            writeln!(
                f,
                "wire:        {} bytes, NOT the file's messages: {} of {} matched, {} missing ({} bytes), {} extra ({} bytes), {} out of order",
                self.wire_len,
                l.matched,
                l.ideal_messages,
                l.missing_messages,
                l.missing_bytes,
                l.extra_messages,
                l.extra_bytes,
                l.reordered
            )?;
            writeln!(
                f,
                "lateness:    not measured (the wire is not the file's messages)"
            )?;
        }
        writeln!(
            f,
            "dropped:     {} events ({} bytes), {} bytes overrun at the card",
            l.missing_messages, l.missing_bytes, self.overruns
        )?;
        fmt_timing(f, self.margins, self.bursts)
    }
}

/// What `play --device synth --runtime wine` asks for.
#[derive(Clone, Copy, Debug)]
pub struct WineSynthOptions<'a> {
    /// The pin and its format.
    pub format: PinFormat,
    /// Sample rate, Hz.
    pub rate: u32,
    /// Voices asked for.
    pub voices: Option<u32>,
    /// `SYNTH_EFFECT_*` flags.
    pub effects: u32,
    /// The DLS bank.
    pub dls: &'a Path,
    /// The WAV to write.
    pub wav: &'a Path,
}

/// Renders `timeline` with the synth under Wine, writes the WAV, prints the summary.
///
/// # Errors
/// As [`play_file_wine`], and [`CliError::Dls`] for a bank that is not valid DLS,
/// [`CliError::TooLongForWav`] before anything runs.
pub fn play_synth_wine(
    file: &Path,
    timeline: &Timeline,
    options: &WineSynthOptions<'_>,
    images: &Images,
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
    let buffers = load_bank(options.dls)?;
    let device = JobDevice::Synth {
        bank: "bank.dls".into(),
        rate: options.rate,
        voices: options.voices,
        effects: options.effects,
        frames,
    };
    let write_job =
        |writer: &mut dyn Write| write_play_job(writer, timeline, &device, options.format);
    let spec = JobSpec {
        write_job: &write_job,
        files: vec![(options.dls.to_path_buf(), "bank.dls")],
        music: music_length(timeline, super::play_synth::RELEASE_TAIL),
    };
    let run = run_job(images, &spec, file)?;
    let wav_file = run.output("out.wav", file)?;
    let stats = read_stats(&run, file)?;
    let audio = read_wav(&wav_file)?;
    if audio.rate != options.rate {
        return Err(CliError::Wine {
            path: file.into(),
            error: format!(
                "the synth granted {} Hz, not the {} Hz asked for",
                audio.rate, options.rate
            ),
        });
    }
    std::fs::copy(&wav_file, options.wav).map_err(|error| CliError::Io {
        path: options.wav.into(),
        error,
    })?;
    let figure = |name: &str| u64::try_from(stats.get(name).unwrap_or(0)).unwrap_or(0);
    let report = SynthWineReport {
        options: *options,
        events: timeline.messages.len(),
        channel_events: count_channel(timeline),
        waves: buffers.waves.len(),
        instruments: buffers.instruments.len(),
        frames: audio.frames,
        peak: audio.peak,
        full_scale: audio.full_scale,
        voices_granted: figure("voices_granted"),
        voices_peak: figure("voices_peak"),
        lost: [
            figure("lost_notes"),
            figure("stolen_voices"),
            figure("late_events"),
            figure("dropped_events"),
        ],
        clipped: figure("clipped_samples"),
    };
    let mut losses = Losses::new();
    losses.add(
        report.lost[0],
        format!(
            "notes lost (RUNNINGSTATS LostNotes: {} stolen + {} late + {} dropped)",
            report.lost[1], report.lost[2], report.lost[3]
        ),
    );
    losses.add(
        report.clipped,
        "samples clipped to 16 bits (rdmus clipped-samples property)",
    );
    if frames != report.frames {
        losses.add(
            frames.abs_diff(report.frames),
            format!("frames of audio missing or extra (asked {frames})"),
        );
    }
    print_synth(out, file, timeline, &report, &run)?;
    write!(out, "{losses}").map_err(stdout_error)?;
    run.discard();
    if losses.is_empty() || allow_loss {
        Ok(())
    } else {
        Err(CliError::Loss {
            path: file.into(),
            what: losses.one_line(),
        })
    }
}

/// Prints the synth summary's lines before the losses.
fn print_synth(
    out: &mut impl Write,
    file: &Path,
    timeline: &Timeline,
    report: &SynthWineReport<'_>,
    run: &JobRun,
) -> Result<(), CliError> {
    writeln!(out, "file:        {}", file.display()).map_err(stdout_error)?;
    for warning in &timeline.warnings {
        writeln!(out, "warning:     {warning}").map_err(stdout_error)?;
    }
    writeln!(out, "bank:        {}", report.options.dls.display()).map_err(stdout_error)?;
    writeln!(out, "wav:         {}", report.options.wav.display()).map_err(stdout_error)?;
    write!(out, "{report}").map_err(stdout_error)?;
    writeln!(out, "{}", machine_line(run)).map_err(stdout_error)?;
    writeln!(
        out,
        "{CLOCK}; the wave sink renders each 10 ms period when it starts playing, on a master \
         clock held at the period's time (the stand-in's docs)"
    )
    .map_err(stdout_error)?;
    writeln!(out, "{}", pool_line(run)).map_err(stdout_error)?;
    Ok(())
}

/// The stand-in's `stats.txt`, checked to be read through the driver's own property set.
fn read_stats(run: &JobRun, file: &Path) -> Result<crate::wine::Accounting, CliError> {
    let stats_file = run.output("stats.txt", file)?;
    let text = std::fs::read_to_string(&stats_file).map_err(|error| CliError::Io {
        path: stats_file.clone(),
        error,
    })?;
    let set = text
        .lines()
        .find_map(|line| line.strip_prefix("lost_notes_set\t"))
        .unwrap_or_default();
    let driver_set = guid_text(&rdmus_driver::KSPROPSETID_RdmusSynthLostNotes);
    if set != driver_set {
        return Err(CliError::Wine {
            path: file.into(),
            error: format!(
                "the stand-in read lost notes through property set {set:?}, the driver's is {driver_set}"
            ),
        });
    }
    Ok(crate::wine::Accounting::parse(&text))
}

/// A GUID as the stand-in writes it: `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase.
fn guid_text(g: &dmus_sys::guid::GUID) -> String {
    let tail = g.Data4[2..].iter().fold(String::new(), |mut text, b| {
        let _ = write!(text, "{b:02x}");
        text
    });
    format!(
        "{:08x}-{:04x}-{:04x}-{:02x}{:02x}-{tail}",
        g.Data1, g.Data2, g.Data3, g.Data4[0], g.Data4[1]
    )
}

/// A 16-bit stereo WAV's figures, read sample by sample (memory does not grow with its
/// length, as in the simulation's streamed WAV).
struct Audio {
    rate: u32,
    frames: u64,
    peak: i32,
    full_scale: u64,
}

fn read_wav(path: &Path) -> Result<Audio, CliError> {
    let wav_error = |error: hound::Error| CliError::Wine {
        path: path.into(),
        error: format!("the stand-in's WAV does not read: {error}"),
    };
    let reader = hound::WavReader::open(path).map_err(wav_error)?;
    let spec = reader.spec();
    if spec.channels != 2 || spec.bits_per_sample != 16 {
        return Err(CliError::Wine {
            path: path.into(),
            error: format!(
                "the stand-in's WAV is {} channels of {} bits, not 16-bit stereo",
                spec.channels, spec.bits_per_sample
            ),
        });
    }
    let mut audio = Audio {
        rate: spec.sample_rate,
        frames: 0,
        peak: 0,
        full_scale: 0,
    };
    let mut samples = 0_u64;
    for sample in reader.into_samples::<i16>() {
        let sample = sample.map_err(wav_error)?;
        samples += 1;
        audio.peak = audio.peak.max(i32::from(sample).abs());
        audio.full_scale += u64::from(sample == i16::MAX || sample == i16::MIN);
    }
    audio.frames = samples / 2;
    Ok(audio)
}

/// The synth summary under Wine: the simulation's lines where the stand-in can read the same
/// figure.
struct SynthWineReport<'a> {
    options: WineSynthOptions<'a>,
    events: usize,
    channel_events: usize,
    waves: usize,
    instruments: usize,
    frames: u64,
    peak: i32,
    full_scale: u64,
    voices_granted: u64,
    voices_peak: u64,
    /// `LostNotes`, stolen, late, dropped.
    lost: [u64; 4],
    clipped: u64,
}

impl fmt::Display for SynthWineReport<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = self.options.format.description();
        writeln!(
            f,
            "device:      synth, {format}, events handed to the stream by the stand-in's port \
             (KS pin I/O does not reach a driver under Wine)"
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
            self.options.rate, self.voices_granted
        )?;
        writeln!(
            f,
            "events:      {} ({} channel, {} sysex/escape)",
            self.events,
            self.channel_events,
            self.events - self.channel_events
        )?;
        let seconds = audio_seconds(self.frames, self.options.rate);
        writeln!(
            f,
            "audio:       {} frames ({seconds:.2} s, file end + 2 s tail), peak sample {}, {} samples at full scale",
            self.frames, self.peak, self.full_scale
        )?;
        writeln!(
            f,
            "voices:      {} used at most (RUNNINGSTATS Voices, read every 10 ms)",
            self.voices_peak
        )?;
        writeln!(
            f,
            "stolen:      {} voices taken from held notes (rdmus lost-notes property, StolenVoices)",
            self.lost[1]
        )?;
        writeln!(
            f,
            "lost notes:  {} (RUNNINGSTATS LostNotes: {} stolen + {} late + {} dropped)",
            self.lost[0], self.lost[1], self.lost[2], self.lost[3]
        )?;
        writeln!(
            f,
            "clipped:     {} samples clamped to 16 bits (rdmus clipped-samples property)",
            self.clipped
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::guid_text;

    #[test]
    fn the_lost_notes_set_is_written_as_the_stand_in_writes_it() {
        assert_eq!(
            guid_text(&rdmus_driver::KSPROPSETID_RdmusSynthLostNotes),
            "9a4be1c6-2f7d-4e58-b3a0-6c51d8e9f247"
        );
    }
}
