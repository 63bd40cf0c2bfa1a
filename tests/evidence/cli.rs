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
