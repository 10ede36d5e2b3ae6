//! IRPs the simulation issues (the start IRP, property IRPs): opaque blocks the driver may pass
//! back (`PcDispatchIrp`), known to the machine for as long as they live.

use alloc::boxed::Box;

use dmus_sys::kernel::{IRP, PIRP};

use crate::current::with_state;

/// An opaque IRP the sim made; unknown to the machine once dropped.
pub struct SimIrp {
    block: Box<[u64; 32]>,
}

impl SimIrp {
    /// A new IRP, registered with the machine.
    #[must_use]
    pub fn new() -> Self {
        let irp = Self {
            block: Box::new([0; 32]),
        };
        let address = irp.address();
        with_state("IRP", |m| m.portcls.irps.insert(address));
        irp
    }

    fn address(&self) -> usize {
        core::ptr::from_ref(&*self.block) as usize
    }

    /// The `PIRP` to hand to the driver (opaque: the driver never looks inside).
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
