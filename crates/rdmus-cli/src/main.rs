//! The `rdmus` command. See `rdmus --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use rdmus_cli::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = std::io::stdout();
    match run(cli, &mut stdout.lock()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("rdmus: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
