//! PortCls interface ids (portcls.h `DEFINE_GUID` lines; each pinned in tests/guids.rs against
//! its fields as written there).

use crate::guid::GUID;

/// `IID_IPort` (portcls.h).
pub const IID_IPort: GUID = GUID::parse("b4c90a25-5791-11d0-86f9-00a0c911b544");
/// `IID_IMiniport` (portcls.h).
pub const IID_IMiniport: GUID = GUID::parse("b4c90a24-5791-11d0-86f9-00a0c911b544");
/// `IID_IResourceList` (portcls.h).
pub const IID_IResourceList: GUID = GUID::parse("22c6ac60-851b-11d0-9a7f-00aa0038acfe");
/// `IID_IServiceSink` (portcls.h).
pub const IID_IServiceSink: GUID = GUID::parse("22c6ac64-851b-11d0-9a7f-00aa0038acfe");
/// `IID_IServiceGroup` (portcls.h).
pub const IID_IServiceGroup: GUID = GUID::parse("22c6ac65-851b-11d0-9a7f-00aa0038acfe");
/// `IID_IInterruptSync` (portcls.h).
pub const IID_IInterruptSync: GUID = GUID::parse("22c6ac63-851b-11d0-9a7f-00aa0038acfe");
/// `IID_IRegistryKey` (portcls.h).
pub const IID_IRegistryKey: GUID = GUID::parse("e8da4302-f304-11d0-958b-00c04fb925d3");
/// `IID_IAdapterPowerManagement` (portcls.h).
pub const IID_IAdapterPowerManagement: GUID = GUID::parse("793417d0-35fe-11d1-ad08-00a0c90ab1b0");
/// `IID_IPowerNotify` (portcls.h).
pub const IID_IPowerNotify: GUID = GUID::parse("3dd648b8-969f-11d1-95a9-00c04fb925d3");
