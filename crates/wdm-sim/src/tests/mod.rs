//! Tests of the whole kernel half through the exported functions, as the driver calls them.

pub(crate) mod support;

mod dpc_timer;
mod fatal;
mod interrupt;
mod livelock;
mod lookaside;
mod machine;
mod mm;
mod pool;
mod properties;
mod second_processor;
mod sync;
mod system_routines;
mod work;
