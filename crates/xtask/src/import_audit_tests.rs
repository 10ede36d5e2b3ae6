//! The import audit against the kept list and, when mingw-w64 is installed, its real
//! import libraries, with a seeded import that no list names.

use std::path::Path;

use super::{
    Confirmation, KERNEL_EXPORTS, WINE_PE_DIR, WINE_STUBS, WineModule, audit, audit_wine,
    parse_kept, read_import_library, read_libraries, wine_modules, x64_library_paths,
    x86_library_paths,
};
use crate::image::{ImportedFunction, Machine};

fn import(module: &str, name: &str) -> ImportedFunction {
    ImportedFunction {
        module: module.to_owned(),
        name: name.to_owned(),
    }
}

#[test]
fn the_kept_list_parses_and_every_line_has_a_source() {
    let kept = parse_kept(KERNEL_EXPORTS).expect("kernel_exports.txt parses");
    assert!(kept.iter().any(|entry| entry.name == "PcNewPort"));
    assert!(
        !kept.iter().any(|entry| entry.name == "ExAllocatePool2"),
        "resolved at run time, never imported"
    );
    assert!(
        parse_kept("ntoskrnl.exe | ExAllocatePool2 | x64 | https://example.invalid\n").is_err(),
        "an x64 kernel import must come from mingw-w64's lists"
    );
    assert!(
        parse_kept("hal.dll | KfAcquireSpinLock | x86 | https://example.invalid\n").is_err(),
        "so must an x86 one"
    );
    assert!(kept.iter().all(|entry| !entry.source.is_empty()));
    assert!(parse_kept("ntoskrnl.exe | X | x64 |\n").is_err());
    assert!(parse_kept("ntoskrnl.exe | X | mips | https://example.invalid\n").is_err());
}

#[test]
fn a_seeded_import_absent_from_every_list_is_reported_by_name() {
    let kept = parse_kept(KERNEL_EXPORTS).expect("kernel_exports.txt parses");
    let imports = [
        import("portcls.sys", "PcNewPort"),
        import("ntoskrnl.exe", "RdmusSeededNoSuchExport"),
    ];
    for machine in [Machine::Amd64, Machine::Arm64, Machine::X86] {
        let result = audit(machine, &imports, &[], &kept);
        assert!(!result.passes());
        assert_eq!(
            result.unconfirmed,
            vec![String::from("ntoskrnl.exe!RdmusSeededNoSuchExport")]
        );
        assert!(result.to_string().contains(
            "UNCONFIRMED: ntoskrnl.exe!RdmusSeededNoSuchExport is in no mingw-w64 import library"
        ));
        assert!(matches!(result.confirmed[0].1, Confirmation::Kept(_)));
    }
}

#[test]
fn an_arm64_import_is_not_confirmed_by_an_x64_only_line() {
    let kept =
        parse_kept("portcls.sys | OnlyX64 | x64 | https://example.invalid\n").expect("parses");
    let imports = [import("portcls.sys", "OnlyX64")];
    assert!(audit(Machine::Amd64, &imports, &[], &kept).passes());
    assert!(!audit(Machine::Arm64, &imports, &[], &kept).passes());
}

/// The real mingw-w64 libraries name their DLL and confirm the x64 imports they list; the
/// seeded name is still reported, for x64 and ARM64 alike.
#[test]
fn mingw_libraries_confirm_x64_imports_and_a_seeded_one_still_fails() {
    let paths = x64_library_paths();
    if !paths.iter().all(|path| path.exists()) {
        println!(
            "skipped: mingw-w64's import libraries are not installed (sudo apt-get install mingw-w64)"
        );
        return;
    }
    let libraries: Vec<_> = paths
        .iter()
        .map(|path| {
            let data = std::fs::read(path).expect("the library is readable");
            read_import_library(path, &data).expect("the library parses")
        })
        .collect();
    let modules: Vec<&str> = libraries.iter().map(|lib| lib.module.as_str()).collect();
    assert_eq!(modules, ["ntoskrnl.exe", "hal.dll", "ks.sys"]);
    let kept = parse_kept(KERNEL_EXPORTS).expect("kernel_exports.txt parses");
    let imports = [
        import("ntoskrnl.exe", "KeSetTimerEx"),
        import("HAL.dll", "KeStallExecutionProcessor"),
        import("ntoskrnl.exe", "RdmusSeededNoSuchExport"),
    ];
    let result = audit(Machine::Amd64, &imports, &libraries, &kept);
    assert_eq!(
        result.confirmed[0].1,
        Confirmation::MingwLibrary(
            Path::new("/usr/x86_64-w64-mingw32/lib/libntoskrnl.a").to_path_buf()
        )
    );
    assert_eq!(
        result.confirmed[1].1,
        Confirmation::MingwLibrary(Path::new("/usr/x86_64-w64-mingw32/lib/libhal.a").to_path_buf())
    );
    assert_eq!(
        result.unconfirmed,
        vec![String::from("ntoskrnl.exe!RdmusSeededNoSuchExport")]
    );
}

fn wine_module(module: &str, exports: &[&str], stubs: &[&str]) -> WineModule {
    WineModule {
        module: module.to_owned(),
        exports: exports.iter().map(|name| (*name).to_owned()).collect(),
        stubs: stubs.iter().map(|name| (*name).to_owned()).collect(),
    }
}

#[test]
fn the_wine_audit_sorts_exports_known_stubs_unknown_stubs_and_missing_names() {
    let modules = [
        wine_module(
            "ntoskrnl.exe",
            &["KeSetTimerEx", "KeRemoveQueueDpc", "KeInsertQueueDpc"],
            &["KeRemoveQueueDpc", "KeInsertQueueDpc"],
        ),
        wine_module("hal.dll", &["KeQueryPerformanceCounter"], &[]),
    ];
    let imports = [
        import("ntoskrnl.exe", "KeSetTimerEx"),
        import("ntoskrnl.exe", "KeRemoveQueueDpc"),
        import("ntoskrnl.exe", "KeInsertQueueDpc"),
        import("ntoskrnl.exe", "ExAllocatePool2"),
        import("HAL.dll", "KeQueryPerformanceCounter"),
        import("portcls.sys", "PcNewPort"),
    ];
    let result = audit_wine(&imports, &modules);
    assert_eq!(
        result.exported,
        [
            "ntoskrnl.exe!KeSetTimerEx",
            "HAL.dll!KeQueryPerformanceCounter"
        ]
    );
    assert_eq!(result.known_stubs.len(), 1);
    assert_eq!(result.known_stubs[0].0, "ntoskrnl.exe!KeRemoveQueueDpc");
    assert_eq!(result.unknown_stubs, ["ntoskrnl.exe!KeInsertQueueDpc"]);
    assert_eq!(result.missing, ["ntoskrnl.exe!ExAllocatePool2"]);
    assert!(!result.passes());
}

#[test]
fn wine_exports_the_routines_its_stub_list_names_and_stubs_them() {
    let Some(modules) = wine_modules().expect("Wine's modules read") else {
        eprintln!("skipped: wine64 is not installed ({WINE_PE_DIR})");
        return;
    };
    let ntoskrnl = &modules[0];
    assert!(ntoskrnl.exports.contains("MmGetSystemRoutineAddress"));
    assert!(ntoskrnl.exports.contains("ExAllocatePoolWithTag"));
    for name in ["ExAllocatePool2", "ExAllocateTimer", "MmCopyMemory"] {
        assert!(!ntoskrnl.exports.contains(name), "Wine 8.0 lacks {name}");
    }
    for (name, _) in WINE_STUBS {
        let module = modules
            .iter()
            .find(|module| module.exports.contains(*name))
            .unwrap_or_else(|| panic!("{name} is exported by Wine's ntoskrnl or hal"));
        assert!(module.stubs.contains(*name), "{name} is a stub in Wine");
    }
}

/// The i686 libraries confirm the x86 names (their decorated symbols mapped to the export
/// names through each member's hint/name entry), never an x64 library's names, and a seeded
/// name still fails.
#[test]
fn mingw_i686_libraries_confirm_x86_imports_by_export_name_and_a_seeded_one_still_fails() {
    let x86 = x86_library_paths();
    let x64 = x64_library_paths();
    if !x86.iter().chain(&x64).all(|path| path.exists()) {
        println!("skipped: mingw-w64's import libraries are not installed");
        return;
    }
    let libraries = read_libraries(&x86).expect("the i686 libraries parse");
    let x64_libraries = read_libraries(&x64).expect("the x64 libraries parse");
    let kept = parse_kept(KERNEL_EXPORTS).expect("kernel_exports.txt parses");
    let imports = [
        import("hal.dll", "KfAcquireSpinLock"),
        import("ntoskrnl.exe", "_aulldiv"),
        import("ntoskrnl.exe", "KeSetTimerEx"),
        import("portcls.sys", "PcNewPort"),
        import("ntoskrnl.exe", "RdmusSeededNoSuchExport"),
        // The decorated symbol is not an export name.
        import("hal.dll", "@KfAcquireSpinLock@4"),
    ];
    let result = audit(Machine::X86, &imports, &libraries, &kept);
    assert_eq!(
        result.confirmed[0].1,
        Confirmation::MingwLibrary(Path::new("/usr/i686-w64-mingw32/lib/libhal.a").to_path_buf())
    );
    assert_eq!(
        result.confirmed[1].1,
        Confirmation::MingwLibrary(
            Path::new("/usr/i686-w64-mingw32/lib/libntoskrnl.a").to_path_buf()
        )
    );
    assert!(matches!(result.confirmed[3].1, Confirmation::Kept(_)));
    assert_eq!(
        result.unconfirmed,
        [
            "ntoskrnl.exe!RdmusSeededNoSuchExport",
            "hal.dll!@KfAcquireSpinLock@4"
        ]
    );
    // x64's libraries do not vouch for an x86 image (x64 hal.dll has no KfAcquireSpinLock).
    let result = audit(Machine::X86, &imports[..3], &x64_libraries, &kept);
    assert_eq!(result.unconfirmed.len(), 3, "{result}");
}
