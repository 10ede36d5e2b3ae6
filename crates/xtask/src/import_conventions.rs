//! The calling convention of every x86 import, checked against mingw-w64's i686 import
//! libraries (a step of the import audit).
//!
//! On x86 a routine's symbol carries its calling convention and the bytes of its
//! arguments: `_KeInitializeDpc@12` is `__stdcall` (12 bytes, the callee pops them),
//! `@KfAcquireSpinLock@4` is `__fastcall` (the first two arguments in ECX and EDX), `_memcpy`
//! is `__cdecl` (or data). The names a kernel module exports are undecorated, so the import
//! table cannot show a wrong convention: a `fastcall` routine declared `stdcall` links, loads
//! and corrupts the stack. Ours is the x86 link's map (`/MAP`, build.rs), which
//! lists each import's `__imp_SYMBOL` under the module it comes from, `SYMBOL` being what
//! rustc made of the declaration in dmus-sys. Two independent records say what it must be:
//! - mingw-w64's i686 libntoskrnl.a/libhal.a/libks.a, generated from `.def` files;
//! - mingw-w64's headers themselves: [`header_symbols`] compiles a C probe that takes the
//!   address of each imported routine as ntddk.h/wdm.h/portcls.h declare it (`NTAPI`,
//!   `FASTCALL`, `__cdecl`, `DECLSPEC_IMPORT`) with i686-w64-mingw32-gcc, and reads the
//!   symbols the object references.
//!
//! Every record that knows an import must state the convention and argument bytes ours
//! does. An import neither knows is reported as unchecked (the compiler's `_alldiv` & co.
//! are in the library but in no header; portcls.sys has a header but no library). The undecorated name is derived with the rule of
//! `IMPORT_NAME_UNDECORATE` (pecoff.md: skip one leading `?`, `@` or `_`, cut at the next
//! `@`), the import name type dmus-sys declares its x86 blocks with.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write as _};
use std::path::Path;
use std::process::Command;

use super::ImportLibrary;
use crate::abi::{self, C_PRELUDE};
use crate::cmd::{self, TaskError, TaskResult};
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

/// Which independent record an import's symbol was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// mingw-w64's i686 import library of the module.
    Library,
    /// mingw-w64's headers, compiled ([`header_symbols`]).
    Header,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Library => "library",
            Self::Header => "headers",
        })
    }
}

/// One import compared with every record that knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Compared {
    /// `module!name`.
    pub import: String,
    /// Our decorated symbol (from the link map).
    pub symbol: String,
    /// Each record that knows the name, with its symbol.
    pub records: Vec<(Record, String)>,
}

impl Compared {
    /// Whether every record states the convention ours does.
    #[must_use]
    pub fn agrees(&self) -> bool {
        self.records
            .iter()
            .all(|(_, theirs)| convention_of(theirs) == convention_of(&self.symbol))
    }
}

/// The archives (`libdmus_sys-HASH`, the stem of an rlib in the target's `deps/`) the map's
/// imports come from: rustc puts a crate's raw-dylib import members in its rlib.
#[must_use]
pub fn map_import_archives(map: &str) -> BTreeSet<String> {
    map.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if fields.len() < 4 || !fields[1].starts_with("__imp_") {
                return None;
            }
            let (archive, _) = fields[fields.len() - 1].rsplit_once(':')?;
            Some(archive.to_owned())
        })
        .collect()
}

/// Every routine an archive's short import members declare, whether the image imports it
/// or not: rustc writes one member per item of a raw-dylib `extern` block, named by its
/// decorated symbol. Returns each as the function the image would import and its symbol.
///
/// # Errors
/// The archive cannot be parsed.
pub fn archive_declarations(data: &[u8]) -> Result<Vec<(ImportedFunction, MapImport)>, String> {
    let archive =
        object::read::archive::ArchiveFile::parse(data).map_err(|error| error.to_string())?;
    let mut declared = Vec::new();
    for member in archive.members() {
        let member = member.map_err(|error| error.to_string())?;
        let Ok(bytes) = member.data(data) else {
            continue;
        };
        let Ok(short) = object::read::coff::ImportFile::parse(bytes) else {
            continue;
        };
        let object::read::coff::ImportName::Name(name) = short.import() else {
            continue;
        };
        let module = String::from_utf8_lossy(short.dll()).to_ascii_lowercase();
        declared.push((
            ImportedFunction {
                module: module.clone(),
                name: String::from_utf8_lossy(name).into_owned(),
            },
            MapImport {
                module,
                symbol: String::from_utf8_lossy(short.symbol()).into_owned(),
            },
        ));
    }
    Ok(declared)
}

/// The result of comparing the conventions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConventionAudit {
    /// Imports every record that knows them agrees with (at least one record).
    pub matched: Vec<Compared>,
    /// Imports some record disagrees with.
    pub mismatched: Vec<Compared>,
    /// Imports no record knows: `module!name` and our symbol.
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
            "x86 calling conventions: {} agree with mingw-w64, {} differ, {} in no record \
             (unchecked), {} not in the link map",
            self.matched.len(),
            self.mismatched.len(),
            self.unchecked.len(),
            self.not_in_map.len()
        )?;
        for compared in &self.matched {
            let records: Vec<String> = compared
                .records
                .iter()
                .map(|(record, _)| record.to_string())
                .collect();
            writeln!(
                f,
                "  {}: {} ({}), agreeing with mingw-w64's {}",
                compared.import,
                compared.symbol,
                convention_of(&compared.symbol),
                records.join(" and ")
            )?;
        }
        for compared in &self.mismatched {
            for (record, theirs) in &compared.records {
                if convention_of(theirs) != convention_of(&compared.symbol) {
                    writeln!(
                        f,
                        "  CONVENTION MISMATCH: {}: rdmus calls {} ({}), mingw-w64's {record}: {theirs} ({})",
                        compared.import,
                        compared.symbol,
                        convention_of(&compared.symbol),
                        convention_of(theirs)
                    )?;
                }
            }
        }
        for (import, symbol) in &self.unchecked {
            writeln!(
                f,
                "  {import}: {symbol} ({}), unchecked: in no mingw-w64 library or header",
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
/// it, with the symbol mingw-w64's x86 `libraries` give the same module and name, and with
/// the symbol mingw-w64's `headers` make a reference to the name use ([`header_symbols`]).
#[must_use]
pub fn audit_conventions(
    imports: &[ImportedFunction],
    map: &[MapImport],
    libraries: &[ImportLibrary],
    headers: &BTreeMap<String, String>,
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
        let mut records = Vec::new();
        if let Some(theirs) = libraries
            .iter()
            .filter(|lib| lib.machine == Some(Machine::X86) && lib.module == module)
            .find_map(|lib| lib.symbols.get(&import.name))
        {
            records.push((Record::Library, theirs.clone()));
        }
        if let Some(theirs) = headers.get(&import.name) {
            records.push((Record::Header, theirs.clone()));
        }
        let compared = Compared {
            import: shown,
            symbol: ours.symbol.clone(),
            records,
        };
        if compared.records.is_empty() {
            result.unchecked.push((compared.import, compared.symbol));
        } else if compared.agrees() {
            result.matched.push(compared);
        } else {
            result.mismatched.push(compared);
        }
    }
    result
}

/// The C probe: the DDK headers (the ABI test's prelude), then one function storing each
/// name's address, so the object references each as the headers declare it.
#[must_use]
pub fn header_probe_source(names: &[&str]) -> String {
    let mut source = String::from(C_PRELUDE);
    source.push_str("void rdmus_import_probe(void **out)\n{\n");
    for (index, name) in names.iter().enumerate() {
        // Writing to a String cannot fail.
        let _ = writeln!(source, "    out[{index}] = (void *)&{name};");
    }
    source.push_str("}\n");
    source
}

/// The names gcc reported undeclared (`error: 'NAME' undeclared`, in the C locale).
#[must_use]
pub fn undeclared_names(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter_map(|line| {
            let (_, rest) = line.split_once("error: '")?;
            let (name, tail) = rest.split_once('\'')?;
            tail.trim_start()
                .starts_with("undeclared")
                .then(|| name.to_owned())
        })
        .collect()
}

/// The symbol (without `__imp_`) that mingw-w64's i686 headers make a reference to each of
/// `names` use, keyed by the name: compiled with i686-w64-mingw32-gcc in `dir`. A name the
/// headers do not declare (the compiler's helpers) is left out: a second compile runs
/// without those.
///
/// # Errors
/// gcc is missing or fails for another reason, or the object cannot be read.
pub fn header_symbols(names: &[&str], dir: &Path) -> TaskResult<BTreeMap<String, String>> {
    let target = abi::TARGETS
        .into_iter()
        .find(|target| target.name == "i686")
        .ok_or_else(|| TaskError::new("no i686 target in abi::TARGETS"))?;
    std::fs::create_dir_all(dir).map_err(|error| cmd::io_error("create", dir, &error))?;
    let source = dir.join("x86-imports.c");
    let object = dir.join("x86-imports.o");
    let mut declared: Vec<&str> = names.to_vec();
    for attempt in 0..2 {
        std::fs::write(&source, header_probe_source(&declared))
            .map_err(|error| cmd::io_error("write", &source, &error))?;
        let output = Command::new(target.gcc())
            .env("LC_ALL", "C")
            .arg("-c")
            .arg("-I")
            .arg(target.ddk_include())
            .arg(&source)
            .arg("-o")
            .arg(&object)
            .output()
            .map_err(|error| {
                TaskError::new(format!(
                    "{} ({error})",
                    abi::missing_tool_message(&target.gcc())
                ))
            })?;
        if output.status.success() {
            break;
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let undeclared = undeclared_names(&stderr);
        if attempt == 1 || undeclared.is_empty() {
            return Err(TaskError::new(format!(
                "{} failed on {}: {}",
                target.gcc(),
                source.display(),
                stderr.trim()
            )));
        }
        declared.retain(|name| !undeclared.contains(*name));
    }
    let data = std::fs::read(&object).map_err(|error| cmd::io_error("read", &object, &error))?;
    referenced_symbols(&data)
}

/// The undefined symbols of a COFF object, each without `__imp_`, keyed by the name it
/// imports ([`undecorate`]).
///
/// # Errors
/// The object cannot be parsed.
pub fn referenced_symbols(object: &[u8]) -> TaskResult<BTreeMap<String, String>> {
    use object::{Object, ObjectSymbol};
    let file = object::File::parse(object)
        .map_err(|error| TaskError::new(format!("the probe object: {error}")))?;
    Ok(file
        .symbols()
        .filter(ObjectSymbol::is_undefined)
        .filter_map(|symbol| symbol.name().ok())
        .map(|name| name.strip_prefix("__imp_").unwrap_or(name))
        .map(|symbol| (undecorate(symbol).to_owned(), symbol.to_owned()))
        .collect())
}

#[cfg(test)]
#[path = "import_conventions_tests.rs"]
mod tests;
