//! The instruction audit against hand-assembled code: each state an instruction can
//! touch, seeded offending instructions named by function and address, jump tables
//! told from code, and the cases where the audit refuses to guess.

use iced_x86::{Decoder, DecoderOptions, InstructionInfoFactory};

use super::{
    CodeSection, Function, StateUse, Unreadable, audit_code, audit_image, demangle, map_functions,
    map_timestamp, state_use,
};
use crate::image::Machine;

const X86_BASE: u64 = 0x1000_0000;
const X64_BASE: u64 = 0x1_4000_0000;

/// The state the one instruction in `bytes` uses, decoded at `bitness`.
fn state_of(bitness: u32, bytes: &[u8]) -> StateUse {
    let mut decoder = Decoder::with_ip(bitness, bytes, 0, DecoderOptions::NONE);
    let instruction = decoder.decode();
    assert!(!instruction.is_invalid(), "{bytes:02x?} does not decode");
    assert_eq!(
        instruction.len(),
        bytes.len(),
        "{bytes:02x?} is one instruction"
    );
    state_use(&instruction, &mut InstructionInfoFactory::new())
}

const NONE: StateUse = StateUse {
    x87: false,
    mmx: false,
    sse: false,
    avx: false,
};
const X87: StateUse = StateUse { x87: true, ..NONE };
const MMX: StateUse = StateUse { mmx: true, ..NONE };
const SSE: StateUse = StateUse { sse: true, ..NONE };
const AVX: StateUse = StateUse { avx: true, ..NONE };

/// Encodings from the Intel SDM, volume 2 (opcode tables).
#[test]
fn each_instruction_is_classed_by_the_state_it_touches() {
    let cases: &[(u32, &[u8], StateUse, &str)] = &[
        (32, &[0x01, 0xd8], NONE, "add eax,ebx"),
        (32, &[0xf3, 0x90], NONE, "pause"),
        (32, &[0x0f, 0xae, 0xe8], NONE, "lfence"),
        (32, &[0x0f, 0xae, 0xf8], NONE, "sfence"),
        (32, &[0x0f, 0x18, 0x00], NONE, "prefetchnta [eax]"),
        (32, &[0xd9, 0x00], X87, "fld dword [eax]"),
        (32, &[0xdb, 0xe3], X87, "fninit (names no ST register)"),
        (32, &[0xd9, 0x28], X87, "fldcw [eax]"),
        (32, &[0xdf, 0xe0], X87, "fnstsw ax"),
        (32, &[0x9b], X87, "fwait"),
        (32, &[0x0f, 0x77], MMX, "emms"),
        (32, &[0x0f, 0xfe, 0xc1], MMX, "paddd mm0,mm1"),
        (32, &[0x66, 0x0f, 0xfe, 0xc1], SSE, "paddd xmm0,xmm1"),
        (32, &[0x0f, 0x57, 0xc0], SSE, "xorps xmm0,xmm0"),
        (32, &[0xf2, 0x0f, 0x10, 0x00], SSE, "movsd xmm0,[eax]"),
        (32, &[0x0f, 0xae, 0x10], SSE, "ldmxcsr [eax] (MXCSR only)"),
        (32, &[0x0f, 0xae, 0x18], SSE, "stmxcsr [eax]"),
        (
            32,
            &[0x0f, 0xae, 0x00],
            StateUse {
                x87: true,
                mmx: true,
                sse: true,
                avx: false,
            },
            "fxsave [eax]",
        ),
        (32, &[0xc5, 0xf1, 0xfe, 0xc2], AVX, "vpaddd xmm0,xmm1,xmm2"),
        (32, &[0xc5, 0xf4, 0x58, 0xc2], AVX, "vaddps ymm0,ymm1,ymm2"),
        (
            32,
            &[0xc4, 0xe2, 0x60, 0xf2, 0xc1],
            NONE,
            "andn eax,ebx,ecx (VEX, GPRs only)",
        ),
        (64, &[0x48, 0x01, 0xd8], NONE, "add rax,rbx"),
        (64, &[0x66, 0x0f, 0xfe, 0xc1], SSE, "paddd xmm0,xmm1"),
        (64, &[0x66, 0x45, 0x0f, 0xfe, 0xc1], SSE, "paddd xmm8,xmm9"),
        (64, &[0xd9, 0x00], X87, "fld dword [rax]"),
        (64, &[0x0f, 0x77], MMX, "emms"),
        (64, &[0xc5, 0xfd, 0x6f, 0x00], AVX, "vmovdqa ymm0,[rax]"),
        (
            64,
            &[0x62, 0xf1, 0x75, 0x48, 0xfe, 0xc2],
            AVX,
            "vpaddd zmm0,zmm1,zmm2 (EVEX)",
        ),
    ];
    for &(bitness, bytes, expected, name) in cases {
        assert_eq!(state_of(bitness, bytes), expected, "{name}");
    }
}

#[test]
fn each_machine_forbids_what_its_kernel_rules_say() {
    let all = StateUse {
        x87: true,
        mmx: true,
        sse: true,
        avx: true,
    };
    assert_eq!(all.forbidden_on(Machine::X86), all);
    assert_eq!(
        all.forbidden_on(Machine::Amd64),
        StateUse { sse: false, ..all }
    );
    assert!(SSE.forbidden_on(Machine::Amd64).is_none());
    assert!(all.forbidden_on(Machine::Arm64).is_none());
    assert_eq!(all.to_string(), "x87+MMX+SSE+AVX");
    assert_eq!(NONE.to_string(), "none");
}

/// [`audit_code`] on one code section at RVA 0x1000 of an image at the machine's test base.
fn audit_text(
    machine: Machine,
    text: &[u8],
    functions: &[Function],
) -> Result<super::CodeAudit, Unreadable> {
    let base = match machine {
        Machine::X86 => X86_BASE,
        Machine::Amd64 => X64_BASE,
        Machine::Arm64 => 0,
    };
    audit_code(
        machine,
        base,
        &[CodeSection {
            rva: 0x1000,
            bytes: text,
        }],
        functions,
    )
}

fn function(rva: u32, name: &str) -> Function {
    Function {
        rva,
        name: name.to_owned(),
    }
}

/// Two x86 functions at 0x1000 (clean) and 0x1010 (`paddd xmm0,xmm1` at +3), with padding.
fn x86_seeded_text() -> Vec<u8> {
    let mut text = vec![
        0x55, // push ebp
        0x89, 0xe5, // mov ebp,esp
        0x31, 0xc0, // xor eax,eax
        0x5d, // pop ebp
        0xc3, // ret
    ];
    text.resize(0x10, 0xcc);
    text.extend_from_slice(&[
        0x55, // push ebp
        0x89, 0xe5, // mov ebp,esp
        0x66, 0x0f, 0xfe, 0xc1, // paddd xmm0,xmm1
        0x5d, // pop ebp
        0xc3, // ret
    ]);
    text.resize(0x20, 0xcc);
    text
}

#[test]
fn a_seeded_sse_instruction_is_named_by_function_and_address_on_x86() {
    let text = x86_seeded_text();
    let functions = [function(0x1000, "clean"), function(0x1010, "mixer::mix")];
    let audit = audit_text(Machine::X86, &text, &functions).expect("decodes");
    assert_eq!(audit.functions, 2);
    assert_eq!(audit.findings.len(), 1, "{:?}", audit.findings);
    let finding = &audit.findings[0];
    assert_eq!(finding.rva, 0x1013);
    assert_eq!(finding.function.as_deref(), Some("mixer::mix"));
    assert_eq!(finding.offset, 3);
    assert_eq!(finding.text, "paddd xmm0,xmm1");
    assert_eq!(finding.state, SSE);
    assert_eq!(
        finding.to_string(),
        "RVA 0x1013 mixer::mix+0x3: paddd xmm0,xmm1 (SSE)"
    );
    assert_eq!(audit.count_using(|state| state.sse), 1);

    // The same function without the seeded instruction passes.
    let mut clean = text.clone();
    clean[0x13..0x17].copy_from_slice(&[0x90; 4]);
    let audit = audit_text(Machine::X86, &clean, &functions).expect("decodes");
    assert!(audit.passes(), "{:?}", audit.findings);
    assert_eq!(audit.instructions, 5 + 9 + 4 + 4 + 7);
}

#[test]
fn x64_allows_sse_and_forbids_x87_mmx_and_avx() {
    let run = |seeded: &[u8]| {
        let mut text = vec![0x55, 0x48, 0x89, 0xe5]; // push rbp; mov rbp,rsp
        text.extend_from_slice(seeded);
        text.extend_from_slice(&[0x5d, 0xc3]); // pop rbp; ret
        audit_text(Machine::Amd64, &text, &[function(0x1000, "f")]).expect("decodes")
    };
    assert!(run(&[0x66, 0x0f, 0xfe, 0xc1]).passes(), "paddd xmm0,xmm1");
    for (seeded, state, text) in [
        (&[0xd9, 0x00][..], X87, "fld dword ptr [rax]"),
        (&[0x0f, 0x77][..], MMX, "emms"),
        (&[0xc5, 0xfd, 0x6f, 0x00][..], AVX, "vmovdqa ymm0,[rax]"),
    ] {
        let audit = run(seeded);
        assert_eq!(audit.findings.len(), 1, "{text}");
        assert_eq!(audit.findings[0].rva, 0x1004, "{text}");
        assert_eq!(audit.findings[0].state, state, "{text}");
    }
    // ARM64 code is not decoded at all: nothing there is forbidden.
    let audit = audit_text(Machine::Arm64, &[0xd9, 0x00], &[]).expect("nothing to decode");
    assert_eq!(audit.instructions, 0);
}

/// An x86 switch as the position-independent i686 target compiles it: `call next; pop
/// eax` makes the base, the table after the code holds `case - base`.
fn x86_pic_switch(entries: [u32; 2]) -> Vec<u8> {
    let mut text = vec![
        0xe8, 0x00, 0x00, 0x00, 0x00, // 0x1000 call 0x1005
        0x58, // 0x1005 pop eax
        0x03, 0x04, 0x8d, 0x18, 0x10, 0x00, 0x10, // 0x1006 add eax,[0x10001018+ecx*4]
        0xff, 0xe0, // 0x100d jmp eax
        0x31, 0xc0, 0xc3, // 0x100f case 0: xor eax,eax; ret
        0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, // 0x1012 case 1: mov eax,1; ret
    ];
    for entry in entries {
        text.extend_from_slice(&entry.to_le_bytes()); // 0x1018: the table
    }
    text.extend_from_slice(&[0xcc; 8]); // padding to 0x1028
    text.extend_from_slice(&[0x31, 0xc0, 0xc3]); // 0x1028 the next function
    text
}

fn audit_switch(text: &[u8]) -> Result<super::CodeAudit, Unreadable> {
    audit_text(
        Machine::X86,
        text,
        &[function(0x1000, "switch"), function(0x1028, "next")],
    )
}

#[test]
fn a_position_independent_jump_table_is_data_not_code() {
    let audit = audit_switch(&x86_pic_switch([0x100f - 0x1005, 0x1012 - 0x1005])).expect("a table");
    assert!(audit.passes());
    assert_eq!(audit.table_bytes, 8);
    assert_eq!(audit.padding_bytes, 8);
    // 8 instructions of the switch, 2 of the next function.
    assert_eq!(audit.instructions, 8 + 2);
}

#[test]
fn an_entry_that_lands_between_instructions_is_refused() {
    // 0x1010 is the middle of `xor eax,eax`.
    let error =
        audit_switch(&x86_pic_switch([0x100f - 0x1005, 0x1010 - 0x1005])).expect_err("not a table");
    assert_eq!(
        error,
        Unreadable::UnexplainedData {
            rva: 0x101c,
            function: String::from("switch"),
        }
    );
}

/// The table of absolute entries `jmp [table+ecx*4]` reads. Its first entry's bytes
/// (`0f 10 00 10`) read as code would be `movups xmm0,[eax]`: as data they are no finding.
#[test]
fn an_absolute_jump_table_that_looks_like_sse_is_not_a_finding() {
    let mut text = vec![
        0xff, 0x24, 0x8d, 0x18, 0x10, 0x00, 0x10, // 0x1000 jmp [0x10001018+ecx*4]
        0x31, 0xc0, 0xc3, // 0x1007 case 1: xor eax,eax; ret
        0x90, 0x90, 0x90, 0x90, 0x90, // 0x100a nop (x5)
        0xb8, 0x01, 0x00, 0x00, 0x00, 0xc3, // 0x100f case 0: mov eax,1; ret
        0xcc, 0xcc, 0xcc, // 0x1015 int3 (x3)
    ];
    text.extend_from_slice(&0x1000_100f_u32.to_le_bytes());
    text.extend_from_slice(&0x1000_1007_u32.to_le_bytes());
    text.extend_from_slice(&[0xcc; 4]);
    let audit = audit_text(Machine::X86, &text, &[function(0x1000, "switch")]).expect("a table");
    assert!(audit.passes(), "{:?}", audit.findings);
    assert_eq!(audit.table_bytes, 8);
    assert_eq!(audit.count_using(|state| state.sse), 0);

    // The same bytes as code (no table read) are a finding: movups xmm0,[eax].
    let mut no_table = text;
    no_table[..7].copy_from_slice(&[0x90; 7]);
    let audit =
        audit_text(Machine::X86, &no_table, &[function(0x1000, "switch")]).expect("decodes");
    assert_eq!(audit.findings.len(), 1);
    assert_eq!(audit.findings[0].rva, 0x1018);
    assert_eq!(audit.findings[0].text, "movups xmm0,[eax]");
}

#[test]
fn undecodable_and_overlapping_bytes_fail_the_audit() {
    let audit = |text: &[u8], functions: &[Function]| audit_text(Machine::X86, text, functions);
    // 0f 04 is no instruction.
    assert_eq!(
        audit(&[0x90, 0x0f, 0x04], &[function(0x1000, "f")]),
        Err(Unreadable::Undecodable {
            rva: 0x1001,
            function: String::from("f"),
        })
    );
    // `mov eax,imm32` cut by the next function's start.
    assert_eq!(
        audit(
            &[0x90, 0xb8, 0x01, 0x00, 0x00, 0x00],
            &[function(0x1000, "f"), function(0x1003, "g")]
        ),
        Err(Unreadable::Undecodable {
            rva: 0x1001,
            function: String::from("f"),
        })
    );
    // Code before the first function of the map is audited under a name saying so.
    let error = audit(&[0x0f, 0x04, 0xc3], &[function(0x1002, "g")]).expect_err("undecodable");
    assert!(
        error.to_string().contains("before any function of the map"),
        "{error}"
    );
    // An instruction that runs into the data an earlier one reads.
    let text = [
        0x8b, 0x04, 0x8d, 0x09, 0x10, 0x00, 0x10, // 0x1000 mov eax,[0x10001009+ecx*4]
        0xb8, 0x01, 0x00, 0x00, 0x00, // 0x1007 mov eax,1: runs over 0x1009
        0xc3,
    ];
    assert_eq!(
        audit(&text, &[function(0x1000, "f")]),
        Err(Unreadable::Overlap {
            rva: 0x1007,
            function: String::from("f"),
            end: 0x1009,
        })
    );
}

/// Lines as lld-link's `/MAP` writes them (the x86 link of rdmus.sys).
const X86_MAP: &str = " rdmus

 Timestamp is 6b16185a (Mon Dec  7 02:22:18 2026)

 Preferred load address is 0000000010000000

 Start         Length     Name                   Class
 0001:00000000 000238f8H .text                   CODE

  Address         Publics by Value              Rva+Base               Lib:Object

 0001:00000000       _DriverEntry@8             0000000010001000     rdmus.rdmus.cgu.0.rcgu.o
 0001:00000340       ___CxxFrameHandler3        0000000010001340     rdmus.rdmus.cgu.0.rcgu.o
 0001:00025895       __alldiv                   0000000010026895     libdmus_sys:ntoskrnl.exe
 0001:00025895       __alldiv@16                0000000010026895     libdmus_sys:ntoskrnl.exe
 0002:00000000       __xmm@00610063006f006c006c004100780045 0000000010027000     rdmus.rdmus.cgu.0.rcgu.o

 entry point at         0001:00000000

 Static symbols

 0001:00006840       __ZN3dls5synth5voice5Voice13render_planar17h317c1be2a7e3052eE 0000000010007840     rdmus.rdmus.cgu.0.rcgu.o
 0001:0000f470       __ZN12rdmus_driver5synth10properties14synth_property17h0f551a3a0f479e53E@4 0000000010010470     rdmus.rdmus.cgu.0.rcgu.o
 0001:00000320       __RNvCsfLfy6EI15iL_7___rustc17rust_begin_unwind 0000000010001320     rdmus.rdmus.cgu.0.rcgu.o
";

#[test]
fn the_link_map_gives_every_function_in_the_code_by_its_rust_name() {
    let functions = map_functions(X86_MAP, X86_BASE, &[(0x1000, 0x268a7)], Machine::X86);
    let found: Vec<(u32, &str)> = functions
        .iter()
        .map(|function| (function.rva, function.name.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (0x1000, "DriverEntry"),
            (0x1320, "__rustc::rust_begin_unwind"),
            (0x1340, "__CxxFrameHandler3"),
            (0x7840, "dls::synth::voice::Voice::render_planar"),
            (0x10470, "rdmus_driver::synth::properties::synth_property"),
            (0x26895, "_alldiv"),
        ]
    );
    assert_eq!(map_timestamp(X86_MAP), Some(0x6b16_185a));
    assert_eq!(map_timestamp(""), None);
    // x64 symbols carry no decoration.
    assert_eq!(demangle("DriverEntry", Machine::Amd64), "DriverEntry");
    assert_eq!(
        demangle(
            "_ZN3dls5synth5voice5Voice13render_planar17h317c1be2a7e3052eE",
            Machine::Amd64
        ),
        "dls::synth::voice::Voice::render_planar"
    );
}

/// A PE32 image of one `.text` section at RVA 0x1000 (the layout of the PE/COFF
/// specification: DOS header, `PE\0\0`, file header, optional header, section table).
fn pe32_image(text: &[u8]) -> Vec<u8> {
    let mut image = vec![0u8; 0x200];
    image[..2].copy_from_slice(b"MZ");
    image[0x3c..0x40].copy_from_slice(&0x40u32.to_le_bytes());
    image[0x40..0x44].copy_from_slice(b"PE\0\0");
    let put16 = |image: &mut Vec<u8>, at: usize, value: u16| {
        image[at..at + 2].copy_from_slice(&value.to_le_bytes());
    };
    let put32 = |image: &mut Vec<u8>, at: usize, value: u32| {
        image[at..at + 4].copy_from_slice(&value.to_le_bytes());
    };
    let file_header = 0x44;
    put16(&mut image, file_header, 0x14c); // IMAGE_FILE_MACHINE_I386
    put16(&mut image, file_header + 2, 1); // one section
    put32(&mut image, file_header + 4, 0x6b16_185a); // TimeDateStamp
    put16(&mut image, file_header + 16, 0xe0); // SizeOfOptionalHeader
    put16(&mut image, file_header + 18, 0x2102); // EXECUTABLE | 32BIT | DLL
    let optional = file_header + 20;
    put16(&mut image, optional, 0x10b); // PE32
    put32(&mut image, optional + 16, 0x1000); // AddressOfEntryPoint
    put32(&mut image, optional + 28, 0x1000_0000); // ImageBase
    put32(&mut image, optional + 32, 0x1000); // SectionAlignment
    put32(&mut image, optional + 36, 0x200); // FileAlignment
    put32(&mut image, optional + 56, 0x2000); // SizeOfImage
    put32(&mut image, optional + 60, 0x200); // SizeOfHeaders
    put16(&mut image, optional + 68, 1); // IMAGE_SUBSYSTEM_NATIVE
    put32(&mut image, optional + 92, 16); // NumberOfRvaAndSizes
    let section = optional + 0xe0;
    image[section..section + 8].copy_from_slice(b".text\0\0\0");
    let length = u32::try_from(text.len()).expect("small");
    put32(&mut image, section + 8, length); // VirtualSize
    put32(&mut image, section + 12, 0x1000); // VirtualAddress
    put32(&mut image, section + 16, 0x200); // SizeOfRawData
    put32(&mut image, section + 20, 0x200); // PointerToRawData
    put32(&mut image, section + 36, 0x6000_0020); // CODE | EXECUTE | READ
    image.extend_from_slice(text);
    image.resize(0x400, 0);
    image
}

#[test]
fn an_image_with_sse_left_on_fails_and_names_the_function() {
    let map = "\
 0001:00000000       _DriverEntry@8             0000000010001000     rdmus.o
 0001:00000010       __ZN3dls5synth5voice5Voice13render_planar17h317c1be2a7e3052eE 0000000010001010     rdmus.o
";
    let seeded = audit_image(&pe32_image(&x86_seeded_text()), Machine::X86, map).expect("audits");
    assert_eq!(seeded.code.findings.len(), 1);
    let report = seeded.to_string();
    assert!(
        report.contains(
            "RVA 0x1013 dls::synth::voice::Voice::render_planar+0x3: paddd xmm0,xmm1 (SSE)"
        ),
        "{report}"
    );
    assert!(report.contains("1 forbidden"), "{report}");

    let mut clean = x86_seeded_text();
    clean[0x13..0x17].copy_from_slice(&[0x90; 4]);
    let audit = audit_image(&pe32_image(&clean), Machine::X86, map).expect("audits");
    assert!(audit.code.passes());
    assert_eq!(audit.code.functions, 2);

    // The map of this link (same timestamp) is used; another link's is refused.
    let stamped = format!(" Timestamp is 6b16185a (Mon Dec  7 02:22:18 2026)\n{map}");
    assert!(audit_image(&pe32_image(&clean), Machine::X86, &stamped).is_ok());
    let stale = stamped.replace("6b16185a", "6b16185b");
    let error = audit_image(&pe32_image(&clean), Machine::X86, &stale).expect_err("stale map");
    assert!(error.contains("another link's"), "{error}");

    // Without a map naming a function the audit cannot start.
    assert!(audit_image(&pe32_image(&clean), Machine::X86, "").is_err());
    // And a PE32+ parse of a PE32 image is refused, not guessed.
    assert!(audit_image(&pe32_image(&clean), Machine::Amd64, map).is_err());
}
