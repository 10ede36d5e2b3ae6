//! The wave-sink stream (`ISynthSinkDMus`) of pin 2.
//!
//! The DMus port's wave sink owns the output buffer and the audio device's clock; it pulls
//! audio with `Render` and keeps the synth's sample clock on the master clock with
//! `SyncToMaster` ("A Wave Sink for Kernel-Mode Software Synthesizers"). Units follow
//! Microsoft's ddksynth sample, the only implementation written against the real port:
//! `Render`'s length and position count sample frames (`CSynth::Mix` takes them as
//! such), although the DDI page says bytes; dmus-sys documents the same.
//!
//! - `Render(buffer, frames, position)`: writes `frames` interleaved stereo 16-bit frames
//!   (every byte of them, silence included) for the frames starting at `position`.
//! - `SyncToMaster(time, TRUE)`: sample 0 plays at master time `time` (the first call
//!   after the sink enters RUN). `SyncToMaster(time, FALSE)`: `time` is the sink's own
//!   clock; the difference to the master clock is the drift the sample clock corrects.
//! - `SampleToRefTime` / `RefTimeToSample`: the sample clock's two directions.
//!
//! Every method here runs at PASSIVE_LEVEL (the port's sink thread) and takes the synth's
//! mutex: `Render` mixes under it, in chunks of [`MIX_FRAMES`] frames through one stack
//! buffer, and allocates nothing. At DISPATCH_LEVEL only the inbox's spin lock is held, to
//! take the events `PutMessage` left.

use core::ptr::NonNull;

use com_object::{ComObject, ComRef, MxfImpl, SynthSinkDMusImpl};
use dmus_synth::synth::{AUDIO_CHANNELS, MAX_RATE, MIN_RATE, MIX_FRAMES};
use dmus_sys::dls::WAVEFORMATEX;
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, ISynthSinkDMus, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSDATAFORMAT, KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
};
use dmus_sys::ksmedia::KSDATAFORMAT_WAVEFORMATEX;
use mxf::Chain;

use super::descriptor::{BITS_PER_SAMPLE, PIN_WAVE_OUT};
use super::miniport::Miniport;
use crate::com::Pool;
use crate::miniport::allocator::Allocator;
use crate::miniport::clock::MasterClock;
use crate::miniport::spin_lock::SpinLock;

/// `WAVE_FORMAT_PCM` (mmreg.h).
pub const WAVE_FORMAT_PCM: u16 = 1;
/// Bytes of one output frame (stereo, 16-bit).
pub const BLOCK_ALIGN: u16 = 4;
/// Bytes of a `KSDATAFORMAT_WAVEFORMATEX` (the 64-byte header, then the 18-byte packed
/// `WAVEFORMATEX`; pinned in dmus-sys).
pub const WAVE_FORMAT_BYTES: usize = core::mem::size_of::<KSDATAFORMAT_WAVEFORMATEX>();

/// The output format the sink asked for, when the synth can render it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveFormat {
    /// Frames per second.
    pub rate: u32,
}

impl WaveFormat {
    /// The `WAVEFORMATEX` the synth renders at `rate` (`KSPROPERTY_SYNTH_DLS_WAVEFORMAT`).
    #[must_use]
    pub fn waveformatex(rate: u32) -> WAVEFORMATEX {
        WAVEFORMATEX {
            wFormatTag: WAVE_FORMAT_PCM,
            nChannels: 2,
            nSamplesPerSec: rate,
            nAvgBytesPerSec: rate.saturating_mul(u32::from(BLOCK_ALIGN)),
            nBlockAlign: BLOCK_ALIGN,
            wBitsPerSample: 16,
            cbSize: 0,
        }
    }

    /// Checks a `KSDATAFORMAT_WAVEFORMATEX`: PCM, stereo, 16-bit, a rate in range.
    #[must_use]
    pub fn check(header: &KSDATAFORMAT, wave: &WAVEFORMATEX) -> Option<Self> {
        let size = usize::try_from(header.FormatSize).ok()?;
        let (tag, channels, bits, align, rate) = (
            wave.wFormatTag,
            wave.nChannels,
            wave.wBitsPerSample,
            wave.nBlockAlign,
            wave.nSamplesPerSec,
        );
        let fits = size >= WAVE_FORMAT_BYTES
            && header.MajorFormat == KSDATAFORMAT_TYPE_AUDIO
            && header.SubFormat == KSDATAFORMAT_SUBTYPE_PCM
            && header.Specifier == KSDATAFORMAT_SPECIFIER_WAVEFORMATEX
            && tag == WAVE_FORMAT_PCM
            && usize::from(channels) == AUDIO_CHANNELS
            && u32::from(bits) == BITS_PER_SAMPLE
            && align == BLOCK_ALIGN
            && (MIN_RATE..=MAX_RATE).contains(&rate);
        fits.then_some(Self { rate })
    }

    /// Reads and checks the format PortCls passes to `NewStream` for the wave pin.
    ///
    /// # Safety
    /// `format` is null or readable for its `FormatSize` bytes.
    #[must_use]
    pub unsafe fn read(format: *const KSDATAFORMAT) -> Option<Self> {
        if format.is_null() {
            return None;
        }
        // SAFETY: readable header (caller's contract); unaligned because KS buffers need
        // not be 8-aligned.
        let header = unsafe { format.read_unaligned() };
        if usize::try_from(header.FormatSize).ok()? < WAVE_FORMAT_BYTES {
            return None;
        }
        // SAFETY: FormatSize ≥ 82 readable bytes: the whole KSDATAFORMAT_WAVEFORMATEX
        // (packed, alignment 1). Any IRQL (PASSIVE here).
        let whole = unsafe { format.cast::<KSDATAFORMAT_WAVEFORMATEX>().read_unaligned() };
        Self::check(&header, &{ whole.WaveFormatEx })
    }
}

/// The wave-sink stream.
pub struct SinkStream {
    clock: MasterClock,
    /// For events put to the sink by mistake (it plays none): they go straight back.
    allocator: SpinLock<Allocator>,
    /// The stream's reference on its miniport: the last field, so it is released after
    /// everything else the stream holds.
    miniport: ComRef<Miniport>,
}

com_object::class!(SinkStream, Pool: ISynthSinkDMus);

impl SinkStream {
    /// Makes the sink with one reference for the caller; the synth restarts at the format's
    /// rate (no voice sounding). PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` (pool), `STATUS_INVALID_PARAMETER` for a null
    /// allocator or clock.
    ///
    /// # Safety
    /// `allocator` and `clock` are PortCls' live objects.
    pub(crate) unsafe fn create(
        miniport: ComRef<Miniport>,
        format: WaveFormat,
        allocator: *mut IAllocatorMXF,
        clock: *mut IMasterClock,
    ) -> Result<NonNull<IMXF>, NTSTATUS> {
        // SAFETY: PortCls' live allocator (caller's contract).
        let allocator = unsafe { Allocator::add_ref(allocator) }.ok_or(STATUS_INVALID_PARAMETER)?;
        // SAFETY: PortCls' live clock.
        let clock = unsafe { MasterClock::add_ref(clock) }.ok_or(STATUS_INVALID_PARAMETER)?;
        let stream = ComRef::try_new(Self {
            clock,
            allocator: SpinLock::new(allocator),
            miniport,
        })
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        stream.miniport().core().lock().restart(format.rate);
        Ok(stream.into_raw::<ISynthSinkDMus>().cast())
    }

    fn miniport(&self) -> &Miniport {
        &self.miniport
    }
}

impl Drop for SinkStream {
    fn drop(&mut self) {
        self.miniport().release_pin(PIN_WAVE_OUT);
    }
}

impl MxfImpl for SinkStream {
    fn set_state(_this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS {
        // The sink's clock starts with SyncToMaster(.., TRUE), which the port sends after RUN;
        // no state holds data here.
        if (KSSTATE_STOP..=KSSTATE_RUN).contains(&state) {
            STATUS_SUCCESS
        } else {
            STATUS_INVALID_PARAMETER
        }
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        let stream = this;
        // SAFETY: PortCls hands over a whole chain of its allocator's events (or null).
        let chain = unsafe { Chain::from_raw(event) };
        // The sink plays no events; the chain goes back whole.
        stream.allocator.lock().give_back(chain);
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }
}

impl SynthSinkDMusImpl for SinkStream {
    /// `Render`: `frames` stereo 16-bit frames into `buffer`, starting at sample `position`.
    unsafe fn render(this: &ComObject<Self>, buffer: *mut u8, frames: u32, position: i64) {
        if buffer.is_null() {
            return;
        }
        let stream = this;
        let frames = usize::try_from(frames).unwrap_or(0);
        let frame_bytes = usize::from(BLOCK_ALIGN);
        let mut chunk = [0i16; MIX_FRAMES * AUDIO_CHANNELS];
        let miniport = stream.miniport();
        // PASSIVE_LEVEL (the port's sink thread): the mix runs under the mutex, never at
        // DISPATCH_LEVEL; the inbox's spin lock is held only to take the pending chains.
        let mut core = miniport.core().lock();
        miniport.file_pending(&mut core);
        let mut done = 0;
        // Bounded by `frames`: each pass renders at least one frame.
        while done < frames {
            let len = (frames - done).min(MIX_FRAMES);
            let out = &mut chunk[..len * AUDIO_CHANNELS];
            let at = position.saturating_add(i64::try_from(done).unwrap_or(i64::MAX));
            core.render(out, at);
            let target = buffer.wrapping_add(done * frame_bytes);
            // SAFETY: the port's buffer holds `frames` frames (Render's contract); this writes
            // frames `done..done + len` of it from the local chunk, byte-wise, so the buffer's
            // alignment does not matter. PASSIVE_LEVEL under the mutex.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    out.as_ptr().cast::<u8>(),
                    target,
                    len * frame_bytes,
                );
            }
            done += len;
        }
    }

    fn sync_to_master(this: &ComObject<Self>, time: i64, start: i32) -> NTSTATUS {
        let stream = this;
        let master_now = stream.clock.now();
        stream
            .miniport()
            .core()
            .lock()
            .sync_to_master(time, start != 0, master_now);
        STATUS_SUCCESS
    }

    unsafe fn sample_to_ref_time(this: &ComObject<Self>, sample: i64, time: *mut i64) -> NTSTATUS {
        if time.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let stream = this;
        let value = stream
            .miniport()
            .core()
            .lock()
            .clock()
            .sample_to_ref(sample);
        // SAFETY: a writable REFERENCE_TIME (checked non-null).
        unsafe { time.write_unaligned(value) };
        STATUS_SUCCESS
    }

    unsafe fn ref_time_to_sample(this: &ComObject<Self>, time: i64, sample: *mut i64) -> NTSTATUS {
        if sample.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let stream = this;
        let value = stream.miniport().core().lock().clock().ref_to_sample(time);
        // SAFETY: a writable LONGLONG (checked non-null).
        unsafe { sample.write_unaligned(value) };
        STATUS_SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::ks::KSDATAFORMAT;
    use dmus_sys::ks_guids::{
        KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
    };

    use super::WaveFormat;

    #[test]
    fn only_stereo_16_bit_pcm_in_range_is_taken() {
        let header = KSDATAFORMAT {
            FormatSize: 88,
            MajorFormat: KSDATAFORMAT_TYPE_AUDIO,
            SubFormat: KSDATAFORMAT_SUBTYPE_PCM,
            Specifier: KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
            ..KSDATAFORMAT::default()
        };
        let good = WaveFormat::waveformatex(44_100);
        assert_eq!(
            WaveFormat::check(&header, &good),
            Some(WaveFormat { rate: 44_100 })
        );
        let mono = dmus_sys::dls::WAVEFORMATEX {
            nChannels: 1,
            nBlockAlign: 2,
            ..good
        };
        assert_eq!(WaveFormat::check(&header, &mono), None);
        let slow = WaveFormat::waveformatex(11_025);
        assert_eq!(WaveFormat::check(&header, &slow), None);
        let short = KSDATAFORMAT {
            FormatSize: 64,
            ..header
        };
        assert_eq!(WaveFormat::check(&short, &good), None);
    }
}
