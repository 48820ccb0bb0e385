//! The `sleep_accuracy` row: how late each runtime's sleeps wake, not how long a round
//! takes, so it is measured and printed apart from the timed table.

use std::fmt::Write as _;

use magpie_benches::{magpie, smol, tokio, RUNTIMES};

/// Every sleep's overshoot in nanoseconds, per runtime (in `RUNTIMES` order) and per
/// sleep length (in `ACCURACY_SLEEPS` order), pooled over the rounds.
pub struct Accuracy(Vec<[Vec<i64>; 3]>);

/// Runs `sleep_accuracy` on each runtime with `threads` workers, in alternation (2 rounds
/// when quick, 5 otherwise; 3,000 sleeps per runtime per round).
pub fn measure(threads: usize, quick: bool) -> Accuracy {
    let m = magpie::runtime(threads);
    let t = tokio::runtime(threads);
    let s = smol::runtime(threads);
    let runs: [&dyn Fn() -> [Vec<i64>; 3]; 3] = [
        &|| magpie::sleep_accuracy(&m),
        &|| tokio::sleep_accuracy(&t),
        &|| smol::sleep_accuracy(&s),
    ];
    runs.iter().for_each(|r| drop(r())); // warm-up
    let mut acc: Vec<[Vec<i64>; 3]> = (0..3).map(|_| Default::default()).collect();
    let rounds = if quick { 2 } else { 5 };
    for round in 0..rounds {
        for k in 0..3 {
            let j = (round + k) % 3;
            for (all, new) in acc[j].iter_mut().zip(runs[j]()) {
                all.extend(new);
            }
        }
    }
    eprintln!("sleep_accuracy: {rounds} rounds");
    Accuracy(acc)
}

fn quantile(sorted: &[i64], q: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

fn fmt_ns(ns: i64) -> String {
    let us = ns as f64 / 1e3;
    if us.abs() >= 1_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

/// The section: median and p99 overshoot and the early wake-ups, per runtime, for each
/// sleep length and for all of them together.
pub fn render(acc: &Accuracy) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nsleep_accuracy: {} tasks, each sleeping {}; overshoot past each sleep's deadline \
         (lower is better; early = woke before the deadline, which must be 0):\n",
        magpie::ACCURACY_TASKS,
        magpie::ACCURACY_SLEEPS
            .map(|d| format!("{} ms", d.as_millis()))
            .join(", then ")
    );
    let _ = writeln!(out, "| sleep | statistic | {} |", RUNTIMES.join(" | "));
    let _ = writeln!(out, "| --- | --- | ---: | ---: | ---: |");
    let mut groups: Vec<(String, Vec<Vec<i64>>)> = magpie::ACCURACY_SLEEPS
        .iter()
        .enumerate()
        .map(|(k, d)| {
            let per_rt = acc.0.iter().map(|rt| rt[k].clone()).collect();
            (format!("{} ms", d.as_millis()), per_rt)
        })
        .collect();
    let all = acc.0.iter().map(|rt| rt.concat()).collect();
    groups.push(("all".into(), all));
    for (label, mut per_rt) in groups {
        per_rt.iter_mut().for_each(|v| v.sort_unstable());
        let row = |f: &dyn Fn(&[i64]) -> String| {
            per_rt.iter().map(|v| f(v)).collect::<Vec<_>>().join(" | ")
        };
        let _ = writeln!(
            out,
            "| {label} | median | {} |",
            row(&|v| fmt_ns(quantile(v, 0.5)))
        );
        let _ = writeln!(
            out,
            "| {label} | p99 | {} |",
            row(&|v| fmt_ns(quantile(v, 0.99)))
        );
        let _ = writeln!(
            out,
            "| {label} | early | {} |",
            row(&|v| format!("{} of {}", v.iter().filter(|&&x| x < 0).count(), v.len()))
        );
    }
    out
}
