//! Renders the start of a Standard MIDI File with the rdmus DLS synth, the send effects on or
//! off, and prints the CPU time: the workload to run under a profiler, e.g.
//!
//! `valgrind --tool=callgrind target/release/examples/fx_profile SONG.mid 60 on`
//!
//! (`cargo build --release -p dls --example fx_profile`; callgrind's instruction counts repeat
//! from run to run, which timings on a shared machine do not). Arguments: the song (a path or
//! a name in the shared jazz-soft directory), the seconds to render (default 60), `on`, `off`,
//! `reverb` or `chorus` (default `on`: reverb and chorus, as `rdmus play --reverb on --chorus
//! on`; the last two switch one effect on alone).

#[path = "../benches/song/mod.rs"]
mod song;

use dls::synth::effects::EffectSwitches;
use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(name) = args.first() else {
        eprintln!("usage: fx_profile SONG.mid [SECONDS] [on|off|reverb|chorus]");
        return ExitCode::from(2);
    };
    let seconds = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(60);
    let effects = match args.get(2).map(String::as_str) {
        None | Some("on") => song::EFFECTS_ON,
        Some("off") => EffectSwitches::default(),
        Some("reverb") => EffectSwitches {
            reverb: true,
            chorus: false,
        },
        Some("chorus") => EffectSwitches {
            reverb: false,
            chorus: true,
        },
        Some(other) => {
            eprintln!("fx_profile: {other}: on, off, reverb or chorus");
            return ExitCode::from(2);
        }
    };
    let path = PathBuf::from(name);
    let midi = if path.is_file() {
        path
    } else {
        song::midi_path(name)
    };
    let result = (|| -> Result<(), String> {
        let bank = std::fs::read(song::bank_path()).map_err(|e| e.to_string())?;
        let store = song::load_bank(&bank)?;
        let bytes = std::fs::read(&midi).map_err(|e| format!("{}: {e}", midi.display()))?;
        let song = song::Song::read(&bytes)?.first_seconds(seconds);
        let start = song::thread_cpu_seconds();
        let rendered = song::render_with_effects_into(&store, &song, effects, Vec::new());
        let cpu = song::thread_cpu_seconds()
            .zip(start)
            .map_or(0.0, |(b, a)| b - a);
        let energy: f64 = rendered.samples.iter().map(|&s| f64::from(s).powi(2)).sum();
        println!(
            "{}: {:.1} s, effects {effects:?}: {cpu:.3} CPU s (real-time factor {:.1}), energy {energy:.6e}",
            midi.display(),
            song.seconds(),
            song.seconds() / cpu.max(1e-9)
        );
        Ok(())
    })();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fx_profile: {e}");
            ExitCode::FAILURE
        }
    }
}
