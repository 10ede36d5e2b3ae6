//! wdm-sim (in progress).
