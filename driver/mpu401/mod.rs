//! The MPU-401 UART DirectMusic miniport.
//!
//! - [`miniport`]: the `IMiniportDMus` object (Init from the resource list,
//!   hardware init, interrupt, NewStream, Service).
//! - [`descriptor`]: the filter the port publishes (pins, nodes, connections).
//! - [`properties`]: the `KSPROPSETID_Synth` handlers.
//! - [`render`]: the render stream, whose timer drives `mpu401`'s render engine.
//! - [`capture`]: the capture stream, fed by the ISR's timestamped ring.
//! - [`hardware`]: the card's ports and the init delay over the kernel.

pub mod capture;
pub mod descriptor;
pub mod hardware;
pub mod miniport;
pub mod properties;
pub mod render;
pub(crate) mod time;

pub use miniport::new_miniport;
pub(crate) use time::{qpc_100ns, stream_report};
