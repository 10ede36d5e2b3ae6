//! The bench copy of the packaged x64 rdmus.sys (`cargo xtask package` first; skipped, saying
//! so, without it): exactly the three documented ranges differ, the copy imports its kernel
//! names from wineshim.sys, and the checksum routine agrees with the shipped image's own.

use std::path::PathBuf;

use object::read::pe::PeFile64;
use wine_run::shim::{SHIM_MODULE, checksum_offset, pe_checksum, rewrite};

fn packaged() -> Option<Vec<u8>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/package/x64/rdmus.sys");
    let bytes = std::fs::read(&path).ok();
    if bytes.is_none() {
        eprintln!(
            "skipped: {} is absent (cargo xtask package)",
            path.display()
        );
    }
    bytes
}

fn import_modules(image: &[u8]) -> Vec<String> {
    let file = PeFile64::parse(image).unwrap();
    let table = file.import_table().unwrap().unwrap();
    let mut descriptors = table.descriptors().unwrap();
    let mut modules = Vec::new();
    while let Some(descriptor) = descriptors.next().unwrap() {
        let name = table
            .name(descriptor.name.get(object::LittleEndian))
            .unwrap();
        modules.push(String::from_utf8_lossy(name).to_ascii_lowercase());
    }
    modules
}

#[test]
fn only_the_documented_bytes_change_and_the_kernel_imports_name_the_shim() {
    let Some(image) = packaged() else { return };
    let field = checksum_offset(&image).unwrap();
    let stored = u32::from_le_bytes(image[field..field + 4].try_into().unwrap());
    assert_eq!(
        pe_checksum(&image, field),
        stored,
        "the shipped checksum, recomputed"
    );

    let shimmed = rewrite(&image).expect("rewrites");
    assert_eq!(shimmed.bytes.len(), image.len());
    let differing: Vec<usize> = (0..image.len())
        .filter(|&i| image[i] != shimmed.bytes[i])
        .collect();
    assert_eq!(shimmed.changes.len(), 3);
    for offset in &differing {
        assert!(
            shimmed
                .changes
                .iter()
                .any(|c| (c.offset..c.offset + c.after.len()).contains(offset)),
            "byte {offset:#x} changed outside the documented ranges"
        );
    }
    let mut modules = import_modules(&shimmed.bytes);
    modules.sort();
    assert_eq!(modules, ["portcls.sys", SHIM_MODULE, SHIM_MODULE]);
    let mut original = import_modules(&image);
    original.sort();
    assert_eq!(original, ["hal.dll", "ntoskrnl.exe", "portcls.sys"]);
    assert!(
        shimmed
            .kernel_imports
            .iter()
            .any(|(module, name)| module == "hal.dll" && name == "KeStallExecutionProcessor")
    );
    let new_field = u32::from_le_bytes(shimmed.bytes[field..field + 4].try_into().unwrap());
    assert_eq!(new_field, pe_checksum(&shimmed.bytes, field));
}
