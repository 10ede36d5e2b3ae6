//! IRPs the simulation issues (the start IRP, property IRPs): blocks the driver may pass back
//! (`PcDispatchIrp`), known to the machine for as long as they live, whose `RequestorMode`
//! says who asked.

use alloc::boxed::Box;

use dmus_sys::kernel::{IRP, IRP_HEADER, KPROCESSOR_MODE, KernelMode, PIRP};

use crate::current::with_state;

/// The bytes of a simulated IRP, aligned as the kernel's (`MEMORY_ALLOCATION_ALIGNMENT`).
#[repr(C, align(16))]
struct IrpBlock([u8; 256]);

/// An IRP the sim made; unknown to the machine once dropped. Zeroed, except
/// `RequestorMode` (at its wdm.h place, [`IRP_HEADER`]), the one field a miniport may read.
pub struct SimIrp {
    block: Box<IrpBlock>,
}

impl SimIrp {
    /// A new IRP from kernel mode, registered with the machine.
    #[must_use]
    pub fn new() -> Self {
        Self::with_mode(KernelMode)
    }

    /// A new IRP whose `RequestorMode` is `mode` (`UserMode` for an application's request).
    #[must_use]
    pub fn with_mode(mode: KPROCESSOR_MODE) -> Self {
        let mut block = Box::new(IrpBlock([0; 256]));
        block.0[core::mem::offset_of!(IRP_HEADER, RequestorMode)] = mode.to_ne_bytes()[0];
        let irp = Self { block };
        let address = irp.address();
        with_state("IRP", |m| m.portcls.irps.insert(address));
        irp
    }

    fn address(&self) -> usize {
        core::ptr::from_ref(&*self.block) as usize
    }

    /// The `PIRP` to hand to the driver.
    #[must_use]
    pub fn as_ptr(&self) -> PIRP {
        self.address() as *mut IRP
    }
}

impl Default for SimIrp {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for SimIrp {
    fn drop(&mut self) {
        let address = self.address();
        with_state("IRP", |m| m.portcls.irps.remove(&address));
    }
}
