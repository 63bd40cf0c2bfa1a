//! The `evaluate` example's reading loop: an input that cannot be read ends
//! the run with an error instead of printing an error line forever.

use std::io::{BufRead, BufReader, Read};

#[allow(dead_code, reason = "the example's `main` is not called from the tests")]
#[path = "../../examples/evaluate.rs"]
mod evaluate;

/// A reader whose every read fails, as reading a directory does.
struct Failing;

impl Read for Failing {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("read failed"))
    }
}

fn run(input: impl BufRead) -> (std::io::Result<()>, String) {
    let mut out = Vec::new();
    let result = evaluate::run(crate::engine(), input, &mut out);
    (result, String::from_utf8(out).unwrap())
}

#[test]
fn a_failing_read_ends_the_run_with_the_error() {
    let (result, out) = run(BufReader::new(Failing));
    assert_eq!(result.unwrap_err().to_string(), "read failed");
    assert!(out.is_empty(), "{out}");
}

#[test]
fn a_directory_as_input_ends_the_run_with_an_error() {
    let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
    let (result, out) = run(BufReader::new(dir));
    assert!(result.is_err());
    assert!(out.is_empty(), "{out}");
}

#[test]
fn a_line_that_is_not_utf8_gets_an_error_line_and_the_run_goes_on() {
    let input: &[u8] = b"\xff\xfe\n# comment\n\n{}\r\n";
    let (result, out) = run(input);
    result.unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].contains("not valid UTF-8") && lines[0].contains("\"line\":1"), "{}", lines[0]);
    assert!(lines[1].contains("\"error\"") && lines[1].contains("\"line\":4"), "{}", lines[1]);
}

#[test]
fn a_rights_line_prints_its_answer_among_decisions() {
    let rights = r#"{"rights":{"case":"6f9619ff-8b86-d011-b42d-00c04fc964ff","subject":"u","right":{"kind":"access"},"received":"2026-02-09T10:00:00+08:00","at":"2026-02-09T10:00:00+08:00","identity":"verified"},"holdings":[{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"]}]}"#;
    let request = r#"{"action":"collect","subject":{"id":"u","age":30},"categories":["user.contact.phone_number"],"purpose":"registration_login","at":"2024-05-01T10:00:00+08:00"}"#;
    let input = format!("{rights}\n{request}\n");
    let (result, out) = run(input.as_bytes());
    result.unwrap();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert_eq!(lines[0]["outcome"], "accepted", "{out}");
    // 15 working days over the 2026 Spring Festival (tests/api/calendar.rs).
    assert_eq!(lines[0]["deadline"]["date"], "2026-03-06", "{out}");
    assert_eq!(lines[1]["verdict"], "permit", "{out}");
}

#[test]
fn lifecycle_and_incident_lines_print_their_answers() {
    let cancel = r#"{"lifecycle":{"lifecycle":"cancel","subject":"u","at":"2026-03-02T10:00:00+08:00","identity":"verified"},"holdings":[{"category":"user.financial.transaction","origin":"provided","purposes":["ordering"],"events":{"transaction_completed":"2025-06-10T15:00:00+08:00"}}]}"#;
    let incident = r#"{"incident":{"categories":["user.contact.phone_number"],"subjects":12,"discovered":"2026-03-01T08:00:00+08:00"},"at":"2026-03-01T10:00:00+08:00"}"#;
    let input = format!("{cancel}\n{incident}\n{{\"incident\":{{}}}}\n");
    let (result, out) = run(input.as_bytes());
    result.unwrap();
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 3, "{out}");
    // 004 §10: the account ends at once; §4.1: the transaction waits for
    // its 3 years from completion.
    assert_eq!(lines[0]["outcome"], "accepted", "{out}");
    assert_eq!(lines[0]["categories"][0]["due"], "2028-06-11", "{out}");
    assert_eq!(lines[0]["categories"][0]["restricted"], true, "{out}");
    // PIPL art. 57: the regulator is notified.
    assert!(lines[1]["duties"].as_array().unwrap().iter().any(|d| d["duty"] == "notify_regulator"), "{out}");
    assert_eq!(lines[2]["line"], 3, "{out}");
}
