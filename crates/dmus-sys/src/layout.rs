//! Compile-time layout pinning.
//!
//! [`pin_layout!`] asserts a type's size, alignment and field offsets for the
//! 32-bit (x86) and 64-bit (x64, ARM64) Windows ABIs. The assertions are
//! `const`, so they are checked on every build: on the host (x86_64, the
//! 64-bit column), and when cross-building each Windows target (`cargo check
//! --target i686-pc-windows-msvc` checks the 32-bit column). The invocation
//! names the header it was checked against.

/// Pins `size`, `align` and field offsets: `(x86, x64/arm64)` for each.
///
/// ```ignore
/// pin_layout!(KSMUSICFORMAT, "ksmedia.h", size (8, 8), align (4, 4), {
///     TimeDeltaMs: (0, 0),
///     ByteCount: (4, 4),
/// });
/// ```
#[macro_export]
macro_rules! pin_layout {
    ($ty:ty, $header:literal, size ($s32:expr, $s64:expr), align ($a32:expr, $a64:expr), {
        $($field:ident : ($o32:expr, $o64:expr)),* $(,)?
    }) => {
        const _: () = {
            #[cfg(target_pointer_width = "32")]
            const W: usize = 0;
            #[cfg(target_pointer_width = "64")]
            const W: usize = 1;
            let size = [$s32, $s64];
            let align = [$a32, $a64];
            assert!(
                ::core::mem::size_of::<$ty>() == size[W],
                concat!("size of ", stringify!($ty), " differs from ", $header)
            );
            assert!(
                ::core::mem::align_of::<$ty>() == align[W],
                concat!("alignment of ", stringify!($ty), " differs from ", $header)
            );
            $(
                let off = [$o32, $o64];
                assert!(
                    ::core::mem::offset_of!($ty, $field) == off[W],
                    concat!("offset of ", stringify!($ty), "::", stringify!($field), " differs from ", $header)
                );
            )*
        };
    };
}
