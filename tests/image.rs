//! The driver package and its INF, checked from the outside.
//!
//! - The INF's KS interfaces name exactly the subdevices `StartDevice` registers.
//! - Each package `cargo xtask package` built (`<target>/package/{x64,arm64,x86}`)
//!   holds an image that passes the image check for its machine and an INF
//!   stamped for its architecture. `cargo xtask test` packages before it runs
//!   the tests; run on its own without a package, this test says it skipped.
//! - The x86 image calls every kernel routine with the convention wdm.h declares
//!   for x86 (as mingw-w64's i686 import libraries record it), and imports the
//!   compiler's 64-bit division helpers from ntoskrnl.exe.

use std::path::PathBuf;

use rdmus_driver::ALL_SUBDEVICES;
use rdmus_driver::SubdeviceKind;
use xtask::image::{self, Machine};
use xtask::import_audit::{self, conventions};

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn inx() -> String {
    std::fs::read_to_string(workspace_root().join("inf").join("rdmus.inx")).expect("inf/rdmus.inx")
}

/// The value of `key = "value"` in the INX's [Strings].
fn string_value(inx: &str, key: &str) -> Option<String> {
    inx.lines().find_map(|line| {
        let (name, value) = line.split_once('=')?;
        (name.trim() == key).then(|| value.trim().trim_matches('"').to_owned())
    })
}

#[test]
fn the_inf_registers_every_subdevice_under_its_ks_name() {
    let inx = inx();
    for kind in ALL_SUBDEVICES {
        let key = format!("KSNAME_{}", kind.ks_name());
        assert_eq!(
            string_value(&inx, &key).as_deref(),
            Some(kind.ks_name()),
            "[Strings] {key} must equal the name StartDevice registers"
        );
        let mut categories: Vec<String> = inx
            .lines()
            .filter_map(|line| {
                let (name, value) = line.split_once('=')?;
                if name.trim() != "AddInterface" {
                    return None;
                }
                let mut fields = value.split(',').map(str::trim);
                let category = fields.next()?;
                (fields.next()? == format!("%{key}%")).then(|| category.to_owned())
            })
            .collect();
        categories.sort();
        // The clients' expectations (issue 12): the UART renders and captures; the synth is a
        // software synth with a wave pin, registered as ddksynth.inf registers one
        // (DATATRANSFORM + SYNTHESIZER + AUDIO, never RENDER, which is for hardware synths).
        let expected: &[&str] = match kind {
            SubdeviceKind::Uart => &[
                "%KSCATEGORY_AUDIO%",
                "%KSCATEGORY_CAPTURE%",
                "%KSCATEGORY_RENDER%",
            ],
            SubdeviceKind::Synth => &[
                "%KSCATEGORY_AUDIO%",
                "%KSCATEGORY_DATATRANSFORM%",
                "%KSCATEGORY_SYNTHESIZER%",
            ],
        };
        assert_eq!(
            categories, expected,
            "{key}: the interface categories the INF registers"
        );
    }
    // The hardware IDs each reach the install section of their subdevice.
    assert!(inx.contains("rdmus_Synth, ROOT\\rdmus"));
    assert!(inx.contains("rdmus_Mpu, *PNPB006"));
    assert_eq!(SubdeviceKind::Uart.ks_name(), "UART");
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

#[test]
fn each_built_package_passes_the_image_check() {
    let target = target_dir();
    let mut checked = 0;
    for machine in [Machine::Amd64, Machine::Arm64, Machine::X86] {
        let dir = target.join("package").join(machine.package_dir());
        let sys = dir.join("rdmus.sys");
        let Ok(data) = std::fs::read(&sys) else {
            println!(
                "skipped {}: not built (run `cargo xtask package`)",
                sys.display()
            );
            continue;
        };
        let report = image::check(&data, machine)
            .unwrap_or_else(|error| panic!("{}: {error}", sys.display()));
        assert!(
            report
                .imports
                .iter()
                .any(|import| import.name == "PcInitializeAdapterDriver"),
            "DriverEntry hands the driver to PortCls: {report}"
        );
        // A package with the test certificate carries an embedded signature.
        assert_eq!(
            report.signature_size > 0,
            dir.join("rdmus.cer").exists(),
            "{}: signed exactly when rdmus.cer is shipped",
            sys.display()
        );
        let inf = std::fs::read_to_string(dir.join("rdmus.inf"))
            .expect("a stamped rdmus.inf beside rdmus.sys");
        assert!(
            inf.contains(&format!("NT{}.10.0...19041", machine.inf_arch())),
            "{machine}"
        );
        assert!(!inf.contains("$ARCH$"));
        assert!(!inf.contains("01/01/1970"), "DriverVer is stamped");
        checked += 1;
    }
    println!("checked {checked} package(s)");
}

/// wdm.h declares the x86 spin-lock and IRQL routines `FASTCALL` (`KeAcquireSpinLock` is a
/// macro over hal.dll's `KfAcquireSpinLock` there) and the rest `NTAPI`; a wrong convention
/// links and loads and then corrupts the stack. The packaged x86 image's link map must give
/// every import the decoration mingw-w64's i686 libraries give it.
#[test]
fn the_x86_image_calls_the_kernel_with_wdm_h_conventions() {
    let target = target_dir();
    let sys = target.join("package").join("x86").join("rdmus.sys");
    let map = target
        .join("package")
        .join("link-maps")
        .join("rdmus-x86.map");
    let (Ok(data), Ok(map)) = (std::fs::read(&sys), std::fs::read_to_string(&map)) else {
        println!("skipped: no x86 package (run `cargo xtask package`)");
        return;
    };
    let paths = import_audit::x86_library_paths();
    if !paths.iter().all(|path| path.exists()) {
        println!("skipped: mingw-w64's i686 import libraries are not installed");
        return;
    }
    let libraries = import_audit::read_libraries(&paths).expect("mingw-w64's i686 libraries");
    let report = image::check(&data, Machine::X86).unwrap_or_else(|error| panic!("{error}"));
    let names: Vec<&str> = report
        .imports
        .iter()
        .map(|import| import.name.as_str())
        .collect();
    let dir = std::env::temp_dir().join(format!("rdmus-image-test-{}", std::process::id()));
    let headers = conventions::header_symbols(&names, &dir).expect("the header probe compiles");
    let _ = std::fs::remove_dir_all(&dir);
    let result = conventions::audit_conventions(
        &report.imports,
        &conventions::map_imports(&map),
        &libraries,
        &headers,
    );
    assert!(result.passes(), "{result}");
    let symbol_of = |name: &str| {
        result
            .matched
            .iter()
            .find(|compared| compared.import.ends_with(&format!("!{name}")))
            .map(|compared| compared.symbol.as_str())
    };
    // The spin lock of every stream: wdm.h's x86 KeAcquireSpinLock.
    assert_eq!(symbol_of("KfAcquireSpinLock"), Some("@KfAcquireSpinLock@4"));
    assert_eq!(symbol_of("KfReleaseSpinLock"), Some("@KfReleaseSpinLock@8"));
    // The compiler's u64 division (the synth's envelopes and timing) comes from ntoskrnl.exe.
    assert_eq!(symbol_of("_aulldiv"), Some("__aulldiv@16"));
    // Every import is vouched for by mingw-w64's library or headers (portcls.sys: by
    // portcls.h; the compiler's helpers: by libntoskrnl.a).
    assert!(result.unchecked.is_empty(), "{result}");

    // The routines dmus-sys declares for x86 but the image does not import today (the IRQL
    // routines, the DPC-level spin locks, the SLists) are checked from the raw-dylib import
    // members rustc put in dmus-sys's rlib, which the map names.
    let deps = target
        .join("i686-pc-windows-msvc")
        .join("release")
        .join("deps");
    let mut declared = Vec::new();
    for archive in conventions::map_import_archives(&map) {
        let rlib =
            std::fs::read(deps.join(format!("{archive}.rlib"))).expect("the rlib the map names");
        declared.extend(conventions::archive_declarations(&rlib).expect("an archive"));
    }
    let (functions, symbols): (Vec<_>, Vec<_>) = declared.into_iter().unzip();
    let names: Vec<&str> = functions
        .iter()
        .map(|function| function.name.as_str())
        .collect();
    let dir = std::env::temp_dir().join(format!("rdmus-image-test-decl-{}", std::process::id()));
    let headers = conventions::header_symbols(&names, &dir).expect("the header probe compiles");
    let _ = std::fs::remove_dir_all(&dir);
    let declarations = conventions::audit_conventions(&functions, &symbols, &libraries, &headers);
    assert!(declarations.passes(), "{declarations}");
    for (name, symbol) in [
        ("KfRaiseIrql", "@KfRaiseIrql@4"),
        ("KfLowerIrql", "@KfLowerIrql@4"),
        (
            "KefAcquireSpinLockAtDpcLevel",
            "@KefAcquireSpinLockAtDpcLevel@4",
        ),
        ("InterlockedPushEntrySList", "@InterlockedPushEntrySList@8"),
        ("ExInterlockedFlushSList", "@ExInterlockedFlushSList@4"),
    ] {
        assert!(
            declarations
                .matched
                .iter()
                .any(|compared| compared.import.ends_with(&format!("!{name}"))
                    && compared.symbol == symbol),
            "{name} is declared {symbol}: {declarations}"
        );
    }
}

/// The kernel's floating-point rules on the shipped code (`crates/xtask/src/instruction_audit.rs`):
/// the x86 image touches no x87, MMX, SSE or AVX state (`noimplicitfloat`, `.cargo/config.toml`),
/// the x64 image no x87, MMX or AVX state. `cargo xtask test` runs the same audit as a step.
#[test]
fn each_built_image_keeps_the_kernels_floating_point_rules() {
    use xtask::instruction_audit;

    let target = target_dir();
    for machine in [Machine::Amd64, Machine::X86] {
        let sys = target
            .join("package")
            .join(machine.package_dir())
            .join("rdmus.sys");
        let map = target
            .join("package")
            .join("link-maps")
            .join(format!("rdmus-{}.map", machine.package_dir()));
        let (Ok(data), Ok(map)) = (std::fs::read(&sys), std::fs::read_to_string(&map)) else {
            println!("skipped {machine}: no package with its link map (run `cargo xtask package`)");
            continue;
        };
        let audit = instruction_audit::audit_image(&data, machine, &map)
            .unwrap_or_else(|error| panic!("{}: {error}", sys.display()));
        assert!(audit.code.passes(), "{audit}");
        // The whole driver was decoded, not a stub of it.
        assert!(audit.code.functions > 100, "{audit}");
        assert!(audit.code.instructions > 20_000, "{audit}");
        if machine == Machine::X86 {
            assert_eq!(
                audit.code.count_using(|state| !state.is_none()),
                0,
                "{audit}"
            );
        }
        println!("{audit}");
    }
}
