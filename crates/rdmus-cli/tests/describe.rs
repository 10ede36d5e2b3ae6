//! `rdmus describe` end to end: the built binary prints both filters as a client sees them.

use std::process::{Command, Output};

fn rdmus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rdmus"))
        .args(args)
        .output()
        .expect("the rdmus binary runs")
}

fn stdout_of(args: &[&str]) -> String {
    let out = rdmus(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn has(text: &str, line: &str) {
    assert!(
        text.lines().any(|l| l.trim_end() == line),
        "no line {line:?} in:\n{text}"
    );
}

#[test]
fn describe_shows_both_filters_registration_names_and_pins() {
    let text = stdout_of(&["describe"]);
    has(&text, "filter UART");
    has(
        &text,
        "  categories: KSCATEGORY_AUDIO, KSCATEGORY_RENDER, KSCATEGORY_CAPTURE",
    );
    has(&text, "  interface FriendlyName: \"rdmus MPU-401\"");
    has(
        &text,
        "  connections: pin 0 -> pin 2, pin 1 -> node 0.1, node 0.0 -> pin 2, pin 3 -> node 1.1, node 1.0 -> pin 4",
    );
    has(&text, "filter Synth");
    has(&text, "  interface FriendlyName: \"rdmus DLS Synth\"");
    has(
        &text,
        "  categories: KSCATEGORY_AUDIO, KSCATEGORY_SYNTHESIZER, KSCATEGORY_DATATRANSFORM",
    );
    assert!(
        text.contains("name {D3B11315-F078-4E9B-978E-CAA0F8A653D4} = \"rdmus MPU-401\""),
        "{text}"
    );
    assert!(text.contains("= \"rdmus DLS Synth\""), "{text}");
    has(&text, "  node 0: KSNODETYPE_SYNTHESIZER");
    // The MPU-401's nodes: CAPS, PORTPARAMETERS, CHANNELGROUPS, LATENCYCLOCK, RUNNINGSTATS.
    has(&text, "    properties KSPROPSETID_Synth: 2 3 4 6 7");
    has(&text, "  properties KSPROPSETID_General: 0");
    has(&text, "  properties KSPROPSETID_Synth_Dls: 0 1 2 3 4");
    has(
        &text,
        "    name \"rdmus MPU-401 Out\", category KSCATEGORY_WDMAUD_USE_PIN_NAME",
    );
    has(
        &text,
        "    name \"rdmus MPU-401 In\", category KSCATEGORY_WDMAUD_USE_PIN_NAME",
    );
    has(
        &text,
        "  pin 2: out, communication none, instances 0 (global 0, open 0)",
    );
    has(&text, "    range MUSIC/MIDI/NONE (96 bytes)");
    has(&text, "    range AUDIO/PCM/WAVEFORMATEX (88 bytes)");
    // Every streaming render pin takes several clients at once (README, "Several applications
    // on one port"): four on each filter, four in all.
    let render_pins: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(": in, communication sink"))
        .collect();
    assert_eq!(render_pins.len(), 4, "{text}");
    for line in render_pins {
        assert!(line.ends_with("instances 4 (global 4, open 0)"), "{line}");
    }
}

#[test]
fn describe_prints_one_device_as_json() {
    let json = stdout_of(&["describe", "--device", "synth", "--json"]);
    assert!(json.starts_with("[{\"subdevice\": \"Synth\""), "{json}");
    assert!(!json.contains("\"UART\""), "{json}");
    assert!(
        json.contains(
            "\"categories\": [\"KSCATEGORY_AUDIO\", \"KSCATEGORY_SYNTHESIZER\", \"KSCATEGORY_DATATRANSFORM\"]"
        ),
        "{json}"
    );
    assert!(
        json.contains("\"registered_name\": \"rdmus DLS Synth\""),
        "{json}"
    );
    assert!(
        json.contains("\"name\": \"rdmus DLS Synth (DirectMusic)\", \"category\": \"KSCATEGORY_WDMAUD_USE_PIN_NAME\""),
        "{json}"
    );
    assert!(
        json.contains("\"nodes\": [{\"type\": \"KSNODETYPE_SYNTHESIZER\", \"properties\": [{\"set\": \"KSPROPSETID_Synth\""),
        "{json}"
    );
    assert_eq!(json.matches('{').count(), json.matches('}').count());
    assert_eq!(json.matches('[').count(), json.matches(']').count());
}

#[test]
fn describe_refuses_an_unknown_device() {
    let out = rdmus(&["describe", "--device", "gs-wavetable"]);
    assert_eq!(out.status.code(), Some(2));
}
