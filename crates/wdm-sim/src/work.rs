//! Work items (`IO_WORKITEM`): allocated handles and the system worker queue, run at
//! `PASSIVE_LEVEL` by the simulation's idle loop. The port model's passive host callbacks share
//! the queue.

use alloc::boxed::Box;
use alloc::collections::{BTreeMap, VecDeque};

use dmus_sys::kernel::{PIO_WORKITEM_ROUTINE, PVOID};

/// An `IO_WORKITEM` the driver allocated.
#[derive(Debug)]
pub struct WorkItem {
    /// The device object it was allocated for.
    pub device: usize,
    /// Routine and context while queued.
    pub queued: Option<(PIO_WORKITEM_ROUTINE, PVOID)>,
    /// Gives the handle its address; never read.
    pub handle: Box<u64>,
}

/// An entry of the worker queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueuedWork {
    /// An `IO_WORKITEM`, by handle.
    Item(usize),
    /// A host callback of the port model, by id.
    Host(u64),
}

/// Work items and the worker queue.
#[derive(Debug, Default)]
pub struct Work {
    /// Allocated work items by handle.
    pub items: BTreeMap<usize, WorkItem>,
    /// The queue, in the order items will run.
    pub queue: VecDeque<QueuedWork>,
}

impl Work {
    /// `IoAllocateWorkItem`: a new handle.
    pub fn allocate(&mut self, device: usize) -> usize {
        let handle = Box::new(0_u64);
        let address = core::ptr::from_ref::<u64>(&handle) as usize;
        self.items.insert(
            address,
            WorkItem {
                device,
                queued: None,
                handle,
            },
        );
        address
    }
}
