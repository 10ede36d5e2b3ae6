//! rdmus.sys: a WDM DirectMusic miniport driver (an MPU-401 UART port and a DLS synth).
#![no_std]

// Host builds (the rlib that tests/ run against wdm-sim, and the host cdylib
// cargo also emits) take their panic runtime from std. Nothing in the driver
// names std; on Windows targets the driver has its own panic handler.
#[cfg(not(target_os = "windows"))]
extern crate std;
