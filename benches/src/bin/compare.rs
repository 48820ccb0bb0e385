//! `compare`: every workload on magpie, tokio and smol's executor, side by side.
//!
//! ```text
//! cargo run --release -p magpie-benches --bin compare [-- OPTIONS]
//!   --quick          fewer rounds (a couple of minutes at most)
//!   --filter NAME    only workloads whose name contains NAME
//!   --threads N      worker threads per runtime (default: one per CPU)
//!   --scaling        run every workload at 1 worker and at N, and print both columns
//!   --write-docs     also write the result into docs/benchmarks.md and docs/benchmarks.svg
//!   --no-write       do not write docs/ (the default; kept for old command lines)
//! ```
//!
//! Runtimes run in alternation: in round r, the order starts at runtime r mod 3, so drift
//! in the machine's speed (the machines here are shared) lands on every runtime alike.
//! Each workload gets warm-up rounds first. The table gives medians, the magpie/tokio and
//! magpie/smol ratios of the medians, and each runtime's min–max spread; `sleep_accuracy`
//! reports overshoot past a sleep's deadline instead of time, in a section of its own.
//! Every run writes its full report (the machine it ran on, the tables) and an SVG bar
//! chart of the ratios into `compare/` under the cargo target directory, and prints both
//! paths. Only `--write-docs` touches the working tree: it writes the report into
//! `docs/benchmarks.md` (between its `compare` markers; the rest of the file is kept) and
//! the chart into `docs/benchmarks.svg`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use magpie_benches::{floor, magpie, memory, smol, tokio, RUNTIMES};

#[path = "compare/accuracy.rs"]
mod accuracy;

struct Options {
    quick: bool,
    filter: Option<String>,
    threads: usize,
    scaling: bool,
    write_docs: bool,
    memory_probe: Option<String>,
}

fn usage(msg: &str) -> ! {
    eprintln!("compare: {msg}");
    eprintln!(
        "usage: compare [--quick] [--filter NAME] [--threads N] [--scaling] [--write-docs | --no-write]"
    );
    std::process::exit(2)
}

fn parse_args() -> Options {
    let mut o = Options {
        quick: false,
        filter: None,
        threads: num_cpus::get(),
        scaling: false,
        write_docs: false,
        memory_probe: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--quick" => o.quick = true,
            "--filter" => {
                o.filter = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--filter takes a name")),
                )
            }
            "--threads" => {
                let n = args
                    .next()
                    .unwrap_or_else(|| usage("--threads takes a number"));
                o.threads = match n.parse() {
                    Ok(n) if n > 0 => n,
                    _ => usage(&format!(
                        "--threads takes a number of at least 1, not {n:?}"
                    )),
                };
            }
            "--scaling" => o.scaling = true,
            "--write-docs" => o.write_docs = true,
            "--write" => usage("--write is now --write-docs"),
            "--no-write" => o.write_docs = false,
            "--memory-probe" => {
                o.memory_probe = Some(
                    args.next()
                        .unwrap_or_else(|| usage("--memory-probe takes a runtime")),
                )
            }
            "-h" | "--help" => usage("runs every workload on every runtime"),
            other => usage(&format!("unknown argument {other:?}")),
        }
    }
    if o.scaling && o.threads < 2 {
        usage("--scaling compares 1 worker with N: give --threads 2 or more (the default is one per CPU)");
    }
    o
}

/// Timings of one runtime on one workload.
#[derive(Default, Clone)]
struct Samples(Vec<Duration>);

impl Samples {
    fn sorted(&self) -> Vec<Duration> {
        let mut v = self.0.clone();
        v.sort();
        v
    }
    fn median(&self) -> Duration {
        let v = self.sorted();
        if v.is_empty() {
            return Duration::ZERO;
        }
        let n = v.len();
        if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2
        }
    }
    fn min(&self) -> Duration {
        self.0.iter().copied().min().unwrap_or_default()
    }
    fn max(&self) -> Duration {
        self.0.iter().copied().max().unwrap_or_default()
    }
}

struct Row {
    name: String,
    samples: Vec<Samples>, // in RUNTIMES order; empty for runtimes that do not run it
}

fn fmt_dur(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 10_000.0 {
        format!("{:.1} ms", us / 1e3)
    } else if us >= 1_000.0 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.0} µs")
    }
}

fn ratio(a: Duration, b: Duration) -> Option<f64> {
    (!b.is_zero() && !a.is_zero()).then(|| a.as_secs_f64() / b.as_secs_f64())
}

/// Rounds of one run: warm-up, minimum, maximum, and the time budget per workload.
struct Rounds {
    warmup: usize,
    min: usize,
    max: usize,
    budget: Duration,
}

fn main() {
    let opts = parse_args();
    if let Some(rt) = &opts.memory_probe {
        let m = memory::probe(rt, opts.threads);
        println!("MEMPROBE {} {}", m.bytes_per_task, m.peak_rss);
        return;
    }
    let rounds = if opts.quick {
        Rounds {
            warmup: 3,
            min: 15,
            max: 40,
            budget: Duration::from_secs(3),
        }
    } else {
        Rounds {
            warmup: 10,
            min: 100,
            max: 400,
            budget: Duration::from_secs(20),
        }
    };
    let wanted = |name: &str| opts.filter.as_deref().is_none_or(|f| name.contains(f));
    let names: Vec<&str> = magpie::WORKLOADS
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| wanted(n))
        .collect();

    eprintln!(
        "compare: {} threads per runtime{}, {} mode; runtimes in alternation: {}",
        opts.threads,
        if opts.scaling {
            " (and 1, --scaling)"
        } else {
            ""
        },
        if opts.quick { "quick" } else { "full" },
        RUNTIMES.join(", ")
    );
    let single = opts.scaling.then(|| {
        eprintln!("1 worker per runtime:");
        run_workloads(&names, 1, &rounds)
    });
    if opts.scaling {
        eprintln!("{} workers per runtime:", opts.threads);
    }
    let mut rows = run_workloads(&names, opts.threads, &rounds);
    if wanted("floor") || wanted("spawn_many_local") {
        rows.push(floor_row(&rounds));
    }
    let accuracy = wanted("sleep_accuracy").then(|| accuracy::measure(opts.threads, opts.quick));

    let mem = if opts.filter.is_none() || wanted("memory") {
        eprintln!(
            "memory: {} idle tasks per runtime, one process each",
            memory::IDLE_TASKS
        );
        Some(
            RUNTIMES
                .iter()
                .map(|rt| memory_probe(rt, opts.threads))
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };

    let mut report = if rows.is_empty() && mem.is_none() {
        String::new() // only sleep_accuracy was asked for
    } else {
        render_table(&rows, mem.as_deref())
    };
    if let Some(single) = &single {
        report.push_str(&render_scaling(single, &rows, opts.threads));
    }
    if let Some(acc) = &accuracy {
        report.push_str(&accuracy::render(acc));
    }
    println!("\n{report}");

    let section = format!(
        "{}\n\n{report}\n\n![magpie's time as a fraction of each peer's](benchmarks.svg)\n",
        machine_description(&opts)
    );
    let svg = render_svg(&rows);
    let out = target_dir().join("compare");
    std::fs::create_dir_all(&out).expect("create the target directory's compare/");
    let (out_md, out_svg) = (out.join("benchmarks.md"), out.join("benchmarks.svg"));
    std::fs::write(&out_md, format!("# magpie benchmarks\n\n{section}"))
        .expect("write compare/benchmarks.md");
    std::fs::write(&out_svg, &svg).expect("write compare/benchmarks.svg");
    eprintln!(
        "full report: {}\nchart: {}",
        out_md.display(),
        out_svg.display()
    );
    if opts.write_docs {
        let docs = workspace_root().join("docs");
        let md = docs.join("benchmarks.md");
        let svg_path = docs.join("benchmarks.svg");
        write_section(&md, &section);
        std::fs::write(&svg_path, svg).expect("write docs/benchmarks.svg");
        eprintln!("wrote {} and {}", md.display(), svg_path.display());
    } else {
        eprintln!("docs/ left as it was (pass --write-docs to update docs/benchmarks.md)");
    }
}

/// Runs every named workload on the three runtimes, each with `threads` workers.
fn run_workloads(names: &[&str], threads: usize, rounds: &Rounds) -> Vec<Row> {
    let m = magpie::runtime(threads);
    let t = tokio::runtime(threads);
    let s = smol::runtime(threads);
    let mut rows = Vec::new();
    for (wi, name) in names.iter().enumerate() {
        let i = magpie::WORKLOADS
            .iter()
            .position(|(n, _)| n == name)
            .expect("names come from magpie::WORKLOADS");
        let runs: [&dyn Fn(); 3] = [
            &|| (magpie::WORKLOADS[i].1)(&m),
            &|| (tokio::WORKLOADS[i].1)(&t),
            &|| (smol::WORKLOADS[i].1)(&s),
        ];
        let mut samples = vec![Samples::default(); 3];
        for _ in 0..rounds.warmup {
            runs.iter().for_each(|r| r());
        }
        let started = Instant::now();
        let mut round = 0;
        while round < rounds.min || (round < rounds.max && started.elapsed() < rounds.budget) {
            for k in 0..3 {
                let j = (round + k) % 3;
                let t0 = Instant::now();
                runs[j]();
                samples[j].0.push(t0.elapsed());
            }
            round += 1;
            if round % 5 == 0 {
                eprint!("\r[{}/{}] {name}: round {round}   ", wi + 1, names.len());
                let _ = std::io::stderr().flush();
            }
        }
        eprintln!(
            "\r[{}/{}] {name}: {round} rounds, magpie {} tokio {} smol {}",
            wi + 1,
            names.len(),
            fmt_dur(samples[0].median()),
            fmt_dur(samples[1].median()),
            fmt_dur(samples[2].median())
        );
        rows.push(Row {
            name: name.to_string(),
            samples,
        });
    }
    rows
}

/// spawn_many_local's work on one thread without any runtime: the floor under that row.
fn floor_row(rounds: &Rounds) -> Row {
    let mut f = Samples::default();
    for _ in 0..rounds.warmup {
        floor::spawn_many(&());
    }
    for _ in 0..rounds.min {
        let t0 = Instant::now();
        floor::spawn_many(&());
        f.0.push(t0.elapsed());
    }
    Row {
        name: "floor (spawn_many_local's work, 1 thread, no sync)".into(),
        samples: vec![f, Samples::default(), Samples::default()],
    }
}

fn memory_probe(rt: &str, threads: usize) -> Option<memory::MemoryProbe> {
    let out = std::process::Command::new(std::env::current_exe().ok()?)
        .args(["--memory-probe", rt, "--threads", &threads.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().find(|l| l.starts_with("MEMPROBE "))?;
    let mut it = line.split_whitespace().skip(1);
    let bytes_per_task = it.next()?.parse().ok()?;
    let peak_rss = it.next()?.parse().ok()?;
    Some(memory::MemoryProbe {
        bytes_per_task,
        peak_rss,
    })
}

fn render_table(rows: &[Row], mem: Option<&[Option<memory::MemoryProbe>]>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | magpie | tokio | smol | magpie/tokio | magpie/smol | spread magpie | spread tokio | spread smol |"
    );
    let _ = writeln!(
        out,
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for r in rows {
        let med: Vec<Duration> = r.samples.iter().map(Samples::median).collect();
        let cell = |i: usize| {
            if r.samples[i].0.is_empty() {
                "—".to_string()
            } else {
                fmt_dur(med[i])
            }
        };
        let spread = |i: usize| {
            if r.samples[i].0.is_empty() {
                "—".to_string()
            } else {
                format!(
                    "{}–{}",
                    fmt_dur(r.samples[i].min()),
                    fmt_dur(r.samples[i].max())
                )
            }
        };
        let rat = |a: usize, b: usize| {
            ratio(med[a], med[b]).map_or("—".to_string(), |x| format!("{x:.2}"))
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.name,
            cell(0),
            cell(1),
            cell(2),
            rat(0, 1),
            rat(0, 2),
            spread(0),
            spread(1),
            spread(2)
        );
    }
    if let Some(mem) = mem {
        let bytes =
            |i: usize| mem[i].map_or("—".into(), |m| format!("{:.0} B", m.bytes_per_task));
        let peak = |i: usize| {
            mem[i].map_or("—".into(), |m| {
                format!("{:.1} MiB", m.peak_rss as f64 / 1048576.0)
            })
        };
        let rat = |i: usize| match (mem[0], mem[i]) {
            (Some(a), Some(b)) if b.bytes_per_task > 0.0 => {
                format!("{:.2}", a.bytes_per_task / b.bytes_per_task)
            }
            _ => "—".into(),
        };
        let _ = writeln!(
            out,
            "| memory per idle task ({} tasks) | {} | {} | {} | {} | {} | | | |",
            memory::IDLE_TASKS,
            bytes(0),
            bytes(1),
            bytes(2),
            rat(1),
            rat(2)
        );
        let _ = writeln!(
            out,
            "| peak RSS of that probe | {} | {} | {} | | | | | |",
            peak(0),
            peak(1),
            peak(2)
        );
    }
    out
}

/// The `--scaling` section: each runtime's medians at 1 worker and at `threads`, and the
/// N/1 ratio (below 1.0: the extra workers helped; above: they cost time).
fn render_scaling(single: &[Row], multi: &[Row], threads: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nScaling: medians at 1 worker and at {threads}, and the {threads}/1 ratio per runtime \
         (below 1.0 the extra workers help):\n"
    );
    let mut head = String::from("| workload |");
    for rt in RUNTIMES {
        let _ = write!(head, " {rt} 1 | {rt} {threads} | {rt} {threads}/1 |");
    }
    let _ = writeln!(out, "{head}");
    let _ = writeln!(out, "| --- |{}", " ---: |".repeat(3 * RUNTIMES.len()));
    for (one, n) in single.iter().zip(multi) {
        let mut line = format!("| {} |", one.name);
        for i in 0..RUNTIMES.len() {
            let (a, b) = (one.samples[i].median(), n.samples[i].median());
            let r = ratio(b, a).map_or("—".to_string(), |x| format!("{x:.2}"));
            let _ = write!(line, " {} | {} | {r} |", fmt_dur(a), fmt_dur(b));
        }
        let _ = writeln!(out, "{line}");
    }
    out
}

fn render_svg(rows: &[Row]) -> String {
    let rows: Vec<(&str, Option<f64>, Option<f64>)> = rows
        .iter()
        .filter(|r| !r.samples[1].0.is_empty())
        .map(|r| {
            let m = r.samples[0].median();
            (
                r.name.as_str(),
                ratio(m, r.samples[1].median()),
                ratio(m, r.samples[2].median()),
            )
        })
        .collect();
    let (left, bar_h, gap, width) = (190.0, 12.0, 10.0, 640.0);
    let max = rows
        .iter()
        .flat_map(|r| [r.1, r.2])
        .flatten()
        .fold(1.5f64, f64::max);
    let scale = (width - left - 60.0) / max;
    let height = 50.0 + rows.len() as f64 * (2.0 * bar_h + gap) + 30.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="18" font-size="13">magpie's median time as a fraction of each peer's (lower is better; 1.0 = equal)</text>"#
    );
    let _ = writeln!(
        s,
        r##"<rect x="{left}" y="26" width="10" height="10" fill="#3b7dd8"/><text x="{}" y="35">vs tokio</text><rect x="{}" y="26" width="10" height="10" fill="#e0a030"/><text x="{}" y="35">vs smol</text>"##,
        left + 14.0,
        left + 80.0,
        left + 94.0
    );
    for (i, (name, vt, vs)) in rows.iter().enumerate() {
        let y = 50.0 + i as f64 * (2.0 * bar_h + gap);
        let _ = writeln!(s, r#"<text x="10" y="{}">{}</text>"#, y + bar_h + 3.0, name);
        for (k, (v, color)) in [(vt, "#3b7dd8"), (vs, "#e0a030")].iter().enumerate() {
            if let Some(v) = v {
                let yy = y + k as f64 * bar_h;
                let _ = writeln!(
                    s,
                    r#"<rect x="{left}" y="{yy}" width="{:.1}" height="{}" fill="{color}"/><text x="{:.1}" y="{}">{v:.2}</text>"#,
                    v * scale,
                    bar_h - 1.0,
                    left + v * scale + 4.0,
                    yy + bar_h - 2.0
                );
            }
        }
    }
    let x1 = left + scale;
    let _ = writeln!(
        s,
        r##"<line x1="{x1:.1}" y1="44" x2="{x1:.1}" y2="{:.1}" stroke="#333" stroke-dasharray="4 3"/>"##,
        height - 20.0
    );
    s.push_str("</svg>\n");
    s
}

/// The cargo target directory this binary was built into (`<target>/<profile>/compare`),
/// so `CARGO_TARGET_DIR` is honoured; the workspace's `target/` if that cannot be told.
fn target_dir() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| workspace_root().join("target"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("benches/ sits in the workspace root")
        .to_path_buf()
}

fn machine_description(opts: &Options) -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map_or("unknown CPU".to_string(), |s| s.trim().to_string());
    let mem_kb: u64 = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let rustc = std::process::Command::new("rustc")
        .arg("-V")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "Run {date} on {cpu}, {} CPUs, {:.0} GiB, Linux {}, {rustc}; {} worker threads per runtime; \
         medians of interleaved rounds; tokio 1.54; smol: async-executor 1.14, async-io 2.6, \
         async-lock 3.5; async-channel 2.5 (queue_mpmc on tokio and smol; mpsc_fan_in on smol); \
         broadcast_fan_out on smol: one unbounded async-channel per receiver (smol has no broadcast).",
        num_cpus::get(),
        mem_kb as f64 / 1048576.0,
        kernel.trim(),
        opts.threads
    )
}

const BEGIN: &str = "<!-- compare:begin (written by `compare`; edits here are overwritten) -->";
const END: &str = "<!-- compare:end -->";

fn write_section(path: &Path, section: &str) {
    let old = std::fs::read_to_string(path)
        .unwrap_or_else(|_| format!("# magpie benchmarks\n\n{BEGIN}\n{END}\n"));
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(b), Some(e)) if b < e => {
            format!(
                "{}{BEGIN}\n{section}\n{END}{}",
                &old[..b],
                &old[e + END.len()..]
            )
        }
        _ => format!("{old}\n{BEGIN}\n{section}\n{END}\n"),
    };
    std::fs::write(path, new).expect("write docs/benchmarks.md");
}
