//! Reading a miniport's filter descriptor (`PCFILTER_DESCRIPTOR`, static tables the miniport
//! owns) into plain values, with every count and pointer checked before use.

use alloc::vec::Vec;
use core::mem::size_of;

use dmus_sys::guid::GUID;
use dmus_sys::ks::{KSDATARANGE, KSPIN_COMMUNICATION, KSPIN_DATAFLOW, PKSDATARANGE};
use dmus_sys::portcls::{
    PCAUTOMATION_TABLE, PCFILTER_DESCRIPTOR, PCNODE_DESCRIPTOR, PCPFNPROPERTY_HANDLER,
    PCPIN_DESCRIPTOR, PCPROPERTY_ITEM,
};

/// The most pins, ranges or properties the port reads from one table (a sanity bound: a
/// descriptor claiming more is treated as corrupt).
const MAX_ITEMS: u32 = 256;

/// Why a descriptor could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DescriptorError {
    /// No such pin factory.
    NoSuchPin,
    /// A count beyond 256 (the most the port reads from one table), a NULL table with a non-zero count, or an item size
    /// smaller than the structure.
    Corrupt,
}

/// The largest data range the port copies out for `KSPROPERTY_PIN_DATARANGES` (a sanity
/// bound: a range claiming more is treated as corrupt).
const MAX_RANGE_SIZE: u32 = 4096;

/// One pin factory, as the port uses it.
#[derive(Clone, Debug)]
pub struct PinFactory {
    /// How many pins of this factory may be open at once: the lower of
    /// `MaxFilterInstanceCount` and `MaxGlobalInstanceCount` (the port has one filter, so
    /// every pin of the factory counts against both).
    pub max_instances: u32,
    /// `MaxFilterInstanceCount` (what `KSPROPERTY_PIN_CINSTANCES` answers as possible).
    pub max_filter_instances: u32,
    /// `MaxGlobalInstanceCount`.
    pub max_global_instances: u32,
    /// `MinFilterInstanceCount` (what `KSPROPERTY_PIN_NECESSARYINSTANCES` answers).
    pub min_instances: u32,
    /// `KSPIN_DATAFLOW_IN` (render) or `_OUT` (capture).
    pub data_flow: KSPIN_DATAFLOW,
    /// `KSPIN_COMMUNICATION_*`.
    pub communication: KSPIN_COMMUNICATION,
    /// The pin's category (`None`: NULL in the descriptor).
    pub category: Option<GUID>,
    /// The pin's name GUID (`None`: NULL in the descriptor).
    pub name: Option<GUID>,
    /// The data ranges: each range's value and its address (for `DataRangeIntersection`).
    pub ranges: Vec<(KSDATARANGE, PKSDATARANGE)>,
    /// Each range's bytes, `FormatSize` of them (the header and what follows it), as
    /// `KSPROPERTY_PIN_DATARANGES` hands them out.
    pub range_bytes: Vec<Vec<u8>>,
    /// The pin's automation table (NULL: none).
    pub automation: *const PCAUTOMATION_TABLE,
}

/// One property item.
#[derive(Clone, Copy, Debug)]
pub struct PropertyItem {
    /// Its property set.
    pub set: GUID,
    /// Its id.
    pub id: u32,
    /// `PCPROPERTY_ITEM_FLAG_*`.
    pub flags: u32,
    /// The handler.
    pub handler: PCPFNPROPERTY_HANDLER,
    /// The item's address (the request points at it).
    pub address: *const PCPROPERTY_ITEM,
}

/// Reads the filter descriptor.
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
unsafe fn filter(descriptor: usize) -> PCFILTER_DESCRIPTOR {
    // SAFETY: the caller's contract.
    unsafe { (descriptor as *const PCFILTER_DESCRIPTOR).read_unaligned() }
}

/// The number of pin factories.
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
#[must_use]
pub unsafe fn pin_count(descriptor: usize) -> u32 {
    // SAFETY: the caller's contract.
    unsafe { filter(descriptor) }.PinCount
}

/// Reads pin factory `pin`.
///
/// # Errors
/// [`DescriptorError`].
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
pub unsafe fn pin_factory(descriptor: usize, pin: u32) -> Result<PinFactory, DescriptorError> {
    // SAFETY: the caller's contract.
    let filter = unsafe { filter(descriptor) };
    if pin >= filter.PinCount {
        return Err(DescriptorError::NoSuchPin);
    }
    let size = usize::try_from(filter.PinSize).map_err(|_| DescriptorError::Corrupt)?;
    if filter.Pins.is_null() || filter.PinCount > MAX_ITEMS || size < size_of::<PCPIN_DESCRIPTOR>()
    {
        return Err(DescriptorError::Corrupt);
    }
    let at = filter
        .Pins
        .wrapping_byte_add(size * usize::try_from(pin).map_err(|_| DescriptorError::Corrupt)?);
    // SAFETY: pin < PinCount entries of PinSize bytes in the miniport's static table.
    let descriptor = unsafe { at.read_unaligned() };
    let ks = descriptor.KsPinDescriptor;
    let count = ks.DataRangesCount;
    if count > MAX_ITEMS || (count > 0 && ks.DataRanges.is_null()) {
        return Err(DescriptorError::Corrupt);
    }
    let mut ranges = Vec::new();
    let mut range_bytes = Vec::new();
    for index in 0..usize::try_from(count).map_err(|_| DescriptorError::Corrupt)? {
        // SAFETY: DataRanges holds DataRangesCount pointers (ks.h).
        let range = unsafe { ks.DataRanges.wrapping_add(index).read_unaligned() };
        if range.is_null() {
            return Err(DescriptorError::Corrupt);
        }
        // SAFETY: each points to a KSDATARANGE (or a larger structure starting with one).
        let value = unsafe { range.read_unaligned() };
        if value.FormatSize > MAX_RANGE_SIZE
            || (value.FormatSize as usize) < size_of::<KSDATARANGE>()
        {
            return Err(DescriptorError::Corrupt);
        }
        // SAFETY: a range is FormatSize bytes (ks.h: the header's size includes what follows
        // it), checked above to be at least the header and within the bound.
        let bytes =
            unsafe { core::slice::from_raw_parts(range.cast::<u8>(), value.FormatSize as usize) };
        range_bytes.push(bytes.to_vec());
        ranges.push((value, range));
    }
    // SAFETY: non-null GUID pointers of the miniport's static tables.
    let read_guid = |at: *const GUID| (!at.is_null()).then(|| unsafe { at.read_unaligned() });
    Ok(PinFactory {
        max_instances: descriptor
            .MaxFilterInstanceCount
            .min(descriptor.MaxGlobalInstanceCount),
        max_filter_instances: descriptor.MaxFilterInstanceCount,
        max_global_instances: descriptor.MaxGlobalInstanceCount,
        min_instances: descriptor.MinFilterInstanceCount,
        data_flow: ks.DataFlow,
        communication: ks.Communication,
        category: read_guid(ks.Category),
        name: read_guid(ks.Name),
        ranges,
        range_bytes,
        automation: descriptor.AutomationTable,
    })
}

/// The filter's categories (`PCFILTER_DESCRIPTOR.Categories`, what `PortCls` registers an
/// interface for and `KSPROPERTY_TOPOLOGY_CATEGORIES` answers).
///
/// # Errors
/// [`DescriptorError::Corrupt`].
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
pub unsafe fn categories(descriptor: usize) -> Result<Vec<GUID>, DescriptorError> {
    // SAFETY: the caller's contract.
    let filter = unsafe { filter(descriptor) };
    if filter.CategoryCount > MAX_ITEMS || (filter.CategoryCount > 0 && filter.Categories.is_null())
    {
        return Err(DescriptorError::Corrupt);
    }
    Ok((0..filter.CategoryCount as usize)
        // SAFETY: CategoryCount GUIDs (portcls.h).
        .map(|index| unsafe { filter.Categories.wrapping_add(index).read_unaligned() })
        .collect())
}

/// The type GUID of each topology node (`KSPROPERTY_TOPOLOGY_NODES`).
///
/// # Errors
/// [`DescriptorError::Corrupt`] (a node without a type, too, as KS requires one).
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
pub unsafe fn node_types(descriptor: usize) -> Result<Vec<GUID>, DescriptorError> {
    // SAFETY: the caller's contract.
    let filter = unsafe { filter(descriptor) };
    if filter.NodeCount == 0 {
        return Ok(Vec::new());
    }
    let size = usize::try_from(filter.NodeSize).map_err(|_| DescriptorError::Corrupt)?;
    if filter.Nodes.is_null()
        || filter.NodeCount > MAX_ITEMS
        || size < size_of::<PCNODE_DESCRIPTOR>()
    {
        return Err(DescriptorError::Corrupt);
    }
    let mut types = Vec::new();
    for index in 0..filter.NodeCount as usize {
        // SAFETY: NodeCount entries of NodeSize bytes in the miniport's static table.
        let node = unsafe {
            filter
                .Nodes
                .wrapping_byte_add(size * index)
                .read_unaligned()
        };
        if node.Type.is_null() {
            return Err(DescriptorError::Corrupt);
        }
        // SAFETY: a non-null type GUID of the static table.
        types.push(unsafe { node.Type.read_unaligned() });
    }
    Ok(types)
}

/// The connections (`KSPROPERTY_TOPOLOGY_CONNECTIONS`): from node, from pin, to node, to pin
/// (`PCFILTER_NODE` = `KSFILTER_NODE` for the filter's own pins).
///
/// # Errors
/// [`DescriptorError::Corrupt`].
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
pub unsafe fn connections(descriptor: usize) -> Result<Vec<[u32; 4]>, DescriptorError> {
    // SAFETY: the caller's contract.
    let filter = unsafe { filter(descriptor) };
    if filter.ConnectionCount > MAX_ITEMS
        || (filter.ConnectionCount > 0 && filter.Connections.is_null())
    {
        return Err(DescriptorError::Corrupt);
    }
    Ok((0..filter.ConnectionCount as usize)
        .map(|index| {
            // SAFETY: ConnectionCount entries (portcls.h).
            let edge = unsafe { filter.Connections.wrapping_add(index).read_unaligned() };
            [edge.FromNode, edge.FromNodePin, edge.ToNode, edge.ToNodePin]
        })
        .collect())
}

/// The filter's automation table (NULL: none).
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
#[must_use]
pub unsafe fn filter_automation(descriptor: usize) -> *const PCAUTOMATION_TABLE {
    // SAFETY: the caller's contract.
    unsafe { filter(descriptor) }.AutomationTable
}

/// The automation table of topology node `node` (NULL: none).
///
/// # Errors
/// [`DescriptorError::NoSuchPin`] for a node beyond `NodeCount` (the same refusal as a pin),
/// [`DescriptorError::Corrupt`] for a table that cannot be read.
///
/// # Safety
/// `descriptor` is the non-null descriptor a live miniport returned from `GetDescription`;
/// its tables live as long as the miniport.
pub unsafe fn node_automation(
    descriptor: usize,
    node: u32,
) -> Result<*const PCAUTOMATION_TABLE, DescriptorError> {
    // SAFETY: the caller's contract.
    let filter = unsafe { filter(descriptor) };
    if node >= filter.NodeCount {
        return Err(DescriptorError::NoSuchPin);
    }
    let size = usize::try_from(filter.NodeSize).map_err(|_| DescriptorError::Corrupt)?;
    if filter.Nodes.is_null()
        || filter.NodeCount > MAX_ITEMS
        || size < size_of::<PCNODE_DESCRIPTOR>()
    {
        return Err(DescriptorError::Corrupt);
    }
    let index = usize::try_from(node).map_err(|_| DescriptorError::Corrupt)?;
    let at = filter.Nodes.wrapping_byte_add(size * index);
    // SAFETY: node < NodeCount entries of NodeSize bytes in the miniport's static table.
    Ok(unsafe { at.read_unaligned() }.AutomationTable)
}

/// The property items of an automation table.
///
/// # Errors
/// [`DescriptorError::Corrupt`].
///
/// # Safety
/// `table` is NULL or an automation table of a live miniport.
pub unsafe fn properties(
    table: *const PCAUTOMATION_TABLE,
) -> Result<Vec<PropertyItem>, DescriptorError> {
    if table.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: the caller's contract.
    let table = unsafe { table.read_unaligned() };
    let size = usize::try_from(table.PropertyItemSize).map_err(|_| DescriptorError::Corrupt)?;
    if table.PropertyCount == 0 {
        return Ok(Vec::new());
    }
    if table.PropertyCount > MAX_ITEMS
        || table.Properties.is_null()
        || size < size_of::<PCPROPERTY_ITEM>()
    {
        return Err(DescriptorError::Corrupt);
    }
    let mut items = Vec::new();
    for index in 0..usize::try_from(table.PropertyCount).map_err(|_| DescriptorError::Corrupt)? {
        let at = table.Properties.wrapping_byte_add(size * index);
        // SAFETY: PropertyCount items of PropertyItemSize bytes (portcls.h).
        let item = unsafe { at.read_unaligned() };
        if item.Set.is_null() {
            return Err(DescriptorError::Corrupt);
        }
        items.push(PropertyItem {
            // SAFETY: a non-null set GUID pointer in a static table.
            set: unsafe { item.Set.read_unaligned() },
            id: item.Id,
            flags: item.Flags,
            handler: item.Handler,
            address: at,
        });
    }
    Ok(items)
}
