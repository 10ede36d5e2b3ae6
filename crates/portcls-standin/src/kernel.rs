//! Kernel and ntdll routines the stand-in calls that dmus-sys does not declare (rdmus.sys
//! does not import them). Each is a documented wdm.h/ntddk.h export (ntdll's vectored
//! exception handler routines: winnt.h / ntrtl.h) that Wine 8.0's ntoskrnl.exe or ntdll.dll
//! implements (`winedump -j export` on Wine's modules).
#![allow(
    non_snake_case,
    non_camel_case_types,
    reason = "the DDK's names and argument spellings"
)]

use core::ffi::c_void;

use dmus_sys::kernel::{
    DRIVER_OBJECT, IO_STATUS_BLOCK, LARGE_INTEGER, NTSTATUS, PDEVICE_OBJECT, PIRP, PUNICODE_STRING,
    PVOID, UNICODE_STRING,
};

/// `HANDLE`.
pub type HANDLE = *mut c_void;

/// `OBJECT_ATTRIBUTES` (wdm.h; dmus-sys keeps it opaque: rdmus never builds one).
#[repr(C)]
pub struct OBJECT_ATTRIBUTES {
    /// `sizeof(OBJECT_ATTRIBUTES)`.
    pub Length: u32,
    /// Directory the name is relative to (null: absolute).
    pub RootDirectory: HANDLE,
    /// The object's name.
    pub ObjectName: PUNICODE_STRING,
    /// `OBJ_*`.
    pub Attributes: u32,
    /// Security descriptor (null: default).
    pub SecurityDescriptor: PVOID,
    /// Quality of service (null: default).
    pub SecurityQualityOfService: PVOID,
}

/// `OBJ_CASE_INSENSITIVE`.
pub const OBJ_CASE_INSENSITIVE: u32 = 0x40;
/// `OBJ_KERNEL_HANDLE`.
pub const OBJ_KERNEL_HANDLE: u32 = 0x200;
/// `GENERIC_READ`.
pub const GENERIC_READ: u32 = 0x8000_0000;
/// `GENERIC_WRITE`.
pub const GENERIC_WRITE: u32 = 0x4000_0000;
/// `SYNCHRONIZE`.
pub const SYNCHRONIZE: u32 = 0x0010_0000;
/// `FILE_ATTRIBUTE_NORMAL`.
pub const FILE_ATTRIBUTE_NORMAL: u32 = 0x80;
/// `FILE_SHARE_READ`.
pub const FILE_SHARE_READ: u32 = 1;
/// `FILE_OPEN`.
pub const FILE_OPEN: u32 = 1;
/// `FILE_OVERWRITE_IF`.
pub const FILE_OVERWRITE_IF: u32 = 5;
/// `FILE_SYNCHRONOUS_IO_NONALERT`.
pub const FILE_SYNCHRONOUS_IO_NONALERT: u32 = 0x20;
/// `FILE_NON_DIRECTORY_FILE`.
pub const FILE_NON_DIRECTORY_FILE: u32 = 0x40;
/// `THREAD_ALL_ACCESS` (the access `PsCreateSystemThread` callers ask for).
pub const THREAD_ALL_ACCESS: u32 = 0x001F_FFFF;
/// `FILE_DEVICE_UNKNOWN`.
pub const FILE_DEVICE_UNKNOWN: u32 = 0x22;
/// `KernelMode`.
pub const KERNEL_MODE: i8 = 0;

/// `PKSTART_ROUTINE`.
pub type KSTART_ROUTINE = unsafe extern "system" fn(StartContext: PVOID);

/// `PVECTORED_EXCEPTION_HANDLER`: `EXCEPTION_POINTERS*` in, `EXCEPTION_CONTINUE_*` out.
pub type VECTORED_EXCEPTION_HANDLER = unsafe extern "system" fn(ExceptionInfo: *mut c_void) -> i32;

#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
unsafe extern "system" {
    /// `ExAllocatePoolWithTag` (≤ DISPATCH_LEVEL for nonpaged pool).
    pub fn ExAllocatePoolWithTag(PoolType: i32, NumberOfBytes: usize, Tag: u32) -> PVOID;
    /// `ExFreePoolWithTag` (≤ DISPATCH_LEVEL).
    pub fn ExFreePoolWithTag(P: PVOID, Tag: u32);
    /// `PsCreateSystemThread` (PASSIVE_LEVEL).
    pub fn PsCreateSystemThread(
        ThreadHandle: *mut HANDLE,
        DesiredAccess: u32,
        ObjectAttributes: *mut OBJECT_ATTRIBUTES,
        ProcessHandle: HANDLE,
        ClientId: PVOID,
        StartRoutine: KSTART_ROUTINE,
        StartContext: PVOID,
    ) -> NTSTATUS;
    /// `ZwClose` (PASSIVE_LEVEL).
    pub fn ZwClose(Handle: HANDLE) -> NTSTATUS;
    /// `ZwWaitForSingleObject` (PASSIVE_LEVEL): unload joins the job thread by its handle.
    pub fn ZwWaitForSingleObject(
        Handle: HANDLE,
        Alertable: u8,
        Timeout: *mut LARGE_INTEGER,
    ) -> NTSTATUS;
    /// `KeDelayExecutionThread` (≤ APC_LEVEL); a negative interval is relative, 100 ns.
    pub fn KeDelayExecutionThread(
        WaitMode: i8,
        Alertable: u8,
        Interval: *mut LARGE_INTEGER,
    ) -> NTSTATUS;
    /// `ZwCreateFile` (PASSIVE_LEVEL).
    pub fn ZwCreateFile(
        FileHandle: *mut HANDLE,
        DesiredAccess: u32,
        ObjectAttributes: *mut OBJECT_ATTRIBUTES,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        AllocationSize: *mut LARGE_INTEGER,
        FileAttributes: u32,
        ShareAccess: u32,
        CreateDisposition: u32,
        CreateOptions: u32,
        EaBuffer: PVOID,
        EaLength: u32,
    ) -> NTSTATUS;
    /// `ZwReadFile` (PASSIVE_LEVEL).
    pub fn ZwReadFile(
        FileHandle: HANDLE,
        Event: HANDLE,
        ApcRoutine: PVOID,
        ApcContext: PVOID,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        Buffer: PVOID,
        Length: u32,
        ByteOffset: *mut LARGE_INTEGER,
        Key: *mut u32,
    ) -> NTSTATUS;
    /// `ZwWriteFile` (PASSIVE_LEVEL).
    pub fn ZwWriteFile(
        FileHandle: HANDLE,
        Event: HANDLE,
        ApcRoutine: PVOID,
        ApcContext: PVOID,
        IoStatusBlock: *mut IO_STATUS_BLOCK,
        Buffer: PVOID,
        Length: u32,
        ByteOffset: *mut LARGE_INTEGER,
        Key: *mut u32,
    ) -> NTSTATUS;
    /// `IoCreateDevice` (PASSIVE_LEVEL).
    pub fn IoCreateDevice(
        DriverObject: *mut DRIVER_OBJECT,
        DeviceExtensionSize: u32,
        DeviceName: *mut UNICODE_STRING,
        DeviceType: u32,
        DeviceCharacteristics: u32,
        Exclusive: u8,
        DeviceObject: *mut PDEVICE_OBJECT,
    ) -> NTSTATUS;
    /// `IoDeleteDevice` (PASSIVE_LEVEL).
    pub fn IoDeleteDevice(DeviceObject: PDEVICE_OBJECT);
    /// `IoAllocateIrp` (≤ DISPATCH_LEVEL).
    pub fn IoAllocateIrp(StackSize: i8, ChargeQuota: u8) -> PIRP;
    /// `IoFreeIrp` (≤ DISPATCH_LEVEL).
    pub fn IoFreeIrp(Irp: PIRP);
}

#[link(name = "ntdll.dll", kind = "raw-dylib", modifiers = "+verbatim")]
unsafe extern "system" {
    /// `RtlAddVectoredExceptionHandler`: `First` non-zero puts the handler before the others
    /// (Wine's ntoskrnl has its own for `cr8` and `cli`/`sti`; ours must see `in`/`out` first).
    pub fn RtlAddVectoredExceptionHandler(First: u32, Handler: VECTORED_EXCEPTION_HANDLER)
    -> PVOID;
    /// `RtlRemoveVectoredExceptionHandler`.
    pub fn RtlRemoveVectoredExceptionHandler(Handle: PVOID) -> u32;
}
