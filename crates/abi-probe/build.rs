//! Writes `$OUT_DIR/abi_table.rs` from `abi.list` (or the list `RDMUS_ABI_LIST` names: a
//! test's seeded list), with the same generator xtask uses for the C side
//! (`crates/xtask/src/abi_list.rs`), so the two tables cannot drift apart.

#[path = "../xtask/src/abi_list.rs"]
#[allow(dead_code)]
mod abi_list;

use std::path::PathBuf;

fn main() {
    println!("cargo::rerun-if-env-changed=RDMUS_ABI_LIST");
    println!("cargo::rerun-if-changed=../xtask/src/abi_list.rs");
    let list_path = match std::env::var_os("RDMUS_ABI_LIST") {
        Some(path) if !path.is_empty() => PathBuf::from(path),
        _ => PathBuf::from(
            std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"),
        )
        .join("abi.list"),
    };
    println!("cargo::rerun-if-changed={}", list_path.display());
    let text = std::fs::read_to_string(&list_path)
        .unwrap_or_else(|error| panic!("could not read {}: {error}", list_path.display()));
    let items = abi_list::parse(&text).unwrap_or_else(|error| panic!("{error}"));
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("abi_table.rs");
    std::fs::write(&out, abi_list::rust_source(&items)).expect("OUT_DIR is writable");
}
