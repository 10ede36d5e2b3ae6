//! The ABI test's comparison, list parsing and generated sources, and a seeded mismatch
//! through the real compilers (when mingw-w64 is installed).

use super::{
    APT_INSTALL, KNOWN, TARGETS, Value, check_target, compare, missing_tool_message, parse_known,
};
use crate::abi_list::{self, Kind, parse};
use crate::cmd;

const SEEDED_LIST: &str = "\
size KSMUSICFORMAT dmusic::KSMUSICFORMAT
offset KSMUSICFORMAT.TimeDeltaMs dmusic::KSMUSICFORMAT.TimeDeltaMs
# seeded: dmus-sys's side names the wrong field, as a wrong offset in dmus-sys would read
offset KSMUSICFORMAT.ByteCount dmusic::KSMUSICFORMAT.TimeDeltaMs
guid KSDATAFORMAT_TYPE_MUSIC ks_guids::KSDATAFORMAT_TYPE_MUSIC
";

#[test]
fn the_list_parses_and_both_sides_come_from_the_same_items() {
    let items = parse(SEEDED_LIST).expect("the seeded list parses");
    assert_eq!(items.len(), 4);
    assert_eq!(items[2].kind, Kind::Offset);
    assert_eq!(items[2].name(), "offset KSMUSICFORMAT.ByteCount");
    let c = abi_list::c_source(&items, "#include <x.h>\n");
    assert!(c.contains("offsetof(KSMUSICFORMAT, ByteCount), /* abi.list:4 */"));
    assert!(c.contains("#ifdef STATIC_KSDATAFORMAT_TYPE_MUSIC"));
    let rust = abi_list::rust_source(&items);
    assert!(rust.contains("pub static rdmus_abi_values: [u64; 3]"));
    assert!(rust.contains(
        "::core::mem::offset_of!(::dmus_sys::dmusic::KSMUSICFORMAT, TimeDeltaMs) as u64, // abi.list:4"
    ));
    assert!(rust.contains("[::dmus_sys::GUID; 1]"));
}

#[test]
fn malformed_lines_are_refused_with_their_line_number() {
    let error = parse("size A a::A\noffset A a::A.x\n").expect_err("offset needs a member");
    assert_eq!(error.line, 2);
    let error = parse("sizes A a::A\n").expect_err("unknown kind");
    assert_eq!(error.line, 1);
}

#[test]
fn the_real_list_and_known_differences_parse() {
    let items = super::load_list().expect("abi.list parses");
    assert!(items.len() > 900, "abi.list has {} items", items.len());
    let known = parse_known(KNOWN).expect("abi_known.txt parses");
    for entry in &known {
        assert!(
            items.iter().any(|item| item.name() == entry.item),
            "abi_known.txt names {}, which is not in abi.list",
            entry.item
        );
    }
}

#[test]
fn a_seeded_wrong_offset_is_reported_by_name() {
    let items = parse(SEEDED_LIST).expect("the seeded list parses");
    let guid = Value::Guid([7; 16]);
    let c = [Value::Int(8), Value::Int(0), Value::Int(4), guid];
    let rust = [Value::Int(8), Value::Int(0), Value::Int(0), guid];
    let comparison = compare("x86_64", &items, &c, &rust, &[]);
    assert!(!comparison.passes());
    assert_eq!(comparison.equal, 3);
    assert_eq!(
        comparison.mismatches,
        vec![(
            String::from("offset KSMUSICFORMAT.ByteCount"),
            Value::Int(4),
            Value::Int(0)
        )]
    );
    assert!(
        comparison.to_string().contains(
            "MISMATCH: offset KSMUSICFORMAT.ByteCount: mingw-w64 4 (0x4), dmus-sys 0 (0x0)"
        )
    );
}

#[test]
fn a_known_difference_passes_only_for_its_target_and_only_while_it_occurs() {
    let items = parse(SEEDED_LIST).expect("the seeded list parses");
    let known =
        parse_known("i686 | offset KSMUSICFORMAT.ByteCount | a header defect, for the test\n")
            .expect("parses");
    let guid = Value::Guid([7; 16]);
    let differing = [Value::Int(8), Value::Int(0), Value::Int(4), guid];
    let equal = [Value::Int(8), Value::Int(0), Value::Int(0), guid];
    let same = [Value::Int(8), Value::Int(0), Value::Int(0), guid];

    let listed = compare("i686", &items, &differing, &same, &known);
    assert!(listed.passes(), "{listed}");
    assert_eq!(listed.known.len(), 1);

    let other_target = compare("x86_64", &items, &differing, &same, &known);
    assert_eq!(other_target.mismatches.len(), 1);

    let stale = compare("i686", &items, &equal, &same, &known);
    assert!(!stale.passes());
    assert_eq!(
        stale.stale,
        vec![String::from("offset KSMUSICFORMAT.ByteCount")]
    );
}

#[test]
fn known_lines_need_a_target_and_a_reason() {
    assert!(parse_known("x86 | size A | why\n").is_err());
    assert!(parse_known("both | size A |\n").is_err());
    assert!(parse_known("both | size A\n").is_err());
}

#[test]
fn a_missing_compiler_names_the_apt_command() {
    let message = missing_tool_message("x86_64-w64-mingw32-gcc");
    assert!(message.contains("x86_64-w64-mingw32-gcc is missing"));
    assert!(message.contains("sudo apt-get install mingw-w64"));
    assert_eq!(APT_INSTALL, "sudo apt-get install mingw-w64");
}

/// The seeded list through the real compilers: gcc for the C side, rustc (abi-probe built
/// from the seeded list, in its own target directory) for dmus-sys's. The wrong offset is
/// reported by name with both compiled values.
#[test]
fn a_seeded_wrong_offset_is_reported_through_the_real_compilers() {
    let target = TARGETS[0];
    if !cmd::available(&target.gcc(), &["--version"]) {
        println!("skipped: {}", missing_tool_message(&target.gcc()));
        return;
    }
    let dir = cmd::target_dir().join("abi-seeded");
    std::fs::create_dir_all(&dir).expect("target/abi-seeded can be created");
    let list = dir.join("seeded.list");
    std::fs::write(&list, SEEDED_LIST).expect("the seeded list can be written");
    let items = parse(SEEDED_LIST).expect("the seeded list parses");
    let comparison = check_target(
        target,
        &items,
        &[],
        &dir,
        Some(&list),
        Some(&dir.join("cargo")),
    )
    .expect("both sides compile");
    println!("{comparison}");
    assert_eq!(comparison.equal, 3, "{comparison}");
    assert_eq!(
        comparison.mismatches,
        vec![(
            String::from("offset KSMUSICFORMAT.ByteCount"),
            Value::Int(4),
            Value::Int(0)
        )]
    );
}

#[test]
fn an_item_of_one_target_is_zero_and_skipped_on_the_other() {
    let items = parse(
        "offset@x86_64 KTIMER.Processor kernel::KTIMER.Processor\n\
         size KTIMER kernel::KTIMER\n",
    )
    .expect("parses");
    assert_eq!(items[0].only, Some(abi_list::Target::X86_64));
    let c = items[0].c_expression().expect("a value item");
    assert!(c.contains("#if defined(_WIN64)") && c.contains("#else\n    0\n#endif"));
    let rust = items[0].rust_expression().expect("a value item");
    assert!(rust.contains("#[cfg(not(target_arch = \"x86_64\"))]"));
    // On i686 the C side holds 0 and so does dmus-sys's; neither is compared.
    let i686 = compare(
        "i686",
        &items,
        &[Value::Int(0), Value::Int(40)],
        &[Value::Int(0), Value::Int(40)],
        &[],
    );
    assert_eq!((i686.equal, i686.other_target), (1, 1));
    let x86_64 = compare(
        "x86_64",
        &items,
        &[Value::Int(0x24), Value::Int(64)],
        &[Value::Int(0x20), Value::Int(64)],
        &[],
    );
    assert_eq!(x86_64.mismatches.len(), 1);
    assert!(parse("guid@i686 IID_X a::IID_X\n").is_err());
    assert!(parse("offset@arm64 A.b a::A.b\n").is_err());
}
