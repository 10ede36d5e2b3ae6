//! DirectMusic kernel types: dmusicks.h (the kernel event, stream types),
//! ksmedia.h (`KSMUSICFORMAT`) and dmusbuff.h (`DMUS_EVENTHEADER`).

use crate::pin_layout;

/// `REFERENCE_TIME`: a time in 100 ns units.
pub type REFERENCE_TIME = i64;

bitflags::bitflags! {
    /// `DMUS_KERNEL_EVENT::usFlags` (dmusicks.h). `DMUS_KEF_EVENT_COMPLETE` is the empty set.
    #[repr(transparent)]
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
    pub struct DMUS_KEF: u16 {
        /// `DMUS_KEF_EVENT_INCOMPLETE`: the message continues beyond this event (sysex
        /// fragment, or raw capture bytes).
        const EVENT_INCOMPLETE = 0x0001;
        /// `DMUS_KEF_PACKAGE_EVENT`: `uData.pPackageEvt` is a chain to handle atomically.
        const PACKAGE_EVENT = 0x0002;
    }
}

impl DMUS_KEF {
    /// `DMUS_KEF_EVENT_COMPLETE`: a whole message, in `abData` or `pbData`.
    pub const EVENT_COMPLETE: Self = Self::empty();
}

/// `DMUS_KEF_EVENT_COMPLETE` (dmusicks.h).
pub const DMUS_KEF_EVENT_COMPLETE: u16 = 0x0000;
/// `DMUS_KEF_EVENT_INCOMPLETE` (dmusicks.h).
pub const DMUS_KEF_EVENT_INCOMPLETE: u16 = 0x0001;
/// `DMUS_KEF_PACKAGE_EVENT` (dmusicks.h).
pub const DMUS_KEF_PACKAGE_EVENT: u16 = 0x0002;

/// `kBytePositionNone` (dmusicks.h): no byte position.
pub const kBytePositionNone: u64 = !0;

/// `DONT_HOLD_FOR_SEQUENCING` (dmusicks.h): as `SchedulePreFetch`, asks the port for every
/// event at once; the miniport sequences itself.
pub const DONT_HOLD_FOR_SEQUENCING: u64 = 0x8000_0000_0000_0000;

/// `DMUS_KERNEL_EVENT::uData` (dmusicks.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub union DMUS_KERNEL_EVENT_DATA {
    /// Inline data, used when `cbEvent <= sizeof(PBYTE)`.
    pub abData: [u8; core::mem::size_of::<*mut u8>()],
    /// A buffer from the allocator holding `cbEvent` bytes.
    pub pbData: *mut u8,
    /// A chain of events to handle atomically (`DMUS_KEF_PACKAGE_EVENT`).
    pub pPackageEvt: *mut DMUS_KERNEL_EVENT,
}

/// `DMUS_KERNEL_EVENT` (dmusicks.h): a time-stamped music event.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct DMUS_KERNEL_EVENT {
    /// Reserved; miniports do not modify it.
    pub bReserved: u8,
    /// Size of this structure; miniports do not modify it.
    pub cbStruct: u8,
    /// Unrounded number of event bytes referred to by `uData`.
    pub cbEvent: u16,
    /// Channel group (1-based; 0 on render means all groups).
    pub usChannelGroup: u16,
    /// `DMUS_KEF_*`.
    pub usFlags: DMUS_KEF,
    /// Presentation time, 100 ns units of the master clock.
    pub ullPresTime100ns: REFERENCE_TIME,
    /// Byte position, or [`kBytePositionNone`].
    pub ullBytePosition: u64,
    /// The next event of the chain, or null.
    pub pNextEvt: *mut DMUS_KERNEL_EVENT,
    /// The event's data.
    pub uData: DMUS_KERNEL_EVENT_DATA,
}

/// `PDMUS_KERNEL_EVENT`.
pub type PDMUS_KERNEL_EVENT = *mut DMUS_KERNEL_EVENT;

/// `SHORT_EVT(evt)` (dmusicks.h): whether the data is inline in `abData`.
#[must_use]
pub const fn SHORT_EVT(cb_event: u16) -> bool {
    (cb_event as usize) <= core::mem::size_of::<*mut u8>()
}

pin_layout!(DMUS_KERNEL_EVENT, "dmusicks.h (ReactOS sdk/include/ddk; WDK 7.1 inc/ddk)",
    size (32, 40), align (8, 8), {
    bReserved: (0, 0),
    cbStruct: (1, 1),
    cbEvent: (2, 2),
    usChannelGroup: (4, 4),
    usFlags: (6, 6),
    ullPresTime100ns: (8, 8),
    ullBytePosition: (16, 16),
    pNextEvt: (24, 24),
    uData: (28, 32),
});

/// `DMUS_STREAM_TYPE` (dmusicks.h).
pub type DMUS_STREAM_TYPE = i32;
/// `DMUS_STREAM_MIDI_INVALID`.
pub const DMUS_STREAM_MIDI_INVALID: DMUS_STREAM_TYPE = -1;
/// `DMUS_STREAM_MIDI_RENDER`.
pub const DMUS_STREAM_MIDI_RENDER: DMUS_STREAM_TYPE = 0;
/// `DMUS_STREAM_MIDI_CAPTURE`.
pub const DMUS_STREAM_MIDI_CAPTURE: DMUS_STREAM_TYPE = 1;
/// `DMUS_STREAM_WAVE_SINK`.
pub const DMUS_STREAM_WAVE_SINK: DMUS_STREAM_TYPE = 2;

/// `KSMUSICFORMAT` (ksmedia.h): one record of a legacy MIDI pin's buffer, followed by
/// `ByteCount` bytes; the next record starts DWORD-aligned.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSMUSICFORMAT {
    /// Milliseconds after the stream header's presentation time (first record) or after the
    /// previous record.
    pub TimeDeltaMs: u32,
    /// Bytes of MIDI data that follow, excluding padding.
    pub ByteCount: u32,
}

pin_layout!(KSMUSICFORMAT, "ksmedia.h", size (8, 8), align (4, 4), {
    TimeDeltaMs: (0, 0),
    ByteCount: (4, 4),
});

/// `DMUS_EVENTHEADER` (dmusbuff.h, `#pragma pack(4)`): one record of a DirectMusic pin's
/// buffer; each record occupies `QWORD_ALIGN(sizeof(DMUS_EVENTHEADER) + cbEvent)` bytes.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DMUS_EVENTHEADER {
    /// Unrounded bytes of event data that follow.
    pub cbEvent: u32,
    /// Channel group of the event.
    pub dwChannelGroup: u32,
    /// 100 ns after the buffer's start time.
    pub rtDelta: REFERENCE_TIME,
    /// `DMUS_EVENT_*`.
    pub dwFlags: u32,
}

/// `DMUS_EVENT_STRUCTURED` (dmusbuff.h): the event is a complete MIDI message.
pub const DMUS_EVENT_STRUCTURED: u32 = 0x0000_0001;

pin_layout!(DMUS_EVENTHEADER, "dmusbuff.h (#pragma pack(4))", size (20, 20), align (4, 4), {
    cbEvent: (0, 0),
    dwChannelGroup: (4, 4),
    rtDelta: (8, 8),
    dwFlags: (16, 16),
});

/// `QWORD_ALIGN(x)` (dmusbuff.h).
#[must_use]
pub const fn QWORD_ALIGN(x: usize) -> usize {
    (x + 7) & !7
}

/// `DWORD_ALIGN(x)`.
#[must_use]
pub const fn DWORD_ALIGN(x: usize) -> usize {
    (x + 3) & !3
}
