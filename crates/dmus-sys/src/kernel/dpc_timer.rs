//! DPCs and kernel timers (wdm.h): `KDPC`, `KTIMER`, `KEVENT` and their routine types.
//!
//! Drivers never touch these fields: the kernel initialises and owns them (`KeInitializeDpc`,
//! `KeInitializeTimerEx`). They are spelled out so that the storage rdmus embeds in its objects
//! has exactly the kernel's size and alignment, and so the simulation can keep its own
//! bookkeeping in the same places.

use super::{LIST_ENTRY, PVOID, SINGLE_LIST_ENTRY};
use crate::pin_layout;

/// `PKDEFERRED_ROUTINE` (wdm.h `KDEFERRED_ROUTINE`): runs at DISPATCH_LEVEL.
pub type PKDEFERRED_ROUTINE = Option<
    unsafe extern "system" fn(
        Dpc: *mut KDPC,
        DeferredContext: PVOID,
        SystemArgument1: PVOID,
        SystemArgument2: PVOID,
    ),
>;

/// `KDPC` (wdm.h, Windows 8.1+ layout: `TargetInfoAsUlong` union, `SINGLE_LIST_ENTRY
/// DpcListEntry`, `ProcessorHistory`). Older headers (mingw-w64, ReactOS) declare a
/// `LIST_ENTRY DpcListEntry` instead of the entry + affinity pair; both occupy the same bytes, so
/// every offset after it and the size (0x20 / 0x40) agree.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KDPC {
    /// `Type`, `Importance` and `Number` (UCHAR, UCHAR, USHORT) as one ULONG.
    pub TargetInfoAsUlong: u32,
    /// Queue link.
    pub DpcListEntry: SINGLE_LIST_ENTRY,
    /// Processors the DPC last ran on.
    pub ProcessorHistory: usize,
    /// The routine.
    pub DeferredRoutine: PKDEFERRED_ROUTINE,
    /// Its context.
    pub DeferredContext: PVOID,
    /// First argument of `KeInsertQueueDpc`.
    pub SystemArgument1: PVOID,
    /// Second argument of `KeInsertQueueDpc`.
    pub SystemArgument2: PVOID,
    /// Non-null while queued.
    pub DpcData: PVOID,
}

/// `PKDPC` / `PRKDPC`.
pub type PKDPC = *mut KDPC;

pin_layout!(KDPC, "wdm.h (WDK 10; mingw-w64 ddk/wdm.h _KDPC)", size (0x20, 0x40), align (4, 8), {
    TargetInfoAsUlong: (0, 0),
    DpcListEntry: (4, 8),
    ProcessorHistory: (8, 0x10),
    DeferredRoutine: (0xc, 0x18),
    DeferredContext: (0x10, 0x20),
    SystemArgument1: (0x14, 0x28),
    SystemArgument2: (0x18, 0x30),
    DpcData: (0x1c, 0x38),
});

/// `DISPATCHER_HEADER` (wdm.h): the header of every waitable kernel object. The first ULONG is
/// a union of type/flag bytes and `LONG Lock`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DISPATCHER_HEADER {
    /// `Type`, flag bytes, or `Lock`.
    pub Lock: i32,
    /// Signal state.
    pub SignalState: i32,
    /// Waiters.
    pub WaitListHead: LIST_ENTRY,
}

pin_layout!(DISPATCHER_HEADER, "wdm.h", size (0x10, 0x18), align (4, 8), {
    Lock: (0, 0),
    SignalState: (4, 4),
    WaitListHead: (8, 8),
});

/// `TIMER_TYPE` (wdm.h).
pub type TIMER_TYPE = i32;
/// `NotificationTimer`.
pub const NotificationTimer: TIMER_TYPE = 0;
/// `SynchronizationTimer`.
pub const SynchronizationTimer: TIMER_TYPE = 1;

/// `KTIMER` (wdm.h). 64-bit targets carry a `ULONG Processor` before `Period`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KTIMER {
    /// Dispatcher header.
    pub Header: DISPATCHER_HEADER,
    /// Absolute expiry (`ULARGE_INTEGER`).
    pub DueTime: u64,
    /// Timer table link.
    pub TimerListEntry: LIST_ENTRY,
    /// DPC queued on expiry.
    pub Dpc: PKDPC,
    /// Timer table processor (64-bit only).
    #[cfg(target_pointer_width = "64")]
    pub Processor: u32,
    /// Period in ms, 0 for one-shot.
    pub Period: u32,
}

/// `PKTIMER`.
pub type PKTIMER = *mut KTIMER;

pin_layout!(KTIMER, "wdm.h (mingw-w64 ddk/wdm.h _KTIMER)", size (0x28, 0x40), align (8, 8), {
    Header: (0, 0),
    DueTime: (0x10, 0x18),
    TimerListEntry: (0x18, 0x20),
    Dpc: (0x20, 0x30),
    Period: (0x24, 0x3c),
});

/// `KEVENT` (wdm.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KEVENT {
    /// Dispatcher header.
    pub Header: DISPATCHER_HEADER,
}

pin_layout!(KEVENT, "wdm.h", size (0x10, 0x18), align (4, 8), { Header: (0, 0) });
