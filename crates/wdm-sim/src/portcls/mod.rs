//! The `PortCls` model: the adapter driver's view of portcls.sys and a `DMus` port.
//!
//! D1's kernel half provides the seams: [`MachineState`](crate::MachineState) owns this state
//! as its `portcls` field; `schedule_host` runs port callbacks at virtual times; the COM
//! registry counts every object the sim hands out; the `report_*` methods record the port's
//! verifier findings. This half (helper D2) defines every portcls.sys export except
//! `PcNewInterruptSync` and `PcGetTimeInterval`, the COM objects they hand out (port,
//! allocator, master clock, service groups, resource lists, capture sinks), the render and
//! capture paths over `mxf`, and the test-facing API ([`api`]).
//!
//! Layout: [`state`] is plain data; [`event_memory`] is the allocator's tracked memory (the
//! one module that touches event memory); the object modules are the COM glue; [`api`] is what
//! tests call.

pub mod adapter;
pub mod allocator;
pub mod api;
pub mod descriptor;
pub mod event_memory;
mod irp;
mod objects;
pub mod pin;
mod pin_objects;
pub mod port;
pub mod property;
pub mod render;
pub mod resource_list;
pub mod service;
#[cfg(test)]
mod signatures;
pub mod state;
#[cfg(test)]
mod tests;

pub use api::{Device, Driver, Filter, Pin, Resources};
pub use event_memory::PoolSize;
pub use pin::{OpenError, StateError};
pub use pin_objects::IID_ISIM_PIN;
pub use property::{PropertyResult, PropertyTarget};
pub use render::{CaptureRead, ReadError, WriteError, WriteReport};
pub use state::PinFormat;
pub use state::{AdapterRegistration, PortClsState};
