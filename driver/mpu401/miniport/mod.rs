//! The MPU-401 miniport COM object (`IMiniportDMus` and `IPowerNotify`), by job:
//!
//! - [`object`]: the object itself: its state, its constructor, its teardown.
//! - [`miniport_dmus`]: the `IMiniport` and `IMiniportDMus` methods (description, data
//!   ranges, Service), which hand Init and NewStream to their own modules.
//! - [`init`]: `Init`: the card into UART mode, the service group, the port.
//! - [`interrupt`]: connecting the card's interrupt, and the ISR.
//! - [`new_stream`]: `NewStream`: which pin gets which stream, as many as each allows.
//! - [`pins`]: streams per pin and their ids, the wire the render streams share, the
//!   capture streams that all get the input.
//! - [`power`]: `IPowerNotify`: the card back into UART mode after power-up.
//!
//! Life: the subdevice seam creates it ([`new_miniport`]); PortCls calls `Init` once
//! (PASSIVE_LEVEL) with the adapter's resources, which brings the card into UART mode
//! *before* the interrupt is connected (mpu401's rule), then creates the service group
//! and, when the list has an IRQ, an `IInterruptSync` with the ISR as its first routine.
//! Without an IRQ the capture stream polls the card from a timer instead. Streams hold a
//! reference to the miniport, so it outlives them.

pub mod init;
pub mod interrupt;
pub mod miniport_dmus;
pub mod new_stream;
pub mod object;
pub mod pins;
pub mod power;

pub(crate) use object::Setup;
pub use object::{ISR_MAX_READS, Miniport, new_miniport};
