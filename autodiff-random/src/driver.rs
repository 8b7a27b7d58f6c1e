//! The command behind `cargo run -p autodiff-random --release -- --seed S --count N`: generates
//! `N` cases, compiles them in a scratch workspace under `target/autodiff-random/`, runs their
//! checks, and classifies what fails.
//!
//! Each case is one file, so every compiler error is attributed to the case it points into,
//! without bisecting: the cases with errors are set aside and their batch is compiled again
//! (borrow-check errors only show once type errors are gone), until every batch compiles. A
//! plain copy of the programs (without the attribute) is checked first: a case that fails there
//! is the generator's fault and is counted apart. Each batch is a binary that runs its cases'
//! checks one by one, catching panics; a case that aborts the process is recorded and the batch
//! is run again without it.
//!
//! Nothing may hang the run: a batch whose current case prints nothing for
//! [`Options::case_timeout`] (a generated loop that does not end) is killed, the case recorded as
//! timed out and the batch run again without it; a compilation that outlasts its limit (see
//! [`compile_limit`]) is killed, and the cases that hang it are found by compiling halves of each
//! batch.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::generate::{Config, generate};
use crate::program::Case;
use crate::rng::case_seed;

/// What happened to one case.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Every check passed.
    Passed,
    /// The plain program does not compile: a generator bug.
    InvalidPlain(Diagnostic),
    /// Compiling with `#[differentiate]` failed.
    CompileError(Diagnostic),
    /// A check failed: the failure kind's name and the report.
    Failed(String, String),
    /// The checks panicked (in generated code or a runtime rule), with the message.
    Panicked(String),
    /// The process died while running the case.
    Crashed,
    /// The case did not finish in time: `"compiling"` (the macro or rustc did not end) or
    /// `"checking"` (the case printed nothing for [`Options::case_timeout`]).
    TimedOut(&'static str),
}

/// The first error of a case's compilation.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// `E0382`, or empty for errors without a code.
    pub code: String,
    /// The first line of the message.
    pub message: String,
    /// The error is spanned at the `#[differentiate]` attribute: it is in generated code.
    pub at_attribute: bool,
    /// The whole rendered diagnostic.
    pub rendered: String,
}

impl Diagnostic {
    /// The class of the error, for the summary. The plain program compiles, so every error is
    /// the macro's doing: its own diagnostic (no error code, spanned at the user's tokens),
    /// grouped by the message's first words, or a rustc error in the generated code, grouped
    /// by code and by where it is spanned (at the attribute, or at user tokens copied into
    /// the generated code).
    pub fn class(&self) -> String {
        if self.code.is_empty() && !self.at_attribute {
            let words: Vec<&str> = self.message.split_whitespace().take(6).collect();
            format!("macro diagnostic: {}", words.join(" "))
        } else {
            let what = if self.code.is_empty() {
                format!("(no code) {}", self.message)
            } else {
                self.code.clone()
            };
            let at = if self.at_attribute {
                "spanned at the attribute"
            } else {
                "spanned at user tokens"
            };
            format!("rustc {what}, {at}")
        }
    }
}

impl Outcome {
    /// The class of the outcome, for the summary.
    pub fn class(&self) -> String {
        match self {
            Outcome::Passed => "passed".into(),
            Outcome::InvalidPlain(d) => format!("generator: invalid plain Rust {}", d.code),
            Outcome::CompileError(d) => d.class(),
            Outcome::Failed(kind, _) => format!("check failed: {kind}"),
            Outcome::Panicked(_) => "panic while checking".into(),
            Outcome::Crashed => "process died while checking".into(),
            Outcome::TimedOut(while_) => format!("timed out while {while_}"),
        }
    }
}

/// The command-line options.
#[derive(Clone, Debug)]
pub struct Options {
    /// The run's seed: case `i` has seed [`case_seed`]`(seed, i)`.
    pub seed: u64,
    /// How many cases.
    pub count: u64,
    /// Cases per compiled batch.
    pub batch: usize,
    /// The generator's configuration.
    pub config: Config,
    /// Only these case seeds (instead of `seed` and `count`).
    pub cases: Vec<u64>,
    /// Where the scratch workspace goes.
    pub dir: PathBuf,
    /// How long one case's checks may run before the case counts as timed out.
    pub case_timeout: Duration,
}

/// How long a compilation of `cases` cases may take before it counts as hung: two minutes, and
/// three seconds a case (a batch of 100 cases takes about a minute on two cores), times the
/// machine's load per core where it is above 1 (on a shared machine a batch that compiles is
/// not to be taken for one that hangs).
pub fn compile_limit(cases: usize) -> Duration {
    Duration::from_secs_f64((120 + 3 * cases as u64) as f64 * load_per_core().max(1.0))
}

/// The load average of the last minute over the cores, or 1 where it cannot be read.
fn load_per_core() -> f64 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(1.0, |l| l / cores)
}

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited (or was killed by a signal) by itself.
    Exited(ExitStatus),
    /// It outlasted its limit and was killed.
    TimedOut,
}

impl Ended {
    /// It exited by itself with success.
    pub fn success(&self) -> bool {
        matches!(self, Ended::Exited(s) if s.success())
    }
}

/// When [`run_limited`] kills the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// After this long in all.
    Total(Duration),
    /// After this long without new standard output (a batch prints a line per case).
    Quiet(Duration),
}

/// Runs `cmd` to its end or its limit, its standard output and error written to `out_file` and
/// to the file beside it with the extension `err` (files, so that a full pipe never blocks the
/// child), and returns both with how it ended. A process that outlasts its limit is killed with its
/// process group (cargo's rustc and the build scripts it started, on Unix).
pub fn run_limited(cmd: &mut Command, out_file: &Path, limit: Limit) -> (String, String, Ended) {
    let err_file = out_file.with_extension("err");
    let out = fs::File::create(out_file).expect("create the output file");
    let err = fs::File::create(&err_file).expect("create the error file");
    cmd.stdin(Stdio::null()).stdout(out).stderr(err);
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    // A program written just before (a batch's executable) can be busy for a moment: another
    // thread's child, forked while the file was open for writing, holds it until it execs.
    let mut child = {
        let mut tries = 0;
        loop {
            match cmd.spawn() {
                Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                r => break r.expect("start a process"),
            }
        }
    };
    let start = Instant::now();
    let mut last_len = 0;
    let mut last_change = start;
    let ended = loop {
        if let Some(status) = child.try_wait().expect("wait for a process") {
            break Ended::Exited(status);
        }
        let now = Instant::now();
        let over = match limit {
            Limit::Total(d) => now - start > d,
            Limit::Quiet(d) => {
                let len = fs::metadata(out_file).map(|m| m.len()).unwrap_or(0);
                if len != last_len {
                    last_len = len;
                    last_change = now;
                }
                now - last_change > d
            }
        };
        if over {
            kill_group(&mut child);
            break Ended::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned();
    (read(out_file), read(&err_file), ended)
}

/// Kills a child started in a process group of its own, with the group, and reaps it.
fn kill_group(child: &mut std::process::Child) {
    #[cfg(unix)]
    {
        // The group's id is the child's: `process_group(0)`.
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--"])
            .arg(format!("-{}", child.id()))
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The workspace root, where `autodiff` is.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_path_buf()
}

/// Generates, compiles, runs and classifies; returns each case with its outcome.
pub fn run(opts: &Options) -> Vec<(Case, Outcome)> {
    let seeds: Vec<u64> = if opts.cases.is_empty() {
        (0..opts.count).map(|i| case_seed(opts.seed, i)).collect()
    } else {
        opts.cases.clone()
    };
    let cases: Vec<Case> = seeds.iter().map(|&s| generate(s, &opts.config)).collect();
    let mut outcomes: BTreeMap<u64, Outcome> = BTreeMap::new();
    fs::create_dir_all(&opts.dir).expect("scratch directory");
    let batches: Vec<Vec<&Case>> = cases
        .chunks(opts.batch.max(1))
        .map(|c| c.iter().collect())
        .collect();
    write_workspace(&opts.dir, batches.len());
    for (i, b) in batches.iter().enumerate() {
        write_batch(&opts.dir, i, b);
    }

    // 1. The plain programs must compile.
    eprintln!("checking {} plain programs", cases.len());
    write_plain(&opts.dir, &cases);
    let (errors, _) = compile(
        &opts.dir,
        &["plain".to_string()],
        "check",
        compile_limit(cases.len()),
    );
    for (seed, d) in errors {
        outcomes.entry(seed).or_insert(Outcome::InvalidPlain(d));
    }

    // 2. With the attribute, batch by batch, setting aside cases with errors.
    let mut remaining: Vec<Vec<&Case>> = batches
        .iter()
        .map(|b| {
            b.iter()
                .copied()
                .filter(|c| !outcomes.contains_key(&c.seed))
                .collect()
        })
        .collect();
    for round in 0..8 {
        for (i, b) in remaining.iter().enumerate() {
            write_batch(&opts.dir, i, b);
        }
        let packages: Vec<String> = (0..remaining.len()).map(batch_name).collect();
        eprintln!(
            "compiling round {}: {} cases",
            round + 1,
            remaining.iter().map(Vec::len).sum::<usize>()
        );
        let n = remaining.iter().map(Vec::len).sum();
        let (errors, timed_out) = compile(&opts.dir, &packages, "build", compile_limit(n));
        if timed_out {
            for (i, b) in remaining.iter().enumerate() {
                for seed in hanging_cases(&opts.dir, i, b) {
                    outcomes.insert(seed, Outcome::TimedOut("compiling"));
                }
            }
        } else if errors.is_empty() {
            break;
        }
        for (seed, d) in errors {
            outcomes.entry(seed).or_insert(Outcome::CompileError(d));
        }
        for b in &mut remaining {
            b.retain(|c| !outcomes.contains_key(&c.seed));
        }
    }

    // 3. Run the checks.
    for (i, b) in remaining.iter().enumerate() {
        let exe = opts.dir.join("target/debug").join(format!(
            "{}{}",
            batch_name(i),
            std::env::consts::EXE_SUFFIX
        ));
        let seeds: Vec<u64> = b.iter().map(|c| c.seed).collect();
        let out = opts.dir.join("batch.out");
        outcomes.extend(run_batch(&exe, &seeds, &out, opts.case_timeout));
    }
    cases
        .into_iter()
        .map(|c| {
            let o = outcomes.remove(&c.seed).unwrap_or(Outcome::Crashed);
            (c, o)
        })
        .collect()
}

/// Runs a compiled batch `exe` of the cases `seeds` (see [`batch_main`]) and returns the outcome
/// of each case it reached. A case that kills the process, or prints nothing for `timeout`, is
/// recorded and the batch run again without it and the cases before it, until the batch ends
/// by itself. `out` is the scratch file of the batch's output.
fn run_batch(exe: &Path, seeds: &[u64], out: &Path, timeout: Duration) -> BTreeMap<u64, Outcome> {
    let mut outcomes = BTreeMap::new();
    loop {
        let mut cmd = Command::new(exe);
        cmd.args(
            seeds
                .iter()
                .filter(|s| outcomes.contains_key(*s))
                .map(|s| format!("{s:x}")),
        );
        let (text, _, ended) = run_limited(&mut cmd, out, Limit::Quiet(timeout));
        let mut started: Option<u64> = None;
        for line in text.lines() {
            let mut parts = line.splitn(4, ' ');
            let (tag, seed, kind, rest) = (
                parts.next().unwrap_or(""),
                parts.next().and_then(|s| u64::from_str_radix(s, 16).ok()),
                parts.next().unwrap_or("").to_string(),
                parts.next().unwrap_or("").replace("\\n", "\n"),
            );
            let Some(seed) = seed else { continue };
            let outcome = match tag {
                "START" => {
                    started = Some(seed);
                    continue;
                }
                "OK" => Outcome::Passed,
                "FAIL" => Outcome::Failed(kind.replace('_', " "), rest),
                "PANIC" => Outcome::Panicked(format!("{kind} {rest}").trim().to_string()),
                _ => continue,
            };
            outcomes.insert(seed, outcome);
            started = None;
        }
        match started {
            Some(seed) if !ended.success() => {
                let o = if ended == Ended::TimedOut {
                    Outcome::TimedOut("checking")
                } else {
                    Outcome::Crashed
                };
                outcomes.insert(seed, o);
            }
            _ => return outcomes,
        }
    }
}

fn batch_name(i: usize) -> String {
    format!("b{i:03}")
}

fn write_if_changed(path: &Path, text: &str) {
    if fs::read_to_string(path).ok().as_deref() != Some(text) {
        fs::create_dir_all(path.parent().expect("a parent")).expect("directory");
        fs::write(path, text).expect("write");
    }
}

fn write_workspace(dir: &Path, batches: usize) {
    let root = workspace_root();
    let mut members = vec!["\"plain\"".to_string()];
    members.extend((0..batches).map(|i| format!("\"{}\"", batch_name(i))));
    let toml = format!(
        "[workspace]\nmembers = [{}]\nresolver = \"3\"\n\n\
         [workspace.dependencies]\nautodiff = {{ path = {:?} }}\n\
         autodiff-random = {{ path = {:?} }}\n\
         ndarray = \"0.17\"\nnum-traits = \"0.2\"\n",
        members.join(", "),
        root.display().to_string(),
        root.join("autodiff-random").display().to_string()
    );
    write_if_changed(&dir.join("Cargo.toml"), &toml);
    write_if_changed(
        &dir.join("plain/Cargo.toml"),
        "[package]\nname = \"plain\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
         [dependencies]\nndarray.workspace = true\nnum-traits.workspace = true\n",
    );
    for i in 0..batches {
        let name = batch_name(i);
        write_if_changed(
            &dir.join(&name).join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\nautodiff.workspace = true\nautodiff-random.workspace = true\n\
                 ndarray.workspace = true\nnum-traits.workspace = true\n"
            ),
        );
    }
}

fn write_plain(dir: &Path, cases: &[Case]) {
    let mut lib = String::new();
    for c in cases {
        let file = format!("{}.rs", c.module_name());
        write_if_changed(&dir.join("plain/src/cases").join(&file), &c.plain_module());
        let _ = writeln!(lib, "include!(\"cases/{file}\");");
    }
    write_if_changed(&dir.join("plain/src/lib.rs"), &lib);
}

fn write_batch(dir: &Path, i: usize, cases: &[&Case]) {
    let pkg = dir.join(batch_name(i));
    let mut main = String::from(
        "// Generated by autodiff-random: runs each case's checks, one line per case.\n",
    );
    for c in cases {
        let file = format!("{}.rs", c.module_name());
        write_if_changed(&pkg.join("src/cases").join(&file), &c.module());
        let _ = writeln!(main, "include!(\"cases/{file}\");");
    }
    main.push_str(
        "\nconst CASES: &[(u64, fn() -> Result<(), autodiff_random::harness::Failure>)] = &[\n",
    );
    for c in cases {
        let _ = writeln!(main, "    ({}, {}::check),", c.seed, c.module_name());
    }
    main.push_str("];\n\nfn main() {\n    autodiff_random::driver::batch_main(CASES);\n}\n");
    write_if_changed(&pkg.join("src/main.rs"), &main);
}

/// A case's check, as a compiled batch lists it.
pub type CaseCheck = fn() -> Result<(), crate::harness::Failure>;

/// The CI test of one part of the cases the build script writes (`(seed, functions, check)`):
/// every check passes, and at least `min_functions` differentiated functions are left after
/// the known failures.
pub fn check_ci_cases(cases: &[(u64, usize, CaseCheck)], min_functions: usize) {
    let functions: usize = cases.iter().map(|c| c.1).sum();
    assert!(
        functions >= min_functions,
        "only {functions} differentiated functions in {} cases left after the known failures",
        cases.len()
    );
    let mut failures = Vec::new();
    for &(seed, _, check) in cases {
        match std::panic::catch_unwind(check) {
            Ok(Ok(())) => {}
            Ok(Err(f)) => failures.push(format!("{seed:016x}: {f}")),
            Err(_) => failures.push(format!("{seed:016x}: panicked")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed (reproduce with `cargo run -p autodiff-random --release -- --ci \
         --print SEED`):\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// The `main` of a compiled batch: runs every case not named (in hexadecimal) on the command
/// line, printing `START seed`, then `OK seed`, `FAIL seed kind report` or `PANIC seed message`.
pub fn batch_main(cases: &[(u64, CaseCheck)]) {
    use std::io::Write as _;
    let skip: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| u64::from_str_radix(&a, 16).ok())
        .collect();
    std::panic::set_hook(Box::new(|_| {}));
    let stdout = std::io::stdout();
    for &(seed, check) in cases {
        if skip.contains(&seed) {
            continue;
        }
        let mut out = stdout.lock();
        let _ = writeln!(out, "START {seed:x}");
        let _ = out.flush();
        drop(out);
        let result = std::panic::catch_unwind(check);
        let line = match result {
            Ok(Ok(())) => format!("OK {seed:x}"),
            Ok(Err(f)) => format!(
                "FAIL {seed:x} {} {}",
                f.kind.name().replace(' ', "_"),
                f.detail.replace('\n', "\\n")
            ),
            Err(p) => {
                let msg = p
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| p.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                format!("PANIC {seed:x} {}", msg.replace('\n', "\\n"))
            }
        };
        let mut out = stdout.lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Runs `cargo <verb>` on `packages` of the scratch workspace, killed after `limit`; returns
/// the first error of each case that has one, and whether the compilation was killed.
fn compile(
    dir: &Path,
    packages: &[String],
    verb: &str,
    limit: Duration,
) -> (Vec<(u64, Diagnostic)>, bool) {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    // `--keep-going`: every batch is compiled even when another has errors.
    cmd.arg(verb)
        .arg("--keep-going")
        .arg("--color=never")
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"));
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    let (_, text, ended) = run_limited(&mut cmd, &dir.join("cargo.out"), Limit::Total(limit));
    if ended == Ended::TimedOut {
        eprintln!("cargo {verb} killed after {limit:?}");
        return (Vec::new(), true);
    }
    let errors = parse_errors(&text, dir);
    if !ended.success() && errors.is_empty() {
        eprintln!("cargo {verb} failed without an error in a case:\n{text}");
    }
    (errors, false)
}

/// The cases of batch `i` (`cases`) whose compilation does not end: halves of the batch are
/// compiled alone until each hanging case is alone. Leaves the batch's files as they were.
fn hanging_cases(dir: &Path, i: usize, cases: &[&Case]) -> Vec<u64> {
    let mut hang = Vec::new();
    let mut todo: Vec<Vec<&Case>> = vec![cases.to_vec()];
    while let Some(part) = todo.pop() {
        write_batch(dir, i, &part);
        let (_, timed_out) = compile(dir, &[batch_name(i)], "build", compile_limit(part.len()));
        if !timed_out {
            continue;
        }
        if part.len() == 1 {
            hang.push(part[0].seed);
        } else {
            let (a, b) = part.split_at(part.len() / 2);
            todo.push(a.to_vec());
            todo.push(b.to_vec());
        }
    }
    write_batch(dir, i, cases);
    hang
}

/// The errors of rustc's human-readable output that point into a case file, the first per
/// case.
fn parse_errors(text: &str, dir: &Path) -> Vec<(u64, Diagnostic)> {
    let mut out: Vec<(u64, Diagnostic)> = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let l = lines[i];
        let is_error = l.starts_with("error[")
            || (l.starts_with("error: ")
                && !l.starts_with("error: could not compile")
                && !l.starts_with("error: aborting"));
        if !is_error {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < lines.len()
            && !lines[j].starts_with("error")
            && !lines[j].starts_with("warning")
            && !lines[j].starts_with("   Compiling")
            && !lines[j].starts_with("    Checking")
        {
            j += 1;
        }
        let block = lines[i..j].join("\n");
        let code = l
            .strip_prefix("error[")
            .and_then(|r| r.split(']').next())
            .unwrap_or("")
            .to_string();
        let message = l.split_once(": ").map(|x| x.1).unwrap_or(l).to_string();
        // Every case file the diagnostic mentions; the first `-->` decides.
        let mut seed = None;
        let mut at_attribute = false;
        for bl in &lines[i..j] {
            let t = bl.trim_start();
            let Some(loc) = t.strip_prefix("--> ").or_else(|| t.strip_prefix("::: ")) else {
                continue;
            };
            let Some(pos) = loc.find("c_") else { continue };
            let rest = &loc[pos + 2..];
            let Some(hex) = rest.get(..16) else { continue };
            let Ok(s) = u64::from_str_radix(hex, 16) else {
                continue;
            };
            if seed.is_none() {
                seed = Some(s);
                let mut parts = loc.rsplitn(3, ':');
                let _col = parts.next();
                let line_no: usize = parts.next().and_then(|n| n.parse().ok()).unwrap_or(0);
                let file = parts.next().unwrap_or("");
                let path = if Path::new(file).is_absolute() {
                    PathBuf::from(file)
                } else {
                    // Paths are relative to the package being compiled; find the case file.
                    find_case_file(dir, file)
                };
                if let Ok(src) = fs::read_to_string(&path) {
                    if let Some(line) = src.lines().nth(line_no.saturating_sub(1)) {
                        at_attribute = line.trim_start().starts_with("#[differentiate");
                    }
                }
                at_attribute |= block.contains("in this procedural macro expansion")
                    || block.contains("in the attribute macro `differentiate`");
            }
        }
        if let Some(s) = seed {
            if !out.iter().any(|(o, _)| *o == s) {
                out.push((
                    s,
                    Diagnostic {
                        code,
                        message,
                        at_attribute,
                        rendered: block,
                    },
                ));
            }
        }
        i = j;
    }
    out
}

fn find_case_file(dir: &Path, file: &str) -> PathBuf {
    // rustc names files relative to the scratch workspace's root.
    dir.join(file)
}

/// The summary: counts per class, and for each class other than `passed` its smallest case
/// with the program and what went wrong. Markdown.
pub fn summary(results: &[(Case, Outcome)]) -> String {
    let mut classes: BTreeMap<String, Vec<&(Case, Outcome)>> = BTreeMap::new();
    for r in results {
        classes.entry(r.1.class()).or_default().push(r);
    }
    let mut out = String::new();
    let _ = writeln!(out, "| class | cases |\n|---|---:|");
    for (class, rs) in &classes {
        let _ = writeln!(out, "| {class} | {} |", rs.len());
    }
    let _ = writeln!(out, "| total | {} |\n", results.len());
    for (class, rs) in &classes {
        if class == "passed" {
            continue;
        }
        let smallest = rs
            .iter()
            .min_by_key(|r| r.0.size())
            .expect("a class has cases");
        let (case, outcome) = (&smallest.0, &smallest.1);
        let _ = writeln!(
            out,
            "## {class}\n\n{} cases; the smallest: seed `{:016x}` ({} cases: {})\n",
            rs.len(),
            case.seed,
            rs.len(),
            rs.iter()
                .take(8)
                .map(|r| format!("{:x}", r.0.seed))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let _ = writeln!(out, "```rust\n{}```\n", case.program());
        let detail = match outcome {
            Outcome::InvalidPlain(d) | Outcome::CompileError(d) => d.rendered.clone(),
            Outcome::Failed(_, r) => r.clone(),
            Outcome::Panicked(m) => m.clone(),
            Outcome::Passed | Outcome::Crashed | Outcome::TimedOut(_) => String::new(),
        };
        if !detail.is_empty() {
            let _ = writeln!(out, "```text\n{}\n```\n", detail.trim_end());
        }
    }
    out
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    /// A stand-in for a compiled batch: a shell script that runs the cases 1, 2 and 3 the way
    /// [`batch_main`] does (skipping those named on its command line), where case 2 never
    /// ends and case 3 fails.
    fn fake_batch(dir: &Path) -> PathBuf {
        let exe = dir.join("batch.sh");
        fs::write(
            &exe,
            "#!/bin/sh\n\
             for s in 1 2 3; do\n\
               case \" $* \" in *\" $s \"*) continue;; esac\n\
               echo \"START $s\"\n\
               if [ $s = 2 ]; then sleep 600; fi\n\
               if [ $s = 3 ]; then echo \"FAIL $s wrong_gradient report\"; else echo \"OK $s\"; fi\n\
             done\n",
        )
        .expect("write the script");
        let mut perm = fs::metadata(&exe).expect("the script").permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        fs::set_permissions(&exe, perm).expect("make the script executable");
        exe
    }

    #[test]
    fn a_case_that_never_ends_times_out_and_the_others_run() {
        let dir =
            std::env::temp_dir().join(format!("autodiff-random-timeout-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("scratch directory");
        let exe = fake_batch(&dir);
        let got = run_batch(
            &exe,
            &[1, 2, 3],
            &dir.join("out"),
            Duration::from_millis(300),
        );
        assert_eq!(got.get(&1), Some(&Outcome::Passed));
        assert_eq!(got.get(&2), Some(&Outcome::TimedOut("checking")));
        assert_eq!(
            got.get(&3),
            Some(&Outcome::Failed("wrong gradient".into(), "report".into()))
        );
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_process_that_outlasts_its_total_limit_is_killed() {
        let dir =
            std::env::temp_dir().join(format!("autodiff-random-limit-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("scratch directory");
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo started; sleep 600");
        let (out, _, ended) = run_limited(
            &mut cmd,
            &dir.join("out"),
            Limit::Total(Duration::from_millis(300)),
        );
        assert_eq!(ended, Ended::TimedOut);
        assert_eq!(out, "started\n");
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg("echo done >&2");
        let (_, err, ended) = run_limited(
            &mut cmd,
            &dir.join("out"),
            Limit::Total(Duration::from_secs(600)),
        );
        assert!(ended.success());
        assert_eq!(err, "done\n");
        let _ = fs::remove_dir_all(&dir);
    }
}
