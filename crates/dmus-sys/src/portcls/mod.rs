//! PortCls (portcls.h): interfaces, descriptor tables and GUIDs.

pub mod descriptors;
pub mod guids;
pub mod interfaces;

pub use descriptors::*;
pub use guids::*;
pub use interfaces::*;
