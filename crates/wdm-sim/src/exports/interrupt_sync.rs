//! `PortCls`' interrupt object: `PcNewInterruptSync` and the `IInterruptSync` COM object it
//! hands out (dmus-sys's vtable), plus `PcGetTimeInterval`.
//!
//! The object connects to the interrupt described by the resource list's interrupt entry
//! `ResourceIndex`: the translated descriptor's `Level` is the DIRQL its routines run at, the
//! untranslated descriptor's `Level` the ISA IRQ (see [`crate::translated_interrupt`]).
//! Aggregation (a non-NULL `OuterUnknown`) is not modelled: the call fails with
//! `STATUS_NOT_SUPPORTED`.

use alloc::format;
use core::cell::UnsafeCell;

use com_object::{ComObject, InterruptSyncImpl};
use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{
    BOOLEAN, CM_PARTIAL_RESOURCE_INTERRUPT, CmResourceTypeInterrupt, FALSE, NTSTATUS,
    PASSIVE_LEVEL, PCM_PARTIAL_RESOURCE_DESCRIPTOR, PKINTERRUPT, PVOID,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IInterruptSync, INTERRUPTSYNCMODE, PINTERRUPTSYNC, PINTERRUPTSYNCROUTINE, PRESOURCELIST,
};

use crate::current::with_state;
use crate::dispatch::call_sync_routine;
use crate::finding::{Finding, RoutineKind};
use crate::interrupt::{InterruptObject, MODE_NORMAL, MODE_REPEAT};
use crate::scheduler::service;
use crate::sim_object::{Registered, SimObject, address_of, new_object};

/// The interface name the COM registry reports.
const KIND: &str = "IInterruptSync";

/// The object: storage for the opaque `KINTERRUPT` that `GetKInterrupt` hands out while
/// connected. The reference count and the rest of the state live in the machine, keyed by the
/// object's address.
struct InterruptSync {
    kinterrupt: UnsafeCell<[u64; 2]>,
}

com_object::class!(InterruptSync, Registered<InterruptSync>: IInterruptSync);

impl SimObject for InterruptSync {
    const KIND: &'static str = KIND;
    const QUERY_INTERFACE: &'static str = "IInterruptSync::QueryInterface";

    fn destroyed(object: usize) {
        with_state("IInterruptSync::Release", |m| m.interrupts.remove(&object));
    }
}

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
    let object = new_object::<_, IInterruptSync>(InterruptSync {
        kinterrupt: UnsafeCell::new([0; 2]),
    })
    .as_ptr();
    with_state(CALL, |m| {
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

impl InterruptSyncImpl for InterruptSync {
    fn call_synchronized_routine(
        this: &ComObject<Self>,
        Routine: PINTERRUPTSYNCROUTINE,
        DynamicContext: PVOID,
    ) -> NTSTATUS {
        const CALL: &str = "IInterruptSync::CallSynchronizedRoutine";
        let object = address_of(this);
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

    fn get_kinterrupt(this: &ComObject<Self>) -> PKINTERRUPT {
        let connected = with_state("IInterruptSync::GetKInterrupt", |m| {
            m.interrupts
                .get(&address_of(this))
                .is_some_and(|i| i.connected)
        });
        if connected {
            this.kinterrupt.get().cast()
        } else {
            core::ptr::null_mut()
        }
    }

    fn connect(this: &ComObject<Self>) -> NTSTATUS {
        const CALL: &str = "IInterruptSync::Connect";
        let object = address_of(this);
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

    fn disconnect(this: &ComObject<Self>) {
        const CALL: &str = "IInterruptSync::Disconnect";
        let object = address_of(this);
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

    fn register_service_routine(
        this: &ComObject<Self>,
        Routine: PINTERRUPTSYNCROUTINE,
        DynamicContext: PVOID,
        First: BOOLEAN,
    ) -> NTSTATUS {
        const CALL: &str = "IInterruptSync::RegisterServiceRoutine";
        let object = address_of(this);
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
