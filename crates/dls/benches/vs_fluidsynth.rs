//! The rdmus DLS synth next to `FluidSynth` on real songs and the shared GM bank: for each file,
//! the correlation of the two renders' RMS envelopes (50 ms windows, mono mix) and both
//! real-time factors (audio seconds / CPU seconds), measured in the same run.
//!
//! `cargo bench -p dls --bench vs_fluidsynth [-- FILE.mid ...]` (names in the shared jazz-soft
//! directory or paths; `RDMUS_BANK` picks another bank). Needs the shared data (`test_data`) and Debian's
//! `fluidsynth` (`apt-get update && apt-get install -y fluidsynth`); without them it says so
//! and skips. `RDMUS_FLUIDSYNTH=/path/to/fluidsynth` runs another build instead (`FluidSynth`
//! 2.5's native DLS loader applies the bank's articulation, which Debian's 2.3.1 through
//! libinstpatch drops); the header names the binary and its version. The renders are left in
//! `$TMPDIR/rdmus-vs-fluidsynth/` to listen to (the reference's are overwritten by each run).
//!
//! Timing: rdmus renders in this thread (`/proc/thread-self/schedstat`); `FluidSynth` is a
//! `fluidsynth -ni` fast-render child (`/proc/self/stat` children's times, 10 ms ticks). Its
//! start-up (loading the 5 MB bank) is measured on an empty song and subtracted
//! for the "render" factor; the "with load" factors count the bank load on both sides. Each
//! render runs three times and the least CPU time counts.
#![allow(missing_docs)] // Bench binary.

#[path = "song/mod.rs"]
mod song;

use dls::download::InstrumentStore;
use song::{BankReading, FluidError, FluidRun, Rendered, Song};
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

/// A format-0 file with one empty track: `FluidSynth`'s start-up cost.
const EMPTY_SMF: &[u8] = &[
    b'M', b'T', b'h', b'd', 0, 0, 0, 6, 0, 0, 0, 1, 0, 96, b'M', b'T', b'r', b'k', 0, 0, 0, 4, 0,
    0xff, 0x2f, 0,
];

struct Row {
    name: String,
    seconds: f64,
    events: usize,
    /// rdmus (the whole bank) against `FluidSynth`.
    correlation: Option<f64>,
    /// rdmus given the bank as `FluidSynth` reads it against `FluidSynth`.
    correlation_as_fluidsynth: Option<f64>,
    rdmus_cpu: f64,
    /// CPU seconds of the render with the bank as `FluidSynth` reads it (the same work).
    rdmus_as_fluidsynth_cpu: f64,
    /// The render with the whole bank, and with the bank as `FluidSynth` reads it.
    ours: Rendered,
    ours_as_fluidsynth: Rendered,
    fluid: FluidRun,
}

/// The bank as rdmus plays it, and as `FluidSynth` reads it ([`BankReading::AsFluidSynth`]).
struct Stores<'a> {
    full: &'a InstrumentStore<Vec<u8>>,
    as_fluidsynth: &'a InstrumentStore<Vec<u8>>,
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
    let names: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let names: Vec<String> = if names.is_empty() {
        let mut names: Vec<String> = FILES.iter().map(|s| (*s).to_owned()).collect();
        // Full polyphony: the real files rarely hold more than a few voices at once.
        let stress = out_dir.join(format!("{}-held-notes.mid", song::VOICES));
        match std::fs::write(&stress, song::held_notes_smf(song::VOICES, STRESS_SECONDS)) {
            Ok(()) => names.push(stress.display().to_string()),
            Err(e) => println!("{}: {e}", stress.display()),
        }
        names
    } else {
        names
    };

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
    let stores = Stores {
        full: &store,
        as_fluidsynth: &stripped,
    };

    match song::fluidsynth_version() {
        Ok(version) => println!(
            "FluidSynth: {} ({version})",
            song::fluidsynth_program().to_string_lossy()
        ),
        Err(e @ FluidError::NotInstalled(_)) => {
            println!("vs_fluidsynth: skipped: {e}");
            return;
        }
        Err(e) => {
            println!("vs_fluidsynth: {e}");
            std::process::exit(1);
        }
    }
    let fluid_startup = match fluid_startup(&bank, &out_dir) {
        Ok(run) => run.cpu_seconds,
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
        "bank {}: rdmus load (parse + build + download) {rdmus_load:.3} CPU s; FluidSynth start-up on an empty song {fluid_startup:.2} CPU s",
        bank.display()
    );

    let mut rows = Vec::new();
    for name in &names {
        match measure(name, &bank, &stores, &out_dir) {
            Ok(row) => rows.push(row),
            Err(e) => println!("{name}: {e}"),
        }
    }
    print_table(&rows, rdmus_load, fluid_startup);
}

fn fluid_startup(bank: &Path, out_dir: &Path) -> Result<FluidRun, FluidError> {
    let empty = out_dir.join("empty.mid");
    std::fs::write(&empty, EMPTY_SMF).map_err(|e| FluidError::Failed(e.to_string()))?;
    let wav = out_dir.join("empty.fluidsynth.wav");
    let mut run = song::fluidsynth(bank, &empty, &wav)?;
    for _ in 1..RUNS {
        run.cpu_seconds = run
            .cpu_seconds
            .min(song::fluidsynth(bank, &empty, &wav)?.cpu_seconds);
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

fn measure(name: &str, bank: &Path, stores: &Stores<'_>, out_dir: &Path) -> Result<Row, String> {
    let midi = midi_file(name);
    let bytes = std::fs::read(&midi).map_err(|e| format!("{}: {e}", midi.display()))?;
    let stem = midi
        .file_stem()
        .map_or_else(|| "song".into(), |s| s.to_string_lossy().into_owned());
    let song = Song::read(&bytes)?;

    let (ours, rdmus_cpu) = timed_render(stores.full, &song)?;
    song::write_wav(
        &out_dir.join(format!("{stem}.rdmus.wav")),
        2,
        song::RATE,
        &ours.samples,
    )?;
    let (ours_stripped, rdmus_as_fluidsynth_cpu) = timed_render(stores.as_fluidsynth, &song)?;
    song::write_wav(
        &out_dir.join(format!("{stem}.rdmus-as-fluidsynth.wav")),
        2,
        song::RATE,
        &ours_stripped.samples,
    )?;

    let reference = out_dir.join(format!("{stem}.fluidsynth.wav"));
    let mut fluid = song::fluidsynth(bank, &midi, &reference).map_err(|e| e.to_string())?;
    for _ in 1..RUNS {
        let again = song::fluidsynth(bank, &midi, &reference).map_err(|e| e.to_string())?;
        fluid.cpu_seconds = fluid.cpu_seconds.min(again.cpu_seconds);
        fluid.wall_seconds = fluid.wall_seconds.min(again.wall_seconds);
    }
    let (channels, rate, theirs) = song::read_wav(&reference)?;
    if rate != song::RATE {
        return Err(format!(
            "{}: {rate} Hz, asked for {}",
            reference.display(),
            song::RATE
        ));
    }
    let envelope = |samples: &[i16]| song::rms_envelope(samples, 2, song::RATE, song::WINDOW_MS);
    let reference = song::rms_envelope(&theirs, channels, rate, song::WINDOW_MS);
    Ok(Row {
        name: midi
            .file_name()
            .map_or_else(|| name.to_owned(), |n| n.to_string_lossy().into_owned()),
        seconds: song.seconds(),
        events: song.events.len(),
        correlation: song::correlation(&envelope(&ours.samples), &reference),
        correlation_as_fluidsynth: song::correlation(&envelope(&ours_stripped.samples), &reference),
        ours,
        ours_as_fluidsynth: ours_stripped,
        rdmus_cpu,
        rdmus_as_fluidsynth_cpu,
        fluid,
    })
}

/// Renders `song` [`RUNS`] times: the samples and the least CPU time of a run (the machine is
/// shared; the least time is the one least disturbed).
fn timed_render(store: &InstrumentStore<Vec<u8>>, song: &Song) -> Result<(Rendered, f64), String> {
    let mut best = f64::INFINITY;
    let mut rendered = None;
    for _ in 0..RUNS {
        let start = song::thread_cpu_seconds().ok_or("no thread CPU time in /proc")?;
        // The previous run's output vector, already faulted in, takes this one.
        let reuse = rendered
            .take()
            .map_or_else(Vec::new, |r: Rendered| r.samples);
        rendered = Some(song::render_counted_into(store, song, reuse));
        let cpu = song::thread_cpu_seconds().ok_or("no thread CPU time in /proc")? - start;
        best = best.min(cpu);
    }
    Ok((rendered.ok_or("no run")?, best))
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

fn print_table(rows: &[Row], rdmus_load: f64, fluid_startup: f64) {
    println!();
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
    let ratio = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| a / b);
    for r in rows {
        let ours = rtf(r.seconds, r.rdmus_cpu);
        let ours_same_work = rtf(r.seconds, r.rdmus_as_fluidsynth_cpu);
        let theirs = child_rtf(r.seconds, r.fluid.cpu_seconds - fluid_startup);
        let ours_loaded = rtf(r.seconds, r.rdmus_cpu + rdmus_load);
        let theirs_loaded = child_rtf(r.seconds, r.fluid.cpu_seconds);
        println!(
            "{:<32} {:>7.1} {:>6} {:>6} {:>6} | {:>9} {:>9} {:>9} {:>6} {:>6} | {:>9} {:>9} {:>6}",
            r.name,
            r.seconds,
            r.events,
            figure(r.correlation, 3),
            figure(r.correlation_as_fluidsynth, 3),
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
    println!();
    println!(
        "{:<32} {:>14} {:>14} {:>9} {:>9}",
        "file", "rdmus voices", "rdmusFS voices", "clipped", "clippedFS"
    );
    for r in rows {
        let voices = |v: &Rendered| format!("{:.1} / {}", v.mean_voices, v.peak_voices);
        println!(
            "{:<32} {:>14} {:>14} {:>9} {:>9}",
            r.name,
            voices(&r.ours),
            voices(&r.ours_as_fluidsynth),
            r.ours.clipped,
            r.ours_as_fluidsynth.clipped
        );
    }
    println!();
    println!(
        "corr: RMS envelopes ({} ms windows, mono mix) of rdmus and FluidSynth, goal >= 0.85 on the real files. The {}-held-notes row is synthetic: after its attack the envelope is flat but for the beating of unison voices, which corr then measures; it is there for the real-time factor.",
        song::WINDOW_MS,
        song::VOICES
    );
    println!(
        "corrFS, rdmusFS, ratioFS: rdmus given only what libinstpatch's DLS loader (Debian's FluidSynth) reads (no articulation, sample attenuation or exclusive classes), i.e. the same work as FluidSynth 2.3."
    );
    println!(
        "voices: mean / peak sounding voices; clipped: samples beyond 16 bits in rdmus's mix."
    );
    println!(
        "RTF: audio s / CPU s, rdmus at {} voices and {} Hz; ratio = rdmus / FluidSynth, goal >= 2. \"+ld\": bank load counted (FluidSynth: its whole process); without, FluidSynth's start-up on an empty song is subtracted. n/a: under 0.05 CPU s (10 ms ticks).",
        song::VOICES,
        song::RATE
    );
}
