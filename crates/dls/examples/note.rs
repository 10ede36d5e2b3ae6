//! Prints what one note plays on a DLS bank: the regions the store picks, their sample info,
//! the instrument's and the region's connection blocks, and the resulting note parameters
//! (`synth::articulation::note_params`). A diagnostic for level and envelope differences.
//!
//! `cargo run -p dls --example note -- PROGRAM KEY VELOCITY [drum] [BANK.dls]`

#[path = "../benches/song/mod.rs"]
mod song;

use dls::download::{Articulation, WaveSamples};
use dls::model::Patch;
use dls::synth::articulation::note_params;
use dls::synth::voice::Voice;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| args.get(i).and_then(|a| a.parse::<u8>().ok());
    let (Some(program), Some(key), Some(velocity)) = (number(0), number(1), number(2)) else {
        eprintln!("usage: note PROGRAM KEY VELOCITY [drum] [BANK.dls]");
        return ExitCode::from(2);
    };
    let drum = args.get(3).is_some_and(|a| a == "drum");
    let bank = args
        .iter()
        .skip(3)
        .find(|a| a.as_str() != "drum")
        .map_or_else(song::bank_path, std::path::PathBuf::from);
    let store = match std::fs::read(&bank)
        .map_err(|e| format!("{}: {e}", bank.display()))
        .and_then(|b| song::load_bank(&b))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("note: {e}");
            return ExitCode::FAILURE;
        }
    };
    let patch = Patch(if drum { 0x8000_0000 } else { 0 } | u32::from(program));
    let Some(instrument) = store.instrument(patch) else {
        eprintln!("note: no instrument {patch:?}");
        return ExitCode::FAILURE;
    };
    println!("instrument {patch:?}, {} regions", instrument.regions.len());
    print_articulation("  instrument", instrument.articulation.as_ref());
    for (region, wave) in store.regions_for(patch, key, velocity) {
        println!(
            "  region keys {:?} velocities {:?} key group {} options {:#x} wave {} ({} frames, {} Hz, {} bit) sample {:?}",
            region.key,
            region.velocity,
            region.key_group,
            region.options,
            region.wave_dlid,
            wave.frames(),
            wave.format().sample_rate,
            wave.format().bits_per_sample,
            region.sample
        );
        print_articulation("    region", region.articulation.as_ref());
        let params = note_params(instrument.articulation.as_ref(), region, key, velocity);
        println!("    => {params:#?}");
        let mut voice = Voice::start(
            wave.format(),
            wave.frames(),
            &region.sample,
            &params,
            song::RATE,
        );
        print_levels(&mut voice, wave.samples_with_guard());
    }
    ExitCode::SUCCESS
}

/// The voice's level (RMS, dB re full scale) in consecutive 250 ms windows: 2 s held, 1 s
/// released.
fn print_levels(voice: &mut Voice, samples: WaveSamples<'_>) {
    let window = usize::try_from(song::RATE / 4).unwrap_or(12_000);
    let mut buffer = vec![0i32; window];
    let mut levels = Vec::new();
    for n in 0..12 {
        if n == 8 {
            voice.release();
        }
        buffer.fill(0);
        let got = voice.render(samples, &mut buffer);
        let power: f64 = buffer[..got]
            .iter()
            .map(|&s| f64::from(s) * f64::from(s))
            .sum();
        #[allow(clippy::cast_precision_loss, reason = "small counts")]
        let rms = (power / window as f64).sqrt();
        levels.push(format!("{:.1}", 20.0 * (rms / 32768.0).max(1e-9).log10()));
    }
    println!(
        "    levels (dBFS per 250 ms, release at 2 s): {}",
        levels.join(" ")
    );
}

fn print_articulation(what: &str, articulation: Option<&Articulation>) {
    match articulation {
        None => println!("{what} articulation: none"),
        Some(Articulation::Dls1(p)) => println!("{what} articulation (DLS1): {p:?}"),
        Some(Articulation::Dls2(blocks)) => {
            for c in blocks.iter().flat_map(|b| &b.connections) {
                println!(
                    "{what} src {:#06x} ctl {:#06x} dst {:#06x} trn {:#06x} scale {} ({:.2})",
                    c.source,
                    c.control,
                    c.destination,
                    c.transform,
                    c.scale,
                    f64::from(c.scale) / 65536.0
                );
            }
        }
    }
}
