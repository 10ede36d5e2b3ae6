//! Streams on the miniport's pins: `NewStream` with a data format KS would keep, the KS
//! state walk, the events handed over ahead of their time.

use alloc::boxed::Box;
use alloc::vec::Vec;

use com_object::ComRef;
use dmus_sys::dls::{WAVE_FORMAT_PCM, WAVEFORMATEX};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, PMXF};
use dmus_sys::dmusic::DMUS_STREAM_TYPE;
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NT_SUCCESS, NonPagedPool};
use dmus_sys::ks::{
    KSDATAFORMAT, KSSTATE, KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP,
};
use dmus_sys::ks_guids::{KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_TYPE_MUSIC};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
};
use dmus_sys::ksmedia::{KSDATAFORMAT_PACKED, KSDATAFORMAT_WAVEFORMATEX};
use dmus_sys::portcls::PSERVICEGROUP;
use mxf::Chain;

use crate::job::Job;
use crate::objects::allocator::Allocator;
use crate::objects::clock::Clock;
use crate::objects::port::Bound;
use crate::objects::release;
use crate::spin::SpinMutex;
use crate::wav;

use super::Log;
use super::job_file::Events;

/// `IMXF::SetState` on the stream.
pub(super) fn set_state(log: &mut Log, what: &str, stream: PMXF, state: KSSTATE) -> bool {
    // SAFETY: the live stream NewStream gave; a plain vtable read.
    let vtable = unsafe { com_object::vtable::<IMXF>(stream) };
    // SAFETY: SetState at PASSIVE_LEVEL, one KS step.
    let status = unsafe { (vtable.SetState)(stream, state) };
    let name = match state {
        KSSTATE_STOP => "STOP",
        KSSTATE_ACQUIRE => "ACQUIRE",
        KSSTATE_PAUSE => "PAUSE",
        _ => "RUN",
    };
    log.status_of(what, name, status)
}

/// The pin a stream is opened on: factory id, data format, stream type.
#[derive(Clone, Copy)]
pub(super) struct PinSpec {
    pub(super) pin: u32,
    pub(super) format: PinFormat,
    pub(super) stream_type: DMUS_STREAM_TYPE,
}

/// A pin's data format.
#[derive(Clone, Copy)]
pub(super) enum PinFormat {
    /// `KSDATAFORMAT_TYPE_MUSIC` of this subformat.
    Music(GUID),
    /// 16-bit stereo PCM at this rate (`KSDATAFORMAT_WAVEFORMATEX`).
    Wave(u32),
}

/// One stream the job opened: the stream and the service group NewStream handed out (one
/// reference each).
pub(super) struct Stream {
    pub(super) what: &'static str,
    pub(super) mxf: PMXF,
    group: PSERVICEGROUP,
    pub(super) prefetch: u64,
}

impl Stream {
    /// `IMiniportDMus::NewStream` for `pin`.
    pub(super) fn open(
        log: &mut Log,
        what: &'static str,
        bound: &Bound,
        pin: PinSpec,
        allocator: &ComRef<Allocator>,
        clock: &ComRef<Clock>,
    ) -> Option<Self> {
        // KS keeps a pin's data format for the pin's life; the stream may keep the pointer.
        let format = match pin.format {
            PinFormat::Music(subformat) => {
                FormatBox::Music(Box::into_raw(Box::new(music_format(subformat))))
            }
            PinFormat::Wave(rate) => FormatBox::Wave(Box::into_raw(Box::new(wave_format(rate)))),
        };
        let mut stream: PMXF = core::ptr::null_mut();
        let mut group: PSERVICEGROUP = core::ptr::null_mut();
        let mut prefetch = 0_u64;
        // SAFETY: the port holds the miniport; a plain vtable read.
        let vtable = unsafe { com_object::vtable(bound.miniport) };
        // SAFETY: NewStream at PASSIVE_LEVEL with writable out pointers, the port's live
        // allocator and clock (the stream takes its own references), and a format that
        // outlives the stream (freed in `close`).
        let status = unsafe {
            (vtable.NewStream)(
                bound.miniport,
                &raw mut stream,
                core::ptr::null_mut(),
                NonPagedPool,
                pin.pin,
                pin.stream_type,
                format.as_format(),
                &raw mut group,
                allocator.as_interface::<IAllocatorMXF>().as_ptr(),
                clock.as_interface::<IMasterClock>().as_ptr(),
                &raw mut prefetch,
            )
        };
        let opened = log.status_of(what, "NewStream", status) && !stream.is_null();
        if !opened {
            if !group.is_null() {
                // SAFETY: a group NewStream handed out.
                unsafe { release(group.cast()) };
            }
            format.free();
            return None;
        }
        FORMATS.lock().keep(format);
        log.line(format_args!("{what}: SchedulePreFetch {prefetch:#x}"));
        Some(Self {
            what,
            mxf: stream,
            group,
            prefetch,
        })
    }

    /// STOP → ACQUIRE → PAUSE → RUN (or the reverse), one step at a time; false at the first
    /// failure.
    pub(super) fn walk(&self, log: &mut Log, states: &[KSSTATE]) -> bool {
        states
            .iter()
            .all(|&state| set_state(log, self.what, self.mxf, state))
    }

    /// Releases the stream and its group.
    pub(super) fn close(self) {
        // SAFETY: NewStream's reference on the stream, given up once. PASSIVE_LEVEL.
        unsafe { release(self.mxf.cast()) };
        if !self.group.is_null() {
            // SAFETY: NewStream's reference on the group.
            unsafe { release(self.group.cast()) };
        }
    }
}

/// A data format handed to NewStream, in a box of its own type.
#[derive(Clone, Copy)]
pub(super) enum FormatBox {
    Music(*mut KSDATAFORMAT),
    Wave(*mut KSDATAFORMAT_WAVEFORMATEX),
}

impl FormatBox {
    /// The format as NewStream takes it (a wave format starts with the header).
    fn as_format(self) -> *mut KSDATAFORMAT {
        match self {
            Self::Music(format) => format,
            Self::Wave(format) => format.cast(),
        }
    }

    /// Frees the box; no stream may use it any more.
    fn free(self) {
        match self {
            // SAFETY: a box made by `Stream::open` (Box::into_raw), freed once.
            Self::Music(format) => drop(unsafe { Box::from_raw(format) }),
            // SAFETY: as above.
            Self::Wave(format) => drop(unsafe { Box::from_raw(format) }),
        }
    }
}

/// The data formats handed to NewStream: kept until the job ends (a stream may keep the
/// pointer for its life, as KS keeps a pin's format).
pub(super) struct Formats(Vec<FormatBox>);

// SAFETY: plain pointers to boxes, freed once by `free_formats` on the job thread.
unsafe impl Send for Formats {}

impl Formats {
    /// Keeps `format` until `free_formats` (leaks it if there is no memory to keep it).
    fn keep(&mut self, format: FormatBox) {
        if self.0.try_reserve(1).is_ok() {
            self.0.push(format);
        }
    }
}

pub(super) static FORMATS: SpinMutex<Formats> = SpinMutex::new(Formats(Vec::new()));

/// Frees the formats once every stream is gone.
pub(super) fn free_formats() {
    let formats = core::mem::take(&mut FORMATS.lock().0);
    for format in formats {
        format.free();
    }
}

/// 16-bit stereo PCM at `rate`, as a wave-out pin's `KSDATAFORMAT_WAVEFORMATEX`.
pub(super) fn wave_format(rate: u32) -> KSDATAFORMAT_WAVEFORMATEX {
    let block = wav::CHANNELS * (wav::BITS / 8);
    KSDATAFORMAT_WAVEFORMATEX {
        DataFormat: KSDATAFORMAT_PACKED {
            FormatSize: u32::try_from(core::mem::size_of::<KSDATAFORMAT_WAVEFORMATEX>())
                .unwrap_or(0),
            Flags: 0,
            SampleSize: u32::from(block),
            Reserved: 0,
            MajorFormat: KSDATAFORMAT_TYPE_AUDIO,
            SubFormat: KSDATAFORMAT_SUBTYPE_PCM,
            Specifier: KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
        },
        WaveFormatEx: WAVEFORMATEX {
            wFormatTag: WAVE_FORMAT_PCM,
            nChannels: wav::CHANNELS,
            nSamplesPerSec: rate,
            nAvgBytesPerSec: rate.saturating_mul(u32::from(block)),
            nBlockAlign: block,
            wBitsPerSample: wav::BITS,
            cbSize: 0,
        },
    }
}

/// A `KSDATAFORMAT_TYPE_MUSIC` format of `subformat`.
pub(super) fn music_format(subformat: GUID) -> KSDATAFORMAT {
    KSDATAFORMAT {
        FormatSize: u32::try_from(core::mem::size_of::<KSDATAFORMAT>()).unwrap_or(0),
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
        SubFormat: subformat,
        Specifier: KSDATAFORMAT_SPECIFIER_NONE,
    }
}

pub(super) const UP: [KSSTATE; 3] = [KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN];
pub(super) const DOWN: [KSSTATE; 3] = [KSSTATE_PAUSE, KSSTATE_ACQUIRE, KSSTATE_STOP];

/// Hands a render stream the job's events `lead` ahead of their master time, read from the
/// job file as they fall due ([`Events`]).
pub(super) struct Delivery {
    origin: i64,
    lead: i64,
    events: Events,
    pub(super) next: usize,
    dropped: usize,
}

impl Delivery {
    pub(super) fn new(origin: i64, lead: i64) -> Self {
        Self {
            origin,
            lead,
            events: Events::open(),
            next: 0,
            dropped: 0,
        }
    }

    /// Whether every event of the job file was handed over.
    pub(super) fn finished(&mut self) -> bool {
        self.events.peek().is_none()
    }

    /// `PutMessage` of one chain with every event due by `now` + lead.
    pub(super) fn due(
        &mut self,
        log: &mut Log,
        stream: &Stream,
        allocator: &ComRef<Allocator>,
        now: i64,
    ) {
        let mut chain = Chain::new();
        while let Some(event) = self.events.peek() {
            let due = self.origin + event.time;
            if due.saturating_sub(self.lead) > now {
                break;
            }
            let Some(event) = self.events.take() else {
                break;
            };
            let built = allocator.with_pool(|pool| {
                mxf::build::push_bytes(&mut chain, pool, due, 1, &event.bytes, true)
            });
            if built.is_err() {
                self.dropped += 1;
            }
            self.next += 1;
        }
        if !chain.is_empty() {
            // SAFETY: the live stream; a plain vtable read.
            let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
            // SAFETY: PutMessage with a chain of the port's allocator events, given up here.
            let status = unsafe { (vtable.PutMessage)(stream.mxf, chain.into_raw()) };
            if !NT_SUCCESS(status) {
                log.status_of(stream.what, "PutMessage", status);
            }
        }
    }

    /// Logs what was delivered; false when the job file did not read again as at the start.
    pub(super) fn report(&self, log: &mut Log, job: &Job) -> bool {
        if self.dropped > 0 {
            log.line(format_args!(
                "{} events not built: allocator exhausted",
                self.dropped
            ));
        }
        log.line(format_args!(
            "render: {} of {} events delivered",
            self.next, job.counts.events
        ));
        if self.events.failed > 0 {
            log.line(format_args!(
                "the job file did not read again as it did at the start"
            ));
        }
        self.events.failed == 0
    }
}
