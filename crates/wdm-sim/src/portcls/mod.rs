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
//! Layout: [`state`] is plain data; [`event_memory`] is the allocator's tracked memory;
//! [`descriptor`] reads the miniport's static tables; the object modules ([`adapter`],
//! [`port`], [`allocator`], [`service`], [`resource_list`], `pin_objects`) are the COM glue;
//! [`pin`] opens, walks and closes pins; [`render`] and [`capture`] are the data paths;
//! [`property`] routes property requests, answering KS's own pin and topology properties from
//! the descriptor first (`ks_filter`, with [`media_categories`] standing in for the registry's
//! `MediaCategories` names); [`api`] is what tests call.
//!
//! A test's life with the model (see `tests/lifecycle.rs` and `tests/port_model.rs`):
//!
//! ```text
//! let machine = Machine::new(MachineConfig::default());
//! let driver = Driver::load(Some(rdmus_driver::DriverEntry))?;      // DriverEntry
//! let device = driver.add_device()?;                           // AddDevice
//! device.start(&Resources::of_machine())?;                     // StartDevice (0x330, IRQ 9)
//! let pin = device.filter("UART").unwrap().open_pin(0, PinFormat::Midi)?;
//! pin.set_state(KSSTATE_RUN)?;                                 // STOP→ACQUIRE→PAUSE→RUN
//! pin.write(0, &ksmusicformat_records)?;                       // one render IRP
//! machine.run_for(ms(100));                                    // timers, DPCs, the wire
//! pin.set_state(KSSTATE_STOP)?; pin.close();
//! device.stop(); device.remove(); driver.unload();             // unload checks run
//! assert_eq!(machine.findings(), []);                          // and machine.wire_log()
//! ```

pub mod adapter;
pub mod allocator;
pub mod api;
pub mod capture;
pub mod descriptor;
pub mod event_memory;
mod irp;
mod ks_filter;
pub mod media_categories;
mod objects;
pub mod pin;
mod pin_objects;
pub mod port;
pub mod power;
pub mod property;
pub mod render;
pub mod resource_list;
pub mod service;
#[cfg(test)]
mod signatures;
pub mod state;
#[cfg(test)]
mod tests;
pub mod wave_sink;

pub use api::{Device, Driver, Filter, Pin, Resources};
pub use capture::{CaptureRead, ReadError};
pub use event_memory::PoolSize;
pub use pin::{OpenError, StateError};
pub use pin_objects::IID_ISIM_PIN;
pub use power::PowerError;
pub use property::{PropertyResult, PropertyTarget};
pub use render::{WriteError, WriteReport};
pub use state::{AdapterRegistration, PinFormat, PortClsState};
pub use wave_sink::{
    PullError, WaveSink, WaveSinkConfig, dls_download, dls_download_at, dls_unload,
};
