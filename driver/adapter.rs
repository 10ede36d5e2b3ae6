//! One adapter being started: its resources, its subdevice and the DMus port
//! StartDevice creates, initialises with the miniport and registers. Once
//! registered, PortCls holds the port; the adapter's own reference is released
//! when StartDevice drops it.

use dmus_sys::kernel::{NTSTATUS, PDEVICE_OBJECT, PIRP, STATUS_INVALID_PARAMETER};
use dmus_sys::portcls::PRESOURCELIST;

use crate::port::DmusPort;
use crate::resources::AdapterResources;
use crate::subdevice::{MINIPORTS, MiniportConstructor, SubdeviceKind};
use crate::trace::trace;

/// A started adapter. Dropping it releases its port reference.
pub struct Adapter {
    device: PDEVICE_OBJECT,
    resources: AdapterResources,
    subdevice: SubdeviceKind,
    registered: bool,
    // StartDevice's reference to the port; released on drop (the subdevice
    // registration keeps its own).
    port: DmusPort,
}

impl Adapter {
    /// StartDevice's work: read the resources, create the DMus port, and plug
    /// in the subdevice's miniport when [`MINIPORTS`] has one. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INVALID_PARAMETER` for a null device or list, or the first
    /// PortCls failure (nothing is kept then: the port is released).
    ///
    /// # Safety
    /// The arguments are those PortCls passed to StartDevice.
    pub unsafe fn start(
        device: PDEVICE_OBJECT,
        irp: PIRP,
        list: PRESOURCELIST,
    ) -> Result<Self, NTSTATUS> {
        if device.is_null() || list.is_null() {
            return Err(STATUS_INVALID_PARAMETER);
        }
        // SAFETY: the caller passes PortCls' live resource list. PASSIVE_LEVEL.
        let resources = unsafe { AdapterResources::read(list) };
        let subdevice = SubdeviceKind::for_resources(&resources);
        let port = DmusPort::try_new()?;
        let mut adapter = Self {
            device,
            resources,
            subdevice,
            registered: false,
            port,
        };
        match subdevice.miniport_in(MINIPORTS) {
            // SAFETY: StartDevice's own arguments, forwarded, at PASSIVE_LEVEL.
            Some(constructor) => unsafe { adapter.plug(constructor, irp, list)? },
            None => trace(
                dmus_sys::imports::DPFLTR_INFO_LEVEL,
                "DMus port created; no miniport for this subdevice yet",
            ),
        }
        Ok(adapter)
    }

    /// Initialises the kept port with a new miniport and registers the subdevice.
    ///
    /// # Safety
    /// `irp` and `list` are StartDevice's arguments (PASSIVE_LEVEL).
    unsafe fn plug(
        &mut self,
        constructor: MiniportConstructor,
        irp: PIRP,
        list: PRESOURCELIST,
    ) -> Result<(), NTSTATUS> {
        let miniport = constructor(&self.resources)?;
        // SAFETY: StartDevice's arguments and a live miniport (one reference,
        // ours), at PASSIVE_LEVEL.
        let init = unsafe { self.port.init(self.device, irp, miniport, list) };
        // The port took its own reference (or failed): ours goes either way.
        // SAFETY: the constructor handed us exactly one reference. PASSIVE_LEVEL.
        unsafe { crate::com::release(miniport) };
        init?;
        // SAFETY: StartDevice's device object; a static NUL-terminated name.
        let registered = unsafe { self.port.register(self.device, self.subdevice.wide_name()) };
        registered?;
        self.registered = true;
        Ok(())
    }
}
