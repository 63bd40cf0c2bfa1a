//! The person's side (feature `sqlite`): a subject's export, and listing
//! the overdue rights-request cases.
//!
//! ```sh
//! cargo bench --features sqlite --bench rights -- --warm-up-time 1 --measurement-time 5
//! ```
//!
//! - `rights/export/memory` and `rights/export/sqlite`: `export` of one
//!   subject with `PE_BENCH_EXPORT_EVENTS` consent events (default 1,000,
//!   with their receipts), 100 audit decisions, 5 holdings and 3 cases,
//!   among as many events of other subjects; `rights/export_json/memory`
//!   adds `Export::to_json`; `rights/subject_records/sqlite` is the part of
//!   the SQLite export that reads and decodes the subject's records.
//!   `rights/export_replica/sqlite` is `Replica::export` over the same
//!   SQLite file: the same document, the consent events read from the
//!   replica's ledger, only the erasures and cases from the file.
//! - `rights/overdue/sqlite`: `overdue(today, PE_BENCH_OVERDUE_LIMIT)`
//!   (default 1,000) among `PE_BENCH_CASES` cases (default 1,000,000), a
//!   tenth of them open, their deadlines spread over a year, a tenth of
//!   the open ones overdue. The file is built once in `PE_BENCH_DIR`
//!   (default: the system's temporary directory) and kept, named after
//!   the count: the steps' rows are copied from a case the store recorded,
//!   in one transaction, rather than recorded one by one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, missing_docs)]

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Days, NaiveDate, TimeDelta, Utc};
use criterion::Criterion;
use privacy_engine::{
    Action, AnswerOutcome, AuditEntry, AuditLog, CaseEvent, CaseId, CaseState, CaseStore, CategoryKey, ConsentChange,
    ConsentEvent, ConsentQualities, Controller, DurableLog, Engine, Error, ExportSources, Holding, HoldingOrigin,
    Holdings, InMemoryAuditStore, InMemoryLedger, InMemoryLog, Policy, PolicyRef, PseudonymKey, Pseudonymiser,
    ReceiptDetails, Replica, Request, RightsRequestKind, Scope, SqliteLog, Subject, SubjectId, Uuid, export,
};

fn knob(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

fn recorded() -> DateTime<Utc> {
    "2024-05-01T02:00:00Z".parse().unwrap()
}

fn bench_dir() -> PathBuf {
    std::env::var_os("PE_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from)
}

fn engine() -> Engine {
    Engine::new(Policy::from_json(include_str!("../examples/policies/seed-004.json")).unwrap()).unwrap()
}

/// Event `n` of `subject`: grants, refusals and withdrawals over five
/// optional purposes of seed-004, a minute apart, ending before
/// [`recorded`].
fn event(id: u128, subject: &str, n: u64, total: u64) -> ConsentEvent {
    const SCOPES: [(&str, &str); 5] = [
        ("face_verification", "user.biometric.face"),
        ("account_binding", "user.account.avatar"),
        ("usage_statistics", "user.device.device_id"),
        ("de_identified_analytics", "user.behavior.click_history"),
        ("payment_location_service", "user.location.precise"),
    ];
    let (purpose, category) = SCOPES[(n % 5) as usize];
    let scope = Scope::new(vec![purpose.into()], vec![CategoryKey::new(category).unwrap()]);
    let change = match (n / 5) % 3 {
        0 => ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None },
        1 => ConsentChange::Withdraw { scope },
        _ => ConsentChange::Refuse { scope },
    };
    let at = (recorded() - TimeDelta::minutes((total - n) as i64)).fixed_offset();
    ConsentEvent::new(Uuid::from_u128(id), at, subject, "seed-004", "2021-08-20", change)
}

/// Fills `store` with `events` events of `user-42` and as many of others,
/// and three cases.
fn fill(store: &mut (impl DurableLog + CaseStore), events: u64) {
    let ours: Vec<ConsentEvent> = (0..events).map(|n| event(n as u128 + 1, "user-42", n, events)).collect();
    let theirs: Vec<ConsentEvent> =
        (0..events).map(|n| event((1 << 64) + n as u128, &format!("other-{}", n % 50), n, events)).collect();
    for chunk in ours.chunks(500).chain(theirs.chunks(500)) {
        store.append(chunk, recorded()).unwrap();
    }
    let due = NaiveDate::from_ymd_opt(2024, 5, 22).unwrap();
    for n in 0..3u128 {
        let at = recorded() + TimeDelta::hours(n as i64);
        store
            .record_case(&CaseEvent::received(
                CaseId(Uuid::from_u128(n)),
                "user-42",
                RightsRequestKind::Access,
                at,
                due,
            ))
            .unwrap();
    }
    let answered =
        CaseEvent::new(CaseId(Uuid::from_u128(0)), "user-42", CaseState::Answered, recorded() + TimeDelta::hours(5));
    store.record_case(&answered.outcome(AnswerOutcome::Accepted)).unwrap();
}

/// 100 decisions about `user-42`.
fn audit(engine: &Engine) -> Vec<AuditEntry> {
    let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32]).unwrap());
    let mut log = AuditLog::open(InMemoryAuditStore::new(), pseudonyms).unwrap();
    let ledger = InMemoryLedger::new();
    let policy = PolicyRef::of(engine.policy());
    for n in 0..100u128 {
        let request = Request::new(
            Action::Collect,
            Subject::new("user-42").age(30),
            vec![CategoryKey::new("user.contact.phone_number").unwrap()],
            recorded().fixed_offset(),
        )
        .purpose("registration_login");
        let decision = engine.evaluate(&request, &ledger);
        log.record_decision(Uuid::from_u128(n), request.at, &request, &decision, &policy).unwrap();
    }
    log.entries().unwrap()
}

struct Held;

impl Holdings for Held {
    fn held(&self, _: &SubjectId) -> Result<Vec<Holding>, Error> {
        let held = [
            ("user.financial.transaction", "ordering"),
            ("user.contact.phone_number", "payment_delivery"),
            ("user.account.username", "registration_login"),
            ("user.device.device_id", "usage_statistics"),
            ("user.log.access", "service_logs"),
        ];
        Ok(held
            .iter()
            .map(|(category, purpose)| {
                let mut h = Holding::new(CategoryKey::new(*category).unwrap(), HoldingOrigin::Provided);
                h.purposes = vec![(*purpose).into()];
                h.events.collected = Some("2024-01-01T10:00:00+08:00".parse().unwrap());
                h.events.transaction_completed = Some("2024-04-01T10:00:00+08:00".parse().unwrap());
                h
            })
            .collect())
    }
}

fn exports(c: &mut Criterion) {
    let events = knob("PE_BENCH_EXPORT_EVENTS", 1_000);
    let engine = engine();
    let entries = audit(&engine);
    let details = ReceiptDetails::new(Uuid::nil(), Controller::new("Example Co.", "privacy@example.com"), "Settings");
    let sources = ExportSources::new(&engine, &Held).audit(&entries).receipts(&details);
    let subject = SubjectId::from("user-42");
    let at = (recorded() + TimeDelta::hours(6)).fixed_offset();

    let mut memory = InMemoryLog::new();
    fill(&mut memory, events);
    let out = export(&mut memory, &subject, at, &sources).unwrap();
    assert_eq!(out.consent_history.len() as u64, events);
    println!(
        "rights/export: {} bytes of JSON for {events} events, {} receipts",
        out.to_json().unwrap().len(),
        out.receipts.len()
    );

    let path = bench_dir().join(format!("pe-bench-rights-export-{}.db", std::process::id()));
    remove(&path);
    let mut sqlite = SqliteLog::open(&path).unwrap();
    fill(&mut sqlite, events);

    let mut g = c.benchmark_group("rights");
    g.bench_function("export/memory", |b| b.iter(|| export(&mut memory, &subject, at, &sources).unwrap()));
    g.bench_function("export_json/memory", |b| {
        b.iter(|| export(&mut memory, &subject, at, &sources).unwrap().to_json().unwrap())
    });
    g.bench_function("export/sqlite", |b| b.iter(|| export(&mut sqlite, &subject, at, &sources).unwrap()));
    g.bench_function("subject_records/sqlite", |b| b.iter(|| sqlite.subject_records(&subject).unwrap()));
    let mut replica = Replica::open(SqliteLog::open(&path).unwrap()).unwrap();
    assert_eq!(replica.export(&subject, at, &sources).unwrap(), out);
    g.bench_function("export_replica/sqlite", |b| b.iter(|| replica.export(&subject, at, &sources).unwrap()));
    g.finish();
    drop((sqlite, replica));
    remove(&path);
}

fn remove(path: &std::path::Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}

/// The first day of the cases' deadlines: case `i` is due `i % 365` days
/// after it.
fn first_due() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}

/// The store of `cases` cases, built once: one case recorded through the
/// store as the template of each kind of row, then every case's rows
/// copied from it in one transaction.
fn cases_store(cases: u64) -> PathBuf {
    let path = bench_dir().join(format!("pe-bench-rights-cases-{cases}.db"));
    if path.exists() {
        return path;
    }
    let building = path.with_extension("building");
    remove(&building);
    let mut log = SqliteLog::open(&building).unwrap();
    let template = CaseId(Uuid::nil());
    let at = recorded();
    log.record_case(&CaseEvent::received(template, "subject", RightsRequestKind::Access, at, first_due())).unwrap();
    log.record_case(&CaseEvent::new(template, "subject", CaseState::Answered, at).outcome(AnswerOutcome::Accepted))
        .unwrap();
    drop(log);
    let mut conn = rusqlite::Connection::open(&building).unwrap();
    conn.pragma_update(None, "synchronous", "OFF").unwrap();
    let body = |n: i64| -> serde_json::Value {
        let text: String = conn
            .query_row(
                "SELECT body FROM case_steps WHERE case_id = ?1 AND n = ?2",
                rusqlite::params![template.0.as_bytes().as_slice(), n],
                |r| r.get(0),
            )
            .unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let (received, answered) = (body(0), body(1).to_string());
    let tx = conn.transaction().unwrap();
    tx.execute("DELETE FROM case_steps", []).unwrap();
    tx.execute("DELETE FROM cases", []).unwrap();
    {
        let mut case = tx
            .prepare("INSERT INTO cases (id, subject, sealed, received, state, due) VALUES (?1, ?2, NULL, ?3, ?4, ?5)")
            .unwrap();
        let mut step = tx.prepare("INSERT INTO case_steps (case_id, n, body) VALUES (?1, ?2, ?3)").unwrap();
        for i in 0..cases {
            let id = Uuid::from_u128(u128::from(i) * 0x9E37_79B9_7F4A_7C15 + 1);
            let due = first_due().checked_add_days(Days::new(i % 365)).unwrap().to_string();
            let open = i % 10 == 0;
            let mut first = received.clone();
            first["due"] = due.clone().into();
            let state = if open { "received" } else { "answered" };
            let received_at = "2024-05-01T02:00:00.000000000Z";
            case.execute(rusqlite::params![
                id.as_bytes().as_slice(),
                format!("subject-{}", i % 100_000),
                received_at,
                state,
                due
            ])
            .unwrap();
            step.execute(rusqlite::params![id.as_bytes().as_slice(), 0, first.to_string()]).unwrap();
            if !open {
                step.execute(rusqlite::params![id.as_bytes().as_slice(), 1, answered]).unwrap();
            }
        }
    }
    tx.commit().unwrap();
    drop(conn);
    std::fs::rename(&building, &path).unwrap();
    remove(&building);
    path
}

fn overdue(c: &mut Criterion) {
    let cases = knob("PE_BENCH_CASES", 1_000_000);
    let limit = knob("PE_BENCH_OVERDUE_LIMIT", 1_000) as usize;
    let path = cases_store(cases);
    let mut log = SqliteLog::open(&path).unwrap();
    // A tenth of the year's deadlines are past: a tenth of the open cases.
    let today = first_due().checked_add_days(Days::new(37)).unwrap();
    let listed = log.overdue(today, limit).unwrap();
    assert!(listed.windows(2).all(|w| w[0].due <= w[1].due));
    println!("rights/overdue: {} listed among {cases} cases", listed.len());
    let mut g = c.benchmark_group("rights");
    g.sample_size(10);
    g.bench_function("overdue/sqlite", |b| b.iter(|| log.overdue(today, limit).unwrap()));
    g.finish();
}

fn main() {
    let mut c = Criterion::default().warm_up_time(Duration::from_secs(1)).configure_from_args();
    exports(&mut c);
    overdue(&mut c);
    c.final_summary();
}
