//! The layer's rules, checked on the host with a storage that keeps freed blocks in
//! quarantine (so a call after the last `Release` is still memory-safe to make and observe).

extern crate std;

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::boxed::Box;
use std::sync::Mutex;
use std::vec::Vec;

use dmus_sys::GUID;
use dmus_sys::com::{IID_IUnknown, IUnknown};
use dmus_sys::dmus_com::{IID_IMXF, IID_ISynthSinkDMus, IMXF, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    NTSTATUS, POWER_STATE, PVOID, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER,
    STATUS_NO_MEMORY, STATUS_NOINTERFACE, STATUS_SUCCESS,
};
use dmus_sys::ks::KSSTATE;
use dmus_sys::portcls::{IID_IPowerNotify, IPowerNotify};

use crate::{
    ComObject, ComRef, MxfImpl, PowerNotifyImpl, RefCount, Refusal, Released, Storage, release,
    vtable,
};

/// Blocks freed by [`Quarantine`]: never given back (the test process ends first).
static FREED: Mutex<Vec<usize>> = Mutex::new(Vec::new());
/// Objects reported through [`Storage::destroying`], by identity.
static DESTROYED: Mutex<Vec<(usize, &'static str)>> = Mutex::new(Vec::new());
/// Refusals reported through [`Storage::refused`], by identity.
static REFUSED: Mutex<Vec<(usize, Refusal)>> = Mutex::new(Vec::new());

/// A host-heap storage with an in-object count; `free` drops the value and keeps the block.
struct Quarantine;

// SAFETY: allocate hands back the Box it initialised; release is RefCount's.
unsafe impl Storage for Quarantine {
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
        // SAFETY: a fresh box, ours alone. Host test.
        match init(unsafe { &mut *block }) {
            Ok(object) => Ok(NonNull::from(object)),
            Err(status) => {
                FREED.lock().unwrap().push(block as usize);
                Err(status)
            }
        }
    }

    unsafe fn free<T>(object: NonNull<T>) {
        // SAFETY: a live T from allocate, dropped once (caller's contract). Host test.
        unsafe { object.as_ptr().drop_in_place() };
        FREED.lock().unwrap().push(object.as_ptr() as usize);
    }

    fn destroying(identity: NonNull<c_void>, name: &'static str) {
        DESTROYED
            .lock()
            .unwrap()
            .push((identity.as_ptr() as usize, name));
    }

    fn refused(identity: NonNull<c_void>, _name: &'static str, refusal: Refusal) {
        REFUSED
            .lock()
            .unwrap()
            .push((identity.as_ptr() as usize, refusal));
    }
}

/// A stream-like class with one interface; counts its drops.
struct Stream {
    drops: &'static AtomicU32,
    state: AtomicU32,
}

impl Drop for Stream {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl MxfImpl for Stream {
    fn set_state(this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS {
        this.state.store(state.cast_unsigned(), Ordering::SeqCst);
        STATUS_SUCCESS
    }

    unsafe fn put_message(_this: &ComObject<Self>, _event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }
}

crate::class!(Stream, Quarantine: IMXF);

/// A miniport-like class with two interfaces (IMXF first, IPowerNotify second).
struct TwoFaced {
    drops: &'static AtomicU32,
    power: AtomicUsize,
}

impl Drop for TwoFaced {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

impl MxfImpl for TwoFaced {
    fn set_state(_this: &ComObject<Self>, _state: KSSTATE) -> NTSTATUS {
        STATUS_SUCCESS
    }

    unsafe fn put_message(_this: &ComObject<Self>, _event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_SUCCESS
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_SUCCESS
    }
}

impl PowerNotifyImpl for TwoFaced {
    fn power_change_notify(this: &ComObject<Self>, state: POWER_STATE) {
        // SAFETY: the test passes a device state. Host test.
        let device = unsafe { state.DeviceState };
        this.power
            .store(usize::try_from(device).unwrap_or(0), Ordering::SeqCst);
    }
}

crate::class!(TwoFaced, Quarantine: IMXF, IPowerNotify);

/// An object with `IUnknown` alone (an aggregation's outer object).
struct Plain;

crate::class!(Plain, Quarantine: IUnknown);

/// `QueryInterface` through any interface pointer.
fn query<I>(this: NonNull<I>, iid: *const GUID, out: *mut PVOID) -> NTSTATUS {
    let unknown = this.as_ptr().cast::<IUnknown>();
    // SAFETY: a live test object. Host test.
    let vtable = unsafe { vtable(unknown) };
    // SAFETY: arguments as each test means them (valid or deliberately null). Host test.
    unsafe { (vtable.QueryInterface)(unknown, iid, out) }
}

fn count_of<C: crate::Class<Storage = Quarantine>>(object: &ComObject<C>) -> u32 {
    // AddRef then Release: the count after the pair is the count before it.
    let count = object.add_ref() - 1;
    // SAFETY: the reference just added. Host test.
    unsafe { release(object.identity().as_ptr().cast::<IUnknown>()) };
    count
}

#[test]
fn query_interface_refuses_null_arguments() {
    static DROPS: AtomicU32 = AtomicU32::new(0);
    let stream = ComRef::try_new(Stream {
        drops: &DROPS,
        state: AtomicU32::new(0),
    })
    .unwrap();
    let mxf = stream.as_interface::<IMXF>();
    let identity = stream.identity().as_ptr() as usize;
    assert_eq!(
        query(mxf, &IID_IMXF, core::ptr::null_mut()),
        STATUS_INVALID_PARAMETER
    );
    let mut out: PVOID = core::ptr::dangling_mut();
    assert_eq!(
        query(mxf, core::ptr::null(), &raw mut out),
        STATUS_INVALID_PARAMETER
    );
    assert!(out.is_null(), "a refused query hands out nothing");
    assert_eq!(count_of(&stream), 1, "no reference was added");
    let refused = REFUSED.lock().unwrap();
    assert!(refused.contains(&(identity, Refusal::NullOut)));
    assert!(refused.contains(&(identity, Refusal::NullId)));
}

#[test]
fn a_miss_writes_null_and_a_hit_adds_a_reference() {
    static DROPS: AtomicU32 = AtomicU32::new(0);
    let stream = ComRef::try_new(Stream {
        drops: &DROPS,
        state: AtomicU32::new(0),
    })
    .unwrap();
    let mxf = stream.as_interface::<IMXF>();
    let mut out: PVOID = core::ptr::dangling_mut();
    assert_eq!(
        query(mxf, &IID_ISynthSinkDMus, &raw mut out),
        STATUS_NOINTERFACE
    );
    assert!(out.is_null());
    assert_eq!(count_of(&stream), 1);
    for iid in [IID_IUnknown, IID_IMXF] {
        out = core::ptr::null_mut();
        assert_eq!(query(mxf, &raw const iid, &raw mut out), STATUS_SUCCESS);
        assert_eq!(out, mxf.as_ptr().cast::<c_void>());
        assert_eq!(count_of(&stream), 2);
        // SAFETY: the reference the hit added. Host test.
        unsafe { release(out.cast::<IUnknown>()) };
    }
    // A call through the generated vtable reaches the value.
    // SAFETY: a live object. Host test.
    let mxf_vtable = unsafe { vtable(mxf.as_ptr()) };
    // SAFETY: as above.
    let status = unsafe { (mxf_vtable.SetState)(mxf.as_ptr(), 3) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(stream.state.load(Ordering::SeqCst), 3);
}

#[test]
fn the_last_release_frees_once_and_an_over_release_is_caught() {
    static DROPS: AtomicU32 = AtomicU32::new(0);
    let stream = ComRef::try_new(Stream {
        drops: &DROPS,
        state: AtomicU32::new(0),
    })
    .unwrap();
    let second = stream.clone();
    let raw = stream.into_raw::<IMXF>();
    drop(second);
    assert_eq!(DROPS.load(Ordering::SeqCst), 0, "one reference is left");
    // SAFETY: the last reference. Host test.
    assert_eq!(unsafe { release(raw.as_ptr()) }, 0);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "freed by the last Release");
    assert!(
        DESTROYED
            .lock()
            .unwrap()
            .contains(&(raw.as_ptr() as usize, "Stream")),
        "the storage heard of it first"
    );
    // The block is in quarantine: a Release it never owned is caught, nothing is freed again.
    // SAFETY: the block is still allocated (quarantine); its count is 0. Host test.
    assert_eq!(unsafe { release(raw.as_ptr()) }, 0);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1, "not freed twice");
    let freed = FREED.lock().unwrap();
    assert_eq!(
        freed
            .iter()
            .filter(|&&block| block == raw.as_ptr() as usize)
            .count(),
        1
    );
}

#[test]
fn a_failed_init_frees_the_block_and_drops_nothing() {
    let failed = ComRef::<Stream>::try_new_with(|_| Err(STATUS_NO_MEMORY));
    assert_eq!(failed.err(), Some(STATUS_NO_MEMORY));
}

#[test]
fn each_interface_steps_back_to_the_same_object() {
    static DROPS: AtomicU32 = AtomicU32::new(0);
    let object = ComRef::try_new(TwoFaced {
        drops: &DROPS,
        power: AtomicUsize::new(0),
    })
    .unwrap();
    let mxf = object.as_interface::<IMXF>();
    let power = object.as_interface::<IPowerNotify>();
    assert_eq!(mxf.as_ptr().cast::<c_void>(), object.identity().as_ptr());
    assert_eq!(
        power.as_ptr() as usize - mxf.as_ptr() as usize,
        size_of::<*const c_void>(),
        "one vtable pointer per interface, in order"
    );
    // The second interface's own method reaches the value.
    // SAFETY: a live object. Host test.
    let power_vtable = unsafe { vtable(power.as_ptr()) };
    let state = POWER_STATE { DeviceState: 4 };
    // SAFETY: as above.
    unsafe { (power_vtable.PowerChangeNotify)(power.as_ptr(), state) };
    assert_eq!(object.power.load(Ordering::SeqCst), 4);
    // QueryInterface from the second interface: IUnknown and IMXF are the first pointer,
    // IPowerNotify the second; every hit counts on the one object.
    let mut out: PVOID = core::ptr::null_mut();
    assert_eq!(query(power, &IID_IUnknown, &raw mut out), STATUS_SUCCESS);
    assert_eq!(out, mxf.as_ptr().cast::<c_void>());
    assert_eq!(query(power, &IID_IMXF, &raw mut out), STATUS_SUCCESS);
    assert_eq!(out, mxf.as_ptr().cast::<c_void>());
    assert_eq!(query(mxf, &IID_IPowerNotify, &raw mut out), STATUS_SUCCESS);
    assert_eq!(out, power.as_ptr().cast::<c_void>());
    assert_eq!(count_of(&object), 4);
    // SAFETY: the three references the hits added, released through the second
    // interface's Release (which must step back to the object). Host test.
    for _ in 0..3 {
        // SAFETY: as above.
        unsafe { release(power.as_ptr()) };
    }
    assert_eq!(count_of(&object), 1);
    // SAFETY: a live object's IPowerNotify pointer. Host test.
    let found = unsafe { ComObject::<TwoFaced>::from_interface(power.as_ptr()) };
    assert_eq!(
        found.map(core::ptr::from_ref),
        Some(core::ptr::from_ref(&*object))
    );
    // The last reference, given up through the second interface, frees the object.
    let raw = object.into_raw::<IPowerNotify>();
    // SAFETY: the last reference. Host test.
    assert_eq!(unsafe { release(raw.as_ptr()) }, 0);
    assert_eq!(DROPS.load(Ordering::SeqCst), 1);
}

#[test]
fn an_object_may_have_iunknown_alone() {
    let plain = ComRef::try_new(Plain).unwrap();
    let unknown = plain.as_interface::<IUnknown>();
    let mut out: PVOID = core::ptr::dangling_mut();
    assert_eq!(query(unknown, &IID_IMXF, &raw mut out), STATUS_NOINTERFACE);
    assert!(out.is_null());
    assert_eq!(query(unknown, &IID_IUnknown, &raw mut out), STATUS_SUCCESS);
    assert_eq!(out, unknown.as_ptr().cast::<c_void>());
    // SAFETY: the reference the hit added. Host test.
    assert_eq!(unsafe { release(out.cast::<IUnknown>()) }, 1);
}
