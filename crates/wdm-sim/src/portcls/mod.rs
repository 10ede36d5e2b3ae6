//! The `PortCls` model's state: the adapter driver as `PortCls` knows it.
//!
//! Owned by helper D2, who extends it with the `DMus` port, its allocator, master clock,
//! sequencer, pins, streams and the test-facing driver API. D1's kernel half provides the seams
//! it builds on: [`MachineState`](crate::MachineState) owns this state as its `portcls` field;
//! `MachineState::schedule_host` runs port-model callbacks at virtual times (at `DISPATCH_LEVEL`
//! or `PASSIVE_LEVEL`); `register_com` / `com_add_ref` / `com_release` count the COM objects the
//! port hands out; `report_event_returned_twice`, `report_event_used_after_return`,
//! `report_ks_state` and `report_port_contract` record the port's verifier findings.
//! `translated_interrupt` (crate root) gives the resource list's interrupt descriptor.
//!
//! The kernel half defines `PcNewInterruptSync` and `PcGetTimeInterval`; every other portcls.sys
//! export is the port model's.

/// An adapter driver's registration with `PortCls` (`PcInitializeAdapterDriver`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AdapterRegistration {
    /// The `DRIVER_OBJECT`'s address.
    pub driver_object: usize,
    /// The driver's `AddDevice` routine, as passed to `PortCls` (`PDRIVER_ADD_DEVICE`).
    pub add_device: usize,
}

/// What `PortCls` knows. D2 extends this.
#[derive(Debug, Default)]
pub struct PortClsState {
    /// Adapter drivers registered with `PcInitializeAdapterDriver`.
    pub adapters: alloc::vec::Vec<AdapterRegistration>,
}
