//! Work items: `IoAllocateWorkItem`, `IoQueueWorkItem`, `IoFreeWorkItem`.

use alloc::format;

use dmus_sys::kernel::{
    DISPATCH_LEVEL, IO_WORKITEM, PDEVICE_OBJECT, PIO_WORKITEM, PIO_WORKITEM_ROUTINE, PVOID,
    WORK_QUEUE_TYPE,
};

use crate::current::with_state;
use crate::finding::Finding;
use crate::work::QueuedWork;

/// `IoAllocateWorkItem`: IRQL ≤ `DISPATCH_LEVEL`; NULL when fault injection fails it.
///
/// # Safety
/// `DeviceObject` is NULL (a finding) or the driver's device object.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoAllocateWorkItem(DeviceObject: PDEVICE_OBJECT) -> PIO_WORKITEM {
    const CALL: &str = "IoAllocateWorkItem";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if DeviceObject.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "DeviceObject",
            });
            return core::ptr::null_mut();
        }
        if m.pool.inject_failure() {
            return core::ptr::null_mut();
        }
        m.work.allocate(DeviceObject as usize) as *mut IO_WORKITEM
    })
}

/// `IoQueueWorkItem`: IRQL ≤ `DISPATCH_LEVEL`; the routine runs at `PASSIVE_LEVEL` from the idle
/// loop. Queueing an item already queued is a finding.
///
/// # Safety
/// `IoWorkItem` is a handle from `IoAllocateWorkItem` (anything else is a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoQueueWorkItem(
    IoWorkItem: PIO_WORKITEM,
    WorkerRoutine: PIO_WORKITEM_ROUTINE,
    QueueType: WORK_QUEUE_TYPE,
    Context: PVOID,
) {
    const CALL: &str = "IoQueueWorkItem";
    let _ = QueueType;
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if WorkerRoutine.is_none() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "WorkerRoutine",
            });
            return;
        }
        let Some(item) = m.work.items.get_mut(&(IoWorkItem as usize)) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "IO_WORKITEM",
                object: IoWorkItem as usize,
            });
            return;
        };
        if item.queued.is_some() {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("IO_WORKITEM {IoWorkItem:p} queued twice"),
            });
            return;
        }
        item.queued = Some((WorkerRoutine, Context));
        m.work
            .queue
            .push_back(QueuedWork::Item(IoWorkItem as usize));
    });
}

/// `IoFreeWorkItem`: IRQL ≤ `DISPATCH_LEVEL`. Freeing a queued item is a finding (it is
/// dequeued).
///
/// # Safety
/// `IoWorkItem` is a handle from `IoAllocateWorkItem` (anything else is a finding).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn IoFreeWorkItem(IoWorkItem: PIO_WORKITEM) {
    const CALL: &str = "IoFreeWorkItem";
    with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        let address = IoWorkItem as usize;
        let Some(item) = m.work.items.remove(&address) else {
            m.record(Finding::UninitializedObject {
                call: CALL,
                kind: "IO_WORKITEM",
                object: address,
            });
            return;
        };
        if item.queued.is_some() {
            m.work.queue.retain(|q| *q != QueuedWork::Item(address));
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: format!("IO_WORKITEM {IoWorkItem:p} freed while queued"),
            });
        }
    });
}
