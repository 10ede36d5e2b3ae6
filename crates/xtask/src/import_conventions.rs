//! The calling convention of every x86 import, checked against mingw-w64's i686 import
//! libraries (a step of the import audit).
//!
//! On x86 a routine's symbol carries its calling convention and the bytes of its
//! arguments: `_KeInitializeDpc@12` is `__stdcall` (12 bytes, the callee pops them),
//! `@KfAcquireSpinLock@4` is `__fastcall` (the first two arguments in ECX and EDX), `_memcpy`
//! is `__cdecl` (or data). The names a kernel module exports are undecorated, so the import
//! table cannot show a wrong convention: a `fastcall` routine declared `stdcall` links, loads
//! and corrupts the stack. Two independent records of the decorated symbol exist:
//! - ours: the x86 link's map (`/MAP`, build.rs), which lists each import's `__imp_SYMBOL`
//!   under the module it comes from, `SYMBOL` being what rustc made of the declaration in
//!   dmus-sys;
//! - mingw-w64's: its i686 libntoskrnl.a/libhal.a/libks.a, generated from `.def` files that
//!   follow the DDK headers (wdm.h's `NTAPI`, `FASTCALL`, `__cdecl`).
//!
//! Every import found in a mingw-w64 library must have the same convention and argument
//! bytes in both. An import no library lists (portcls.sys: mingw-w64 has no libportcls.a) is
//! reported as unchecked. The undecorated name is derived with the rule of
//! `IMPORT_NAME_UNDECORATE` (pecoff.md: skip one leading `?`, `@` or `_`, cut at the next
//! `@`), the import name type dmus-sys declares its x86 blocks with.

use std::fmt;

use super::ImportLibrary;
use crate::image::{ImportedFunction, Machine};

/// An x86 calling convention as a decorated symbol shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// No `@N` suffix: `__cdecl`, or a data symbol.
    Plain,
    /// `_NAME@N`: `__stdcall` with `N` bytes of arguments.
    Stdcall(u32),
    /// `@NAME@N`: `__fastcall` with `N` bytes of arguments.
    Fastcall(u32),
}

impl fmt::Display for Convention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain => f.write_str("cdecl/data"),
            Self::Stdcall(bytes) => write!(f, "stdcall, {bytes} bytes"),
            Self::Fastcall(bytes) => write!(f, "fastcall, {bytes} bytes"),
        }
    }
}

/// The convention a decorated x86 symbol states.
#[must_use]
pub fn convention_of(symbol: &str) -> Convention {
    let bytes = symbol
        .rsplit_once('@')
        .filter(|(head, _)| !head.is_empty())
        .and_then(|(_, tail)| tail.parse::<u32>().ok());
    match bytes {
        Some(bytes) if symbol.starts_with('@') => Convention::Fastcall(bytes),
        Some(bytes) => Convention::Stdcall(bytes),
        None => Convention::Plain,
    }
}

/// The name `IMPORT_NAME_UNDECORATE` imports a symbol as: one leading `?`, `@` or `_`
/// skipped, and the rest cut at the first `@` (`__alldiv@16` imports `_alldiv`).
#[must_use]
pub fn undecorate(symbol: &str) -> &str {
    let trimmed = symbol.strip_prefix(['?', '@', '_']).unwrap_or(symbol);
    trimmed.split('@').next().unwrap_or(trimmed)
}

/// One import of a linker map: the module and the decorated symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapImport {
    /// The module, lowercase, as the map names the import member's object (`hal.dll`).
    pub module: String,
    /// The symbol, without its `__imp_` prefix.
    pub symbol: String,
}

/// The `__imp_` symbols of an lld-link (link.exe-style) map: lines of
/// `SECTION:OFFSET  SYMBOL  RVA+BASE  LIBRARY:OBJECT`, where an import's object is the
/// member named after its DLL.
#[must_use]
pub fn map_imports(map: &str) -> Vec<MapImport> {
    let mut imports: Vec<MapImport> = map
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 {
                return None;
            }
            let symbol = fields[1].strip_prefix("__imp_")?;
            let (_, object) = fields[fields.len() - 1].rsplit_once(':')?;
            Some(MapImport {
                module: object.to_ascii_lowercase(),
                symbol: symbol.to_owned(),
            })
        })
        .collect();
    imports.sort_by(|a, b| (&a.module, &a.symbol).cmp(&(&b.module, &b.symbol)));
    imports.dedup();
    imports
}

/// The result of comparing the conventions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConventionAudit {
    /// `module!name`, our symbol and the convention both agree on.
    pub matched: Vec<(String, String, Convention)>,
    /// `module!name`, our symbol and mingw-w64's where the conventions differ.
    pub mismatched: Vec<(String, String, String)>,
    /// `module!name` and our symbol, where no x86 mingw-w64 library lists the name.
    pub unchecked: Vec<(String, String)>,
    /// `module!name` of image imports the map does not name (the map is stale or not ours).
    pub not_in_map: Vec<String>,
}

impl ConventionAudit {
    /// Whether no convention differs and every import was found in the map.
    #[must_use]
    pub fn passes(&self) -> bool {
        self.mismatched.is_empty() && self.not_in_map.is_empty()
    }
}

impl fmt::Display for ConventionAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "x86 calling conventions: {} agree with mingw-w64, {} differ, {} in no mingw-w64 \
             library (unchecked), {} not in the link map",
            self.matched.len(),
            self.mismatched.len(),
            self.unchecked.len(),
            self.not_in_map.len()
        )?;
        for (import, symbol, convention) in &self.matched {
            writeln!(f, "  {import}: {symbol} ({convention})")?;
        }
        for (import, ours, theirs) in &self.mismatched {
            writeln!(
                f,
                "  CONVENTION MISMATCH: {import}: rdmus calls {ours} ({}), mingw-w64 declares \
                 {theirs} ({})",
                convention_of(ours),
                convention_of(theirs)
            )?;
        }
        for (import, symbol) in &self.unchecked {
            writeln!(
                f,
                "  {import}: {symbol} ({}), unchecked: no mingw-w64 import library",
                convention_of(symbol)
            )?;
        }
        for import in &self.not_in_map {
            writeln!(
                f,
                "  NOT IN THE LINK MAP: {import} (rebuild with `cargo xtask package`)"
            )?;
        }
        Ok(())
    }
}

/// Compares the convention of each of an x86 image's `imports`, as the link `map` records
/// it, with the symbol mingw-w64's x86 `libraries` give the same module and name.
#[must_use]
pub fn audit_conventions(
    imports: &[ImportedFunction],
    map: &[MapImport],
    libraries: &[ImportLibrary],
) -> ConventionAudit {
    let mut result = ConventionAudit::default();
    for import in imports {
        let module = import.module.to_ascii_lowercase();
        let shown = format!("{}!{}", import.module, import.name);
        let Some(ours) = map
            .iter()
            .find(|entry| entry.module == module && undecorate(&entry.symbol) == import.name)
        else {
            result.not_in_map.push(shown);
            continue;
        };
        let theirs = libraries
            .iter()
            .filter(|lib| lib.machine == Some(Machine::X86) && lib.module == module)
            .find_map(|lib| lib.symbols.get(&import.name));
        match theirs {
            Some(theirs) if convention_of(theirs) == convention_of(&ours.symbol) => result
                .matched
                .push((shown, ours.symbol.clone(), convention_of(theirs))),
            Some(theirs) => result
                .mismatched
                .push((shown, ours.symbol.clone(), theirs.clone())),
            None => result.unchecked.push((shown, ours.symbol.clone())),
        }
    }
    result
}

#[cfg(test)]
#[path = "import_conventions_tests.rs"]
mod tests;
