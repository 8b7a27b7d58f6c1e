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

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

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
    let errors = compile(&opts.dir, &["plain".to_string()], "check");
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
        let errors = compile(&opts.dir, &packages, "build");
        if errors.is_empty() {
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
        let mut skip: Vec<u64> = Vec::new();
        loop {
            let out = Command::new(&exe)
                .args(skip.iter().map(|s| format!("{s:x}")))
                .output()
                .expect("run a batch");
            let text = String::from_utf8_lossy(&out.stdout);
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
                match tag {
                    "START" => started = Some(seed),
                    "OK" => {
                        outcomes.insert(seed, Outcome::Passed);
                        started = None;
                    }
                    "FAIL" => {
                        outcomes.insert(seed, Outcome::Failed(kind.replace('_', " "), rest));
                        started = None;
                    }
                    "PANIC" => {
                        outcomes.insert(
                            seed,
                            Outcome::Panicked(format!("{kind} {rest}").trim().to_string()),
                        );
                        started = None;
                    }
                    _ => {}
                }
            }
            match started {
                Some(seed) if !out.status.success() => {
                    outcomes.insert(seed, Outcome::Crashed);
                    skip.extend(
                        b.iter()
                            .map(|c| c.seed)
                            .filter(|s| outcomes.contains_key(s)),
                    );
                }
                _ => break,
            }
        }
    }
    cases
        .into_iter()
        .map(|c| {
            let o = outcomes.remove(&c.seed).unwrap_or(Outcome::Crashed);
            (c, o)
        })
        .collect()
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
         autodiff-random = {{ path = {:?} }}\n",
        members.join(", "),
        root.display().to_string(),
        root.join("autodiff-random").display().to_string()
    );
    write_if_changed(&dir.join("Cargo.toml"), &toml);
    write_if_changed(
        &dir.join("plain/Cargo.toml"),
        "[package]\nname = \"plain\"\nversion = \"0.0.0\"\nedition = \"2024\"\n",
    );
    for i in 0..batches {
        let name = batch_name(i);
        write_if_changed(
            &dir.join(&name).join("Cargo.toml"),
            &format!(
                "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\n\n\
                 [dependencies]\nautodiff.workspace = true\nautodiff-random.workspace = true\n"
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

/// Runs `cargo <verb>` on `packages` of the scratch workspace; returns the first error of each
/// case that has one.
fn compile(dir: &Path, packages: &[String], verb: &str) -> Vec<(u64, Diagnostic)> {
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
    let out = cmd.output().expect("run cargo");
    let text = String::from_utf8_lossy(&out.stderr);
    let errors = parse_errors(&text, dir);
    if !out.status.success() && errors.is_empty() {
        eprintln!("cargo {verb} failed without an error in a case:\n{text}");
    }
    errors
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
            Outcome::Passed | Outcome::Crashed => String::new(),
        };
        if !detail.is_empty() {
            let _ = writeln!(out, "```text\n{}\n```\n", detail.trim_end());
        }
    }
    out
}
