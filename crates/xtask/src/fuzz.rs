//! Bounded fuzz runs, a step of `cargo xtask test`.
//!
//! Each crate that reads outside input keeps a cargo-fuzz project in
//! `<crate>/fuzz` (its own `[workspace]`, out of the main one): the crates
//! under `crates/`, and the driver (`driver/fuzz`, whose target drives
//! rdmus-driver through wdm-sim as a client would). The targets CI runs are
//! listed in [`FUZZ_TARGETS`] with their time budget; a target declared in a
//! fuzz project's `Cargo.toml` but not listed is reported, and a listed target
//! that is not declared is an error (the table must not rot).
//!
//! The runs use the stable toolchain: `cargo fuzz run --sanitizer none` needs
//! only stable `-C` flags (sancov instrumentation), while address sanitizing
//! would need nightly. The fuzzed crates forbid or confine `unsafe`, so the
//! sanitizer adds little; debug assertions are on (`-a`), so an arithmetic
//! overflow is a crash. When `cargo fuzz` is missing it is installed
//! (`cargo install cargo-fuzz --locked`): the step never passes without running.

use std::path::Path;
use std::process::Command;

use crate::cmd::{self, TaskError, TaskResult};

/// One fuzz target that `cargo xtask test` runs.
#[derive(Debug, Clone, Copy)]
pub struct FuzzTarget {
    /// The crate's directory, from the repository root (its fuzz project is
    /// `fuzz/` inside it): `crates/mxf`, `driver`.
    pub krate: &'static str,
    /// The cargo-fuzz target name (a `[[bin]]` of `fuzz/Cargo.toml`).
    pub target: &'static str,
    /// How long CI runs it, in seconds.
    pub seconds: u32,
}

/// The fuzz targets CI runs, in order. Add a line per target; keep the sum of
/// `seconds` small (the whole CI run stays well under 20 minutes).
pub const FUZZ_TARGETS: &[FuzzTarget] = &[
    FuzzTarget {
        krate: "crates/mxf",
        target: "unpack_ksmusic",
        seconds: 20,
    },
    FuzzTarget {
        krate: "crates/mxf",
        target: "unpack_dmus",
        seconds: 20,
    },
    FuzzTarget {
        krate: "crates/mxf",
        target: "parser",
        seconds: 20,
    },
    FuzzTarget {
        krate: "crates/mxf",
        target: "capture_pack",
        seconds: 15,
    },
    FuzzTarget {
        krate: "crates/dls",
        target: "download",
        seconds: 20,
    },
    FuzzTarget {
        krate: "crates/dls",
        target: "dls_file",
        seconds: 15,
    },
    FuzzTarget {
        krate: "crates/dls",
        target: "engine",
        seconds: 15,
    },
    FuzzTarget {
        krate: "crates/smf",
        target: "smf",
        seconds: 10,
    },
    FuzzTarget {
        krate: "crates/rdmus-cli",
        target: "smf_to_irps",
        seconds: 10,
    },
    FuzzTarget {
        krate: "crates/rdmus-cli",
        target: "wire_tsv",
        seconds: 10,
    },
    FuzzTarget {
        krate: "driver",
        target: "session",
        // A session is a whole machine's life (a few ms each): 30 s runs ~10,000 of them.
        seconds: 30,
    },
];

/// The `[[bin]]` names a fuzz project's `Cargo.toml` declares, in file order.
#[must_use]
pub fn declared_targets(manifest: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_bin = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_bin = line == "[[bin]]";
            continue;
        }
        if !in_bin {
            continue;
        }
        if let Some(value) = line.strip_prefix("name").map(str::trim_start) {
            if let Some(quoted) = value.strip_prefix('=').map(str::trim) {
                names.push(quoted.trim_matches('"').to_owned());
            }
        }
    }
    names
}

/// Every fuzz target declared on disk, as `(crate directory, target)`: the
/// projects `crates/*/fuzz` and `driver/fuzz`.
#[must_use]
pub fn discover(root: &Path) -> Vec<(String, String)> {
    let mut crate_dirs: Vec<String> = std::fs::read_dir(root.join("crates"))
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| format!("crates/{}", entry.file_name().to_string_lossy()))
                .collect()
        })
        .unwrap_or_default();
    crate_dirs.sort();
    crate_dirs.push(String::from("driver"));
    let mut found = Vec::new();
    for krate in crate_dirs {
        let manifest = root.join(&krate).join("fuzz").join("Cargo.toml");
        let Ok(manifest) = std::fs::read_to_string(manifest) else {
            continue;
        };
        let mut names = declared_targets(&manifest);
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
                "fuzz target {}/{} is listed in xtask's FUZZ_TARGETS but {}/fuzz/fuzz_targets/{}.rs does not exist",
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
/// Each run starts from the target's checked-in seeds (`fuzz/seeds/<target>`, when
/// present) and grows a scratch corpus in `fuzz/corpus/<target>` (ignored by git).
///
/// # Errors
/// The table is stale, cargo-fuzz cannot be installed, or a fuzz run found a crash.
pub fn run_all() -> TaskResult {
    let root = cmd::workspace_root();
    let on_disk = discover(&root);
    let unlisted = check_table(FUZZ_TARGETS, &on_disk)?;
    for name in &unlisted {
        println!("note: fuzz target {name} exists but is not in xtask's FUZZ_TARGETS: not run");
    }
    if !cmd::available("cargo", &["fuzz", "--version"]) {
        println!("cargo-fuzz is missing: installing it (once)");
        cmd::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let override_seconds = std::env::var("RDMUS_FUZZ_SECONDS")
        .ok()
        .and_then(|value| value.parse::<u32>().ok());
    for listed in FUZZ_TARGETS {
        let seconds = override_seconds.unwrap_or(listed.seconds);
        let project = root.join(listed.krate).join("fuzz");
        let corpus = project.join("corpus").join(listed.target);
        std::fs::create_dir_all(&corpus).map_err(|error| {
            TaskError::new(format!("cannot create {}: {error}", corpus.display()))
        })?;
        let mut command = Command::new("cargo");
        command
            .current_dir(&project)
            .args(["fuzz", "run", "--sanitizer", "none", "--debug-assertions"])
            .arg(listed.target)
            .arg(&corpus);
        let seeds = project.join("seeds").join(listed.target);
        if seeds.is_dir() {
            command.arg(&seeds);
        }
        command
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .arg("-print_final_stats=1");
        cmd::run(&mut command)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{FUZZ_TARGETS, FuzzTarget, check_table, declared_targets, discover};

    fn on_disk() -> Vec<(String, String)> {
        vec![
            (String::from("crates/mxf"), String::from("ksmusic")),
            (String::from("crates/dls"), String::from("download")),
        ]
    }

    #[test]
    fn a_listed_target_that_does_not_exist_is_an_error() {
        let table = [FuzzTarget {
            krate: "crates/mxf",
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
            krate: "crates/mxf",
            target: "ksmusic",
            seconds: 5,
        }];
        assert_eq!(
            check_table(&table, &on_disk()).unwrap(),
            vec![String::from("crates/dls/download")]
        );
    }

    #[test]
    fn declared_targets_reads_bin_names_only() {
        let manifest = "[package]\nname = \"mxf-fuzz\"\n\n[[bin]]\nname = \"parser\"\npath = \"fuzz_targets/parser.rs\"\n\n[dependencies]\nname = \"not-a-bin\"\n\n[[bin]]\nname = \"unpack_dmus\"\n";
        assert_eq!(
            declared_targets(manifest),
            vec![String::from("parser"), String::from("unpack_dmus")]
        );
    }

    #[test]
    fn every_listed_target_is_declared_in_the_repository() {
        let on_disk = discover(&crate::cmd::workspace_root());
        let unlisted =
            check_table(FUZZ_TARGETS, &on_disk).expect("FUZZ_TARGETS matches the fuzz projects");
        assert!(
            unlisted.is_empty(),
            "fuzz targets not run by CI: {unlisted:?}"
        );
    }
}
