//! The port's capture sink: the `IMXF` a capture stream is connected to (`ConnectOutput`).
//! It records every event's master time and bytes (room reserved up front: `PutMessage`
//! runs at DISPATCH_LEVEL and does not allocate) and gives each chain back to the port's
//! allocator, as PortCls' capture sink does once it has packed the events into IRPs.

use alloc::vec::Vec;

use com_object::{ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IMXF, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;
use mxf::Chain;

use super::allocator::Allocator;
use crate::pool::Pool;
use crate::spin::SpinMutex;

/// One captured event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Captured {
    /// Its master-clock time (100 ns).
    pub time: i64,
    /// Where its bytes start in [`Record::bytes`].
    pub start: usize,
    /// How many bytes it has.
    pub len: usize,
    /// `DMUS_KEF_EVENT_INCOMPLETE`: more of the message follows in the next event.
    pub incomplete: bool,
}

/// What the sink recorded.
#[derive(Default)]
pub struct Record {
    /// The events, in arrival order.
    pub events: Vec<Captured>,
    /// Their bytes, back to back.
    pub bytes: Vec<u8>,
    /// Events that did not fit the reserved room.
    pub dropped: usize,
}

/// The sink.
pub struct CaptureSink {
    record: SpinMutex<Record>,
    allocator: ComRef<Allocator>,
}

// SAFETY: the allocator reference is to our own free-threaded object; the record is behind
// its lock.
unsafe impl Send for CaptureSink {}

com_object::class!(CaptureSink, Pool: IMXF);

impl CaptureSink {
    /// A sink with room for `events` events and `bytes` bytes, giving chains back to
    /// `allocator` (one reference, the caller's).
    ///
    /// # Errors
    /// No memory.
    pub fn try_new(
        allocator: ComRef<Allocator>,
        events: usize,
        bytes: usize,
    ) -> Result<ComRef<Self>, NTSTATUS> {
        let mut record = Record::default();
        record
            .events
            .try_reserve_exact(events)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        record
            .bytes
            .try_reserve_exact(bytes)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        ComRef::try_new(Self {
            record: SpinMutex::new(record),
            allocator,
        })
    }

    /// Takes what was recorded.
    pub fn take(&self) -> Record {
        core::mem::take(&mut *self.record.lock())
    }
}

impl MxfImpl for CaptureSink {
    fn set_state(_this: &ComObject<Self>, _state: KSSTATE) -> NTSTATUS {
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        if event.is_null() {
            return STATUS_SUCCESS;
        }
        // SAFETY: a chain of the port's allocator events, given up by the stream (IMXF's contract).
        let chain = unsafe { Chain::from_raw(event) };
        {
            let mut record = this.record.lock();
            for event in &chain {
                let data = event.data();
                let fits = record.events.len() < record.events.capacity()
                    && record.bytes.len() + data.len() <= record.bytes.capacity();
                if !fits {
                    record.dropped += 1;
                    continue;
                }
                let start = record.bytes.len();
                record.bytes.extend_from_slice(data);
                record.events.push(Captured {
                    time: event.time(),
                    start,
                    len: data.len(),
                    incomplete: event.is_incomplete(),
                });
            }
        }
        this.allocator.with_pool(|pool| {
            let _count = chain.free(pool);
        });
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        // The end of the capture path: it has no output.
        STATUS_UNSUCCESSFUL
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_UNSUCCESSFUL
    }
}
