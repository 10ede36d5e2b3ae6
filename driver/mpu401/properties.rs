//! `KSPROPSETID_Synth` on the MPU-401's synthesizer nodes.
//!
//! What each property answers (dmusprop.h docs; the dmusuart sample answers
//! the same set):
//! - `CAPS` (GET): an external port (`SYNTH_PC_EXTERNAL`), one channel group,
//!   voices and audio channels unknown (`u32::MAX`), no sample memory, no
//!   effects; node 0 describes the output port, node 1 the input port, each
//!   with the card's base port in its description.
//! - `PORTPARAMETERS` (GET, instance = the parameters asked for): the same
//!   parameters back with only `SYNTH_PORTPARAMS_CHANNELGROUPS` valid and one
//!   channel group, the one thing an MPU-401 has.
//! - `CHANNELGROUPS` (GET, SET): 1; a SET of anything but 1 is refused.
//! - `LATENCYCLOCK` (GET, per stream): the master time at which an event
//!   sent now could reach the wire: now, plus the bytes already due ahead of
//!   it at 320 µs each (the DDK sample reports `now`, ignoring its backlog).
//! - `RUNNINGSTATS` (GET, per stream): `SYNTH_STATS_LOST_NOTES`, the events a
//!   render stream gave back unplayed.
//! - `BASICSUPPORT`: the verbs as a `ULONG` of `KSPROPERTY_TYPE_*` flags.

use dmus_sys::dmus_com::{CLSID_MiniportDriverDMusUART, CLSID_MiniportDriverDMusUARTCapture};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_LATENCYCLOCK,
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, SYNTH_PC_EXTERNAL,
    SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_STATS, SYNTH_STATS_LOST_NOTES,
    SYNTHCAPS,
};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND,
    STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;
use mpu401::WIRE_BYTE_100NS;

use super::descriptor::NODE_SYNTH_OUT;
use crate::miniport::property::PropertyRequest;

/// Channel groups an MPU-401 has.
pub const CHANNEL_GROUPS: u32 = 1;

/// `SYNTHCAPS` for `node` of the card at `base`.
#[must_use]
pub fn synth_caps(node: u32, base: usize) -> SYNTHCAPS {
    let (guid, label) = if node == NODE_SYNTH_OUT {
        (CLSID_MiniportDriverDMusUART, "rdmus MPU-401 Out [")
    } else {
        (CLSID_MiniportDriverDMusUARTCapture, "rdmus MPU-401 In [")
    };
    let mut description = [0u16; 128];
    let mut at = 0;
    let mut put = |unit: u16| {
        // Keep the last unit as the terminator.
        if at + 1 < description.len() {
            description[at] = unit;
            at += 1;
        }
    };
    label.bytes().for_each(|byte| put(u16::from(byte)));
    let digits = b"0123456789ABCDEF";
    let mut started = false;
    for shift in (0..16).rev() {
        let nibble = (base >> (shift * 4)) & 0xF;
        if nibble != 0 || started || shift < 3 {
            started = true;
            put(u16::from(digits[nibble]));
        }
    }
    put(u16::from(b']'));
    SYNTHCAPS {
        Guid: guid,
        Flags: SYNTH_PC_EXTERNAL,
        MemorySize: 0,
        MaxChannelGroups: CHANNEL_GROUPS,
        MaxVoices: u32::MAX,
        MaxAudioChannels: u32::MAX,
        EffectFlags: 0,
        Description: description,
    }
}

/// The port parameters granted for a request.
#[must_use]
pub fn port_parameters(asked: Option<SYNTH_PORTPARAMS>) -> SYNTH_PORTPARAMS {
    let asked = asked.unwrap_or_default();
    SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_CHANNELGROUPS,
        ChannelGroups: CHANNEL_GROUPS,
        ..asked
    }
}

/// The verbs a property supports, as `BASICSUPPORT` reports them.
#[must_use]
pub fn access_flags(id: u32) -> Option<u32> {
    match id {
        KSPROPERTY_SYNTH_CHANNELGROUPS => {
            Some(KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET | KSPROPERTY_TYPE_SET)
        }
        KSPROPERTY_SYNTH_CAPS
        | KSPROPERTY_SYNTH_PORTPARAMETERS
        | KSPROPERTY_SYNTH_LATENCYCLOCK
        | KSPROPERTY_SYNTH_RUNNINGSTATS => Some(KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET),
        _ => None,
    }
}

/// The latency clock: when an event sent at `now` reaches the wire behind `backlog_bytes`.
#[must_use]
pub fn latency_clock(now: i64, backlog_bytes: usize) -> i64 {
    let backlog = i64::try_from(backlog_bytes).unwrap_or(i64::MAX);
    now.saturating_add(backlog.saturating_mul(WIRE_BYTE_100NS))
}

/// What a stream tells the property handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamReport {
    /// The master time now.
    pub now: i64,
    /// Bytes due but not yet written (0 for capture).
    pub backlog_bytes: usize,
    /// Events given back unplayed.
    pub lost: u64,
}

/// Answers a request, given the card's base port and, for pin-instance
/// properties, the stream's report.
pub fn answer(
    request: &mut PropertyRequest,
    base: usize,
    stream: Option<StreamReport>,
) -> NTSTATUS {
    let id = request.id();
    let Some(flags) = access_flags(id) else {
        return STATUS_NOT_FOUND;
    };
    let verb = request.verb();
    if verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&flags);
    }
    if verb & KSPROPERTY_TYPE_SET != 0 {
        if flags & KSPROPERTY_TYPE_SET == 0 {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        return match request.read_value::<u32>() {
            Ok(CHANNEL_GROUPS) => STATUS_SUCCESS,
            Ok(_) => STATUS_INVALID_PARAMETER,
            Err(status) => status,
        };
    }
    match id {
        KSPROPERTY_SYNTH_CAPS => request.reply(&synth_caps(request.node(), base)),
        KSPROPERTY_SYNTH_PORTPARAMETERS => {
            let asked = request.instance::<SYNTH_PORTPARAMS>();
            request.reply(&port_parameters(asked))
        }
        KSPROPERTY_SYNTH_CHANNELGROUPS => request.reply(&CHANNEL_GROUPS),
        KSPROPERTY_SYNTH_LATENCYCLOCK => match stream {
            Some(report) => request.reply(&latency_clock(report.now, report.backlog_bytes)),
            None => STATUS_INVALID_DEVICE_REQUEST,
        },
        KSPROPERTY_SYNTH_RUNNINGSTATS => match stream {
            Some(report) => request.reply(&SYNTH_STATS {
                ValidStats: SYNTH_STATS_LOST_NOTES,
                LostNotes: u32::try_from(report.lost).unwrap_or(u32::MAX),
                ..SYNTH_STATS::default()
            }),
            None => STATUS_INVALID_DEVICE_REQUEST,
        },
        _ => STATUS_NOT_FOUND,
    }
}

/// The `PCPFNPROPERTY_HANDLER` of every synth property (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this
/// miniport and whose `MinorTarget` is null or one of its streams.
pub unsafe extern "system" fn synth_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for the duration of this call. Any IRQL (memory only).
    let Some(mut wrapped) = (unsafe { PropertyRequest::new(request) }) else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: MajorTarget is the miniport PortCls calls us for (live while the
    // filter is); null or foreign objects are refused inside. Any IRQL (memory only).
    let Some(base) = (unsafe { super::miniport::Miniport::base_of(wrapped.major_target()) }) else {
        return STATUS_INVALID_DEVICE_REQUEST;
    };
    // SAFETY: MinorTarget is null or the stream of the pin the request is for,
    // live for the call. Any IRQL (memory only).
    let stream = unsafe { super::stream_report(wrapped.minor_target()) };
    answer(&mut wrapped, base, stream)
}

/// The `PCPFNPROPERTY_HANDLER` of `KSPROPSETID_General` / `KSPROPERTY_GENERAL_COMPONENTID` on
/// the filter (PASSIVE_LEVEL): rdmus's manufacturer, this filter's product and its name's
/// `MediaCategories` GUID (`crate::miniport::component`).
///
/// # Safety
/// Called by PortCls with a live request (or null).
pub unsafe extern "system" fn component_id_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for the duration of this call, or null (refused inside).
    // PASSIVE_LEVEL; memory only.
    let Some(mut wrapped) = (unsafe { crate::miniport::property::PropertyRequest::new(request) })
    else {
        return dmus_sys::kernel::STATUS_INVALID_PARAMETER;
    };
    crate::miniport::component::answer(&mut wrapped, &crate::miniport::component::COMPONENT_MPU401)
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmus_com::{CLSID_MiniportDriverDMusUART, CLSID_MiniportDriverDMusUARTCapture};
    use dmus_sys::dmusprop::{
        KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_LATENCYCLOCK,
        KSPROPERTY_SYNTH_VOLUME, SYNTH_PC_EXTERNAL, SYNTH_PORTPARAMS,
        SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_PORTPARAMS_VOICES,
    };
    use dmus_sys::kernel::{
        STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_SUCCESS,
    };
    use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
    use dmus_sys::portcls::{PCPROPERTY_ITEM, PCPROPERTY_REQUEST};

    use super::{StreamReport, access_flags, answer, latency_clock, port_parameters, synth_caps};
    use crate::miniport::property::PropertyRequest;

    fn text(units: &[u16]) -> std::string::String {
        let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
        std::string::String::from_utf16(&units[..end]).unwrap()
    }

    #[test]
    fn caps_describe_an_external_port_with_its_address() {
        let out = synth_caps(0, 0x330);
        assert_eq!(out.Guid, CLSID_MiniportDriverDMusUART);
        assert_eq!(out.Flags, SYNTH_PC_EXTERNAL);
        assert_eq!(out.MaxChannelGroups, 1);
        assert_eq!(text(&out.Description), "rdmus MPU-401 Out [330]");
        let input = synth_caps(1, 0x300);
        assert_eq!(input.Guid, CLSID_MiniportDriverDMusUARTCapture);
        assert_eq!(text(&input.Description), "rdmus MPU-401 In [300]");
        assert_eq!(*input.Description.last().unwrap(), 0);
    }

    #[test]
    fn port_parameters_grant_one_channel_group_only() {
        let asked = SYNTH_PORTPARAMS {
            ValidParams: SYNTH_PORTPARAMS_VOICES | SYNTH_PORTPARAMS_CHANNELGROUPS,
            Voices: 64,
            ChannelGroups: 4,
            SampleRate: 44_100,
            ..SYNTH_PORTPARAMS::default()
        };
        let granted = port_parameters(Some(asked));
        assert_eq!(granted.ValidParams, SYNTH_PORTPARAMS_CHANNELGROUPS);
        assert_eq!(granted.ChannelGroups, 1);
        assert_eq!(granted.Voices, 64, "other fields come back untouched");
        assert_eq!(port_parameters(None).ChannelGroups, 1);
    }

    #[test]
    fn latency_counts_the_backlog_on_the_wire() {
        assert_eq!(latency_clock(1_000, 0), 1_000);
        assert_eq!(latency_clock(1_000, 3), 1_000 + 9_600);
        assert_eq!(latency_clock(i64::MAX - 1, 10), i64::MAX);
        assert_eq!(access_flags(KSPROPERTY_SYNTH_VOLUME), None);
    }

    fn ask(id: u32, verb: u32, value: &mut [u8], stream: Option<StreamReport>) -> i32 {
        let item = PCPROPERTY_ITEM {
            Set: core::ptr::null(),
            Id: id,
            Flags: 0,
            Handler: None,
        };
        let mut raw = PCPROPERTY_REQUEST {
            MajorTarget: core::ptr::null_mut(),
            MinorTarget: core::ptr::null_mut(),
            Node: 0,
            PropertyItem: &raw const item,
            Verb: verb,
            InstanceSize: 0,
            Instance: core::ptr::null_mut(),
            ValueSize: u32::try_from(value.len()).unwrap(),
            Value: value.as_mut_ptr().cast(),
            Irp: core::ptr::null_mut(),
        };
        // SAFETY: a request over locals that outlive the call. Host test, PASSIVE_LEVEL.
        let mut request = unsafe { PropertyRequest::new(&raw mut raw) }.unwrap();
        answer(&mut request, 0x330, stream)
    }

    #[test]
    fn requests_are_answered_by_verb() {
        let mut value = [0u8; 8];
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_CHANNELGROUPS,
                KSPROPERTY_TYPE_BASICSUPPORT,
                &mut value,
                None
            ),
            STATUS_SUCCESS
        );
        assert_eq!(
            u32::from_ne_bytes(value[..4].try_into().unwrap()),
            KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET | KSPROPERTY_TYPE_SET
        );
        value[..4].copy_from_slice(&1u32.to_ne_bytes());
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_CHANNELGROUPS,
                KSPROPERTY_TYPE_SET,
                &mut value,
                None
            ),
            STATUS_SUCCESS
        );
        value[..4].copy_from_slice(&2u32.to_ne_bytes());
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_CHANNELGROUPS,
                KSPROPERTY_TYPE_SET,
                &mut value,
                None
            ),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            ask(KSPROPERTY_SYNTH_CAPS, KSPROPERTY_TYPE_SET, &mut value, None),
            STATUS_INVALID_DEVICE_REQUEST
        );
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_LATENCYCLOCK,
                KSPROPERTY_TYPE_GET,
                &mut value,
                None
            ),
            STATUS_INVALID_DEVICE_REQUEST
        );
        let report = StreamReport {
            now: 50,
            backlog_bytes: 1,
            lost: 0,
        };
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_LATENCYCLOCK,
                KSPROPERTY_TYPE_GET,
                &mut value,
                Some(report)
            ),
            STATUS_SUCCESS
        );
        assert_eq!(i64::from_ne_bytes(value), 3_250);
        assert_eq!(
            ask(
                KSPROPERTY_SYNTH_VOLUME,
                KSPROPERTY_TYPE_GET,
                &mut value,
                None
            ),
            STATUS_NOT_FOUND
        );
        let mut caps = std::vec![0u8; core::mem::size_of::<dmus_sys::dmusprop::SYNTHCAPS>()];
        assert_eq!(
            ask(KSPROPERTY_SYNTH_CAPS, KSPROPERTY_TYPE_GET, &mut caps, None),
            STATUS_SUCCESS
        );
    }
}
