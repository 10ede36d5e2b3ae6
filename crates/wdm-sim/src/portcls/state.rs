//! What `PortCls` knows: adapter drivers, devices, ports, allocators, service groups, resource
//! lists, pins. Plain data keyed by object address; the COM objects and the test API act on it
//! through the machine (`MachineState::portcls`).

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::string::String;
use alloc::vec::Vec;

use dmus_sys::ks::KSSTATE;
use mxf::pack::Packer;
use mxf::sequencer::Sequencer;
use mxf::unpack::{DmusUnpacker, KsMusicUnpacker};

use super::adapter::ObjectMemory;
use super::event_memory::{PoolSize, TrackedPool};

/// An adapter driver's registration with `PortCls` (`PcInitializeAdapterDriver`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AdapterRegistration {
    /// The `DRIVER_OBJECT`'s address.
    pub driver_object: usize,
    /// The driver's `AddDevice` routine, as passed to `PortCls` (`PDRIVER_ADD_DEVICE`).
    pub add_device: usize,
}

/// A functional device object `PortCls` created (`PcAddAdapterDevice`).
#[derive(Clone, Debug, Default)]
pub struct DeviceRecord {
    /// The driver object it belongs to (0 for a device the test API made without a driver).
    pub driver_object: usize,
    /// The physical device object below it.
    pub physical_device: usize,
    /// The adapter's `StartDevice`.
    pub start_device: dmus_sys::portcls::PCPFNSTARTDEVICE,
    /// `MaxObjects`: how many subdevices it may register.
    pub max_objects: u32,
    /// Whether `StartDevice` succeeded and no stop came since.
    pub started: bool,
    /// Subdevices registered with `PcRegisterSubdevice`: name and the port (one reference
    /// held by the registration).
    pub subdevices: Vec<(String, usize)>,
    /// `PcRegisterPhysicalConnection` calls: (from, from pin, to, to pin).
    pub connections: Vec<(usize, u32, usize, u32)>,
    /// The `IAdapterPowerManagement` registered, if any (one reference held).
    pub power_management: usize,
    /// Bytes of device extension the driver asked for.
    pub extension_size: u32,
    /// The device power state (`PowerDeviceD0` once added).
    pub power: dmus_sys::kernel::DEVICE_POWER_STATE,
    /// Pins the last power-down paused (they run again at D0).
    pub paused_for_power: Vec<u32>,
}

/// A service group object.
#[derive(Clone, Debug, Default)]
pub struct ServiceGroupRecord {
    /// Member sinks (one reference held on each).
    pub members: Vec<usize>,
    /// `SupportDelayedService` was called.
    pub delayed_supported: bool,
    /// Bumped by every `RequestDelayedService` / `CancelDelayedService`, so a stale timer
    /// does nothing.
    pub delayed_generation: u64,
}

/// A `DMus` port.
#[derive(Clone, Debug, Default)]
pub struct PortRecord {
    /// `IPort::Init` succeeded.
    pub initialised: bool,
    /// The device object it was initialised for.
    pub device: usize,
    /// The miniport's `IMiniportDMus` (one reference held).
    pub miniport: usize,
    /// The filter descriptor the miniport gave (`GetDescription`).
    pub descriptor: usize,
    /// The allocator (one reference held).
    pub allocator: usize,
    /// The master clock (one reference held).
    pub clock: usize,
    /// The port's own service sink, a member of the miniport's service group.
    pub sink: usize,
    /// Service groups held: the one `IMiniportDMus::Init` returned and those registered with
    /// `RegisterServiceGroup` (one reference each).
    pub service_groups: Vec<usize>,
    /// Pins open on it.
    pub pins: BTreeSet<u32>,
}

/// The data format of an open pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinFormat {
    /// `KSDATAFORMAT_SUBTYPE_MIDI`: `KSMUSICFORMAT` buffers.
    Midi,
    /// `KSDATAFORMAT_SUBTYPE_DIRECTMUSIC`: `DMUS_EVENTHEADER` buffers.
    DirectMusic,
}

/// Which way a pin's data flows.
#[derive(Debug)]
pub enum PinFlow {
    /// Render: IRPs are unpacked, sequenced and put to the miniport's stream.
    Render {
        /// Unpacker for `KSMUSICFORMAT` (boxed: its sysex buffer is large).
        ksmusic: alloc::boxed::Box<KsMusicUnpacker>,
        /// Unpacker for `DMUS_EVENTHEADER`.
        dmus: DmusUnpacker,
        /// Events held until due (presentation time).
        sequencer: Sequencer,
        /// The stream's `SchedulePreFetch` (100 ns), or `DONT_HOLD_FOR_SEQUENCING`.
        prefetch: u64,
        /// Bumped whenever a new delivery is scheduled: older callbacks do nothing.
        generation: u64,
        /// When the next delivery is scheduled (master time), if one is.
        next_delivery: Option<u64>,
    },
    /// Capture: the miniport puts events to the pin's capture sink; reads pack them.
    Capture {
        /// The capture sink object given to the stream with `ConnectOutput`.
        sink: usize,
        /// Parses `DMUS_KEF_EVENT_INCOMPLETE` byte events into messages (boxed: it is
        /// large beside the render variant).
        parser: alloc::boxed::Box<mxf::capture::CaptureParser<64>>,
        /// Events waiting for reads.
        packer: Packer,
    },
    /// The port's wave sink pulling audio from a synth (see `wave_sink.rs`).
    WaveSink(alloc::boxed::Box<super::wave_sink::WaveSinkFlow>),
}

/// An open pin.
#[derive(Debug)]
pub struct PinRecord {
    /// Its port.
    pub port: usize,
    /// The pin factory id.
    pub factory: u32,
    /// Its format.
    pub format: PinFormat,
    /// The `KSSTATE` the pin is in.
    pub state: KSSTATE,
    /// The miniport's stream (one reference held).
    pub stream: usize,
    /// The service group `NewStream` returned, if any (one reference held).
    pub service_group: usize,
    /// The pin's outer `IUnknown` passed to `NewStream` (0: none, as `PortCls` does).
    pub outer: usize,
    /// The data format buffer given to `NewStream` (kept alive while the stream lives).
    pub data_format: alloc::boxed::Box<dmus_sys::ks::KSDATAFORMAT>,
    /// Data flow and its machinery.
    pub flow: PinFlow,
}

/// An allocator object's state.
#[derive(Debug)]
pub struct AllocatorRecord {
    /// The memory.
    pub pool: TrackedPool,
}

impl AllocatorRecord {
    /// A new allocator of `size`.
    #[must_use]
    pub fn new(size: PoolSize) -> Self {
        Self {
            pool: TrackedPool::new(size),
        }
    }
}

/// What `PortCls` knows.
#[derive(Debug, Default)]
pub struct PortClsState {
    /// Adapter drivers registered with `PcInitializeAdapterDriver`.
    pub adapters: Vec<AdapterRegistration>,
    /// Devices by FDO address.
    pub devices: BTreeMap<usize, DeviceRecord>,
    /// The memory of each FDO and its extension, by FDO address.
    pub device_memory: BTreeMap<usize, (ObjectMemory, ObjectMemory)>,
    /// Ports by object address.
    pub ports: BTreeMap<usize, PortRecord>,
    /// Allocators by object address.
    pub allocators: BTreeMap<usize, AllocatorRecord>,
    /// Service groups by object address.
    pub service_groups: BTreeMap<usize, ServiceGroupRecord>,
    /// Capture sinks: sink object address → pin id.
    pub capture_sinks: BTreeMap<usize, u32>,
    /// Port service sinks: sink object address → port.
    pub port_sinks: BTreeMap<usize, usize>,
    /// Master clocks by object address.
    pub clocks: BTreeSet<usize>,
    /// Pins by id.
    pub pins: BTreeMap<u32, PinRecord>,
    /// IRPs the sim issued (opaque addresses the driver may pass back).
    pub irps: BTreeSet<usize>,
    /// Size of every port's allocator.
    pub pool_size: PoolSize,
    /// The next pin id.
    pub next_pin: u32,
    /// Whether `NewStream` gets each pin's own `IUnknown` as `OuterUnknown` (default: NULL,
    /// as `PortCls` passes).
    pub pass_outer_unknown: bool,
    /// `HKLM\SYSTEM\CurrentControlSet\Control\MediaCategories`: each key's GUID and its
    /// `Name` value (what KS reads for `KSPROPERTY_PIN_NAME`; see `media_categories`).
    pub media_categories: Vec<(dmus_sys::guid::GUID, String)>,
}
