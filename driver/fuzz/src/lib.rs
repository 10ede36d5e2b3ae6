//! The driver's fuzz harness: a fuzzer's input is decoded into a client's session
//! ([`script`]), run against rdmus-driver on a fresh wdm-sim machine ([`session`]), and
//! everything the session left behind fails the input: a verifier finding (the simulation's
//! Driver Verifier checks: pool, timers, DPCs, COM references and events left at unload,
//! IRQL rules, KS state rules, ...), a pool block with the driver's tag, or mapped user memory.
//!
//! The driver's `Vec`s and `Box`es are not in that account yet: in the simulation they live on
//! the host heap, which cannot be balanced per session because wdm-sim keeps the blocks of
//! its freed COM objects on purpose (`sim_object.rs`: a stale pointer must reach a dead
//! record, not a new object). Once the driver's heap goes through the simulated pool (issue
//! 13, item 1), the pool check here covers it.
//!
//! The target (`fuzz_targets/session.rs`) is [`fuzz_one`]; the seeds in `seeds/session` are
//! written by this crate's tests from the scenarios in [`seeds`].

pub mod script;
pub mod seeds;
pub mod session;

/// Runs one input; panics (a crash to libFuzzer) with the decoded set-up and what the
/// session left when the driver left anything behind.
///
/// # Panics
/// On a verifier finding, a leak, or a panic inside the session.
pub fn fuzz_one(data: &[u8]) {
    let (setup, ops) = script::decode(data);
    let shown = format!("{setup:?} with {} operation(s)", ops.len());
    let leftovers = session::run(&setup, ops);
    assert!(
        leftovers.is_clean(),
        "session {shown} left {leftovers:#?} (RDMUS_FUZZ_TRACE=1 prints the operations)"
    );
}
