//! The x86 convention audit: decorations, the map parser, a seeded mismatch, and what
//! mingw-w64's real i686 libraries say about the routines wdm.h declares FASTCALL.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{
    Convention, MapImport, Record, audit_conventions, convention_of, header_probe_source,
    header_symbols, map_import_archives, map_imports, undeclared_names, undecorate,
};
use crate::image::{ImportedFunction, Machine};
use crate::import_audit::{ImportLibrary, read_import_library, x86_library_paths};

fn import(module: &str, name: &str) -> ImportedFunction {
    ImportedFunction {
        module: module.to_owned(),
        name: name.to_owned(),
    }
}

fn library(machine: Machine, module: &str, symbols: &[(&str, &str)]) -> ImportLibrary {
    let symbols: BTreeMap<String, String> = symbols
        .iter()
        .map(|(name, symbol)| ((*name).to_owned(), (*symbol).to_owned()))
        .collect();
    ImportLibrary {
        path: PathBuf::from(format!("/seeded/{module}.a")),
        machine: Some(machine),
        module: module.to_owned(),
        names: symbols.keys().cloned().collect(),
        symbols,
    }
}

fn map_entry(module: &str, symbol: &str) -> MapImport {
    MapImport {
        module: module.to_owned(),
        symbol: symbol.to_owned(),
    }
}

#[test]
fn decorations_state_the_convention_and_undecorate_to_the_export_name() {
    assert_eq!(
        convention_of("_KeInitializeDpc@12"),
        Convention::Stdcall(12)
    );
    assert_eq!(
        convention_of("@KfAcquireSpinLock@4"),
        Convention::Fastcall(4)
    );
    assert_eq!(convention_of("_KeGetCurrentIrql@0"), Convention::Stdcall(0));
    assert_eq!(convention_of("__alldiv@16"), Convention::Stdcall(16));
    assert_eq!(convention_of("_memcpy"), Convention::Plain);
    assert_eq!(convention_of("DbgPrintEx"), Convention::Plain);
    assert_eq!(convention_of("_MmUserProbeAddress"), Convention::Plain);
    assert_eq!(undecorate("_KeInitializeDpc@12"), "KeInitializeDpc");
    assert_eq!(undecorate("@KfAcquireSpinLock@4"), "KfAcquireSpinLock");
    assert_eq!(undecorate("__alldiv@16"), "_alldiv");
    assert_eq!(undecorate("_memcpy"), "memcpy");
    assert_eq!(undecorate("DbgPrintEx"), "DbgPrintEx");
}

#[test]
fn the_map_parser_reads_the_import_symbols_and_their_modules() {
    let map = " Address         Publics by Value              Rva+Base               Lib:Object\n\
         \n\
         0001:000222e3       _memcpy                    00000000100232e3     libdmus_sys-6a53:ntoskrnl.exe\n\
         0002:00002da0       __imp_@KfAcquireSpinLock@4 0000000010026da0     libdmus_sys-6a53:hal.dll\n\
         0002:00002dd4       __imp__KeInitializeDpc@12  0000000010026dd4     libdmus_sys-6a53:ntoskrnl.exe\n\
         0002:00002df8       __imp___alldiv@16          0000000010026df8     libdmus_sys-6a53:ntoskrnl.exe\n";
    assert_eq!(
        map_imports(map),
        [
            map_entry("hal.dll", "@KfAcquireSpinLock@4"),
            map_entry("ntoskrnl.exe", "_KeInitializeDpc@12"),
            map_entry("ntoskrnl.exe", "__alldiv@16"),
        ]
    );
    let archives: Vec<String> = map_import_archives(map).into_iter().collect();
    // `_memcpy` (the thunk, not an `__imp_` symbol) names no archive of its own.
    assert_eq!(archives, ["libdmus_sys-6a53"]);
}

/// A `__fastcall` routine declared `__stdcall` links and loads (the export name is the
/// same) and then corrupts the stack: the audit must catch it, by the library or by the
/// headers.
#[test]
fn a_seeded_stdcall_declaration_of_a_fastcall_routine_fails() {
    let libraries = [
        library(
            Machine::X86,
            "hal.dll",
            &[
                ("KfAcquireSpinLock", "@KfAcquireSpinLock@4"),
                ("KeGetCurrentIrql", "_KeGetCurrentIrql@0"),
            ],
        ),
        library(Machine::X86, "ntoskrnl.exe", &[("_alldiv", "__alldiv@16")]),
        // An x64 library never speaks for an x86 import.
        library(
            Machine::Amd64,
            "ntoskrnl.exe",
            &[("KeInitializeDpc", "_KeInitializeDpc@4")],
        ),
    ];
    let headers: BTreeMap<String, String> = [
        ("KfAcquireSpinLock", "@KfAcquireSpinLock@4"),
        ("PcNewPort", "_PcNewPort@8"),
    ]
    .iter()
    .map(|(name, symbol)| ((*name).to_owned(), (*symbol).to_owned()))
    .collect();
    let imports = [
        import("hal.dll", "KfAcquireSpinLock"),
        import("HAL.dll", "KeGetCurrentIrql"),
        import("ntoskrnl.exe", "_alldiv"),
        import("ntoskrnl.exe", "KeInitializeDpc"),
        import("portcls.sys", "PcNewPort"),
    ];
    let right = [
        map_entry("hal.dll", "@KfAcquireSpinLock@4"),
        map_entry("hal.dll", "_KeGetCurrentIrql@0"),
        map_entry("ntoskrnl.exe", "__alldiv@16"),
        map_entry("ntoskrnl.exe", "_KeInitializeDpc@12"),
        map_entry("portcls.sys", "_PcNewPort@8"),
    ];
    let result = audit_conventions(&imports, &right, &libraries, &headers);
    assert!(result.passes(), "{result}");
    assert_eq!(result.matched.len(), 4, "{result}");
    assert_eq!(
        result.matched[0].records,
        [
            (Record::Library, String::from("@KfAcquireSpinLock@4")),
            (Record::Header, String::from("@KfAcquireSpinLock@4")),
        ]
    );
    assert_eq!(
        result.unchecked,
        [(
            String::from("ntoskrnl.exe!KeInitializeDpc"),
            String::from("_KeInitializeDpc@12")
        )]
    );

    let mut seeded = right.clone();
    seeded[0] = map_entry("hal.dll", "_KfAcquireSpinLock@4");
    // A wrong argument size is a mismatch too (the callee pops what it was declared with).
    seeded[2] = map_entry("ntoskrnl.exe", "__alldiv@8");
    // The headers alone catch a portcls.sys routine declared fastcall.
    seeded[4] = map_entry("portcls.sys", "@PcNewPort@8");
    let result = audit_conventions(&imports, &seeded, &libraries, &headers);
    assert!(!result.passes());
    let mismatched: Vec<(&str, &str)> = result
        .mismatched
        .iter()
        .map(|compared| (compared.import.as_str(), compared.symbol.as_str()))
        .collect();
    assert_eq!(
        mismatched,
        [
            ("hal.dll!KfAcquireSpinLock", "_KfAcquireSpinLock@4"),
            ("ntoskrnl.exe!_alldiv", "__alldiv@8"),
            ("portcls.sys!PcNewPort", "@PcNewPort@8"),
        ]
    );
    let printed = result.to_string();
    for line in [
        "CONVENTION MISMATCH: hal.dll!KfAcquireSpinLock: rdmus calls _KfAcquireSpinLock@4 \
         (stdcall, 4 bytes), mingw-w64's library: @KfAcquireSpinLock@4 (fastcall, 4 bytes)",
        "CONVENTION MISMATCH: hal.dll!KfAcquireSpinLock: rdmus calls _KfAcquireSpinLock@4 \
         (stdcall, 4 bytes), mingw-w64's headers: @KfAcquireSpinLock@4 (fastcall, 4 bytes)",
        "CONVENTION MISMATCH: portcls.sys!PcNewPort: rdmus calls @PcNewPort@8 (fastcall, 8 \
         bytes), mingw-w64's headers: _PcNewPort@8 (stdcall, 8 bytes)",
    ] {
        assert!(printed.contains(line), "{printed}");
    }

    // An import the map does not name cannot be vouched for.
    let result = audit_conventions(&imports, &right[1..], &libraries, &headers);
    assert_eq!(result.not_in_map, ["hal.dll!KfAcquireSpinLock"]);
    assert!(!result.passes());
}

#[test]
fn gcc_errors_name_the_undeclared_identifiers() {
    let stderr = "x86-imports.c: In function 'rdmus_import_probe':\n\
        x86-imports.c:20:23: error: '_alldiv' undeclared (first use in this function)\n\
        x86-imports.c:21:23: error: '_aulldiv' undeclared (first use in this function)\n\
        x86-imports.c:22:5: error: 'x' redeclared as different kind of symbol\n";
    let names: Vec<String> = undeclared_names(stderr).into_iter().collect();
    assert_eq!(names, ["_alldiv", "_aulldiv"]);
    let source = header_probe_source(&["KfAcquireSpinLock", "PcNewPort"]);
    assert!(source.contains("#include <portcls.h>"));
    assert!(
        source.contains("    out[1] = (void *)&PcNewPort;\n"),
        "{source}"
    );
}

/// Compiled from mingw-w64's headers with i686-w64-mingw32-gcc: wdm.h declares
/// `KfAcquireSpinLock` (hal.dll) `FASTCALL` and `KeGetCurrentIrql` `NTAPI` on x86, portcls.h
/// declares `PcNewPort` `NTAPI`, the C runtime is `__cdecl`; `KeAcquireSpinLock` is only a
/// macro there, and the compiler's helpers are declared nowhere.
#[test]
fn the_headers_declare_the_x86_conventions_wdm_h_states() {
    let gcc = "i686-w64-mingw32-gcc";
    if !crate::cmd::available(gcc, &["--version"]) {
        println!("skipped: {gcc} is not installed");
        return;
    }
    let dir = std::env::temp_dir().join(format!("rdmus-x86-headers-{}", std::process::id()));
    let symbols = header_symbols(
        &[
            "KfAcquireSpinLock",
            "KfLowerIrql",
            "KeGetCurrentIrql",
            "KeSetTimerEx",
            "PcNewPort",
            "PcAddAdapterDevice",
            "memcpy",
            "DbgPrintEx",
            "MmUserProbeAddress",
            "_alldiv",
            "KeAcquireSpinLock",
        ],
        &dir,
    )
    .expect("the probe compiles");
    let _ = std::fs::remove_dir_all(&dir);
    let symbol = |name: &str| symbols.get(name).map(String::as_str);
    assert_eq!(symbol("KfAcquireSpinLock"), Some("@KfAcquireSpinLock@4"));
    assert_eq!(symbol("KfLowerIrql"), Some("@KfLowerIrql@4"));
    assert_eq!(symbol("KeGetCurrentIrql"), Some("_KeGetCurrentIrql@0"));
    assert_eq!(symbol("KeSetTimerEx"), Some("_KeSetTimerEx@20"));
    assert_eq!(symbol("PcNewPort"), Some("_PcNewPort@8"));
    assert_eq!(symbol("PcAddAdapterDevice"), Some("_PcAddAdapterDevice@20"));
    assert_eq!(symbol("memcpy"), Some("_memcpy"));
    assert_eq!(symbol("DbgPrintEx"), Some("_DbgPrintEx"));
    assert_eq!(symbol("MmUserProbeAddress"), Some("_MmUserProbeAddress"));
    assert_eq!(symbol("_alldiv"), None);
    assert_eq!(symbol("KeAcquireSpinLock"), None);
}

/// mingw-w64's i686 libraries decorate the routines as wdm.h declares them for x86: the
/// IRQL and spin-lock routines of hal.dll and the `Kef*`, `SList`, `Iof*` and `Obf*` routines of
/// ntoskrnl.exe `FASTCALL`, the rest `NTAPI` (`__stdcall`), the C runtime `__cdecl`; and their
/// hint/name entries are the undecorated names x86 kernels export.
#[test]
fn mingw_i686_libraries_decorate_as_wdm_h_declares() {
    let paths = x86_library_paths();
    if !paths.iter().all(|path| path.exists()) {
        println!("skipped: mingw-w64's i686 import libraries are not installed");
        return;
    }
    let libraries: Vec<ImportLibrary> = paths
        .iter()
        .map(|path| {
            let data = std::fs::read(path).expect("the library is readable");
            read_import_library(path, &data).expect("the library parses")
        })
        .collect();
    let modules: Vec<(&str, Option<Machine>)> = libraries
        .iter()
        .map(|lib| (lib.module.as_str(), lib.machine))
        .collect();
    assert_eq!(
        modules,
        [
            ("ntoskrnl.exe", Some(Machine::X86)),
            ("hal.dll", Some(Machine::X86)),
            ("ks.sys", Some(Machine::X86)),
        ]
    );
    let symbol = |module: &str, name: &str| -> String {
        libraries
            .iter()
            .find(|lib| lib.module == module)
            .and_then(|lib| lib.symbols.get(name))
            .unwrap_or_else(|| panic!("{module}!{name} is in mingw-w64's i686 library"))
            .clone()
    };
    for (module, name, convention) in [
        ("hal.dll", "KfAcquireSpinLock", Convention::Fastcall(4)),
        ("hal.dll", "KfReleaseSpinLock", Convention::Fastcall(8)),
        ("hal.dll", "KfRaiseIrql", Convention::Fastcall(4)),
        ("hal.dll", "KfLowerIrql", Convention::Fastcall(4)),
        ("hal.dll", "KeGetCurrentIrql", Convention::Stdcall(0)),
        ("hal.dll", "READ_PORT_UCHAR", Convention::Stdcall(4)),
        ("hal.dll", "WRITE_PORT_UCHAR", Convention::Stdcall(8)),
        (
            "hal.dll",
            "KeQueryPerformanceCounter",
            Convention::Stdcall(4),
        ),
        (
            "ntoskrnl.exe",
            "KefAcquireSpinLockAtDpcLevel",
            Convention::Fastcall(4),
        ),
        (
            "ntoskrnl.exe",
            "InterlockedPushEntrySList",
            Convention::Fastcall(8),
        ),
        ("ntoskrnl.exe", "IofCallDriver", Convention::Fastcall(8)),
        (
            "ntoskrnl.exe",
            "IofCompleteRequest",
            Convention::Fastcall(8),
        ),
        (
            "ntoskrnl.exe",
            "ObfDereferenceObject",
            Convention::Fastcall(4),
        ),
        ("ntoskrnl.exe", "KeInitializeDpc", Convention::Stdcall(12)),
        ("ntoskrnl.exe", "KeSetTimerEx", Convention::Stdcall(20)),
        ("ntoskrnl.exe", "_alldiv", Convention::Stdcall(16)),
        ("ntoskrnl.exe", "_aulldiv", Convention::Stdcall(16)),
        ("ntoskrnl.exe", "_aullrem", Convention::Stdcall(16)),
        ("ntoskrnl.exe", "memcpy", Convention::Plain),
        ("ntoskrnl.exe", "DbgPrintEx", Convention::Plain),
        ("ntoskrnl.exe", "MmUserProbeAddress", Convention::Plain),
    ] {
        let symbol = symbol(module, name);
        assert_eq!(
            convention_of(&symbol),
            convention,
            "{module}!{name}: {symbol}"
        );
    }
    // The compiler's helpers keep one underscore in the export name: `_alldiv`, not `alldiv`.
    assert_eq!(symbol("ntoskrnl.exe", "_alldiv"), "__alldiv@16");
    assert!(
        !libraries[0].names.contains("alldiv"),
        "x86 ntoskrnl.exe exports `_alldiv`"
    );
}
