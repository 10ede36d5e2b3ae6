//! Hardware resources (wdm.h `CM_*`, under `#include <pshpack4.h>`), as `IResourceList` hands
//! them out.

use super::{KAFFINITY, PHYSICAL_ADDRESS};
use crate::pin_layout;

/// `CM_RESOURCE_TYPE` (wdm.h `typedef int`): the `IResourceList` selector.
pub type CM_RESOURCE_TYPE = i32;
/// `CmResourceTypeNull`.
pub const CmResourceTypeNull: u8 = 0;
/// `CmResourceTypePort`.
pub const CmResourceTypePort: u8 = 1;
/// `CmResourceTypeInterrupt`.
pub const CmResourceTypeInterrupt: u8 = 2;
/// `CmResourceTypeMemory`.
pub const CmResourceTypeMemory: u8 = 3;
/// `CmResourceTypeDma`.
pub const CmResourceTypeDma: u8 = 4;
/// `CmResourceTypeDeviceSpecific`.
pub const CmResourceTypeDeviceSpecific: u8 = 5;

/// `CmResourceShareUndetermined` (`CM_SHARE_DISPOSITION`).
pub const CmResourceShareUndetermined: u8 = 0;
/// `CmResourceShareDeviceExclusive`.
pub const CmResourceShareDeviceExclusive: u8 = 1;
/// `CmResourceShareDriverExclusive`.
pub const CmResourceShareDriverExclusive: u8 = 2;
/// `CmResourceShareShared`.
pub const CmResourceShareShared: u8 = 3;

/// `CM_RESOURCE_PORT_MEMORY` (`Flags` of a port resource).
pub const CM_RESOURCE_PORT_MEMORY: u16 = 0x0000;
/// `CM_RESOURCE_PORT_IO`.
pub const CM_RESOURCE_PORT_IO: u16 = 0x0001;
/// `CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE` (`Flags` of an interrupt resource).
pub const CM_RESOURCE_INTERRUPT_LEVEL_SENSITIVE: u16 = 0x0000;
/// `CM_RESOURCE_INTERRUPT_LATCHED`.
pub const CM_RESOURCE_INTERRUPT_LATCHED: u16 = 0x0001;

/// `u.Generic` / `u.Port` / `u.Memory`: a range.
#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub struct CM_PARTIAL_RESOURCE_RANGE {
    /// First address (a port number for I/O ports).
    pub Start: PHYSICAL_ADDRESS,
    /// Length in bytes.
    pub Length: u32,
}

/// `u.Interrupt` (without `NT_PROCESSOR_GROUPS`: `ULONG Level`).
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_PARTIAL_RESOURCE_INTERRUPT {
    /// IRQL (translated) or IRQ line (raw).
    pub Level: u32,
    /// Interrupt vector.
    pub Vector: u32,
    /// Processors the interrupt may be delivered to.
    pub Affinity: KAFFINITY,
}

/// `u.Dma`.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_PARTIAL_RESOURCE_DMA {
    /// DMA channel.
    pub Channel: u32,
    /// MCA port.
    pub Port: u32,
    /// Reserved.
    pub Reserved1: u32,
}

/// `u.DevicePrivate` / `u.DeviceSpecificData` / `u.BusNumber`: three ULONGs.
#[repr(C, packed(4))]
#[derive(Clone, Copy, Debug)]
pub struct CM_PARTIAL_RESOURCE_PRIVATE {
    /// The three values.
    pub Data: [u32; 3],
}

/// `CM_PARTIAL_RESOURCE_DESCRIPTOR::u`.
#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub union CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
    /// `Generic`.
    pub Generic: CM_PARTIAL_RESOURCE_RANGE,
    /// `Port`.
    pub Port: CM_PARTIAL_RESOURCE_RANGE,
    /// `Memory`.
    pub Memory: CM_PARTIAL_RESOURCE_RANGE,
    /// `Interrupt`.
    pub Interrupt: CM_PARTIAL_RESOURCE_INTERRUPT,
    /// `Dma`.
    pub Dma: CM_PARTIAL_RESOURCE_DMA,
    /// `DevicePrivate`.
    pub DevicePrivate: CM_PARTIAL_RESOURCE_PRIVATE,
}

/// `CM_PARTIAL_RESOURCE_DESCRIPTOR` (wdm.h, pack 4).
#[repr(C, packed(4))]
#[derive(Clone, Copy)]
pub struct CM_PARTIAL_RESOURCE_DESCRIPTOR {
    /// `CmResourceType*`.
    pub Type: u8,
    /// `CmResourceShare*`.
    pub ShareDisposition: u8,
    /// `CM_RESOURCE_*` flags for the type.
    pub Flags: u16,
    /// Type-specific data.
    pub u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
}

/// `PCM_PARTIAL_RESOURCE_DESCRIPTOR`.
pub type PCM_PARTIAL_RESOURCE_DESCRIPTOR = *mut CM_PARTIAL_RESOURCE_DESCRIPTOR;

pin_layout!(CM_PARTIAL_RESOURCE_RANGE, "wdm.h (pshpack4)", size (12, 12), align (4, 4), {
    Start: (0, 0),
    Length: (8, 8),
});
pin_layout!(CM_PARTIAL_RESOURCE_INTERRUPT, "wdm.h (pshpack4)", size (12, 16), align (4, 4), {
    Level: (0, 0),
    Vector: (4, 4),
    Affinity: (8, 8),
});
pin_layout!(CM_PARTIAL_RESOURCE_DMA, "wdm.h (pshpack4)", size (12, 12), align (4, 4), {
    Channel: (0, 0),
    Port: (4, 4),
    Reserved1: (8, 8),
});
pin_layout!(CM_PARTIAL_RESOURCE_PRIVATE, "wdm.h (pshpack4)", size (12, 12), align (4, 4), { Data: (0, 0) });
pin_layout!(CM_PARTIAL_RESOURCE_DESCRIPTOR_U, "wdm.h (pshpack4)", size (12, 16), align (4, 4), {
    Generic: (0, 0),
    Port: (0, 0),
    Memory: (0, 0),
    Interrupt: (0, 0),
    Dma: (0, 0),
    DevicePrivate: (0, 0),
});
pin_layout!(CM_PARTIAL_RESOURCE_DESCRIPTOR, "wdm.h (pshpack4)", size (16, 20), align (4, 4), {
    Type: (0, 0),
    ShareDisposition: (1, 1),
    Flags: (2, 2),
    u: (4, 4),
});

/// `INTERFACE_TYPE` (wdm.h enum).
pub type INTERFACE_TYPE = i32;
/// `Isa`.
pub const Isa: INTERFACE_TYPE = 1;

/// `CM_PARTIAL_RESOURCE_LIST` (wdm.h): `Count` descriptors follow, the first inline.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CM_PARTIAL_RESOURCE_LIST {
    /// Version.
    pub Version: u16,
    /// Revision.
    pub Revision: u16,
    /// Number of descriptors.
    pub Count: u32,
    /// The first descriptor (a C flexible array `[1]`).
    pub PartialDescriptors: [CM_PARTIAL_RESOURCE_DESCRIPTOR; 1],
}

pin_layout!(CM_PARTIAL_RESOURCE_LIST, "wdm.h", size (24, 28), align (4, 4), {
    Version: (0, 0),
    Revision: (2, 2),
    Count: (4, 4),
    PartialDescriptors: (8, 8),
});

/// `CM_FULL_RESOURCE_DESCRIPTOR` (wdm.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CM_FULL_RESOURCE_DESCRIPTOR {
    /// Bus type.
    pub InterfaceType: INTERFACE_TYPE,
    /// Bus number.
    pub BusNumber: u32,
    /// The resources.
    pub PartialResourceList: CM_PARTIAL_RESOURCE_LIST,
}

pin_layout!(CM_FULL_RESOURCE_DESCRIPTOR, "wdm.h", size (32, 36), align (4, 4), {
    InterfaceType: (0, 0),
    BusNumber: (4, 4),
    PartialResourceList: (8, 8),
});

/// `CM_RESOURCE_LIST` (wdm.h): `Count` full descriptors follow, the first inline.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct CM_RESOURCE_LIST {
    /// Number of full descriptors.
    pub Count: u32,
    /// The first full descriptor (a C flexible array `[1]`).
    pub List: [CM_FULL_RESOURCE_DESCRIPTOR; 1],
}

/// `PCM_RESOURCE_LIST`.
pub type PCM_RESOURCE_LIST = *mut CM_RESOURCE_LIST;

pin_layout!(CM_RESOURCE_LIST, "wdm.h", size (36, 40), align (4, 4), {
    Count: (0, 0),
    List: (4, 4),
});
