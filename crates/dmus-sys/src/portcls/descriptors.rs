//! PortCls filter descriptors and automation tables (portcls.h): the static tables a miniport
//! hands to the port through `IMiniport::GetDescription`.

use crate::com::PUNKNOWN;
use crate::guid::GUID;
use crate::kernel::{NTSTATUS, PIRP, PVOID};
use crate::ks::{
    KSPIN_DESCRIPTOR, KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET,
};
use crate::pin_layout;

/// `PCPFNPROPERTY_HANDLER`: runs at PASSIVE_LEVEL (or DISPATCH_LEVEL where PortCls says so).
pub type PCPFNPROPERTY_HANDLER =
    Option<unsafe extern "system" fn(PropertyRequest: *mut PCPROPERTY_REQUEST) -> NTSTATUS>;
/// `PCPFNMETHOD_HANDLER`.
pub type PCPFNMETHOD_HANDLER =
    Option<unsafe extern "system" fn(MethodRequest: *mut PCMETHOD_REQUEST) -> NTSTATUS>;
/// `PCPFNEVENT_HANDLER`.
pub type PCPFNEVENT_HANDLER =
    Option<unsafe extern "system" fn(EventRequest: *mut PCEVENT_REQUEST) -> NTSTATUS>;

/// `PCPROPERTY_ITEM_FLAG_GET` (= `KSPROPERTY_TYPE_GET`).
pub const PCPROPERTY_ITEM_FLAG_GET: u32 = KSPROPERTY_TYPE_GET;
/// `PCPROPERTY_ITEM_FLAG_SET` (= `KSPROPERTY_TYPE_SET`).
pub const PCPROPERTY_ITEM_FLAG_SET: u32 = KSPROPERTY_TYPE_SET;
/// `PCPROPERTY_ITEM_FLAG_BASICSUPPORT` (= `KSPROPERTY_TYPE_BASICSUPPORT`).
pub const PCPROPERTY_ITEM_FLAG_BASICSUPPORT: u32 = KSPROPERTY_TYPE_BASICSUPPORT;

/// `PCPROPERTY_ITEM` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCPROPERTY_ITEM {
    /// Property set.
    pub Set: *const GUID,
    /// Property id.
    pub Id: u32,
    /// `PCPROPERTY_ITEM_FLAG_*`: the verbs the handler supports.
    pub Flags: u32,
    /// The handler.
    pub Handler: PCPFNPROPERTY_HANDLER,
}

pin_layout!(PCPROPERTY_ITEM, "portcls.h", size (16, 24), align (4, 8), {
    Set: (0, 0),
    Id: (4, 8),
    Flags: (8, 12),
    Handler: (12, 16),
});

/// `PCPROPERTY_REQUEST` (portcls.h): what a property handler is given.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCPROPERTY_REQUEST {
    /// The miniport's `IUnknown`.
    pub MajorTarget: PUNKNOWN,
    /// The stream's `IUnknown` for pin properties, else null.
    pub MinorTarget: PUNKNOWN,
    /// Node id, or `ULONG(-1)` for filter/pin properties.
    pub Node: u32,
    /// The matching item.
    pub PropertyItem: *const PCPROPERTY_ITEM,
    /// `PCPROPERTY_ITEM_FLAG_*`: the requested verb.
    pub Verb: u32,
    /// Bytes of `Instance`.
    pub InstanceSize: u32,
    /// Instance data after the `KSPROPERTY` (or `KSNODEPROPERTY`).
    pub Instance: PVOID,
    /// Bytes of `Value` (in: buffer size; out: bytes written).
    pub ValueSize: u32,
    /// The value buffer.
    pub Value: PVOID,
    /// The IRP.
    pub Irp: PIRP,
}
/// `PPCPROPERTY_REQUEST`.
pub type PPCPROPERTY_REQUEST = *mut PCPROPERTY_REQUEST;

pin_layout!(PCPROPERTY_REQUEST, "portcls.h", size (40, 72), align (4, 8), {
    MajorTarget: (0, 0),
    MinorTarget: (4, 8),
    Node: (8, 16),
    PropertyItem: (12, 24),
    Verb: (16, 32),
    InstanceSize: (20, 36),
    Instance: (24, 40),
    ValueSize: (28, 48),
    Value: (32, 56),
    Irp: (36, 64),
});

/// `PCMETHOD_ITEM` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCMETHOD_ITEM {
    /// Method set.
    pub Set: *const GUID,
    /// Method id.
    pub Id: u32,
    /// `PCMETHOD_ITEM_FLAG_*`.
    pub Flags: u32,
    /// The handler.
    pub Handler: PCPFNMETHOD_HANDLER,
}

pin_layout!(PCMETHOD_ITEM, "portcls.h", size (16, 24), align (4, 8), {
    Set: (0, 0),
    Id: (4, 8),
    Flags: (8, 12),
    Handler: (12, 16),
});

/// `PCMETHOD_REQUEST` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCMETHOD_REQUEST {
    /// The miniport's `IUnknown`.
    pub MajorTarget: PUNKNOWN,
    /// The stream's `IUnknown`, or null.
    pub MinorTarget: PUNKNOWN,
    /// Node id.
    pub Node: u32,
    /// The matching item.
    pub MethodItem: *const PCMETHOD_ITEM,
    /// The verb.
    pub Verb: u32,
}

pin_layout!(PCMETHOD_REQUEST, "portcls.h", size (20, 40), align (4, 8), {
    MajorTarget: (0, 0),
    MinorTarget: (4, 8),
    Node: (8, 16),
    MethodItem: (12, 24),
    Verb: (16, 32),
});

/// `PCEVENT_ITEM` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCEVENT_ITEM {
    /// Event set.
    pub Set: *const GUID,
    /// Event id.
    pub Id: u32,
    /// `PCEVENT_ITEM_FLAG_*`.
    pub Flags: u32,
    /// The handler.
    pub Handler: PCPFNEVENT_HANDLER,
}

pin_layout!(PCEVENT_ITEM, "portcls.h", size (16, 24), align (4, 8), {
    Set: (0, 0),
    Id: (4, 8),
    Flags: (8, 12),
    Handler: (12, 16),
});

/// `PCEVENT_REQUEST` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCEVENT_REQUEST {
    /// The miniport's `IUnknown`.
    pub MajorTarget: PUNKNOWN,
    /// The stream's `IUnknown`, or null.
    pub MinorTarget: PUNKNOWN,
    /// Node id.
    pub Node: u32,
    /// The matching item.
    pub EventItem: *const PCEVENT_ITEM,
    /// `PKSEVENT_ENTRY`.
    pub EventEntry: PVOID,
    /// `PCEVENT_VERB_*`.
    pub Verb: u32,
    /// The IRP.
    pub Irp: PIRP,
}

pin_layout!(PCEVENT_REQUEST, "portcls.h", size (28, 56), align (4, 8), {
    MajorTarget: (0, 0),
    MinorTarget: (4, 8),
    Node: (8, 16),
    EventItem: (12, 24),
    EventEntry: (16, 32),
    Verb: (20, 40),
    Irp: (24, 48),
});

/// `PCAUTOMATION_TABLE` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCAUTOMATION_TABLE {
    /// `sizeof(PCPROPERTY_ITEM)` (or a larger item type).
    pub PropertyItemSize: u32,
    /// Number of properties.
    pub PropertyCount: u32,
    /// Properties.
    pub Properties: *const PCPROPERTY_ITEM,
    /// `sizeof(PCMETHOD_ITEM)`.
    pub MethodItemSize: u32,
    /// Number of methods.
    pub MethodCount: u32,
    /// Methods.
    pub Methods: *const PCMETHOD_ITEM,
    /// `sizeof(PCEVENT_ITEM)`.
    pub EventItemSize: u32,
    /// Number of events.
    pub EventCount: u32,
    /// Events.
    pub Events: *const PCEVENT_ITEM,
    /// Zero.
    pub Reserved: u32,
}

pin_layout!(PCAUTOMATION_TABLE, "portcls.h", size (40, 56), align (4, 8), {
    PropertyItemSize: (0, 0),
    PropertyCount: (4, 4),
    Properties: (8, 8),
    MethodItemSize: (12, 16),
    MethodCount: (16, 20),
    Methods: (20, 24),
    EventItemSize: (24, 32),
    EventCount: (28, 36),
    Events: (32, 40),
    Reserved: (36, 48),
});

/// `PCCONNECTION_DESCRIPTOR` (portcls.h): one edge of the filter topology.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PCCONNECTION_DESCRIPTOR {
    /// Source node, or `PCFILTER_NODE` for a filter pin.
    pub FromNode: u32,
    /// Pin of the source node (a filter pin id when `FromNode` is `PCFILTER_NODE`).
    pub FromNodePin: u32,
    /// Destination node, or `PCFILTER_NODE`.
    pub ToNode: u32,
    /// Pin of the destination node.
    pub ToNodePin: u32,
}

pin_layout!(PCCONNECTION_DESCRIPTOR, "portcls.h", size (16, 16), align (4, 4), {
    FromNode: (0, 0),
    FromNodePin: (4, 4),
    ToNode: (8, 8),
    ToNodePin: (12, 12),
});

/// `PCFILTER_NODE` (portcls.h, `KSFILTER_NODE` = `ULONG(-1)`): a connection end that is a
/// filter pin rather than a node.
pub const PCFILTER_NODE: u32 = u32::MAX;

/// `PCPIN_DESCRIPTOR` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCPIN_DESCRIPTOR {
    /// Instances allowed across all filters.
    pub MaxGlobalInstanceCount: u32,
    /// Instances allowed per filter.
    pub MaxFilterInstanceCount: u32,
    /// Instances required per filter.
    pub MinFilterInstanceCount: u32,
    /// Pin automation, or null.
    pub AutomationTable: *const PCAUTOMATION_TABLE,
    /// The KS pin description.
    pub KsPinDescriptor: KSPIN_DESCRIPTOR,
}

pin_layout!(PCPIN_DESCRIPTOR, "portcls.h", size (64, 112), align (8, 8), {
    MaxGlobalInstanceCount: (0, 0),
    MaxFilterInstanceCount: (4, 4),
    MinFilterInstanceCount: (8, 8),
    AutomationTable: (12, 16),
    KsPinDescriptor: (16, 24),
});

/// `PCNODE_DESCRIPTOR` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCNODE_DESCRIPTOR {
    /// Zero.
    pub Flags: u32,
    /// Node automation (e.g. the synth properties), or null.
    pub AutomationTable: *const PCAUTOMATION_TABLE,
    /// Node type (`KSNODETYPE_*`).
    pub Type: *const GUID,
    /// Friendly-name GUID, or null.
    pub Name: *const GUID,
}

pin_layout!(PCNODE_DESCRIPTOR, "portcls.h", size (16, 32), align (4, 8), {
    Flags: (0, 0),
    AutomationTable: (4, 8),
    Type: (8, 16),
    Name: (12, 24),
});

/// `PCFILTER_DESCRIPTOR` (portcls.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct PCFILTER_DESCRIPTOR {
    /// Zero.
    pub Version: u32,
    /// Filter automation, or null.
    pub AutomationTable: *const PCAUTOMATION_TABLE,
    /// `sizeof(PCPIN_DESCRIPTOR)`.
    pub PinSize: u32,
    /// Number of pins.
    pub PinCount: u32,
    /// Pins.
    pub Pins: *const PCPIN_DESCRIPTOR,
    /// `sizeof(PCNODE_DESCRIPTOR)`.
    pub NodeSize: u32,
    /// Number of nodes.
    pub NodeCount: u32,
    /// Nodes.
    pub Nodes: *const PCNODE_DESCRIPTOR,
    /// Number of connections.
    pub ConnectionCount: u32,
    /// Connections.
    pub Connections: *const PCCONNECTION_DESCRIPTOR,
    /// Number of categories.
    pub CategoryCount: u32,
    /// Categories (`KSCATEGORY_*`).
    pub Categories: *const GUID,
}
/// `PPCFILTER_DESCRIPTOR`.
pub type PPCFILTER_DESCRIPTOR = *mut PCFILTER_DESCRIPTOR;

pin_layout!(PCFILTER_DESCRIPTOR, "portcls.h", size (48, 80), align (4, 8), {
    Version: (0, 0),
    AutomationTable: (4, 8),
    PinSize: (8, 16),
    PinCount: (12, 20),
    Pins: (16, 24),
    NodeSize: (20, 32),
    NodeCount: (24, 36),
    Nodes: (28, 40),
    ConnectionCount: (32, 48),
    Connections: (36, 56),
    CategoryCount: (40, 64),
    Categories: (44, 72),
});
