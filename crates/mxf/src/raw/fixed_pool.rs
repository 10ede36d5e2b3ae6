//! The host's event pool: fixed capacity over plain memory, no allocation
//! after construction.
//!
//! Events and buffers live in `'static` slices, so memory handed out stays
//! valid even if the pool is dropped while chains are still out (the
//! [`EventPool`] contract). The event and buffer memory is only ever touched
//! through raw pointers derived once from those slices; the free lists live
//! in separate index arrays, so no reference to pool bookkeeping ever covers a
//! byte an event holder may be writing.

use super::{EventPool, PoolStats};
use core::fmt;
use core::ptr::NonNull;
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;

/// Link value of an element that is handed out.
const IN_USE: u32 = u32::MAX;
/// End of a free list.
const END: u32 = u32::MAX - 1;

/// Why a [`FixedPool`] could not be built over the given memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolConfigError {
    /// The link array's length differs from the element count.
    LinkCountMismatch,
    /// The buffer memory is smaller than `buffer_count * buffer_size`.
    BufferMemoryTooSmall,
    /// More elements than the free list can index.
    TooMany,
    /// A buffer size of zero.
    ZeroBufferSize,
}

impl fmt::Display for PoolConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LinkCountMismatch => "link array length differs from element count",
            Self::BufferMemoryTooSmall => "buffer memory smaller than count x size",
            Self::TooMany => "too many pool elements",
            Self::ZeroBufferSize => "buffer size of zero",
        })
    }
}

/// One free list over a fixed array of elements of `stride` bytes.
struct FreeList {
    base: NonNull<u8>,
    stride: usize,
    links: &'static mut [u32],
    head: u32,
}

impl FreeList {
    fn new(base: NonNull<u8>, stride: usize, links: &'static mut [u32]) -> Self {
        let count = links.len();
        for (i, link) in links.iter_mut().enumerate() {
            // count < END was checked by the caller, so i + 1 fits.
            *link = if i + 1 == count {
                END
            } else {
                u32::try_from(i + 1).unwrap_or(END)
            };
        }
        let head = if count == 0 { END } else { 0 };
        Self {
            base,
            stride,
            links,
            head,
        }
    }

    /// Takes the first free element, returning its index.
    fn take(&mut self) -> Option<usize> {
        if self.head == END {
            return None;
        }
        let index = self.head as usize;
        self.head = self.links[index];
        self.links[index] = IN_USE;
        Some(index)
    }

    /// The element's address.
    fn address(&self, index: usize) -> NonNull<u8> {
        // wrapping_add keeps the base pointer's provenance over the whole
        // slice; index < count so the result stays inside it.
        NonNull::new(self.base.as_ptr().wrapping_add(index * self.stride)).unwrap_or(self.base)
    }

    /// The index of an element address, if it is one of ours.
    fn index_of(&self, address: NonNull<u8>) -> Option<usize> {
        let offset = (address.as_ptr() as usize).checked_sub(self.base.as_ptr() as usize)?;
        let index = offset / self.stride;
        (offset % self.stride == 0 && index < self.links.len()).then_some(index)
    }

    /// Puts an element back; `false` when it was not handed out.
    fn give_back(&mut self, index: usize) -> bool {
        if self.links[index] != IN_USE {
            return false;
        }
        self.links[index] = self.head;
        // index < links.len() <= END, checked at construction.
        self.head = u32::try_from(index).unwrap_or(END);
        true
    }
}

/// A fixed-capacity [`EventPool`] over `'static` memory.
///
/// Giving back something twice, or something that is not from this pool, is
/// ignored and counted ([`FixedPool::bad_returns`]) rather than corrupting the
/// free lists.
pub struct FixedPool {
    events: FreeList,
    buffers: FreeList,
    buffer_size: usize,
    stats: PoolStats,
    bad_returns: u64,
}

// SAFETY: the pool exclusively owns its 'static memory and bookkeeping; moving
// it to another thread moves that ownership. Handed-out memory is owned by the
// chains, not shared with the pool.
unsafe impl Send for FixedPool {}

impl fmt::Debug for FixedPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FixedPool")
            .field("events", &self.events.links.len())
            .field("buffers", &self.buffers.links.len())
            .field("buffer_size", &self.buffer_size)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl FixedPool {
    /// Builds a pool over `events` (one link per event in `event_links`) and
    /// `buffer_links.len()` buffers of `buffer_size` bytes carved from
    /// `buffer_memory`.
    ///
    /// # Errors
    /// [`PoolConfigError`] when the slices do not match.
    pub fn new(
        events: &'static mut [DMUS_KERNEL_EVENT],
        event_links: &'static mut [u32],
        buffer_memory: &'static mut [u8],
        buffer_links: &'static mut [u32],
        buffer_size: usize,
    ) -> Result<Self, PoolConfigError> {
        if event_links.len() != events.len() {
            return Err(PoolConfigError::LinkCountMismatch);
        }
        if buffer_size == 0 {
            return Err(PoolConfigError::ZeroBufferSize);
        }
        if events.len() >= END as usize || buffer_links.len() >= END as usize {
            return Err(PoolConfigError::TooMany);
        }
        if buffer_links
            .len()
            .checked_mul(buffer_size)
            .is_none_or(|n| n > buffer_memory.len())
        {
            return Err(PoolConfigError::BufferMemoryTooSmall);
        }
        let event_base = NonNull::from(events).cast::<u8>();
        let buffer_base = NonNull::from(buffer_memory).cast::<u8>();
        Ok(Self {
            events: FreeList::new(
                event_base,
                core::mem::size_of::<DMUS_KERNEL_EVENT>(),
                event_links,
            ),
            buffers: FreeList::new(buffer_base, buffer_size, buffer_links),
            buffer_size,
            stats: PoolStats::default(),
            bad_returns: 0,
        })
    }

    /// A pool over freshly allocated memory that is leaked on purpose (it must
    /// outlive every chain), for host tests, benchmarks and the simulation.
    /// This is the only allocation; the pool never allocates afterwards.
    ///
    /// # Errors
    /// [`PoolConfigError`] for a zero buffer size or absurd counts.
    #[cfg(any(test, feature = "std"))]
    pub fn leaked(
        events: usize,
        buffers: usize,
        buffer_size: usize,
    ) -> Result<Self, PoolConfigError> {
        use dmus_sys::dmusic::DMUS_KERNEL_EVENT_DATA;
        use std::boxed::Box;
        use std::vec;
        if events >= END as usize || buffers >= END as usize {
            return Err(PoolConfigError::TooMany);
        }
        let zero = DMUS_KERNEL_EVENT {
            bReserved: 0,
            cbStruct: 0,
            cbEvent: 0,
            usChannelGroup: 0,
            usFlags: dmus_sys::dmusic::DMUS_KEF::EVENT_COMPLETE,
            ullPresTime100ns: 0,
            ullBytePosition: 0,
            pNextEvt: core::ptr::null_mut(),
            uData: DMUS_KERNEL_EVENT_DATA {
                abData: [0; super::INLINE_CAPACITY],
            },
        };
        let bytes = buffers
            .checked_mul(buffer_size)
            .ok_or(PoolConfigError::TooMany)?;
        Self::new(
            Box::leak(vec![zero; events].into_boxed_slice()),
            Box::leak(vec![0u32; events].into_boxed_slice()),
            Box::leak(vec![0u8; bytes].into_boxed_slice()),
            Box::leak(vec![0u32; buffers].into_boxed_slice()),
            buffer_size,
        )
    }

    /// Returns refused because the element was not out or not from this pool.
    #[must_use]
    pub const fn bad_returns(&self) -> u64 {
        self.bad_returns
    }

    /// Total events the pool holds.
    #[must_use]
    pub fn event_capacity(&self) -> usize {
        self.events.links.len()
    }

    /// Total buffers the pool holds.
    #[must_use]
    pub fn buffer_capacity(&self) -> usize {
        self.buffers.links.len()
    }
}

// SAFETY: events and buffers are distinct elements of 'static slices that the
// pool owns exclusively; the free lists hand each out at most once until it
// comes back (IN_USE marks), events are zeroed before they are handed out, and
// the memory is never freed (it is 'static), so it stays valid after a drop.
unsafe impl EventPool for FixedPool {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        let Some(index) = self.events.take() else {
            self.stats.event_failures += 1;
            return None;
        };
        let event = self.events.address(index).cast::<DMUS_KERNEL_EVENT>();
        // SAFETY: `event` is element `index` of the event slice, just taken off
        // the free list, so nobody else uses it; all-zero bytes are a valid
        // DMUS_KERNEL_EVENT (integers, null pointers, empty flags). Any IRQL.
        unsafe { core::ptr::write_bytes(event.as_ptr(), 0, 1) };
        self.stats.event_taken();
        Some(event)
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        match self.events.index_of(event.cast()) {
            Some(index) if self.events.give_back(index) => self.stats.events_in_use -= 1,
            _ => self.bad_returns += 1,
        }
    }

    fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        let Some(index) = self.buffers.take() else {
            self.stats.buffer_failures += 1;
            return None;
        };
        self.stats.buffer_taken();
        Some(self.buffers.address(index))
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        match self.buffers.index_of(buffer) {
            Some(index) if self.buffers.give_back(index) => self.stats.buffers_in_use -= 1,
            _ => self.bad_returns += 1,
        }
    }

    fn stats(&self) -> PoolStats {
        self.stats
    }
}
