//! The command line: what `rdmus` accepts and what each command does.
//!
//! `play` and `record` need the simulated device (the driver's MPU-401 and
//! synth miniports running in wdm-sim), which does not exist yet: they check
//! their input (a bad file still gets its own clear error) and then fail
//! with [`CliError::NotYetAvailable`] instead of printing made-up results.

use core::fmt;
use std::io::{BufReader, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand, ValueEnum};

use crate::inspect::Summary;
use crate::irp::{DEFAULT_CHANNEL_GROUP, IrpError, build_dmus, build_ksmusic};
use crate::smf::{SmfError, read_smf};
use crate::timeline::Timeline;
use crate::wire::{TsvError, ideal_wire, read_tsv, write_tsv};

/// Plays Standard MIDI Files through the rdmus driver in a simulated Windows kernel.
#[derive(Debug, Parser)]
#[command(name = "rdmus", version)]
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

/// The pin (and buffer format) an application writes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PinFormat {
    /// The legacy MIDI pin: KSMUSICFORMAT, millisecond deltas (winmm).
    Ksmusic,
    /// The DirectMusic pin: `DMUS_EVENTHEADER`, 100 ns deltas.
    Dmus,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Play FILE.mid through the driver in the simulation and report lateness.
    Play {
        /// The Standard MIDI File.
        file: PathBuf,
        /// The device to play on.
        #[arg(long, value_enum, default_value_t = Device::Mpu401)]
        device: Device,
        /// The buffer format the application sends.
        #[arg(long, value_enum, default_value_t = PinFormat::Dmus)]
        format: PinFormat,
        /// Write the observed wire here: per byte, its start in µs, a tab, its hex.
        #[arg(long, value_name = "OUT.tsv")]
        wire: Option<PathBuf>,
        /// High-resolution timer resolution of the simulated kernel, µs.
        #[arg(long, value_name = "N", default_value_t = 1000)]
        timer_res_us: u32,
        /// Output FIFO depth of the emulated MPU-401, bytes.
        #[arg(long, value_name = "N", default_value_t = 1)]
        mpu_fifo: u32,
        /// DLS collection for the synth.
        #[arg(long, value_name = "BANK.dls")]
        dls: Option<PathBuf>,
        /// Write the synth's output here.
        #[arg(long, value_name = "OUT.wav")]
        wav: Option<PathBuf>,
        /// Synth sample rate, Hz.
        #[arg(long, value_name = "HZ", default_value_t = 22_050)]
        rate: u32,
        /// Synth voices.
        #[arg(long, value_name = "N", default_value_t = 32)]
        voices: u32,
        /// Size of each IRP's data buffer, bytes.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IRP_SIZE)]
        irp_size: u32,
    },
    /// Feed a recorded wire log to the driver's capture pin in the simulation.
    Record {
        /// The wire log: per byte, its start in µs, a tab, its hex.
        wire: PathBuf,
    },
    /// Print what FILE.mid would send: events, bytes, duration, ideal wire, IRPs.
    Inspect {
        /// The Standard MIDI File.
        file: PathBuf,
        /// Size of each IRP's data buffer, bytes.
        #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_IRP_SIZE)]
        irp_size: u32,
        /// Write the ideal wire here: per byte, its start in µs, a tab, its hex.
        #[arg(long, value_name = "OUT.tsv")]
        ideal_wire: Option<PathBuf>,
    },
}

/// The default IRP data buffer size.
pub const DEFAULT_IRP_SIZE: u32 = 4096;

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
    /// The command needs the simulated device, which does not exist yet.
    NotYetAvailable {
        /// The command.
        command: &'static str,
    },
}

impl CliError {
    /// The process exit code: 1 for bad input, 3 for a command not yet
    /// available (clap uses 2 for usage errors).
    #[must_use]
    pub const fn exit_code(&self) -> u8 {
        match self {
            Self::Io { .. } | Self::Midi { .. } | Self::Tsv { .. } | Self::Irp { .. } => 1,
            Self::NotYetAvailable { .. } => 3,
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
            Self::NotYetAvailable { command } => write!(
                f,
                "`rdmus {command}` is not yet available: it needs the simulated device \
                 (the driver's miniports running in wdm-sim)"
            ),
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

/// Runs `cli`, writing normal output to `out`.
///
/// # Errors
/// [`CliError`] for bad input, failed I/O, or a command not yet available.
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
        Command::Play {
            file,
            format,
            irp_size,
            ..
        } => {
            let timeline = load_timeline(&file)?;
            let irp_error = |error| CliError::Irp {
                path: file.clone(),
                error,
            };
            match format {
                PinFormat::Ksmusic => build_ksmusic(&timeline, irp_size).map_err(irp_error)?,
                PinFormat::Dmus => {
                    build_dmus(&timeline, irp_size, DEFAULT_CHANNEL_GROUP).map_err(irp_error)?
                }
            };
            Err(CliError::NotYetAvailable { command: "play" })
        }
        Command::Record { wire } => {
            let file = std::fs::File::open(&wire).map_err(|error| CliError::Io {
                path: wire.clone(),
                error,
            })?;
            read_tsv(BufReader::new(file)).map_err(|error| CliError::Tsv {
                path: wire.clone(),
                error,
            })?;
            Err(CliError::NotYetAvailable { command: "record" })
        }
    }
}
