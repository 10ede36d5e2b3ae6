//! Where rdmus's tests and benchmarks find the shared test data, and how a test that lacks it
//! says so.
//!
//! The data (the GM bank, the jazz-soft MIDI files) is too large for the repository; it lives
//! in `../shared/data` beside the checkout, or wherever `RDMUS_SHARED_DATA` names. Every test
//! and benchmark that reads it asks this crate ([`path`], [`find`], [`read`]), never a path of
//! its own.
//!
//! A test without its data passes without checking anything; so that such a run is not taken
//! for a full one, the test reports itself with [`skip`]: one line on the process's standard
//! output, `rdmus-skip: BINARY::TEST (REASON)`, which `cargo xtask test` counts and names in its
//! closing summary ([`parse_skip_line`]). The line is written to the stdout handle, not through
//! `println!`, because libtest captures `print!` output of passing tests but not writes to the
//! handle: the line reaches the log in every run.

use std::io::Write;
use std::path::{Path, PathBuf};

/// The environment variable that names the shared data directory instead of the default.
pub const ENV_VAR: &str = "RDMUS_SHARED_DATA";

/// The start of a skip line.
pub const SKIP_MARKER: &str = "rdmus-skip: ";

/// The shared data directory: `$RDMUS_SHARED_DATA` when set and not empty, else `shared/data`
/// in the checkout's parent directory.
#[must_use]
pub fn dir() -> PathBuf {
    match std::env::var_os(ENV_VAR) {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => default_dir(),
    }
}

/// `shared/data` beside the checkout: this crate is `<checkout>/crates/test-data`.
fn default_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.ancestors().nth(3).map_or_else(
        || manifest.join("../../../shared/data"),
        |parent| parent.join("shared/data"),
    )
}

/// `relative` (`"dls/sf_GMbank.dls"`, `"midi/jazz-soft"`) under the data directory, whether
/// or not it is there.
#[must_use]
pub fn path(relative: &str) -> PathBuf {
    dir().join(relative)
}

/// `relative` under the data directory when it is there; otherwise the running test is
/// reported as skipped ([`skip`]) and `None`.
#[must_use]
pub fn find(relative: &str) -> Option<PathBuf> {
    let path = path(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!("{} is absent", path.display()));
        None
    }
}

/// The bytes of `relative` under the data directory; when it cannot be read the running test
/// is reported as skipped ([`skip`]) and `None`.
#[must_use]
pub fn read(relative: &str) -> Option<Vec<u8>> {
    let path = path(relative);
    match std::fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(error) => {
            skip(&format!("{} is not readable: {error}", path.display()));
            None
        }
    }
}

/// Reports the running test (or benchmark) as skipped for `reason`: one [`SKIP_MARKER`] line
/// on standard output (see the crate docs), `rdmus-skip: BINARY::TEST (REASON)`.
pub fn skip(reason: &str) {
    let line = format!("{SKIP_MARKER}{} ({reason})\n", current_test());
    let mut out = std::io::stdout().lock();
    // A test must not fail for want of a log line.
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

/// The running test as `PACKAGE::BINARY::TEST`: the package cargo runs it for
/// (`CARGO_PKG_NAME`, which `cargo test` sets), the executable's name without cargo's hash
/// (left out for the package's own unit tests), and the test thread's name (libtest names each
/// test's thread after the test).
#[must_use]
pub fn current_test() -> String {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|exe| {
            exe.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .map(|stem| without_hash(&stem).to_owned())
        .unwrap_or_default();
    let thread = std::thread::current();
    let test = thread.name().filter(|name| *name != "main").unwrap_or("?");
    test_name(
        std::env::var("CARGO_PKG_NAME").ok().as_deref(),
        &binary,
        test,
    )
}

/// `PACKAGE::BINARY::TEST`, `PACKAGE::TEST` for the package's unit tests (the binary is the
/// library), `BINARY::TEST` when no package is known.
fn test_name(package: Option<&str>, binary: &str, test: &str) -> String {
    match package {
        Some(package) if package.replace('-', "_") == binary => format!("{package}::{test}"),
        Some(package) => format!("{package}::{binary}::{test}"),
        None => format!("{binary}::{test}"),
    }
}

/// `name` without cargo's `-0123456789abcdef` suffix.
fn without_hash(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((base, hash)) if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => {
            base
        }
        _ => name,
    }
}

/// A skip line's test name and reason, or `None` for any other line.
#[must_use]
pub fn parse_skip_line(line: &str) -> Option<(&str, &str)> {
    let rest = line.trim_end().strip_prefix(SKIP_MARKER)?;
    match rest.split_once(" (") {
        Some((test, reason)) => Some((test, reason.strip_suffix(')').unwrap_or(reason))),
        None => Some((rest, "")),
    }
}

#[cfg(test)]
mod tests {
    use super::{SKIP_MARKER, default_dir, parse_skip_line, test_name, without_hash};

    #[test]
    fn a_test_is_named_by_package_binary_and_thread() {
        assert_eq!(
            test_name(Some("dls"), "synth", "notes"),
            "dls::synth::notes"
        );
        assert_eq!(
            test_name(Some("rdmus-cli"), "synth", "notes"),
            "rdmus-cli::synth::notes"
        );
        assert_eq!(
            test_name(Some("test-data"), "test_data", "tests::x"),
            "test-data::tests::x"
        );
        assert_eq!(test_name(None, "synth", "notes"), "synth::notes");
    }

    #[test]
    fn the_default_directory_is_beside_the_checkout() {
        let checkout = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .and_then(std::path::Path::parent)
            .expect("crates/test-data is two levels into the checkout");
        let beside = checkout.parent().expect("the checkout has a parent");
        assert_eq!(default_dir(), beside.join("shared/data"));
    }

    #[test]
    fn cargo_hashes_are_cut_and_other_names_kept() {
        assert_eq!(
            without_hash("synth_miniport-0a1b2c3d4e5f6789"),
            "synth_miniport"
        );
        assert_eq!(
            without_hash("render_allocates_nothing"),
            "render_allocates_nothing"
        );
        assert_eq!(without_hash("vs-fluidsynth"), "vs-fluidsynth");
    }

    #[test]
    fn skip_lines_parse_back_and_other_lines_do_not() {
        let line = format!("{SKIP_MARKER}synth::gm_bank_plays (x is absent; see docs)\n");
        assert_eq!(
            parse_skip_line(&line),
            Some(("synth::gm_bank_plays", "x is absent; see docs"))
        );
        assert_eq!(parse_skip_line("test synth::gm_bank_plays ... ok"), None);
    }

    #[test]
    fn the_current_test_is_named_after_its_thread() {
        let name = super::current_test();
        assert!(
            name.ends_with("::tests::the_current_test_is_named_after_its_thread"),
            "{name}"
        );
        assert!(name.starts_with("test-data::tests::"), "{name}");
    }
}
