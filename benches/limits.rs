//! The cost of untrusted input below the limits: decision time and memory
//! of one JSON line (`decide_line`, then `Decision::to_json`, as a service
//! answers it) at 1, 100, 1,000 and the limit of categories per request
//! (declared and undeclared) and of consent events per line.
//!
//! A simple timed bench (`harness = false`): `cargo bench --bench limits`.
//! Each case runs in a child process of its own (the bench re-runs itself
//! with the case's name), so that the peak resident memory it reports
//! (`VmHWM` of `/proc/self/status`, Linux only) is that case's alone; the
//! memory column is the peak's rise over the engine's load, the line's
//! text included. The README's "Cost on untrusted input" table comes from
//! this output.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::hint::black_box;
use std::process::Command;
use std::time::{Duration, Instant};

use privacy_engine::{Engine, MAX_CATEGORIES_PER_REQUEST, MAX_CONSENT_EVENTS_PER_LINE, Policy, decide_line};

const SEED_004: &str = include_str!("../examples/policies/seed-004.json");
const SIZES: [usize; 3] = [1, 100, 1_000];

/// seed-004 with `user.bench` and 1,024 categories below it, all covered
/// by a core purpose `bench`.
fn declared_policy() -> String {
    let mut doc: serde_json::Value = serde_json::from_str(SEED_004).unwrap();
    let cats = doc["categories"].as_array_mut().unwrap();
    cats.push(serde_json::json!({"key": "user.bench"}));
    for i in 0..MAX_CATEGORIES_PER_REQUEST {
        cats.push(serde_json::json!({"key": format!("user.bench.c{i}")}));
    }
    doc["purposes"].as_array_mut().unwrap().push(serde_json::json!({
        "id": "bench", "basis": "core", "categories": ["user.bench"], "cites": "bench"
    }));
    doc.to_string()
}

fn request(categories: &[String], purpose: &str) -> String {
    format!(
        r#"{{"action":"collect","subject":{{"id":"u-1","age":30}},"categories":[{}],"purpose":"{purpose}","at":"2024-05-01T10:00:00+08:00"}}"#,
        categories.join(",")
    )
}

/// A line with `n` categories, `user.bench.c<i>` (declared) or `user.x<i>`
/// (undeclared).
fn categories_line(n: usize, declared: bool) -> String {
    let prefix = if declared { "user.bench.c" } else { "user.x" };
    let cats: Vec<String> = (0..n).map(|i| format!(r#""{prefix}{i}""#)).collect();
    request(&cats, "bench")
}

/// An envelope for face verification with `n` consent events of `u-1`, a
/// minute apart in time order: the camera permission, then grants and
/// withdrawals of the purpose in turn (the last a grant when `n` is even).
fn events_line(n: usize) -> String {
    let events: Vec<String> = (0..n)
        .map(|i| {
            let change = match i {
                0 => r#"{"type":"permission_on","permission":"camera"}"#,
                i if i % 2 == 1 => {
                    r#"{"type":"grant","qualities":["affirmative","explicit","separate"],"scope":{"purposes":["face_verification"],"categories":["user.biometric.face"]}}"#
                }
                _ => r#"{"type":"withdraw","scope":{"purposes":["face_verification"],"categories":["user.biometric.face"]}}"#,
            };
            let at = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00+08:00").unwrap()
                + chrono::Duration::minutes(i as i64);
            format!(
                r#"{{"id":"{}","at":"{}","subject":"u-1","policy_id":"seed-004","policy_version":"2021-08-20","change":{change}}}"#,
                uuid::Uuid::from_u128(i as u128 + 1),
                at.to_rfc3339()
            )
        })
        .collect();
    let req = request(&[r#""user.biometric.face""#.to_owned()], "face_verification");
    format!(r#"{{"request":{req},"consents":[{}]}}"#, events.join(","))
}

/// The cases: (name, size).
fn cases() -> Vec<(String, usize)> {
    let mut out = Vec::new();
    for kind in ["declared", "undeclared"] {
        for n in SIZES.into_iter().chain([MAX_CATEGORIES_PER_REQUEST]) {
            out.push((format!("categories_{kind}"), n));
        }
    }
    for n in SIZES.into_iter().chain([MAX_CONSENT_EVENTS_PER_LINE]) {
        out.push(("consent_events".to_owned(), n));
    }
    out
}

/// Peak resident memory so far, in KiB.
fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs one case in this process and prints `name n bytes median_us peak_kib`.
fn run_case(name: &str, n: usize) {
    let engine = Engine::new(Policy::from_json(&declared_policy()).unwrap()).unwrap();
    let base = peak_kib();
    let line = match name {
        "categories_declared" => categories_line(n, true),
        "categories_undeclared" => categories_line(n, false),
        _ => events_line(n),
    };
    let decide = || decide_line(&engine, black_box(&line)).unwrap().to_json();
    let expected = decide();
    let mut times = Vec::new();
    let started = Instant::now();
    while times.len() < 5 || (started.elapsed() < Duration::from_millis(500) && times.len() < 10_000) {
        let t = Instant::now();
        let json = decide();
        times.push(t.elapsed());
        assert_eq!(json.len(), expected.len());
    }
    times.sort();
    let median = times[times.len() / 2];
    let rise = base.zip(peak_kib()).map_or(String::from("n/a"), |(b, p)| (p.saturating_sub(b)).to_string());
    println!("{name} {n} {} {:.1} {rise}", line.len(), median.as_secs_f64() * 1e6);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--case") {
        run_case(&args[i + 1], args[i + 2].parse().unwrap());
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    println!("case n line_bytes median_us peak_rise_kib");
    let exe = std::env::current_exe().unwrap();
    for (name, n) in cases() {
        let out = Command::new(&exe).args(["--case", &name, &n.to_string()]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
