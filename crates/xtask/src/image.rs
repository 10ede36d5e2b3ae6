//! The self-check of a built driver image (`cargo xtask check-image PATH`).
//!
//! A kernel driver that loads must be a PE image of the machine it runs on (PE32
//! for x86, PE32+ for x64 and ARM64),
//! for the native subsystem, entered at `DriverEntry`, importing only from
//! modules the kernel resolves for drivers, never the stack probe `__chkstk`
//! (no frame may be larger than a page), and (because HVCI and the kernel
//! loader refuse it) with no section that is both writable and executable.
//! Every rule is checked, every violation is reported, and nothing here
//! panics on a malformed file: a file `object` cannot parse is an error.

use std::fmt;

use object::LittleEndian as LE;
use object::pe;
use object::read::pe::{
    ExportTarget, ImageNtHeaders, ImageOptionalHeader, Import, PeFile, PeFile32, PeFile64,
};

/// The modules a kernel driver may import from (compared case-insensitively).
pub const KERNEL_MODULES: &[&str] = &["ntoskrnl.exe", "hal.dll", "portcls.sys", "ks.sys"];

/// The stack probe the compiler calls in a function whose frame is larger than
/// a page (x64 and ARM64 MSVC targets). A driver must not need it: kernel
/// stacks are 12 to 24 KiB, and ntoskrnl's ARM64 export of it is not
/// something to rely on. rdmus does not declare it, so such a frame fails the
/// link; an image that imports it anyway is refused here.
pub const STACK_PROBE: &str = "__chkstk";

/// The name of the entry point the image must start at.
pub const ENTRY_SYMBOL: &str = "DriverEntry";

/// The CPU an image is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Machine {
    /// x86-64 (`IMAGE_FILE_MACHINE_AMD64`).
    Amd64,
    /// ARM64 (`IMAGE_FILE_MACHINE_ARM64`).
    Arm64,
    /// x86 (`IMAGE_FILE_MACHINE_I386`), a PE32 image.
    X86,
}

impl Machine {
    /// The `IMAGE_FILE_MACHINE_*` value of this machine.
    #[must_use]
    pub fn raw(self) -> u16 {
        match self {
            Self::Amd64 => pe::IMAGE_FILE_MACHINE_AMD64.0,
            Self::Arm64 => pe::IMAGE_FILE_MACHINE_ARM64.0,
            Self::X86 => pe::IMAGE_FILE_MACHINE_I386.0,
        }
    }

    /// The machine of an `IMAGE_FILE_MACHINE_*` value, if it is one we ship.
    #[must_use]
    pub fn from_raw(raw: u16) -> Option<Self> {
        [Self::Amd64, Self::Arm64, Self::X86]
            .into_iter()
            .find(|machine| machine.raw() == raw)
    }

    /// The Rust target triple that builds this machine's image.
    #[must_use]
    pub fn target(self) -> &'static str {
        match self {
            Self::Amd64 => "x86_64-pc-windows-msvc",
            Self::Arm64 => "aarch64-pc-windows-msvc",
            Self::X86 => "i686-pc-windows-msvc",
        }
    }

    /// The directory name of the package for this machine (`x64`, `arm64`, `x86`).
    #[must_use]
    pub fn package_dir(self) -> &'static str {
        match self {
            Self::Amd64 => "x64",
            Self::Arm64 => "arm64",
            Self::X86 => "x86",
        }
    }

    /// The INF architecture decoration (`NTamd64`, `NTarm64`, `NTx86`) suffix.
    #[must_use]
    pub fn inf_arch(self) -> &'static str {
        match self {
            Self::Amd64 => "amd64",
            Self::Arm64 => "arm64",
            Self::X86 => "x86",
        }
    }

    /// Whether the image is PE32+ (64-bit) rather than PE32.
    #[must_use]
    pub fn is_64_bit(self) -> bool {
        self != Self::X86
    }

    /// Parses a user-given machine name (`x64`, `amd64`, `arm64`, `aarch64`, `x86`, `i386`, `i686`).
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "x64" | "amd64" | "x86_64" => Some(Self::Amd64),
            "arm64" | "aarch64" => Some(Self::Arm64),
            "x86" | "i386" | "i686" => Some(Self::X86),
            _ => None,
        }
    }
}

impl fmt::Display for Machine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Amd64 => "AMD64",
            Self::Arm64 => "ARM64",
            Self::X86 => "x86",
        })
    }
}

/// One function the image imports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedFunction {
    /// The module it comes from, as written in the image.
    pub module: String,
    /// Its name, or `#N` for an import by ordinal.
    pub name: String,
}

/// What a passing image looks like, for printing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReport {
    /// The image's machine.
    pub machine: Machine,
    /// The file size in bytes.
    pub file_size: usize,
    /// `SizeOfImage` from the optional header (bytes mapped in memory).
    pub size_of_image: u32,
    /// The entry point RVA (equal to `DriverEntry`'s).
    pub entry_rva: u32,
    /// Every imported function, in import-table order.
    pub imports: Vec<ImportedFunction>,
    /// Bytes of embedded Authenticode signature (the security directory); 0 = unsigned.
    pub signature_size: u32,
}

impl fmt::Display for ImageReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} native driver: {} bytes on disk, SizeOfImage {} bytes, entry DriverEntry at RVA {:#x}, {}",
            self.machine,
            if self.machine.is_64_bit() {
                "PE32+"
            } else {
                "PE32"
            },
            self.file_size,
            self.size_of_image,
            self.entry_rva,
            if self.signature_size == 0 {
                String::from("unsigned")
            } else {
                format!("{}-byte embedded signature", self.signature_size)
            }
        )?;
        writeln!(f, "{} imported functions:", self.imports.len())?;
        for import in &self.imports {
            writeln!(f, "  {}!{}", import.module, import.name)?;
        }
        Ok(())
    }
}

/// One rule an image broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// Not a PE image of the expected format at all (PE32+, or PE32 for x86; the
    /// parser's reason).
    NotPe {
        /// The format the machine needs (`PE32+` or `PE32`).
        format: &'static str,
        /// Why the parser refused the file.
        reason: String,
    },
    /// The machine is not the expected one.
    WrongMachine {
        /// What was expected.
        expected: Machine,
        /// The raw `IMAGE_FILE_MACHINE_*` found.
        found: u16,
    },
    /// The subsystem is not `IMAGE_SUBSYSTEM_NATIVE`.
    NotNativeSubsystem(u16),
    /// No `DriverEntry` export to compare the entry point with.
    NoDriverEntry,
    /// The entry point is not `DriverEntry`.
    EntryNotDriverEntry {
        /// `AddressOfEntryPoint`.
        entry_rva: u32,
        /// `DriverEntry`'s RVA.
        driver_entry_rva: u32,
    },
    /// A module outside [`KERNEL_MODULES`] is imported.
    ForeignImport(String),
    /// The stack probe ([`STACK_PROBE`]) is imported (from the named module).
    StackProbeImport(String),
    /// The import table could not be read.
    BadImportTable(String),
    /// A section is both writable and executable.
    WritableExecutable(String),
    /// No base relocations (the reason): the kernel could not load it at another address.
    NoRelocations(String),
    /// A base relocation of a type other than the machine's pointer type.
    WrongRelocationType {
        /// The address it patches.
        rva: u32,
        /// Its `IMAGE_REL_BASED_*` type.
        found: u16,
        /// The machine's ([`relocation_type`]).
        expected: u16,
    },
    /// The header checksum is missing or wrong (the loader verifies it).
    BadChecksum {
        /// The value in the optional header.
        stored: u32,
        /// The value computed over the file.
        computed: u32,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotPe { format, reason } => write!(f, "not a {format} image: {reason}"),
            Self::WrongMachine { expected, found } => {
                write!(
                    f,
                    "machine is {found:#06x}, expected {expected} ({:#06x})",
                    expected.raw()
                )
            }
            Self::NotNativeSubsystem(found) => {
                write!(f, "subsystem is {found}, expected NATIVE (1)")
            }
            Self::NoDriverEntry => write!(
                f,
                "no {ENTRY_SYMBOL} export to check the entry point against"
            ),
            Self::EntryNotDriverEntry {
                entry_rva,
                driver_entry_rva,
            } => write!(
                f,
                "entry point RVA {entry_rva:#x} is not {ENTRY_SYMBOL} ({driver_entry_rva:#x})"
            ),
            Self::ForeignImport(module) => write!(
                f,
                "imports from {module}, which is not a kernel module ({})",
                KERNEL_MODULES.join(", ")
            ),
            Self::StackProbeImport(module) => write!(
                f,
                "imports {STACK_PROBE} from {module}: a function has a frame over 4 KiB \
                 (which one is not knowable from the import); find it with llvm-objdump -d \
                 (the callers of the {STACK_PROBE} thunk) and make its large object in place in pool"
            ),
            Self::BadImportTable(reason) => write!(f, "unreadable import table: {reason}"),
            Self::WritableExecutable(section) => {
                write!(f, "section {section} is both writable and executable")
            }
            Self::NoRelocations(reason) => write!(
                f,
                "no base relocations ({reason}): a driver must load at any address"
            ),
            Self::WrongRelocationType {
                rva,
                found,
                expected,
            } => write!(
                f,
                "base relocation at RVA {rva:#x} has type {found}, expected {expected} for this machine"
            ),
            Self::BadChecksum { stored, computed } => {
                write!(
                    f,
                    "header checksum {stored:#x} does not match the file ({computed:#x})"
                )
            }
        }
    }
}

/// Every rule the image broke (never empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageError(pub Vec<Violation>);

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{violation}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ImageError {}

/// Checks `data` as a driver image for `expected` (PE32+, or PE32 for x86).
///
/// # Errors
/// Every rule the image breaks, in the order they are checked; a file that is
/// not of the machine's PE format stops the check at that first violation.
pub fn check(data: &[u8], expected: Machine) -> Result<ImageReport, ImageError> {
    let not_pe = |format: &'static str, error: object::Error| {
        ImageError(vec![Violation::NotPe {
            format,
            reason: error.to_string(),
        }])
    };
    if expected.is_64_bit() {
        let file = PeFile64::parse(data).map_err(|error| not_pe("PE32+", error))?;
        check_parsed(&file, data, expected)
    } else {
        let file = PeFile32::parse(data).map_err(|error| not_pe("PE32", error))?;
        check_parsed(&file, data, expected)
    }
}

fn check_parsed<Pe: ImageNtHeaders>(
    file: &PeFile<'_, Pe>,
    data: &[u8],
    expected: Machine,
) -> Result<ImageReport, ImageError> {
    let mut violations = Vec::new();

    let raw_machine = file.nt_headers().file_header().machine.get(LE).0;
    if raw_machine != expected.raw() {
        violations.push(Violation::WrongMachine {
            expected,
            found: raw_machine,
        });
    }
    let optional = file.nt_headers().optional_header();
    let subsystem = optional.subsystem().0;
    if subsystem != pe::IMAGE_SUBSYSTEM_NATIVE.0 {
        violations.push(Violation::NotNativeSubsystem(subsystem));
    }

    let entry_rva = optional.address_of_entry_point();
    match driver_entry_rva(file) {
        Some(driver_entry_rva) if driver_entry_rva == entry_rva => {}
        Some(driver_entry_rva) => {
            violations.push(Violation::EntryNotDriverEntry {
                entry_rva,
                driver_entry_rva,
            });
        }
        None => violations.push(Violation::NoDriverEntry),
    }

    let imports = match imported_functions(file) {
        Ok(imports) => imports,
        Err(reason) => {
            violations.push(Violation::BadImportTable(reason));
            Vec::new()
        }
    };
    let mut foreign: Vec<String> = imports
        .iter()
        .filter(|import| !is_kernel_module(&import.module))
        .map(|import| import.module.clone())
        .collect();
    foreign.dedup();
    violations.extend(foreign.into_iter().map(Violation::ForeignImport));
    violations.extend(
        imports
            .iter()
            .filter(|import| import.name == STACK_PROBE)
            .map(|import| Violation::StackProbeImport(import.module.clone())),
    );

    let write_execute = pe::IMAGE_SCN_MEM_WRITE.0 | pe::IMAGE_SCN_MEM_EXECUTE.0;
    for section in file.section_table().iter() {
        if section.characteristics.get(LE).0 & write_execute == write_execute {
            let name = String::from_utf8_lossy(section.raw_name()).into_owned();
            violations.push(Violation::WritableExecutable(name));
        }
    }

    if let Err(violation) = check_relocations(file, expected) {
        violations.push(violation);
    }

    let stored = optional.check_sum();
    let computed = pe_checksum(data);
    if stored != computed {
        violations.push(Violation::BadChecksum { stored, computed });
    }

    if violations.is_empty() {
        Ok(ImageReport {
            machine: expected,
            file_size: data.len(),
            size_of_image: optional.size_of_image(),
            entry_rva,
            imports,
            signature_size: file
                .data_directory(pe::IMAGE_DIRECTORY_ENTRY_SECURITY)
                .map_or(0, |directory| directory.size.get(LE)),
        })
    } else {
        Err(ImageError(violations))
    }
}

/// The base relocation every address the image holds needs: `HIGHLOW` (32-bit)
/// on x86, `DIR64` on x64 and ARM64.
#[must_use]
pub fn relocation_type(machine: Machine) -> u16 {
    if machine.is_64_bit() {
        pe::IMAGE_REL_BASED_DIR64.0
    } else {
        pe::IMAGE_REL_BASED_HIGHLOW.0
    }
}

/// The kernel loads a driver wherever it finds room, so the image must carry
/// base relocations (not stripped, at least one), each of the machine's
/// pointer type ([`relocation_type`]) or `ABSOLUTE` padding.
fn check_relocations<Pe: ImageNtHeaders>(
    file: &PeFile<'_, Pe>,
    machine: Machine,
) -> Result<(), Violation> {
    let characteristics = file.nt_headers().file_header().characteristics.get(LE);
    if characteristics.0 & pe::IMAGE_FILE_RELOCS_STRIPPED.0 != 0 {
        return Err(Violation::NoRelocations(String::from(
            "IMAGE_FILE_RELOCS_STRIPPED is set",
        )));
    }
    let bad = |error: object::Error| Violation::NoRelocations(error.to_string());
    let Some(mut blocks) = file
        .data_directories()
        .relocation_blocks(file.data(), &file.section_table())
        .map_err(bad)?
    else {
        return Err(Violation::NoRelocations(String::from(
            "no base relocation directory",
        )));
    };
    let wanted = relocation_type(machine);
    let mut count = 0usize;
    while let Some(block) = blocks.next().map_err(bad)? {
        for relocation in block {
            match relocation.typ.0 {
                typ if typ == pe::IMAGE_REL_BASED_ABSOLUTE.0 => {}
                typ if typ == wanted => count += 1,
                typ => {
                    return Err(Violation::WrongRelocationType {
                        rva: relocation.virtual_address,
                        found: typ,
                        expected: wanted,
                    });
                }
            }
        }
    }
    if count == 0 {
        return Err(Violation::NoRelocations(String::from(
            "the base relocation directory holds no relocation",
        )));
    }
    Ok(())
}

/// Reads the machine an image says it is for, to check it without being told.
#[must_use]
pub fn machine_of(data: &[u8]) -> Option<Machine> {
    let raw = match PeFile64::parse(data) {
        Ok(file) => file.nt_headers().file_header().machine.get(LE).0,
        Err(_) => {
            PeFile32::parse(data)
                .ok()?
                .nt_headers()
                .file_header()
                .machine
                .get(LE)
                .0
        }
    };
    Machine::from_raw(raw)
}

fn is_kernel_module(module: &str) -> bool {
    KERNEL_MODULES
        .iter()
        .any(|kernel| kernel.eq_ignore_ascii_case(module))
}

fn driver_entry_rva<Pe: ImageNtHeaders>(file: &PeFile<'_, Pe>) -> Option<u32> {
    let exports = file.export_table().ok()??;
    let all = exports.exports().ok()?;
    all.into_iter()
        .find_map(|export| match (export.name, export.target) {
            (Some(name), ExportTarget::Address(rva)) if name == ENTRY_SYMBOL.as_bytes() => {
                Some(rva)
            }
            _ => None,
        })
}

fn imported_functions<Pe: ImageNtHeaders>(
    file: &PeFile<'_, Pe>,
) -> Result<Vec<ImportedFunction>, String> {
    let Some(table) = file.import_table().map_err(|error| error.to_string())? else {
        return Ok(Vec::new());
    };
    let mut functions = Vec::new();
    let mut descriptors = table.descriptors().map_err(|error| error.to_string())?;
    while let Some(descriptor) = descriptors.next().map_err(|error| error.to_string())? {
        let module_name = table
            .name(descriptor.name.get(LE))
            .map_err(|error| error.to_string())?;
        let module = String::from_utf8_lossy(module_name).into_owned();
        // The lookup table may be absent (some linkers only write the IAT).
        let lookup = match descriptor.original_first_thunk.get(LE) {
            0 => descriptor.first_thunk.get(LE),
            rva => rva,
        };
        let mut thunks = table.thunks(lookup).map_err(|error| error.to_string())?;
        while let Some(thunk) = thunks.next::<Pe>().map_err(|error| error.to_string())? {
            let name = match table
                .import::<Pe>(thunk)
                .map_err(|error| error.to_string())?
            {
                Import::Name(_hint, name) => String::from_utf8_lossy(name).into_owned(),
                Import::Ordinal(ordinal) => format!("#{ordinal}"),
            };
            functions.push(ImportedFunction {
                module: module.clone(),
                name,
            });
        }
        if functions.iter().all(|function| function.module != module) {
            // A module with no functions is still a dependency the loader resolves.
            functions.push(ImportedFunction {
                module,
                name: String::from("(no functions)"),
            });
        }
    }
    Ok(functions)
}

/// The PE image checksum: the ones'-complement-style 16-bit sum of the file
/// (with the checksum field counted as zero), folded, plus the file length.
/// This is the algorithm `CheckSumMappedFile` documents and link.exe
/// `/RELEASE` writes.
#[must_use]
pub fn pe_checksum(data: &[u8]) -> u32 {
    let checksum_offset = checksum_field_offset(data);
    let mut sum: u64 = 0;
    for (index, chunk) in data.chunks(2).enumerate() {
        let offset = index * 2;
        if let Some(field) = checksum_offset {
            if offset >= field && offset < field + 4 {
                continue;
            }
        }
        let word = u16::from_le_bytes([chunk[0], chunk.get(1).copied().unwrap_or(0)]);
        sum += u64::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    // The length of a PE file always fits in u32 (the format's offsets are u32).
    let length = u32::try_from(data.len()).unwrap_or(u32::MAX);
    u32::try_from(sum & 0xffff)
        .unwrap_or(0)
        .wrapping_add(length)
}

/// Offset of `OptionalHeader.CheckSum`: `e_lfanew` + 4 (signature) + 20 (file
/// header) + 64 (the same offset in PE32 and PE32+).
fn checksum_field_offset(data: &[u8]) -> Option<usize> {
    let lfanew = data.get(0x3c..0x40)?;
    let lfanew = u32::from_le_bytes(lfanew.try_into().ok()?);
    usize::try_from(lfanew).ok()?.checked_add(4 + 20 + 64)
}

#[cfg(test)]
#[path = "image_tests.rs"]
mod tests;
