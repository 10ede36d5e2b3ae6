//! Calling the driver's routines: DPCs, timer callbacks, ISRs, synchronized routines and work
//! items, each at its IRQL, inside a frame that measures it and checks what it left behind.
//! No borrow of the machine is held while driver code runs.

use dmus_sys::kernel::{
    DEVICE_OBJECT, DISPATCH_LEVEL, EX_TIMER, KDPC, NT_SUCCESS, NTSTATUS, PASSIVE_LEVEL, PVOID,
};
use dmus_sys::portcls::{IInterruptSync, PINTERRUPTSYNCROUTINE};

use crate::current::with_state;
use crate::finding::{Finding, RoutineKind};
use crate::interrupt::{MAX_REPEAT_PASSES, MODE_ALL, MODE_REPEAT};
use crate::state::{ReadyDpc, ReadyWork};

/// Runs one DPC (or timer callback, or host callback) at `DISPATCH_LEVEL`.
pub fn run_dpc(dpc: ReadyDpc) {
    match dpc {
        ReadyDpc::Kernel {
            dpc,
            routine: Some(routine),
            context,
            arg1,
            arg2,
        } => {
            let previous = with_state("DPC dispatch", |m| {
                m.enter_routine(RoutineKind::Dpc, routine as usize, DISPATCH_LEVEL)
            });
            // SAFETY: DISPATCH_LEVEL, as deferred routines require. `routine` and `context` are
            // what the driver passed to KeInitializeDpc for this KDPC, and the KDPC is still
            // initialised (freeing its memory forgets and dequeues it), so the call is the one
            // Windows would make.
            unsafe { routine(dpc as *mut KDPC, context, arg1, arg2) };
            with_state("DPC dispatch", |m| m.leave_routine(previous));
        }
        ReadyDpc::Kernel {
            routine: None, dpc, ..
        } => with_state("DPC dispatch", |m| {
            m.record(Finding::NullArgument {
                call: "KeInsertQueueDpc (DeferredRoutine)",
                argument: "routine",
            });
            let _ = dpc;
        }),
        ReadyDpc::ExTimer {
            timer,
            callback: Some(callback),
            context,
        } => {
            let previous = with_state("EX_TIMER dispatch", |m| {
                m.enter_routine(RoutineKind::ExTimer, callback as usize, DISPATCH_LEVEL)
            });
            // SAFETY: DISPATCH_LEVEL, as EXT_CALLBACK requires; the callback and context are
            // those the driver gave ExAllocateTimer for this handle.
            unsafe { callback(timer as *mut EX_TIMER, context) };
            with_state("EX_TIMER dispatch", |m| m.leave_routine(previous));
        }
        ReadyDpc::ExTimer { callback: None, .. } => {}
        ReadyDpc::Host(callback) => {
            let previous = with_state("host dispatch", |m| {
                m.enter_routine(RoutineKind::Host, 0, DISPATCH_LEVEL)
            });
            callback();
            with_state("host dispatch", |m| m.leave_routine(previous));
        }
    }
}

/// Runs one work item (or passive host callback) at `PASSIVE_LEVEL`.
pub fn run_work(work: ReadyWork) {
    match work {
        ReadyWork::Item {
            item,
            device,
            routine: Some(routine),
            context,
        } => {
            let previous = with_state("work item dispatch", |m| {
                m.enter_routine(RoutineKind::WorkItem, routine as usize, PASSIVE_LEVEL)
            });
            // SAFETY: PASSIVE_LEVEL in a worker "thread", as IO_WORKITEM_ROUTINE requires; device
            // and context are what the driver gave IoAllocateWorkItem / IoQueueWorkItem.
            unsafe { routine(device as *mut DEVICE_OBJECT, context) };
            with_state("work item dispatch", |m| m.leave_routine(previous));
            let _ = item;
        }
        ReadyWork::Item { routine: None, .. } => {}
        ReadyWork::Host(callback) => {
            let previous = with_state("host dispatch", |m| {
                m.enter_routine(RoutineKind::Host, 0, PASSIVE_LEVEL)
            });
            callback();
            with_state("host dispatch", |m| m.leave_routine(previous));
        }
    }
}

/// Calls one ISR or synchronized routine at `dirql`; returns its status.
pub fn call_sync_routine(
    object: usize,
    kind: RoutineKind,
    routine: PINTERRUPTSYNCROUTINE,
    context: PVOID,
    dirql: u8,
) -> NTSTATUS {
    let Some(routine) = routine else {
        with_state("IInterruptSync", |m| {
            m.record(Finding::NullArgument {
                call: "IInterruptSync routine",
                argument: "routine",
            });
        });
        return dmus_sys::kernel::STATUS_INVALID_PARAMETER;
    };
    let previous = with_state("IInterruptSync", |m| {
        m.enter_routine(kind, routine as usize, dirql)
    });
    // SAFETY: at the interrupt's DIRQL with its interrupts masked, as PINTERRUPTSYNCROUTINE
    // requires; `object` is the live IInterruptSync the routine was registered with (or called
    // through), and `context` is the caller's.
    let status = unsafe { routine(object as *mut IInterruptSync, context) };
    with_state("IInterruptSync", |m| m.leave_routine(previous));
    status
}

/// Delivers one interrupt to the `IInterruptSync` at `object`, calling its service routines
/// as its `INTERRUPTSYNCMODE` says.
pub fn run_interrupt(object: usize) {
    let Some((dirql, mode, routines)) = with_state("interrupt dispatch", |m| {
        m.interrupts
            .get(&object)
            .map(|i| (i.dirql, i.mode, i.routines.clone()))
    }) else {
        return;
    };
    let mut passes = 0;
    loop {
        let mut any_succeeded = false;
        for &(routine, context) in &routines {
            let ok = NT_SUCCESS(call_sync_routine(
                object,
                RoutineKind::Isr,
                routine,
                context,
                dirql,
            ));
            any_succeeded |= ok;
            if ok && mode != MODE_ALL && mode != MODE_REPEAT {
                break;
            }
        }
        passes += 1;
        if mode != MODE_REPEAT || !any_succeeded {
            break;
        }
        if passes >= MAX_REPEAT_PASSES {
            with_state("interrupt dispatch", |m| {
                m.record(Finding::Livelock {
                    detail: alloc::format!(
                        "IInterruptSync {object:#x} (InterruptSyncModeRepeat): service routines still claiming the interrupt after {MAX_REPEAT_PASSES} passes"
                    ),
                });
            });
            break;
        }
    }
}

/// Calls driver code `f` at `irql` the way the kernel or `PortCls` calls a driver routine: the
/// IRQL is set for the call, and on return the simulation checks that the routine left the
/// IRQL, spin locks and extended state as it found them (findings otherwise), then restores
/// the caller's IRQL and delivers what the restored IRQL unmasks. `routine` is the address
/// findings name (the method's function pointer). For the port model's calls into a miniport
/// (`IMXF::PutMessage` at `DISPATCH_LEVEL`, `SetState` at `PASSIVE_LEVEL`, ...).
pub fn call_driver<R>(routine: usize, irql: u8, f: impl FnOnce() -> R) -> R {
    let previous = with_state("call_driver", |m| {
        m.enter_routine(RoutineKind::DriverCall, routine, irql)
    });
    let result = f();
    with_state("call_driver", |m| m.leave_routine(previous));
    crate::scheduler::service();
    result
}
