//! `cargo xtask package`: release cross-builds of rdmus.sys, checked, with
//! the stamped INF and (when the tools are there) a test signature.
//!
//! Layout: `<target>/package/x64/`, `<target>/package/arm64/` and
//! `<target>/package/x86/`, each with `rdmus.sys`, `rdmus.inf` and, when
//! signed, `rdmus.cer`. Beside them, `<target>/package/link-maps/` keeps each
//! image's linker map (not shipped): the instruction audit finds every function
//! in it, and the import audit reads the decorated symbol of each x86 import
//! from the x86 one (its calling convention).

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cmd::{self, TaskError, TaskResult};
use crate::image::{self, Machine};
use crate::inf::{self, DriverDate};
use crate::instruction_audit;
use crate::sign;

/// The machines a package is built for.
pub const MACHINES: &[Machine] = &[Machine::Amd64, Machine::Arm64, Machine::X86];

/// What one machine's package holds.
#[derive(Debug, Clone)]
pub struct Package {
    /// The machine.
    pub machine: Machine,
    /// The directory of the package.
    pub dir: PathBuf,
    /// The checked image's report.
    pub report: image::ImageReport,
    /// Whether `rdmus.sys` carries a test signature.
    pub signed: bool,
}

/// Where packages go: `<target>/package`.
#[must_use]
pub fn package_root() -> PathBuf {
    cmd::target_dir().join("package")
}

/// Builds, checks, stamps and signs the package of each machine.
///
/// The machines' Rust targets are added first when the toolchain lacks them
/// ([`crate::toolchain::ensure_targets`]).
///
/// # Errors
/// A target could not be added, or a build, check, stamp or signing step failed.
pub fn package(machines: &[Machine]) -> TaskResult<Vec<Package>> {
    let targets: Vec<&str> = machines.iter().map(|machine| machine.target()).collect();
    crate::toolchain::ensure_targets(&targets)?;
    let signing = sign::tools_available();
    let certificate = if signing {
        Some(sign::ensure_certificate(&package_root().join("cert"))?)
    } else {
        println!("note: osslsigncode or openssl not found: the images are NOT test-signed");
        None
    };
    let mut packages = Vec::new();
    for &machine in machines {
        packages.push(package_one(machine, certificate.as_ref())?);
    }
    println!();
    for package in &packages {
        println!(
            "package {}: {} ({}), {}",
            package.machine,
            package.dir.display(),
            if package.signed {
                "test-signed"
            } else {
                "unsigned"
            },
            package
                .report
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
        );
    }
    Ok(packages)
}

fn package_one(
    machine: Machine,
    certificate: Option<&sign::TestCertificate>,
) -> TaskResult<Package> {
    println!();
    println!("--- {machine}: building rdmus.sys for {}", machine.target());
    // The root package `rdmus` is only the image's cdylib, so the release
    // profile's LTO applies to it: LTO is what drops the unused, unwind-built
    // parts of liballoc that would otherwise pull CRT symbols
    // (`__CxxFrameHandler3`, `strlen`) into the image.
    cmd::run(
        cmd::cargo()
            .args(["build", "--package", "rdmus", "--lib", "--release"])
            .args(["--target", machine.target()]),
    )?;
    let built = cmd::target_dir()
        .join(machine.target())
        .join("release")
        .join("rdmus.dll");
    // build.rs has the link write its map beside the image.
    let map = built.with_file_name("deps").join("rdmus.map");
    let kept = link_map_path(machine);
    if let Some(parent) = kept.parent() {
        std::fs::create_dir_all(parent).map_err(|error| cmd::io_error("create", parent, &error))?;
    }
    copy(&map, &kept)?;
    let dir = package_root().join(machine.package_dir());
    std::fs::create_dir_all(&dir).map_err(|error| cmd::io_error("create", &dir, &error))?;
    let sys = dir.join("rdmus.sys");

    // Check the linker's output before signing, then the signed file again.
    check_file(&built, machine)?;
    audit_instructions(&built, &map, machine)?;
    let signed = if let Some(certificate) = certificate {
        sign::sign(certificate, &built, &sys)?;
        copy(&certificate.der, &dir.join("rdmus.cer"))?;
        true
    } else {
        copy(&built, &sys)?;
        let stale = dir.join("rdmus.cer");
        if stale.exists() {
            std::fs::remove_file(&stale)
                .map_err(|error| cmd::io_error("remove", &stale, &error))?;
        }
        false
    };
    let report = check_file(&sys, machine)?;
    print!("{report}");

    let inx_path = cmd::workspace_root().join("inf").join("rdmus.inx");
    let inx = std::fs::read_to_string(&inx_path)
        .map_err(|error| cmd::io_error("read", &inx_path, &error))?;
    let stamped = inf::stamp(
        &inx,
        machine.inf_arch(),
        build_date(),
        env!("CARGO_PKG_VERSION"),
    )
    .map_err(|error| TaskError::new(format!("{}: {error}", inx_path.display())))?;
    let inf_path = dir.join("rdmus.inf");
    std::fs::write(&inf_path, stamped)
        .map_err(|error| cmd::io_error("write", &inf_path, &error))?;
    println!(
        "stamped {} for NT{}",
        inf_path.display(),
        machine.inf_arch()
    );
    Ok(Package {
        machine,
        dir,
        report,
        signed,
    })
}

/// Where the package step keeps the linker map of a machine's image
/// (`<target>/package/link-maps/rdmus-x86.map`, `rdmus-x64.map`, `rdmus-arm64.map`).
#[must_use]
pub fn link_map_path(machine: Machine) -> PathBuf {
    package_root()
        .join("link-maps")
        .join(format!("rdmus-{}.map", machine.package_dir()))
}

/// Reads and checks one image file.
///
/// # Errors
/// The file cannot be read or breaks a rule.
pub fn check_file(path: &Path, machine: Machine) -> TaskResult<image::ImageReport> {
    let data = std::fs::read(path).map_err(|error| cmd::io_error("read", path, &error))?;
    image::check(&data, machine).map_err(|error| {
        TaskError::new(format!("{} fails the image check: {error}", path.display()))
    })
}

/// The kernel's floating-point rules on a built image ([`instruction_audit`]): prints its
/// summary, and every finding when there is one.
///
/// # Errors
/// The image or its map cannot be read, its code cannot be told from data, or an
/// instruction breaks the machine's rules.
pub fn audit_instructions(image: &Path, map: &Path, machine: Machine) -> TaskResult {
    let data = std::fs::read(image).map_err(|error| cmd::io_error("read", image, &error))?;
    let map_text = std::fs::read(map).map_err(|error| cmd::io_error("read", map, &error))?;
    let audit = instruction_audit::audit_image(&data, machine, &String::from_utf8_lossy(&map_text))
        .map_err(|error| TaskError::new(format!("{}: {error}", image.display())))?;
    if audit.code.passes() {
        print!("instruction audit: {audit}");
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "{} breaks the kernel's floating-point rules for {machine}:\n{audit}",
            image.display()
        )))
    }
}

fn copy(from: &Path, to: &Path) -> TaskResult {
    std::fs::copy(from, to).map(drop).map_err(|error| {
        TaskError::new(format!(
            "could not copy {} to {}: {error}",
            from.display(),
            to.display()
        ))
    })
}

/// The `DriverVer` date: `$SOURCE_DATE_EPOCH` (reproducible builds) or today (UTC).
fn build_date() -> DriverDate {
    let seconds = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs())
        });
    DriverDate::from_unix_seconds(seconds)
}
