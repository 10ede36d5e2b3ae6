//! Owned chains of `DMUS_KERNEL_EVENT`s.
//!
//! Invariant of [`Chain`] (every `unsafe` block below leans on it): each event
//! reachable from `head` through `pNextEvt` is valid for reads and writes,
//! owned by this chain alone, and the chain is acyclic with `tail` its last
//! event and `len` its length. A package event (`DMUS_KEF_PACKAGE_EVENT`)
//! owns the chain in `uData.pPackageEvt` (null = empty) on the same terms. Any
//! other event with `cbEvent > sizeof(PBYTE)` owns a pool buffer of at least
//! `cbEvent` bytes in `uData.pbData`; shorter data lives inline in `abData`.
//!
//! None of this code calls the kernel or touches pageable memory, so it runs
//! at any IRQL up to `DISPATCH_LEVEL` given nonpaged events.

use super::EventPool;
use core::fmt;
use core::marker::PhantomData;
use core::ptr::{self, NonNull};
use dmus_sys::dmusic::{
    DMUS_KEF, DMUS_KERNEL_EVENT, DMUS_KERNEL_EVENT_DATA, SHORT_EVT, kBytePositionNone,
};

/// Bytes of data an event holds inline (`sizeof(PBYTE)`): 8 on 64-bit
/// Windows, 4 on x86. Longer data goes to a pool buffer.
pub const INLINE_CAPACITY: usize = core::mem::size_of::<*mut u8>();

type Event = DMUS_KERNEL_EVENT;

/// Why an event could not be built. Nothing was taken from the pool then.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// The pool has no event left.
    NoEvent,
    /// The pool has no data buffer left.
    NoBuffer,
    /// The data does not fit one event (longer than the pool's buffers or
    /// than `cbEvent` can express); split it first.
    TooLong {
        /// Bytes asked for.
        len: usize,
        /// The most one event can hold.
        max: usize,
    },
    /// `DMUS_KEF_PACKAGE_EVENT` was asked for a data event.
    PackageFlag,
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NoEvent => f.write_str("event pool exhausted"),
            Self::NoBuffer => f.write_str("data buffer pool exhausted"),
            Self::TooLong { len, max } => write!(f, "{len} data bytes exceed one event's {max}"),
            Self::PackageFlag => f.write_str("package flag on a data event"),
        }
    }
}

/// What [`Chain::free`] gave back to the pool.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FreeCount {
    /// Events given back, package contents included.
    pub events: usize,
    /// Data buffers given back.
    pub buffers: usize,
}

/// An owned, possibly empty chain of events linked through `pNextEvt`.
///
/// A chain has no destructor (it cannot reach a pool from `drop`): end it with
/// [`Chain::free`] or [`Chain::into_raw`]. A chain dropped otherwise leaks its
/// events, which the pools' in-use counters show.
#[must_use = "a chain must be freed to its pool or handed on"]
pub struct Chain {
    head: Option<NonNull<Event>>,
    tail: Option<NonNull<Event>>,
    len: usize,
}

// SAFETY: a Chain owns its events exclusively (module invariant), so moving it
// to another thread moves that ownership; nothing is shared.
unsafe impl Send for Chain {}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Default for Chain {
    fn default() -> Self {
        Self::new()
    }
}

/// Reads an event's presentation time.
fn time_of(event: NonNull<Event>) -> i64 {
    // SAFETY: only called on events of a chain this module owns (invariant):
    // valid for reads. Any IRQL.
    unsafe { (*event.as_ptr()).ullPresTime100ns }
}

/// Reads an event's `pNextEvt`.
fn next_of(event: NonNull<Event>) -> Option<NonNull<Event>> {
    // SAFETY: as for time_of: an owned event, valid for reads. Any IRQL.
    NonNull::new(unsafe { (*event.as_ptr()).pNextEvt })
}

/// Writes an event's `pNextEvt`.
fn set_next(event: NonNull<Event>, next: Option<NonNull<Event>>) {
    let next = next.map_or(ptr::null_mut(), NonNull::as_ptr);
    // SAFETY: only called on events this module owns (invariant): valid for
    // writes and not referenced elsewhere. Any IRQL.
    unsafe { (*event.as_ptr()).pNextEvt = next };
}

impl Chain {
    /// An empty chain.
    pub const fn new() -> Self {
        Self {
            head: None,
            tail: None,
            len: 0,
        }
    }

    /// Takes ownership of a raw chain, as received from `IMXF::PutMessage`.
    /// A null pointer gives an empty chain.
    ///
    /// # Safety
    /// `head` is null or the first event of an acyclic chain that satisfies
    /// the module invariant (valid, exclusively owned by the caller, packages
    /// and long data as described) and whose events and buffers came from the
    /// pool the chain will be freed to. The caller gives up every other
    /// pointer to it.
    pub unsafe fn from_raw(head: *mut DMUS_KERNEL_EVENT) -> Self {
        let Some(first) = NonNull::new(head) else {
            return Self::new();
        };
        let mut tail = first;
        let mut len = 1;
        // Bounded by the chain's length; the caller promised it is acyclic.
        while let Some(next) = next_of(tail) {
            tail = next;
            len += 1;
        }
        Self {
            head: Some(first),
            tail: Some(tail),
            len,
        }
    }

    /// Gives up ownership: the raw head pointer (null when empty), for
    /// `IMXF::PutMessage` on the next stage or the allocator.
    #[must_use]
    pub fn into_raw(self) -> *mut DMUS_KERNEL_EVENT {
        self.head.map_or(ptr::null_mut(), NonNull::as_ptr)
    }

    /// Builds a one-event chain holding `data` (inline up to
    /// [`INLINE_CAPACITY`] bytes, else in one pool buffer).
    ///
    /// # Errors
    /// [`BuildError`]; the pool gets back whatever was taken.
    pub fn event<P: EventPool + ?Sized>(
        pool: &mut P,
        time: i64,
        channel_group: u16,
        flags: DMUS_KEF,
        data: &[u8],
    ) -> Result<Self, BuildError> {
        if flags.contains(DMUS_KEF::PACKAGE_EVENT) {
            return Err(BuildError::PackageFlag);
        }
        let max = if data.len() <= INLINE_CAPACITY {
            INLINE_CAPACITY
        } else {
            pool.buffer_size().min(usize::from(u16::MAX))
        };
        let cb_event = match u16::try_from(data.len()) {
            Ok(n) if data.len() <= max => n,
            _ => {
                return Err(BuildError::TooLong {
                    len: data.len(),
                    max,
                });
            }
        };
        let event = pool.get_event().ok_or(BuildError::NoEvent)?;
        let payload = if SHORT_EVT(cb_event) {
            let mut inline = [0u8; INLINE_CAPACITY];
            inline[..data.len()].copy_from_slice(data);
            DMUS_KERNEL_EVENT_DATA { abData: inline }
        } else {
            let Some(buffer) = pool.get_buffer() else {
                // SAFETY: `event` came from this pool just above and was not
                // used. DISPATCH_LEVEL at most, like every pool call.
                unsafe { pool.put_event(event) };
                return Err(BuildError::NoBuffer);
            };
            // SAFETY: the buffer holds buffer_size() >= data.len() bytes
            // (checked above), is exclusively ours (EventPool contract) and
            // cannot overlap `data`, which the caller borrows. Any IRQL.
            unsafe { ptr::copy_nonoverlapping(data.as_ptr(), buffer.as_ptr(), data.len()) };
            DMUS_KERNEL_EVENT_DATA {
                pbData: buffer.as_ptr(),
            }
        };
        // SAFETY: the pool handed us this zeroed event for our exclusive use
        // (EventPool contract); no other reference to it exists. Any IRQL.
        let slot = unsafe { &mut *event.as_ptr() };
        // bReserved and cbStruct stay as the allocator set them.
        slot.cbEvent = cb_event;
        slot.usChannelGroup = channel_group;
        slot.usFlags = flags;
        slot.ullPresTime100ns = time;
        slot.ullBytePosition = kBytePositionNone;
        slot.pNextEvt = ptr::null_mut();
        slot.uData = payload;
        Ok(Self {
            head: Some(event),
            tail: Some(event),
            len: 1,
        })
    }

    /// Builds a one-event chain: a package (`DMUS_KEF_PACKAGE_EVENT`) holding
    /// `contents`, to be handled atomically.
    ///
    /// # Errors
    /// [`BuildError::NoEvent`], with `contents` handed back untouched.
    pub fn package<P: EventPool + ?Sized>(
        pool: &mut P,
        time: i64,
        channel_group: u16,
        contents: Self,
    ) -> Result<Self, (BuildError, Self)> {
        let Some(event) = pool.get_event() else {
            return Err((BuildError::NoEvent, contents));
        };
        // SAFETY: as in `event`: a zeroed event exclusively ours. Any IRQL.
        let slot = unsafe { &mut *event.as_ptr() };
        slot.cbEvent = 0;
        slot.usChannelGroup = channel_group;
        slot.usFlags = DMUS_KEF::PACKAGE_EVENT;
        slot.ullPresTime100ns = time;
        slot.ullBytePosition = kBytePositionNone;
        slot.pNextEvt = ptr::null_mut();
        slot.uData = DMUS_KERNEL_EVENT_DATA {
            pPackageEvt: contents.into_raw(),
        };
        Ok(Self {
            head: Some(event),
            tail: Some(event),
            len: 1,
        })
    }

    /// Whether the chain holds no event.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Top-level events in the chain (a package counts as one).
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// The first event.
    #[must_use]
    pub fn front(&self) -> Option<EventRef<'_>> {
        self.iter().next()
    }

    /// The first event's presentation time.
    #[must_use]
    pub fn front_time(&self) -> Option<i64> {
        self.head.map(time_of)
    }

    /// The last event's presentation time.
    #[must_use]
    pub fn back_time(&self) -> Option<i64> {
        self.tail.map(time_of)
    }

    /// Iterates over the top-level events.
    #[must_use]
    pub fn iter(&self) -> ChainIter<'_> {
        ChainIter {
            next: self.head,
            _chain: PhantomData,
        }
    }

    /// Appends `other` after the last event, in O(1).
    // Taking `other` by value is the point: its events move into this chain,
    // and a copy-free type cannot be "consumed" in a way clippy sees.
    #[allow(clippy::needless_pass_by_value)]
    pub fn push_back(&mut self, other: Self) {
        let Self { head, tail, len } = other;
        let (Some(other_head), Some(other_tail)) = (head, tail) else {
            return;
        };
        match self.tail {
            None => self.head = Some(other_head),
            Some(tail) => set_next(tail, Some(other_head)),
        }
        self.tail = Some(other_tail);
        self.len += len;
    }

    /// Detaches the first event as a one-event chain (empty when `self` is).
    pub fn pop_front(&mut self) -> Self {
        let Some(first) = self.head else {
            return Self::new();
        };
        self.head = next_of(first);
        if self.head.is_none() {
            self.tail = None;
        }
        self.len -= 1;
        set_next(first, None);
        Self {
            head: Some(first),
            tail: Some(first),
            len: 1,
        }
    }

    /// Moves every event of `other` into this chain, which is kept ordered
    /// by presentation time: each event goes after every event whose time is
    /// less than or equal to its own, so equal times keep arrival order.
    ///
    /// Appending in time order costs O(1) per event; an event earlier than the
    /// last one walks from the previous insertion point, or from the head when
    /// it is earlier than that too.
    pub fn insert_by_time(&mut self, mut other: Self) {
        let mut cursor: Option<NonNull<Event>> = None;
        while let Some(node) = other.pop_front().head {
            let time = time_of(node);
            match (self.head, self.tail) {
                (Some(head), Some(tail)) if time_of(tail) > time => {
                    let start = match cursor {
                        Some(c) if time_of(c) <= time => c,
                        _ if time_of(head) > time => {
                            set_next(node, Some(head));
                            self.head = Some(node);
                            self.len += 1;
                            cursor = Some(node);
                            continue;
                        }
                        _ => head,
                    };
                    // Bounded by the chain's length: stops at the tail at the
                    // latest, whose time is greater than `time`.
                    let mut prev = start;
                    while let Some(next) = next_of(prev).filter(|&n| time_of(n) <= time) {
                        prev = next;
                    }
                    set_next(node, next_of(prev));
                    set_next(prev, Some(node));
                    self.len += 1;
                }
                _ => self.push_back(Self {
                    head: Some(node),
                    tail: Some(node),
                    len: 1,
                }),
            }
            cursor = Some(node);
        }
    }

    /// Moves every top-level event `by` later (saturating); order is
    /// unchanged, and package contents keep their own times (they play when
    /// their package does). A render stream uses it when it runs again after a
    /// pause: its held events carry master-clock times, and presentation time
    /// stood still for the pause's length.
    pub fn shift_times(&mut self, by: i64) {
        let mut cursor = self.head;
        // Bounded by the chain's length (acyclic: the invariant).
        while let Some(node) = cursor {
            // SAFETY: `node` is an event this chain owns (invariant): valid
            // for writes and not referenced elsewhere while this runs. Any
            // IRQL (memory only).
            let event = unsafe { &mut *node.as_ptr() };
            event.ullPresTime100ns = event.ullPresTime100ns.saturating_add(by);
            cursor = next_of(node);
        }
    }

    /// Detaches the leading events whose presentation time is at most `now`.
    pub fn split_due(&mut self, now: i64) -> Self {
        let mut last_due = None;
        let mut count = 0;
        let mut cursor = self.head;
        // Bounded by the chain's length.
        while let Some(node) = cursor {
            if time_of(node) > now {
                break;
            }
            last_due = Some(node);
            count += 1;
            cursor = next_of(node);
        }
        let Some(last) = last_due else {
            return Self::new();
        };
        let due = Self {
            head: self.head,
            tail: Some(last),
            len: count,
        };
        set_next(last, None);
        self.head = cursor;
        if cursor.is_none() {
            self.tail = None;
        }
        self.len -= count;
        due
    }

    /// If the first event is a package, puts its contents in its place (in
    /// order) and gives the package's own event back to `pool`. Returns
    /// whether it did.
    pub fn open_front_package<P: EventPool + ?Sized>(&mut self, pool: &mut P) -> bool {
        let Some(first) = self.head else {
            return false;
        };
        // SAFETY: `first` is owned by this chain (invariant): valid, and no
        // other reference to it exists while this one lives. Any IRQL.
        let event = unsafe { &mut *first.as_ptr() };
        if !event.usFlags.contains(DMUS_KEF::PACKAGE_EVENT) {
            return false;
        }
        // SAFETY: a package event's payload is its pPackageEvt pointer
        // (invariant); reading a pointer field of a plain union. Any IRQL.
        let contents = unsafe { event.uData.pPackageEvt };
        // Detach the contents from the shell so freeing the shell frees only it.
        event.uData = DMUS_KERNEL_EVENT_DATA {
            abData: [0; INLINE_CAPACITY],
        };
        event.usFlags = DMUS_KEF::EVENT_COMPLETE;
        event.cbEvent = 0;
        // SAFETY: the package owned its contents chain (invariant) and we just
        // cut the package's pointer to it, so ownership moves to this value.
        // Any IRQL (memory only).
        let mut contents = unsafe { Self::from_raw(contents) };
        let shell = self.pop_front();
        shell.free(pool);
        contents.push_back(core::mem::take(self));
        *self = contents;
        true
    }

    /// Gives every event back to `pool`, package contents and data buffers
    /// included, each exactly once. Events are detached (zeroed) before
    /// [`EventPool::put_event`] sees them.
    pub fn free<P: EventPool + ?Sized>(self, pool: &mut P) -> FreeCount {
        let mut count = FreeCount::default();
        let mut pending = self.head;
        // Each iteration gives back one event; package contents are spliced in
        // front of the rest, so every owned event is visited exactly once.
        while let Some(node) = pending {
            // SAFETY: `node` is an event this chain owns (invariant), valid and
            // not referenced elsewhere; it is ours until given back below. Any
            // IRQL (memory only).
            let event = unsafe { &mut *node.as_ptr() };
            pending = NonNull::new(event.pNextEvt);
            if event.usFlags.contains(DMUS_KEF::PACKAGE_EVENT) {
                // SAFETY: a package event's payload is the pPackageEvt pointer
                // (invariant); reading a pointer field of a plain union. Any IRQL.
                let contents = unsafe { event.uData.pPackageEvt };
                if let Some(first) = NonNull::new(contents) {
                    let mut last = first;
                    while let Some(next) = next_of(last) {
                        last = next;
                    }
                    set_next(last, pending);
                    pending = Some(first);
                }
            } else if !SHORT_EVT(event.cbEvent) {
                // SAFETY: a long data event's payload is its pbData pointer
                // (invariant). Any IRQL.
                let buffer = unsafe { event.uData.pbData };
                if let Some(buffer) = NonNull::new(buffer) {
                    // SAFETY: the buffer came from this pool (from_raw/event
                    // contract) and no reference into it outlives this call.
                    // DISPATCH_LEVEL at most, like every pool call.
                    unsafe { pool.put_buffer(buffer) };
                    count.buffers += 1;
                }
            }
            event.cbEvent = 0;
            event.usFlags = DMUS_KEF::EVENT_COMPLETE;
            event.pNextEvt = ptr::null_mut();
            event.uData = DMUS_KERNEL_EVENT_DATA {
                abData: [0; INLINE_CAPACITY],
            };
            // SAFETY: the event came from this pool and nothing refers to it any
            // more (its chain was consumed). DISPATCH_LEVEL at most.
            unsafe { pool.put_event(node) };
            count.events += 1;
        }
        count
    }
}

impl<'a> IntoIterator for &'a Chain {
    type Item = EventRef<'a>;
    type IntoIter = ChainIter<'a>;

    fn into_iter(self) -> ChainIter<'a> {
        self.iter()
    }
}

/// A shared view of one event of a chain.
#[derive(Clone, Copy)]
pub struct EventRef<'a> {
    event: &'a Event,
}

impl<'a> EventRef<'a> {
    /// `ullPresTime100ns`.
    #[must_use]
    pub fn time(&self) -> i64 {
        self.event.ullPresTime100ns
    }

    /// `usChannelGroup`.
    #[must_use]
    pub fn channel_group(&self) -> u16 {
        self.event.usChannelGroup
    }

    /// `usFlags`.
    #[must_use]
    pub fn flags(&self) -> DMUS_KEF {
        self.event.usFlags
    }

    /// Whether this is a package event.
    #[must_use]
    pub fn is_package(&self) -> bool {
        self.event.usFlags.contains(DMUS_KEF::PACKAGE_EVENT)
    }

    /// Whether the message continues in a later event.
    #[must_use]
    pub fn is_incomplete(&self) -> bool {
        self.event.usFlags.contains(DMUS_KEF::EVENT_INCOMPLETE)
    }

    /// The event's data bytes (empty for a package).
    #[must_use]
    pub fn data(&self) -> &'a [u8] {
        if self.is_package() {
            return &[];
        }
        let len = usize::from(self.event.cbEvent);
        if SHORT_EVT(self.event.cbEvent) {
            // SAFETY: short events keep their bytes inline (invariant); abData is
            // plain bytes, valid for any bit pattern. Any IRQL.
            let inline: &'a [u8; INLINE_CAPACITY] = unsafe { &self.event.uData.abData };
            &inline[..len]
        } else {
            // SAFETY: long events hold their buffer pointer (invariant). Any IRQL.
            let buffer = unsafe { self.event.uData.pbData };
            if buffer.is_null() {
                return &[];
            }
            // SAFETY: the buffer holds at least cbEvent initialised bytes, is
            // owned by the chain borrowed for 'a and not written meanwhile.
            // Nonpaged in the driver, so any IRQL up to DISPATCH_LEVEL.
            unsafe { core::slice::from_raw_parts(buffer, len) }
        }
    }

    /// The events of a package, in order (empty for other events).
    #[must_use]
    pub fn package(&self) -> ChainIter<'a> {
        let head = if self.is_package() {
            // SAFETY: package events hold their contents pointer (invariant).
            // Any IRQL.
            NonNull::new(unsafe { self.event.uData.pPackageEvt })
        } else {
            None
        };
        ChainIter {
            next: head,
            _chain: PhantomData,
        }
    }
}

impl fmt::Debug for EventRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Event");
        s.field("time", &self.time())
            .field("group", &self.channel_group())
            .field("flags", &self.flags());
        if self.is_package() {
            s.field("package_events", &self.package().count());
        } else {
            s.field("data", &self.data());
        }
        s.finish()
    }
}

/// Iterator over the events of a chain or package.
#[derive(Clone)]
pub struct ChainIter<'a> {
    next: Option<NonNull<Event>>,
    _chain: PhantomData<&'a Event>,
}

impl<'a> Iterator for ChainIter<'a> {
    type Item = EventRef<'a>;

    fn next(&mut self) -> Option<Self::Item> {
        let node = self.next?;
        // SAFETY: `node` belongs to a chain borrowed for 'a (invariant): valid
        // for reads and not mutated while the borrow lasts. Any IRQL.
        let event: &'a Event = unsafe { node.as_ref() };
        self.next = NonNull::new(event.pNextEvt);
        Some(EventRef { event })
    }
}

impl core::iter::FusedIterator for ChainIter<'_> {}
