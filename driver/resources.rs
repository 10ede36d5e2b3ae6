//! What PnP gave the adapter, read from PortCls' `IResourceList`.
//!
//! The list is read once in StartDevice into [`AdapterResources`]: plain
//! values the rest of the driver (and the tests) use without touching COM.

use dmus_sys::kernel::{
    CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_RESOURCE_PORT_IO, CmResourceTypeInterrupt,
    CmResourceTypePort,
};
use dmus_sys::portcls::PRESOURCELIST;

/// An I/O range the adapter was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    /// The first port (I/O space) or the physical address (memory-mapped).
    pub start: u64,
    /// Its length in bytes.
    pub length: u32,
    /// `true` when the port sits in memory space (`CM_RESOURCE_PORT_MEMORY`;
    /// always so on ARM64, which has no I/O space): it must be mapped first.
    pub memory_mapped: bool,
}

/// An interrupt the adapter was given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterruptLine {
    /// Translated IRQL.
    pub level: u32,
    /// Translated vector.
    pub vector: u32,
}

/// The adapter's resources, as far as rdmus uses them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdapterResources {
    /// Number of descriptors in the list (of any type).
    pub entries: u32,
    /// The first port range, if any (the MPU-401's data/status ports).
    pub port: Option<PortRange>,
    /// The first interrupt, if any (the MPU-401's IRQ).
    pub interrupt: Option<InterruptLine>,
}

impl AdapterResources {
    /// Collects resources from translated descriptors, keeping the first of each kind.
    #[must_use]
    pub fn from_descriptors<'a>(
        entries: u32,
        descriptors: impl IntoIterator<Item = &'a CM_PARTIAL_RESOURCE_DESCRIPTOR>,
    ) -> Self {
        let mut resources = Self {
            entries,
            ..Self::default()
        };
        for descriptor in descriptors {
            let kind = descriptor.Type;
            if kind == CmResourceTypePort && resources.port.is_none() {
                // SAFETY: for CmResourceTypePort, `u.Port` is the active member
                // (wdm.h); it is plain integers, valid for any bits. Pure data, any IRQL.
                let range = unsafe { descriptor.u.Port };
                let flags = descriptor.Flags;
                resources.port = Some(PortRange {
                    // SAFETY: LARGE_INTEGER's members are plain integers over all
                    // 8 bytes. Pure data, any IRQL.
                    start: u64::from_ne_bytes(unsafe { range.Start.QuadPart }.to_ne_bytes()),
                    length: range.Length,
                    memory_mapped: flags & CM_RESOURCE_PORT_IO == 0,
                });
            } else if kind == CmResourceTypeInterrupt && resources.interrupt.is_none() {
                // SAFETY: for CmResourceTypeInterrupt, `u.Interrupt` is the active
                // member (wdm.h); plain integers. Pure data, any IRQL.
                let interrupt = unsafe { descriptor.u.Interrupt };
                resources.interrupt = Some(InterruptLine {
                    level: interrupt.Level,
                    vector: interrupt.Vector,
                });
            }
        }
        resources
    }

    /// Reads the translated resources of PortCls' list.
    ///
    /// # Safety
    /// `list` is the live `IResourceList` StartDevice was given (PASSIVE_LEVEL).
    #[must_use]
    pub unsafe fn read(list: PRESOURCELIST) -> Self {
        if list.is_null() {
            return Self::default();
        }
        // SAFETY: the caller passes PortCls' live list, valid for the whole
        // StartDevice call. PASSIVE_LEVEL.
        let vtable = unsafe { crate::com::vtable(list) };
        // SAFETY: NumberOfEntries reads the list; no preconditions. PASSIVE_LEVEL.
        let entries = unsafe { (vtable.NumberOfEntries)(list) };
        let mut port = None;
        let mut interrupt = None;
        // SAFETY: FindTranslatedEntry returns null or a descriptor inside the
        // list, valid while the list is. PASSIVE_LEVEL.
        let first_port =
            unsafe { (vtable.FindTranslatedEntry)(list, i32::from(CmResourceTypePort), 0) };
        if !first_port.is_null() {
            // SAFETY: non-null descriptors from FindTranslatedEntry are valid reads.
            port = Some(unsafe { first_port.read_unaligned() });
        }
        // SAFETY: as above. PASSIVE_LEVEL.
        let first_interrupt =
            unsafe { (vtable.FindTranslatedEntry)(list, i32::from(CmResourceTypeInterrupt), 0) };
        if !first_interrupt.is_null() {
            // SAFETY: non-null descriptors from FindTranslatedEntry are valid reads.
            interrupt = Some(unsafe { first_interrupt.read_unaligned() });
        }
        Self::from_descriptors(entries, port.iter().chain(interrupt.iter()))
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::kernel::{
        CM_PARTIAL_RESOURCE_DESCRIPTOR, CM_PARTIAL_RESOURCE_DESCRIPTOR_U,
        CM_PARTIAL_RESOURCE_INTERRUPT, CM_PARTIAL_RESOURCE_RANGE, CM_RESOURCE_PORT_IO,
        CM_RESOURCE_PORT_MEMORY, CmResourceTypeInterrupt, CmResourceTypePort, LARGE_INTEGER,
    };

    use super::{AdapterResources, InterruptLine, PortRange};

    fn port(start: i64, length: u32, flags: u16) -> CM_PARTIAL_RESOURCE_DESCRIPTOR {
        CM_PARTIAL_RESOURCE_DESCRIPTOR {
            Type: CmResourceTypePort,
            ShareDisposition: 1,
            Flags: flags,
            u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                Port: CM_PARTIAL_RESOURCE_RANGE {
                    Start: LARGE_INTEGER::from_quad(start),
                    Length: length,
                },
            },
        }
    }

    fn interrupt(level: u32, vector: u32) -> CM_PARTIAL_RESOURCE_DESCRIPTOR {
        CM_PARTIAL_RESOURCE_DESCRIPTOR {
            Type: CmResourceTypeInterrupt,
            ShareDisposition: 1,
            Flags: 1,
            u: CM_PARTIAL_RESOURCE_DESCRIPTOR_U {
                Interrupt: CM_PARTIAL_RESOURCE_INTERRUPT {
                    Level: level,
                    Vector: vector,
                    Affinity: 1,
                },
            },
        }
    }

    #[test]
    fn an_mpu401_card_has_ports_and_an_irq() {
        let list = [port(0x330, 2, CM_RESOURCE_PORT_IO), interrupt(9, 0x39)];
        let resources = AdapterResources::from_descriptors(2, list.iter());
        assert_eq!(resources.entries, 2);
        assert_eq!(
            resources.port,
            Some(PortRange {
                start: 0x330,
                length: 2,
                memory_mapped: false
            })
        );
        assert_eq!(
            resources.interrupt,
            Some(InterruptLine {
                level: 9,
                vector: 0x39
            })
        );
    }

    #[test]
    fn the_first_of_each_kind_wins_and_memory_ports_are_flagged() {
        let list = [
            port(0xfe00_0000, 2, CM_RESOURCE_PORT_MEMORY),
            port(0x300, 2, CM_RESOURCE_PORT_IO),
            interrupt(5, 0x35),
            interrupt(9, 0x39),
        ];
        let resources = AdapterResources::from_descriptors(4, list.iter());
        assert_eq!(
            resources.port,
            Some(PortRange {
                start: 0xfe00_0000,
                length: 2,
                memory_mapped: true
            })
        );
        assert_eq!(
            resources.interrupt,
            Some(InterruptLine {
                level: 5,
                vector: 0x35
            })
        );
    }

    #[test]
    fn a_root_enumerated_device_has_nothing() {
        let resources = AdapterResources::from_descriptors(0, []);
        assert_eq!(resources, AdapterResources::default());
    }
}
