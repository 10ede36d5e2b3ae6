//! The import audit (`cargo xtask import-audit`, a step of `cargo xtask test`): every
//! function the packaged rdmus.sys imports must be exported by the module it names, as
//! an independent list says. For x64 and x86 that list is mingw-w64's import library of the
//! module for the machine (`/usr/{x86_64,i686}-w64-mingw32/lib/`: libntoskrnl.a, libhal.a,
//! libks.a: each member's imported name, from its hint/name entry, so the i686 archives'
//! decorated symbols such as `@KfAcquireSpinLock@4` count as the export `KfAcquireSpinLock`;
//! the DLL name from the member that defines the library's `_iname` symbol); for names
//! those libraries predate, and for portcls.sys (mingw-w64 has no libportcls.a), it is
//! `kernel_exports.txt`, each line with its public source. mingw-w64 has no ARM64 kernel
//! import libraries, so every ARM64 import is checked against `kernel_exports.txt` alone.
//! x86 imports are also checked for their calling convention ([`conventions`]): the
//! decorated symbol the x86 link's map records for each must state the convention and
//! argument bytes mingw-w64's i686 library gives the same export.
//! The x64 image's ntoskrnl.exe/hal.dll imports must also be exported by Wine's modules
//! (`/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/`, Debian's wine64), where the driver runs
//! in the Wine harness (`crates/wine-run`): a missing one kills the host process when called.
//! Wine marks an export it only stubs with a `__wine_stub_NAME` symbol; the known stubs the
//! test bench supplies itself (through the shim of `crates/wine-run`) are [`WINE_STUBS`], and
//! any other stub fails the audit like a missing export.

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
        if (machines.contains(&Machine::Amd64) || machines.contains(&Machine::X86))
            && (module_lower == "ntoskrnl.exe" || module_lower == "hal.dll")
        {
            return Err(error(
                "an x64 or x86 kernel import must be in mingw-w64's libntoskrnl.a/libhal.a, not \
                 kept here (a newer routine is resolved at run time: dmus-sys \
                 imports/late_bound.rs)",
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
    /// The machine its members are for (`None`: an architecture rdmus does not ship).
    pub machine: Option<Machine>,
    /// The DLL it imports from, lowercase, as the library itself names it.
    pub module: String,
    /// The names it imports: what an image's import table asks the module for.
    pub names: BTreeSet<String>,
    /// Each name's symbol as a compiler references it, which on x86 is decorated with the
    /// calling convention (`_KeInitializeDpc@12`, `@KfAcquireSpinLock@4`, `_memcpy`).
    pub symbols: BTreeMap<String, String>,
}

/// Reads a mingw-w64 import library: for each member that defines an `__imp_SYMBOL`, the
/// name it imports (the hint/name entry of its `.idata$6` section; for a short import
/// object, the name its name type gives), so the x86 libraries' decorated symbols map to
/// the undecorated names x86 kernel modules export. The DLL name comes from the member
/// defining the `*_iname` symbol (or a short import's DLL field).
///
/// # Errors
/// The file is not an archive, or no member names the DLL.
pub fn read_import_library(path: &Path, data: &[u8]) -> Result<ImportLibrary, String> {
    let archive =
        ArchiveFile::parse(data).map_err(|error| format!("{}: {error}", path.display()))?;
    let mut symbols = BTreeMap::new();
    let mut module = None;
    let mut machine = None;
    for member in archive.members() {
        let member = member.map_err(|error| error.to_string())?;
        let Ok(bytes) = member.data(data) else {
            continue;
        };
        if let Ok(short) = object::read::coff::ImportFile::parse(bytes) {
            machine = machine.or_else(|| machine_of_architecture(short.architecture()));
            module.get_or_insert_with(|| String::from_utf8_lossy(short.dll()).to_ascii_lowercase());
            if let object::read::coff::ImportName::Name(name) = short.import() {
                symbols.insert(
                    String::from_utf8_lossy(name).into_owned(),
                    String::from_utf8_lossy(short.symbol()).into_owned(),
                );
            }
            continue;
        }
        let Ok(file) = object::File::parse(bytes) else {
            continue;
        };
        machine = machine.or_else(|| machine_of_architecture(file.architecture()));
        if let Some(dll) = defined_iname(&file) {
            module.get_or_insert(dll);
        }
        let imported = file.symbols().find_map(|symbol| {
            let name = symbol.name().ok()?;
            (symbol.is_definition() || symbol.section_index().is_some())
                .then(|| name.strip_prefix("__imp_"))
                .flatten()
                .map(str::to_owned)
        });
        let (Some(symbol), Some(name)) = (imported, hint_name(&file)) else {
            continue;
        };
        symbols.insert(name, symbol);
    }
    let module = module.ok_or_else(|| format!("{}: no member names the DLL", path.display()))?;
    Ok(ImportLibrary {
        path: path.to_path_buf(),
        machine,
        module,
        names: symbols.keys().cloned().collect(),
        symbols,
    })
}

fn machine_of_architecture(architecture: object::Architecture) -> Option<Machine> {
    match architecture {
        object::Architecture::X86_64 => Some(Machine::Amd64),
        object::Architecture::Aarch64 => Some(Machine::Arm64),
        object::Architecture::I386 => Some(Machine::X86),
        _ => None,
    }
}

/// The DLL name of the member defining the library's `*_iname` symbol.
fn defined_iname(file: &object::File<'_>) -> Option<String> {
    let iname = file.symbols().find(|symbol| {
        symbol.is_definition() && symbol.name().is_ok_and(|name| name.ends_with("_iname"))
    })?;
    let section = file.section_by_index(iname.section_index()?).ok()?;
    let text: Vec<u8> = section
        .data()
        .ok()?
        .iter()
        .copied()
        .take_while(|byte| *byte != 0)
        .collect();
    Some(String::from_utf8_lossy(&text).to_ascii_lowercase())
}

/// The name of a dlltool import member's hint/name entry (`.idata$6`: a 2-byte hint, then
/// the NUL-terminated name the image's import table will carry).
fn hint_name(file: &object::File<'_>) -> Option<String> {
    let section = file.section_by_name(".idata$6")?;
    let data = section.data().ok()?;
    let name: Vec<u8> = data
        .get(2..)?
        .iter()
        .copied()
        .take_while(|byte| *byte != 0)
        .collect();
    (!name.is_empty()).then(|| String::from_utf8_lossy(&name).into_owned())
}

/// mingw-w64's kernel import libraries for x64 (Debian's paths).
#[must_use]
pub fn x64_library_paths() -> Vec<PathBuf> {
    library_paths("/usr/x86_64-w64-mingw32/lib")
}

/// mingw-w64's kernel import libraries for x86 (Debian's paths).
#[must_use]
pub fn x86_library_paths() -> Vec<PathBuf> {
    library_paths("/usr/i686-w64-mingw32/lib")
}

fn library_paths(dir: &str) -> Vec<PathBuf> {
    let lib = Path::new(dir);
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

/// Audits `imports` of a `machine` image against those of mingw-w64's `libraries` that are
/// for the same machine, and the kept list.
#[must_use]
pub fn audit(
    machine: Machine,
    imports: &[ImportedFunction],
    libraries: &[ImportLibrary],
    kept: &[KeptExport],
) -> Audit {
    let mut by_module: BTreeMap<&str, Vec<&ImportLibrary>> = BTreeMap::new();
    for library in libraries.iter().filter(|lib| lib.machine == Some(machine)) {
        by_module.entry(&library.module).or_default().push(library);
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

/// Reads mingw-w64's import libraries at `paths`.
///
/// # Errors
/// A library is missing (with how to install mingw-w64) or is not an import library.
pub fn read_libraries(paths: &[PathBuf]) -> TaskResult<Vec<ImportLibrary>> {
    paths
        .iter()
        .map(|path| {
            let data = std::fs::read(path).map_err(|error| {
                TaskError::new(format!(
                    "could not read {}: {error}; install mingw-w64 (`{APT_INSTALL}`)",
                    path.display()
                ))
            })?;
            read_import_library(path, &data).map_err(TaskError::new)
        })
        .collect()
}

/// Audits the packaged x64, ARM64 and x86 images (`cargo xtask package` first).
///
/// # Errors
/// mingw-w64's libraries, a packaged image or the x86 link map are missing, an import is
/// unconfirmed, or an x86 import's calling convention differs from mingw-w64's.
pub fn run() -> TaskResult {
    let kept = parse_kept(KERNEL_EXPORTS)?;
    let mut libraries = read_libraries(&x64_library_paths())?;
    libraries.extend(read_libraries(&x86_library_paths())?);
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
        if machine == Machine::X86 {
            let map_path = crate::package::link_map_path(machine);
            let map = std::fs::read_to_string(&map_path).map_err(|error| {
                TaskError::new(format!(
                    "could not read the x86 link map {}: {error}; run `cargo xtask package` first",
                    map_path.display()
                ))
            })?;
            if !audit_x86_conventions(&report.imports, &map, &libraries)? {
                failed.push(String::from("x86 calling conventions"));
            }
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
    if failed.is_empty() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "the import audit failed for {}: see the UNCONFIRMED, CONVENTION MISMATCH, \
             NOT IN and WINE STUB lines above",
            failed.join(", ")
        )))
    }
}

/// The x86 convention audit ([`conventions`]): the image's imports as the link `map` records
/// them, then every other routine dmus-sys declares for x86 (its raw-dylib import members
/// in the rlibs the map names), each against mingw-w64's i686 libraries and headers.
/// Returns whether both pass.
///
/// # Errors
/// An rlib the map names is missing, or the header probe does not compile.
fn audit_x86_conventions(
    imports: &[ImportedFunction],
    map: &str,
    libraries: &[ImportLibrary],
) -> TaskResult<bool> {
    let deps = crate::cmd::target_dir()
        .join(Machine::X86.target())
        .join("release")
        .join("deps");
    let mut declared = Vec::new();
    for archive in conventions::map_import_archives(map) {
        let path = deps.join(format!("{archive}.rlib"));
        let data = std::fs::read(&path).map_err(|error| {
            TaskError::new(format!(
                "could not read {}: {error}; run `cargo xtask package` first",
                path.display()
            ))
        })?;
        declared.extend(
            conventions::archive_declarations(&data)
                .map_err(|error| TaskError::new(format!("{}: {error}", path.display())))?,
        );
    }
    let unused: Vec<_> = declared
        .into_iter()
        .filter(|(function, _)| {
            !imports.iter().any(|import| {
                import.module.eq_ignore_ascii_case(&function.module) && import.name == function.name
            })
        })
        .collect();
    let mut names: Vec<&str> = imports.iter().map(|import| import.name.as_str()).collect();
    names.extend(unused.iter().map(|(function, _)| function.name.as_str()));
    let headers =
        conventions::header_symbols(&names, &crate::cmd::target_dir().join("import-audit"))?;

    let calls = conventions::audit_conventions(
        imports,
        &conventions::map_imports(map),
        libraries,
        &headers,
    );
    print!("{calls}");
    let (functions, symbols): (Vec<_>, Vec<_>) = unused.into_iter().unzip();
    let declarations = conventions::audit_conventions(&functions, &symbols, libraries, &headers);
    println!(
        "x86 routines dmus-sys declares that the image does not import ({}):",
        functions.len()
    );
    print!("{declarations}");
    Ok(calls.passes() && declarations.passes())
}

#[path = "import_conventions.rs"]
pub mod conventions;

#[cfg(test)]
#[path = "import_audit_tests.rs"]
mod tests;
