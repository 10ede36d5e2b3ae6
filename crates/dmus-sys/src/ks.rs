//! Kernel Streaming types the DirectMusic path uses (ks.h).

use crate::guid::GUID;
use crate::pin_layout;

/// `KSSTATE` (ks.h): the state of a pin.
pub type KSSTATE = i32;
/// `KSSTATE_STOP`.
pub const KSSTATE_STOP: KSSTATE = 0;
/// `KSSTATE_ACQUIRE`.
pub const KSSTATE_ACQUIRE: KSSTATE = 1;
/// `KSSTATE_PAUSE`.
pub const KSSTATE_PAUSE: KSSTATE = 2;
/// `KSSTATE_RUN`.
pub const KSSTATE_RUN: KSSTATE = 3;

/// `KSTIME` (ks.h): a time and the fraction that converts it to 100 ns units.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSTIME {
    /// The time, in units of `Numerator / Denominator` × 100 ns.
    pub Time: i64,
    /// Numerator of the scale.
    pub Numerator: u32,
    /// Denominator of the scale.
    pub Denominator: u32,
}

pin_layout!(KSTIME, "ks.h", size (16, 16), align (8, 8), {
    Time: (0, 0),
    Numerator: (8, 8),
    Denominator: (12, 12),
});

/// `KSSTREAM_HEADER` (ks.h). On 64-bit targets the header carries one more
/// `ULONG Reserved` (declared under `#if defined(_WIN64)`), so its size is 0x38
/// there and 0x30 on x86.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KSSTREAM_HEADER {
    /// Size of this header plus any extended header, in bytes.
    pub Size: u32,
    /// Type-specific flags.
    pub TypeSpecificFlags: u32,
    /// When the data is to be presented.
    pub PresentationTime: KSTIME,
    /// Duration of the data.
    pub Duration: i64,
    /// Size of the data buffer.
    pub FrameExtent: u32,
    /// Bytes of the buffer in use.
    pub DataUsed: u32,
    /// The data buffer.
    pub Data: *mut core::ffi::c_void,
    /// `KSSTREAM_HEADER_OPTIONSF_*`.
    pub OptionsFlags: u32,
    /// Present on 64-bit Windows only.
    #[cfg(target_pointer_width = "64")]
    pub Reserved: u32,
}

pin_layout!(KSSTREAM_HEADER, "ks.h", size (0x30, 0x38), align (8, 8), {
    Size: (0, 0),
    TypeSpecificFlags: (4, 4),
    PresentationTime: (8, 8),
    Duration: (0x18, 0x18),
    FrameExtent: (0x20, 0x20),
    DataUsed: (0x24, 0x24),
    Data: (0x28, 0x28),
    OptionsFlags: (0x2c, 0x30),
});

/// `KSIDENTIFIER` (ks.h): `union { struct { GUID Set; ULONG Id; ULONG Flags; }; LONGLONG
/// Alignment; }`; also `KSPROPERTY`, `KSMETHOD`, `KSEVENT`, `KSPIN_INTERFACE`, `KSPIN_MEDIUM`.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSIDENTIFIER {
    /// The set.
    pub Set: GUID,
    /// The item within the set.
    pub Id: u32,
    /// `KSPROPERTY_TYPE_*` and the like.
    pub Flags: u32,
}
/// `KSPROPERTY`.
pub type KSPROPERTY = KSIDENTIFIER;
/// `PKSPROPERTY`.
pub type PKSPROPERTY = *mut KSIDENTIFIER;
/// `KSMETHOD`.
pub type KSMETHOD = KSIDENTIFIER;
/// `KSEVENT`.
pub type KSEVENT = KSIDENTIFIER;
/// `KSPIN_INTERFACE`.
pub type KSPIN_INTERFACE = KSIDENTIFIER;
/// `KSPIN_MEDIUM`.
pub type KSPIN_MEDIUM = KSIDENTIFIER;

pin_layout!(KSIDENTIFIER, "ks.h", size (24, 24), align (8, 8), { Set: (0, 0), Id: (16, 16), Flags: (20, 20) });

/// `KSPROPERTY_TYPE_GET`.
pub const KSPROPERTY_TYPE_GET: u32 = 0x0000_0001;
/// `KSPROPERTY_TYPE_SET`.
pub const KSPROPERTY_TYPE_SET: u32 = 0x0000_0002;
/// `KSPROPERTY_TYPE_SETSUPPORT`.
pub const KSPROPERTY_TYPE_SETSUPPORT: u32 = 0x0000_0100;
/// `KSPROPERTY_TYPE_BASICSUPPORT`.
pub const KSPROPERTY_TYPE_BASICSUPPORT: u32 = 0x0000_0200;
/// `KSPROPERTY_TYPE_RELATIONS`.
pub const KSPROPERTY_TYPE_RELATIONS: u32 = 0x0000_0400;
/// `KSPROPERTY_TYPE_SERIALIZESET`.
pub const KSPROPERTY_TYPE_SERIALIZESET: u32 = 0x0000_0800;
/// `KSPROPERTY_TYPE_UNSERIALIZESET`.
pub const KSPROPERTY_TYPE_UNSERIALIZESET: u32 = 0x0000_1000;
/// `KSPROPERTY_TYPE_SERIALIZERAW`.
pub const KSPROPERTY_TYPE_SERIALIZERAW: u32 = 0x0000_2000;
/// `KSPROPERTY_TYPE_UNSERIALIZERAW`.
pub const KSPROPERTY_TYPE_UNSERIALIZERAW: u32 = 0x0000_4000;
/// `KSPROPERTY_TYPE_SERIALIZESIZE`.
pub const KSPROPERTY_TYPE_SERIALIZESIZE: u32 = 0x0000_8000;
/// `KSPROPERTY_TYPE_DEFAULTVALUES`.
pub const KSPROPERTY_TYPE_DEFAULTVALUES: u32 = 0x0001_0000;
/// `KSPROPERTY_TYPE_TOPOLOGY`: a `KSNODEPROPERTY` follows (node-addressed).
pub const KSPROPERTY_TYPE_TOPOLOGY: u32 = 0x1000_0000;

/// `KSP_PIN` (ks.h): a property addressed to a pin factory.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSP_PIN {
    /// The property.
    pub Property: KSPROPERTY,
    /// Pin factory id.
    pub PinId: u32,
    /// Reserved.
    pub Reserved: u32,
}

pin_layout!(KSP_PIN, "ks.h", size (32, 32), align (8, 8), { Property: (0, 0), PinId: (24, 24), Reserved: (28, 28) });

/// `KSMULTIPLE_ITEM` (ks.h): header of a variable list of items.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSMULTIPLE_ITEM {
    /// Total bytes, header included.
    pub Size: u32,
    /// Number of items.
    pub Count: u32,
}

pin_layout!(KSMULTIPLE_ITEM, "ks.h", size (8, 8), align (4, 4), { Size: (0, 0), Count: (4, 4) });

/// `KSPIN_CINSTANCES` (ks.h): what `KSPROPERTY_PIN_CINSTANCES` and `_GLOBALCINSTANCES` answer.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSPIN_CINSTANCES {
    /// The most instances that may exist (`KSINSTANCE_INDETERMINATE`: no limit).
    pub PossibleCount: u32,
    /// The instances that exist now.
    pub CurrentCount: u32,
}

pin_layout!(KSPIN_CINSTANCES, "ks.h", size (8, 8), align (4, 4), { PossibleCount: (0, 0), CurrentCount: (4, 4) });

/// `KSINSTANCE_INDETERMINATE` (ks.h): an instance count without a limit.
pub const KSINSTANCE_INDETERMINATE: u32 = u32::MAX;

/// `KSCOMPONENTID` (ks.h): what `KSPROPERTY_GENERAL_COMPONENTID` answers. `Name` is looked up
/// under `MediaCategories` in the registry for a name a user sees.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSCOMPONENTID {
    /// The manufacturer.
    pub Manufacturer: GUID,
    /// The product.
    pub Product: GUID,
    /// The component.
    pub Component: GUID,
    /// The name's `MediaCategories` key.
    pub Name: GUID,
    /// The version.
    pub Version: u32,
    /// The revision.
    pub Revision: u32,
}

pin_layout!(KSCOMPONENTID, "ks.h", size (72, 72), align (4, 4), {
    Manufacturer: (0, 0), Product: (16, 16), Component: (32, 32), Name: (48, 48),
    Version: (64, 64), Revision: (68, 68)
});

/// `KSDATAFORMAT` / `KSDATARANGE` (ks.h): `union { struct {...}; LONGLONG Alignment; }`.
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSDATAFORMAT {
    /// Size of the whole format (or range) including what follows this header.
    pub FormatSize: u32,
    /// `KSDATAFORMAT_*` / `KSDATARANGE_*` flags.
    pub Flags: u32,
    /// Sample size, 0 if variable.
    pub SampleSize: u32,
    /// Reserved.
    pub Reserved: u32,
    /// Major format (`KSDATAFORMAT_TYPE_*`).
    pub MajorFormat: GUID,
    /// Subformat (`KSDATAFORMAT_SUBTYPE_*`).
    pub SubFormat: GUID,
    /// Specifier (`KSDATAFORMAT_SPECIFIER_*`).
    pub Specifier: GUID,
}
/// `PKSDATAFORMAT`.
pub type PKSDATAFORMAT = *mut KSDATAFORMAT;
/// `KSDATARANGE` (the same layout as `KSDATAFORMAT`).
pub type KSDATARANGE = KSDATAFORMAT;
/// `PKSDATARANGE`.
pub type PKSDATARANGE = *mut KSDATAFORMAT;

pin_layout!(KSDATAFORMAT, "ks.h", size (64, 64), align (8, 8), {
    FormatSize: (0, 0),
    Flags: (4, 4),
    SampleSize: (8, 8),
    Reserved: (12, 12),
    MajorFormat: (16, 16),
    SubFormat: (32, 32),
    Specifier: (48, 48),
});

/// `KSPIN_DATAFLOW` (ks.h enum).
pub type KSPIN_DATAFLOW = i32;
/// `KSPIN_DATAFLOW_IN`: data flows into the filter (render).
pub const KSPIN_DATAFLOW_IN: KSPIN_DATAFLOW = 1;
/// `KSPIN_DATAFLOW_OUT`: data flows out of the filter (capture).
pub const KSPIN_DATAFLOW_OUT: KSPIN_DATAFLOW = 2;

/// `KSPIN_COMMUNICATION` (ks.h enum).
pub type KSPIN_COMMUNICATION = i32;
/// `KSPIN_COMMUNICATION_NONE`: no instances (a bridge to hardware in old samples uses BRIDGE).
pub const KSPIN_COMMUNICATION_NONE: KSPIN_COMMUNICATION = 0;
/// `KSPIN_COMMUNICATION_SINK`.
pub const KSPIN_COMMUNICATION_SINK: KSPIN_COMMUNICATION = 1;
/// `KSPIN_COMMUNICATION_SOURCE`.
pub const KSPIN_COMMUNICATION_SOURCE: KSPIN_COMMUNICATION = 2;
/// `KSPIN_COMMUNICATION_BOTH`.
pub const KSPIN_COMMUNICATION_BOTH: KSPIN_COMMUNICATION = 3;
/// `KSPIN_COMMUNICATION_BRIDGE`: a pin that stands for a physical connection.
pub const KSPIN_COMMUNICATION_BRIDGE: KSPIN_COMMUNICATION = 4;

/// `KSINTERFACE_STANDARD_STREAMING` (`KSPIN_INTERFACE::Id` in `KSINTERFACESETID_Standard`).
pub const KSINTERFACE_STANDARD_STREAMING: u32 = 0;
/// `KSINTERFACE_STANDARD_LOOPED_STREAMING`.
pub const KSINTERFACE_STANDARD_LOOPED_STREAMING: u32 = 1;
/// `KSMEDIUM_TYPE_ANYINSTANCE` / `KSMEDIUM_STANDARD_DEVIO` (`KSPIN_MEDIUM::Id`).
pub const KSMEDIUM_TYPE_ANYINSTANCE: u32 = 0;

/// `KSPIN_DESCRIPTOR` (ks.h). The trailing member is `union { LONGLONG Reserved; struct { ULONG
/// ConstrainedDataRangesCount; PKSDATARANGE* ConstrainedDataRanges; }; }`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KSPIN_DESCRIPTOR {
    /// Number of `Interfaces` (0 = standard streaming).
    pub InterfacesCount: u32,
    /// Interfaces.
    pub Interfaces: *const KSPIN_INTERFACE,
    /// Number of `Mediums` (0 = standard devio).
    pub MediumsCount: u32,
    /// Mediums.
    pub Mediums: *const KSPIN_MEDIUM,
    /// Number of `DataRanges`.
    pub DataRangesCount: u32,
    /// Data ranges.
    pub DataRanges: *const PKSDATARANGE,
    /// `KSPIN_DATAFLOW_*`.
    pub DataFlow: KSPIN_DATAFLOW,
    /// `KSPIN_COMMUNICATION_*`.
    pub Communication: KSPIN_COMMUNICATION,
    /// Pin category GUID (`KSCATEGORY_*` / `KSNODETYPE_*`), or null.
    pub Category: *const GUID,
    /// Friendly-name GUID (`KSAUDFNAME_*`), or null.
    pub Name: *const GUID,
    /// `ConstrainedDataRanges` union, aligned as a LONGLONG.
    pub Constrained: KSPIN_DESCRIPTOR_CONSTRAINED,
}
/// `PKSPIN_DESCRIPTOR`.
pub type PKSPIN_DESCRIPTOR = *mut KSPIN_DESCRIPTOR;

/// `KSPIN_DESCRIPTOR`'s trailing union (`LONGLONG Reserved` or the constrained ranges).
#[repr(C, align(8))]
#[derive(Clone, Copy, Debug)]
pub struct KSPIN_DESCRIPTOR_CONSTRAINED {
    /// Number of constrained ranges (0 in PortCls drivers).
    pub ConstrainedDataRangesCount: u32,
    /// The constrained ranges, or null.
    pub ConstrainedDataRanges: *mut PKSDATARANGE,
}

pin_layout!(KSPIN_DESCRIPTOR_CONSTRAINED, "ks.h", size (8, 16), align (8, 8), {
    ConstrainedDataRangesCount: (0, 0),
    ConstrainedDataRanges: (4, 8),
});

pin_layout!(KSPIN_DESCRIPTOR, "ks.h", size (48, 88), align (8, 8), {
    InterfacesCount: (0, 0),
    Interfaces: (4, 8),
    MediumsCount: (8, 16),
    Mediums: (12, 24),
    DataRangesCount: (16, 32),
    DataRanges: (20, 40),
    DataFlow: (24, 48),
    Communication: (28, 52),
    Category: (32, 56),
    Name: (36, 64),
    Constrained: (40, 72),
});
