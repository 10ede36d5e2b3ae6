//! The test-facing API: load a driver, add and start devices of either kind, open pins as an
//! application would, write and read, set states and properties, stop, remove and unload.
//!
//! Everything runs on the thread's [`Machine`](crate::Machine) (create it first); the clock,
//! the wire log, findings and duration statistics are read from the machine. Handles are plain
//! values: closing a pin, removing a device and unloading a driver are explicit, and what a
//! test forgets shows up as verifier findings at unload.

use alloc::string::String;
use alloc::vec::Vec;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
    CM_PARTIAL_RESOURCE_INTERRUPT, CM_PARTIAL_RESOURCE_RANGE, CM_RESOURCE_INTERRUPT_LATCHED,
    CM_RESOURCE_PORT_IO, CmResourceShareDeviceExclusive, CmResourceTypeInterrupt,
    CmResourceTypePort, DEVICE_OBJECT, DEVICE_POWER_STATE, DRIVER_OBJECT, KPROCESSOR_MODE,
    LARGE_INTEGER, NT_SUCCESS, NTSTATUS, PASSIVE_LEVEL, PDRIVER_INITIALIZE,
    STATUS_INVALID_PARAMETER, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;
use dmus_sys::portcls::PCPFNSTARTDEVICE;

use super::adapter::{DriverMemory, ObjectMemory, PcAddAdapterDevice};
use super::capture::{self, CaptureRead, ReadError};
use super::irp::SimIrp;
use super::objects::release_foreign;
use super::pin::{self, OpenError, StateError};
use super::port::PcNewPort;
use super::power::{self, PowerError};
use super::property::{self, PropertyResult, PropertyTarget};
use super::render::{self, WriteError, WriteReport};
use super::resource_list::new_resource_list;
use super::state::PinFormat;
use crate::config::{Mpu401Config, translated_interrupt};
use crate::current::with_state;
use crate::dispatch::call_driver;

/// Makes the port pass each new pin's own `IUnknown` to `NewStream` as `OuterUnknown` (`on`)
/// or NULL, as `PortCls` does (the default). For miniports that support aggregation.
pub fn pass_outer_unknown(on: bool) {
    with_state("pass_outer_unknown", |m| m.portcls.pass_outer_unknown = on);
}

/// The resources `PnP` assigns a device: (translated, untranslated) descriptors.
#[derive(Clone, Default)]
pub struct Resources {
    entries: Vec<(
        CM_PARTIAL_RESOURCE_DESCRIPTOR,
        CM_PARTIAL_RESOURCE_DESCRIPTOR,
    )>,
}

impl core::fmt::Debug for Resources {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Resources")
            .field("entries", &self.entries.len())
            .finish()
    }
}

impl Resources {
    /// No resources: a root-enumerated device (the synth).
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// An MPU-401 card as `config` wires it: its two I/O ports and its interrupt (translated
    /// as the simulated x64 HAL does, [`translated_interrupt`]).
    #[must_use]
    pub fn mpu401(config: &Mpu401Config) -> Self {
        let port = CM_PARTIAL_RESOURCE_DESCRIPTOR {
            Type: CmResourceTypePort,
            ShareDisposition: CmResourceShareDeviceExclusive,
            Flags: CM_RESOURCE_PORT_IO,
            u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                Port: CM_PARTIAL_RESOURCE_RANGE {
                    Start: LARGE_INTEGER::from_quad(i64::from(config.base_port)),
                    Length: 2,
                },
            },
        };
        let (level, vector) = translated_interrupt(config.irq, config.dirql);
        let interrupt = |level: u32, vector: u32| CM_PARTIAL_RESOURCE_DESCRIPTOR {
            Type: CmResourceTypeInterrupt,
            ShareDisposition: CmResourceShareDeviceExclusive,
            Flags: CM_RESOURCE_INTERRUPT_LATCHED,
            u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                Interrupt: CM_PARTIAL_RESOURCE_INTERRUPT {
                    Level: level,
                    Vector: vector,
                    Affinity: 1,
                },
            },
        };
        let irq = u32::from(config.irq);
        Self {
            entries: alloc::vec![
                (port, port),
                (interrupt(level, vector), interrupt(irq, irq)),
            ],
        }
    }

    /// The machine's own MPU-401 (the default card at 0x330, IRQ 9), or none without one.
    #[must_use]
    pub fn of_machine() -> Self {
        with_state("Resources", |m| m.config().mpu401.clone())
            .map_or_else(Self::none, |c| Self::mpu401(&c))
    }

    /// An `IResourceList` of these resources, as `PortCls` hands one to `StartDevice` (one
    /// reference, the caller's).
    #[must_use]
    pub fn to_list(&self) -> dmus_sys::portcls::PRESOURCELIST {
        new_resource_list(&self.entries, self.entries.len())
    }

    /// Descriptors in the list.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the list is empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// A loaded driver.
#[derive(Debug)]
pub struct Driver {
    memory: DriverMemory,
}

impl Driver {
    /// Loads a driver: lays out its driver object and calls `entry` (`DriverEntry`) at
    /// `PASSIVE_LEVEL`.
    ///
    /// # Errors
    /// `DriverEntry`'s failure status (the driver is not loaded then).
    pub fn load(entry: PDRIVER_INITIALIZE) -> Result<Self, NTSTATUS> {
        let entry = entry.ok_or(STATUS_INVALID_PARAMETER)?;
        let memory = DriverMemory::new();
        let driver = memory.driver();
        // SAFETY: DriverEntry with a fresh driver object at PASSIVE_LEVEL, as the I/O manager
        // calls it; no registry path is modelled (NULL).
        let status = call_driver(entry as usize, PASSIVE_LEVEL, || unsafe {
            entry(driver, core::ptr::null_mut())
        });
        if NT_SUCCESS(status) {
            Ok(Self { memory })
        } else {
            Err(status)
        }
    }

    /// The driver object.
    #[must_use]
    pub fn object(&self) -> *mut DRIVER_OBJECT {
        self.memory.driver()
    }

    /// `PnP` finds a device: a new physical device object is handed to the driver's
    /// `AddDevice` (the one `PcInitializeAdapterDriver` installed), which calls
    /// `PcAddAdapterDevice`.
    ///
    /// # Errors
    /// `AddDevice`'s status, or `STATUS_UNSUCCESSFUL` if it succeeded without a device.
    pub fn add_device(&self) -> Result<Device, NTSTATUS> {
        let driver = self.object();
        // SAFETY: the driver object this handle owns; DriverEntry set its extension's
        // AddDevice through PcInitializeAdapterDriver.
        let extension = unsafe { (*driver).DriverExtension };
        // SAFETY: the I/O manager's extension of that driver object (DriverMemory made it).
        let add_device = unsafe { (*extension).AddDevice };
        let add_device = add_device.ok_or(STATUS_UNSUCCESSFUL)?;
        let pdo = ObjectMemory::zeroed(core::mem::size_of::<DEVICE_OBJECT>());
        let pdo_address = pdo.as_ptr::<DEVICE_OBJECT>();
        // SAFETY: AddDevice at PASSIVE_LEVEL with the driver object and a physical device.
        let status = call_driver(add_device as usize, PASSIVE_LEVEL, || unsafe {
            add_device(driver, pdo_address)
        });
        if !NT_SUCCESS(status) {
            return Err(status);
        }
        let fdo = with_state("add_device", |m| {
            m.portcls
                .devices
                .iter()
                .find(|(_, d)| d.physical_device == pdo_address as usize)
                .map(|(&fdo, _)| fdo)
        })
        .ok_or(STATUS_UNSUCCESSFUL)?;
        Ok(Device {
            fdo,
            pdo: Some(pdo),
            driver: None,
        })
    }

    /// Unloads the driver: calls its `DriverUnload` (which must end with `PortCls`'), then
    /// runs the machine's unload checks (pool, timers, COM references, ...).
    pub fn unload(self) {
        let driver = self.object();
        // SAFETY: the driver object this handle owns.
        let unload = unsafe { (*driver).DriverUnload };
        if let Some(unload) = unload {
            // SAFETY: DriverUnload at PASSIVE_LEVEL, once, after every device is removed.
            call_driver(unload as usize, PASSIVE_LEVEL, || unsafe { unload(driver) });
        }
        with_state("unload", crate::state::MachineState::unload_checks);
    }
}

/// A device (an FDO `PortCls` made).
#[derive(Debug)]
pub struct Device {
    fdo: usize,
    pdo: Option<ObjectMemory>,
    /// The driver object of a standalone device (which has no driver handle).
    driver: Option<DriverMemory>,
}

impl Device {
    /// A device with no driver behind it, for tests that bind a miniport themselves
    /// ([`Device::register_miniport`]). Its `StartDevice` does nothing.
    ///
    /// # Panics
    /// If `PcAddAdapterDevice` fails (fault injection on the device's allocation).
    #[must_use]
    pub fn standalone() -> Self {
        unsafe extern "system" fn start_nothing(
            _: *mut DEVICE_OBJECT,
            _: dmus_sys::kernel::PIRP,
            _: dmus_sys::portcls::PRESOURCELIST,
        ) -> NTSTATUS {
            dmus_sys::kernel::STATUS_SUCCESS
        }
        let driver = DriverMemory::new();
        let pdo = ObjectMemory::zeroed(core::mem::size_of::<DEVICE_OBJECT>());
        let start: PCPFNSTARTDEVICE = Some(start_nothing);
        // SAFETY: a fresh driver object and physical device; PASSIVE_LEVEL.
        let status = unsafe { PcAddAdapterDevice(driver.driver(), pdo.as_ptr(), start, 8, 0) };
        let fdo = with_state("standalone device", |m| {
            let found = m
                .portcls
                .devices
                .iter_mut()
                .find(|(_, d)| d.physical_device == pdo.as_ptr::<DEVICE_OBJECT>() as usize);
            found.map(|(&fdo, d)| {
                d.driver_object = 0;
                fdo
            })
        });
        assert!(NT_SUCCESS(status), "PcAddAdapterDevice failed: {status:#x}");
        // The FDO points to this driver object: it lives as long as the device.
        Self {
            fdo: fdo.unwrap_or(0),
            pdo: Some(pdo),
            driver: Some(driver),
        }
    }

    /// The functional device object.
    #[must_use]
    pub fn object(&self) -> *mut DEVICE_OBJECT {
        self.fdo as *mut DEVICE_OBJECT
    }

    /// `IRP_MN_START_DEVICE`: `PortCls` calls the adapter's `StartDevice` at `PASSIVE_LEVEL`
    /// with a resource list of `resources` (released again after the call: a driver that
    /// keeps it must `AddRef` it).
    ///
    /// # Errors
    /// `StartDevice`'s status.
    pub fn start(&self, resources: &Resources) -> Result<(), NTSTATUS> {
        let start = with_state("start", |m| {
            m.portcls
                .devices
                .get(&self.fdo)
                .and_then(|d| d.start_device)
        })
        .ok_or(STATUS_INVALID_PARAMETER)?;
        let list = new_resource_list(&resources.entries, resources.entries.len());
        let irp = SimIrp::new();
        let fdo = self.object();
        // SAFETY: StartDevice at PASSIVE_LEVEL with the FDO, the start IRP and a live list.
        let status = call_driver(start as usize, PASSIVE_LEVEL, || unsafe {
            start(fdo, irp.as_ptr(), list)
        });
        drop(irp);
        // SAFETY: the list's creation reference, ours.
        unsafe { release_foreign(list.cast()) };
        if NT_SUCCESS(status) {
            with_state("start", |m| {
                if let Some(d) = m.portcls.devices.get_mut(&self.fdo) {
                    d.started = true;
                }
            });
            Ok(())
        } else {
            Err(status)
        }
    }

    /// What an adapter's `StartDevice` does for one subdevice, done by the test: a new `DMus`
    /// port initialised with `miniport` and `resources`, registered as `name`. The port's
    /// creation reference is released: the registration keeps it.
    ///
    /// # Errors
    /// The first failing status.
    ///
    /// # Safety
    /// `miniport` is a live COM object (the port queries it for `IMiniportDMus`).
    pub unsafe fn register_miniport(
        &self,
        name: &str,
        miniport: PUNKNOWN,
        resources: &Resources,
    ) -> Result<Filter, NTSTATUS> {
        let mut port: dmus_sys::portcls::PPORT = core::ptr::null_mut();
        // SAFETY: a writable out pointer and the DMus class id. PASSIVE_LEVEL.
        let status = unsafe { PcNewPort(&raw mut port, &dmus_sys::dmus_com::CLSID_PortDMus) };
        if !NT_SUCCESS(status) {
            return Err(status);
        }
        let list = new_resource_list(&resources.entries, resources.entries.len());
        let irp = SimIrp::new();
        // SAFETY: the port we just made (its vtable is IPortDMus's, starting with IPort's).
        let vtable =
            unsafe { super::objects::vtable_of::<dmus_sys::portcls::IPortVtbl>(port.cast()) };
        // SAFETY: IPort::Init at PASSIVE_LEVEL with a live device, IRP, miniport and list.
        let status = unsafe {
            (vtable.Init)(
                port,
                self.object(),
                irp.as_ptr(),
                miniport,
                core::ptr::null_mut(),
                list,
            )
        };
        drop(irp);
        // SAFETY: the list's creation reference, ours.
        unsafe { release_foreign(list.cast()) };
        let mut wide: Vec<u16> = name.encode_utf16().collect();
        wide.push(0);
        let status = if NT_SUCCESS(status) {
            // SAFETY: the FDO, a NUL-terminated name and the initialised port. PASSIVE_LEVEL.
            unsafe {
                super::adapter::PcRegisterSubdevice(self.object(), wide.as_ptr(), port.cast())
            }
        } else {
            status
        };
        // SAFETY: PcNewPort's reference, ours; the registration holds its own.
        unsafe { release_foreign(port.cast()) };
        if NT_SUCCESS(status) {
            with_state("register_miniport", |m| {
                if let Some(d) = m.portcls.devices.get_mut(&self.fdo) {
                    d.started = true;
                }
            });
            Ok(Filter {
                port: port as usize,
            })
        } else {
            Err(status)
        }
    }

    /// Names of the subdevices registered on this device.
    #[must_use]
    pub fn subdevices(&self) -> Vec<String> {
        with_state("subdevices", |m| {
            m.portcls
                .devices
                .get(&self.fdo)
                .map(|d| d.subdevices.iter().map(|(n, _)| n.clone()).collect())
                .unwrap_or_default()
        })
    }

    /// The filter registered as `name`.
    #[must_use]
    pub fn filter(&self, name: &str) -> Option<Filter> {
        with_state("filter", |m| {
            let device = m.portcls.devices.get(&self.fdo)?;
            device
                .subdevices
                .iter()
                .find(|(n, _)| n == name)
                .map(|&(_, port)| Filter { port })
        })
    }

    /// `IRP_MN_QUERY_POWER`: the adapter's `QueryPowerChangeState` for `state` (success
    /// when the adapter registered no power management).
    ///
    /// # Errors
    /// [`PowerError`].
    pub fn query_power(&self, state: DEVICE_POWER_STATE) -> Result<NTSTATUS, PowerError> {
        power::query(self.fdo, state)
    }

    /// `IRP_MN_SET_POWER` (device power): `PortCls`' order of pausing streams, notifying
    /// miniports and streams (`IPowerNotify`) and the adapter (`IAdapterPowerManagement`).
    ///
    /// # Errors
    /// [`PowerError`].
    pub fn set_power(&self, state: DEVICE_POWER_STATE) -> Result<(), PowerError> {
        power::set(self.fdo, state)
    }

    /// `IRP_MN_STOP_DEVICE`: pins still open are a finding (and are closed); every subdevice's
    /// port releases its miniport ([`release_children`](super::port::release_children)) and
    /// the registration's port reference is released.
    pub fn stop(&self) {
        let ports: Vec<usize> = with_state("stop", |m| {
            m.portcls
                .devices
                .get(&self.fdo)
                .map(|d| d.subdevices.iter().map(|&(_, p)| p).collect())
                .unwrap_or_default()
        });
        for &port in &ports {
            let open: Vec<u32> = with_state("stop", |m| {
                m.portcls
                    .ports
                    .get(&port)
                    .map(|p| p.pins.iter().copied().collect())
                    .unwrap_or_default()
            });
            for id in open {
                with_state("stop", |m| {
                    m.report_port_contract(alloc::format!(
                        "device {:#x} stopped with pin {id} still open (an application keeps a handle)",
                        self.fdo
                    ));
                });
                pin::close(id);
            }
        }
        let registrations = with_state("stop", |m| {
            m.portcls.devices.get_mut(&self.fdo).map(|d| {
                d.started = false;
                core::mem::take(&mut d.subdevices)
            })
        });
        for (_, port) in registrations.unwrap_or_default() {
            super::port::release_children(port);
            // SAFETY: the registration's reference on the port.
            unsafe { release_foreign(port as PUNKNOWN) };
        }
    }

    /// `IRP_MN_REMOVE_DEVICE`: stops the device if started, releases its power management
    /// registration and deletes the FDO.
    pub fn remove(mut self) {
        self.stop();
        let removed = with_state("remove", |m| {
            let record = m.portcls.devices.remove(&self.fdo)?;
            let memory = m.portcls.device_memory.remove(&self.fdo);
            Some((record, memory))
        });
        let Some((record, memory)) = removed else {
            return;
        };
        if record.power_management != 0 {
            // SAFETY: the device's reference on the registration.
            unsafe { release_foreign(record.power_management as PUNKNOWN) };
        }
        if record.driver_object != 0 {
            unlink_device(record.driver_object as *mut DRIVER_OBJECT, self.fdo);
        }
        drop(memory);
        self.pdo = None;
        self.driver = None;
    }
}

/// Takes the FDO at `fdo` out of `driver`'s device list (`DeviceObject`, then `NextDevice`).
fn unlink_device(driver: *mut DRIVER_OBJECT, fdo: usize) {
    // SAFETY: the live driver object the FDO belongs to; PASSIVE_LEVEL, this thread only.
    let mut object = unsafe { driver.read() };
    let mut previous: *mut DEVICE_OBJECT = core::ptr::null_mut();
    let mut current = object.DeviceObject;
    // Bounded: a driver has far fewer devices than this; a longer list is a broken one.
    for _ in 0..1024 {
        if current.is_null() {
            return;
        }
        // SAFETY: a device in the driver's list: alive until it is unlinked and freed.
        let device = unsafe { current.read() };
        if current as usize == fdo {
            if previous.is_null() {
                object.DeviceObject = device.NextDevice;
                // SAFETY: as above (the driver object).
                unsafe { driver.write(object) };
            } else {
                // SAFETY: the live device before it in the list.
                let mut before = unsafe { previous.read() };
                before.NextDevice = device.NextDevice;
                // SAFETY: as above.
                unsafe { previous.write(before) };
            }
            return;
        }
        previous = current;
        current = device.NextDevice;
    }
}

/// A registered subdevice (a filter over one `DMus` port).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Filter {
    port: usize,
}

impl Filter {
    /// The port object.
    #[must_use]
    pub const fn port(&self) -> usize {
        self.port
    }

    /// The pin factories and their data flow (`KSPIN_DATAFLOW_IN`: render, `_OUT`: capture),
    /// as an application learns them from `KSPROPERTY_PIN_CTYPES` and `_DATAFLOW`.
    #[must_use]
    pub fn pin_flows(&self) -> Vec<(u32, dmus_sys::ks::KSPIN_DATAFLOW)> {
        let Some((_, descriptor)) = super::port::port_binding(self.port) else {
            return Vec::new();
        };
        // SAFETY: the descriptor of a live, initialised port's miniport.
        let count = unsafe { super::descriptor::pin_count(descriptor) };
        let mut flows = Vec::new();
        for factory in 0..count {
            // SAFETY: as above.
            if let Ok(pin) = unsafe { super::descriptor::pin_factory(descriptor, factory) } {
                flows.push((factory, pin.data_flow));
            }
        }
        flows
    }

    /// Opens pin factory `factory` in `format`, as an application's `KsCreatePin` would.
    ///
    /// # Errors
    /// [`OpenError`].
    pub fn open_pin(&self, factory: u32, format: PinFormat) -> Result<Pin, OpenError> {
        pin::open(self.port, factory, format).map(|id| Pin {
            id,
            port: self.port,
        })
    }

    /// A property request to the filter or a pin factory.
    #[must_use]
    pub fn property(
        &self,
        target: PropertyTarget,
        set: &GUID,
        id: u32,
        verb: u32,
        instance: &mut [u8],
        value: &mut [u8],
    ) -> PropertyResult {
        property::request(self.port, target, set, id, verb, instance, value)
    }

    /// [`Self::property`] with the IRP's `RequestorMode` set to `mode` (`KernelMode`: a
    /// request from another kernel component, whose pointers are system addresses).
    #[must_use]
    #[allow(
        clippy::too_many_arguments,
        reason = "a property request's parts, as KS has them"
    )]
    pub fn property_as(
        &self,
        mode: KPROCESSOR_MODE,
        target: PropertyTarget,
        set: &GUID,
        id: u32,
        verb: u32,
        instance: &mut [u8],
        value: &mut [u8],
    ) -> PropertyResult {
        property::request_as(mode, self.port, target, set, id, verb, instance, value)
    }
}

/// An open pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pin {
    id: u32,
    port: usize,
}

impl Pin {
    /// Its id.
    #[must_use]
    pub const fn id(&self) -> u32 {
        self.id
    }

    /// Moves the pin to `state` one KS step at a time.
    ///
    /// # Errors
    /// [`StateError`].
    pub fn set_state(&self, state: KSSTATE) -> Result<(), StateError> {
        pin::set_state(self.id, state)
    }

    /// The pin's state (`None` once closed).
    #[must_use]
    pub fn state(&self) -> Option<KSSTATE> {
        pin::state(self.id)
    }

    /// Writes one render IRP (`presentation_time` in 100 ns of the pin's presentation time).
    ///
    /// # Errors
    /// [`WriteError`].
    pub fn write(&self, presentation_time: i64, data: &[u8]) -> Result<WriteReport, WriteError> {
        render::write(self.id, presentation_time, data)
    }

    /// Writes one render IRP as an application's `KSSTREAM_HEADER` describes it
    /// (`PresentationTime` scaled by its numerator and denominator, `DataUsed` bytes of
    /// `buffer` within `FrameExtent`); the header's `Data` pointer is not read (`buffer` is the
    /// mapped data).
    ///
    /// # Errors
    /// [`WriteError`]; a header with a zero denominator or a time out of range is
    /// [`WriteError::Header`].
    pub fn write_irp(
        &self,
        header: &dmus_sys::ks::KSSTREAM_HEADER,
        buffer: &[u8],
    ) -> Result<WriteReport, WriteError> {
        let header =
            mxf::unpack::IrpHeader::from_stream_header(header).map_err(WriteError::Header)?;
        render::write_with_header(self.id, &header, buffer)
    }

    /// Reads one capture IRP of `buffer_len` bytes.
    ///
    /// # Errors
    /// [`ReadError`].
    pub fn read(&self, buffer_len: usize) -> Result<CaptureRead, ReadError> {
        capture::read(self.id, buffer_len)
    }

    /// A property request to this pin.
    #[must_use]
    pub fn property(
        &self,
        set: &GUID,
        id: u32,
        verb: u32,
        instance: &mut [u8],
        value: &mut [u8],
    ) -> PropertyResult {
        property::request(
            self.port,
            PropertyTarget::Pin(self.id),
            set,
            id,
            verb,
            instance,
            value,
        )
    }

    /// A property request to topology node `node` through this pin's handle (its stream is
    /// the request's `MinorTarget`).
    #[must_use]
    pub fn node_property(
        &self,
        node: u32,
        set: &GUID,
        id: u32,
        verb: u32,
        instance: &mut [u8],
        value: &mut [u8],
    ) -> PropertyResult {
        property::request(
            self.port,
            PropertyTarget::PinNode { pin: self.id, node },
            set,
            id,
            verb,
            instance,
            value,
        )
    }

    /// `QueryInterface` on the pin's stream: the interface address.
    ///
    /// # Errors
    /// The stream's status.
    pub fn query_stream(&self, iid: &GUID) -> Result<usize, NTSTATUS> {
        pin::query_stream(self.id, iid)
    }

    /// The pin's outer `IUnknown` (what `NewStream` got as `OuterUnknown`).
    #[must_use]
    pub fn outer(&self) -> Option<usize> {
        pin::outer(self.id)
    }

    /// Closes the pin (a pin not in STOP is a finding).
    pub fn close(self) {
        pin::close(self.id);
    }
}
