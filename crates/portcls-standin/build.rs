//! The link step of the stand-in portcls.sys: for the `*-windows-msvc` targets
//! only (the host build of the crate, for its unit tests, is untouched), as
//! the root package's build.rs does for rdmus.sys.
//!
//! The stand-in is a module Wine loads as a dependency of rdmus.sys inside
//! winedevice.exe. Its entry point is `DllMain`: a native-subsystem module
//! that imports from ntdll.dll is initialised by Wine's loader as a DLL (issue
//! 14's trial), and the stand-in does import from ntdll (the vectored
//! exception handler that emulates the MPU-401's port I/O).
//! - `/SUBSYSTEM:NATIVE`: a kernel-mode module, like the portcls.sys it stands in for;
//! - `/ENTRY:DllMain`: no CRT startup;
//! - `/NODEFAULTLIB`: every import comes from raw-dylib declarations;
//! - `/OPT:REF,ICF`, `/MANIFEST:NO`: as for rdmus.sys.

const LINK_ARGS: &[&str] = &[
    "/SUBSYSTEM:NATIVE",
    "/ENTRY:DllMain",
    "/NODEFAULTLIB",
    "/OPT:REF,ICF",
    "/MANIFEST:NO",
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let target = std::env::var("TARGET").unwrap_or_default();
    if target.ends_with("-windows-msvc") {
        for arg in LINK_ARGS {
            println!("cargo:rustc-cdylib-link-arg={arg}");
        }
    }
}
