//! `PortCls`' interrupt object: `PcNewInterruptSync` and the `IInterruptSync` COM object it
//! hands out (dmus-sys's vtable), plus `PcGetTimeInterval`.
//!
//! The object connects to the interrupt described by the resource list's interrupt entry
//! `ResourceIndex`: the translated descriptor's `Level` is the DIRQL its routines run at, the
//! untranslated descriptor's `Level` the ISA IRQ (see [`crate::translated_interrupt`]).
//! Aggregation (a non-NULL `OuterUnknown`) is not modelled: the call fails with
//! `STATUS_NOT_SUPPORTED`.

use alloc::boxed::Box;
use alloc::format;

use dmus_sys::com::{IID_IUnknown, IUnknown, IUnknownVtbl, PUNKNOWN};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    BOOLEAN, CM_PARTIAL_RESOURCE_INTERRUPT, CmResourceTypeInterrupt, FALSE, KINTERRUPT, NTSTATUS,
    PASSIVE_LEVEL, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PKINTERRUPT, PVOID,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IID_IInterruptSync, IInterruptSync, IInterruptSyncVtbl, INTERRUPTSYNCMODE, PINTERRUPTSYNC,
    PINTERRUPTSYNCROUTINE, PRESOURCELIST,
};

use crate::current::with_state;
use crate::dispatch::call_sync_routine;
use crate::finding::{Finding, RoutineKind};
use crate::interrupt::{InterruptObject, MODE_NORMAL, MODE_REPEAT};
use crate::scheduler::service;

/// The interface name the COM registry reports.
const KIND: &str = "IInterruptSync";

/// The object: the interface (vtable pointer) first, then storage for the opaque
/// `KINTERRUPT` that `GetKInterrupt` hands out while connected. The reference count and the
/// rest of the state live in the machine, keyed by the object's address.
#[repr(C)]
struct InterruptSyncObject {
    interface: IInterruptSync,
    kinterrupt: [u64; 2],
}

static VTABLE: IInterruptSyncVtbl = IInterruptSyncVtbl {
    base: IUnknownVtbl {
        QueryInterface: query_interface,
        AddRef: add_ref,
        Release: release,
    },
    CallSynchronizedRoutine: call_synchronized_routine,
    GetKInterrupt: get_kinterrupt,
    Connect: connect,
    Disconnect: disconnect,
    RegisterServiceRoutine: register_service_routine,
};

/// The interrupt member of a descriptor the resource list returned (NULL: none).
fn interrupt_of(
    descriptor: PCM_PARTIAL_RESOURCE_DESCRIPTOR,
) -> Option<CM_PARTIAL_RESOURCE_INTERRUPT> {
    if descriptor.is_null() {
        return None;
    }
    // SAFETY: a non-null descriptor from a live IResourceList points to a valid descriptor.
    let descriptor = unsafe { descriptor.read_unaligned() };
    // SAFETY: the list returned it for CmResourceTypeInterrupt, so `u.Interrupt` is the active
    // member; every bit pattern of its integer fields is valid anyway.
    Some(unsafe { descriptor.u.Interrupt })
}

fn object_of(this: *mut IUnknown) -> usize {
    this as usize
}

/// `PcNewInterruptSync`: `PASSIVE_LEVEL`.
///
/// # Safety
/// `OutInterruptSync` is NULL (a finding) or writable; `ResourceList` is NULL (a finding) or
/// a live `IResourceList`.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewInterruptSync(
    OutInterruptSync: *mut PINTERRUPTSYNC,
    OuterUnknown: PUNKNOWN,
    ResourceList: PRESOURCELIST,
    ResourceIndex: u32,
    Mode: INTERRUPTSYNCMODE,
) -> NTSTATUS {
    const CALL: &str = "PcNewInterruptSync";
    let checked = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        let missing = if OutInterruptSync.is_null() {
            Some("OutInterruptSync")
        } else if ResourceList.is_null() {
            Some("ResourceList")
        } else {
            None
        };
        if let Some(argument) = missing {
            m.record(Finding::NullArgument {
                call: CALL,
                argument,
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if !(MODE_NORMAL..=MODE_REPEAT).contains(&Mode) {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("Mode {Mode} is no INTERRUPTSYNCMODE"),
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if !OuterUnknown.is_null() {
            return Err(STATUS_NOT_SUPPORTED);
        }
        if m.pool.inject_failure() {
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        Ok(())
    });
    if let Err(status) = checked {
        return status;
    }
    let kind = i32::from(CmResourceTypeInterrupt);
    // SAFETY: `ResourceList` is a live IResourceList (caller's contract), whose first field
    // is its vtable pointer.
    let vtbl = unsafe { (*ResourceList).lpVtbl };
    // SAFETY: a live interface's vtable pointer points to its vtable.
    let vtbl = unsafe { &*vtbl };
    // SAFETY: PASSIVE_LEVEL, where IResourceList's methods may be called, on the live list.
    let translated = unsafe { (vtbl.FindTranslatedEntry)(ResourceList, kind, ResourceIndex) };
    // SAFETY: as above.
    let raw = unsafe { (vtbl.FindUntranslatedEntry)(ResourceList, kind, ResourceIndex) };
    let Some(translated) = interrupt_of(translated) else {
        return STATUS_INVALID_PARAMETER;
    };
    let irq = interrupt_of(raw).map_or(translated.Vector & 0xF, |raw| raw.Level);
    let dirql = translated.Level;
    let object = Box::into_raw(Box::new(InterruptSyncObject {
        interface: IInterruptSync {
            lpVtbl: &raw const VTABLE,
        },
        kinterrupt: [0; 2],
    }));
    with_state(CALL, |m| {
        m.register_com(object as usize, KIND);
        m.interrupts.insert(
            object as usize,
            InterruptObject {
                irq: u8::try_from(irq).unwrap_or(u8::MAX),
                dirql: u8::try_from(dirql).unwrap_or(u8::MAX),
                mode: Mode,
                routines: alloc::vec::Vec::new(),
                connected: false,
            },
        );
    });
    // SAFETY: `OutInterruptSync` is non-null and writable (checked above; caller's contract).
    unsafe { OutInterruptSync.write_unaligned(object.cast()) };
    STATUS_SUCCESS
}

unsafe extern "system" fn query_interface(
    This: *mut IUnknown,
    InterfaceId: *const GUID,
    Interface: *mut PVOID,
) -> NTSTATUS {
    const CALL: &str = "IInterruptSync::QueryInterface";
    if Interface.is_null() || InterfaceId.is_null() {
        with_state(CALL, |m| {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "InterfaceId/Interface",
            });
        });
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null and readable by COM's contract.
    let iid = unsafe { InterfaceId.read_unaligned() };
    if iid == IID_IUnknown || iid == IID_IInterruptSync {
        with_state(CALL, |m| m.com_add_ref(object_of(This)));
        // SAFETY: non-null and writable by COM's contract.
        unsafe { Interface.write_unaligned(This.cast()) };
        STATUS_SUCCESS
    } else {
        // SAFETY: as above.
        unsafe { Interface.write_unaligned(core::ptr::null_mut()) };
        STATUS_INVALID_PARAMETER
    }
}

unsafe extern "system" fn add_ref(This: *mut IUnknown) -> u32 {
    with_state("IInterruptSync::AddRef", |m| m.com_add_ref(object_of(This)))
}

unsafe extern "system" fn release(This: *mut IUnknown) -> u32 {
    let object = object_of(This);
    let remaining = with_state("IInterruptSync::Release", |m| {
        let remaining = m.com_release(object);
        if remaining == Some(0) {
            m.interrupts.remove(&object);
        }
        remaining
    });
    if remaining == Some(0) {
        // SAFETY: the object came from Box::into_raw in PcNewInterruptSync and its count just
        // reached 0, so this is the one place that frees it; the registry refuses any later
        // Release (a finding) instead of reaching here again.
        drop(unsafe { Box::from_raw(This.cast::<InterruptSyncObject>()) });
    }
    remaining.unwrap_or(0)
}

unsafe extern "system" fn call_synchronized_routine(
    This: *mut IInterruptSync,
    Routine: PINTERRUPTSYNCROUTINE,
    DynamicContext: PVOID,
) -> NTSTATUS {
    const CALL: &str = "IInterruptSync::CallSynchronizedRoutine";
    let object = This as usize;
    let Some(dirql) = with_state(CALL, |m| {
        let dirql = m.interrupts.get(&object).map(|i| i.dirql);
        match dirql {
            Some(d) => {
                m.check_call(CALL, d, false);
            }
            None => m.record(Finding::UninitializedObject {
                call: CALL,
                kind: KIND,
                object,
            }),
        }
        dirql
    }) else {
        return STATUS_UNSUCCESSFUL;
    };
    let status = call_sync_routine(
        object,
        RoutineKind::SynchronizedRoutine,
        Routine,
        DynamicContext,
        dirql,
    );
    service();
    status
}

unsafe extern "system" fn get_kinterrupt(This: *mut IInterruptSync) -> PKINTERRUPT {
    let connected = with_state("IInterruptSync::GetKInterrupt", |m| {
        m.interrupts
            .get(&(This as usize))
            .is_some_and(|i| i.connected)
    });
    if connected {
        // SAFETY: `This` is a live InterruptSyncObject (it is in the machine's table).
        unsafe { (&raw mut (*This.cast::<InterruptSyncObject>()).kinterrupt).cast::<KINTERRUPT>() }
    } else {
        core::ptr::null_mut()
    }
}

unsafe extern "system" fn connect(This: *mut IInterruptSync) -> NTSTATUS {
    const CALL: &str = "IInterruptSync::Connect";
    let object = This as usize;
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        let Some(interrupt) = m.interrupts.get_mut(&object) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: KIND,
                object,
            });
            return STATUS_UNSUCCESSFUL;
        };
        if interrupt.connected {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("{KIND} {object:#x} connected twice"),
            });
            return STATUS_UNSUCCESSFUL;
        }
        interrupt.connected = true;
        STATUS_SUCCESS
    })
}

unsafe extern "system" fn disconnect(This: *mut IInterruptSync) {
    const CALL: &str = "IInterruptSync::Disconnect";
    let object = This as usize;
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        match m.interrupts.get_mut(&object) {
            Some(interrupt) => interrupt.connected = false,
            None => m.record(Finding::UninitializedObject {
                call: CALL,
                kind: KIND,
                object,
            }),
        }
    });
}

unsafe extern "system" fn register_service_routine(
    This: *mut IInterruptSync,
    Routine: PINTERRUPTSYNCROUTINE,
    DynamicContext: PVOID,
    First: BOOLEAN,
) -> NTSTATUS {
    const CALL: &str = "IInterruptSync::RegisterServiceRoutine";
    let object = This as usize;
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if Routine.is_none() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "Routine",
            });
            return STATUS_INVALID_PARAMETER;
        }
        let Some(interrupt) = m.interrupts.get_mut(&object) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: KIND,
                object,
            });
            return STATUS_UNSUCCESSFUL;
        };
        if First == FALSE {
            interrupt.routines.push((Routine, DynamicContext));
        } else {
            interrupt.routines.insert(0, (Routine, DynamicContext));
        }
        STATUS_SUCCESS
    })
}

/// `PcGetTimeInterval`: any IRQL; 100 ns units elapsed since `Since` on the system clock
/// (which the simulation runs with the virtual clock).
///
/// # Safety
/// None.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcGetTimeInterval(Since: u64) -> u64 {
    with_state("PcGetTimeInterval", |m| m.now()).wrapping_sub(Since)
}
