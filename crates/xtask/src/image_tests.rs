//! The image check against hand-made PE images, each broken in one way.

use super::{Machine, Violation, check, machine_of, pe_checksum};

/// What to put in a hand-made image. `good()` is a valid minimal driver.
#[derive(Clone)]
struct Spec {
    machine: u16,
    magic: u16,
    subsystem: u16,
    /// RVA of the entry point; `DriverEntry` is exported at `DRIVER_ENTRY`.
    entry: u32,
    import_module: &'static str,
    import_name: &'static str,
    text_characteristics: u32,
    export_driver_entry: bool,
    write_checksum: bool,
    /// Lay the image out as PE32 (x86) rather than PE32+.
    pe32: bool,
    /// The type of the one base relocation; `None`: no relocation directory.
    relocation: Option<u16>,
}

const DRIVER_ENTRY: u32 = 0x1000;
const OTHER_FUNCTION: u32 = 0x1010;
const TEXT: u32 = 0x6000_0020; // CODE | EXECUTE | READ
const RDATA: u32 = 0x4000_0040; // INITIALIZED_DATA | READ

impl Spec {
    fn good() -> Self {
        Self {
            machine: 0x8664,
            magic: 0x20b,
            subsystem: 1,
            entry: DRIVER_ENTRY,
            import_module: "ntoskrnl.exe",
            import_name: "KeBugCheckEx",
            text_characteristics: TEXT,
            export_driver_entry: true,
            write_checksum: true,
            pe32: false,
            relocation: Some(10), // IMAGE_REL_BASED_DIR64
        }
    }

    fn good_x86() -> Self {
        Self {
            machine: 0x14c,
            magic: 0x10b,
            pe32: true,
            relocation: Some(3), // IMAGE_REL_BASED_HIGHLOW
            ..Self::good()
        }
    }

    /// Lays out headers at 0, `.text` at RVA 0x1000 / file 0x200 and
    /// `.rdata` (export, import and base relocation tables) at RVA 0x2000 / file 0x400.
    fn build(&self) -> Vec<u8> {
        let mut image = vec![0u8; 0x600];
        put(&mut image, 0, b"MZ");
        put_u32(&mut image, 0x3c, 0x40);
        put(&mut image, 0x40, b"PE\0\0");
        // IMAGE_FILE_HEADER
        let file_header = 0x44;
        put_u16(&mut image, file_header, self.machine);
        put_u16(&mut image, file_header + 2, 2);
        // IMAGE_OPTIONAL_HEADER32 is 224 bytes (a 4-byte ImageBase, BaseOfData and
        // 4-byte stack/heap sizes), IMAGE_OPTIONAL_HEADER64 240.
        let optional_size: u16 = if self.pe32 { 224 } else { 240 };
        put_u16(&mut image, file_header + 16, optional_size);
        // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE, or | 32BIT_MACHINE for PE32.
        put_u16(
            &mut image,
            file_header + 18,
            if self.pe32 { 0x0122 } else { 0x0022 },
        );
        let optional = file_header + 20;
        put_u16(&mut image, optional, self.magic);
        put_u32(&mut image, optional + 4, 0x200);
        put_u32(&mut image, optional + 8, 0x200);
        put_u32(&mut image, optional + 16, self.entry);
        put_u32(&mut image, optional + 20, 0x1000);
        if self.pe32 {
            put_u32(&mut image, optional + 28, 0x1000_0000);
        } else {
            put_u64(&mut image, optional + 24, 0x1_4000_0000);
        }
        put_u32(&mut image, optional + 32, 0x1000);
        put_u32(&mut image, optional + 36, 0x200);
        put_u16(&mut image, optional + 40, 10);
        put_u16(&mut image, optional + 48, 10);
        put_u32(&mut image, optional + 56, 0x3000);
        put_u32(&mut image, optional + 60, 0x200);
        put_u16(&mut image, optional + 68, self.subsystem);
        put_u16(&mut image, optional + 70, 0x01e0);
        let directories = if self.pe32 {
            put_u32(&mut image, optional + 92, 16);
            optional + 96
        } else {
            put_u32(&mut image, optional + 108, 16);
            optional + 112
        };
        if self.export_driver_entry {
            put_u32(&mut image, directories, 0x2000);
            put_u32(&mut image, directories + 4, 0x90);
        }
        put_u32(&mut image, directories + 8, 0x2100);
        put_u32(&mut image, directories + 12, 40);
        put_u32(&mut image, directories + 12 * 8, 0x2160);
        put_u32(&mut image, directories + 12 * 8 + 4, 16);
        // Section table.
        if self.relocation.is_some() {
            put_u32(&mut image, directories + 5 * 8, 0x21e0);
            put_u32(&mut image, directories + 5 * 8 + 4, 12);
        }
        let sections = optional + usize::from(optional_size);
        section(
            &mut image,
            sections,
            *b".text\0\0\0",
            0x1000,
            0x200,
            self.text_characteristics,
        );
        section(
            &mut image,
            sections + 40,
            *b".rdata\0\0",
            0x2000,
            0x400,
            RDATA,
        );
        // .text: two `ret`s.
        image[0x200] = 0xc3;
        image[0x210] = 0xc3;
        self.write_rdata(&mut image);
        if self.write_checksum {
            let checksum = pe_checksum(&image);
            put_u32(&mut image, optional + 64, checksum);
        }
        image
    }

    /// `.rdata`: the export directory, one import descriptor and one base relocation block.
    fn write_rdata(&self, image: &mut [u8]) {
        // .rdata: file offset = RVA - 0x2000 + 0x400.
        let at = |rva: u32| usize::try_from(rva - 0x2000 + 0x400).unwrap();
        put_u32(image, at(0x200c), 0x2080); // Name
        put_u32(image, at(0x2010), 1); // Base
        put_u32(image, at(0x2014), 1); // NumberOfFunctions
        put_u32(image, at(0x2018), 1); // NumberOfNames
        put_u32(image, at(0x201c), 0x2028); // AddressOfFunctions
        put_u32(image, at(0x2020), 0x202c); // AddressOfNames
        put_u32(image, at(0x2024), 0x2030); // AddressOfNameOrdinals
        put_u32(image, at(0x2028), DRIVER_ENTRY);
        put_u32(image, at(0x202c), 0x2040);
        put(image, at(0x2040), b"DriverEntry\0");
        put(image, at(0x2080), b"rdmus.sys\0");
        // One import descriptor and the null terminator.
        put_u32(image, at(0x2100), 0x2140); // OriginalFirstThunk
        put_u32(image, at(0x210c), 0x2180); // Name
        put_u32(image, at(0x2110), 0x2160); // FirstThunk
        if self.pe32 {
            put_u32(image, at(0x2140), 0x21a0);
            put_u32(image, at(0x2160), 0x21a0);
        } else {
            put_u64(image, at(0x2140), 0x21a0);
            put_u64(image, at(0x2160), 0x21a0);
        }
        put(image, at(0x2180), self.import_module.as_bytes());
        put(image, at(0x21a2), self.import_name.as_bytes());
        // One base relocation block for the page of .text: the entry, then ABSOLUTE padding.
        if let Some(typ) = self.relocation {
            put_u32(image, at(0x21e0), 0x1000);
            put_u32(image, at(0x21e4), 12);
            put_u16(image, at(0x21e8), (typ << 12) | 0x008);
        }
    }
}

fn put(image: &mut [u8], offset: usize, bytes: &[u8]) {
    image[offset..offset + bytes.len()].copy_from_slice(bytes);
}

fn put_u16(image: &mut [u8], offset: usize, value: u16) {
    put(image, offset, &value.to_le_bytes());
}

fn put_u32(image: &mut [u8], offset: usize, value: u32) {
    put(image, offset, &value.to_le_bytes());
}

fn put_u64(image: &mut [u8], offset: usize, value: u64) {
    put(image, offset, &value.to_le_bytes());
}

fn section(image: &mut [u8], at: usize, name: [u8; 8], rva: u32, file: u32, characteristics: u32) {
    put(image, at, &name);
    put_u32(image, at + 8, 0x200);
    put_u32(image, at + 12, rva);
    put_u32(image, at + 16, 0x200);
    put_u32(image, at + 20, file);
    put_u32(image, at + 36, characteristics);
}

fn violations(spec: &Spec, machine: Machine) -> Vec<Violation> {
    check(&spec.build(), machine)
        .expect_err("the image must fail the check")
        .0
}

#[test]
fn a_minimal_driver_passes_and_reports_its_imports() {
    let image = Spec::good().build();
    let report = check(&image, Machine::Amd64).expect("a well-formed driver image");
    assert_eq!(report.machine, Machine::Amd64);
    assert_eq!(report.file_size, 0x600);
    assert_eq!(report.size_of_image, 0x3000);
    assert_eq!(report.entry_rva, DRIVER_ENTRY);
    assert_eq!(report.signature_size, 0);
    assert_eq!(report.imports.len(), 1);
    assert_eq!(report.imports[0].module, "ntoskrnl.exe");
    assert_eq!(report.imports[0].name, "KeBugCheckEx");
    let printed = report.to_string();
    assert!(printed.contains("ntoskrnl.exe!KeBugCheckEx"), "{printed}");
    assert!(printed.contains("unsigned"), "{printed}");
    assert_eq!(machine_of(&image), Some(Machine::Amd64));
}

#[test]
fn module_names_are_compared_without_case() {
    let spec = Spec {
        import_module: "NTOSKRNL.EXE",
        ..Spec::good()
    };
    assert!(check(&spec.build(), Machine::Amd64).is_ok());
}

#[test]
fn the_wrong_machine_fails() {
    let spec = Spec::good();
    assert_eq!(
        violations(&spec, Machine::Arm64),
        vec![Violation::WrongMachine {
            expected: Machine::Arm64,
            found: 0x8664
        }]
    );
}

#[test]
fn a_pe32_image_fails() {
    let spec = Spec {
        magic: 0x10b,
        ..Spec::good()
    };
    let found = violations(&spec, Machine::Amd64);
    assert_eq!(found.len(), 1);
    assert!(
        matches!(
            found[0],
            Violation::NotPe {
                format: "PE32+",
                ..
            }
        ),
        "{found:?}"
    );
}

#[test]
fn a_console_subsystem_fails() {
    let spec = Spec {
        subsystem: 3,
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::NotNativeSubsystem(3)]
    );
}

#[test]
fn an_entry_point_other_than_driver_entry_fails() {
    let spec = Spec {
        entry: OTHER_FUNCTION,
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::EntryNotDriverEntry {
            entry_rva: OTHER_FUNCTION,
            driver_entry_rva: DRIVER_ENTRY
        }]
    );
}

#[test]
fn a_missing_driver_entry_fails() {
    let spec = Spec {
        export_driver_entry: false,
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::NoDriverEntry]
    );
}

#[test]
fn a_user_mode_import_fails() {
    let spec = Spec {
        import_module: "KERNEL32.dll",
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::ForeignImport(String::from("KERNEL32.dll"))]
    );
}

#[test]
fn an_image_that_needs_a_stack_probe_fails_and_says_how_to_find_the_function() {
    let spec = Spec {
        import_name: "__chkstk",
        ..Spec::good()
    };
    let found = violations(&spec, Machine::Amd64);
    assert_eq!(
        found,
        vec![Violation::StackProbeImport(String::from("ntoskrnl.exe"))]
    );
    let message = super::ImageError(found).to_string();
    assert!(message.contains("__chkstk"), "{message}");
    assert!(
        message.contains("a function has a frame over 4 KiB"),
        "{message}"
    );
    assert!(message.contains("llvm-objdump"), "{message}");
}

#[test]
fn only_the_stack_probe_itself_is_refused() {
    // A name that merely contains it is some other function.
    let spec = Spec {
        import_name: "__chkstk_other",
        ..Spec::good()
    };
    let report = check(&spec.build(), Machine::Amd64).expect("not the stack probe");
    assert_eq!(report.imports[0].name, "__chkstk_other");
}

#[test]
fn a_writable_code_section_fails() {
    let spec = Spec {
        text_characteristics: TEXT | 0x8000_0000,
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::WritableExecutable(String::from(".text"))]
    );
}

#[test]
fn a_missing_checksum_fails() {
    let spec = Spec {
        write_checksum: false,
        ..Spec::good()
    };
    let found = violations(&spec, Machine::Amd64);
    assert_eq!(found.len(), 1);
    assert!(
        matches!(found[0], Violation::BadChecksum { stored: 0, .. }),
        "{found:?}"
    );
}

#[test]
fn every_violation_is_reported_at_once() {
    let spec = Spec {
        subsystem: 2,
        entry: OTHER_FUNCTION,
        import_module: "user32.dll",
        import_name: "__chkstk",
        text_characteristics: TEXT | 0x8000_0000,
        ..Spec::good()
    };
    let found = violations(&spec, Machine::Arm64);
    assert_eq!(found.len(), 6, "{found:?}");
    let message = super::ImageError(found).to_string();
    assert!(message.contains("user32.dll"), "{message}");
    assert!(message.contains("subsystem is 2"), "{message}");
}

#[test]
fn a_host_executable_fails() {
    // The test binary itself: ELF on Linux, a console PE on Windows; neither
    // is a native driver.
    let path = std::env::current_exe().expect("the test binary's path");
    let data = std::fs::read(path).expect("the test binary");
    assert!(check(&data, Machine::Amd64).is_err());
}

#[test]
fn truncated_and_empty_files_fail_without_panicking() {
    let image = Spec::good().build();
    for length in [0, 2, 0x40, 0x100, 0x1ff, 0x400, 0x5ff] {
        assert!(
            check(&image[..length], Machine::Amd64).is_err(),
            "length {length}"
        );
    }
}

#[test]
fn the_checksum_folds_carries_and_adds_the_length() {
    // e_lfanew points past the end, so no word is skipped as the checksum field.
    let mut data = vec![0u8; 0x40];
    put_u32(&mut data, 0x3c, 0x1000);
    data[0] = 0xff;
    data[1] = 0xff;
    data[2] = 0x02;
    // 0xffff + 0x0002 + 0x1000 (the e_lfanew word) = 0x11001 -> fold -> 0x1002.
    assert_eq!(pe_checksum(&data), 0x1002 + 0x40);
    // An odd length pads the last byte with zero.
    data.push(0x01);
    assert_eq!(pe_checksum(&data), 0x1003 + 0x41);
}

#[test]
fn an_x86_pe32_driver_passes_and_a_pe32_plus_one_does_not() {
    let image = Spec::good_x86().build();
    let report = check(&image, Machine::X86).expect("a well-formed x86 driver image");
    assert_eq!(report.machine, Machine::X86);
    assert_eq!(report.imports[0].name, "KeBugCheckEx");
    assert!(
        report.to_string().starts_with("x86 PE32 native driver"),
        "{report}"
    );
    assert_eq!(machine_of(&image), Some(Machine::X86));
    let found = violations(&Spec::good(), Machine::X86);
    assert!(
        matches!(found[..], [Violation::NotPe { format: "PE32", .. }]),
        "{found:?}"
    );
    // An x86 image is not an x64 one either.
    let found = violations(&Spec::good_x86(), Machine::Amd64);
    assert!(
        matches!(
            found[..],
            [Violation::NotPe {
                format: "PE32+",
                ..
            }]
        ),
        "{found:?}"
    );
}

#[test]
fn an_image_without_base_relocations_fails() {
    for (spec, machine) in [
        (Spec::good(), Machine::Amd64),
        (Spec::good_x86(), Machine::X86),
    ] {
        let spec = Spec {
            relocation: None,
            ..spec
        };
        let found = violations(&spec, machine);
        assert!(
            matches!(found[..], [Violation::NoRelocations(_)]),
            "{machine}: {found:?}"
        );
    }
}

#[test]
fn a_relocation_of_the_other_width_fails() {
    // A 64-bit DIR64 fixup in an x86 image (and HIGHLOW in an x64 one) patches the wrong
    // number of bytes when the kernel relocates the driver.
    let spec = Spec {
        relocation: Some(10),
        ..Spec::good_x86()
    };
    assert_eq!(
        violations(&spec, Machine::X86),
        vec![Violation::WrongRelocationType {
            rva: 0x1008,
            found: 10,
            expected: 3
        }]
    );
    let spec = Spec {
        relocation: Some(3),
        ..Spec::good()
    };
    assert_eq!(
        violations(&spec, Machine::Amd64),
        vec![Violation::WrongRelocationType {
            rva: 0x1008,
            found: 3,
            expected: 10
        }]
    );
}
