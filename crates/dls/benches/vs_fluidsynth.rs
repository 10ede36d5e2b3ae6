//! The rdmus DLS synth next to `FluidSynth` on real songs and the shared GM bank: for each file,
//! the correlation of the two renders' RMS envelopes (50 ms windows, mono mix) and both
//! real-time factors (audio seconds / CPU seconds), measured in the same run, once with the
//! effects off and once with the reverb and the chorus on in both synths.
//!
//! `cargo bench -p dls --bench vs_fluidsynth [-- [--effects=off|on|both] FILE.mid ...]` (names
//! in the shared jazz-soft directory or paths; `RDMUS_BANK` picks another bank). With no
//! arguments it prints both tables, which are the figures issue 15's note asks for (about ten
//! minutes on a quiet machine): effects off (`fluidsynth -R 0 -C 0` against the engine's dry
//! mix) and effects on (`fluidsynth -R 1 -C 1`, its other settings at their defaults, against
//! the engine with its reverb and chorus switched on, as `rdmus play --reverb on --chorus on`
//! renders). Needs the shared data (`test_data`) and a `fluidsynth`: `RDMUS_FLUIDSYNTH=/path/to/fluidsynth`
//! runs a build of 2.5 (whose native DLS loader applies the bank's articulation, which Debian's
//! 2.3.1 through libinstpatch drops), else the one on `PATH` (`apt-get install -y fluidsynth`);
//! without them it says so and skips. The header names the binary and its version. The renders
//! are left in `$TMPDIR/rdmus-vs-fluidsynth/` to listen to (the reference's are overwritten by
//! each run; effects-on renders end in `.fx.wav`).
//!
//! Timing: rdmus renders in this thread (`/proc/thread-self/schedstat`); `FluidSynth` is a
//! `fluidsynth -ni` fast-render child (`/proc/self/stat` children's times, 10 ms ticks). Its
//! start-up (loading the 5 MB bank, and with the effects on making them) is measured on an
//! empty song and subtracted for the "render" factor; the "with load" factors count the bank
//! load on both sides. Each render runs three times, rdmus's and `FluidSynth`'s in turn, and
//! the least CPU time of each counts; a file's effects-off and effects-on renders run one
//! after the other, so both tables see the same machine.
#![allow(missing_docs)] // Bench binary.

#[path = "song/mod.rs"]
mod song;

use dls::download::InstrumentStore;
use dls::synth::effects::EffectSwitches;
use song::{BankReading, FluidEffects, FluidError, FluidRun, Rendered, Song};
use std::path::{Path, PathBuf};

/// Long files with many instruments (melodic, chords on every channel, every drum; the GS,
/// XG, GM2 and Microsoft GS sound tours fall back to the GM bank's programs).
const FILES: &[&str] = &[
    "test-all-gm-sounds.mid",
    "test-multichannel-chords-0.mid",
    "test-multichannel-chords-3.mid",
    "test-all-gm-percussion.mid",
    "test-karaoke-kar.mid",
    "test-all-gm2-sounds.mid",
    "test-all-gs-sounds.mid",
    "test-all-xg-sounds.mid",
    "test-all-microsoft-gs-wavetable-synth-sounds.mid",
];

/// Length of the synthetic full-polyphony song (64 notes held together).
const STRESS_SECONDS: u32 = 30;

/// Runs of each renderer per file; the least CPU time counts.
const RUNS: usize = 3;

/// The goals hold for real songs of this length or more (shorter ones are dominated
/// by start-up).
const LONG_SONG_SECONDS: f64 = 60.0;

/// A format-0 file with one empty track: `FluidSynth`'s start-up cost.
const EMPTY_SMF: &[u8] = &[
    b'M', b'T', b'h', b'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, b'M', b'T', b'r', b'k', 0, 0, 0, 4, 0,
    0xff, 0x2f, 0,
];

/// Which tables a run measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tables {
    Off,
    On,
    Both,
}

impl Tables {
    fn off(self) -> bool {
        self != Self::On
    }
    fn on(self) -> bool {
        self != Self::Off
    }
}

/// A file's figures with the effects off.
struct Dry {
    /// rdmus (the whole bank) against `FluidSynth`.
    correlation: Option<f64>,
    /// rdmus given the bank as `FluidSynth` 2.3 reads it against `FluidSynth`.
    correlation_as_fluidsynth: Option<f64>,
    rdmus_cpu: f64,
    /// CPU seconds of the render with the bank as `FluidSynth` 2.3 reads it (the same work).
    rdmus_as_fluidsynth_cpu: f64,
    /// The render with the whole bank, and with the bank as `FluidSynth` 2.3 reads it.
    ours: Rendered,
    ours_as_fluidsynth: Rendered,
    fluid: FluidRun,
}

/// A file's figures with the reverb and the chorus on in both synths.
struct Wet {
    /// rdmus against `FluidSynth`, both with their effects.
    correlation: Option<f64>,
    /// rdmus with its effects against `FluidSynth` without: how far either reverb moves the
    /// envelope from the dry render (a reference point for `correlation`).
    dry_correlation: Option<f64>,
    rdmus_cpu: f64,
    ours: Rendered,
    fluid: FluidRun,
}

struct Row {
    name: String,
    seconds: f64,
    events: usize,
    dry: Option<Dry>,
    wet: Option<Wet>,
}

/// The bank as rdmus plays it, and as `FluidSynth` 2.3 reads it ([`BankReading::AsFluidSynth`]).
struct Stores<'a> {
    full: &'a InstrumentStore<Vec<u8>>,
    as_fluidsynth: &'a InstrumentStore<Vec<u8>>,
}

/// What every file's measurement shares.
struct Setup<'a> {
    bank: &'a Path,
    stores: Stores<'a>,
    out_dir: &'a Path,
    tables: Tables,
}

/// `FluidSynth`'s start-up CPU seconds (an empty song), effects off and on.
struct Startup {
    off: f64,
    on: f64,
}

fn main() {
    let bank = song::bank_path();
    let Ok(bank_bytes) = std::fs::read(&bank) else {
        println!(
            "vs_fluidsynth: skipped: bank {} not readable (needs the shared data: ../shared/data beside the checkout or RDMUS_SHARED_DATA)",
            bank.display()
        );
        return;
    };
    let out_dir = std::env::temp_dir().join("rdmus-vs-fluidsynth");
    if let Err(e) = std::fs::create_dir_all(&out_dir) {
        println!("vs_fluidsynth: skipped: {}: {e}", out_dir.display());
        return;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tables = match tables_asked(&args) {
        Ok(tables) => tables,
        Err(e) => {
            println!("vs_fluidsynth: {e}");
            std::process::exit(2);
        }
    };
    let names = files_asked(&args, &out_dir);

    let load_start = song::thread_cpu_seconds();
    let store = match song::load_bank(&bank_bytes) {
        Ok(store) => store,
        Err(e) => {
            println!("vs_fluidsynth: the bank does not load: {e}");
            std::process::exit(1);
        }
    };
    let rdmus_load = song::thread_cpu_seconds()
        .zip(load_start)
        .map_or(0.0, |(b, a)| b - a);
    let stripped = match song::load_bank_read_as(&bank_bytes, BankReading::AsFluidSynth) {
        Ok(store) => store,
        Err(e) => {
            println!("vs_fluidsynth: the bank does not load as FluidSynth reads it: {e}");
            std::process::exit(1);
        }
    };
    let setup = Setup {
        bank: &bank,
        stores: Stores {
            full: &store,
            as_fluidsynth: &stripped,
        },
        out_dir: &out_dir,
        tables,
    };

    let startup = match fluid_header(&setup) {
        Ok(startup) => startup,
        Err(e @ FluidError::NotInstalled(_)) => {
            println!("vs_fluidsynth: skipped: {e}");
            return;
        }
        Err(e) => {
            println!("vs_fluidsynth: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "bank {}: rdmus load (parse + build + download) {rdmus_load:.3} CPU s; FluidSynth start-up on an empty song {:.2} CPU s (effects off), {:.2} CPU s (on)",
        bank.display(),
        startup.off,
        startup.on
    );

    let mut rows = Vec::new();
    for (n, name) in names.iter().enumerate() {
        // Progress on stderr: the tables come at the end.
        eprintln!("[{}/{}] {name}", n + 1, names.len());
        match measure(name, &setup) {
            Ok(row) => rows.push(row),
            Err(e) => println!("{name}: {e}"),
        }
    }
    if tables.off() {
        print_dry_table(&rows, rdmus_load, startup.off);
    }
    if tables.on() {
        print_wet_table(&rows, rdmus_load, startup.on);
    }
}

/// `--effects=off|on|both` among the arguments (both when absent).
fn tables_asked(args: &[String]) -> Result<Tables, String> {
    let mut tables = Tables::Both;
    for arg in args {
        if let Some(value) = arg.strip_prefix("--effects=") {
            tables = match value {
                "off" => Tables::Off,
                "on" => Tables::On,
                "both" => Tables::Both,
                other => return Err(format!("--effects={other}: off, on or both")),
            };
        }
    }
    Ok(tables)
}

/// The files named in the arguments (flags such as cargo's `--bench` skipped), else
/// [`FILES`] and the full-polyphony song.
fn files_asked(args: &[String], out_dir: &Path) -> Vec<String> {
    let names: Vec<String> = args
        .iter()
        .filter(|a| !a.starts_with('-'))
        .cloned()
        .collect();
    if !names.is_empty() {
        return names;
    }
    let mut names: Vec<String> = FILES.iter().map(|s| (*s).to_owned()).collect();
    // Full polyphony: the real files rarely hold more than a few voices at once.
    let stress = out_dir.join(format!("{}-held-notes.mid", song::VOICES));
    match std::fs::write(&stress, song::held_notes_smf(song::VOICES, STRESS_SECONDS)) {
        Ok(()) => names.push(stress.display().to_string()),
        Err(e) => println!("{}: {e}", stress.display()),
    }
    names
}

/// Prints which `FluidSynth` runs and measures its start-up in the modes asked for.
fn fluid_header(setup: &Setup<'_>) -> Result<Startup, FluidError> {
    let version = song::fluidsynth_version()?;
    println!(
        "FluidSynth: {} ({version})",
        song::fluidsynth_program().to_string_lossy()
    );
    let startup = |effects| -> Result<f64, FluidError> {
        Ok(fluid_startup(setup.bank, setup.out_dir, effects)?.cpu_seconds)
    };
    Ok(Startup {
        off: if setup.tables.off() {
            startup(FluidEffects::Off)?
        } else {
            0.0
        },
        on: if setup.tables.on() {
            startup(FluidEffects::On)?
        } else {
            0.0
        },
    })
}

fn fluid_startup(
    bank: &Path,
    out_dir: &Path,
    effects: FluidEffects,
) -> Result<FluidRun, FluidError> {
    let empty = out_dir.join("empty.mid");
    std::fs::write(&empty, EMPTY_SMF).map_err(|e| FluidError::Failed(e.to_string()))?;
    let wav = out_dir.join("empty.fluidsynth.wav");
    timed_fluid(bank, &empty, &wav, effects)
}

/// `FluidSynth` [`RUNS`] times: the least CPU and wall times of a run.
fn timed_fluid(
    bank: &Path,
    midi: &Path,
    wav: &Path,
    effects: FluidEffects,
) -> Result<FluidRun, FluidError> {
    let mut run = song::fluidsynth_with(bank, midi, wav, effects)?;
    for _ in 1..RUNS {
        let again = song::fluidsynth_with(bank, midi, wav, effects)?;
        run.cpu_seconds = run.cpu_seconds.min(again.cpu_seconds);
        run.wall_seconds = run.wall_seconds.min(again.wall_seconds);
    }
    Ok(run)
}

fn midi_file(name: &str) -> PathBuf {
    let path = PathBuf::from(name);
    if path.is_file() {
        path
    } else {
        song::midi_path(name)
    }
}

fn measure(name: &str, setup: &Setup<'_>) -> Result<Row, String> {
    let midi = midi_file(name);
    let bytes = std::fs::read(&midi).map_err(|e| format!("{}: {e}", midi.display()))?;
    let stem = midi
        .file_stem()
        .map_or_else(|| "song".into(), |s| s.to_string_lossy().into_owned());
    let song = Song::read(&bytes)?;
    let file = SongFile {
        midi: &midi,
        stem: &stem,
        song: &song,
    };
    // The dry reference is also the wet table's reference point.
    let dry_reference = if setup.tables.off() {
        Some(measure_dry(&file, setup)?)
    } else {
        None
    };
    let wet = if setup.tables.on() {
        Some(measure_wet(
            &file,
            setup,
            dry_reference
                .as_ref()
                .map(|(_, envelope)| envelope.as_slice()),
        )?)
    } else {
        None
    };
    Ok(Row {
        name: midi
            .file_name()
            .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned()),
        seconds: song.seconds(),
        events: song.events.len(),
        dry: dry_reference.map(|(dry, _)| dry),
        wet,
    })
}

/// A song being measured and where its renders go.
struct SongFile<'a> {
    midi: &'a Path,
    stem: &'a str,
    song: &'a Song,
}

fn envelope(samples: &[i16]) -> Vec<f64> {
    song::rms_envelope(samples, 2, song::RATE, song::WINDOW_MS)
}

/// Where `FluidSynth`'s render of `file` with `effects` goes.
fn fluid_wav(file: &SongFile<'_>, setup: &Setup<'_>, effects: FluidEffects) -> PathBuf {
    let suffix = if effects == FluidEffects::On {
        ".fx"
    } else {
        ""
    };
    setup
        .out_dir
        .join(format!("{}.fluidsynth{suffix}.wav", file.stem))
}

/// The RMS envelope of `FluidSynth`'s render at `reference`.
fn fluid_envelope(reference: &Path) -> Result<Vec<f64>, String> {
    let (channels, rate, theirs) = song::read_wav(reference)?;
    if rate != song::RATE {
        return Err(format!(
            "{}: {rate} Hz, asked for {}",
            reference.display(),
            song::RATE
        ));
    }
    Ok(song::rms_envelope(&theirs, channels, rate, song::WINDOW_MS))
}

/// rdmus's render of `file` with `effects` and `FluidSynth`'s with `fluid_effects` (written to
/// `reference`), [`RUNS`] times each and in turn (rdmus, `FluidSynth`, rdmus, …): rdmus's
/// samples and least CPU time, and `FluidSynth`'s least times. The machine is shared and its
/// speed drifts over tens of seconds (on test-all-gm-sounds, two runs half an hour apart found
/// `FluidSynth`'s least time 34 % apart when each side ran its three back to back); taken in
/// turn, both sides' least times come from the same stretch of it.
fn timed_in_turn(
    setup: &Setup<'_>,
    file: &SongFile<'_>,
    effects: EffectSwitches,
    reference: &Path,
    fluid_effects: FluidEffects,
) -> Result<((Rendered, f64), FluidRun), String> {
    let mut ours: Option<(Rendered, f64)> = None;
    let mut fluid: Option<FluidRun> = None;
    for _ in 0..RUNS {
        let reuse = ours.as_mut().map(|(r, _)| core::mem::take(&mut r.samples));
        let (rendered, cpu) = render_once(setup.stores.full, file.song, effects, reuse)?;
        let least = ours.as_ref().map_or(cpu, |&(_, best)| best.min(cpu));
        ours = Some((rendered, least));
        let run = song::fluidsynth_with(setup.bank, file.midi, reference, fluid_effects)
            .map_err(|e| e.to_string())?;
        fluid = Some(match fluid {
            Some(best) => FluidRun {
                cpu_seconds: best.cpu_seconds.min(run.cpu_seconds),
                wall_seconds: best.wall_seconds.min(run.wall_seconds),
            },
            None => run,
        });
    }
    Ok((ours.ok_or("no run")?, fluid.ok_or("no run")?))
}

/// The effects-off figures, and `FluidSynth`'s dry envelope.
fn measure_dry(file: &SongFile<'_>, setup: &Setup<'_>) -> Result<(Dry, Vec<f64>), String> {
    let off = EffectSwitches::default();
    let reference_wav = fluid_wav(file, setup, FluidEffects::Off);
    let ((ours, rdmus_cpu), fluid) =
        timed_in_turn(setup, file, off, &reference_wav, FluidEffects::Off)?;
    write_render(setup, &format!("{}.rdmus.wav", file.stem), &ours)?;
    let (ours_stripped, rdmus_as_fluidsynth_cpu) =
        timed_render(setup.stores.as_fluidsynth, file.song, off)?;
    write_render(
        setup,
        &format!("{}.rdmus-as-fluidsynth.wav", file.stem),
        &ours_stripped,
    )?;
    let reference = fluid_envelope(&reference_wav)?;
    let correlation = song::correlation(&envelope(&ours.samples), &reference);
    let correlation_as_fluidsynth =
        song::correlation(&envelope(&ours_stripped.samples), &reference);
    Ok((
        Dry {
            correlation,
            correlation_as_fluidsynth,
            rdmus_cpu,
            rdmus_as_fluidsynth_cpu,
            ours: without_samples(ours),
            ours_as_fluidsynth: without_samples(ours_stripped),
            fluid,
        },
        reference,
    ))
}

/// The effects-on figures; `dry_reference` is `FluidSynth`'s dry envelope when measured.
fn measure_wet(
    file: &SongFile<'_>,
    setup: &Setup<'_>,
    dry_reference: Option<&[f64]>,
) -> Result<Wet, String> {
    let reference_wav = fluid_wav(file, setup, FluidEffects::On);
    let ((ours, rdmus_cpu), fluid) = timed_in_turn(
        setup,
        file,
        song::EFFECTS_ON,
        &reference_wav,
        FluidEffects::On,
    )?;
    write_render(setup, &format!("{}.rdmus.fx.wav", file.stem), &ours)?;
    let reference = fluid_envelope(&reference_wav)?;
    let ours_envelope = envelope(&ours.samples);
    Ok(Wet {
        correlation: song::correlation(&ours_envelope, &reference),
        dry_correlation: dry_reference.and_then(|dry| song::correlation(&ours_envelope, dry)),
        rdmus_cpu,
        ours: without_samples(ours),
        fluid,
    })
}

/// A render's figures without its samples (written out and measured already; a table of
/// long songs would otherwise hold gigabytes).
fn without_samples(mut rendered: Rendered) -> Rendered {
    rendered.samples = Vec::new();
    rendered
}

fn write_render(setup: &Setup<'_>, name: &str, rendered: &Rendered) -> Result<(), String> {
    song::write_wav(&setup.out_dir.join(name), 2, song::RATE, &rendered.samples)
}

/// Renders `song` [`RUNS`] times with the effects switched as `effects` says: the samples
/// and the least CPU time of a run (the machine is shared; the least time is the one least
/// disturbed).
fn timed_render(
    store: &InstrumentStore<Vec<u8>>,
    song: &Song,
    effects: EffectSwitches,
) -> Result<(Rendered, f64), String> {
    let mut best = f64::INFINITY;
    let mut rendered: Option<Rendered> = None;
    for _ in 0..RUNS {
        let reuse = rendered.take().map(|r| r.samples);
        let (run, cpu) = render_once(store, song, effects, reuse)?;
        rendered = Some(run);
        best = best.min(cpu);
    }
    Ok((rendered.ok_or("no run")?, best))
}

/// One render of `song`, timed in this thread's CPU seconds. `reuse` is the previous run's
/// output vector, already faulted in (a fresh one would time the kernel's page faults too).
fn render_once(
    store: &InstrumentStore<Vec<u8>>,
    song: &Song,
    effects: EffectSwitches,
    reuse: Option<Vec<i16>>,
) -> Result<(Rendered, f64), String> {
    let start = song::thread_cpu_seconds().ok_or("no thread CPU time in /proc")?;
    let rendered = song::render_with_effects_into(store, song, effects, reuse.unwrap_or_default());
    let cpu = song::thread_cpu_seconds().ok_or("no thread CPU time in /proc")? - start;
    Ok((rendered, cpu))
}

/// `audio / cpu`, or `None` without CPU time.
fn rtf(audio: f64, cpu: f64) -> Option<f64> {
    (cpu > 0.0).then(|| audio / cpu)
}

/// [`rtf`] for a child process: `None` under 0.05 CPU s, since a child's CPU time comes in
/// 10 ms ticks and below that the figure says little.
fn child_rtf(audio: f64, cpu: f64) -> Option<f64> {
    (cpu >= 0.05).then(|| audio / cpu)
}

fn figure(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.digits$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).map(|(a, b)| a / b)
}

/// The worst correlation and speed ratio over the real songs of a minute or more (the
/// synthetic full-polyphony song is not one): what the goals are checked on.
struct Worst {
    songs: usize,
    correlation: Option<f64>,
    ratio: Option<f64>,
}

impl Worst {
    fn new() -> Self {
        Self {
            songs: 0,
            correlation: None,
            ratio: None,
        }
    }

    fn add(&mut self, row: &Row, correlation: Option<f64>, ratio: Option<f64>) {
        let synthetic = row.name.ends_with("held-notes.mid");
        if synthetic || row.seconds < LONG_SONG_SECONDS {
            return;
        }
        self.songs += 1;
        let least = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.correlation = least(self.correlation, correlation);
        self.ratio = least(self.ratio, ratio);
    }

    fn print(&self, goal: f64) {
        println!(
            "real songs >= {LONG_SONG_SECONDS:.0} s: {}; least corr {} (goal >= 0.9), least ratio {} (goal >= {goal})",
            self.songs,
            figure(self.correlation, 3),
            figure(self.ratio, 2)
        );
    }
}

fn print_dry_table(rows: &[Row], rdmus_load: f64, fluid_startup: f64) {
    println!();
    println!("EFFECTS OFF: rdmus's dry mix against fluidsynth -R 0 -C 0");
    println!(
        "{:<32} {:>7} {:>6} {:>6} {:>6} | {:>9} {:>9} {:>9} {:>6} {:>6} | {:>9} {:>9} {:>6}",
        "file",
        "audio s",
        "events",
        "corr",
        "corrFS",
        "rdmus RTF",
        "rdmusFS",
        "fluid RTF",
        "ratio",
        "ratioFS",
        "rdmus+ld",
        "fluid+ld",
        "ratio"
    );
    let mut worst = Worst::new();
    for r in rows {
        let Some(d) = &r.dry else { continue };
        let ours = rtf(r.seconds, d.rdmus_cpu);
        let ours_same_work = rtf(r.seconds, d.rdmus_as_fluidsynth_cpu);
        let theirs = child_rtf(r.seconds, d.fluid.cpu_seconds - fluid_startup);
        let ours_loaded = rtf(r.seconds, d.rdmus_cpu + rdmus_load);
        let theirs_loaded = child_rtf(r.seconds, d.fluid.cpu_seconds);
        worst.add(r, d.correlation, ratio(ours, theirs));
        println!(
            "{:<32} {:>7.1} {:>6} {:>6} {:>6} | {:>9} {:>9} {:>9} {:>6} {:>6} | {:>9} {:>9} {:>6}",
            r.name,
            r.seconds,
            r.events,
            figure(d.correlation, 3),
            figure(d.correlation_as_fluidsynth, 3),
            figure(ours, 1),
            figure(ours_same_work, 1),
            figure(theirs, 1),
            figure(ratio(ours, theirs), 2),
            figure(ratio(ours_same_work, theirs), 2),
            figure(ours_loaded, 1),
            figure(theirs_loaded, 1),
            figure(ratio(ours_loaded, theirs_loaded), 2),
        );
    }
    worst.print(3.0);
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>9} {:>9}",
        "file", "rdmus voices", "rdmusFS voices", "clipped", "clippedFS"
    );
    for r in rows {
        let Some(d) = &r.dry else { continue };
        println!(
            "{:<32} {:>14} {:>14} {:>9} {:>9}",
            r.name,
            voices(&d.ours),
            voices(&d.ours_as_fluidsynth),
            d.ours.clipped,
            d.ours_as_fluidsynth.clipped
        );
    }
    println!();
    println!(
        "corr: RMS envelopes ({} ms windows, mono mix) of rdmus and FluidSynth. The {}-held-notes row is synthetic: after its attack the envelope is flat but for the beating of unison voices, which corr then measures; it is there for the real-time factor.",
        song::WINDOW_MS,
        song::VOICES
    );
    println!(
        "corrFS, rdmusFS, ratioFS: rdmus given only what libinstpatch's DLS loader (Debian's FluidSynth) reads (no articulation, sample attenuation or exclusive classes), i.e. the same work as FluidSynth 2.3."
    );
    println!(
        "voices: mean / peak sounding voices; clipped: samples beyond 16 bits in rdmus's mix."
    );
    print_rtf_note(3);
}

fn voices(v: &Rendered) -> String {
    format!("{:.1} / {}", v.mean_voices, v.peak_voices)
}

fn print_rtf_note(goal: u32) {
    println!(
        "RTF: audio s / CPU s, rdmus at {} voices and {} Hz; ratio = rdmus / FluidSynth, goal >= {goal} on real songs of a minute or more. \"+ld\": bank load counted (FluidSynth: its whole process); without, FluidSynth's start-up on an empty song is subtracted. n/a: under 0.05 CPU s (10 ms ticks).",
        song::VOICES,
        song::RATE
    );
}

fn print_wet_table(rows: &[Row], rdmus_load: f64, fluid_startup: f64) {
    println!();
    println!(
        "EFFECTS ON: rdmus with its reverb and chorus on (rdmus play --reverb on --chorus on) against fluidsynth -R 1 -C 1"
    );
    println!(
        "{:<32} {:>7} {:>6} {:>6} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6} | {:>14} {:>7}",
        "file",
        "audio s",
        "corr",
        "corrD",
        "rdmus RTF",
        "fluid RTF",
        "ratio",
        "rdmus+ld",
        "fluid+ld",
        "ratio",
        "rdmus voices",
        "clipped"
    );
    let mut worst = Worst::new();
    for r in rows {
        let Some(w) = &r.wet else { continue };
        let ours = rtf(r.seconds, w.rdmus_cpu);
        let theirs = child_rtf(r.seconds, w.fluid.cpu_seconds - fluid_startup);
        let ours_loaded = rtf(r.seconds, w.rdmus_cpu + rdmus_load);
        let theirs_loaded = child_rtf(r.seconds, w.fluid.cpu_seconds);
        worst.add(r, w.correlation, ratio(ours, theirs));
        println!(
            "{:<32} {:>7.1} {:>6} {:>6} | {:>9} {:>9} {:>6} | {:>9} {:>9} {:>6} | {:>14} {:>7}",
            r.name,
            r.seconds,
            figure(w.correlation, 3),
            figure(w.dry_correlation, 3),
            figure(ours, 1),
            figure(theirs, 1),
            figure(ratio(ours, theirs), 2),
            figure(ours_loaded, 1),
            figure(theirs_loaded, 1),
            figure(ratio(ours_loaded, theirs_loaded), 2),
            voices(&w.ours),
            w.ours.clipped,
        );
    }
    worst.print(2.0);
    println!();
    println!(
        "corr: RMS envelopes ({} ms windows, mono mix) of rdmus and FluidSynth, both with their reverb and chorus. corrD: rdmus with its effects against FluidSynth's dry render (the effects-off reference), how far the effects move the envelope.",
        song::WINDOW_MS
    );
    print_rtf_note(2);
}
