//! Evaluates a file of requests against a policy, one JSON decision per line.
//!
//! ```text
//! cargo run --example evaluate -- POLICY.json REQUESTS.jsonl
//! ```
//!
//! Interface version 3 (see the README, "The evaluate interface"). Each input
//! line is either a bare request object, an envelope
//! `{"request": {...}, "consents": [event, ...]}` whose consent events make
//! the line self-contained, (version 2) a rights line
//! `{"rights": {...}, "holdings": [...], "consents": [...]}` answered on the
//! policy's home-region calendar, or (version 3) a lifecycle line
//! `{"lifecycle": {...}, "holdings": [...], "consents": [...], "events": [...]}`
//! or an incident line `{"incident": {...}, "at": "..."}`. Blank lines and lines starting with `#`
//! are skipped. Each other line prints one line: the decision or the answer
//! as JSON, or
//! `{"error": "...", "line": N}` when the line cannot be read; the run goes
//! on either way. The exit status is 0 unless the policy cannot be loaded or
//! the input cannot be read (a directory, a read error): then the run stops
//! with a message on standard error and exit status 1.

use std::io::{BufRead, BufWriter, Write};
use std::process::ExitCode;

use privacy_engine::{Engine, answer_line};
use serde_json::json;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [policy_path, requests_path] = args.as_slice() else {
        eprintln!("usage: evaluate POLICY.json REQUESTS.jsonl");
        return ExitCode::from(2);
    };
    let engine = match std::fs::read_to_string(policy_path)
        .map_err(|e| e.to_string())
        .and_then(|text| Engine::from_json(&text).map_err(|e| e.to_string()))
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
    match run(&engine, reader, &mut out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cannot read `{requests_path}`: {e}");
            ExitCode::from(1)
        }
    }
}

/// Decides every line of `input` and writes one line for each to `out`.
///
/// A line that is not UTF-8 text gets an error line and the run goes on; an
/// error reading the input (a directory, a device failing) ends the run
/// with that error instead of retrying a read that fails again.
///
/// # Errors
///
/// The error of the first read that fails.
pub(crate) fn run(engine: &Engine, mut input: impl BufRead, out: &mut impl Write) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for n in 1.. {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let printed = match std::str::from_utf8(&buf) {
            Err(_) => json!({"error": "line is not valid UTF-8 text", "line": n}).to_string(),
            Ok(line) if line.trim().is_empty() || line.trim_start().starts_with('#') => continue,
            Ok(line) => match decide(engine, strip_line_end(line)) {
                Ok(decision) => decision,
                Err(error) => json!({"error": error, "line": n}).to_string(),
            },
        };
        if writeln!(out, "{printed}").is_err() {
            return Ok(());
        }
    }
    // A closed output (a pipe read by `head`) ends the run quietly.
    let _ = out.flush();
    Ok(())
}

/// The line without its `\n` or `\r\n`, as `BufRead::lines` gives it.
fn strip_line_end(line: &str) -> &str {
    let line = line.strip_suffix('\n').unwrap_or(line);
    line.strip_suffix('\r').unwrap_or(line)
}

/// One line: a decision or an answer as JSON, or an error message that
/// names fields, not values.
fn decide(engine: &Engine, line: &str) -> Result<String, String> {
    answer_line(engine, line).map(|out| out.to_json()).map_err(|e| e.to_string())
}
