//! rdmus's own INF stamp step: `rdmus.inx` → `rdmus.inf` on any OS.
//!
//! It does what the WDK's stampinf does for this INF: replace every `$ARCH$`
//! with the architecture (`amd64`, `arm64`), so `[Manufacturer]`'s
//! `NT$ARCH$` decoration and the models section name match the package, and
//! set `DriverVer` in `[Version]` to `MM/DD/YYYY,a.b.c.d`.

use std::fmt;

/// The date part of `DriverVer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverDate {
    /// Year (four digits).
    pub year: u32,
    /// Month, 1..=12.
    pub month: u32,
    /// Day, 1..=31.
    pub day: u32,
}

impl DriverDate {
    /// The civil (proleptic Gregorian, UTC) date of a Unix timestamp.
    #[must_use]
    pub fn from_unix_seconds(seconds: u64) -> Self {
        // Howard Hinnant's days-from-civil inverse, on unsigned arithmetic
        // because the epoch is after 0000-03-01.
        let days = seconds / 86_400 + 719_468;
        let era = days / 146_097;
        let day_of_era = days % 146_097;
        let year_of_era =
            (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
        let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
        let month_index = (5 * day_of_year + 2) / 153;
        let day = day_of_year - (153 * month_index + 2) / 5 + 1;
        let month = if month_index < 10 {
            month_index + 3
        } else {
            month_index - 9
        };
        let year = year_of_era + era * 400 + u64::from(month <= 2);
        Self {
            year: u32::try_from(year).unwrap_or(u32::MAX),
            month: u32::try_from(month).unwrap_or(1),
            day: u32::try_from(day).unwrap_or(1),
        }
    }
}

/// Why an `.inx` could not be stamped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StampError {
    /// No `[Version]` section to put `DriverVer` in.
    NoVersionSection,
    /// The version is not `a.b.c` or `a.b.c.d` of numbers up to 65535.
    BadVersion(String),
    /// A `$TOKEN$` other than `$ARCH$` and `$WINDOWS NT$` is left.
    UnknownToken(String),
}

impl fmt::Display for StampError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoVersionSection => f.write_str("the INX has no [Version] section"),
            Self::BadVersion(version) => {
                write!(
                    f,
                    "version {version:?} is not a.b.c[.d] with parts up to 65535"
                )
            }
            Self::UnknownToken(token) => write!(f, "unknown stamp token {token}"),
        }
    }
}

impl std::error::Error for StampError {}

/// Turns a cargo version (`0.1.0`) into the four-part `DriverVer` version.
///
/// # Errors
/// [`StampError::BadVersion`] if it is not 3 or 4 numeric parts of at most 65535
/// (a pre-release suffix such as `-beta` is not allowed either).
pub fn driver_version(cargo_version: &str) -> Result<String, StampError> {
    let bad = || StampError::BadVersion(cargo_version.to_owned());
    let parts: Vec<u16> = cargo_version
        .split('.')
        .map(|part| part.parse::<u16>().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [a, b, c] => Ok(format!("{a}.{b}.{c}.0")),
        [a, b, c, d] => Ok(format!("{a}.{b}.{c}.{d}")),
        _ => Err(bad()),
    }
}

/// Stamps `inx` for `arch` (`amd64`, `arm64`) with `date` and `version`.
///
/// # Errors
/// See [`StampError`].
pub fn stamp(inx: &str, arch: &str, date: DriverDate, version: &str) -> Result<String, StampError> {
    let driver_ver = format!(
        "DriverVer   = {:02}/{:02}/{:04},{}",
        date.month,
        date.day,
        date.year,
        driver_version(version)?
    );
    let mut out = String::with_capacity(inx.len() + 64);
    let mut in_version = false;
    let mut saw_version = false;
    let mut wrote_driver_ver = false;
    for line in inx.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if in_version && !wrote_driver_ver {
                out.push_str(&driver_ver);
                out.push_str("\r\n");
                wrote_driver_ver = true;
            }
            in_version = trimmed.eq_ignore_ascii_case("[Version]");
            saw_version |= in_version;
        }
        let key = trimmed.split('=').next().unwrap_or("").trim();
        if in_version && key.eq_ignore_ascii_case("DriverVer") {
            if !wrote_driver_ver {
                out.push_str(&driver_ver);
                out.push_str("\r\n");
                wrote_driver_ver = true;
            }
            continue;
        }
        out.push_str(&line.replace("$ARCH$", arch));
        // INF files are conventionally CRLF; Windows accepts both.
        out.push_str("\r\n");
    }
    if in_version && !wrote_driver_ver {
        out.push_str(&driver_ver);
        out.push_str("\r\n");
    }
    if !saw_version {
        return Err(StampError::NoVersionSection);
    }
    if let Some(token) = leftover_token(&out) {
        return Err(StampError::UnknownToken(token));
    }
    Ok(out)
}

/// Finds a `$WORD$` token that is not part of a comment or `$WINDOWS NT$`.
fn leftover_token(inf: &str) -> Option<String> {
    for line in inf.lines() {
        let code = line.split(';').next().unwrap_or("");
        let mut rest = code;
        while let Some(start) = rest.find('$') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('$') else { break };
            let token = &after[..end];
            if token != "WINDOWS NT" && token != "CHICAGO" && !token.is_empty() {
                return Some(format!("${token}$"));
            }
            rest = &after[end + 1..];
        }
    }
    None
}

#[cfg(test)]
#[path = "inf_tests.rs"]
mod tests;
