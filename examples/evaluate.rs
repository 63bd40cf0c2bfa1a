//! Evaluates a file of requests against a policy, one JSON decision per line.
//!
//! ```text
//! cargo run --example evaluate -- POLICY.json REQUESTS.jsonl
//! ```
//!
//! Interface version 1 (see the README, "The evaluate interface"). Each input
//! line is either a bare request object, or an envelope
//! `{"request": {...}, "consents": [event, ...]}` whose consent events make
//! the line self-contained. Blank lines and lines starting with `#` are
//! skipped. Each other line prints one line: the decision as JSON, or
//! `{"error": "...", "line": N}` when the line cannot be read; the run goes
//! on either way. The exit status is 0 unless the policy cannot be loaded.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use privacy_engine::{Engine, Policy, decide_line};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy_path, requests_path] = args.as_slice() else {
        eprintln!("usage: evaluate POLICY.json REQUESTS.jsonl");
        return ExitCode::from(2);
    };
    let engine = match std::fs::read_to_string(policy_path)
        .map_err(|e| e.to_string())
        .and_then(|text| Policy::from_json(&text).map_err(|e| e.to_string()))
        .and_then(|p| Engine::new(p).map_err(|e| e.to_string()))
    {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("cannot load policy `{policy_path}`: {e}");
            return ExitCode::from(1);
        }
    };
    let reader: Box<dyn BufRead> = if requests_path == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        match std::fs::File::open(requests_path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                eprintln!("cannot open `{requests_path}`: {e}");
                return ExitCode::from(1);
            }
        }
    };
    let mut out = BufWriter::new(std::io::stdout().lock());
    for (i, line) in reader.lines().enumerate() {
        let n = i + 1;
        let printed = match line {
            Err(_) => json!({"error": "line is not valid UTF-8 text", "line": n}).to_string(),
            Ok(line) if line.trim().is_empty() || line.trim_start().starts_with('#') => continue,
            Ok(line) => match decide(&engine, &line) {
                Ok(decision) => decision,
                Err(error) => json!({"error": error, "line": n}).to_string(),
            },
        };
        if writeln!(out, "{printed}").is_err() {
            break;
        }
    }
    let _ = out.flush();
    ExitCode::SUCCESS
}

/// One line: a decision as JSON, or an error message that names fields, not
/// values.
fn decide(engine: &Engine, line: &str) -> Result<String, String> {
    decide_line(engine, line).map(|d| d.to_json()).map_err(|e| e.to_string())
}
