//! The synth miniport COM object (`IMiniportDMus`).
//!
//! Declared a COM class once with `com_object::class!` (the layer lays out the vtable
//! pointer, the reference count, then this state, and writes `IUnknown`). The object and its
//! [`SynthCore`] live in nonpaged pool ([`pool_box`]): the core (voices, channel state, mix buffer, instrument store) is
//! made once, here, so no stream and no render allocates voices later.
//!
//! Life: the subdevice seam creates it for a root-enumerated device ([`new_miniport`]);
//! PortCls calls `Init` once (PASSIVE_LEVEL): the synth needs no resources and no service
//! group. `NewStream` makes MIDI render streams (up to four on each of pins 0 and 1, each
//! feeding its own input of the core, with its own channel groups) and the wave-sink
//! stream (pin 2). Streams hold a reference to the miniport, so it
//! outlives them; the port's master clock is kept from the first stream on, for the
//! properties that report times.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU32, Ordering};

use com_object::{ComObject, ComRef, MiniportDMusImpl, MiniportImpl};
use dmus_synth::inbox::Inbox;
use dmus_synth::synth::{
    AUDIO_CHANNELS, MAX_CHANNEL_GROUPS, MAX_RATE, MAX_VOICES, RENDER_INPUTS, SynthCore,
};
use dmus_sys::com::{IUnknown, PUNKNOWN};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, IMiniportDMus, IPortDMus};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_TYPE, DMUS_STREAM_WAVE_SINK};
use dmus_sys::dmusprop::{
    SYNTH_EFFECT_REVERB, SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_AUDIOCHANNELS,
    SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_PORTPARAMS_EFFECTS, SYNTH_PORTPARAMS_SAMPLERATE,
    SYNTH_PORTPARAMS_VOICES,
};
use dmus_sys::kernel::{
    NTSTATUS, POOL_TYPE, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_NO_MATCH, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSDATAFORMAT, PKSDATARANGE};
use dmus_sys::portcls::{PCFILTER_DESCRIPTOR, PCPROPERTY_REQUEST, PRESOURCELIST, PSERVICEGROUP};

use super::descriptor::{
    FILTER, MIDI_PIN_INSTANCES, PIN_DMUSIC_RENDER, PIN_LEGACY_RENDER, PIN_WAVE_OUT, our_range,
};
use super::download::DownloadMemory;
use super::mutex::KMutex;
use super::properties::effect_switches;
use super::render::RenderStream;
use super::sink::{SinkStream, WaveFormat};
use crate::com::Pool;
use crate::miniport::allocator::Allocator;
use crate::miniport::clock::MasterClock;
use crate::miniport::intersection::data_range_intersection;
use crate::miniport::new_stream_args::begin_new_stream;
use crate::miniport::pool_box::{self, init_fields};
use crate::miniport::property::PropertyRequest;
use crate::miniport::spin_lock::SpinLock;
use crate::resources::AdapterResources;

/// The synth state the streams and properties share.
pub type Core = SynthCore<Allocator>;

/// Default voice priority (`DAUD_STANDARD_VOICE_PRIORITY`, dmusicc.h).
pub const STANDARD_VOICE_PRIORITY: u32 = 0x8000_0000;
/// Per-channel offsets of the default priorities (`DAUD_CHAN1..16_VOICE_PRIORITY_OFFSET`,
/// dmusicc.h: channel 10 highest, then 1 to 16).
pub const CHANNEL_PRIORITY_OFFSETS: [u32; 16] = [
    0xE, 0xD, 0xC, 0xB, 0xA, 0x9, 0x8, 0x7, 0x6, 0xF, 0x5, 0x4, 0x3, 0x2, 0x1, 0x0,
];

/// What the port parameters and voice priorities are set to (properties only).
pub struct Settings {
    /// The parameters granted by the last `PORTPARAMETERS` (the defaults before it).
    pub params: SYNTH_PORTPARAMS,
    /// Voice priority per channel group and channel.
    pub priorities: [[u32; 16]; MAX_CHANNEL_GROUPS],
}

impl Settings {
    /// Gives the synth every channel's voice priority (index `g` of `priorities` is channel
    /// group `g + 1`).
    pub fn apply_priorities(&self, core: &mut Core) {
        for (group, row) in (1u16..).zip(self.priorities.iter()) {
            for (channel, &priority) in (0u8..).zip(row.iter()) {
                core.set_priority(group, channel, priority);
            }
        }
    }

    /// Gives the synth the effects of the parameters granted (the reverb, before any
    /// `PORTPARAMETERS`).
    pub fn apply_effects(&self, core: &mut Core) {
        core.set_effects(effect_switches(self.params.EffectsFlags));
    }

    /// The defaults: every voice, every channel group, stereo at 48 kHz, the reverb on (see
    /// [`default_params`]), the documented default priorities.
    #[must_use]
    pub fn new() -> Self {
        let mut row = [0u32; 16];
        for (priority, offset) in row.iter_mut().zip(CHANNEL_PRIORITY_OFFSETS) {
            *priority = STANDARD_VOICE_PRIORITY + offset;
        }
        Self {
            params: default_params(),
            priorities: [row; MAX_CHANNEL_GROUPS],
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self::new()
    }
}

/// The parameters the synth runs with before any `PORTPARAMETERS`, and for what a
/// `PORTPARAMETERS` leaves out: every voice and channel group, stereo at 48 kHz, and the
/// reverb on, the chorus off, as Microsoft's software synthesizer has them for a client that
/// never asks. Its documentation: "The Microsoft Software Synthesizer includes reverberation
/// capabilities, which are on by default" (DirectX 6 SDK, DirectMusic overview); the DirectX
/// 8.1 SDK says the same of the DLS Level 1 synthesizer of the DirectX 7 interfaces, and that
/// the DLS Level 2 one of DirectX 8 leaves reverberation to the audiopath, whose standard
/// music audiopath (`DMUS_APATH_SHARED_STEREOPLUSREVERB`) has a reverb and no chorus. A
/// kernel synth's output reaches no audiopath, so its own reverb stands in.
#[must_use]
pub fn default_params() -> SYNTH_PORTPARAMS {
    SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_VOICES
            | SYNTH_PORTPARAMS_CHANNELGROUPS
            | SYNTH_PORTPARAMS_AUDIOCHANNELS
            | SYNTH_PORTPARAMS_SAMPLERATE
            | SYNTH_PORTPARAMS_EFFECTS,
        Voices: u32::try_from(MAX_VOICES).unwrap_or(u32::MAX),
        ChannelGroups: u32::try_from(MAX_CHANNEL_GROUPS).unwrap_or(1),
        AudioChannels: u32::try_from(AUDIO_CHANNELS).unwrap_or(2),
        SampleRate: MAX_RATE,
        EffectsFlags: SYNTH_EFFECT_REVERB,
        Share: 0,
    }
}

/// The synth miniport.
pub struct Miniport {
    /// The port (one reference), set by Init at PASSIVE_LEVEL before any stream exists.
    port: UnsafeCell<Option<NonNull<IPortDMus>>>,
    /// The synth, behind a kernel mutex (held at PASSIVE_LEVEL while it mixes);
    /// pool-allocated with the object, freed with it.
    core: NonNull<KMutex<Core>>,
    /// Events the MIDI streams put, until the next render files them (spin lock, O(1)).
    inbox: SpinLock<Inbox>,
    settings: SpinLock<Settings>,
    /// The port's master clock, kept from the first stream on.
    clock: SpinLock<Option<MasterClock>>,
    /// One bit per pin with an open stream (the wave pin's is the sink's).
    open_pins: AtomicU32,
    /// One bit per synth input with a MIDI render stream: pin 0's streams take inputs
    /// `0..MIDI_PIN_INSTANCES`, pin 1's the next as many.
    open_inputs: AtomicU32,
    /// The download memory kept and being copied (`SYNTHCAPS.MemorySize` reports the rest).
    download_memory: DownloadMemory,
}

com_object::class!(Miniport, Pool: IMiniportDMus);

/// The subdevice seam's constructor: a miniport with one reference for the caller, its synth
/// allocated and silent. PASSIVE_LEVEL.
///
/// Both pool blocks are allocated first and their objects made in place (the voice
/// priorities are kilobytes; the synth's own buffers are on the heap), so no copy of either
/// is on the stack.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted (nothing is left allocated).
pub fn new_miniport(_resources: &AdapterResources) -> Result<PUNKNOWN, NTSTATUS> {
    let core = pool_box::try_new_with(|place| {
        KMutex::try_new_in(place, |synth| {
            Core::try_new_in(synth, MAX_RATE, MAX_VOICES).map_err(|_| STATUS_INSUFFICIENT_RESOURCES)
        })
    })?;
    // SAFETY: just placed in pool, where it stays until the last Release; unshared.
    unsafe { KMutex::init(core) };
    let object = ComRef::try_new_with(|place| {
        let miniport = init_fields!(
            place,
            Miniport {
                port: UnsafeCell::new(None),
                core: core,
                inbox: SpinLock::new(Inbox::new()),
                settings: SpinLock::new(Settings::new()),
                clock: SpinLock::new(None),
                open_pins: AtomicU32::new(0),
                open_inputs: AtomicU32::new(0),
                download_memory: DownloadMemory::new(),
            }
        );
        // SAFETY: made above and not yet shared: this is the only reference to the synth.
        // PASSIVE_LEVEL (memory only).
        let synth = unsafe { &mut *core.as_ptr() }.get_mut();
        let settings = miniport.settings.get_mut();
        settings.apply_priorities(synth);
        settings.apply_effects(synth);
        Ok(miniport)
    });
    match object {
        Ok(object) => Ok(object.into_raw::<IUnknown>().as_ptr()),
        Err(status) => {
            // SAFETY: made above and never shared.
            unsafe { pool_box::free(core) };
            Err(status)
        }
    }
}

impl Miniport {
    /// Runs `answer` on the synth miniport a PortCls property request is for: the common
    /// start of every synth property handler. A null request is `STATUS_INVALID_PARAMETER`,
    /// a request with no `MajorTarget` `STATUS_INVALID_DEVICE_REQUEST`.
    ///
    /// # Safety
    /// `request` is PortCls' live request for the duration of this call, made for a property
    /// in one of this synth's automation tables (so its `MajorTarget` is a synth `Miniport`,
    /// live while its filter is); PASSIVE_LEVEL.
    pub(crate) unsafe fn answer_property(
        request: *mut PCPROPERTY_REQUEST,
        answer: impl FnOnce(&mut PropertyRequest, &Self) -> NTSTATUS,
    ) -> NTSTATUS {
        // SAFETY: PortCls' live request for the duration of this call (caller's contract).
        let Some(mut wrapped) = (unsafe { PropertyRequest::new(request) }) else {
            return STATUS_INVALID_PARAMETER;
        };
        let major = wrapped.major_target();
        if major.is_null() {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        // SAFETY: MajorTarget is the IUnknown of the miniport whose automation table holds
        // the handler (only the synth's tables name synth handlers), live while its filter
        // is; PASSIVE_LEVEL.
        let Some(miniport) = (unsafe { ComObject::<Self>::from_interface(major) }) else {
            return STATUS_INVALID_DEVICE_REQUEST;
        };
        answer(&mut wrapped, miniport)
    }

    /// The download memory kept and being copied. Any IRQL.
    pub(crate) const fn download_memory(&self) -> &DownloadMemory {
        &self.download_memory
    }

    /// The synth. Locking it waits: IRQL ≤ APC_LEVEL, no spin lock held.
    pub(crate) fn core(&self) -> &KMutex<Core> {
        // SAFETY: allocated in new_miniport and freed only by the last Release, after which
        // nothing can call in.
        unsafe { self.core.as_ref() }
    }

    /// The events waiting for the synth (any IRQL ≤ DISPATCH_LEVEL).
    pub(crate) fn inbox(&self) -> &SpinLock<Inbox> {
        &self.inbox
    }

    /// Files every pending event into the synth's inputs (under its mutex, `core`): the
    /// inbox's spin lock is held only to take each chain.
    pub(crate) fn file_pending(&self, core: &mut Core) {
        for slot in 0..RENDER_INPUTS {
            let pending = self.inbox.lock().take(slot);
            if let Err(chain) = core.put(slot, pending) {
                // Not while the input is attached (the inbox takes events only then, and
                // attach and detach change both under the mutex); kept, never lost.
                self.inbox.lock().put_front(slot, chain);
            }
        }
    }

    /// The port parameters and priorities.
    pub(crate) fn settings(&self) -> &SpinLock<Settings> {
        &self.settings
    }

    /// The master time now, once a stream has shown us the port's clock. IRQL ≤ DISPATCH_LEVEL.
    pub(crate) fn master_now(&self) -> Option<i64> {
        self.clock.lock().as_ref().map(MasterClock::now)
    }

    /// Whether a wave sink is open (its rate is the synth's).
    pub(crate) fn sink_open(&self) -> bool {
        self.open_pins.load(Ordering::Acquire) & (1 << PIN_WAVE_OUT) != 0
    }

    fn claim_pin(&self, pin: u32) -> bool {
        let bit = 1 << pin;
        self.open_pins.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Frees `pin` for a new stream.
    pub(crate) fn release_pin(&self, pin: u32) {
        self.open_pins.fetch_and(!(1 << pin), Ordering::AcqRel);
    }

    /// A free synth input for a MIDI render stream on `pin` (0 or 1), if the pin has fewer
    /// than [`MIDI_PIN_INSTANCES`] streams.
    fn claim_input(&self, pin: u32) -> Option<usize> {
        let per_pin = usize::try_from(MIDI_PIN_INSTANCES).ok()?;
        let first = usize::try_from(pin).ok()?.checked_mul(per_pin)?;
        (first..first + per_pin).find(|&slot| {
            let bit = 1u32 << slot;
            self.open_inputs.fetch_or(bit, Ordering::AcqRel) & bit == 0
        })
    }

    /// Frees synth input `slot` for a new stream.
    pub(crate) fn release_input(&self, slot: usize) {
        if let Some(bit) = u32::try_from(slot).ok().and_then(|s| 1u32.checked_shl(s)) {
            self.open_inputs.fetch_and(!bit, Ordering::AcqRel);
        }
    }
}

impl Drop for Miniport {
    /// The last Release (PASSIVE_LEVEL: PortCls releases miniports when the device stops;
    /// every stream holds a reference, so none is open): gives back what Init and the
    /// streams left (port, clock) and the synth's own pool block.
    fn drop(&mut self) {
        drop(self.clock.get_mut().take());
        if let Some(port) = self.port.get_mut().take() {
            // SAFETY: the reference Init took, released once.
            unsafe { crate::com::release(port.as_ptr()) };
        }
        // SAFETY: made by pool_box::try_new_with in new_miniport; no stream is left to use it.
        unsafe { pool_box::free(self.core) };
    }
}

impl MiniportImpl for Miniport {
    unsafe fn get_description(
        _this: &ComObject<Self>,
        description: *mut *mut PCFILTER_DESCRIPTOR,
    ) -> NTSTATUS {
        if description.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: a writable out-pointer; the descriptor is a static PortCls only reads.
        unsafe { description.write(FILTER.as_mut_ptr()) };
        STATUS_SUCCESS
    }

    unsafe fn data_range_intersection(
        _this: &ComObject<Self>,
        pin: u32,
        client: PKSDATARANGE,
        matching: PKSDATARANGE,
        output_length: u32,
        result: PVOID,
        result_length: *mut u32,
    ) -> NTSTATUS {
        if matching.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        if pin == PIN_WAVE_OUT {
            // Audio ranges have parameters (channels, bits, rates): PortCls' own intersection
            // handles KSDATARANGE_AUDIO, as the docs allow.
            return dmus_sys::kernel::STATUS_NOT_IMPLEMENTED;
        }
        // SAFETY: one of the pin's ranges PortCls read from our descriptor; unaligned read.
        let matching = unsafe { matching.read_unaligned() };
        let ours = our_range(pin, &matching);
        // SAFETY: PortCls' buffers per DataRangeIntersection's contract. PASSIVE_LEVEL.
        unsafe { data_range_intersection(ours, client, output_length, result, result_length) }
    }
}

impl MiniportDMusImpl for Miniport {
    unsafe fn init(
        this: &ComObject<Self>,
        _adapter: PUNKNOWN,
        _list: PRESOURCELIST,
        port: *mut IPortDMus,
        service_group_out: *mut PSERVICEGROUP,
    ) -> NTSTATUS {
        if service_group_out.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: a writable out-pointer: the synth has no interrupt and needs no service group.
        unsafe { service_group_out.write(core::ptr::null_mut()) };
        let Some(port) = NonNull::new(port) else {
            return STATUS_INVALID_PARAMETER;
        };
        let miniport = this;
        // SAFETY: Init runs first and once, at PASSIVE_LEVEL, before anything else reads `port`.
        let slot = unsafe { &mut *miniport.port.get() };
        if slot.is_some() {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        // SAFETY: the port PortCls passed, live; our reference is released in teardown.
        let vtable = unsafe { crate::com::vtable(port.as_ptr()) };
        // SAFETY: AddRef on the live port. PASSIVE_LEVEL.
        unsafe { (vtable.base.base.AddRef)(port.as_ptr().cast()) };
        *slot = Some(port);
        STATUS_SUCCESS
    }

    /// `Service`: nothing to do (no interrupt, no capture).
    fn service(_this: &ComObject<Self>) {}

    unsafe fn new_stream(
        this: &ComObject<Self>,
        mxf_out: *mut *mut IMXF,
        outer: PUNKNOWN,
        _pool_type: POOL_TYPE,
        pin: u32,
        stream_type: DMUS_STREAM_TYPE,
        format: *mut KSDATAFORMAT,
        service_group_out: *mut PSERVICEGROUP,
        allocator: *mut IAllocatorMXF,
        clock: *mut IMasterClock,
        prefetch: *mut u64,
    ) -> NTSTATUS {
        // SAFETY: PortCls' out-pointers, null or writable. Any IRQL (memory only).
        if let Err(status) = unsafe {
            begin_new_stream(
                mxf_out,
                service_group_out,
                prefetch,
                outer,
                allocator,
                clock,
            )
        } {
            return status;
        }
        let miniport = this;
        // SAFETY: read after Init, which wrote it at PASSIVE_LEVEL before any stream.
        if unsafe { (*miniport.port.get()).is_none() } {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        let wave = match (pin, stream_type) {
            (PIN_LEGACY_RENDER | PIN_DMUSIC_RENDER, DMUS_STREAM_MIDI_RENDER) => None,
            (PIN_WAVE_OUT, DMUS_STREAM_WAVE_SINK) => {
                // SAFETY: PortCls' format for the pin (null or readable for FormatSize bytes).
                match unsafe { WaveFormat::read(format) } {
                    Some(wave) => Some(wave),
                    None => return STATUS_NO_MATCH,
                }
            }
            _ => return STATUS_INVALID_DEVICE_REQUEST,
        };
        if wave.is_none() && !format.is_null() {
            // SAFETY: PortCls' format for the pin, readable; unaligned header read.
            let header = unsafe { format.read_unaligned() };
            if our_range(pin, &header).is_none() {
                return STATUS_NO_MATCH;
            }
        }
        {
            let mut kept = miniport.clock.lock();
            if kept.is_none() {
                // SAFETY: PortCls' live master clock; the reference is the miniport's.
                *kept = unsafe { MasterClock::add_ref(clock) };
            }
        }
        let made = match wave {
            None => {
                let Some(slot) = miniport.claim_input(pin) else {
                    return STATUS_INVALID_DEVICE_REQUEST;
                };
                // SAFETY: live allocator and clock from PortCls; PASSIVE_LEVEL. The claim
                // passes to the stream (given back when it goes, or by a failed create).
                unsafe { RenderStream::create(this.to_ref(), slot, allocator) }
            }
            Some(wave) => {
                if !miniport.claim_pin(pin) {
                    return STATUS_INVALID_DEVICE_REQUEST;
                }
                // SAFETY: as above.
                let made = unsafe { SinkStream::create(this.to_ref(), wave, allocator, clock) };
                if made.is_err() {
                    miniport.release_pin(pin);
                }
                made
            }
        };
        let stream = match made {
            Ok(stream) => stream,
            Err(status) => return status,
        };
        // SAFETY: writable (checked); the stream's one reference goes to PortCls.
        unsafe { mxf_out.write(stream.as_ptr()) };
        let ahead = if wave.is_none() {
            // The synth places each event at its own sample: it wants every event at once.
            dmus_sys::dmusic::DONT_HOLD_FOR_SEQUENCING
        } else {
            0
        };
        // SAFETY: writable (checked).
        unsafe { prefetch.write(ahead) };
        STATUS_SUCCESS
    }
}
