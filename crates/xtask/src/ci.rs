//! `cargo xtask test`: every check CI runs, in order, failing fast.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::OnceLock;

use crate::cmd::{self, TaskError, TaskResult};
use crate::{abi, fuzz, import_audit, package, toolchain, wine};

/// The closing line of the workspace tests, repeated as the run's last line
/// so that a log reader sees the test counts at the very end.
static TEST_SUMMARY: OnceLock<String> = OnceLock::new();

/// One step of the test run.
struct Step {
    title: &'static str,
    run: fn() -> TaskResult,
}

const STEPS: &[Step] = &[
    Step {
        title: "format: cargo fmt --all --check",
        run: format,
    },
    Step {
        title: "lint: cargo clippy -D warnings: the workspace, and the driver for x64, ARM64 and x86",
        run: clippy,
    },
    Step {
        title: "docs: RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps",
        run: docs,
    },
    Step {
        title: "x86 layouts: cargo check -p dmus-sys --target i686-pc-windows-msvc",
        run: check_x86,
    },
    Step {
        title: "features: a default build resolves no wdk crate",
        run: no_wdk_by_default,
    },
    Step {
        title: "package: rdmus.sys for x64, arm64 and x86, image checks, instruction audit, stamped INF",
        run: package_step,
    },
    Step {
        title: "imports: every import of the packaged images in a public export list, x86 conventions",
        run: import_audit::run,
    },
    Step {
        title: "ABI: dmus-sys against mingw-w64's headers, x86_64 and i686",
        run: abi::run,
    },
    Step {
        title: "Wine: the x64 image loads under Wine's kernel, DriverEntry succeeds, sc stop unloads",
        run: wine::smoke,
    },
    Step {
        title: "tests: cargo test --workspace",
        run: test_workspace,
    },
    Step {
        title: "fuzz: bounded runs of the listed fuzz targets",
        run: fuzz::run_all,
    },
];

/// Runs every step; stops at the first failure.
///
/// # Errors
/// The first step that failed.
pub fn test_all() -> TaskResult {
    for (index, step) in STEPS.iter().enumerate() {
        cmd::header(index + 1, STEPS.len(), step.title);
        (step.run)().map_err(|error| {
            TaskError::new(format!(
                "step {} ({}) failed: {error}",
                index + 1,
                step.title
            ))
        })?;
    }
    println!();
    println!("==> all {} steps passed", STEPS.len());
    if let Some(summary) = TEST_SUMMARY.get() {
        println!("{summary}");
    }
    Ok(())
}

fn format() -> TaskResult {
    cmd::run(cmd::cargo().args(["fmt", "--all", "--check"]))
}

fn clippy() -> TaskResult {
    // The Windows targets linted here and checked or packaged after: add any the toolchain
    // lacks (as .ci/run does) before the first step that needs one.
    toolchain::ensure_targets(&toolchain::WINDOWS_TARGETS)?;
    cmd::run(cmd::cargo().args([
        "clippy",
        "--workspace",
        "--all-targets",
        "--",
        "-D",
        "warnings",
    ]))?;
    // The driver's Windows-only code (CR8 and in/out asm, the ARM64 imports in
    // rdmus-driver; the panic handler and the global allocator in the image,
    // rdmus) is compiled out on the host: lint both for the targets that ship.
    for machine in crate::package::MACHINES {
        cmd::run(cmd::cargo().args([
            "clippy",
            "--package",
            "rdmus",
            "--package",
            "rdmus-driver",
            "--lib",
            "--target",
            machine.target(),
            "--",
            "-D",
            "warnings",
        ]))?;
    }
    Ok(())
}

/// Documentation is linted like code: the workspace's `[lints.rustdoc]` table
/// (broken or private intra-doc links, bad code blocks and HTML, ...) fails
/// the run here, as clippy's lints do in the step before. A `RUSTDOCFLAGS`
/// of the caller's is kept, with `-D warnings` added.
fn docs() -> TaskResult {
    let mut flags = std::env::var("RUSTDOCFLAGS").unwrap_or_default();
    if !flags.trim().is_empty() {
        flags.push(' ');
    }
    flags.push_str("-D warnings");
    cmd::run(
        cmd::cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", flags),
    )
}

fn check_x86() -> TaskResult {
    cmd::run(cmd::cargo().args([
        "check",
        "--package",
        "dmus-sys",
        "--target",
        "i686-pc-windows-msvc",
    ]))
}

/// The wdk crates cannot build off Windows: a default build must not even
/// resolve them, for the host or for either driver target.
fn no_wdk_by_default() -> TaskResult {
    for target in [
        "x86_64-unknown-linux-gnu",
        "x86_64-pc-windows-msvc",
        "i686-pc-windows-msvc",
        "aarch64-pc-windows-msvc",
    ] {
        let tree = cmd::output(cmd::cargo().args([
            "tree",
            "--package",
            "rdmus",
            "--edges",
            "normal,build",
            "--prefix",
            "none",
            "--target",
            target,
        ]))?;
        let wdk = wdk_crates(&tree);
        if !wdk.is_empty() {
            return Err(TaskError::new(format!(
                "a default build for {target} resolves {}",
                wdk.join(", ")
            )));
        }
        println!(
            "{target}: {} crates, none from windows-drivers-rs",
            tree.lines().count()
        );
    }
    Ok(())
}

/// The windows-drivers-rs crates named in `cargo tree --prefix none` output.
fn wdk_crates(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name == "wdk" || name.starts_with("wdk-"))
        .map(str::to_owned)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn package_step() -> TaskResult {
    package::package(package::MACHINES).map(drop)
}

/// Runs the workspace tests, echoing their output, and prints one closing
/// line with the totals of every test binary (`summary: N passed, N failed,
/// N skipped`) so the result is plain at the end of the log. A test that
/// returned early for want of the shared data (or a tool) reported itself
/// with a `test_data` skip line: it counts as skipped, not passed, and is
/// named under the summary line.
///
/// # Errors
/// `cargo test` failed or ran no test.
pub fn test_workspace() -> TaskResult {
    let mut command = cmd::cargo();
    command
        .args(["test", "--workspace", "--no-fail-fast"])
        .stdout(Stdio::piped());
    let shown = cmd::describe(&command);
    println!("$ {shown}");
    let mut child = command
        .spawn()
        .map_err(|error| TaskError::new(format!("could not run `{shown}`: {error}")))?;
    let mut totals = TestTotals::default();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines() {
            let line =
                line.map_err(|error| TaskError::new(format!("reading test output: {error}")))?;
            println!("{line}");
            totals.add_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|error| TaskError::new(format!("waiting for `{shown}`: {error}")))?;
    let summary = totals.summary();
    println!();
    println!("{summary}");
    // The first (only) test step of a run records it; a second cannot happen.
    let _ = TEST_SUMMARY.set(summary);
    cmd::check_status(&shown, status)?;
    if totals.passed == 0 {
        return Err(TaskError::new("cargo test ran no test"));
    }
    Ok(())
}

/// Sums of the `test result:` lines of every test binary, and the tests that
/// reported themselves skipped (`test_data` skip lines), by name.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TestTotals {
    /// Tests that passed (including those that reported a skip).
    pub passed: u64,
    /// Tests that failed.
    pub failed: u64,
    /// Tests that were ignored.
    pub ignored: u64,
    /// Tests that returned early without their data (or tool): name, first reason.
    pub skipped: BTreeMap<String, String>,
}

impl TestTotals {
    /// The closing summary: `summary: N passed, N failed, N skipped`, then one line per
    /// test that reported a skip. Those tests passed in libtest's count, but checked
    /// nothing: they are counted as skipped here.
    #[must_use]
    pub fn summary(&self) -> String {
        let skipped = u64::try_from(self.skipped.len()).unwrap_or(u64::MAX);
        let mut summary = format!(
            "summary: {} passed, {} failed, {} skipped",
            self.passed.saturating_sub(skipped),
            self.failed,
            self.ignored.saturating_add(skipped)
        );
        if !self.skipped.is_empty() {
            let _ = write!(
                summary,
                "\nskipped for want of their data or tool ({} names the shared data directory; default ../shared/data beside the checkout):",
                test_data::ENV_VAR
            );
            for (test, reason) in &self.skipped {
                let _ = write!(summary, "\n  {test}: {reason}");
            }
        }
        summary
    }

    /// Adds the counts of one `test result: ok. 3 passed; 0 failed; 1 ignored; …` line,
    /// or the name of one test's skip line.
    pub fn add_line(&mut self, line: &str) {
        if let Some((test, reason)) = test_data::parse_skip_line(line) {
            self.skipped
                .entry(test.to_owned())
                .or_insert_with(|| reason.to_owned());
            return;
        }
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        for part in rest.split(';') {
            let mut words = part.split_whitespace().rev();
            let (Some(label), Some(count)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(count) = count.parse::<u64>() else {
                continue;
            };
            match label {
                "passed" => self.passed += count,
                "failed" => self.failed += count,
                "ignored" => self.ignored += count,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{TestTotals, wdk_crates};

    #[test]
    fn wdk_crates_are_spotted_in_a_tree() {
        let tree = "rdmus v0.1.0 (/work/main)\nbitflags v2.13.0\nwdk v0.5.0\nwdk-sys v0.5.2\nwdk-sys v0.5.2\nwdkish v1.0.0\n";
        assert_eq!(
            wdk_crates(tree),
            vec![String::from("wdk"), String::from("wdk-sys")]
        );
        assert!(wdk_crates("rdmus v0.1.0\ndmus-sys v0.1.0\n").is_empty());
    }

    #[test]
    fn totals_add_up_every_result_line() {
        let mut totals = TestTotals::default();
        totals.add_line("test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s");
        totals.add_line("running 3 tests");
        totals.add_line(
            "test result: FAILED. 2 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
        );
        totals.add_line("test something ... ok");
        assert_eq!(
            totals,
            TestTotals {
                passed: 14,
                failed: 1,
                ignored: 1,
                skipped: BTreeMap::new(),
            }
        );
    }

    #[test]
    fn tests_that_reported_a_skip_are_counted_skipped_and_named() {
        let mut totals = TestTotals::default();
        totals.add_line("rdmus-skip: synth::gm_bank_plays (/x/shared/data/dls/b.dls is absent)");
        totals.add_line("rdmus-skip: synth::gm_bank_plays (a second reason)");
        totals.add_line("rdmus-skip: jazz_soft::every_file (/x/shared/data/midi is absent)");
        totals.add_line("test result: ok. 10 passed; 0 failed; 1 ignored; 0 measured");
        let summary = totals.summary();
        let mut lines = summary.lines();
        assert_eq!(lines.next(), Some("summary: 8 passed, 0 failed, 3 skipped"));
        assert!(
            lines
                .next()
                .is_some_and(|l| l.contains("RDMUS_SHARED_DATA"))
        );
        assert_eq!(
            lines.collect::<Vec<_>>(),
            [
                "  jazz_soft::every_file: /x/shared/data/midi is absent",
                "  synth::gm_bank_plays: /x/shared/data/dls/b.dls is absent"
            ]
        );
    }
}
