//! `cargo xtask standin`: the release cross-build of the stand-in portcls.sys
//! (crates/portcls-standin) that runs rdmus.sys under Wine, checked against
//! what rdmus.sys imports from portcls.sys.
//!
//! Output: `<target>/standin/x64/portcls.sys` (rustc names the module
//! `portcls.dll`; rdmus.sys imports from `portcls.sys`).

use std::path::PathBuf;

use object::read::pe::PeFile64;

use crate::cmd::{self, TaskError, TaskResult};
use crate::image::Machine;

/// The module name rdmus.sys imports `PortCls` from.
pub const MODULE: &str = "portcls.sys";

/// Where the stand-in of `machine` goes: `<target>/standin/<x64|arm64>/portcls.sys`.
#[must_use]
pub fn output_path(machine: Machine) -> PathBuf {
    cmd::target_dir()
        .join("standin")
        .join(machine.package_dir())
        .join(MODULE)
}

/// Builds the x64 stand-in, copies it to [`output_path`] and checks that it exports every
/// function the x64 rdmus.sys (`<target>/x86_64-pc-windows-msvc/release/rdmus.dll`, built
/// first) imports from portcls.sys.
///
/// # Errors
/// A build failed, a file could not be read or copied, or an import is not exported.
pub fn build() -> TaskResult<PathBuf> {
    let machine = Machine::Amd64;
    let release = cmd::target_dir().join(machine.target()).join("release");
    for package in ["rdmus", "portcls-standin"] {
        cmd::run(
            cmd::cargo()
                .args(["build", "--package", package, "--lib", "--release"])
                .args(["--target", machine.target()]),
        )?;
    }
    let driver_path = release.join("rdmus.dll");
    let built = release.join("portcls.dll");
    let driver =
        std::fs::read(&driver_path).map_err(|error| cmd::io_error("read", &driver_path, &error))?;
    let standin = std::fs::read(&built).map_err(|error| cmd::io_error("read", &built, &error))?;
    let needed = imports_from(&driver, MODULE)?;
    let missing = missing_exports(&needed, &standin)?;
    if !missing.is_empty() {
        return Err(TaskError::new(format!(
            "{} does not export {} (imported by {})",
            built.display(),
            missing.join(", "),
            driver_path.display()
        )));
    }
    let out = output_path(machine);
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).map_err(|error| cmd::io_error("create", dir, &error))?;
    }
    std::fs::copy(&built, &out).map_err(|error| cmd::io_error("copy to", &out, &error))?;
    println!(
        "stand-in {}: exports all {} functions rdmus.sys imports from {MODULE}",
        out.display(),
        needed.len()
    );
    Ok(out)
}

/// The names the driver image `image` imports from `module` (compared case-insensitively).
///
/// # Errors
/// The image fails the driver image check.
pub fn imports_from(image: &[u8], module: &str) -> TaskResult<Vec<String>> {
    let report = crate::image::check(image, Machine::Amd64)
        .map_err(|error| TaskError::new(format!("rdmus.sys fails the image check: {error}")))?;
    Ok(report
        .imports
        .into_iter()
        .filter(|import| import.module.eq_ignore_ascii_case(module))
        .map(|import| import.name)
        .collect())
}

/// The names in `needed` that the PE32+ image `module` does not export by name.
///
/// # Errors
/// The image or its export table cannot be parsed.
pub fn missing_exports(needed: &[String], module: &[u8]) -> TaskResult<Vec<String>> {
    let file = PeFile64::parse(module)
        .map_err(|error| TaskError::new(format!("not a PE32+ image: {error}")))?;
    let exported: Vec<Vec<u8>> = match file
        .export_table()
        .map_err(|error| TaskError::new(format!("unreadable export table: {error}")))?
    {
        None => Vec::new(),
        Some(table) => table
            .exports()
            .map_err(|error| TaskError::new(format!("unreadable export table: {error}")))?
            .into_iter()
            .filter_map(|export| export.name.map(<[u8]>::to_vec))
            .collect(),
    };
    Ok(needed
        .iter()
        .filter(|name| !exported.iter().any(|export| export == name.as_bytes()))
        .cloned()
        .collect())
}
