//! The link script of `rdmus.sys`: the build script of the root package, whose
//! one target is the image's cdylib (`driver/image/`); the driver's code is the
//! `rdmus-driver` library it links.
//!
//! Two ways to link `rdmus.sys`:
//! - with the `wdk` feature on a Windows host with the WDK installed,
//!   windows-drivers-rs's `wdk-build` configures everything (link flags,
//!   libraries, the `driver_model__driver_type` cfg that wdk-alloc and
//!   wdk-panic read);
//! - otherwise, on any host, rustc writes the import tables itself
//!   (`raw-dylib` in dmus-sys) and the bundled `rust-lld` links the image with
//!   the kernel-driver flags emitted here. They are emitted only for
//!   `*-windows-msvc` targets, so the host build of the package (which the
//!   tests in tests/ come with) is untouched.

/// Linker flags that make lld-link produce a kernel-mode driver image. Each is
/// a documented MSVC `link.exe` option that lld-link implements:
/// - `/DRIVER`: a kernel-mode driver image;
/// - `/SUBSYSTEM:NATIVE`: loaded by the kernel, not by the Win32 loader;
/// - `/ENTRY:DriverEntry`: no CRT startup routine (there is no CRT in the kernel);
/// - `/NODEFAULTLIB`: no CRT or user-mode libraries; every import comes from
///   the raw-dylib declarations (ntoskrnl.exe, hal.dll, portcls.sys, ks.sys);
/// - `/INTEGRITYCHECK`: sets `FORCE_INTEGRITY`, so code integrity always checks
///   the signature;
/// - `/RELEASE`: writes the header checksum, which the loader checks for drivers;
/// - `/OPT:REF,ICF`: drops unreferenced code and folds identical functions;
/// - `/MANIFEST:NO`: a manifest means nothing to a .sys.
const KERNEL_DRIVER_LINK_ARGS: &[&str] = &[
    "/DRIVER",
    "/SUBSYSTEM:NATIVE",
    "/ENTRY:DriverEntry",
    "/NODEFAULTLIB",
    "/INTEGRITYCHECK",
    "/RELEASE",
    "/OPT:REF,ICF",
    "/MANIFEST:NO",
];

/// x86 only: the 64-bit arithmetic helpers LLVM calls on i686-pc-windows-msvc, as
/// `(the symbol the compiler's call names, the import dmus-sys declares)`. The
/// calls name the plain C symbol (`__aulldiv`); the raw-dylib declaration is
/// `__stdcall`, as the helpers are (the callee pops the two 8-byte operands),
/// so its symbol is decorated (`__aulldiv@16`). `/ALTERNATENAME:FROM=TO`
/// resolves `FROM` to `TO` when nothing defines `FROM`: each call reaches the
/// import of ntoskrnl.exe's `_aulldiv` (dmus-sys `imports::ntoskrnl`). Only
/// the helpers the code calls get imported (the linker pulls an import on use).
const X86_ARITHMETIC_HELPERS: &[(&str, &str)] = &[
    ("__alldiv", "__alldiv@16"),
    ("__aulldiv", "__aulldiv@16"),
    ("__allrem", "__allrem@16"),
    ("__aullrem", "__aullrem@16"),
    ("__allmul", "__allmul@16"),
];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let wdk = std::env::var_os("CARGO_FEATURE_WDK").is_some();
    let target = std::env::var("TARGET").unwrap_or_default();

    if wdk {
        configure_wdk_build();
    } else if target.ends_with("-windows-msvc") {
        for arg in KERNEL_DRIVER_LINK_ARGS {
            println!("cargo:rustc-cdylib-link-arg={arg}");
        }
        // The map (`deps/rdmus.map`) lists every function (publics and static symbols):
        // the instruction audit decodes the image function by function from it. On x86
        // it also names every import by its decorated symbol (`_KeInitializeDpc@12`,
        // `@KfAcquireSpinLock@4`): the import audit compares those calling conventions
        // with mingw-w64's i686 import libraries.
        println!("cargo:rustc-cdylib-link-arg=/MAP");
        if target.starts_with("i686-") {
            for (called, imported) in X86_ARITHMETIC_HELPERS {
                println!("cargo:rustc-cdylib-link-arg=/ALTERNATENAME:{called}={imported}");
            }
        }
    }
}

/// The windows-drivers-rs flow owns the link entirely on a WDK host.
#[cfg(all(windows, feature = "wdk"))]
fn configure_wdk_build() {
    if let Err(error) = wdk_build::configure_wdk_binary_build() {
        panic!("wdk-build could not configure the build (is the WDK installed?): {error:?}");
    }
}

/// Without a Windows host there is no WDK: say so instead of failing obscurely.
#[cfg(not(all(windows, feature = "wdk")))]
fn configure_wdk_build() {
    panic!(
        "the `wdk` feature builds only on a Windows host with the WDK installed; \
         on this host build without it (`cargo xtask package`)"
    );
}
