//! The command line: what `rdmus` accepts and what each command does.
//!
//! `play --device mpu401`, `record` and `bench-wire` run the driver's MPU-401
//! miniport in wdm-sim; `play --device synth` its DLS synth miniport.

use core::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

use crate::inspect::Summary;
use crate::irp::IrpError;
use crate::play_report::PlayOptions;
use crate::sim::{DPC_GUIDELINE_US, Mpu401Fault, SimConfig, SimError};
use crate::wire_log::{TsvError, ideal_wire, write_tsv};
use smf::Timeline;
use smf::{SmfError, read_smf};

/// Plays Standard MIDI Files through the rdmus driver in a simulated Windows kernel.
#[derive(Debug, Parser)]
#[command(name = "rdmus", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The device a file is played on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Device {
    /// The MPU-401 UART port (bytes on a MIDI wire).
    Mpu401,
    /// The DLS software synthesizer (audio).
    Synth,
}

/// An effect on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Switch {
    /// On.
    On,
    /// Off.
    Off,
}

/// The pin (and buffer format) an application writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PinFormat {
    /// The legacy MIDI pin: KSMUSICFORMAT, millisecond deltas (winmm).
    Ksmusic,
    /// The DirectMusic pin: `DMUS_EVENTHEADER`, 100 ns deltas.
    Dmus,
}

impl PinFormat {
    /// The buffer format and pin, as the summaries name them.
    #[must_use]
    pub fn description(self) -> &'static str {
        match self {
            Self::Ksmusic => "KSMUSICFORMAT (legacy MIDI pin)",
            Self::Dmus => "DMUS_EVENTHEADER (DirectMusic pin)",
        }
    }
}

/// Where the driver runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Runtime {
    /// The driver's code built for this host, in wdm-sim's simulated kernel: virtual time,
    /// deterministic, with its Driver Verifier-like checks.
    Sim,
    /// The packaged x64 rdmus.sys under Wine's kernel on the real CPU, with the stand-in
    /// portcls.sys (crates/portcls-standin) and its emulated MPU-401: real time, the host's
    /// clock. Needs wine and mingw-w64; installs nothing.
    Wine,
}

/// How the emulated MPU-401 is broken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CardFault {
    /// A working card.
    None,
    /// Nothing answers at the card's ports.
    Absent,
    /// The card never acknowledges a command.
    NeverAcks,
    /// The card takes bytes but never sends them.
    NeverDrains,
}

impl CardFault {
    /// The simulation's fault.
    #[must_use]
    pub const fn sim(self) -> Mpu401Fault {
        match self {
            Self::None => Mpu401Fault::None,
            Self::Absent => Mpu401Fault::Absent,
            Self::NeverAcks => Mpu401Fault::NeverAcks,
            Self::NeverDrains => Mpu401Fault::NeverDrains,
        }
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play FILE.mid through the driver in the simulation (or, with
    /// `--runtime wine`, the real x64 rdmus.sys under Wine) and report
    /// lateness.
    ///
    /// Options marked "mpu401 only" or "synth only" are usage errors with the
    /// other device.
    Play(PlayArgs),
    /// Feed a recorded wire log to the driver's capture pin in the simulation
    /// and print the messages captured, with their times.
    Record {
        /// The wire log: per byte, its start in µs, a tab, its hex.
        wire: PathBuf,
        /// The buffer format the application reads.
        #[arg(long, value_enum, default_value_t = PinFormat::Dmus)]
        format: PinFormat,
        /// Write the captured messages here instead of to standard output.
        #[arg(long, value_name = "OUT.tsv")]
        out: Option<PathBuf>,
        /// Where the driver runs: `sim` or `wine` (the packaged x64
        /// rdmus.sys under Wine; the stand-in hands captured events to its
        /// own sink, no IRPs, so --format is refused there).
        #[arg(long, value_enum, default_value_t = Runtime::Sim)]
        runtime: Runtime,
        /// The x64 rdmus.sys a Wine run uses (wine only; as `play --image`).
        #[arg(long, value_name = "PATH")]
        image: Option<PathBuf>,
        /// The stand-in portcls.sys a Wine run uses (wine only; as `play
        /// --standin`).
        #[arg(long, value_name = "PATH")]
        standin: Option<PathBuf>,
        /// Exit 0 even when the card lost input bytes (they are still
        /// counted in the output's comment line).
        #[arg(long)]
        allow_loss: bool,
        /// Whether --format was given on the command line: filled after
        /// parsing.
        #[arg(skip)]
        format_given: bool,
    },
    /// Play files through the driver in both formats, with a 16-byte and a
    /// 1-byte MPU-401 FIFO, and print a table of the wire's figures.
    BenchWire {
        /// Standard MIDI Files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// High-resolution timer resolution of the simulated kernel, µs: 500
        /// to 15,625.
        #[arg(long, value_name = "N", default_value_t = 1000, value_parser = timer_res_range())]
        timer_res_us: u32,
        /// Size of each IRP's data buffer, bytes: 24 to 65,536.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IRP_SIZE, value_parser = irp_size_range())]
        irp_size: u32,
        /// Exit 0 even when a run lost something the file asked for (the
        /// table and its `# loss:` lines still show it).
        #[arg(long)]
        allow_loss: bool,
    },
    /// Print both filters (or one) as a client sees them through KS properties.
    Describe {
        /// Only this device's filter.
        #[arg(long, value_enum)]
        device: Option<Device>,
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print what FILE.mid would send: events, bytes, duration, ideal wire, IRPs.
    Inspect {
        /// The Standard MIDI File.
        file: PathBuf,
        /// Size of each IRP's data buffer, bytes: 24 to 65,536.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IRP_SIZE, value_parser = irp_size_range())]
        irp_size: u32,
        /// Write the ideal wire here: per byte, its start in µs, a tab, its hex.
        #[arg(long, value_name = "OUT.tsv")]
        ideal_wire: Option<PathBuf>,
    },
}

/// `rdmus play`'s arguments.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// The Standard MIDI File.
    pub file: PathBuf,
    /// The device to play on.
    #[arg(long, value_enum, default_value_t = Device::Mpu401)]
    pub device: Device,
    /// The buffer format the application sends (and with it the pin).
    #[arg(long, value_enum, default_value_t = PinFormat::Ksmusic)]
    pub format: PinFormat,
    /// Write the observed wire here: per byte, its start in µs, a tab, its
    /// hex (mpu401 only).
    #[arg(long, value_name = "OUT.tsv")]
    pub wire: Option<PathBuf>,
    /// High-resolution timer resolution of the simulated kernel, µs: 500
    /// (Windows' finest) to 15,625 (its default clock tick).
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = timer_res_range())]
    pub timer_res_us: u32,
    /// Output FIFO depth of the emulated MPU-401, bytes: 1 (the original
    /// card) to 1,024 [default: 16] (mpu401 only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_MPU_FIFO)))]
    pub mpu_fifo: Option<u32>,
    /// A DPC running longer than this is a verifier finding, µs: 1 to
    /// 1,000,000 (the simulation's DPC watchdog) [default: what the card
    /// needs: 100 (Microsoft's guideline for DPCs), or 1,000 (the driver's
    /// 900 µs budget for waiting on the card, plus 100) when the MPU-401's
    /// FIFO, 320 µs of wire a byte, plays out within one timer period, as
    /// the original card's single byte does].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_DPC_BOUND_US)))]
    pub dpc_bound_us: Option<u32>,
    /// How far ahead of the clock IRPs are written, ms: 1 to 60,000.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_QUEUE_AHEAD_MS, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_QUEUE_AHEAD_MS)))]
    pub queue_ahead_ms: u32,
    /// Break the emulated card this way [default: none] (mpu401 only).
    #[arg(long, value_enum)]
    pub mpu_fault: Option<CardFault>,
    /// The most music one IRP covers, ms: 1 to 10,000.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_IRP_MS, value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_IRP_MS)))]
    pub irp_ms: u32,
    /// DLS collection for the synth (synth only, required).
    #[arg(long, value_name = "BANK.dls")]
    pub dls: Option<PathBuf>,
    /// Write the synth's output here, 16-bit stereo PCM (synth only,
    /// required; a WAV holds at most 4 GiB: 6 h 12 min at 48 kHz).
    #[arg(long, value_name = "OUT.wav")]
    pub wav: Option<PathBuf>,
    /// Synth sample rate, Hz: 22,050 to 48,000 [default: 48000] (synth
    /// only).
    #[arg(long, value_name = "HZ", value_parser = clap::value_parser!(u32).range(22_050..=48_000))]
    pub rate: Option<u32>,
    /// Synth voices asked through PORTPARAMETERS: 1 to 256 (the synth's
    /// most) [default: the synth's default] (synth only).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_VOICES)))]
    pub voices: Option<u32>,
    /// The synth's reverb, asked for through PORTPARAMETERS
    /// (`SYNTH_EFFECT_REVERB`) [default: on, as Microsoft's software
    /// synthesizer has it: "reverberation capabilities, which are on by
    /// default" (DirectX 6 DirectMusic overview)] (synth only).
    #[arg(long, value_enum, value_name = "on|off")]
    pub reverb: Option<Switch>,
    /// The synth's chorus (`SYNTH_EFFECT_CHORUS`) [default: off, as
    /// Microsoft's synthesizer, which has none] (synth only).
    #[arg(long, value_enum, value_name = "on|off")]
    pub chorus: Option<Switch>,
    /// Size of each IRP's data buffer, bytes: 24 (one DirectMusic record
    /// of a channel message) to 65,536 (the most winmm's midiStreamOut
    /// takes in one buffer).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IRP_SIZE, value_parser = irp_size_range())]
    pub irp_size: u32,
    /// Exit 0 even when something the file asked for did not happen (it is
    /// still reported).
    #[arg(long)]
    pub allow_loss: bool,
    /// Where the driver runs: `sim` (its host build in the simulated kernel)
    /// or `wine` (the packaged x64 rdmus.sys under Wine, real time; the
    /// simulation's machine options --timer-res-us, --dpc-bound-us,
    /// --mpu-fifo, --queue-ahead-ms, --irp-ms and --irp-size are usage errors
    /// there; --mpu-fault breaks the stand-in's card as the simulation's).
    #[arg(long, value_enum, default_value_t = Runtime::Sim)]
    pub runtime: Runtime,
    /// The x64 rdmus.sys a Wine run uses [default:
    /// target/package/x64/rdmus.sys, built by `cargo xtask package --arch
    /// x64`] (wine only).
    #[arg(long, value_name = "PATH")]
    pub image: Option<PathBuf>,
    /// The stand-in portcls.sys a Wine run uses [default:
    /// target/standin/x64/portcls.sys, built by `cargo xtask standin`] (wine
    /// only).
    #[arg(long, value_name = "PATH")]
    pub standin: Option<PathBuf>,
    /// The options given on the command line (not taken from defaults), by
    /// their long names: filled after parsing.
    #[arg(skip)]
    pub given: Vec<&'static str>,
}

/// The options of `play` that shape the simulated machine or the IRPs, by id and flag: under
/// Wine there is no simulated kernel and no IRP (the stand-in hands events to the stream), so
/// each is refused there with its reason.
pub const SIM_ONLY: [(&str, &str, &str); 6] = [
    (
        "timer_res_us",
        "--timer-res-us",
        "it sets the simulated kernel's timer resolution; under Wine the host's timers run",
    ),
    (
        "dpc_bound_us",
        "--dpc-bound-us",
        "it bounds DPCs for the simulation's verifier; Wine has no DPC watchdog",
    ),
    (
        "mpu_fifo",
        "--mpu-fifo",
        "the stand-in's emulated MPU-401 has a fixed 16-byte FIFO",
    ),
    (
        "queue_ahead_ms",
        "--queue-ahead-ms",
        "no IRPs reach a driver under Wine: the stand-in hands events to the stream as far ahead as it asks (SchedulePreFetch)",
    ),
    (
        "irp_ms",
        "--irp-ms",
        "no IRPs reach a driver under Wine: the stand-in hands events to the stream directly",
    ),
    (
        "irp_size",
        "--irp-size",
        "no IRPs reach a driver under Wine: the stand-in hands events to the stream directly",
    ),
];

/// The exit codes, as `--help` prints them (and the README lists them).
pub const EXIT_CODES: &str = "\
Exit status:
  0  done: everything the file asked for happened (or --allow-loss)
  1  bad input: a file that cannot be read, is not valid MIDI, DLS or a wire log,
     or does not fit IRPs of the chosen size
  2  usage error
  3  loss: something the file asked for did not happen (IRPs refused, events or
     notes dropped, bytes not sent, samples clipped, timer fallback; the summary
     counts each; `record`: input bytes the card lost; `bench-wire`: any run's
     loss); --allow-loss accepts it
  4  the driver failed in the simulation or under Wine, or the verifier (under
     Wine: the stand-in's pool accounting after unload) found a fault
  5  setup: --runtime wine cannot run here (wine, mingw-w64 or an image is
     missing; the message names it and how to get it)
  130, 143, 129
     a --runtime wine run stopped by SIGINT (Ctrl-C), SIGTERM or SIGHUP:
     its wineserver and Wine processes killed, its prefix removed";

/// The default IRP data buffer size.
pub const DEFAULT_IRP_SIZE: u32 = 4096;

/// How far ahead an application keeps IRPs queued by default, ms.
pub const DEFAULT_QUEUE_AHEAD_MS: u32 = 1_500;

/// How much music one IRP covers by default, ms.
pub const DEFAULT_IRP_MS: u32 = 100;

/// The smallest IRP data buffer: one `DMUS_EVENTHEADER` record of a
/// three-byte channel message (20-byte header and data, 8-byte aligned),
/// which must not be split (a `KSMUSICFORMAT` one takes 12).
pub const MIN_IRP_SIZE: u32 = 24;

/// The largest IRP data buffer: 64 KiB, the most winmm's `midiStreamOut`
/// takes in one `MIDIHDR`.
pub const MAX_IRP_SIZE: u32 = 65_536;

/// Finest high-resolution timer of the simulated kernel, µs (Windows: 0.5 ms).
pub const MIN_TIMER_RES_US: u32 = 500;

/// Coarsest, µs: Windows' default clock tick, 15.625 ms.
pub const MAX_TIMER_RES_US: u32 = 15_625;

/// The deepest emulated MPU-401 output FIFO, bytes.
pub const MAX_MPU_FIFO: u32 = 1_024;

/// The longest DPC bound, µs: wdm-sim's DPC watchdog (1 s), past which a
/// routine stops the run whatever the bound.
pub const MAX_DPC_BOUND_US: u32 = 1_000_000;

/// The farthest ahead IRPs are written, ms.
pub const MAX_QUEUE_AHEAD_MS: u32 = 60_000;

/// The most music in one IRP, ms.
pub const MAX_IRP_MS: u32 = 10_000;

/// The most voices the synth grants (dmus-synth's `MAX_VOICES`).
pub const MAX_VOICES: u32 = 256;

/// The synth's sample rate unless asked otherwise, Hz.
pub const DEFAULT_RATE: u32 = 48_000;

/// `SYNTH_EFFECT_*` flags for `--reverb` and `--chorus`.
#[must_use]
pub fn effect_flags(reverb: Switch, chorus: Switch) -> u32 {
    use dmus_sys::dmusprop::{SYNTH_EFFECT_CHORUS, SYNTH_EFFECT_REVERB};
    let flag = |switch, flag| if switch == Switch::On { flag } else { 0 };
    flag(reverb, SYNTH_EFFECT_REVERB) | flag(chorus, SYNTH_EFFECT_CHORUS)
}

/// `--irp-size`'s parser.
fn irp_size_range() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(i64::from(MIN_IRP_SIZE)..=i64::from(MAX_IRP_SIZE))
}

/// `--timer-res-us`'s parser.
fn timer_res_range() -> clap::builder::RangedI64ValueParser<u32> {
    clap::value_parser!(u32).range(i64::from(MIN_TIMER_RES_US)..=i64::from(MAX_TIMER_RES_US))
}

/// Why a command failed; each maps to an exit code.
#[derive(Debug)]
pub enum CliError {
    /// A file could not be read or written.
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// A file is not valid MIDI.
    Midi {
        /// The file.
        path: PathBuf,
        /// What is wrong with it (boxed: it holds every message read before the fault).
        error: Box<SmfError>,
    },
    /// A wire log is malformed.
    Tsv {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: TsvError,
    },
    /// The file cannot be put in IRPs of the chosen size.
    Irp {
        /// The file.
        path: PathBuf,
        /// Why.
        error: IrpError,
    },
    /// The command line lacks something the chosen command needs.
    Usage(String),
    /// A DLS collection is not valid.
    Dls {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        error: String,
    },
    /// The simulated device could not be used.
    Sim {
        /// The file being played or recorded.
        path: PathBuf,
        /// What failed.
        error: SimError,
    },
    /// The file's audio would not fit a WAV (found before rendering).
    TooLongForWav {
        /// The MIDI file.
        path: PathBuf,
        /// Frames its audio needs.
        frames: u64,
        /// At this rate, Hz.
        rate: u32,
    },
    /// `--runtime wine` cannot run here: what is missing and how to get it.
    Setup(String),
    /// The driver or the stand-in failed under Wine.
    Wine {
        /// The file being played or recorded.
        path: PathBuf,
        /// What failed.
        error: String,
    },
    /// Something the file asked for did not happen (and `--allow-loss` was
    /// not given); the summary printed before counts it.
    Loss {
        /// The file.
        path: PathBuf,
        /// What was lost, in one line.
        what: String,
    },
    /// A signal (SIGINT, SIGTERM, SIGHUP) stopped a Wine run; its prefix was torn down.
    Interrupted {
        /// The file being played or recorded.
        path: PathBuf,
        /// The signal's number (SIGHUP 1, SIGINT 2, SIGTERM 15).
        signal: u8,
    },
    /// The simulated Driver Verifier found faults while the driver ran.
    Findings {
        /// The file (or files) being played or recorded.
        path: PathBuf,
        /// The findings, in words.
        findings: Vec<String>,
    },
}

impl CliError {
    /// The process exit code ([`EXIT_CODES`]): 1 for bad input, 2 for a
    /// usage error (as clap's own), 3 for a loss, 4 when the driver failed in
    /// the simulation or under Wine or the verifier found a fault, 5 when a
    /// Wine run cannot be set up, 128 + the signal's number when a signal stopped a Wine run
    /// (the shells' convention: 130 for SIGINT, 143 for SIGTERM).
    #[must_use]
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Io { .. }
            | Self::Midi { .. }
            | Self::Tsv { .. }
            | Self::Irp { .. }
            | Self::Dls { .. }
            | Self::TooLongForWav { .. } => 1,
            Self::Usage(_) => 2,
            Self::Loss { .. } => 3,
            Self::Sim { .. } | Self::Wine { .. } | Self::Findings { .. } => 4,
            Self::Setup(_) => 5,
            Self::Interrupted { signal, .. } => 128_u8.saturating_add(*signal),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, error } => write!(f, "{}: {error}", path.display()),
            Self::Midi { path, error } => write!(f, "{}: not valid MIDI: {error}", path.display()),
            Self::Tsv { path, error } => write!(f, "{}: not a wire log: {error}", path.display()),
            Self::Irp { path, error } => write!(f, "{}: {error}", path.display()),
            Self::Usage(what) => write!(f, "usage: {what}"),
            Self::Setup(what) => write!(f, "setup: {what}"),
            Self::Wine { path, error } => write!(f, "{}: under Wine: {error}", path.display()),
            Self::Interrupted { path, signal } => write!(
                f,
                "{}: stopped by signal {signal}: the Wine run's wineserver and every process of its prefix were killed and the prefix removed; nothing was reported",
                path.display()
            ),
            Self::Dls { path, error } => {
                write!(f, "{}: not a valid DLS collection: {error}", path.display())
            }
            Self::TooLongForWav { path, frames, rate } => write!(
                f,
                "{}: its audio (file end + 2 s tail) is {frames} frames, {} s at {rate} Hz; a WAV holds at most {} frames of 16-bit stereo (its sizes are 32-bit: 4 GiB): nothing was rendered",
                path.display(),
                frames / u64::from((*rate).max(1)),
                crate::commands::MAX_WAV_FRAMES
            ),
            Self::Sim { path, error } => {
                write!(
                    f,
                    "{}: the simulated device failed: {error}",
                    path.display()
                )
            }
            Self::Loss { path, what } => write!(
                f,
                "{}: not everything the file asked for happened: {what} (--allow-loss accepts this)",
                path.display()
            ),
            Self::Findings { path, findings } => {
                write!(
                    f,
                    "{}: {} verifier finding(s) while the driver ran:",
                    path.display(),
                    findings.len()
                )?;
                for finding in findings {
                    write!(f, "\n  {finding}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for CliError {}

/// Reads and checks a Standard MIDI File.
///
/// # Errors
/// [`CliError::Io`] or [`CliError::Midi`].
pub fn load_timeline(path: &Path) -> Result<Timeline, CliError> {
    let bytes = std::fs::read(path).map_err(|error| CliError::Io {
        path: path.into(),
        error,
    })?;
    read_smf(&bytes).map_err(|error| CliError::Midi {
        path: path.into(),
        error: Box::new(error),
    })
}

/// The whole command: parses `args` (the program name first), runs it,
/// writes its output to `out` and errors to `err`, and returns the exit
/// code (0 success, 2 usage, others from [`CliError::exit_code`]).
pub fn main_with(
    args: impl IntoIterator<Item = std::ffi::OsString>,
    out: &mut impl Write,
    err: &mut impl Write,
) -> u8 {
    let parsed = Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            let mut cli = Cli::from_arg_matches(&matches)?;
            match (&mut cli.command, matches.subcommand()) {
                (Command::Play(play), Some(("play", sub))) => play.given = given_flags(sub),
                (Command::Record { format_given, .. }, Some(("record", sub))) => {
                    *format_given =
                        sub.value_source("format") == Some(clap::parser::ValueSource::CommandLine);
                }
                _ => {}
            }
            Ok(cli)
        });
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            // Nothing better to do if even this write fails.
            let _ = if error.use_stderr() {
                write!(err, "{error}")
            } else {
                write!(out, "{error}")
            };
            return u8::try_from(error.exit_code()).unwrap_or(2);
        }
    };
    match run(cli, out) {
        Ok(()) => 0,
        Err(error) => {
            let _ = writeln!(err, "rdmus: {error}");
            error.exit_code()
        }
    }
}

/// The ids of [`SIM_ONLY`] and `mpu_fault` that `matches` took from the command line.
fn given_flags(matches: &clap::ArgMatches) -> Vec<&'static str> {
    SIM_ONLY
        .iter()
        .map(|&(id, _, _)| id)
        .chain(["mpu_fault"])
        .filter(|id| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine))
        .collect()
}

/// Runs `cli`, writing normal output to `out`.
///
/// # Errors
/// [`CliError`] for bad input, failed I/O, a usage error, or a failed run.
pub fn run(cli: Cli, out: &mut impl Write) -> Result<(), CliError> {
    let stdout_error = |error| CliError::Io {
        path: "<stdout>".into(),
        error,
    };
    match cli.command {
        Command::Inspect {
            file,
            irp_size,
            ideal_wire: wire_path,
        } => {
            let timeline = load_timeline(&file)?;
            let summary = Summary::new(&timeline, irp_size).map_err(|error| CliError::Irp {
                path: file.clone(),
                error,
            })?;
            writeln!(out, "file:        {}", file.display()).map_err(stdout_error)?;
            write!(out, "{summary}").map_err(stdout_error)?;
            if let Some(path) = wire_path {
                let io_error = |error| CliError::Io {
                    path: path.clone(),
                    error,
                };
                let file = std::fs::File::create(&path).map_err(io_error)?;
                write_tsv(std::io::BufWriter::new(file), &ideal_wire(&timeline))
                    .map_err(io_error)?;
            }
            Ok(())
        }
        Command::Play(args) => play(args, out),
        Command::Record {
            wire,
            format,
            out: out_path,
            runtime: Runtime::Sim,
            image: None,
            standin: None,
            allow_loss,
            ..
        } => crate::commands::record_file(&wire, format, out_path.as_deref(), allow_loss, out),
        Command::Record {
            runtime: Runtime::Sim,
            ..
        } => Err(CliError::Usage(
            "--image and --standin are for `--runtime wine`, not `--runtime sim`".into(),
        )),
        Command::Record {
            wire,
            out: out_path,
            image,
            standin,
            format_given,
            allow_loss,
            ..
        } => {
            if format_given {
                return Err(CliError::Usage(
                    "--format has no meaning under `--runtime wine`: no IRPs reach a driver there; the stand-in's capture sink takes the driver's events directly".into(),
                ));
            }
            let images = crate::wine::Images::find(image.as_deref(), standin.as_deref())?;
            crate::commands::record_file_wine(&wire, &images, out_path.as_deref(), allow_loss, out)
        }
        Command::BenchWire {
            files,
            timer_res_us,
            irp_size,
            allow_loss,
        } => crate::commands::bench_wire(&files, timer_res_us, irp_size, allow_loss, out),
        Command::Describe { device, json } => crate::commands::describe(device, json, out),
    }
}

/// Every option given belongs to the device: an option of the other device is a usage error.
fn check_device_options(args: &PlayArgs) -> Result<(), CliError> {
    let mpu401_only = [
        ("--wire", args.wire.is_some()),
        ("--mpu-fifo", args.mpu_fifo.is_some()),
        ("--mpu-fault", args.mpu_fault.is_some()),
    ];
    let synth_only = [
        ("--dls", args.dls.is_some()),
        ("--wav", args.wav.is_some()),
        ("--rate", args.rate.is_some()),
        ("--voices", args.voices.is_some()),
        ("--reverb", args.reverb.is_some()),
        ("--chorus", args.chorus.is_some()),
    ];
    let (others, this, other) = match args.device {
        Device::Mpu401 => (&synth_only[..], "mpu401", "synth"),
        Device::Synth => (&mpu401_only[..], "synth", "mpu401"),
    };
    match others.iter().find(|(_, given)| *given) {
        Some((flag, _)) => Err(CliError::Usage(format!(
            "{flag} is for `--device {other}`, not `--device {this}`"
        ))),
        None => Ok(()),
    }
}

/// `rdmus play`: checks that every option given belongs to the device, then
/// plays on it.
fn play(args: PlayArgs, out: &mut impl Write) -> Result<(), CliError> {
    check_device_options(&args)?;
    if args.runtime == Runtime::Wine {
        return play_wine(&args, out);
    }
    let PlayArgs {
        file,
        device,
        format,
        wire,
        timer_res_us,
        mpu_fifo,
        dpc_bound_us,
        queue_ahead_ms,
        irp_ms,
        irp_size,
        mpu_fault,
        dls,
        wav,
        rate,
        voices,
        allow_loss,
        reverb,
        chorus,
        image,
        standin,
        ..
    } = args;
    if let Some(flag) = [
        ("--image", image.is_some()),
        ("--standin", standin.is_some()),
    ]
    .iter()
    .find_map(|&(flag, set)| set.then_some(flag))
    {
        return Err(CliError::Usage(format!(
            "{flag} is for `--runtime wine`, not `--runtime sim`"
        )));
    }
    let mpu_fifo = mpu_fifo.unwrap_or(SimConfig::default().mpu_fifo);
    let sim = SimConfig {
        timer_res_us,
        mpu_fifo,
        dpc_bound_us: dpc_bound_us.unwrap_or_else(|| match device {
            Device::Mpu401 => SimConfig::dpc_bound_for(mpu_fifo, timer_res_us),
            Device::Synth => DPC_GUIDELINE_US,
        }),
        mpu_fault: mpu_fault.unwrap_or(CardFault::None).sim(),
        fail_nth: None,
    };
    let irp_span = u64::from(irp_ms) * 10_000;
    let queue_ahead = u64::from(queue_ahead_ms) * 10_000;
    if device == Device::Synth {
        let (Some(dls), Some(wav)) = (dls, wav) else {
            return Err(CliError::Usage(
                "`play --device synth` needs --dls BANK.dls and --wav OUT.wav".into(),
            ));
        };
        let timeline = load_timeline(&file)?;
        let options = crate::commands::SynthPlayOptions {
            format,
            irp_size,
            irp_span,
            queue_ahead,
            rate: rate.unwrap_or(DEFAULT_RATE),
            voices,
            effects: effect_flags(reverb.unwrap_or(Switch::On), chorus.unwrap_or(Switch::Off)),
            sim,
        };
        return crate::commands::play_synth(
            &file, &timeline, &options, &dls, &wav, allow_loss, out,
        );
    }
    let timeline = load_timeline(&file)?;
    let options = PlayOptions {
        format,
        irp_size,
        irp_span,
        queue_ahead,
        sim,
    };
    crate::commands::play_file(&file, &timeline, &options, wire.as_deref(), allow_loss, out)
}

/// `rdmus play --runtime wine`: refuses the simulation's machine options (each with why),
/// finds the images, plays on the device.
fn play_wine(play: &PlayArgs, out: &mut impl Write) -> Result<(), CliError> {
    if let Some((_, flag, why)) = SIM_ONLY.iter().find(|(id, _, _)| play.given.contains(id)) {
        return Err(CliError::Usage(format!(
            "{flag} has no meaning under `--runtime wine`: {why}"
        )));
    }
    let card = play.mpu_fault.unwrap_or(CardFault::None);
    let timeline = load_timeline(&play.file)?;
    let images = crate::wine::Images::find(play.image.as_deref(), play.standin.as_deref())?;
    match play.device {
        Device::Mpu401 => crate::commands::play_file_wine(
            &play.file,
            &timeline,
            &crate::commands::WineMpu401Options {
                format: play.format,
                card,
                wire: play.wire.as_deref(),
                allow_loss: play.allow_loss,
            },
            &images,
            out,
        ),
        Device::Synth => {
            let (Some(dls), Some(wav)) = (play.dls.as_deref(), play.wav.as_deref()) else {
                return Err(CliError::Usage(
                    "`play --device synth` needs --dls BANK.dls and --wav OUT.wav".into(),
                ));
            };
            crate::commands::play_synth_wine(
                &play.file,
                &timeline,
                &crate::commands::WineSynthOptions {
                    format: play.format,
                    rate: play.rate.unwrap_or(DEFAULT_RATE),
                    voices: play.voices,
                    effects: effect_flags(
                        play.reverb.unwrap_or(Switch::On),
                        play.chorus.unwrap_or(Switch::Off),
                    ),
                    dls,
                    wav,
                },
                &images,
                play.allow_loss,
                out,
            )
        }
    }
}
