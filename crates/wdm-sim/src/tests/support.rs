//! Safe wrappers over the exported kernel functions for the tests, a recording DPC, object
//! storage, and a test `IResourceList` with the MPU-401's interrupt.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;

use dmus_sys::com::{IUnknown, IUnknownVtbl};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    BOOLEAN, CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
    CM_PARTIAL_RESOURCE_INTERRUPT, CM_RESOURCE_TYPE, CmResourceTypeInterrupt, FALSE, KDPC,
    KSPIN_LOCK, KTIMER, NTSTATUS, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PCM_RESOURCE_LIST,
    PKDEFERRED_ROUTINE, PVOID, STATUS_NOT_IMPLEMENTED, TRUE,
};
use dmus_sys::portcls::{IResourceList, IResourceListVtbl};

use crate::exports::{dpc_timer, hal, sync};

/// A pool tag for tests.
pub const TAG: u32 = u32::from_le_bytes(*b"Test");

/// 256 bytes of 64-byte-aligned storage for a kernel object the tests own.
#[repr(C, align(64))]
pub struct Storage([u8; 256]);

/// Boxed storage; the pointer stays put while the box lives.
pub fn storage() -> Box<Storage> {
    Box::new(Storage([0; 256]))
}

impl Storage {
    /// The storage as a `T`.
    pub fn as_ptr<T>(&mut self) -> *mut T {
        self.0.as_mut_ptr().cast()
    }
}

/// What a test routine saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// Who.
    pub what: &'static str,
    /// When (ticks).
    pub at: u64,
    /// At which IRQL.
    pub irql: u8,
}

std::thread_local! {
    static SEEN: RefCell<Vec<Seen>> = const { RefCell::new(Vec::new()) };
}

/// Records `what` with the current time and IRQL.
pub fn see(what: &'static str) {
    let seen = Seen {
        what,
        at: now(),
        irql: irql(),
    };
    SEEN.with(|s| s.borrow_mut().push(seen));
}

/// Takes what was seen.
pub fn seen() -> Vec<Seen> {
    SEEN.with(|s| core::mem::take(&mut *s.borrow_mut()))
}

/// A DPC routine that records itself and then stalls for `DeferredContext` microseconds.
pub unsafe extern "system" fn recording_dpc(
    _dpc: *mut KDPC,
    context: PVOID,
    _a1: PVOID,
    _a2: PVOID,
) {
    see("dpc");
    stall(u32::try_from(context as usize).unwrap_or(0));
}

/// The virtual clock.
pub fn now() -> u64 {
    // SAFETY: NULL is allowed for the QPC out-parameter.
    unsafe { dpc_timer::KeQueryInterruptTimePrecise(core::ptr::null_mut()) }
}

/// The IRQL.
pub fn irql() -> u8 {
    // SAFETY: no arguments.
    unsafe { sync::KeGetCurrentIrql() }
}

/// `KfRaiseIrql`.
pub fn raise(to: u8) -> u8 {
    // SAFETY: no pointers.
    unsafe { sync::KfRaiseIrql(to) }
}

/// `KeLowerIrql`.
pub fn lower(to: u8) {
    // SAFETY: no pointers.
    unsafe { sync::KeLowerIrql(to) }
}

/// `KeStallExecutionProcessor`.
pub fn stall(us: u32) {
    // SAFETY: no pointers.
    unsafe { hal::KeStallExecutionProcessor(us) }
}

/// `READ_PORT_UCHAR`.
pub fn inb(port: usize) -> u8 {
    // SAFETY: an I/O port address, never dereferenced.
    unsafe { hal::READ_PORT_UCHAR(port as *mut u8) }
}

/// `WRITE_PORT_UCHAR`.
pub fn outb(port: usize, value: u8) {
    // SAFETY: an I/O port address, never dereferenced.
    unsafe { hal::WRITE_PORT_UCHAR(port as *mut u8, value) }
}

/// `KeInitializeDpc` on test storage.
pub fn init_dpc(dpc: *mut KDPC, routine: PKDEFERRED_ROUTINE, context: usize) {
    // SAFETY: `dpc` points to live test storage.
    unsafe { dpc_timer::KeInitializeDpc(dpc, routine, context as PVOID) }
}

/// `KeInsertQueueDpc`.
pub fn insert_dpc(dpc: *mut KDPC) -> bool {
    // SAFETY: `dpc` points to live test storage.
    unsafe {
        dpc_timer::KeInsertQueueDpc(dpc, core::ptr::null_mut(), core::ptr::null_mut()) == TRUE
    }
}

/// `KeInitializeTimerEx` (notification timer).
pub fn init_timer(timer: *mut KTIMER) {
    // SAFETY: `timer` points to live test storage.
    unsafe { dpc_timer::KeInitializeTimerEx(timer, 0) }
}

/// `KeSetTimerEx`.
pub fn set_timer(timer: *mut KTIMER, due: i64, period_ms: i32, dpc: *mut KDPC) -> bool {
    // SAFETY: `timer` and `dpc` point to live test storage (or `dpc` is NULL).
    unsafe {
        dpc_timer::KeSetTimerEx(
            timer,
            dmus_sys::kernel::LARGE_INTEGER::from_quad(due),
            period_ms,
            dpc,
        ) == TRUE
    }
}

/// `KeCancelTimer`.
pub fn cancel_timer(timer: *mut KTIMER) -> bool {
    // SAFETY: `timer` points to live test storage.
    unsafe { dpc_timer::KeCancelTimer(timer) == TRUE }
}

/// `KeAcquireSpinLockRaiseToDpc`.
pub fn acquire(lock: &mut KSPIN_LOCK) -> u8 {
    // SAFETY: a live lock word.
    unsafe { sync::KeAcquireSpinLockRaiseToDpc(lock) }
}

/// `KeReleaseSpinLock`.
pub fn release(lock: &mut KSPIN_LOCK, irql: u8) {
    // SAFETY: a live lock word.
    unsafe { sync::KeReleaseSpinLock(lock, irql) }
}

/// Booleans as the kernel spells them.
pub const fn boolean(b: bool) -> BOOLEAN {
    if b { TRUE } else { FALSE }
}

/// A minimal `IResourceList` holding one interrupt (raw IRQ and translated DIRQL/vector).
#[repr(C)]
pub struct TestResources {
    interface: IResourceList,
    translated: CM_PARTIAL_RESOURCE_DESCRIPTOR,
    raw: CM_PARTIAL_RESOURCE_DESCRIPTOR,
}

fn interrupt_descriptor(level: u32, vector: u32) -> CM_PARTIAL_RESOURCE_DESCRIPTOR {
    CM_PARTIAL_RESOURCE_DESCRIPTOR {
        Type: CmResourceTypeInterrupt,
        ShareDisposition: 1,
        Flags: 1,
        u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
            Interrupt: CM_PARTIAL_RESOURCE_INTERRUPT {
                Level: level,
                Vector: vector,
                Affinity: 1,
            },
        },
    }
}

impl TestResources {
    /// The list for an ISA `irq` delivered at `dirql`, boxed so its address stays put.
    #[allow(
        clippy::unnecessary_box_returns,
        reason = "the driver and the sim hold its address"
    )]
    pub fn new(irq: u8, dirql: u8) -> Box<Self> {
        let (level, vector) = crate::translated_interrupt(irq, dirql);
        Box::new(Self {
            interface: IResourceList {
                lpVtbl: &raw const RESOURCE_VTABLE,
            },
            translated: interrupt_descriptor(level, vector),
            raw: interrupt_descriptor(u32::from(irq), u32::from(irq)),
        })
    }

    /// As the `PRESOURCELIST` a driver gets.
    pub fn as_list(&mut self) -> *mut IResourceList {
        &raw mut self.interface
    }
}

unsafe extern "system" fn rl_query(_: *mut IUnknown, _: *const GUID, _: *mut PVOID) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}
unsafe extern "system" fn rl_add_ref(_: *mut IUnknown) -> u32 {
    1
}
unsafe extern "system" fn rl_release(_: *mut IUnknown) -> u32 {
    1
}
unsafe extern "system" fn rl_count(_: *mut IResourceList) -> u32 {
    1
}
unsafe extern "system" fn rl_count_of(_: *mut IResourceList, t: CM_RESOURCE_TYPE) -> u32 {
    u32::from(t == i32::from(CmResourceTypeInterrupt))
}
unsafe extern "system" fn rl_find_translated(
    this: *mut IResourceList,
    t: CM_RESOURCE_TYPE,
    index: u32,
) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
    if t != i32::from(CmResourceTypeInterrupt) || index != 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: `this` is the interface field at offset 0 of a live TestResources.
    unsafe { &raw mut (*this.cast::<TestResources>()).translated }
}
unsafe extern "system" fn rl_find_raw(
    this: *mut IResourceList,
    t: CM_RESOURCE_TYPE,
    index: u32,
) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
    if t != i32::from(CmResourceTypeInterrupt) || index != 0 {
        return core::ptr::null_mut();
    }
    // SAFETY: as above.
    unsafe { &raw mut (*this.cast::<TestResources>()).raw }
}
unsafe extern "system" fn rl_add(
    _: *mut IResourceList,
    _: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    _: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}
unsafe extern "system" fn rl_add_from_parent(
    _: *mut IResourceList,
    _: *mut IResourceList,
    _: CM_RESOURCE_TYPE,
    _: u32,
) -> NTSTATUS {
    STATUS_NOT_IMPLEMENTED
}
unsafe extern "system" fn rl_list(_: *mut IResourceList) -> PCM_RESOURCE_LIST {
    core::ptr::null_mut()
}

static RESOURCE_VTABLE: IResourceListVtbl = IResourceListVtbl {
    base: IUnknownVtbl {
        QueryInterface: rl_query,
        AddRef: rl_add_ref,
        Release: rl_release,
    },
    NumberOfEntries: rl_count,
    NumberOfEntriesOfType: rl_count_of,
    FindTranslatedEntry: rl_find_translated,
    FindUntranslatedEntry: rl_find_raw,
    AddEntry: rl_add,
    AddEntryFromParent: rl_add_from_parent,
    TranslatedList: rl_list,
    UntranslatedList: rl_list,
};
