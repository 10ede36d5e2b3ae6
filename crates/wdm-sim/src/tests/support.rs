//! Safe wrappers over the exported kernel functions for the tests, a recording DPC, object
//! storage, the storage of the tests' COM doubles ([`TestHeap`]), and a test `IResourceList`
//! with the MPU-401's interrupt.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::{RefCell, UnsafeCell};
use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use com_object::{ComObject, ComRef, RefCount, Released, ResourceListImpl};
use dmus_sys::kernel::{
    BOOLEAN, CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
    CM_PARTIAL_RESOURCE_INTERRUPT, CM_RESOURCE_TYPE, CmResourceTypeInterrupt, FALSE, KDPC,
    KSPIN_LOCK, KTIMER, NTSTATUS, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PCM_RESOURCE_LIST,
    PKDEFERRED_ROUTINE, PVOID, STATUS_NOT_IMPLEMENTED, TRUE,
};
use dmus_sys::portcls::IResourceList;

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

/// The storage of the tests' COM doubles (objects a driver would make): the host heap, with
/// the count in the object, as the driver's pool objects keep it.
pub enum TestHeap {}

// SAFETY: `allocate` hands back the box `init` initialised, which `free` frees; RefCount's
// `release` says `Last` once, when the count reaches zero.
unsafe impl com_object::Storage for TestHeap {
    type Count = RefCount;

    fn first_count(_identity: NonNull<c_void>, _name: &'static str) -> RefCount {
        RefCount::new()
    }

    fn add_ref(count: &RefCount, _identity: NonNull<c_void>) -> u32 {
        count.add_ref()
    }

    fn release(count: &RefCount, _identity: NonNull<c_void>) -> Released {
        count.release()
    }

    fn allocate<T>(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<NonNull<T>, NTSTATUS> {
        let block = Box::into_raw(Box::<T>::new_uninit());
        // SAFETY: a fresh box, ours alone until handed back. Host test.
        match init(unsafe { &mut *block }) {
            Ok(object) => Ok(NonNull::from(object)),
            Err(status) => {
                // SAFETY: the box made above; `init` dropped what it made. Host test.
                drop(unsafe { Box::from_raw(block) });
                Err(status)
            }
        }
    }

    unsafe fn free<T>(object: NonNull<T>) {
        // SAFETY: a box `allocate` made, freed once (caller's contract). Host test.
        drop(unsafe { Box::from_raw(object.as_ptr()) });
    }
}

/// The references held on a test double (an `AddRef` and a `Release` around the reading).
pub fn refs_of<C: com_object::Class<Storage = TestHeap>>(object: &ComObject<C>) -> u32 {
    let count = object.add_ref() - 1;
    // SAFETY: the reference just added, given back. Host test.
    unsafe { com_object::release(object.identity().as_ptr().cast::<dmus_sys::com::IUnknown>()) };
    count
}

/// A minimal `IResourceList` holding one interrupt (raw IRQ and translated DIRQL/vector).
pub struct TestResources {
    translated: UnsafeCell<CM_PARTIAL_RESOURCE_DESCRIPTOR>,
    raw: UnsafeCell<CM_PARTIAL_RESOURCE_DESCRIPTOR>,
}

com_object::class!(TestResources, TestHeap: IResourceList);

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
    /// The list for an ISA `irq` delivered at `dirql` (one reference, the caller's).
    ///
    /// # Panics
    /// If the host heap refuses the block.
    pub fn new(irq: u8, dirql: u8) -> ComRef<Self> {
        let (level, vector) = crate::translated_interrupt(irq, dirql);
        let made = ComRef::try_new(Self {
            translated: UnsafeCell::new(interrupt_descriptor(level, vector)),
            raw: UnsafeCell::new(interrupt_descriptor(u32::from(irq), u32::from(irq))),
        });
        made.unwrap_or_else(|status| panic!("the host heap refused a test list: {status:#x}"))
    }
}

impl ResourceListImpl for TestResources {
    fn number_of_entries(_this: &ComObject<Self>) -> u32 {
        1
    }

    fn number_of_entries_of_type(_this: &ComObject<Self>, t: CM_RESOURCE_TYPE) -> u32 {
        u32::from(t == i32::from(CmResourceTypeInterrupt))
    }

    fn find_translated_entry(
        this: &ComObject<Self>,
        t: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        if t != i32::from(CmResourceTypeInterrupt) || index != 0 {
            return core::ptr::null_mut();
        }
        this.translated.get()
    }

    fn find_untranslated_entry(
        this: &ComObject<Self>,
        t: CM_RESOURCE_TYPE,
        index: u32,
    ) -> PCM_PARTIAL_RESOURCE_DESCRIPTOR {
        if t != i32::from(CmResourceTypeInterrupt) || index != 0 {
            return core::ptr::null_mut();
        }
        this.raw.get()
    }

    unsafe fn add_entry(
        _this: &ComObject<Self>,
        _translated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
        _untranslated: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
    ) -> NTSTATUS {
        STATUS_NOT_IMPLEMENTED
    }

    unsafe fn add_entry_from_parent(
        _this: &ComObject<Self>,
        _parent: *mut IResourceList,
        _kind: CM_RESOURCE_TYPE,
        _index: u32,
    ) -> NTSTATUS {
        STATUS_NOT_IMPLEMENTED
    }

    fn translated_list(_this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        core::ptr::null_mut()
    }

    fn untranslated_list(_this: &ComObject<Self>) -> PCM_RESOURCE_LIST {
        core::ptr::null_mut()
    }
}
