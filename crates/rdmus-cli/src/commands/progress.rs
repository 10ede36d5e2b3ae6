//! The progress bar of long runs: indicatif on standard error, which it
//! hides by itself when standard error is not a terminal.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Files shorter than this (100 ns) play without a bar: 10 s.
const LONG: u64 = 100_000_000;

/// A bar over `length` (100 ns of presentation time), or a hidden one for a
/// short run.
#[must_use]
pub fn bar(length: u64, label: &str) -> ProgressBar {
    if length < LONG {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(length / 10_000), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ms of music ({eta} left)")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(label.to_owned());
    bar
}
