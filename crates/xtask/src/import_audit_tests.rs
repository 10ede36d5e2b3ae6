//! The import audit against the kept list and, when mingw-w64 is installed, its real
//! import libraries, with a seeded import that no list names.

use std::path::Path;

use super::{
    Confirmation, KERNEL_EXPORTS, audit, parse_kept, read_import_library, x64_library_paths,
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
    assert!(kept.iter().any(|entry| entry.name == "ExAllocatePool2"));
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
    for machine in [Machine::Amd64, Machine::Arm64] {
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
        parse_kept("ntoskrnl.exe | OnlyX64 | x64 | https://example.invalid\n").expect("parses");
    let imports = [import("ntoskrnl.exe", "OnlyX64")];
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
