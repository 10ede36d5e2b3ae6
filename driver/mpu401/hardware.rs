//! The card's registers over the kernel's port I/O, and the init delay.
//!
//! [`CardIo`] implements mpu401's port traits with `READ_PORT_UCHAR` /
//! `WRITE_PORT_UCHAR` on base+0 (data) and base+1 (status/command), through
//! the driver's `arch` module (the simulated bus on the host).

use dmus_sys::imports::KeStallExecutionProcessor;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_DEVICE_DOES_NOT_EXIST,
    STATUS_DEVICE_NOT_READY, STATUS_IO_DEVICE_ERROR,
};
use mpu401::{ControlPort, DataPort, Delay, InitError, Status};

use crate::resources::PortRange;

/// The MPU-401's two I/O ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CardIo {
    base: usize,
}

impl CardIo {
    /// The card at `range`, which must be an I/O-space range of at least two ports.
    ///
    /// # Errors
    /// `STATUS_DEVICE_CONFIGURATION_ERROR` for a range that is too short, not in
    /// I/O space (a memory-mapped range would need `MmMapIoSpace`, which rdmus
    /// does not import), or out of the 16-bit port space.
    pub fn for_range(range: &PortRange) -> Result<Self, NTSTATUS> {
        let in_port_space = range
            .start
            .checked_add(1)
            .is_some_and(|last| last <= 0xFFFF);
        if range.length < 2 || range.memory_mapped || !in_port_space {
            return Err(STATUS_DEVICE_CONFIGURATION_ERROR);
        }
        usize::try_from(range.start)
            .map(|base| Self { base })
            .map_err(|_| STATUS_DEVICE_CONFIGURATION_ERROR)
    }

    /// The base port (for the device's description).
    #[must_use]
    pub const fn base(self) -> usize {
        self.base
    }

    /// The port as the DDK's `PUCHAR` (a number, never dereferenced as memory on x86/x64).
    fn port(&self, offset: usize) -> *mut u8 {
        core::ptr::without_provenance_mut(self.base + offset)
    }
}

impl DataPort for CardIo {
    fn read_data(&mut self) -> u8 {
        // SAFETY: base+0 is the card's data port from the adapter's resource
        // list, owned by this driver. Any IRQL.
        unsafe { crate::arch::read_port_u8(self.port(0)) }
    }

    fn write_data(&mut self, byte: u8) {
        // SAFETY: as in read_data. Any IRQL.
        unsafe { crate::arch::write_port_u8(self.port(0), byte) }
    }
}

impl ControlPort for CardIo {
    fn read_status(&mut self) -> Status {
        // SAFETY: base+1 is the card's status port from the resource list. Any IRQL.
        Status(unsafe { crate::arch::read_port_u8(self.port(1)) })
    }

    fn write_command(&mut self, command: u8) {
        // SAFETY: base+1 is the card's command port from the resource list. Any IRQL.
        unsafe { crate::arch::write_port_u8(self.port(1), command) }
    }
}

/// Waits between init polls with `KeStallExecutionProcessor`. Init runs at
/// PASSIVE_LEVEL from StartDevice with a budget of 90 ms at worst (a silent
/// card), a few hundred µs for a working one.
pub struct StallDelay;

impl Delay for StallDelay {
    fn delay_us(&mut self, microseconds: u32) {
        // SAFETY: KeStallExecutionProcessor may be called at any IRQL; init
        // runs at PASSIVE_LEVEL with short stalls (100 µs per poll).
        unsafe { KeStallExecutionProcessor(microseconds) };
    }
}

/// The status StartDevice fails with when the card cannot be brought up.
#[must_use]
pub const fn init_status(error: InitError) -> NTSTATUS {
    match error {
        // Nothing answers at the address PnP gave: no card there.
        InitError::Absent => STATUS_DEVICE_DOES_NOT_EXIST,
        // A card answers but its output never drains.
        InitError::Timeout { .. } => STATUS_IO_DEVICE_ERROR,
        // A card took the UART command but never acknowledged it.
        InitError::NoAck { .. } => STATUS_DEVICE_NOT_READY,
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{
        STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_DEVICE_DOES_NOT_EXIST, STATUS_DEVICE_NOT_READY,
        STATUS_IO_DEVICE_ERROR,
    };
    use mpu401::{InitError, InitStage};

    use super::{CardIo, init_status};
    use crate::resources::PortRange;

    #[test]
    fn only_an_io_range_of_two_ports_is_a_card() {
        let range = |start, length, memory_mapped| PortRange {
            start,
            length,
            memory_mapped,
        };
        assert_eq!(
            CardIo::for_range(&range(0x330, 2, false)).map(CardIo::base),
            Ok(0x330)
        );
        for bad in [
            range(0x330, 1, false),
            range(0xFE00_0000, 2, true),
            range(0xFFFF, 2, false),
        ] {
            assert_eq!(
                CardIo::for_range(&bad),
                Err(STATUS_DEVICE_CONFIGURATION_ERROR)
            );
        }
    }

    #[test]
    fn each_init_failure_has_its_own_status() {
        assert_eq!(init_status(InitError::Absent), STATUS_DEVICE_DOES_NOT_EXIST);
        let stuck = InitError::Timeout {
            stage: InitStage::Reset,
            last_status: 0xC0,
        };
        assert_eq!(init_status(stuck), STATUS_IO_DEVICE_ERROR);
        let silent = InitError::NoAck {
            stage: InitStage::EnterUart,
            other_bytes: 0,
            last_byte: None,
        };
        assert_eq!(init_status(silent), STATUS_DEVICE_NOT_READY);
    }
}
