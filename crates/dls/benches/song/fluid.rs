//! The reference: `fluidsynth` rendering the same file with the same bank, timed.
//!
//! The binary is `$RDMUS_FLUIDSYNTH` when set (e.g. a `FluidSynth` 2.5 build, whose native DLS
//! loader applies the bank's articulation), else `fluidsynth` on `PATH` (Debian's 2.3.1, which
//! reads DLS through libinstpatch and drops the articulation).

use super::cpu::children_cpu_seconds;
use super::render::{RATE, VOICES};
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// The environment variable naming another `fluidsynth` binary.
pub const FLUIDSYNTH_ENV: &str = "RDMUS_FLUIDSYNTH";

/// The `fluidsynth` binary to run: `$RDMUS_FLUIDSYNTH`, else `fluidsynth` on `PATH`.
#[must_use]
pub fn fluidsynth_program() -> OsString {
    std::env::var_os(FLUIDSYNTH_ENV)
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "fluidsynth".into())
}

/// The first line of `fluidsynth --version` (e.g. `FluidSynth runtime version 2.3.1`).
///
/// # Errors
/// [`FluidError::NotInstalled`] when the binary cannot be started, [`FluidError::Failed`] when
/// it fails or prints nothing.
pub fn fluidsynth_version() -> Result<String, FluidError> {
    let output = Command::new(fluidsynth_program())
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FluidError::NotInstalled(e.to_string()))?;
    if !output.status.success() {
        return Err(FluidError::Failed(format!("--version: {}", output.status)));
    }
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| FluidError::Failed("--version printed nothing".into()))
}

/// One `fluidsynth` fast render.
#[derive(Clone, Debug)]
pub struct FluidRun {
    /// User + system CPU seconds of the process (bank load included), 1/100 s resolution.
    pub cpu_seconds: f64,
    /// Wall-clock seconds.
    pub wall_seconds: f64,
}

/// Why there is no reference render.
#[derive(Clone, Debug)]
pub enum FluidError {
    /// `fluidsynth` (or `$RDMUS_FLUIDSYNTH`) cannot be started.
    NotInstalled(String),
    /// It ran but failed or wrote nothing.
    Failed(String),
}

impl core::fmt::Display for FluidError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::NotInstalled(why) => write!(
                f,
                "{} not runnable ({why}); install it with `apt-get update && apt-get install -y fluidsynth` or point {FLUIDSYNTH_ENV} at a build",
                fluidsynth_program().to_string_lossy()
            ),
            Self::Failed(why) => write!(f, "fluidsynth failed: {why}"),
        }
    }
}

/// Renders `midi` with `bank` to `wav` as the issue says, with [`fluidsynth_program`]:
/// `fluidsynth -ni -F wav -r 48000 -R 0 -C 0 -o synth.polyphony=64 bank midi` (fast render to a
/// 16-bit stereo file, no reverb or chorus), and measures the child's CPU time.
///
/// Debian's `fluidsynth` reads DLS through libinstpatch, 2.5 with its native loader; either way its
/// `SoundFont` loader first prints "Not a `SoundFont` file" for a `.dls` bank, which is harmless.
///
/// # Errors
/// [`FluidError`].
pub fn fluidsynth(bank: &Path, midi: &Path, wav: &Path) -> Result<FluidRun, FluidError> {
    fluidsynth_with(bank, midi, wav, FluidEffects::Off)
}

/// `FluidSynth`'s reverb and chorus for a render.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FluidEffects {
    /// `-R 0 -C 0`: the dry mix.
    Off,
    /// `-R 1 -C 1`, every other reverb and chorus setting at its default (the sends are
    /// CC91/CC93 through its default modulators plus what the bank's articulation adds).
    On,
}

/// [`fluidsynth`] with the reverb and the chorus as `effects` says.
///
/// # Errors
/// [`FluidError`].
pub fn fluidsynth_with(
    bank: &Path,
    midi: &Path,
    wav: &Path,
    effects: FluidEffects,
) -> Result<FluidRun, FluidError> {
    let switch = if effects == FluidEffects::On {
        "1"
    } else {
        "0"
    };
    // A stale file would pass for a render: remove it first.
    let _ = std::fs::remove_file(wav);
    let before = children_cpu_seconds();
    let start = Instant::now();
    let output = Command::new(fluidsynth_program())
        .arg("-ni")
        .arg("-F")
        .arg(wav)
        .args(["-r", &RATE.to_string(), "-R", switch, "-C", switch, "-o"])
        .arg(format!("synth.polyphony={VOICES}"))
        .arg(bank)
        .arg(midi)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| FluidError::NotInstalled(e.to_string()))?;
    let wall_seconds = start.elapsed().as_secs_f64();
    let after = children_cpu_seconds();
    if !output.status.success() {
        return Err(FluidError::Failed(format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    if !wav.is_file() {
        return Err(FluidError::Failed(format!("no {} written", wav.display())));
    }
    let cpu_seconds = match (before, after) {
        (Some(b), Some(a)) => a - b,
        _ => return Err(FluidError::Failed("no CPU time in /proc/self/stat".into())),
    };
    Ok(FluidRun {
        cpu_seconds,
        wall_seconds,
    })
}
