//! The `rdmus` command. See `rdmus --help`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    ExitCode::from(rdmus_cli::cli::main_with(
        std::env::args_os(),
        &mut stdout.lock(),
        &mut stderr.lock(),
    ))
}
