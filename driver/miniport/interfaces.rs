//! The DMus interfaces the miniports call through, made known to
//! [`crate::com::vtable`].

use dmus_sys::dmus_com::{
    IAllocatorMXF, IAllocatorMXFVtbl, IMXF, IMXFVtbl, IMasterClock, IMasterClockVtbl, IPortDMus,
    IPortDMusVtbl,
};
use dmus_sys::portcls::{
    IInterruptSync, IInterruptSyncVtbl, IPowerNotify, IPowerNotifyVtbl, IServiceGroup,
    IServiceGroupVtbl,
};

use crate::com::Interface;

// SAFETY: dmus-sys declares each as `#[repr(C)] struct { lpVtbl: *const Vtbl }`
// (its `interface!` macro, layouts pinned there).
unsafe impl Interface for IMasterClock {
    type Vtbl = IMasterClockVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IAllocatorMXF {
    type Vtbl = IAllocatorMXFVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IMXF {
    type Vtbl = IMXFVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IPortDMus {
    type Vtbl = IPortDMusVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IServiceGroup {
    type Vtbl = IServiceGroupVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IInterruptSync {
    type Vtbl = IInterruptSyncVtbl;
}
// SAFETY: as above.
unsafe impl Interface for IPowerNotify {
    type Vtbl = IPowerNotifyVtbl;
}
