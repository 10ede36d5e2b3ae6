//! An owned reference to a PortCls DirectMusic port (`IPortDMus` via `IPort`).
//!
//! The raw pointer stays private: every method's SAFETY leans on it being a
//! live port this wrapper holds one reference to, released exactly once on drop.

use core::ptr::NonNull;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::CLSID_PortDMus;
use dmus_sys::imports::{PcNewPort, PcRegisterSubdevice};
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, PDEVICE_OBJECT, PIRP, STATUS_UNSUCCESSFUL};
use dmus_sys::portcls::{IPort, PPORT, PRESOURCELIST};

/// One reference to a DMus port object.
pub struct DmusPort {
    port: NonNull<IPort>,
}

impl DmusPort {
    /// Creates a DirectMusic port (`PcNewPort(CLSID_PortDMus)`). PASSIVE_LEVEL.
    ///
    /// # Errors
    /// PcNewPort's failure status (or `STATUS_UNSUCCESSFUL` if it "succeeded"
    /// without a port).
    pub fn try_new() -> Result<Self, NTSTATUS> {
        let mut port: PPORT = core::ptr::null_mut();
        // SAFETY: PcNewPort writes one referenced port to `port` on success;
        // both pointers are valid for the call. StartDevice runs at PASSIVE_LEVEL.
        let status = unsafe { PcNewPort(&raw mut port, &CLSID_PortDMus) };
        if !NT_SUCCESS(status) {
            return Err(status);
        }
        NonNull::new(port)
            .map(|port| Self { port })
            .ok_or(STATUS_UNSUCCESSFUL)
    }

    /// `IPort::Init`: binds the miniport and the adapter's resources. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// The port's failure status.
    ///
    /// # Safety
    /// `device`, `irp` and `resources` are StartDevice's arguments, and
    /// `miniport` a live miniport `IUnknown` (the port takes its own reference).
    pub unsafe fn init(
        &self,
        device: PDEVICE_OBJECT,
        irp: PIRP,
        miniport: PUNKNOWN,
        resources: PRESOURCELIST,
    ) -> Result<(), NTSTATUS> {
        let port = self.port.as_ptr();
        // SAFETY: `port` is live: this wrapper holds a reference. A plain read, any IRQL.
        let vtable = unsafe { crate::com::vtable(port) };
        // SAFETY: the caller vouches for the arguments; no adapter IUnknown.
        // PASSIVE_LEVEL, as StartDevice runs.
        let status = unsafe {
            (vtable.Init)(
                port,
                device,
                irp,
                miniport,
                core::ptr::null_mut(),
                resources,
            )
        };
        if NT_SUCCESS(status) {
            Ok(())
        } else {
            Err(status)
        }
    }

    /// `PcRegisterSubdevice`: publishes the port as the filter `name`. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// PortCls' failure status.
    ///
    /// # Safety
    /// `device` is StartDevice's device object; `name` is NUL-terminated.
    pub unsafe fn register(
        &self,
        device: PDEVICE_OBJECT,
        name: &'static [u16],
    ) -> Result<(), NTSTATUS> {
        debug_assert_eq!(name.last(), Some(&0));
        // SAFETY: the port is live and initialised by the caller; `name` is a
        // NUL-terminated static string. PASSIVE_LEVEL.
        let status =
            unsafe { PcRegisterSubdevice(device, name.as_ptr(), self.port.as_ptr().cast()) };
        if NT_SUCCESS(status) {
            Ok(())
        } else {
            Err(status)
        }
    }
}

impl Drop for DmusPort {
    fn drop(&mut self) {
        // SAFETY: this wrapper owns exactly one reference, released here once.
        // Release runs at IRQL ≤ DISPATCH_LEVEL; rdmus drops ports at PASSIVE_LEVEL
        // (StartDevice failure paths and unload).
        unsafe { crate::com::release(self.port.as_ptr()) };
    }
}
