//! The test bench's copy of rdmus.sys and its shim module (issue 14, item 3).
//!
//! Wine 8.0 gets some routines the x64 image imports wrong: three are only stubs
//! (`KeRemoveQueueDpc`, `MmUserProbeAddress` from ntoskrnl.exe, `KeStallExecutionProcessor`
//! from hal.dll; calling a stub kills winedevice.exe), and its `KeSetTimerEx` cancels the
//! timer first and waits for the timer's running callback (`TpWaitForTimer`), so a DPC that
//! re-arms its own timer waits for itself forever (rdmus's MPU-401 render DPC does, whenever
//! bytes are left after a burst: any chord). Once the shim runs the DPCs, Wine's
//! `KeFlushQueuedDpcs` (which the stream timer's teardown calls) would not wait for them,
//! so the shim supplies that too. The shipped code must not change for Wine, so
//! the bench runs a copy of the image whose import directory names `wineshim.sys` instead of
//! ntoskrnl.exe and hal.dll; the shim (`shim/wineshim.c`, built here with mingw-w64 against
//! its ddk/wdm.h) defines the [`SUPPLIED`] routines and forwards every other name the image
//! imports to ntoskrnl.exe or hal.dll (PE export forwarders, resolved by Wine's loader to the
//! kernel's own functions). The supplied routines:
//!
//! | routine | what the shim does |
//! |---|---|
//! | `KeStallExecutionProcessor` | busy-waits on hal's `KeQueryPerformanceCounter` |
//! | `MmUserProbeAddress` | data: `0x7FFFFFFF0000`, where x64 Windows 8.1+ and Wine end user space |
//! | `KeInitializeTimerEx`, `KeSetTimerEx`, `KeCancelTimer` | the shim's own timer queue, run by its timer thread: a set re-queues without waiting (a DPC may re-arm its own timer) and returns whether the timer was queued; a cancel returns that too and, as on Windows, neither waits for a running DPC |
//! | `KeInitializeDpc`, `KeRemoveQueueDpc` | the shim's DPC queue, which its timer thread runs one DPC at a time; a removed DPC does not run |
//! | `KeFlushQueuedDpcs` | waits until every DPC queued or running in the shim's queue at the call has run (a marker DPC queued behind them); at once when none is; bug-checks when called from a DPC (Wine's own would not know the shim's DPCs) |
//!
//! The timers' state lives in the KTIMER's and KDPC's own kernel fields, as on Windows (the
//! C source says why, and what it bug-checks on: a timer or DPC still pending when the driver
//! has unloaded, an active one initialised again, an object never initialised).
//!
//! # Exactly which bytes differ from the shipped image
//! [`rewrite`] changes three places and reports each ([`ByteChange`]):
//!
//! 1. the 12 bytes of the ntoskrnl.exe import descriptor's DLL name string: `ntoskrnl.exe`
//!    becomes `wineshim.sys` (same length, so nothing moves);
//! 2. the 4-byte `Name` RVA of the hal.dll import descriptor: it now points to that same
//!    string (two descriptors naming one module are legal; each keeps its own thunks, hint/name
//!    entries and bound IAT, untouched);
//! 3. the 4-byte `CheckSum` of the optional header, recomputed over the new bytes.
//!
//! Nothing else changes: no code, no data, no relocation, no section size. (Supplying more
//! routines only grows the shim's export list: the image names the same routines as before,
//! from another module.) The packaged image carries an Authenticode signature, which no
//! longer verifies over the new bytes (its bytes are kept; Wine does not check signatures).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use object::LittleEndian as LE;
use object::pe::{IMAGE_DIRECTORY_ENTRY_IMPORT, ImageNtHeaders64};
use object::read::pe::PeFile64;

use crate::WineError;
use crate::process::run_bounded;

/// The shim's module name; as long as `ntoskrnl.exe`, so the name string is replaced in place.
pub const SHIM_MODULE: &str = "wineshim.sys";
/// The routines the shim defines itself (the rest it forwards): the three Wine 8.0 only
/// stubs, and the timer and DPC routines the image imports (Wine's `KeSetTimerEx` waits for
/// the timer's running callback, so a DPC cannot re-arm its own timer; Wine's
/// `KeFlushQueuedDpcs` does not know the shim's DPCs; `shim/wineshim.c`).
pub const SUPPLIED: [&str; 8] = [
    "KeCancelTimer",
    "KeFlushQueuedDpcs",
    "KeInitializeDpc",
    "KeInitializeTimerEx",
    "KeRemoveQueueDpc",
    "KeSetTimerEx",
    "KeStallExecutionProcessor",
    "MmUserProbeAddress",
];
/// The supplied names that are data, not code.
const SUPPLIED_DATA: [&str; 1] = ["MmUserProbeAddress"];
/// The shim's C source.
pub const SHIM_SOURCE: &str = include_str!("../shim/wineshim.c");

const _: () = assert!(SHIM_MODULE.len() == "ntoskrnl.exe".len());

/// One changed range of the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteChange {
    /// File offset.
    pub offset: usize,
    /// The bytes before.
    pub before: Vec<u8>,
    /// The bytes after.
    pub after: Vec<u8>,
    /// What the range is.
    pub what: &'static str,
}

/// The bench's copy of the image.
#[derive(Debug, Clone)]
pub struct ShimmedImage {
    /// The rewritten image.
    pub bytes: Vec<u8>,
    /// Every changed range, in file order.
    pub changes: Vec<ByteChange>,
    /// What the image imports from ntoskrnl.exe and hal.dll: (module, name), lowercase module.
    pub kernel_imports: Vec<(String, String)>,
}

/// Rewrites `image` (an x64 rdmus.sys) to import its ntoskrnl.exe and hal.dll names from
/// [`SHIM_MODULE`], as the module docs say.
///
/// # Errors
/// The image is not PE32+, has no import table, or does not import from both modules.
pub fn rewrite(image: &[u8]) -> Result<ShimmedImage, String> {
    let file = PeFile64::parse(image).map_err(|e| format!("not a PE32+ image: {e}"))?;
    let sections = file.section_table();
    let directory = file
        .data_directory(IMAGE_DIRECTORY_ENTRY_IMPORT)
        .ok_or("no import directory")?;
    let table = file
        .import_table()
        .map_err(|e| e.to_string())?
        .ok_or("no import table")?;
    let file_offset = |rva: u32| -> Result<usize, String> {
        sections
            .pe_file_range_at(rva)
            .map(|(offset, _)| offset as usize)
            .ok_or_else(|| format!("RVA {rva:#x} is in no section"))
    };
    let descriptors_at = file_offset(directory.virtual_address.get(LE))?;
    let mut ntoskrnl = None;
    let mut hal = None;
    let mut kernel_imports = Vec::new();
    let mut descriptors = table.descriptors().map_err(|e| e.to_string())?;
    let mut index = 0_usize;
    while let Some(descriptor) = descriptors.next().map_err(|e| e.to_string())? {
        let name_rva = descriptor.name.get(LE);
        let module = String::from_utf8_lossy(table.name(name_rva).map_err(|e| e.to_string())?)
            .to_ascii_lowercase();
        // IMAGE_IMPORT_DESCRIPTOR: 20 bytes; Name at +12.
        let name_field = descriptors_at + index * 20 + 12;
        index += 1;
        match module.as_str() {
            "ntoskrnl.exe" => ntoskrnl = Some((name_rva, file_offset(name_rva)?)),
            "hal.dll" => hal = Some(name_field),
            _ => continue,
        }
        let first = descriptor.original_first_thunk.get(LE);
        let mut thunks = table.thunks(first).map_err(|e| e.to_string())?;
        while let Some(thunk) = thunks
            .next::<ImageNtHeaders64>()
            .map_err(|e| e.to_string())?
        {
            if let object::read::pe::Import::Name(_, name) = table
                .import::<ImageNtHeaders64>(thunk)
                .map_err(|e| e.to_string())?
            {
                kernel_imports.push((module.clone(), String::from_utf8_lossy(name).into_owned()));
            }
        }
    }
    let (ntoskrnl_rva, ntoskrnl_name) =
        ntoskrnl.ok_or("the image imports nothing from ntoskrnl.exe")?;
    let hal_name_field = hal.ok_or("the image imports nothing from hal.dll")?;
    let checksum_field = checksum_offset(image).ok_or("no optional header")?;

    let mut bytes = image.to_vec();
    let mut changes = Vec::new();
    let mut change = |bytes: &mut Vec<u8>, offset: usize, after: &[u8], what: &'static str| {
        let before = bytes[offset..offset + after.len()].to_vec();
        bytes[offset..offset + after.len()].copy_from_slice(after);
        changes.push(ByteChange {
            offset,
            before,
            after: after.to_vec(),
            what,
        });
    };
    change(
        &mut bytes,
        ntoskrnl_name,
        SHIM_MODULE.as_bytes(),
        "the ntoskrnl.exe import descriptor's DLL name: ntoskrnl.exe -> wineshim.sys",
    );
    change(
        &mut bytes,
        hal_name_field,
        &ntoskrnl_rva.to_le_bytes(),
        "the hal.dll import descriptor's Name RVA: now the wineshim.sys string",
    );
    let checksum = pe_checksum(&bytes, checksum_field);
    change(
        &mut bytes,
        checksum_field,
        &checksum.to_le_bytes(),
        "OptionalHeader.CheckSum, recomputed",
    );
    changes.sort_by_key(|c| c.offset);
    Ok(ShimmedImage {
        bytes,
        changes,
        kernel_imports,
    })
}

/// The file offset of `OptionalHeader.CheckSum`: `e_lfanew` + 4 (signature) + 20 (file
/// header) + 64.
#[must_use]
pub fn checksum_offset(image: &[u8]) -> Option<usize> {
    let e_lfanew = u32::from_le_bytes(image.get(0x3C..0x40)?.try_into().ok()?) as usize;
    let offset = e_lfanew + 4 + 20 + 64;
    (offset + 4 <= image.len()).then_some(offset)
}

/// The PE checksum: the 16-bit one's-complement-style sum of the file (the checksum field read
/// as zero), folded, plus the file length (the algorithm `CheckSumMappedFile` documents).
#[must_use]
pub fn pe_checksum(image: &[u8], checksum_field: usize) -> u32 {
    let mut sum: u64 = 0;
    for (index, pair) in image.chunks(2).enumerate() {
        let offset = index * 2;
        if (checksum_field..checksum_field + 4).contains(&offset) {
            continue;
        }
        let word = u64::from(pair[0]) | (u64::from(*pair.get(1).unwrap_or(&0)) << 8);
        sum += word;
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum = (sum & 0xFFFF) + (sum >> 16);
    #[allow(
        clippy::cast_possible_truncation,
        reason = "the folded sum is 16 bits and the image far below 4 GiB"
    )]
    let total = (sum as u32).wrapping_add(image.len() as u32);
    total
}

/// The shim's export list: each [`SUPPLIED`] name exported from the shim's own `Shim<Name>`
/// (so the C source can include wdm.h, which declares the kernel's names as imports), every
/// other kernel import forwarded to its module.
#[must_use]
pub fn def_file(kernel_imports: &[(String, String)]) -> String {
    let mut text = format!("LIBRARY {SHIM_MODULE}\nEXPORTS\n");
    for (module, name) in kernel_imports {
        if SUPPLIED_DATA.contains(&name.as_str()) {
            let _ = writeln!(text, "  {name} = Shim{name} DATA");
        } else if SUPPLIED.contains(&name.as_str()) {
            let _ = writeln!(text, "  {name} = Shim{name}");
        } else {
            let _ = writeln!(text, "  {name} = {module}.{name}");
        }
    }
    text
}

/// Writes the rewritten image and builds the shim for it into `out_dir`: (image, shim).
///
/// # Errors
/// The image cannot be read or rewritten, mingw-w64's gcc is missing, or the build failed.
pub fn prepare(
    rdmus_sys: &Path,
    out_dir: &Path,
) -> Result<(PathBuf, PathBuf, ShimmedImage), WineError> {
    let image = std::fs::read(rdmus_sys)
        .map_err(|e| WineError::Io(format!("read {}: {e}", rdmus_sys.display())))?;
    let shimmed =
        rewrite(&image).map_err(|e| WineError::Command(format!("{}: {e}", rdmus_sys.display())))?;
    std::fs::create_dir_all(out_dir)
        .map_err(|e| WineError::Io(format!("create {}: {e}", out_dir.display())))?;
    let image_path = out_dir.join("rdmus.sys");
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| WineError::Io(format!("write {}: {e}", path.display())))
    };
    write(&image_path, &shimmed.bytes)?;
    let shim = build(out_dir, &shimmed.kernel_imports)?;
    Ok((image_path, shim, shimmed))
}

/// Builds the shim into `out_dir` (`wineshim.sys`, with its source, `.def` and build log
/// beside it) for an image importing `kernel_imports` ((module, name), as
/// [`ShimmedImage::kernel_imports`]); returns its path.
///
/// # Errors
/// mingw-w64's gcc is missing, a file cannot be written, or the build failed.
pub fn build(out_dir: &Path, kernel_imports: &[(String, String)]) -> Result<PathBuf, WineError> {
    std::fs::create_dir_all(out_dir)
        .map_err(|e| WineError::Io(format!("create {}: {e}", out_dir.display())))?;
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes)
            .map_err(|e| WineError::Io(format!("write {}: {e}", path.display())))
    };
    let source = out_dir.join("wineshim.c");
    let def = out_dir.join("wineshim.def");
    write(&source, SHIM_SOURCE.as_bytes())?;
    write(&def, def_file(kernel_imports).as_bytes())?;
    let shim = out_dir.join(SHIM_MODULE);
    let log = out_dir.join("wineshim-build.log");
    let _ = std::fs::remove_file(&log);
    let built = run_bounded(
        Command::new("x86_64-w64-mingw32-gcc")
            .args(["-O2", "-Wall", "-Wextra", "-Werror", "-shared", "-nostdlib"])
            .arg("-ffreestanding")
            .args(["-Wl,--subsystem,native", "-Wl,-e,ShimEntry", "-o"])
            .arg(&shim)
            .arg(&source)
            .arg(&def)
            .args(["-lntoskrnl", "-lhal", "-lntdll"]),
        &log,
        Duration::from_secs(60),
    )
    .map_err(|e| match e {
        WineError::Io(text) if text.contains("start") => WineError::Missing(
            "x86_64-w64-mingw32-gcc (Debian: sudo apt-get install mingw-w64)".into(),
        ),
        other => other,
    })?;
    if !built.status.success() {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        return Err(WineError::Command(format!(
            "building {SHIM_MODULE} failed: {text}"
        )));
    }
    Ok(shim)
}

#[cfg(test)]
mod tests {
    use super::{def_file, pe_checksum};

    #[test]
    fn the_def_file_defines_the_supplied_names_and_forwards_the_rest() {
        let imports = [
            ("ntoskrnl.exe".to_owned(), "KeSetTimerEx".to_owned()),
            ("ntoskrnl.exe".to_owned(), "KeRemoveQueueDpc".to_owned()),
            ("ntoskrnl.exe".to_owned(), "MmUserProbeAddress".to_owned()),
            ("hal.dll".to_owned(), "KeQueryPerformanceCounter".to_owned()),
            ("hal.dll".to_owned(), "KeStallExecutionProcessor".to_owned()),
            ("ntoskrnl.exe".to_owned(), "DbgPrintEx".to_owned()),
        ];
        assert_eq!(
            def_file(&imports),
            "LIBRARY wineshim.sys\nEXPORTS\n  KeSetTimerEx = ShimKeSetTimerEx\n  \
             KeRemoveQueueDpc = ShimKeRemoveQueueDpc\n  MmUserProbeAddress = \
             ShimMmUserProbeAddress DATA\n  KeQueryPerformanceCounter = \
             hal.dll.KeQueryPerformanceCounter\n  KeStallExecutionProcessor = \
             ShimKeStallExecutionProcessor\n  DbgPrintEx = ntoskrnl.exe.DbgPrintEx\n"
        );
    }

    #[test]
    fn the_checksum_skips_its_own_field_and_adds_the_length() {
        // Words 0x0201 and 0x0403; the field (offset 4..8) is skipped whatever it holds.
        let mut image = vec![1, 2, 3, 4, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(pe_checksum(&image, 4), 0x0201 + 0x0403 + 8);
        image[4] = 0;
        assert_eq!(pe_checksum(&image, 4), 0x0201 + 0x0403 + 8);
        // A carry out of 16 bits folds back in.
        let carry = vec![0xFF, 0xFF, 0x02, 0x00, 0, 0, 0, 0];
        assert_eq!(pe_checksum(&carry, 4), 0x0002 + 8);
    }
}
