//! `IPowerNotify`: on the way back to D0 the card is re-initialised, as it may have lost
//! its UART mode while off.

use core::sync::atomic::Ordering;

use com_object::{ComObject, PowerNotifyImpl};
use dmus_sys::kernel::{NT_SUCCESS, POWER_STATE, PowerDeviceD0, PowerDeviceUnspecified};
use mpu401::InitBudget;

use super::object::Miniport;
use crate::mpu401::hardware::StallDelay;

impl PowerNotifyImpl for Miniport {
    /// `PowerChangeNotify` (PASSIVE_LEVEL).
    fn power_change_notify(this: &ComObject<Self>, state: POWER_STATE) {
        // SAFETY: PortCls passes a device power state (the DeviceState member); any
        // bit pattern is a valid i32. Any IRQL (memory only).
        let device_state = unsafe { state.DeviceState };
        let previous = this.power_state.swap(device_state, Ordering::AcqRel);
        if device_state == PowerDeviceD0
            && previous != PowerDeviceD0
            && previous != PowerDeviceUnspecified
        {
            this.power_up();
        }
    }
}

impl Miniport {
    /// Brings the card back into UART mode after the device was powered down: the
    /// interrupt is disconnected around it (init reads the ACKs itself). PASSIVE_LEVEL.
    fn power_up(&self) {
        let Some(setup) = self.setup() else {
            return;
        };
        let sync = self.interrupt();
        if let Some(sync) = sync {
            // SAFETY: our connected interrupt object; PASSIVE_LEVEL.
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: Disconnect at PASSIVE_LEVEL; no ISR runs until Connect.
            unsafe { (vtable.Disconnect)(sync.as_ptr()) };
        }
        let mut io = setup.io;
        let init = mpu401::initialize(&mut io, &mut StallDelay, &InitBudget::DEFAULT);
        if init.is_err() {
            crate::trace::trace(
                dmus_sys::imports::DPFLTR_ERROR_LEVEL,
                "MPU-401 did not come back after power-up",
            );
        }
        if let Some(sync) = sync {
            // SAFETY: as above. Any IRQL (reads the vtable pointer).
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: reconnects the routine registered in Init; PASSIVE_LEVEL.
            let status = unsafe { (vtable.Connect)(sync.as_ptr()) };
            if !NT_SUCCESS(status) {
                crate::trace::trace(
                    dmus_sys::imports::DPFLTR_ERROR_LEVEL,
                    "MPU-401 interrupt did not reconnect after power-up",
                );
            }
        }
    }
}
