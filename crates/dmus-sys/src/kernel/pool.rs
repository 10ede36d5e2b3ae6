//! Pool types and flags (wdm.h): `POOL_TYPE` for the legacy APIs PortCls still takes,
//! `POOL_FLAGS` for `ExAllocatePool2` (Windows 10 2004+).

/// `POOL_TYPE` (wdm.h enum).
pub type POOL_TYPE = i32;
/// `NonPagedPool` (= `NonPagedPoolExecute`).
pub const NonPagedPool: POOL_TYPE = 0;
/// `PagedPool`.
pub const PagedPool: POOL_TYPE = 1;
/// `NonPagedPoolMustSucceed`.
pub const NonPagedPoolMustSucceed: POOL_TYPE = 2;
/// `NonPagedPoolCacheAligned`.
pub const NonPagedPoolCacheAligned: POOL_TYPE = 4;
/// `NonPagedPoolNx` (Windows 8+): non-executable non-paged pool.
pub const NonPagedPoolNx: POOL_TYPE = 512;

/// `POOL_FLAGS` (wdm.h, `ULONG64`): the `ExAllocatePool2` flags.
pub type POOL_FLAGS = u64;
/// `POOL_FLAG_USE_QUOTA`.
pub const POOL_FLAG_USE_QUOTA: POOL_FLAGS = 0x0000_0000_0000_0001;
/// `POOL_FLAG_UNINITIALIZED`: skip the zeroing `ExAllocatePool2` does by default.
pub const POOL_FLAG_UNINITIALIZED: POOL_FLAGS = 0x0000_0000_0000_0002;
/// `POOL_FLAG_SESSION`.
pub const POOL_FLAG_SESSION: POOL_FLAGS = 0x0000_0000_0000_0004;
/// `POOL_FLAG_CACHE_ALIGNED`.
pub const POOL_FLAG_CACHE_ALIGNED: POOL_FLAGS = 0x0000_0000_0000_0008;
/// `POOL_FLAG_RAISE_ON_FAILURE`.
pub const POOL_FLAG_RAISE_ON_FAILURE: POOL_FLAGS = 0x0000_0000_0000_0020;
/// `POOL_FLAG_NON_PAGED`: non-paged, non-executable.
pub const POOL_FLAG_NON_PAGED: POOL_FLAGS = 0x0000_0000_0000_0040;
/// `POOL_FLAG_NON_PAGED_EXECUTE`.
pub const POOL_FLAG_NON_PAGED_EXECUTE: POOL_FLAGS = 0x0000_0000_0000_0080;
/// `POOL_FLAG_PAGED`.
pub const POOL_FLAG_PAGED: POOL_FLAGS = 0x0000_0000_0000_0100;
