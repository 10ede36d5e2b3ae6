//! Test-signing with a generated certificate (never a real one, never in git).
//!
//! `openssl` makes a self-signed code-signing certificate once, under
//! `<target>/package/cert/`, and `osslsigncode` embeds an Authenticode
//! signature in `rdmus.sys`. Windows accepts it only with test signing on
//! and the certificate in the `Root` and `TrustedPublisher` stores (README).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cmd::{self, TaskResult};

/// The subject of the generated certificate.
pub const SUBJECT: &str = "/CN=rdmus Test Signing (not for release)";

/// The files of the test certificate.
#[derive(Debug, Clone)]
pub struct TestCertificate {
    /// PEM certificate (for osslsigncode).
    pub pem: PathBuf,
    /// PEM private key (for osslsigncode).
    pub key: PathBuf,
    /// DER certificate, shipped in the package as `rdmus.cer`.
    pub der: PathBuf,
    /// The certificate and key as PKCS#12 (password `rdmus`), for signing the
    /// catalog with signtool on the Windows machine. Never shipped in a package.
    pub pfx: PathBuf,
}

/// Whether both signing tools are installed.
#[must_use]
pub fn tools_available() -> bool {
    cmd::available("osslsigncode", &["--version"]) && cmd::available("openssl", &["version"])
}

/// Makes the certificate in `dir` unless it is already there.
///
/// # Errors
/// openssl failed or the directory could not be made.
pub fn ensure_certificate(dir: &Path) -> TaskResult<TestCertificate> {
    std::fs::create_dir_all(dir).map_err(|error| cmd::io_error("create", dir, &error))?;
    let certificate = TestCertificate {
        pem: dir.join("rdmus-test.pem"),
        key: dir.join("rdmus-test.key"),
        der: dir.join("rdmus.cer"),
        pfx: dir.join("rdmus-test.pfx"),
    };
    if !(certificate.pem.exists() && certificate.key.exists()) {
        println!("generating a test-signing certificate in {}", dir.display());
        cmd::output(
            Command::new("openssl")
                .args([
                    "req", "-x509", "-newkey", "rsa:3072", "-sha256", "-nodes", "-days", "3650",
                ])
                .args(["-subj", SUBJECT])
                .args(["-addext", "extendedKeyUsage=codeSigning"])
                .args(["-addext", "keyUsage=digitalSignature"])
                .arg("-keyout")
                .arg(&certificate.key)
                .arg("-out")
                .arg(&certificate.pem),
        )?;
    }
    cmd::output(
        Command::new("openssl")
            .args(["x509", "-outform", "der", "-in"])
            .arg(&certificate.pem)
            .arg("-out")
            .arg(&certificate.der),
    )?;
    cmd::output(
        Command::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:rdmus", "-inkey"])
            .arg(&certificate.key)
            .arg("-in")
            .arg(&certificate.pem)
            .arg("-out")
            .arg(&certificate.pfx),
    )?;
    Ok(certificate)
}

/// Signs `unsigned` into `signed` (SHA-256 Authenticode) and verifies it.
///
/// # Errors
/// osslsigncode failed to sign or to verify.
pub fn sign(certificate: &TestCertificate, unsigned: &Path, signed: &Path) -> TaskResult {
    if signed.exists() {
        std::fs::remove_file(signed).map_err(|error| cmd::io_error("remove", signed, &error))?;
    }
    cmd::run(
        Command::new("osslsigncode")
            .arg("sign")
            .arg("-certs")
            .arg(&certificate.pem)
            .arg("-key")
            .arg(&certificate.key)
            .args(["-h", "sha256", "-n", "rdmus", "-in"])
            .arg(unsigned)
            .arg("-out")
            .arg(signed),
    )?;
    let verified = cmd::output(
        Command::new("osslsigncode")
            .arg("verify")
            .arg("-CAfile")
            .arg(&certificate.pem)
            .arg("-in")
            .arg(signed),
    )?;
    println!(
        "{}: signature verified against the test certificate ({})",
        signed.display(),
        verified
            .lines()
            .rfind(|line| line.starts_with("Number of verified"))
            .unwrap_or("ok")
    );
    Ok(())
}
