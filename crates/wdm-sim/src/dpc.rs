//! DPCs: the `KDPC`s the driver initialised and the processor's DPC queue, which also carries
//! `EX_TIMER` callbacks (the kernel runs them from a DPC) and the port model's host callbacks.

use alloc::collections::{BTreeMap, VecDeque};

use dmus_sys::kernel::{PKDEFERRED_ROUTINE, PVOID};

/// A `KDPC` the driver initialised.
#[derive(Clone, Copy, Debug)]
pub struct DpcObject {
    /// Its deferred routine.
    pub routine: PKDEFERRED_ROUTINE,
    /// Its context.
    pub context: PVOID,
    /// The system arguments it was queued with, while queued.
    pub queued: Option<(PVOID, PVOID)>,
}

/// An entry of the DPC queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueuedDpc {
    /// A `KDPC`, by address.
    Kernel(usize),
    /// An `EX_TIMER`'s callback, by handle.
    ExTimer(usize),
    /// A host callback of the port model, by id.
    Host(u64),
}

/// The DPC objects and queue.
#[derive(Debug, Default)]
pub struct Dpcs {
    /// Initialised `KDPC`s by address.
    pub objects: BTreeMap<usize, DpcObject>,
    /// The queue, in the order DPCs will run.
    pub queue: VecDeque<QueuedDpc>,
}

impl Dpcs {
    /// `KeInsertQueueDpc` on a known `KDPC`: false if it was already queued.
    pub fn insert(&mut self, dpc: usize, arg1: PVOID, arg2: PVOID) -> bool {
        let Some(object) = self.objects.get_mut(&dpc) else {
            return false;
        };
        if object.queued.is_some() {
            return false;
        }
        object.queued = Some((arg1, arg2));
        self.queue.push_back(QueuedDpc::Kernel(dpc));
        true
    }

    /// `KeRemoveQueueDpc`: true if it was queued.
    pub fn remove(&mut self, dpc: usize) -> bool {
        let Some(object) = self.objects.get_mut(&dpc) else {
            return false;
        };
        if object.queued.take().is_none() {
            return false;
        }
        self.queue.retain(|q| *q != QueuedDpc::Kernel(dpc));
        true
    }

    /// Forgets every `KDPC` in `[start, end)` (its memory is being freed), returning the
    /// addresses of those that were queued (and are now dequeued).
    pub fn forget_range(&mut self, start: usize, end: usize) -> alloc::vec::Vec<usize> {
        let doomed: alloc::vec::Vec<usize> =
            self.objects.range(start..end).map(|(&a, _)| a).collect();
        let mut queued = alloc::vec::Vec::new();
        for a in doomed {
            if self.remove(a) {
                queued.push(a);
            }
            self.objects.remove(&a);
        }
        queued
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(addrs: &[usize]) -> Dpcs {
        let mut dpcs = Dpcs::default();
        for &a in addrs {
            dpcs.objects.insert(
                a,
                DpcObject {
                    routine: None,
                    context: core::ptr::null_mut(),
                    queued: None,
                },
            );
        }
        dpcs
    }

    #[test]
    fn a_dpc_is_queued_once_until_it_runs_or_is_removed() {
        let mut dpcs = with(&[0x10, 0x20]);
        assert!(dpcs.insert(0x10, core::ptr::null_mut(), core::ptr::null_mut()));
        assert!(!dpcs.insert(0x10, core::ptr::null_mut(), core::ptr::null_mut()));
        assert!(dpcs.insert(0x20, core::ptr::null_mut(), core::ptr::null_mut()));
        assert_eq!(
            dpcs.queue,
            [QueuedDpc::Kernel(0x10), QueuedDpc::Kernel(0x20)]
        );
        assert!(dpcs.remove(0x10));
        assert!(!dpcs.remove(0x10));
        assert_eq!(dpcs.queue, [QueuedDpc::Kernel(0x20)]);
        assert!(!dpcs.insert(0x99, core::ptr::null_mut(), core::ptr::null_mut()));
    }

    #[test]
    fn forgetting_a_range_dequeues_and_reports() {
        let mut dpcs = with(&[0x10, 0x20, 0x80]);
        dpcs.insert(0x20, core::ptr::null_mut(), core::ptr::null_mut());
        dpcs.insert(0x80, core::ptr::null_mut(), core::ptr::null_mut());
        assert_eq!(dpcs.forget_range(0x10, 0x40), [0x20]);
        assert_eq!(dpcs.queue, [QueuedDpc::Kernel(0x80)]);
        assert!(!dpcs.objects.contains_key(&0x10));
    }
}
