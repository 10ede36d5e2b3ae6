//! Renders a Standard MIDI File with the rdmus DLS synth to a 48 kHz 16-bit stereo WAV, the
//! bank downloaded through the driver's path (host builder → download buffers → download
//! parser → instrument store), 64 voices.
//!
//! `cargo run --release -p dls --example render -- SONG.mid OUT.wav [BANK.dls]`
//! (the bank defaults to the shared GM bank, `RDMUS_BANK` or the third argument overrides it).

#[path = "../benches/song/mod.rs"]
mod song;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let (Some(midi), Some(wav)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render SONG.mid OUT.wav [BANK.dls]");
        return ExitCode::from(2);
    };
    let bank = args.get(2).cloned().unwrap_or_else(song::bank_path);
    match run(&bank, midi, wav) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(bank: &Path, midi: &Path, wav: &Path) -> Result<(), String> {
    let bank_bytes = std::fs::read(bank).map_err(|e| format!("{}: {e}", bank.display()))?;
    let midi_bytes = std::fs::read(midi).map_err(|e| format!("{}: {e}", midi.display()))?;
    let store = song::load_bank(&bank_bytes)?;
    let song = song::Song::read(&midi_bytes).map_err(|e| format!("{}: {e}", midi.display()))?;
    let start = song::thread_cpu_seconds();
    let samples = song::render(&store, &song);
    let cpu = song::thread_cpu_seconds().zip(start).map(|(b, a)| b - a);
    song::write_wav(wav, 2, song::RATE, &samples)?;
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    let clipped = samples
        .iter()
        .filter(|&&s| s == i16::MIN || s == i16::MAX)
        .count();
    print!(
        "{}: {:.2} s of audio, {} events, peak {peak}, {clipped} clipped samples",
        wav.display(),
        song.seconds(),
        song.events.len()
    );
    match cpu {
        Some(cpu) if cpu > 0.0 => println!(
            ", {cpu:.3} CPU s, real-time factor {:.1}",
            song.seconds() / cpu
        ),
        _ => println!(),
    }
    Ok(())
}
