//! The Rust targets the driver is built for: present before any step needs them.
//!
//! `rust-toolchain.toml` lists the three Windows targets, and rustup installs them when it
//! installs the toolchain. A toolchain that was already there (a machine whose rustup had
//! `stable` before this repository) does not get them: rustup adds a toolchain file's targets
//! only when it installs the toolchain. `.ci/run` adds what is missing; this module does the
//! same for `cargo xtask package` and `cargo xtask test`, so no command depends on having gone
//! through CI's script. Without rustup nothing can be added: the error names the command.

use std::process::Command;

use crate::cmd::{self, TaskError, TaskResult};

/// The targets of `rust-toolchain.toml` the steps build for: the two packaged machines and
/// x86 (whose layouts `cargo xtask test` checks).
pub const WINDOWS_TARGETS: [&str; 3] = [
    "x86_64-pc-windows-msvc",
    "aarch64-pc-windows-msvc",
    "i686-pc-windows-msvc",
];

/// The targets of `wanted` not in `installed` (`rustup target list --installed`: one name a
/// line), in `wanted`'s order.
#[must_use]
pub fn missing_targets<'a>(installed: &str, wanted: &[&'a str]) -> Vec<&'a str> {
    wanted
        .iter()
        .copied()
        .filter(|target| !installed.lines().any(|line| line.trim() == *target))
        .collect()
}

/// Adds each of `targets` the active toolchain lacks with `rustup target add` (the toolchain
/// rustup picks in the workspace: `rust-toolchain.toml`, or `RUSTUP_TOOLCHAIN` when cargo runs
/// through rustup's proxy).
///
/// # Errors
/// rustup is missing or could not add a target: the message names the command to run.
pub fn ensure_targets(targets: &[&str]) -> TaskResult {
    let listed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .current_dir(cmd::workspace_root())
        .stdin(std::process::Stdio::null())
        .output();
    let installed = match listed {
        Ok(output) if output.status.success() => {
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
        _ => {
            return if targets.iter().all(|target| has_std_without_rustup(target)) {
                Ok(())
            } else {
                Err(TaskError::new(format!(
                    "rustup is not available to add the Rust targets {}: install them into your toolchain (with rustup: `rustup target add {}`)",
                    targets.join(", "),
                    targets.join(" ")
                )))
            };
        }
    };
    let missing = missing_targets(&installed, targets);
    if missing.is_empty() {
        return Ok(());
    }
    println!(
        "the toolchain lacks the Rust target(s) {}: adding them",
        missing.join(", ")
    );
    cmd::run(
        Command::new("rustup")
            .args(["target", "add"])
            .args(&missing)
            .current_dir(cmd::workspace_root()),
    )
    .map_err(|error| {
        TaskError::new(format!(
            "could not add the Rust target(s) {} ({error}): run `rustup target add {}` in {}",
            missing.join(", "),
            missing.join(" "),
            cmd::workspace_root().display()
        ))
    })
}

/// Whether the active `rustc` (no rustup) has the standard library for `target`.
fn has_std_without_rustup(target: &str) -> bool {
    let Ok(sysroot) = cmd::output(Command::new("rustc").args(["--print", "sysroot"])) else {
        return false;
    };
    std::path::Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(target)
        .join("lib")
        .is_dir()
}

#[cfg(test)]
mod tests {
    use super::{WINDOWS_TARGETS, missing_targets};

    #[test]
    fn missing_targets_are_those_not_listed() {
        let installed = "x86_64-unknown-linux-gnu\nx86_64-pc-windows-msvc\n";
        assert_eq!(
            missing_targets(installed, &WINDOWS_TARGETS),
            ["aarch64-pc-windows-msvc", "i686-pc-windows-msvc"]
        );
        let all = WINDOWS_TARGETS.join("\n");
        assert!(missing_targets(&all, &WINDOWS_TARGETS).is_empty());
        assert_eq!(missing_targets("", &["a"]), ["a"]);
    }

    #[test]
    fn the_targets_are_those_of_the_toolchain_file() {
        let file =
            std::fs::read_to_string(crate::cmd::workspace_root().join("rust-toolchain.toml"))
                .expect("rust-toolchain.toml");
        let line = file
            .lines()
            .find(|line| line.trim_start().starts_with("targets"))
            .expect("a targets line");
        for target in WINDOWS_TARGETS {
            assert!(
                line.contains(&format!("\"{target}\"")),
                "{target} in {line}"
            );
        }
    }
}
