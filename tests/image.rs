//! The driver package and its INF, checked from the outside.
//!
//! - The INF's KS interfaces name exactly the subdevices `StartDevice` registers.
//! - Each package `cargo xtask package` built (`<target>/package/{x64,arm64}`)
//!   holds an image that passes the image check for its machine and an INF
//!   stamped for its architecture. `cargo xtask test` packages before it runs
//!   the tests; run on its own without a package, this test says it skipped.

use std::path::PathBuf;

use rdmus_driver::ALL_SUBDEVICES;
use rdmus_driver::SubdeviceKind;
use xtask::image::{self, Machine};

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

#[test]
fn each_built_package_passes_the_image_check() {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    let mut checked = 0;
    for machine in [Machine::Amd64, Machine::Arm64] {
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
