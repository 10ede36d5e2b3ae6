//! The port's `IAllocatorMXF` and `IMasterClock`.
//!
//! The allocator is the last stop of every event chain and the default output of an
//! unconnected `IMXF`: `GetMessage` hands out a zeroed event, `PutMessage` takes back a whole
//! chain with its buffers and package contents. Its memory is a [`TrackedPool`](super::event_memory::TrackedPool),
//! whose findings (event returned twice, written after return) go to the machine. The master
//! clock reads the virtual clock: it never pauses.

use alloc::format;

use com_object::{AllocatorMxfImpl, ComObject, MasterClockImpl, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, IMasterClock, PMXF};
use dmus_sys::dmusic::{PDMUS_KERNEL_EVENT, REFERENCE_TIME};
use dmus_sys::kernel::{
    DISPATCH_LEVEL, NTSTATUS, PASSIVE_LEVEL, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;

use super::event_memory::PoolSize;
use super::state::AllocatorRecord;
use crate::current::with_state;
use crate::finding::Finding;
use crate::sim_object::{Registered, SimObject, address_of, new_object};
use crate::state::MachineState;

const ALLOCATOR: &str = "IAllocatorMXF";
const CLOCK: &str = "IMasterClock";

/// The port's allocator: its pool lives in the machine's table, keyed by its address.
struct Allocator;

com_object::class!(Allocator, Registered<Allocator>: IAllocatorMXF);

/// The port's master clock (the machine's table knows the live ones).
struct Clock;

com_object::class!(Clock, Registered<Clock>: IMasterClock);

/// Makes an allocator of `size` (one reference, the caller's).
#[must_use]
pub fn new_allocator(size: PoolSize) -> usize {
    let object = new_object::<_, IAllocatorMXF>(Allocator).as_ptr() as usize;
    with_state(ALLOCATOR, |m| {
        m.portcls
            .allocators
            .insert(object, AllocatorRecord::new(size));
    });
    object
}

/// Makes a master clock (one reference, the caller's).
#[must_use]
pub fn new_clock() -> usize {
    let object = new_object::<_, IMasterClock>(Clock).as_ptr() as usize;
    with_state(CLOCK, |m| m.portcls.clocks.insert(object));
    object
}

/// Runs `f` on the allocator at `object` and moves its pool's findings to the machine; `None`
/// (and a finding) if there is no such allocator.
pub fn with_allocator<R>(
    m: &mut MachineState,
    object: usize,
    call: &'static str,
    f: impl FnOnce(&mut AllocatorRecord) -> R,
) -> Option<R> {
    let Some(record) = m.portcls.allocators.get_mut(&object) else {
        m.record(Finding::UninitializedObject {
            call,
            kind: ALLOCATOR,
            object,
        });
        return None;
    };
    let result = f(record);
    let findings = record.pool.take_findings();
    for finding in findings {
        m.record(finding);
    }
    Some(result)
}

impl SimObject for Allocator {
    const KIND: &'static str = ALLOCATOR;
    const QUERY_INTERFACE: &'static str = "IAllocatorMXF::QueryInterface";

    fn destroyed(object: usize) {
        with_state("IAllocatorMXF::Release", |m| {
            let Some(mut record) = m.portcls.allocators.remove(&object) else {
                return;
            };
            record.pool.check_free_memory();
            for finding in record.pool.take_findings() {
                m.record(finding);
            }
            let (events, buffers) = record.pool.outstanding();
            if events + buffers > 0 {
                m.report_port_contract(format!(
                    "allocator {object:#x} destroyed with {events} event(s) and {buffers} buffer(s) never returned with PutMessage"
                ));
                // The driver may still write to them: keep the memory rather than free it.
                core::mem::forget(record);
            }
        });
    }
}

impl MxfImpl for Allocator {
    fn set_state(_this: &ComObject<Self>, _state: KSSTATE) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::SetState";
        // The allocator has no data flow to start or stop; PASSIVE_LEVEL like every SetState.
        with_state(CALL, |m| {
            m.check_call(CALL, PASSIVE_LEVEL, true);
        });
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::PutMessage";
        with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            if event.is_null() {
                return STATUS_SUCCESS;
            }
            with_allocator(m, address_of(this), CALL, |a| {
                a.pool.return_chain(event as usize, CALL);
            })
            .map_or(STATUS_INVALID_PARAMETER, |()| STATUS_SUCCESS)
        })
    }

    unsafe fn connect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::ConnectOutput";
        with_state(CALL, |m| {
            m.report_port_contract(format!(
                "{CALL}({sink:#x?}) on allocator {:#x}: the allocator is the last stop of every chain and has no output",
                address_of(this)
            ));
        });
        STATUS_UNSUCCESSFUL
    }

    unsafe fn disconnect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::DisconnectOutput";
        with_state(CALL, |m| {
            m.report_port_contract(format!(
                "{CALL}({sink:#x?}) on allocator {:#x}: the allocator has no output",
                address_of(this)
            ));
        });
        STATUS_UNSUCCESSFUL
    }
}

impl AllocatorMxfImpl for Allocator {
    unsafe fn get_message(this: &ComObject<Self>, out: *mut PDMUS_KERNEL_EVENT) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::GetMessage";
        let event = with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            if out.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "ppDMKEvt",
                });
                return Err(STATUS_INVALID_PARAMETER);
            }
            with_allocator(m, address_of(this), CALL, |a| a.pool.take_event())
                .ok_or(STATUS_INVALID_PARAMETER)
        });
        match event {
            Err(status) => status,
            Ok(event) => {
                let status = if event.is_some() {
                    STATUS_SUCCESS
                } else {
                    STATUS_INSUFFICIENT_RESOURCES
                };
                // SAFETY: non-null and writable (checked; COM's contract).
                unsafe {
                    out.write(event.map_or(core::ptr::null_mut(), core::ptr::NonNull::as_ptr));
                };
                status
            }
        }
    }

    fn get_buffer_size(this: &ComObject<Self>) -> u16 {
        const CALL: &str = "IAllocatorMXF::GetBufferSize";
        with_state(CALL, |m| {
            with_allocator(m, address_of(this), CALL, |a| {
                u16::try_from(a.pool.buffer_size()).unwrap_or(u16::MAX)
            })
            .unwrap_or(0)
        })
    }

    unsafe fn get_buffer(this: &ComObject<Self>, out: *mut *mut u8) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::GetBuffer";
        let buffer = with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            if out.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "ppBuffer",
                });
                return Err(STATUS_INVALID_PARAMETER);
            }
            with_allocator(m, address_of(this), CALL, |a| a.pool.take_buffer())
                .ok_or(STATUS_INVALID_PARAMETER)
        });
        match buffer {
            Err(status) => status,
            Ok(buffer) => {
                let status = if buffer.is_some() {
                    STATUS_SUCCESS
                } else {
                    STATUS_INSUFFICIENT_RESOURCES
                };
                // SAFETY: non-null and writable (checked; COM's contract).
                unsafe {
                    out.write(buffer.map_or(core::ptr::null_mut(), core::ptr::NonNull::as_ptr));
                };
                status
            }
        }
    }

    unsafe fn put_buffer(this: &ComObject<Self>, buffer: *mut u8) -> NTSTATUS {
        const CALL: &str = "IAllocatorMXF::PutBuffer";
        with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            // The buffer still goes back (nothing is lost), but the rule is broken: buffers
            // travel attached to events and return with PutMessage.
            m.report_port_contract(format!(
                "{CALL}({:#x}): miniports do not call PutBuffer; return the event that holds the buffer with PutMessage",
                buffer as usize
            ));
            with_allocator(m, address_of(this), CALL, |a| {
                a.pool.return_buffer(buffer as usize, CALL);
            });
        });
        STATUS_SUCCESS
    }
}

// No public header defines an IID for IMasterClock, so only IUnknown answers.
impl SimObject for Clock {
    const KIND: &'static str = CLOCK;
    const QUERY_INTERFACE: &'static str = "IMasterClock::QueryInterface";

    fn destroyed(object: usize) {
        with_state("IMasterClock::Release", |m| {
            m.portcls.clocks.remove(&object)
        });
    }
}

impl MasterClockImpl for Clock {
    unsafe fn get_time(this: &ComObject<Self>, time: *mut REFERENCE_TIME) -> NTSTATUS {
        const CALL: &str = "IMasterClock::GetTime";
        let object = address_of(this);
        let now = with_state(CALL, |m| {
            m.check_call(CALL, DISPATCH_LEVEL, false);
            if time.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "pTime",
                });
                return None;
            }
            if !m.portcls.clocks.contains(&object) {
                m.record(Finding::UninitializedObject {
                    call: CALL,
                    kind: CLOCK,
                    object,
                });
                return None;
            }
            Some(i64::try_from(m.now()).unwrap_or(i64::MAX))
        });
        let Some(now) = now else {
            return STATUS_INVALID_PARAMETER;
        };
        // SAFETY: non-null and writable (checked; COM's contract).
        unsafe { time.write(now) };
        STATUS_SUCCESS
    }
}
