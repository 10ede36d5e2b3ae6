//! The port's `IAllocatorMXF` and `IMasterClock`.
//!
//! The allocator is the last stop of every event chain and the default output of an
//! unconnected `IMXF`: `GetMessage` hands out a zeroed event, `PutMessage` takes back a whole
//! chain with its buffers and package contents. Its memory is a [`TrackedPool`](super::event_memory::TrackedPool),
//! whose findings (event returned twice, written after return) go to the machine. The master
//! clock reads the virtual clock: it never pauses.

use alloc::format;

use dmus_sys::com::{IID_IUnknown, IUnknown, IUnknownVtbl};
use dmus_sys::dmus_com::{
    IAllocatorMXF, IAllocatorMXFVtbl, IID_IAllocatorMXF, IID_IMXF, IMXF, IMXFVtbl, IMasterClock,
    IMasterClockVtbl, PMXF,
};
use dmus_sys::dmusic::{PDMUS_KERNEL_EVENT, REFERENCE_TIME};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    DISPATCH_LEVEL, NTSTATUS, PASSIVE_LEVEL, PVOID, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;

use super::event_memory::PoolSize;
use super::objects::{add_ref_object, free_object, new_object, query_object, release_object};
use super::state::AllocatorRecord;
use crate::current::with_state;
use crate::finding::Finding;
use crate::state::MachineState;

const ALLOCATOR: &str = "IAllocatorMXF";
const CLOCK: &str = "IMasterClock";

#[repr(C)]
struct AllocatorObject {
    interface: IAllocatorMXF,
}

#[repr(C)]
struct ClockObject {
    interface: IMasterClock,
}

static ALLOCATOR_VTABLE: IAllocatorMXFVtbl = IAllocatorMXFVtbl {
    base: IMXFVtbl {
        base: IUnknownVtbl {
            QueryInterface: allocator_query_interface,
            AddRef: allocator_add_ref,
            Release: allocator_release,
        },
        SetState: allocator_set_state,
        PutMessage: allocator_put_message,
        ConnectOutput: allocator_connect_output,
        DisconnectOutput: allocator_disconnect_output,
    },
    GetMessage: get_message,
    GetBufferSize: get_buffer_size,
    GetBuffer: get_buffer,
    PutBuffer: put_buffer,
};

static CLOCK_VTABLE: IMasterClockVtbl = IMasterClockVtbl {
    base: IUnknownVtbl {
        QueryInterface: clock_query_interface,
        AddRef: clock_add_ref,
        Release: clock_release,
    },
    GetTime: get_time,
};

/// Makes an allocator of `size` (one reference, the caller's).
#[must_use]
pub fn new_allocator(size: PoolSize) -> usize {
    let object = new_object(
        AllocatorObject {
            interface: IAllocatorMXF {
                lpVtbl: &raw const ALLOCATOR_VTABLE,
            },
        },
        ALLOCATOR,
    ) as usize;
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
    let object = new_object(
        ClockObject {
            interface: IMasterClock {
                lpVtbl: &raw const CLOCK_VTABLE,
            },
        },
        CLOCK,
    ) as usize;
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

unsafe extern "system" fn allocator_query_interface(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: COM's contract for the arguments, passed on.
    unsafe {
        query_object(
            this as usize,
            iid,
            out,
            &[IID_IUnknown, IID_IMXF, IID_IAllocatorMXF],
            "IAllocatorMXF::QueryInterface",
        )
    }
}

unsafe extern "system" fn allocator_add_ref(this: *mut IUnknown) -> u32 {
    add_ref_object(this as usize, "IAllocatorMXF::AddRef")
}

unsafe extern "system" fn allocator_release(this: *mut IUnknown) -> u32 {
    let object = this as usize;
    let (refs, destroyed) = release_object(object, "IAllocatorMXF::Release");
    if destroyed {
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
        // SAFETY: made by new_allocator as an AllocatorObject; its count just reached 0.
        unsafe { free_object(this.cast::<AllocatorObject>()) };
    }
    refs
}

unsafe extern "system" fn allocator_set_state(this: *mut IMXF, state: KSSTATE) -> NTSTATUS {
    const CALL: &str = "IAllocatorMXF::SetState";
    // The allocator has no data flow to start or stop; PASSIVE_LEVEL like every SetState.
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        let _ = (this, state);
    });
    STATUS_SUCCESS
}

unsafe extern "system" fn allocator_put_message(
    this: *mut IMXF,
    event: PDMUS_KERNEL_EVENT,
) -> NTSTATUS {
    const CALL: &str = "IAllocatorMXF::PutMessage";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if event.is_null() {
            return STATUS_SUCCESS;
        }
        with_allocator(m, this as usize, CALL, |a| {
            a.pool.return_chain(event as usize, CALL);
        })
        .map_or(STATUS_INVALID_PARAMETER, |()| STATUS_SUCCESS)
    })
}

unsafe extern "system" fn allocator_connect_output(this: *mut IMXF, sink: PMXF) -> NTSTATUS {
    const CALL: &str = "IAllocatorMXF::ConnectOutput";
    with_state(CALL, |m| {
        m.report_port_contract(format!(
            "{CALL}({sink:#x?}) on allocator {:#x}: the allocator is the last stop of every chain and has no output",
            this as usize
        ));
    });
    STATUS_UNSUCCESSFUL
}

unsafe extern "system" fn allocator_disconnect_output(this: *mut IMXF, sink: PMXF) -> NTSTATUS {
    const CALL: &str = "IAllocatorMXF::DisconnectOutput";
    with_state(CALL, |m| {
        m.report_port_contract(format!(
            "{CALL}({sink:#x?}) on allocator {:#x}: the allocator has no output",
            this as usize
        ));
    });
    STATUS_UNSUCCESSFUL
}

unsafe extern "system" fn get_message(
    this: *mut IAllocatorMXF,
    out: *mut PDMUS_KERNEL_EVENT,
) -> NTSTATUS {
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
        with_allocator(m, this as usize, CALL, |a| a.pool.take_event())
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
            unsafe { out.write(event.map_or(core::ptr::null_mut(), core::ptr::NonNull::as_ptr)) };
            status
        }
    }
}

unsafe extern "system" fn get_buffer_size(this: *mut IAllocatorMXF) -> u16 {
    const CALL: &str = "IAllocatorMXF::GetBufferSize";
    with_state(CALL, |m| {
        with_allocator(m, this as usize, CALL, |a| {
            u16::try_from(a.pool.buffer_size()).unwrap_or(u16::MAX)
        })
        .unwrap_or(0)
    })
}

unsafe extern "system" fn get_buffer(this: *mut IAllocatorMXF, out: *mut *mut u8) -> NTSTATUS {
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
        with_allocator(m, this as usize, CALL, |a| a.pool.take_buffer())
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
            unsafe { out.write(buffer.map_or(core::ptr::null_mut(), core::ptr::NonNull::as_ptr)) };
            status
        }
    }
}

unsafe extern "system" fn put_buffer(this: *mut IAllocatorMXF, buffer: *mut u8) -> NTSTATUS {
    const CALL: &str = "IAllocatorMXF::PutBuffer";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        // The buffer still goes back (nothing is lost), but the rule is broken: buffers travel
        // attached to events and return with PutMessage.
        m.report_port_contract(format!(
            "{CALL}({:#x}): miniports do not call PutBuffer; return the event that holds the buffer with PutMessage",
            buffer as usize
        ));
        with_allocator(m, this as usize, CALL, |a| {
            a.pool.return_buffer(buffer as usize, CALL);
        });
    });
    STATUS_SUCCESS
}

unsafe extern "system" fn clock_query_interface(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: COM's contract for the arguments, passed on. No public header defines an IID for
    // IMasterClock, so only IUnknown answers.
    unsafe {
        query_object(
            this as usize,
            iid,
            out,
            &[IID_IUnknown],
            "IMasterClock::QueryInterface",
        )
    }
}

unsafe extern "system" fn clock_add_ref(this: *mut IUnknown) -> u32 {
    add_ref_object(this as usize, "IMasterClock::AddRef")
}

unsafe extern "system" fn clock_release(this: *mut IUnknown) -> u32 {
    let object = this as usize;
    let (refs, destroyed) = release_object(object, "IMasterClock::Release");
    if destroyed {
        with_state("IMasterClock::Release", |m| {
            m.portcls.clocks.remove(&object)
        });
        // SAFETY: made by new_clock as a ClockObject; its count just reached 0.
        unsafe { free_object(this.cast::<ClockObject>()) };
    }
    refs
}

unsafe extern "system" fn get_time(this: *mut IMasterClock, time: *mut REFERENCE_TIME) -> NTSTATUS {
    const CALL: &str = "IMasterClock::GetTime";
    let now = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if time.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "pTime",
            });
            return None;
        }
        if !m.portcls.clocks.contains(&(this as usize)) {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: CLOCK,
                object: this as usize,
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
