//! Writes `$OUT_DIR/abi_table.rs` from `abi.list`, with the same generator xtask uses for
//! the C side (crates/xtask/src/abi_list.rs).

#[path = "../xtask/src/abi_list.rs"]
#[allow(dead_code)]
mod abi_list;

fn main() {
    let list_path = std::path::Path::new(&std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"))
        .join("abi.list");
    println!("cargo::rerun-if-changed={}", list_path.display());
    println!("cargo::rerun-if-changed=../xtask/src/abi_list.rs");
    let text = std::fs::read_to_string(&list_path).expect("abi.list is readable");
    let items = abi_list::parse(&text).unwrap_or_else(|error| panic!("{error}"));
    let out = std::path::Path::new(&std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR")).join("abi_table.rs");
    std::fs::write(&out, abi_list::rust_source(&items)).expect("OUT_DIR is writable");
}
