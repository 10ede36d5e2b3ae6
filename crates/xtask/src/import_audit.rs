//! The import audit (`cargo xtask import-audit`, a step of `cargo xtask test`): every
//! function the packaged rdmus.sys imports must be exported by the module it names, as
//! an independent list says. For x64 that list is mingw-w64's import library of the module
//! (libntoskrnl.a, libhal.a, libks.a: the archive's `__imp_` symbols, and the DLL name
//! from the member that defines the library's `_iname` symbol); for names those libraries
//! predate, and for portcls.sys (mingw-w64 has no libportcls.a), it is
//! `kernel_exports.txt`, each line with its public source. mingw-w64 has no ARM64 kernel
//! import libraries, so every ARM64 import is checked against `kernel_exports.txt` alone.
//! The x64 image's ntoskrnl.exe/hal.dll imports must also be exported by Wine's modules
//! (`/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/`, Debian's wine64), where the driver runs
//! in the Wine harness (`crates/wine-run`): a missing one kills the host process when called.
//! Wine marks an export it only stubs with a `__wine_stub_NAME` symbol; the known stubs the
//! test bench supplies itself (through the shim of `crates/wine-run`) are [`WINE_STUBS`], and
//! any other stub fails the audit like a missing export.
//! The x86 image is not audited: it does not link (rustc calls 64-bit division helpers
//! that no kernel module rdmus imports from provides).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::{Path, PathBuf};

use object::read::archive::ArchiveFile;
use object::{Object, ObjectSection, ObjectSymbol};

use crate::abi::APT_INSTALL;
use crate::cmd::{TaskError, TaskResult};
use crate::image::{self, ImportedFunction, Machine};

/// The kept list of exports (module | name | arches | source).
pub const KERNEL_EXPORTS: &str = include_str!("kernel_exports.txt");

/// Why the x86 image is not audited.
pub const X86_NOTE: &str = "x86: not audited: the package step builds no x86 image; rdmus.sys \
    does not link for i686-pc-windows-msvc today (the 64-bit division helpers it calls are missing)";

/// One line of `kernel_exports.txt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptExport {
    /// The module, lowercase (`ntoskrnl.exe`).
    pub module: String,
    /// The exported name.
    pub name: String,
    /// The machines the line vouches for.
    pub machines: Vec<Machine>,
    /// The public source, or `none: why`.
    pub source: String,
}

impl KeptExport {
    /// Whether the line names no public source (`none: ...`).
    #[must_use]
    pub fn unsourced(&self) -> bool {
        self.source.starts_with("none:")
    }
}

/// Parses `kernel_exports.txt`.
///
/// # Errors
/// A line without four fields, an unknown machine, or an empty source.
pub fn parse_kept(text: &str) -> TaskResult<Vec<KeptExport>> {
    let mut kept = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let error =
            |why: &str| TaskError::new(format!("kernel_exports.txt line {}: {why}", index + 1));
        let fields: Vec<&str> = line.splitn(4, '|').map(str::trim).collect();
        let [module, name, arches, source] = fields[..] else {
            return Err(error("expected `module | name | arches | source`"));
        };
        let machines = arches
            .split(',')
            .map(|arch| Machine::parse(arch.trim()).ok_or_else(|| error("unknown machine")))
            .collect::<TaskResult<Vec<_>>>()?;
        if source.is_empty() {
            return Err(error("every name needs its source"));
        }
        let module_lower = module.to_ascii_lowercase();
        if machines.contains(&Machine::Amd64)
            && (module_lower == "ntoskrnl.exe" || module_lower == "hal.dll")
        {
            return Err(error(
                "an x64 kernel import must be in mingw-w64's libntoskrnl.a/libhal.a, not kept here \
                 (a newer routine is resolved at run time: dmus-sys imports/late_bound.rs)",
            ));
        }
        kept.push(KeptExport {
            module: module.to_ascii_lowercase(),
            name: name.to_owned(),
            machines,
            source: source.to_owned(),
        });
    }
    Ok(kept)
}

/// The exports of one module according to a mingw-w64 import library.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportLibrary {
    /// The library file.
    pub path: PathBuf,
    /// The DLL it imports from, lowercase, as the library itself names it.
    pub module: String,
    /// The names it imports.
    pub names: BTreeSet<String>,
}

/// Reads a mingw-w64 (dlltool) import library: the `__imp_NAME` symbols of its archive
/// symbol table, and the DLL name from the member defining the `*_iname` symbol.
///
/// # Errors
/// The file is not an archive, or no member names the DLL.
pub fn read_import_library(path: &Path, data: &[u8]) -> Result<ImportLibrary, String> {
    let archive =
        ArchiveFile::parse(data).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut names = BTreeSet::new();
    if let Some(symbols) = archive.symbols().map_err(|error| error.to_string())? {
        for symbol in symbols {
            let symbol = symbol.map_err(|error| error.to_string())?;
            let name = String::from_utf8_lossy(symbol.name());
            if let Some(name) = name.strip_prefix("__imp_") {
                names.insert(name.to_owned());
            }
        }
    }
    let mut module = None;
    for member in archive.members() {
        let member = member.map_err(|error| error.to_string())?;
        let Ok(bytes) = member.data(data) else {
            continue;
        };
        let Ok(file) = object::File::parse(bytes) else {
            continue;
        };
        let Some(iname) = file.symbols().find(|symbol| {
            symbol.is_definition() && symbol.name().is_ok_and(|name| name.ends_with("_iname"))
        }) else {
            continue;
        };
        let Some(index) = iname.section_index() else {
            continue;
        };
        let Ok(section) = file.section_by_index(index) else {
            continue;
        };
        let Ok(text) = section.data() else { continue };
        let text: Vec<u8> = text.iter().copied().take_while(|byte| *byte != 0).collect();
        module = Some(String::from_utf8_lossy(&text).to_ascii_lowercase());
        break;
    }
    let module = module.ok_or_else(|| format!("{}: no member names the DLL", path.display()))?;
    Ok(ImportLibrary {
        path: path.to_path_buf(),
        module,
        names,
    })
}

/// mingw-w64's kernel import libraries for x64 (Debian's paths).
#[must_use]
pub fn x64_library_paths() -> Vec<PathBuf> {
    let lib = Path::new("/usr/x86_64-w64-mingw32/lib");
    ["libntoskrnl.a", "libhal.a", "libks.a"]
        .iter()
        .map(|name| lib.join(name))
        .collect()
}

/// Where one import was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Confirmation {
    /// In this mingw-w64 import library.
    MingwLibrary(PathBuf),
    /// In `kernel_exports.txt`, with this source.
    Kept(String),
    /// In `kernel_exports.txt` with no public source (`none: ...`).
    Unsourced(String),
}

/// The audit of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    /// The image's machine.
    pub machine: Machine,
    /// Each import (`module!name`) and where it was confirmed.
    pub confirmed: Vec<(String, Confirmation)>,
    /// Imports no list names: `module!name`.
    pub unconfirmed: Vec<String>,
}

impl Audit {
    /// Whether every import is confirmed.
    #[must_use]
    pub fn passes(&self) -> bool {
        self.unconfirmed.is_empty()
    }
}

impl fmt::Display for Audit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {} imports, {} confirmed, {} in no list",
            self.machine,
            self.confirmed.len() + self.unconfirmed.len(),
            self.confirmed.len(),
            self.unconfirmed.len()
        )?;
        for (import, confirmation) in &self.confirmed {
            match confirmation {
                Confirmation::MingwLibrary(path) => {
                    writeln!(f, "  {import}: mingw-w64 {}", path.display())?;
                }
                Confirmation::Kept(source) => writeln!(f, "  {import}: kept list: {source}")?,
                Confirmation::Unsourced(why) => {
                    writeln!(f, "  {import}: kept list, NO PUBLIC SOURCE ({why})")?;
                }
            }
        }
        for import in &self.unconfirmed {
            writeln!(
                f,
                "  UNCONFIRMED: {import} is in no mingw-w64 import library and not in kernel_exports.txt"
            )?;
        }
        Ok(())
    }
}

/// Audits `imports` of a `machine` image against mingw-w64's `libraries` (x64 only) and
/// the kept list.
#[must_use]
pub fn audit(
    machine: Machine,
    imports: &[ImportedFunction],
    libraries: &[ImportLibrary],
    kept: &[KeptExport],
) -> Audit {
    let mut by_module: BTreeMap<&str, Vec<&ImportLibrary>> = BTreeMap::new();
    if machine == Machine::Amd64 {
        for library in libraries {
            by_module.entry(&library.module).or_default().push(library);
        }
    }
    let mut result = Audit {
        machine,
        confirmed: Vec::new(),
        unconfirmed: Vec::new(),
    };
    for import in imports {
        let module = import.module.to_ascii_lowercase();
        let shown = format!("{}!{}", import.module, import.name);
        let from_library = by_module
            .get(module.as_str())
            .and_then(|libs| libs.iter().find(|lib| lib.names.contains(&import.name)));
        if let Some(library) = from_library {
            result
                .confirmed
                .push((shown, Confirmation::MingwLibrary(library.path.clone())));
            continue;
        }
        let from_kept = kept.iter().find(|entry| {
            entry.module == module && entry.name == import.name && entry.machines.contains(&machine)
        });
        match from_kept {
            Some(entry) if entry.unsourced() => result
                .confirmed
                .push((shown, Confirmation::Unsourced(entry.source.clone()))),
            Some(entry) => result
                .confirmed
                .push((shown, Confirmation::Kept(entry.source.clone()))),
            None => result.unconfirmed.push(shown),
        }
    }
    result
}

/// Where Debian's wine64 keeps its PE modules.
pub const WINE_PE_DIR: &str = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows";

/// The exports Wine 8.0 only stubs (calling one kills winedevice.exe) that the x64 image
/// imports anyway, each with why that is acceptable: the Wine harness's shim supplies them.
pub const WINE_STUBS: &[(&str, &str)] = &[
    (
        "KeRemoveQueueDpc",
        "the stream timer's fallback disarms its DPC; the Wine harness's shim supplies it",
    ),
    (
        "MmUserProbeAddress",
        "exported data Wine stubs (reading it yields code bytes): read only for a user-mode \
         download; the Wine harness's shim exports a real value",
    ),
    (
        "KeStallExecutionProcessor",
        "hal.dll: the MPU-401 init waits; the Wine harness's shim supplies it",
    ),
];

/// One of Wine's PE modules: its export names and which of them are stubs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WineModule {
    /// The module's file name, lowercase (`ntoskrnl.exe`).
    pub module: String,
    /// Every exported name.
    pub exports: BTreeSet<String>,
    /// The exported names Wine only stubs (`__wine_stub_NAME` symbols).
    pub stubs: BTreeSet<String>,
}

/// Reads a Wine PE module's export table and its `__wine_stub_` symbols.
///
/// # Errors
/// The file is not a PE32+ image with an export table.
pub fn read_wine_module(module: &str, data: &[u8]) -> Result<WineModule, String> {
    let file =
        object::read::pe::PeFile64::parse(data).map_err(|error| format!("{module}: {error}"))?;
    let table = file
        .export_table()
        .map_err(|error| format!("{module}: {error}"))?
        .ok_or_else(|| format!("{module}: no export table"))?;
    let mut exports = BTreeSet::new();
    for export in table
        .exports()
        .map_err(|error| format!("{module}: {error}"))?
    {
        if let Some(name) = export.name {
            exports.insert(String::from_utf8_lossy(name).into_owned());
        }
    }
    let stubs = file
        .symbols()
        .filter_map(|symbol| {
            symbol
                .name()
                .ok()
                .and_then(|name| name.strip_prefix("__wine_stub_"))
                .map(str::to_owned)
        })
        .collect();
    Ok(WineModule {
        module: module.to_ascii_lowercase(),
        exports,
        stubs,
    })
}

/// The Wine audit of the x64 image's kernel imports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WineAudit {
    /// Imports Wine exports for real.
    pub exported: Vec<String>,
    /// Imports Wine only stubs, listed in [`WINE_STUBS`] (with its reason).
    pub known_stubs: Vec<(String, &'static str)>,
    /// Imports Wine only stubs, not in [`WINE_STUBS`].
    pub unknown_stubs: Vec<String>,
    /// Imports Wine does not export at all.
    pub missing: Vec<String>,
}

impl WineAudit {
    /// Whether every import is exported or a known stub.
    #[must_use]
    pub fn passes(&self) -> bool {
        self.unknown_stubs.is_empty() && self.missing.is_empty()
    }
}

impl fmt::Display for WineAudit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Wine: {} ntoskrnl/hal imports exported, {} known stubs, {} unknown stubs, {} missing",
            self.exported.len(),
            self.known_stubs.len(),
            self.unknown_stubs.len(),
            self.missing.len()
        )?;
        for (import, why) in &self.known_stubs {
            writeln!(f, "  {import}: a stub in Wine: {why}")?;
        }
        for import in &self.unknown_stubs {
            writeln!(f, "  WINE STUB: {import} (calling it kills winedevice.exe)")?;
        }
        for import in &self.missing {
            writeln!(f, "  NOT IN WINE: {import}")?;
        }
        Ok(())
    }
}

/// Audits the ntoskrnl.exe/hal.dll `imports` of an x64 image against Wine's `modules`.
#[must_use]
pub fn audit_wine(imports: &[ImportedFunction], modules: &[WineModule]) -> WineAudit {
    let mut result = WineAudit::default();
    for import in imports {
        let module = import.module.to_ascii_lowercase();
        if module != "ntoskrnl.exe" && module != "hal.dll" {
            continue;
        }
        let shown = format!("{}!{}", import.module, import.name);
        let Some(wine) = modules.iter().find(|wine| wine.module == module) else {
            result.missing.push(shown);
            continue;
        };
        if !wine.exports.contains(&import.name) {
            result.missing.push(shown);
        } else if wine.stubs.contains(&import.name) {
            match WINE_STUBS.iter().find(|(name, _)| *name == import.name) {
                Some((_, why)) => result.known_stubs.push((shown, why)),
                None => result.unknown_stubs.push(shown),
            }
        } else {
            result.exported.push(shown);
        }
    }
    result
}

/// Wine's ntoskrnl.exe and hal.dll, or `None` when wine64 is not installed.
///
/// # Errors
/// A module exists but cannot be read as a PE image with exports.
pub fn wine_modules() -> TaskResult<Option<Vec<WineModule>>> {
    let dir = Path::new(WINE_PE_DIR);
    if !dir.join("ntoskrnl.exe").exists() {
        return Ok(None);
    }
    let mut modules = Vec::new();
    for name in ["ntoskrnl.exe", "hal.dll"] {
        let path = dir.join(name);
        let data = std::fs::read(&path)
            .map_err(|error| TaskError::new(format!("{}: {error}", path.display())))?;
        modules.push(read_wine_module(name, &data).map_err(TaskError::new)?);
    }
    Ok(Some(modules))
}

/// Audits the packaged x64 and ARM64 images (`cargo xtask package` first).
///
/// # Errors
/// mingw-w64's libraries or a packaged image are missing, or an import is unconfirmed.
pub fn run() -> TaskResult {
    let kept = parse_kept(KERNEL_EXPORTS)?;
    let mut libraries = Vec::new();
    for path in x64_library_paths() {
        let data = std::fs::read(&path).map_err(|error| {
            TaskError::new(format!(
                "could not read {}: {error}; install mingw-w64 (`{APT_INSTALL}`)",
                path.display()
            ))
        })?;
        libraries.push(read_import_library(&path, &data).map_err(TaskError::new)?);
    }
    let mut failed = Vec::new();
    for machine in crate::package::MACHINES.iter().copied() {
        let path = crate::package::package_root()
            .join(machine.package_dir())
            .join("rdmus.sys");
        let data = std::fs::read(&path).map_err(|error| {
            TaskError::new(format!(
                "could not read {}: {error}; run `cargo xtask package` first",
                path.display()
            ))
        })?;
        let report = image::check(&data, machine)
            .map_err(|error| TaskError::new(format!("{}: {error}", path.display())))?;
        if machine == Machine::Arm64 {
            println!(
                "ARM64: mingw-w64 has no ARM64 kernel import libraries; checked against kernel_exports.txt only"
            );
        }
        let result = audit(machine, &report.imports, &libraries, &kept);
        print!("{result}");
        if !result.passes() {
            failed.push(machine.to_string());
        }
        if machine == Machine::Amd64 {
            match wine_modules()? {
                Some(modules) => {
                    let wine = audit_wine(&report.imports, &modules);
                    print!("{wine}");
                    if !wine.passes() {
                        failed.push(String::from("x64 under Wine"));
                    }
                }
                None => println!(
                    "Wine: not checked: {WINE_PE_DIR} is absent (install wine64; .ci/run does)"
                ),
            }
        }
    }
    println!("{X86_NOTE}");
    if failed.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "imports in no list for {}: see the UNCONFIRMED lines above",
            failed.join(", ")
        )))
    }
}

#[cfg(test)]
#[path = "import_audit_tests.rs"]
mod tests;
