//! One adapter being started: its resources, its subdevice and the DMus port
//! StartDevice creates, initialises with the miniport and registers. Once
//! registered, PortCls holds the port; the adapter's own reference is released
//! when StartDevice drops it.
//!
//! The subdevice registration seam: which DMus subdevice an adapter gets, its
//! KS name, and where a miniport plugs in.
//!
//! StartDevice creates one DirectMusic port (`PcNewPort(CLSID_PortDMus)`) per
//! adapter, for the subdevice its resources call for: an MPU-401 card (a port
//! range) gets the `UART`, a root-enumerated device (no resources) the
//! `Synth`. If [`MINIPORTS`] has a constructor for that subdevice, the port is
//! initialised with the miniport and registered under the subdevice's name
//! (the reference string of the KS interfaces `inf/rdmus.inx` installs).
//! Either way the adapter keeps the port (below).
//!
//! Later issues plug a miniport in by adding one line to [`MINIPORTS`].

use dmus_sys::com::PUNKNOWN;
use dmus_sys::kernel::{NTSTATUS, PDEVICE_OBJECT, PIRP, STATUS_INVALID_PARAMETER};
use dmus_sys::portcls::PRESOURCELIST;

use crate::port::DmusPort;
use crate::resources::AdapterResources;
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

/// A DirectMusic subdevice rdmus registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubdeviceKind {
    /// The MPU-401 UART: MIDI out and in on a card's I/O ports.
    Uart,
    /// The DLS software synthesizer.
    Synth,
}

/// Makes a miniport for an adapter: the miniport's `IUnknown` with one
/// reference the caller owns, or the failure. Called at PASSIVE_LEVEL from
/// StartDevice.
pub type MiniportConstructor = fn(&AdapterResources) -> Result<PUNKNOWN, NTSTATUS>;

/// The miniports rdmus has, by subdevice. One line per miniport.
pub static MINIPORTS: &[(SubdeviceKind, MiniportConstructor)] = &[
    (SubdeviceKind::Uart, crate::mpu401::new_miniport),
    (SubdeviceKind::Synth, crate::synth::new_miniport),
];

/// Every subdevice, in registration order.
pub const ALL_SUBDEVICES: [SubdeviceKind; 2] = [SubdeviceKind::Uart, SubdeviceKind::Synth];

impl SubdeviceKind {
    /// The subdevice for an adapter with these resources.
    #[must_use]
    pub fn for_resources(resources: &AdapterResources) -> Self {
        if resources.port.is_some() {
            Self::Uart
        } else {
            Self::Synth
        }
    }

    /// The KS reference string, as the INF's `KSNAME_*` strings spell it.
    #[must_use]
    pub fn ks_name(self) -> &'static str {
        match self {
            Self::Uart => "UART",
            Self::Synth => "Synth",
        }
    }

    /// The same name as the NUL-terminated UTF-16 string `PcRegisterSubdevice` takes.
    #[must_use]
    pub fn wide_name(self) -> &'static [u16] {
        const UART: [u16; 5] = wide("UART");
        const SYNTH: [u16; 6] = wide("Synth");
        match self {
            Self::Uart => &UART,
            Self::Synth => &SYNTH,
        }
    }

    /// The constructor of this subdevice's miniport in `table`, if it has one.
    #[must_use]
    pub fn miniport_in(self, table: &[(Self, MiniportConstructor)]) -> Option<MiniportConstructor> {
        table
            .iter()
            .find(|(kind, _)| *kind == self)
            .map(|(_, constructor)| *constructor)
    }
}

/// An ASCII string as NUL-terminated UTF-16, at compile time. `N` must be the
/// length plus one (a mismatch fails to compile).
const fn wide<const N: usize>(ascii: &str) -> [u16; N] {
    let bytes = ascii.as_bytes();
    assert!(bytes.len() + 1 == N, "N is the length plus the terminator");
    let mut out = [0u16; N];
    let mut index = 0;
    while index < bytes.len() {
        assert!(bytes[index].is_ascii(), "ASCII names only");
        out[index] = bytes[index] as u16;
        index += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use dmus_sys::com::PUNKNOWN;
    use dmus_sys::kernel::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};

    use super::{ALL_SUBDEVICES, MiniportConstructor, SubdeviceKind};
    use crate::resources::{AdapterResources, PortRange};

    #[test]
    fn a_card_with_ports_gets_the_uart_and_a_bare_device_the_synth() {
        let card = AdapterResources {
            entries: 2,
            port: Some(PortRange {
                start: 0x330,
                length: 2,
                memory_mapped: false,
            }),
            interrupt: None,
        };
        assert_eq!(SubdeviceKind::for_resources(&card), SubdeviceKind::Uart);
        assert_eq!(
            SubdeviceKind::for_resources(&AdapterResources::default()),
            SubdeviceKind::Synth
        );
    }

    #[test]
    fn wide_names_are_the_ks_names_nul_terminated() {
        for kind in ALL_SUBDEVICES {
            let wide = kind.wide_name();
            assert_eq!(wide.last(), Some(&0));
            let text: std::string::String =
                char::decode_utf16(wide[..wide.len() - 1].iter().copied())
                    .map(Result::unwrap)
                    .collect();
            assert_eq!(text, kind.ks_name());
        }
    }

    fn failing(_: &AdapterResources) -> Result<PUNKNOWN, NTSTATUS> {
        Err(STATUS_INSUFFICIENT_RESOURCES)
    }

    #[test]
    fn constructors_are_found_by_subdevice() {
        let table: [(SubdeviceKind, MiniportConstructor); 1] = [(SubdeviceKind::Synth, failing)];
        let found = SubdeviceKind::Synth
            .miniport_in(&table)
            .expect("the synth's constructor");
        assert_eq!(
            found(&AdapterResources::default()),
            Err(STATUS_INSUFFICIENT_RESOURCES)
        );
        assert!(SubdeviceKind::Uart.miniport_in(&table).is_none());
    }
}
