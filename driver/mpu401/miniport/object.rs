//! The MPU-401 miniport object: its state, its constructor and its teardown.
//!
//! Its interfaces (`IMiniportDMus` first, then `IPowerNotify`) are declared once with
//! `com_object::class!`; the layer puts one vtable pointer per interface at the start of
//! the object and steps back to it from either. The object lives in nonpaged pool
//! ([`Pool`]) and is freed by the `Release` that drops the last reference.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, AtomicPtr, Ordering};

use com_object::{ComObject, ComRef};
use dmus_sys::com::{IUnknown, PUNKNOWN};
use dmus_sys::dmus_com::{IMiniportDMus, IPortDMus};
use dmus_sys::kernel::{NTSTATUS, PowerDeviceUnspecified};
use dmus_sys::portcls::{IInterruptSync, IPowerNotify, IServiceGroup};
use mpu401::{InputRing, SharedWire};

use super::pins::{CaptureList, Pins};
use crate::com::Pool;
use crate::miniport::pool_box::init_fields;
use crate::miniport::spin_lock::SpinLock;
use crate::mpu401::hardware::CardIo;
use crate::resources::AdapterResources;

/// Bytes of timestamped input the ISR can hold for the capture DPC: 41 ms of
/// a saturated wire (the DDK sample keeps 128 bytes too). 16 bytes each.
pub const INPUT_RING_BYTES: usize = 128;
/// The input ring of a new miniport, evaluated at compile time: copied into the pool
/// block from the image rather than built element by element on the stack first.
const EMPTY_INPUT: InputRing<INPUT_RING_BYTES> = InputRing::new();
/// Input bytes one interrupt (or one synchronized drain) reads at most: two
/// ISA cycles a byte keep the ISR within the 25 µs Microsoft recommends. Bytes
/// left on the card are read by the capture DPC's next synchronized drain.
pub const ISR_MAX_READS: u32 = 8;
/// How far ahead the port hands render events over (100 ns): 20 ms, so the
/// stream's own timer, not the port's sequencer, decides when each goes out.
pub const RENDER_PREFETCH_100NS: u64 = 200_000;

/// What Init set up; written once in Init, read-only afterwards.
pub(crate) struct Setup {
    pub(crate) io: CardIo,
    pub(crate) port: NonNull<IPortDMus>,
    pub(crate) service_group: NonNull<IServiceGroup>,
    pub(crate) polled: bool,
}

/// The MPU-401 miniport.
pub struct Miniport {
    /// The device power state last notified (`PowerDeviceUnspecified` until then).
    pub(super) power_state: AtomicI32,
    /// Set by Init (PASSIVE_LEVEL, before any stream or interrupt exists).
    pub(super) setup: UnsafeCell<Option<Setup>>,
    /// The connected interrupt, or null when polled.
    pub(super) sync: AtomicPtr<IInterruptSync>,
    /// Open streams, the card's output and the capture streams.
    pins: Pins,
    /// Input bytes with their arrival time (QPC in 100 ns). Touched only with the
    /// interrupt lock held (the ISR, synchronized routines) or, when polled,
    /// with the capture list's lock held.
    input: UnsafeCell<InputRing<INPUT_RING_BYTES>>,
}

com_object::class!(Miniport, Pool: IMiniportDMus, IPowerNotify);

/// The subdevice seam's constructor: a miniport with one reference for the
/// caller. Hardware is touched only in Init. PASSIVE_LEVEL.
///
/// The object (2 KiB of it the input ring) is made in place in its pool
/// block, never on the stack.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted.
pub fn new_miniport(_resources: &AdapterResources) -> Result<PUNKNOWN, NTSTATUS> {
    let object = ComRef::<Miniport>::try_new_with(|place| {
        Ok(init_fields!(
            place,
            Miniport {
                power_state: AtomicI32::new(PowerDeviceUnspecified),
                setup: UnsafeCell::new(None),
                sync: AtomicPtr::new(core::ptr::null_mut()),
                pins: Pins::new(),
                input: UnsafeCell::new(EMPTY_INPUT),
            }
        ))
    })?;
    Ok(object.into_raw::<IUnknown>().as_ptr())
}

impl Miniport {
    /// The card's base port, if `unknown` is an initialised miniport.
    ///
    /// # Safety
    /// `unknown` is null or this driver's live MPU-401 miniport's `IUnknown` (PortCls
    /// passes the miniport whose automation table matched as `MajorTarget`).
    pub unsafe fn base_of(unknown: PUNKNOWN) -> Option<usize> {
        // SAFETY: null or our live miniport (caller's contract). Any IRQL (memory only).
        let miniport = unsafe { ComObject::<Self>::from_interface(unknown) }?;
        miniport.setup().map(|setup| setup.io.base())
    }

    pub(crate) fn setup(&self) -> Option<&Setup> {
        // SAFETY: `setup` is written only by Init, at PASSIVE_LEVEL before any
        // stream, interrupt or property request can read it (PortCls calls
        // Init first and once); afterwards it is only read.
        unsafe { (*self.setup.get()).as_ref() }
    }

    /// A new stream on `pin`: its id, or `None` when the pin has all the streams it allows.
    pub(super) fn claim_pin(&self, pin: u32) -> Option<u32> {
        self.pins.claim(pin)
    }

    /// The stream `id` on `pin` is gone.
    pub(crate) fn release_pin(&self, pin: u32, id: u32) {
        self.pins.release(pin, id);
    }

    /// The card's output, shared by the render streams (see [`Pins`]).
    pub(crate) fn wire(&self) -> &SpinLock<SharedWire> {
        self.pins.wire()
    }

    /// The open capture streams (see [`Pins`]).
    pub(crate) fn captures(&self) -> &SpinLock<CaptureList> {
        self.pins.captures()
    }

    /// The connected interrupt, if any.
    pub(crate) fn interrupt(&self) -> Option<NonNull<IInterruptSync>> {
        NonNull::new(self.sync.load(Ordering::Acquire))
    }

    /// The input ring.
    ///
    /// # Safety
    /// The caller holds the interrupt lock (ISR or synchronized routine) or,
    /// with no interrupt connected, the capture list's lock, and keeps the
    /// borrow within that hold.
    #[allow(
        clippy::mut_from_ref,
        reason = "exclusivity comes from the lock the caller holds"
    )]
    pub(crate) unsafe fn input(&self) -> &mut InputRing<INPUT_RING_BYTES> {
        // SAFETY: exclusive per the caller's lock. Any IRQL (memory only).
        unsafe { &mut *self.input.get() }
    }

    /// Releases what Init took (interrupt, service group, port). PASSIVE_LEVEL.
    pub(super) fn teardown(&self) {
        let sync = self.sync.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if let Some(sync) = NonNull::new(sync) {
            // SAFETY: the interrupt object this miniport created and owns one
            // reference to. PASSIVE_LEVEL.
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: Disconnect at PASSIVE_LEVEL (IoDisconnectInterrupt underneath): it
            // returns once the ISR runs on no processor and will not run again, so the
            // ring it fills may go with the miniport. Nothing else of ours can still run on
            // the miniport: every stream (and its timer, deleted and waited for in the
            // stream's Drop) held a reference, and Service comes from the port, whose own
            // reference this last Release ends.
            unsafe { (vtable.Disconnect)(sync.as_ptr()) };
            // SAFETY: our one reference, released once. IRQL ≤ DISPATCH_LEVEL.
            unsafe { crate::com::release(sync.as_ptr()) };
        }
        // SAFETY: teardown runs from the last Release or a failed Init, when no
        // one else reads `setup`. PASSIVE_LEVEL.
        if let Some(setup) = unsafe { (*self.setup.get()).take() } {
            // SAFETY: references Init took on the service group and the port. IRQL ≤
            // DISPATCH_LEVEL.
            unsafe { crate::com::release(setup.service_group.as_ptr()) };
            // SAFETY: as above. IRQL ≤ DISPATCH_LEVEL.
            unsafe { crate::com::release(setup.port.as_ptr()) };
        }
    }
}

impl Drop for Miniport {
    /// The last Release: nothing else uses the object (streams hold references, so none is
    /// open). PASSIVE_LEVEL (PortCls releases miniports when the device stops).
    fn drop(&mut self) {
        self.teardown();
    }
}
