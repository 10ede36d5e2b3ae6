//! Bounded fuzz runs, a step of `cargo xtask test`.
//!
//! Each crate that has a cargo-fuzz project keeps it in `crates/<crate>/fuzz`.
//! The targets CI runs are listed in [`FUZZ_TARGETS`] with their time budget;
//! a target found on disk but not listed is reported, and a listed target
//! that does not exist is an error (the table must not rot). cargo-fuzz
//! needs a nightly toolchain; without `cargo fuzz` the step says so and
//! passes.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, TaskError, TaskResult};

/// One fuzz target that `cargo xtask test` runs.
#[derive(Debug, Clone, Copy)]
pub struct FuzzTarget {
    /// The crate directory under `crates/` (its fuzz project is `fuzz/` inside it).
    pub krate: &'static str,
    /// The cargo-fuzz target name (`fuzz/fuzz_targets/<name>.rs`).
    pub target: &'static str,
    /// How long CI runs it, in seconds.
    pub seconds: u32,
}

/// The fuzz targets CI runs, in order. Add a line per target; keep the sum of
/// `seconds` small (the whole CI run stays well under 20 minutes).
pub const FUZZ_TARGETS: &[FuzzTarget] = &[];

/// Every fuzz target that exists on disk, as `(crate, target)`.
#[must_use]
pub fn discover(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
        return found;
    };
    let mut crate_dirs: Vec<PathBuf> = crates
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .collect();
    crate_dirs.sort();
    for crate_dir in crate_dirs {
        let Ok(targets) = std::fs::read_dir(crate_dir.join("fuzz").join("fuzz_targets")) else {
            continue;
        };
        let krate = crate_dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut names: Vec<String> = targets
            .filter_map(Result::ok)
            .filter_map(|entry| {
                let path = entry.path();
                if path.extension()? != "rs" {
                    return None;
                }
                Some(path.file_stem()?.to_string_lossy().into_owned())
            })
            .collect();
        names.sort();
        found.extend(names.into_iter().map(|name| (krate.clone(), name)));
    }
    found
}

/// Checks the table against the disk: every listed target must exist.
///
/// # Errors
/// A listed target has no source file.
pub fn check_table(table: &[FuzzTarget], on_disk: &[(String, String)]) -> TaskResult<Vec<String>> {
    for listed in table {
        if !on_disk
            .iter()
            .any(|(krate, target)| krate == listed.krate && target == listed.target)
        {
            return Err(TaskError::new(format!(
                "fuzz target {}/{} is listed in xtask's FUZZ_TARGETS but crates/{}/fuzz/fuzz_targets/{}.rs does not exist",
                listed.krate, listed.target, listed.krate, listed.target
            )));
        }
    }
    Ok(on_disk
        .iter()
        .filter(|(krate, target)| {
            !table
                .iter()
                .any(|listed| listed.krate == krate && listed.target == target)
        })
        .map(|(krate, target)| format!("{krate}/{target}"))
        .collect())
}

/// Runs every listed target for its budget (scaled by `$RDMUS_FUZZ_SECONDS` if set).
///
/// # Errors
/// The table is stale, or a fuzz run found a crash.
pub fn run_all() -> TaskResult {
    let root = cmd::workspace_root();
    let on_disk = discover(&root);
    let unlisted = check_table(FUZZ_TARGETS, &on_disk)?;
    for name in &unlisted {
        println!("note: fuzz target {name} exists but is not in xtask's FUZZ_TARGETS: not run");
    }
    if FUZZ_TARGETS.is_empty() {
        println!(
            "no fuzz targets listed in FUZZ_TARGETS (crates/xtask/src/fuzz.rs): nothing to run"
        );
        return Ok(());
    }
    if !cmd::available("cargo", &["+nightly", "fuzz", "--version"]) {
        println!(
            "skipped: `cargo +nightly fuzz` is not available (rustup toolchain install nightly; cargo install cargo-fuzz)"
        );
        return Ok(());
    }
    let override_seconds = std::env::var("RDMUS_FUZZ_SECONDS")
        .ok()
        .and_then(|value| value.parse::<u32>().ok());
    for listed in FUZZ_TARGETS {
        let seconds = override_seconds.unwrap_or(listed.seconds);
        cmd::run(
            Command::new("cargo")
                .current_dir(root.join("crates").join(listed.krate).join("fuzz"))
                .args(["+nightly", "fuzz", "run", listed.target, "--"])
                .arg(format!("-max_total_time={seconds}")),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FuzzTarget, check_table, discover};

    fn on_disk() -> Vec<(String, String)> {
        vec![
            (String::from("mxf"), String::from("ksmusic")),
            (String::from("dls"), String::from("download")),
        ]
    }

    #[test]
    fn a_listed_target_that_does_not_exist_is_an_error() {
        let table = [FuzzTarget {
            krate: "mxf",
            target: "missing",
            seconds: 5,
        }];
        let error = check_table(&table, &on_disk()).unwrap_err();
        assert!(
            error.0.contains("crates/mxf/fuzz/fuzz_targets/missing.rs"),
            "{error}"
        );
    }

    #[test]
    fn unlisted_targets_are_reported() {
        let table = [FuzzTarget {
            krate: "mxf",
            target: "ksmusic",
            seconds: 5,
        }];
        assert_eq!(
            check_table(&table, &on_disk()).unwrap(),
            vec![String::from("dls/download")]
        );
    }

    #[test]
    fn discovery_finds_target_sources_under_crates() {
        let root =
            std::env::temp_dir().join(format!("xtask-fuzz-discovery-{}", std::process::id()));
        let targets = root
            .join("crates")
            .join("mxf")
            .join("fuzz")
            .join("fuzz_targets");
        std::fs::create_dir_all(&targets).unwrap();
        std::fs::write(targets.join("b.rs"), "").unwrap();
        std::fs::write(targets.join("a.rs"), "").unwrap();
        std::fs::write(targets.join("notes.txt"), "").unwrap();
        let found = discover(&root);
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(
            found,
            vec![
                (String::from("mxf"), String::from("a")),
                (String::from("mxf"), String::from("b"))
            ]
        );
    }
}
