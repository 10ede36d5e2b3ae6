//! The registry's `MediaCategories` key, as far as KS and the clients read it: a GUID's
//! `Name` value.
//!
//! On Windows an INF writes `HKLM,SYSTEM\CurrentControlSet\Control\MediaCategories\{guid},
//! Name,,"text"` and KS answers `KSPROPERTY_PIN_NAME` from the key of the pin's `Name` GUID
//! (else of its `Category` GUID); clients (Windows MIDI Services, wdmaud) look COMPONENTID's
//! `Name` GUID up there. The simulation has no registry, so the test installs the entries
//! from the driver's own INF with [`install_from_inf`], as the INF's `AddReg` would: a name
//! the INF forgets is then missing here too.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use dmus_sys::guid::GUID;

use crate::current::with_state;

/// The key every entry lives under (the INF spells it through a `[Strings]` token).
const MEDIA_CATEGORIES: &str = "SYSTEM\\CurrentControlSet\\Control\\MediaCategories\\";

/// Why an INF's `MediaCategories` entries could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InfError {
    /// A `%token%` the `[Strings]` section does not define.
    UndefinedString(String),
    /// A key below `MediaCategories` that is not a braced GUID.
    NotAGuid(String),
}

/// The `[Strings]` of an INF: token (lower case: INF tokens are case-insensitive) → value,
/// quotes removed.
fn strings(inf: &str) -> Vec<(String, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for line in inf.lines() {
        let line = line.split(';').next().unwrap_or("").trim();
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.trim().to_ascii_lowercase();
        } else if section == "strings" {
            if let Some((key, value)) = line.split_once('=') {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                out.push((key.trim().to_ascii_lowercase(), value.to_string()));
            }
        }
    }
    out
}

/// `text` with every `%token%` replaced from `strings`.
fn expand(text: &str, strings: &[(String, String)]) -> Result<String, InfError> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let Some(end) = after.find('%') else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let token = after[..end].to_ascii_lowercase();
        let value = strings
            .iter()
            .find(|(key, _)| *key == token)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| InfError::UndefinedString(after[..end].to_string()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The `MediaCategories` `Name` entries an INF's `HKLM` `AddReg` lines write: GUID and name.
///
/// # Errors
/// [`InfError`].
pub fn from_inf(inf: &str) -> Result<Vec<(GUID, String)>, InfError> {
    let strings = strings(inf);
    let mut out = Vec::new();
    for line in inf.lines() {
        let line = line.split(';').next().unwrap_or("").trim();
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if fields.len() < 5 || !fields[0].eq_ignore_ascii_case("HKLM") {
            continue;
        }
        let key = expand(fields[1], &strings)?;
        let Some(guid) = key.strip_prefix(MEDIA_CATEGORIES) else {
            continue;
        };
        if !fields[2].eq_ignore_ascii_case("Name") {
            continue;
        }
        let braced = guid
            .strip_prefix('{')
            .and_then(|g| g.strip_suffix('}'))
            .filter(|g| g.len() == 36 && g.chars().all(|c| c.is_ascii_hexdigit() || c == '-'))
            .ok_or_else(|| InfError::NotAGuid(guid.to_string()))?;
        let name = expand(&fields[4..].join(","), &strings)?;
        out.push((GUID::parse(&braced.to_ascii_lowercase()), name));
    }
    Ok(out)
}

/// Writes the `MediaCategories` entries of `inf` into the machine's registry.
///
/// # Errors
/// [`InfError`]; nothing is written then.
pub fn install_from_inf(inf: &str) -> Result<usize, InfError> {
    let entries = from_inf(inf)?;
    let count = entries.len();
    with_state("MediaCategories", |m| {
        for (guid, name) in entries {
            m.portcls.media_categories.retain(|(key, _)| *key != guid);
            m.portcls.media_categories.push((guid, name));
        }
    });
    Ok(count)
}

/// The `Name` value under `MediaCategories\{guid}`, if the key exists.
#[must_use]
pub fn name_of(guid: &GUID) -> Option<String> {
    with_state("MediaCategories", |m| {
        m.portcls
            .media_categories
            .iter()
            .find(|(key, _)| key == guid)
            .map(|(_, name)| name.clone())
    })
}

#[cfg(test)]
mod tests {
    use dmus_sys::guid::GUID;

    use super::{InfError, from_inf};

    const INF: &str = "[x.AddReg]\n\
        HKLM,%MediaCategories%\\%NAME_A%,Name,,%a.Name%  ; comment\n\
        HKLM,%MediaCategories%\\%NAME_A%,Display,1,00,00,00,00\n\
        HKR,,Driver,,x.sys\n\
        [Strings]\n\
        MediaCategories = \"SYSTEM\\CurrentControlSet\\Control\\MediaCategories\"\n\
        NAME_A = \"{D3B11315-F078-4E9B-978E-CAA0F8A653D4}\"\n\
        a.name = \"rdmus MPU-401\"\n";

    #[test]
    fn name_entries_are_read_through_the_strings_section() {
        let entries = from_inf(INF).unwrap();
        assert_eq!(
            entries,
            [(
                GUID::parse("d3b11315-f078-4e9b-978e-caa0f8a653d4"),
                "rdmus MPU-401".into()
            )]
        );
    }

    #[test]
    fn an_undefined_token_or_a_key_that_is_no_guid_is_an_error() {
        let missing = INF.replace("a.name = \"rdmus MPU-401\"\n", "");
        assert_eq!(
            from_inf(&missing),
            Err(InfError::UndefinedString("a.Name".into()))
        );
        let bad = INF.replace("{D3B11315-F078-4E9B-978E-CAA0F8A653D4}", "{nope}");
        assert_eq!(from_inf(&bad), Err(InfError::NotAGuid("{nope}".into())));
    }
}
