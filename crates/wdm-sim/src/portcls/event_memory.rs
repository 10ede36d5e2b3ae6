//! The port allocator's memory: a fixed set of `DMUS_KERNEL_EVENT`s and data buffers, each
//! tracked (out or free, and which render pin holds it), so the verifier sees an event
//! returned twice, a write to an event after it was returned, and events a stream still holds
//! after STOP.
//!
//! Returned events and buffers are filled with a poison byte and go to the back of a FIFO, so
//! a driver that keeps writing to an event it gave back is caught when the event is handed
//! out again (or when the allocator is destroyed), long after the write. This module is the
//! one place in the port model that reads and writes the memory it shares with the driver.

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::mem::size_of;
use core::ptr::NonNull;

use dmus_sys::dmusic::{DMUS_KEF, DMUS_KERNEL_EVENT, DMUS_KERNEL_EVENT_DATA, SHORT_EVT};
use mxf::{EventPool, PoolStats};

use crate::finding::Finding;

/// The byte a returned event or buffer is filled with.
pub const POISON: u8 = 0xDD;

/// How big the allocator is. The sim's choice (`PortCls` documents only that buffers have one
/// fixed size per port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolSize {
    /// Events.
    pub events: usize,
    /// Data buffers.
    pub buffers: usize,
    /// Bytes per data buffer (`IAllocatorMXF::GetBufferSize`).
    pub buffer_size: u16,
}

impl Default for PoolSize {
    fn default() -> Self {
        Self {
            events: 1024,
            buffers: 64,
            buffer_size: 256,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Free,
    /// Handed out; `owner` is the render pin whose stream was given it, if any.
    Out {
        owner: Option<u32>,
    },
}

fn zero_event() -> DMUS_KERNEL_EVENT {
    DMUS_KERNEL_EVENT {
        bReserved: 0,
        cbStruct: 0,
        cbEvent: 0,
        usChannelGroup: 0,
        usFlags: DMUS_KEF::EVENT_COMPLETE,
        ullPresTime100ns: 0,
        ullBytePosition: 0,
        pNextEvt: core::ptr::null_mut(),
        uData: DMUS_KERNEL_EVENT_DATA {
            abData: [0; size_of::<*mut u8>()],
        },
    }
}

/// The field of `DMUS_KERNEL_EVENT` at byte `offset` (for messages).
fn field_at(offset: usize) -> &'static str {
    let pointer = size_of::<*mut u8>();
    match offset {
        0 => "bReserved",
        1 => "cbStruct",
        2..=3 => "cbEvent",
        4..=5 => "usChannelGroup",
        6..=7 => "usFlags",
        8..=15 => "ullPresTime100ns",
        16..=23 => "ullBytePosition",
        o if o < 24 + pointer => "pNextEvt",
        _ => "uData",
    }
}

/// Why a chain handed back to the allocator stopped being walked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PutReport {
    /// Events returned.
    pub events: usize,
    /// Buffers returned.
    pub buffers: usize,
}

/// The allocator's events and buffers.
pub struct TrackedPool {
    events: NonNull<DMUS_KERNEL_EVENT>,
    event_slots: Vec<Slot>,
    free_events: VecDeque<usize>,
    buffers: NonNull<u8>,
    buffer_size: usize,
    buffer_slots: Vec<Slot>,
    free_buffers: VecDeque<usize>,
    stats: PoolStats,
    findings: Vec<Finding>,
}

impl core::fmt::Debug for TrackedPool {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TrackedPool")
            .field("events", &self.event_slots.len())
            .field("buffers", &self.buffer_slots.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl TrackedPool {
    /// A pool of `size`, everything free and poisoned.
    #[must_use]
    pub fn new(size: PoolSize) -> Self {
        let events: Box<[DMUS_KERNEL_EVENT]> =
            (0..size.events.max(1)).map(|_| zero_event()).collect();
        let event_count = events.len();
        let buffer_size = usize::from(size.buffer_size.max(1));
        let buffers: Box<[u8]> = alloc::vec![POISON; buffer_size * size.buffers.max(1)].into();
        let buffer_count = buffers.len() / buffer_size;
        let events = NonNull::from(Box::leak(events)).cast::<DMUS_KERNEL_EVENT>();
        let buffers = NonNull::from(Box::leak(buffers)).cast::<u8>();
        let mut pool = Self {
            events,
            event_slots: alloc::vec![Slot::Free; event_count],
            free_events: (0..event_count).collect(),
            buffers,
            buffer_size,
            buffer_slots: alloc::vec![Slot::Free; buffer_count],
            free_buffers: (0..buffer_count).collect(),
            stats: PoolStats::default(),
            findings: Vec::new(),
        };
        for index in 0..event_count {
            pool.poison_event(index);
        }
        pool
    }

    /// Findings the pool made since the last call.
    pub fn take_findings(&mut self) -> Vec<Finding> {
        core::mem::take(&mut self.findings)
    }

    /// Bytes per data buffer.
    #[must_use]
    pub const fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    /// Counters.
    #[must_use]
    pub const fn stats(&self) -> PoolStats {
        self.stats
    }

    fn event_ptr(&self, index: usize) -> *mut DMUS_KERNEL_EVENT {
        self.events.as_ptr().wrapping_add(index)
    }

    fn buffer_ptr(&self, index: usize) -> *mut u8 {
        self.buffers.as_ptr().wrapping_add(index * self.buffer_size)
    }

    /// The event slot at `address`, if it is the start of one of this pool's events.
    fn event_index(&self, address: usize) -> Option<usize> {
        let base = self.events.as_ptr() as usize;
        let offset = address.checked_sub(base)?;
        let index = offset / size_of::<DMUS_KERNEL_EVENT>();
        (offset % size_of::<DMUS_KERNEL_EVENT>() == 0 && index < self.event_slots.len())
            .then_some(index)
    }

    /// The buffer slot at `address`, if it is the start of one of this pool's buffers.
    fn buffer_index(&self, address: usize) -> Option<usize> {
        let base = self.buffers.as_ptr() as usize;
        let offset = address.checked_sub(base)?;
        let index = offset / self.buffer_size;
        (offset % self.buffer_size == 0 && index < self.buffer_slots.len()).then_some(index)
    }

    /// Whether `address` is an event of this pool that is handed out.
    #[must_use]
    pub fn is_out(&self, address: usize) -> bool {
        self.event_index(address)
            .is_some_and(|i| matches!(self.event_slots[i], Slot::Out { .. }))
    }

    fn read_event(&self, index: usize) -> DMUS_KERNEL_EVENT {
        // SAFETY: `index` is in range, so the pointer is inside the pool's live allocation,
        // aligned, and holds an initialised event (every bit pattern of its plain fields is
        // valid). The driver may hold a pointer to it too; a read copy races with nothing on
        // the simulation's one thread.
        unsafe { self.event_ptr(index).read() }
    }

    fn event_bytes(&self, index: usize) -> &[u8] {
        // SAFETY: as in read_event: in range and initialised; DMUS_KERNEL_EVENT has no padding
        // (pinned by dmus-sys), so all its bytes are initialised. The slice lives only while
        // no write to the pool happens (it borrows `self`).
        unsafe {
            core::slice::from_raw_parts(
                self.event_ptr(index).cast::<u8>(),
                size_of::<DMUS_KERNEL_EVENT>(),
            )
        }
    }

    fn buffer_bytes(&self, index: usize) -> &[u8] {
        // SAFETY: in range: `buffer_size` initialised bytes inside the pool's allocation.
        unsafe { core::slice::from_raw_parts(self.buffer_ptr(index), self.buffer_size) }
    }

    fn poison_event(&mut self, index: usize) {
        // SAFETY: in range; the pool owns a free event, so nothing may legitimately use it.
        unsafe {
            self.event_ptr(index)
                .cast::<u8>()
                .write_bytes(POISON, size_of::<DMUS_KERNEL_EVENT>());
        }
    }

    fn poison_buffer(&mut self, index: usize) {
        // SAFETY: in range; the buffer is free.
        unsafe { self.buffer_ptr(index).write_bytes(POISON, self.buffer_size) };
    }

    /// The first byte of a free event that is not poison, as a message.
    fn damage_of_event(&self, index: usize) -> Option<String> {
        let bytes = self.event_bytes(index);
        let offset = bytes.iter().position(|&b| b != POISON)?;
        Some(format!(
            "{} (byte {offset}) was written after PutMessage (found {:#04x}, poison is {POISON:#04x})",
            field_at(offset),
            bytes[offset]
        ))
    }

    fn damage_of_buffer(&self, index: usize) -> Option<String> {
        let bytes = self.buffer_bytes(index);
        let offset = bytes.iter().position(|&b| b != POISON)?;
        Some(format!(
            "data buffer {:#x} byte {offset} was written after it was returned",
            self.buffer_ptr(index) as usize
        ))
    }

    /// Hands out a zeroed event (`IAllocatorMXF::GetMessage`); checks the poison first.
    pub fn take_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        let Some(index) = self.free_events.pop_front() else {
            self.stats.event_failures += 1;
            return None;
        };
        if let Some(detail) = self.damage_of_event(index) {
            self.findings.push(Finding::EventUsedAfterReturn {
                event: self.event_ptr(index) as usize,
                detail,
            });
        }
        // SAFETY: in range; the event is free and now being handed out; zeroing a plain struct.
        unsafe { self.event_ptr(index).write(zero_event()) };
        self.event_slots[index] = Slot::Out { owner: None };
        self.stats.event_taken();
        NonNull::new(self.event_ptr(index))
    }

    /// Hands out a data buffer (`IAllocatorMXF::GetBuffer`), zeroed.
    pub fn take_buffer(&mut self) -> Option<NonNull<u8>> {
        let Some(index) = self.free_buffers.pop_front() else {
            self.stats.buffer_failures += 1;
            return None;
        };
        if let Some(detail) = self.damage_of_buffer(index) {
            self.findings.push(Finding::EventUsedAfterReturn {
                event: self.buffer_ptr(index) as usize,
                detail,
            });
        }
        // SAFETY: in range; the buffer is free and now being handed out.
        unsafe { self.buffer_ptr(index).write_bytes(0, self.buffer_size) };
        self.buffer_slots[index] = Slot::Out { owner: None };
        self.stats.buffer_taken();
        NonNull::new(self.buffer_ptr(index))
    }

    /// Takes back one buffer. `call` names who returned it (for messages).
    pub fn return_buffer(&mut self, address: usize, call: &str) -> bool {
        let Some(index) = self.buffer_index(address) else {
            self.findings.push(Finding::PortContract {
                detail: format!("{call}: {address:#x} is no data buffer of this allocator"),
            });
            return false;
        };
        if self.buffer_slots[index] == Slot::Free {
            self.findings
                .push(Finding::EventReturnedTwice { event: address });
            return false;
        }
        self.buffer_slots[index] = Slot::Free;
        self.poison_buffer(index);
        self.free_buffers.push_back(index);
        self.stats.buffers_in_use -= 1;
        true
    }

    fn return_event(&mut self, index: usize) {
        self.event_slots[index] = Slot::Free;
        self.poison_event(index);
        self.free_events.push_back(index);
        self.stats.events_in_use -= 1;
    }

    /// Takes back a whole chain handed to `IAllocatorMXF::PutMessage`: every event, package
    /// contents and data buffers included. Walking stops at the first event that is not
    /// this pool's or already free (a finding; the rest of the chain is not trusted).
    pub fn return_chain(&mut self, head: usize, call: &str) -> PutReport {
        let mut report = PutReport::default();
        let mut pending: Vec<usize> = Vec::new();
        if head != 0 {
            pending.push(head);
        }
        while let Some(address) = pending.pop() {
            let Some(index) = self.event_index(address) else {
                self.findings.push(Finding::PortContract {
                    detail: format!(
                        "{call}: {address:#x} is no event of this allocator (chain walk stopped)"
                    ),
                });
                break;
            };
            if self.event_slots[index] == Slot::Free {
                self.findings
                    .push(Finding::EventReturnedTwice { event: address });
                break;
            }
            let event = self.read_event(index);
            if !event.pNextEvt.is_null() {
                pending.push(event.pNextEvt as usize);
            }
            if event.usFlags.contains(DMUS_KEF::PACKAGE_EVENT) {
                // SAFETY: a package event's payload is its pPackageEvt pointer (dmusicks.h);
                // reading a pointer-sized union member of a copy.
                let contents = unsafe { event.uData.pPackageEvt } as usize;
                if contents != 0 {
                    pending.push(contents);
                }
            } else if !SHORT_EVT(event.cbEvent) {
                // SAFETY: a long event's payload is its pbData pointer; a copy's union member.
                let buffer = unsafe { event.uData.pbData } as usize;
                if buffer != 0 && self.return_buffer(buffer, call) {
                    report.buffers += 1;
                }
            }
            self.return_event(index);
            report.events += 1;
        }
        report
    }

    /// Walks a chain about to go to a render stream: marks each event (package contents
    /// included) as held by `pin` and moves its time by `offset` (presentation to master time).
    pub fn deliver(&mut self, head: usize, pin: u32, offset: i64) {
        let mut pending: Vec<usize> = Vec::new();
        if head != 0 {
            pending.push(head);
        }
        while let Some(address) = pending.pop() {
            let Some(index) = self.event_index(address) else {
                break;
            };
            if self.event_slots[index] == Slot::Free {
                break;
            }
            let mut event = self.read_event(index);
            event.ullPresTime100ns = event.ullPresTime100ns.saturating_add(offset);
            if !event.pNextEvt.is_null() {
                pending.push(event.pNextEvt as usize);
            }
            if event.usFlags.contains(DMUS_KEF::PACKAGE_EVENT) {
                // SAFETY: as in return_chain.
                let contents = unsafe { event.uData.pPackageEvt } as usize;
                if contents != 0 {
                    pending.push(contents);
                }
            }
            // SAFETY: in range; the event is out and owned by the port until it is handed on
            // right after this walk.
            unsafe { self.event_ptr(index).write(event) };
            self.event_slots[index] = Slot::Out { owner: Some(pin) };
        }
    }

    /// Events handed to `pin`'s stream and not returned.
    #[must_use]
    pub fn held_by(&self, pin: u32) -> usize {
        self.event_slots
            .iter()
            .filter(|s| **s == Slot::Out { owner: Some(pin) })
            .count()
    }

    /// Events and buffers handed out and not returned.
    #[must_use]
    pub fn outstanding(&self) -> (usize, usize) {
        (self.stats.events_in_use, self.stats.buffers_in_use)
    }

    /// Checks every free event and buffer for writes after return (the allocator's final
    /// check, when it is destroyed).
    pub fn check_free_memory(&mut self) {
        for index in 0..self.event_slots.len() {
            if self.event_slots[index] == Slot::Free {
                if let Some(detail) = self.damage_of_event(index) {
                    let event = self.event_ptr(index) as usize;
                    self.findings
                        .push(Finding::EventUsedAfterReturn { event, detail });
                    self.poison_event(index);
                }
            }
        }
        for index in 0..self.buffer_slots.len() {
            if self.buffer_slots[index] == Slot::Free {
                if let Some(detail) = self.damage_of_buffer(index) {
                    let event = self.buffer_ptr(index) as usize;
                    self.findings
                        .push(Finding::EventUsedAfterReturn { event, detail });
                    self.poison_buffer(index);
                }
            }
        }
    }
}

impl Drop for TrackedPool {
    fn drop(&mut self) {
        let events =
            core::ptr::slice_from_raw_parts_mut(self.events.as_ptr(), self.event_slots.len());
        let buffers = core::ptr::slice_from_raw_parts_mut(
            self.buffers.as_ptr(),
            self.buffer_slots.len() * self.buffer_size,
        );
        // SAFETY: both came from Box::leak of boxed slices of exactly these lengths in `new`,
        // and are freed once, here.
        drop(unsafe { Box::from_raw(events) });
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(buffers) });
    }
}

// SAFETY: `take_event` hands out zeroed, aligned events that nothing else uses until returned
// (the slot table guarantees it); `take_buffer` hands out `buffer_size` bytes likewise;
// `buffer_size` never changes; the memory lives until the pool is dropped, which happens only
// when the allocator's last reference goes.
unsafe impl EventPool for TrackedPool {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        self.take_event()
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        let address = event.as_ptr() as usize;
        match self.event_index(address) {
            Some(index) if self.event_slots[index] != Slot::Free => self.return_event(index),
            Some(_) => self
                .findings
                .push(Finding::EventReturnedTwice { event: address }),
            None => self.findings.push(Finding::PortContract {
                detail: format!("port: {address:#x} is no event of this allocator"),
            }),
        }
    }

    fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        self.take_buffer()
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        self.return_buffer(buffer.as_ptr() as usize, "port");
    }

    fn stats(&self) -> PoolStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxf::Chain;

    fn small() -> TrackedPool {
        TrackedPool::new(PoolSize {
            events: 4,
            buffers: 2,
            buffer_size: 16,
        })
    }

    #[test]
    fn events_come_zeroed_and_go_back_poisoned_in_fifo_order() {
        let mut pool = small();
        let a = pool.take_event().unwrap();
        assert!(pool.event_bytes(0).iter().all(|&b| b == 0));
        let report = pool.return_chain(a.as_ptr() as usize, "test");
        assert_eq!(
            report,
            PutReport {
                events: 1,
                buffers: 0
            }
        );
        assert!(pool.event_bytes(0).iter().all(|&b| b == POISON));
        // FIFO: the returned event is handed out last.
        let b = pool.take_event().unwrap();
        assert_ne!(a, b);
        assert!(pool.take_findings().is_empty());
    }

    #[test]
    fn a_chain_with_a_package_and_a_buffer_comes_back_whole() {
        let mut pool = small();
        let long = Chain::event(&mut pool, 5, 1, DMUS_KEF::EVENT_COMPLETE, &[0xF0; 12]).unwrap();
        let short = Chain::event(&mut pool, 6, 1, DMUS_KEF::EVENT_COMPLETE, &[0x90, 1, 2]).unwrap();
        let mut inner = long;
        inner.push_back(short);
        let package = Chain::package(&mut pool, 5, 1, inner).unwrap();
        assert_eq!(pool.outstanding(), (3, 1));
        let report = pool.return_chain(package.into_raw() as usize, "test");
        assert_eq!(
            report,
            PutReport {
                events: 3,
                buffers: 1
            }
        );
        assert_eq!(pool.outstanding(), (0, 0));
        assert!(pool.take_findings().is_empty());
    }

    #[test]
    fn returning_twice_is_caught() {
        let mut pool = small();
        let a = pool.take_event().unwrap().as_ptr() as usize;
        pool.return_chain(a, "test");
        pool.return_chain(a, "test");
        assert_eq!(
            pool.take_findings(),
            [Finding::EventReturnedTwice { event: a }]
        );
    }

    #[test]
    fn a_write_after_return_is_caught_when_the_event_comes_round_again() {
        let mut pool = small();
        let a = pool.take_event().unwrap();
        pool.return_chain(a.as_ptr() as usize, "test");
        // SAFETY: the test plays a buggy driver: the event is still valid memory of the pool.
        unsafe { (*a.as_ptr()).usChannelGroup = 7 };
        for _ in 0..4 {
            let e = pool.take_event().unwrap();
            pool.return_chain(e.as_ptr() as usize, "test");
        }
        let findings = pool.take_findings();
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(matches!(
            &findings[0],
            Finding::EventUsedAfterReturn { event, detail }
                if *event == a.as_ptr() as usize && detail.starts_with("usChannelGroup (byte 4)")
        ));
    }

    #[test]
    fn foreign_pointers_stop_the_walk() {
        let mut pool = small();
        let mut outside = zero_event();
        pool.return_chain(&raw mut outside as usize, "IAllocatorMXF::PutMessage");
        assert!(matches!(
            &pool.take_findings()[..],
            [Finding::PortContract { detail }] if detail.contains("no event of this allocator")
        ));
    }

    proptest::proptest! {
        /// Correct use never trips the checks: any interleaving of chains built (short and
        /// long events, packages) and returned whole leaves nothing out and no finding, even
        /// when the pool runs dry on the way.
        #[test]
        fn correct_use_is_quiet_and_everything_comes_back(
            ops in proptest::collection::vec((0_usize..20, proptest::bool::ANY, 0_usize..4), 1..60)
        ) {
            let mut pool = TrackedPool::new(PoolSize { events: 8, buffers: 3, buffer_size: 16 });
            let mut held: Vec<Chain> = Vec::new();
            for (len, package, give_back) in ops {
                let data: Vec<u8> = (0..len.min(16)).map(|b| u8::try_from(b).unwrap()).collect();
                let built = if data.is_empty() {
                    Ok(Chain::new())
                } else {
                    Chain::event(&mut pool, 1, 1, DMUS_KEF::EVENT_COMPLETE, &data).map_err(|_| ())
                };
                if let Ok(chain) = built {
                    let chain = if package && !chain.is_empty() {
                        match Chain::package(&mut pool, 1, 1, chain) {
                            Ok(p) => p,
                            Err((_, inner)) => inner,
                        }
                    } else {
                        chain
                    };
                    held.push(chain);
                }
                for _ in 0..give_back.min(held.len()) {
                    let chain = held.remove(0);
                    pool.return_chain(chain.into_raw() as usize, "test");
                }
            }
            for chain in held {
                pool.return_chain(chain.into_raw() as usize, "test");
            }
            pool.check_free_memory();
            proptest::prop_assert_eq!(pool.outstanding(), (0, 0));
            proptest::prop_assert!(pool.take_findings().is_empty());
        }
    }

    #[test]
    fn delivery_marks_the_holder_and_moves_the_time() {
        let mut pool = small();
        let chain =
            Chain::event(&mut pool, 100, 1, DMUS_KEF::EVENT_COMPLETE, &[0x90, 1, 2]).unwrap();
        let head = chain.into_raw();
        pool.deliver(head as usize, 3, 1_000);
        assert_eq!(pool.held_by(3), 1);
        assert_eq!(
            pool.read_event(pool.event_index(head as usize).unwrap())
                .ullPresTime100ns,
            1_100
        );
        pool.return_chain(head as usize, "test");
        assert_eq!(pool.held_by(3), 0);
    }
}
