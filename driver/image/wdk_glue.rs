//! The `wdk` feature on a Windows host with the WDK: windows-drivers-rs's
//! allocator, panic handler and debug printing replace rdmus's own, and every
//! kernel type rdmus shares with wdk-sys is checked to have the same size and
//! alignment at compile time. Built only on Windows (README); the Linux build
//! never compiles this file.

use core::mem::{align_of, size_of};

// wdk-panic's handler bugchecks with its `RPNC` code; linking the crate installs it.
use wdk_panic as _;

/// windows-drivers-rs's pool allocator (note: it does not honour alignments
/// above the pool's; rdmus's own `PoolAllocator` does).
#[global_allocator]
static GLOBAL_ALLOCATOR: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;

/// Fails to compile unless `$ours` and `$theirs` have the same size and alignment.
macro_rules! same_layout {
    ($($ours:ty => $theirs:ty),* $(,)?) => {
        $(
            const _: () = assert!(size_of::<$ours>() == size_of::<$theirs>(), stringify!($ours));
            const _: () = assert!(align_of::<$ours>() == align_of::<$theirs>(), stringify!($ours));
        )*
    };
}

same_layout!(
    dmus_sys::kernel::UNICODE_STRING => wdk_sys::UNICODE_STRING,
    dmus_sys::kernel::LARGE_INTEGER => wdk_sys::LARGE_INTEGER,
    dmus_sys::kernel::LIST_ENTRY => wdk_sys::LIST_ENTRY,
    dmus_sys::kernel::DRIVER_OBJECT => wdk_sys::DRIVER_OBJECT,
    dmus_sys::kernel::DRIVER_EXTENSION => wdk_sys::DRIVER_EXTENSION,
    dmus_sys::kernel::DEVICE_OBJECT => wdk_sys::DEVICE_OBJECT,
    dmus_sys::kernel::KDPC => wdk_sys::KDPC,
    dmus_sys::kernel::KTIMER => wdk_sys::KTIMER,
    dmus_sys::kernel::KEVENT => wdk_sys::KEVENT,
    dmus_sys::kernel::KSPIN_LOCK => wdk_sys::KSPIN_LOCK,
    dmus_sys::kernel::NPAGED_LOOKASIDE_LIST => wdk_sys::NPAGED_LOOKASIDE_LIST,
    dmus_sys::kernel::SLIST_HEADER => wdk_sys::SLIST_HEADER,
    dmus_sys::kernel::CM_PARTIAL_RESOURCE_DESCRIPTOR => wdk_sys::CM_PARTIAL_RESOURCE_DESCRIPTOR,
    dmus_sys::kernel::CM_RESOURCE_LIST => wdk_sys::CM_RESOURCE_LIST,
    dmus_sys::kernel::SLIST_ENTRY => wdk_sys::SLIST_ENTRY,
    dmus_sys::kernel::DISPATCHER_HEADER => wdk_sys::DISPATCHER_HEADER,
    dmus_sys::kernel::KDEVICE_QUEUE => wdk_sys::KDEVICE_QUEUE,
    dmus_sys::kernel::GENERAL_LOOKASIDE => wdk_sys::GENERAL_LOOKASIDE,
    dmus_sys::kernel::DEVICE_CAPABILITIES => wdk_sys::DEVICE_CAPABILITIES,
    dmus_sys::kernel::EXT_SET_PARAMETERS => wdk_sys::EXT_SET_PARAMETERS,
    dmus_sys::kernel::EXT_DELETE_PARAMETERS => wdk_sys::EXT_DELETE_PARAMETERS,
    dmus_sys::kernel::SINGLE_LIST_ENTRY => wdk_sys::SINGLE_LIST_ENTRY,
    dmus_sys::kernel::POWER_STATE => wdk_sys::POWER_STATE,
    dmus_sys::kernel::CM_PARTIAL_RESOURCE_LIST => wdk_sys::CM_PARTIAL_RESOURCE_LIST,
    dmus_sys::kernel::CM_FULL_RESOURCE_DESCRIPTOR => wdk_sys::CM_FULL_RESOURCE_DESCRIPTOR,
);
// Opaque in dmus-sys (only ever behind a pointer), so not compared: IRP,
// OBJECT_ATTRIBUTES, KINTERRUPT, IO_WORKITEM, EX_TIMER, EXT_CANCEL_PARAMETERS.

// XSTATE_SAVE exists for x86 and x64 only (dmus-sys gates it the same way).
#[cfg(target_arch = "x86_64")]
same_layout!(
    dmus_sys::kernel::XSTATE_SAVE => wdk_sys::XSTATE_SAVE,
    dmus_sys::kernel::XSTATE_CONTEXT => wdk_sys::XSTATE_CONTEXT,
);
