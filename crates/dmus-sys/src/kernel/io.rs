//! I/O manager objects (wdm.h): `DRIVER_OBJECT`, `DEVICE_OBJECT`, `IRP` (opaque), work items,
//! and the driver routine types.
//!
//! rdmus reads and writes only a few fields (`DriverUnload`, `MajorFunction`,
//! `DriverExtension->AddDevice`, `DeviceExtension`, `Flags`); the rest are spelled out so that
//! the simulation can build objects of the kernel's size.

use super::{
    BOOLEAN, CSHORT, KDPC, KEVENT, KPROCESSOR_MODE, KSPIN_LOCK, LIST_ENTRY, NTSTATUS,
    PUNICODE_STRING, PVOID, ULONG_PTR, UNICODE_STRING,
};
use crate::pin_layout;

/// `IRP`: opaque to rdmus, which hands every IRP to `PcDispatchIrp`; the one field it reads
/// (`RequestorMode`, of a property request's IRP) is at its place in [`IRP_HEADER`].
#[repr(C)]
pub struct IRP {
    _opaque: [u8; 0],
}
/// `PIRP`.
pub type PIRP = *mut IRP;

/// `IO_STATUS_BLOCK`'s first member (wdm.h: `union { NTSTATUS Status; PVOID Pointer; }`).
#[repr(C)]
#[derive(Clone, Copy)]
pub union IO_STATUS_BLOCK_STATUS {
    /// The final status.
    pub Status: NTSTATUS,
    /// Reserved for internal use.
    pub Pointer: PVOID,
}

/// `IO_STATUS_BLOCK` (wdm.h).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IO_STATUS_BLOCK {
    /// `Status` / `Pointer`.
    pub u: IO_STATUS_BLOCK_STATUS,
    /// Request-dependent information (bytes transferred, ...).
    pub Information: ULONG_PTR,
}

pin_layout!(IO_STATUS_BLOCK, "wdm.h", size (8, 16), align (4, 8), {
    u: (0, 0),
    Information: (4, 8),
});

/// The first members of `IRP` (wdm.h `struct _IRP`, up to `PendingReturned`), so that the
/// driver can read `RequestorMode` at its place without spelling out the whole IRP.
///
/// Layout from ReactOS `sdk/include/ddk/wdm.h` (`_IRP`: `Type`, `Size`, `MdlAddress`,
/// `Flags`, the `AssociatedIrp` union of pointer size, `ThreadListEntry`, `IoStatus`,
/// `RequestorMode`, `PendingReturned`) and the same order in mingw-w64 `ddk/wdm.h`; the
/// offsets below agree with the kernel debugger's `dt nt!_IRP` dumps published for x86
/// (`RequestorMode` +0x020) and x64 (+0x040). ARM64 has the x64 layout (same pointer size
/// and alignment rules).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IRP_HEADER {
    /// `IO_TYPE_IRP`.
    pub Type: CSHORT,
    /// The IRP's size in bytes.
    pub Size: u16,
    /// `PMDL MdlAddress`.
    pub MdlAddress: PVOID,
    /// `IRP_*` flags.
    pub Flags: u32,
    /// `AssociatedIrp` (`MasterIrp` / `IrpCount` / `SystemBuffer`).
    pub AssociatedIrp: PVOID,
    /// Link in the thread's pending IRP list.
    pub ThreadListEntry: LIST_ENTRY,
    /// The final status.
    pub IoStatus: IO_STATUS_BLOCK,
    /// `UserMode` when the request came from user mode (a pointer in it is a user address
    /// that must be probed), `KernelMode` when a kernel component sent it.
    pub RequestorMode: KPROCESSOR_MODE,
    /// TRUE if pending was returned for this IRP.
    pub PendingReturned: BOOLEAN,
}

pin_layout!(IRP_HEADER, "wdm.h (_IRP)", size (36, 72), align (4, 8), {
    Type: (0, 0),
    Size: (2, 2),
    MdlAddress: (4, 8),
    Flags: (8, 0x10),
    AssociatedIrp: (0xc, 0x18),
    ThreadListEntry: (0x10, 0x20),
    IoStatus: (0x18, 0x30),
    RequestorMode: (0x20, 0x40),
    PendingReturned: (0x21, 0x41),
});

/// `PDRIVER_INITIALIZE` (`DRIVER_INITIALIZE`, i.e. `DriverEntry`).
pub type PDRIVER_INITIALIZE = Option<
    unsafe extern "system" fn(
        DriverObject: *mut DRIVER_OBJECT,
        RegistryPath: PUNICODE_STRING,
    ) -> NTSTATUS,
>;
/// `PDRIVER_ADD_DEVICE` (`DRIVER_ADD_DEVICE`).
pub type PDRIVER_ADD_DEVICE = Option<
    unsafe extern "system" fn(
        DriverObject: *mut DRIVER_OBJECT,
        PhysicalDeviceObject: *mut DEVICE_OBJECT,
    ) -> NTSTATUS,
>;
/// `PDRIVER_UNLOAD` (`DRIVER_UNLOAD`).
pub type PDRIVER_UNLOAD = Option<unsafe extern "system" fn(DriverObject: *mut DRIVER_OBJECT)>;
/// `PDRIVER_DISPATCH` (`DRIVER_DISPATCH`).
pub type PDRIVER_DISPATCH =
    Option<unsafe extern "system" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: PIRP) -> NTSTATUS>;
/// `PDRIVER_STARTIO` (`DRIVER_STARTIO`).
pub type PDRIVER_STARTIO =
    Option<unsafe extern "system" fn(DeviceObject: *mut DEVICE_OBJECT, Irp: PIRP)>;

/// `IRP_MJ_CREATE`.
pub const IRP_MJ_CREATE: usize = 0x00;
/// `IRP_MJ_CLOSE`.
pub const IRP_MJ_CLOSE: usize = 0x02;
/// `IRP_MJ_DEVICE_CONTROL`.
pub const IRP_MJ_DEVICE_CONTROL: usize = 0x0e;
/// `IRP_MJ_POWER`.
pub const IRP_MJ_POWER: usize = 0x16;
/// `IRP_MJ_SYSTEM_CONTROL`.
pub const IRP_MJ_SYSTEM_CONTROL: usize = 0x17;
/// `IRP_MJ_PNP`.
pub const IRP_MJ_PNP: usize = 0x1b;
/// `IRP_MJ_MAXIMUM_FUNCTION`.
pub const IRP_MJ_MAXIMUM_FUNCTION: usize = 0x1b;

/// `DO_BUFFERED_IO`.
pub const DO_BUFFERED_IO: u32 = 0x0000_0004;
/// `DO_DIRECT_IO`.
pub const DO_DIRECT_IO: u32 = 0x0000_0010;
/// `DO_DEVICE_INITIALIZING`.
pub const DO_DEVICE_INITIALIZING: u32 = 0x0000_0080;
/// `DO_POWER_PAGABLE`.
pub const DO_POWER_PAGABLE: u32 = 0x0000_2000;
/// `FILE_DEVICE_KS`.
pub const FILE_DEVICE_KS: u32 = 0x0000_002f;

/// `DRIVER_EXTENSION` (wdm.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DRIVER_EXTENSION {
    /// Back pointer.
    pub DriverObject: *mut DRIVER_OBJECT,
    /// The PnP AddDevice routine.
    pub AddDevice: PDRIVER_ADD_DEVICE,
    /// Reinitialisation count.
    pub Count: u32,
    /// Service key name.
    pub ServiceKeyName: UNICODE_STRING,
}

pin_layout!(DRIVER_EXTENSION, "wdm.h", size (20, 40), align (4, 8), {
    DriverObject: (0, 0),
    AddDevice: (4, 8),
    Count: (8, 16),
    ServiceKeyName: (12, 24),
});

/// `DRIVER_OBJECT` (wdm.h).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DRIVER_OBJECT {
    /// `IO_TYPE_DRIVER` (4).
    pub Type: CSHORT,
    /// Size of this object.
    pub Size: CSHORT,
    /// First device object.
    pub DeviceObject: *mut DEVICE_OBJECT,
    /// `DRVO_*`.
    pub Flags: u32,
    /// Image base.
    pub DriverStart: PVOID,
    /// Image size.
    pub DriverSize: u32,
    /// Loader entry.
    pub DriverSection: PVOID,
    /// Extension (holds `AddDevice`).
    pub DriverExtension: *mut DRIVER_EXTENSION,
    /// `\Driver\<name>`.
    pub DriverName: UNICODE_STRING,
    /// Hardware registry path.
    pub HardwareDatabase: PUNICODE_STRING,
    /// Fast I/O table (`PFAST_IO_DISPATCH`).
    pub FastIoDispatch: PVOID,
    /// `DriverEntry`.
    pub DriverInit: PDRIVER_INITIALIZE,
    /// StartIo.
    pub DriverStartIo: PDRIVER_STARTIO,
    /// Unload.
    pub DriverUnload: PDRIVER_UNLOAD,
    /// IRP dispatch routines by major function.
    pub MajorFunction: [PDRIVER_DISPATCH; IRP_MJ_MAXIMUM_FUNCTION + 1],
}
/// `PDRIVER_OBJECT`.
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

pin_layout!(DRIVER_OBJECT, "wdm.h", size (0xa8, 0x150), align (4, 8), {
    Type: (0, 0),
    Size: (2, 2),
    DeviceObject: (4, 8),
    Flags: (8, 0x10),
    DriverStart: (0xc, 0x18),
    DriverSize: (0x10, 0x20),
    DriverSection: (0x14, 0x28),
    DriverExtension: (0x18, 0x30),
    DriverName: (0x1c, 0x38),
    HardwareDatabase: (0x24, 0x48),
    FastIoDispatch: (0x28, 0x50),
    DriverInit: (0x2c, 0x58),
    DriverStartIo: (0x30, 0x60),
    DriverUnload: (0x34, 0x68),
    MajorFunction: (0x38, 0x70),
});

/// `KDEVICE_QUEUE` (wdm.h). The last member is `BOOLEAN Busy` on x86 and, on 64-bit,
/// `union { BOOLEAN Busy; struct { LONG64 Reserved:8; LONG64 Hint:56; }; }`: one word either way.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KDEVICE_QUEUE {
    /// `IO_TYPE_DEVICE_QUEUE`.
    pub Type: CSHORT,
    /// Size.
    pub Size: CSHORT,
    /// Queued entries.
    pub DeviceListHead: LIST_ENTRY,
    /// Queue lock.
    pub Lock: KSPIN_LOCK,
    /// `Busy` in the low byte (and `Hint` above it on 64-bit).
    pub Busy: isize,
}

pin_layout!(KDEVICE_QUEUE, "wdm.h", size (0x14, 0x28), align (4, 8), {
    Type: (0, 0),
    Size: (2, 2),
    DeviceListHead: (4, 8),
    Lock: (0xc, 0x18),
    Busy: (0x10, 0x20),
});

/// `DEVICE_OBJECT::Queue`: `union { LIST_ENTRY ListEntry; WAIT_CONTEXT_BLOCK Wcb; }`, whose size
/// is the `WAIT_CONTEXT_BLOCK`'s (0x28 on x86, 0x48 on 64-bit). Drivers never use it.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct DEVICE_OBJECT_QUEUE {
    /// The bytes of the union.
    #[cfg(target_pointer_width = "32")]
    pub Opaque: [usize; 10],
    /// The bytes of the union.
    #[cfg(target_pointer_width = "64")]
    pub Opaque: [usize; 9],
}

pin_layout!(DEVICE_OBJECT_QUEUE, "wdm.h (WAIT_CONTEXT_BLOCK)", size (0x28, 0x48), align (4, 8), { Opaque: (0, 0) });

/// `DEVICE_OBJECT` (wdm.h, `DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT)`: 8 on x86, 16 on
/// 64-bit).
#[cfg_attr(target_pointer_width = "64", repr(C, align(16)))]
#[cfg_attr(target_pointer_width = "32", repr(C, align(8)))]
#[derive(Clone, Copy, Debug)]
pub struct DEVICE_OBJECT {
    /// `IO_TYPE_DEVICE` (3).
    pub Type: CSHORT,
    /// Size of this object plus its extension.
    pub Size: u16,
    /// Reference count.
    pub ReferenceCount: i32,
    /// Owning driver.
    pub DriverObject: *mut DRIVER_OBJECT,
    /// Next device of the driver.
    pub NextDevice: *mut DEVICE_OBJECT,
    /// Device attached above.
    pub AttachedDevice: *mut DEVICE_OBJECT,
    /// StartIo's current IRP.
    pub CurrentIrp: PIRP,
    /// `PIO_TIMER`.
    pub Timer: PVOID,
    /// `DO_*`.
    pub Flags: u32,
    /// `FILE_*` characteristics.
    pub Characteristics: u32,
    /// `PVPB`.
    pub Vpb: PVOID,
    /// The driver's per-device storage (PortCls keeps its own context here).
    pub DeviceExtension: PVOID,
    /// `FILE_DEVICE_*`.
    pub DeviceType: u32,
    /// IRP stack locations needed.
    pub StackSize: i8,
    /// Queue link / wait context block.
    pub Queue: DEVICE_OBJECT_QUEUE,
    /// Buffer alignment mask.
    pub AlignmentRequirement: u32,
    /// StartIo queue.
    pub DeviceQueue: KDEVICE_QUEUE,
    /// The device's DPC.
    pub Dpc: KDPC,
    /// File system use.
    pub ActiveThreadCount: u32,
    /// `PSECURITY_DESCRIPTOR`.
    pub SecurityDescriptor: PVOID,
    /// Device lock.
    pub DeviceLock: KEVENT,
    /// Sector size.
    pub SectorSize: u16,
    /// Spare.
    pub Spare1: u16,
    /// `PDEVOBJ_EXTENSION`.
    pub DeviceObjectExtension: PVOID,
    /// Reserved.
    pub Reserved: PVOID,
}
/// `PDEVICE_OBJECT`.
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;

pin_layout!(DEVICE_OBJECT, "wdm.h", size (0xb8, 0x150), align (8, 16), {
    Type: (0, 0),
    Size: (2, 2),
    ReferenceCount: (4, 4),
    DriverObject: (8, 8),
    NextDevice: (0xc, 0x10),
    AttachedDevice: (0x10, 0x18),
    CurrentIrp: (0x14, 0x20),
    Timer: (0x18, 0x28),
    Flags: (0x1c, 0x30),
    Characteristics: (0x20, 0x34),
    Vpb: (0x24, 0x38),
    DeviceExtension: (0x28, 0x40),
    DeviceType: (0x2c, 0x48),
    StackSize: (0x30, 0x4c),
    Queue: (0x34, 0x50),
    AlignmentRequirement: (0x5c, 0x98),
    DeviceQueue: (0x60, 0xa0),
    Dpc: (0x74, 0xc8),
    ActiveThreadCount: (0x94, 0x108),
    SecurityDescriptor: (0x98, 0x110),
    DeviceLock: (0x9c, 0x118),
    SectorSize: (0xac, 0x130),
    Spare1: (0xae, 0x132),
    DeviceObjectExtension: (0xb0, 0x138),
    Reserved: (0xb4, 0x140),
});

/// `IO_WORKITEM`: opaque, from `IoAllocateWorkItem`.
#[repr(C)]
pub struct IO_WORKITEM {
    _opaque: [u8; 0],
}
/// `PIO_WORKITEM`.
pub type PIO_WORKITEM = *mut IO_WORKITEM;
/// `PIO_WORKITEM_ROUTINE` (`IO_WORKITEM_ROUTINE`): runs at PASSIVE_LEVEL in a system thread.
pub type PIO_WORKITEM_ROUTINE =
    Option<unsafe extern "system" fn(DeviceObject: *mut DEVICE_OBJECT, Context: PVOID)>;

/// `WORK_QUEUE_TYPE` (wdm.h enum).
pub type WORK_QUEUE_TYPE = i32;
/// `CriticalWorkQueue`.
pub const CriticalWorkQueue: WORK_QUEUE_TYPE = 0;
/// `DelayedWorkQueue`.
pub const DelayedWorkQueue: WORK_QUEUE_TYPE = 1;
/// `HyperCriticalWorkQueue`.
pub const HyperCriticalWorkQueue: WORK_QUEUE_TYPE = 2;
/// `NormalWorkQueue`.
pub const NormalWorkQueue: WORK_QUEUE_TYPE = 3;

/// `DEVICE_REGISTRY_PROPERTY` (wdm.h enum), for `IPort::GetDeviceProperty`.
pub type DEVICE_REGISTRY_PROPERTY = i32;

/// `OBJECT_ATTRIBUTES`: opaque here (passed through `IPort::NewRegistryKey` only).
#[repr(C)]
pub struct OBJECT_ATTRIBUTES {
    _opaque: [u8; 0],
}
/// `POBJECT_ATTRIBUTES`.
pub type POBJECT_ATTRIBUTES = *mut OBJECT_ATTRIBUTES;
