//! The MIDI render streams (`IMXF`) of pins 0 (legacy MIDI) and 1 (DirectMusic), several
//! per pin (one per client): each feeds its own input of the synth, with its own KS state,
//! sequencer and channel groups; the voices are shared.
//!
//! A stream is a thin door into the synth: it asked the port for
//! `DONT_HOLD_FOR_SEQUENCING`, so `PutMessage` (DISPATCH_LEVEL) gets every event as soon
//! as it is unpacked, and the stream appends it to its input's pending events in the
//! miniport's inbox (a spin lock, O(1)); the [`SynthCore`] files them by time under its
//! mutex at PASSIVE_LEVEL and plays each at its own sample when the wave sink renders. The core's input holds one
//! reference to the port's allocator (spent and stopped events go back through it, whole
//! chains at a time); the stream keeps another for the one case the core cannot take a
//! chain.
//!
//! [`SynthCore`]: dmus_synth::SynthCore

use core::ptr::NonNull;

use com_object::{ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::Chain;

use super::miniport::Miniport;
use crate::com::Pool;
use crate::miniport::allocator::Allocator;
use crate::miniport::spin_lock::SpinLock;

/// A MIDI render stream.
pub struct RenderStream {
    /// The synth input it feeds (its channel groups are that input's).
    slot: usize,
    /// The allocator for chains the core cannot take (no input attached).
    spare: SpinLock<Allocator>,
    /// The stream's reference on its miniport: the last field, so it is released after
    /// everything else the stream holds.
    miniport: ComRef<Miniport>,
}

com_object::class!(RenderStream, Pool: IMXF);

impl RenderStream {
    /// Makes a stream feeding synth input `slot` with one reference for the caller,
    /// attached to the miniport's synth. The caller's claim on `slot` passes to the stream:
    /// given back when the stream goes, or here when it cannot be made. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` (pool), `STATUS_INVALID_PARAMETER` for a null
    /// allocator, `STATUS_INVALID_DEVICE_REQUEST` when the input is taken.
    ///
    /// # Safety
    /// `allocator` is PortCls' live allocator.
    pub(crate) unsafe fn create(
        miniport: ComRef<Miniport>,
        slot: usize,
        allocator: *mut IAllocatorMXF,
    ) -> Result<NonNull<IMXF>, NTSTATUS> {
        // SAFETY: PortCls' live allocator (caller's contract); two references, one each for
        // the core's input and the stream.
        let input = unsafe { Allocator::add_ref(allocator) };
        // SAFETY: as above.
        let spare = unsafe { Allocator::add_ref(allocator) };
        let (Some(input), Some(spare)) = (input, spare) else {
            // No stream was made to give the claim back when it goes.
            miniport.release_input(slot);
            return Err(STATUS_INVALID_PARAMETER);
        };
        // From here the value's Drop gives the claim back, even if the pool has no room.
        let stream = ComRef::try_new(Self {
            slot,
            spare: SpinLock::new(spare),
            miniport,
        })?;
        let owner = stream.miniport();
        let attached = {
            let mut core = owner.core().lock();
            let attached = core.attach(slot, input);
            if attached.is_ok() {
                owner.inbox().lock().attach(slot);
            }
            attached
        };
        if let Err((_, input)) = attached {
            drop(input);
            drop(stream);
            return Err(STATUS_INVALID_DEVICE_REQUEST);
        }
        Ok(stream.into_raw())
    }

    fn miniport(&self) -> &Miniport {
        &self.miniport
    }
}

impl Drop for RenderStream {
    fn drop(&mut self) {
        let miniport = self.miniport();
        let mut core = miniport.core().lock();
        // The inbox refuses events first; what it held is filed, then given back whole.
        let pending = miniport.inbox().lock().detach(self.slot);
        if let Err(chain) = core.put(self.slot, pending) {
            self.spare.lock().give_back(chain);
        }
        let input = core.detach(self.slot);
        drop(core);
        // Released outside the mutex.
        drop(input);
        self.miniport().release_input(self.slot);
    }
}

impl MxfImpl for RenderStream {
    fn set_state(this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS {
        if !(KSSTATE_STOP..=KSSTATE_RUN).contains(&state) {
            return STATUS_INVALID_PARAMETER;
        }
        let miniport = this.miniport();
        // NewStream kept the port's clock before it made this stream.
        let now = miniport.master_now().unwrap_or(0);
        // PASSIVE_LEVEL: the mutex. Events put before the state change are filed first, so
        // STOP gives them back too.
        let mut core = miniport.core().lock();
        miniport.file_pending(&mut core);
        core.set_state(this.slot, state, now);
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        // SAFETY: PortCls hands over a whole chain of its allocator's events (or null); from
        // here this stream owns it until it goes back. DISPATCH_LEVEL.
        let chain = unsafe { Chain::from_raw(event) };
        // DISPATCH_LEVEL: an O(1) append under the inbox's spin lock; the synth files the
        // events by time under its mutex when it next renders.
        let refused = this.miniport().inbox().lock().put(this.slot, chain);
        if let Err(chain) = refused {
            this.spare.lock().give_back(chain);
        }
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        // The synth is the end of a render stream: it has no IMXF output.
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }
}
