//! `IServiceGroup`: fans a service request out to its members. A request (from an ISR through
//! `IPortDMus::Notify`, or from a stream) only marks the group; the job thread, playing
//! PortCls' service DPC, calls the members ([`run_pending`]), so no member runs inside the
//! ISR's interrupt lock. Delayed service is due at a master-clock time the job thread checks.

use core::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use com_object::{ComObject, ComRef, ServiceGroupImpl, ServiceSinkImpl};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::portcls::{IServiceGroup, IServiceSink, PSERVICESINK};

use super::{add_ref, release};
use crate::pool::Pool;
use crate::spin::SpinMutex;

/// Members a group holds.
const MEMBERS: usize = 4;
/// Groups alive at once.
const GROUPS: usize = 8;

/// The live groups (addresses), which [`run_pending`] polls.
static LIVE: SpinMutex<[usize; GROUPS]> = SpinMutex::new([0; GROUPS]);

/// A service group.
pub struct ServiceGroup {
    members: SpinMutex<[usize; MEMBERS]>,
    pending: AtomicBool,
    /// Master-clock time of a delayed request (0: none).
    delayed_until: AtomicI64,
}

com_object::class!(ServiceGroup, Pool: IServiceGroup);

impl ServiceGroup {
    /// A new group (one reference, the caller's), registered for [`run_pending`].
    ///
    /// # Errors
    /// No memory, or too many groups alive.
    pub fn try_new() -> Result<ComRef<Self>, NTSTATUS> {
        let group = ComRef::try_new(Self {
            members: SpinMutex::new([0; MEMBERS]),
            pending: AtomicBool::new(false),
            delayed_until: AtomicI64::new(0),
        })?;
        let address = group.identity().as_ptr() as usize;
        let mut live = LIVE.lock();
        let slot = live
            .iter_mut()
            .find(|slot| **slot == 0)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        *slot = address;
        Ok(group)
    }
}

impl Drop for ServiceGroup {
    fn drop(&mut self) {
        // The last Release drops the value before the block is freed: leave the registry
        // first, so `run_pending` never sees a group whose members are being released.
        let identity =
            (core::ptr::from_mut(self) as usize).wrapping_sub(ComObject::<Self>::VALUE_OFFSET);
        unregister(identity);
        let members = core::mem::take(&mut *self.members.lock());
        for member in members.into_iter().filter(|&member| member != 0) {
            // SAFETY: the group's own reference on its member, given up once.
            unsafe { release(member as *mut _) };
        }
    }
}

/// Forgets the group at `identity` (its last Release is under way).
fn unregister(identity: usize) {
    let mut live = LIVE.lock();
    for slot in live.iter_mut().filter(|slot| **slot == identity) {
        *slot = 0;
    }
}

/// The service DPC's work: for every group with a request (or a delayed request due at
/// `now`), calls each member's `RequestService`. Job thread, PASSIVE_LEVEL (Wine has no DPC
/// level for user-mode threads; the members' code is written for DISPATCH_LEVEL and runs
/// the same).
pub fn run_pending(now: i64) {
    let mut calls = [0_usize; GROUPS * MEMBERS];
    let mut count = 0;
    {
        let live = LIVE.lock();
        for &group in live.iter().filter(|&&group| group != 0) {
            // SAFETY: a registered group is alive: its last Release unregisters it under this
            // lock before anything is freed. Memory only.
            let Some(group) =
                (unsafe { ComObject::<ServiceGroup>::from_interface(group as *mut IServiceGroup) })
            else {
                continue;
            };
            let delayed = group.delayed_until.load(Ordering::Acquire);
            let due = delayed != 0 && delayed <= now;
            if due {
                group.delayed_until.store(0, Ordering::Release);
            }
            if !(group.pending.swap(false, Ordering::AcqRel) || due) {
                continue;
            }
            for &member in group.members.lock().iter().filter(|&&member| member != 0) {
                // SAFETY: the group holds a reference on its member; ours covers the call.
                unsafe { add_ref(member as *mut _) };
                calls[count] = member;
                count += 1;
            }
        }
    }
    for &member in &calls[..count] {
        let sink = member as *mut IServiceSink;
        // SAFETY: a live sink (our reference). A plain read of its vtable pointer.
        let vtable = unsafe { com_object::vtable(sink) };
        // SAFETY: RequestService on the live sink.
        unsafe { (vtable.RequestService)(sink) };
        // SAFETY: the reference taken above.
        unsafe { release(member as *mut _) };
    }
}

impl ServiceSinkImpl for ServiceGroup {
    fn request_service(this: &ComObject<Self>) {
        this.pending.store(true, Ordering::Release);
    }
}

impl ServiceGroupImpl for ServiceGroup {
    unsafe fn add_member(this: &ComObject<Self>, sink: PSERVICESINK) -> NTSTATUS {
        if sink.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let mut members = this.members.lock();
        if members.contains(&(sink as usize)) {
            return STATUS_INVALID_PARAMETER;
        }
        let Some(slot) = members.iter_mut().find(|slot| **slot == 0) else {
            return STATUS_INSUFFICIENT_RESOURCES;
        };
        // SAFETY: a live sink (the caller's contract); the group keeps this reference.
        unsafe { add_ref(sink.cast()) };
        *slot = sink as usize;
        STATUS_SUCCESS
    }

    unsafe fn remove_member(this: &ComObject<Self>, sink: PSERVICESINK) {
        let removed = {
            let mut members = this.members.lock();
            members
                .iter_mut()
                .find(|slot| **slot == sink as usize && !sink.is_null())
                .map(core::mem::take)
        };
        if let Some(member) = removed {
            // SAFETY: the group's reference on the member, given up once.
            unsafe { release(member as *mut _) };
        }
    }

    fn support_delayed_service(_this: &ComObject<Self>) {}

    fn request_delayed_service(this: &ComObject<Self>, delay: u64) {
        // KeSetTimer's convention: negative (as u64) is relative, positive absolute; the
        // master clock stands in for both (Wine's interrupt time and QPC share their origin
        // closely enough for a delayed service request).
        let delay = i64::from_ne_bytes(delay.to_ne_bytes());
        let now = super::clock::now();
        let due = if delay < 0 {
            now - delay
        } else {
            delay.max(now)
        };
        this.delayed_until.store(due.max(1), Ordering::Release);
    }

    fn cancel_delayed_service(this: &ComObject<Self>) {
        this.delayed_until.store(0, Ordering::Release);
    }
}
