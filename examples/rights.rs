//! One person's side of seed-004, step by step: a consent, its withdrawal,
//! an access request recorded in the audit log and the person's export
//! (which lists it), a deletion partly accepted because a statutory
//! minimum still runs, and the 15-working-day deadline (004 §9) counted on
//! the Chinese calendar, over the 2025 National Day holiday and its
//! adjusted working days. The consent events and each rights request (as
//! a case) are kept in an in-memory durable store, which the export reads
//! (the SQLite and PostgreSQL stores keep them the same way). It ends with
//! the cancellation of the account that step 3's request followed: what
//! stops at once, each held category's deletion date, and the cancellation
//! kept in the store as a lifecycle event, after which the store refuses a
//! second one.
//!
//! Run with `cargo run --example rights`. Every figure it prints is checked
//! against the one computed another way; a mismatch ends it with an error.

use privacy_engine::{
    Action, AnswerOutcome, AuditLog, BeyondData, CaseEvent, CaseState, CaseStore, CategoryKey, ChinaCalendar,
    ConsentChange, ConsentEvent, ConsentQualities, Deadline, DurableLog, Engine, ExportSources, Holding, Holdings,
    InMemoryAuditStore, InMemoryLedger, InMemoryLog, ItemOutcome, LifecycleChange, LifecycleDuty, LifecycleEvent,
    LifecycleOutcome, LifecycleRequest, LifecycleStore, LimitGround, NaiveDate, PolicyRef, PseudonymKey, Pseudonymiser,
    Request, RightsAnswer, RightsDuty, RightsRequest, Scope, Span, Subject, SubjectId, Uuid, WeekdayCalendar,
    WorkingCalendar, export,
};

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

/// The person.
const SUBJECT: &str = "u-1042";

/// Fails with `what` unless `holds`.
fn ensure(holds: bool, what: &str) -> Result<()> {
    if holds { Ok(()) } else { Err(format!("inconsistent: {what}").into()) }
}

fn main() -> Result<()> {
    let engine = Engine::from_json(include_str!("policies/seed-004.json"))?;
    let calendar = ChinaCalendar::new();
    let mut ledger = InMemoryLedger::new();
    let mut cases = InMemoryLog::new();
    println!("policy `{}` {}, calendar `{}`\n", engine.policy().id, engine.policy().version, calendar.version());

    consent_then_withdraw(&engine, &mut ledger, &mut cases)?;
    let access = access(&engine, &ledger, &mut cases)?;
    deletion(&engine, &ledger, &mut cases)?;
    deadline(&access, &calendar)?;
    cancellation(&engine, &ledger, &mut cases)?;
    Ok(())
}

/// Step 1: a consent to usage statistics (004 §1.2.7(3)), then its withdrawal
/// through a rights request (PIPL art. 15): what stops, and from when.
fn consent_then_withdraw(engine: &Engine, ledger: &mut InMemoryLedger, cases: &mut InMemoryLog) -> Result<()> {
    let scope = Scope::new(vec!["usage_statistics".into()], vec![CategoryKey::new("user.device.device_id")?]);
    let grant =
        ConsentChange::Grant { qualities: ConsentQualities::affirmative(), scope: scope.clone(), expires: None };
    record(ledger, cases, event(1, "2025-09-01T09:00:00+08:00", grant)?)?;
    let collect = |at: &str| -> Result<Request> {
        Ok(Request::new(
            Action::Collect,
            Subject::new(SUBJECT).age(30),
            vec![CategoryKey::new("user.device.device_id")?],
            at.parse()?,
        )
        .purpose("usage_statistics"))
    };
    let before = engine.evaluate(&collect("2025-09-02T10:00:00+08:00")?, &*ledger);
    println!("1. consent to usage statistics on 2025-09-01; collecting the device id on 09-02: {:?}", before.verdict);
    ensure(before.is_permit(), "collection with consent is permitted")?;

    let request = rights_request(
        1,
        r#"{"kind":"withdrawal","purposes":["usage_statistics"]}"#,
        "2025-09-10T20:00:00+08:00",
        "2025-09-10T20:00:00+08:00",
    )?;
    let answer = answer(engine, &request, &[], ledger)?;
    let stops = answer.stops_from.map(|t| t.to_rfc3339()).unwrap_or_default();
    let unavailable: Vec<String> = answer.unavailable.iter().map(ToString::to_string).collect();
    println!("   withdrawal: {:?}, stops from {stops}; unavailable: {}", answer.outcome, unavailable.join(", "));
    ensure(answer.outcome == AnswerOutcome::Accepted, "a withdrawal of an optional purpose is accepted")?;
    ensure(
        answer.duties.iter().any(|d| matches!(d, RightsDuty::RecordWithdrawal { .. })),
        "the withdrawal is to be recorded",
    )?;
    // The duty carried out: the withdrawal in the ledger, as of the request.
    record(ledger, cases, event(2, "2025-09-10T20:00:00+08:00", ConsentChange::Withdraw { scope })?)?;
    keep(cases, &request, &answer)?;
    let after = engine.evaluate(&collect("2025-09-11T10:00:00+08:00")?, &*ledger);
    println!(
        "   collecting the device id on 09-11: {:?} (what was done before is not undone, PIPL art. 15 ¶2)\n",
        after.verdict
    );
    ensure(!after.is_permit(), "collection after the withdrawal is denied")?;
    Ok(())
}

/// Step 2: an access request (PIPL art. 45): what is held, for which purposes,
/// from which source.
fn access(engine: &Engine, ledger: &InMemoryLedger, cases: &mut InMemoryLog) -> Result<RightsAnswer> {
    let request = rights_request(2, r#"{"kind":"access"}"#, "2025-09-25T10:00:00+08:00", "2025-09-25T10:00:00+08:00")?;
    let answer = answer(engine, &request, &holdings()?, ledger)?;
    println!("2. access request received 2025-09-25: {:?}", answer.outcome);
    for item in &answer.items {
        println!("   {}", serde_json::to_string(item)?);
    }
    ensure(answer.outcome == AnswerOutcome::Accepted && answer.items.len() == 2, "both held categories are shown")?;
    let case = keep(cases, &request, &answer)?;
    println!("   case {}: {:?}, {} steps", case.id.0, case.state, case.history.len());
    ensure(case.state == CaseState::Answered, "the case is answered")?;
    // The answer in the audit log, the subject only as its pseudonym.
    let mut audit = AuditLog::open(InMemoryAuditStore::new(), demo_pseudonyms()?)?;
    let entry =
        audit.record_answer(Uuid::from_u128(100), request.at, &request, &answer, &PolicyRef::of(engine.policy()))?;

    // The copy handed to the person: everything the stores, the audit log
    // and the holdings know, with no internal id.
    let subject = SubjectId::from(SUBJECT);
    let (entries, held) = ([entry], Held(holdings()?));
    let sources = ExportSources::new(engine, &held).audit(&entries);
    let export = export(cases, &subject, request.at, &sources)?;
    let json = export.to_json()?;
    println!(
        "   export: {} consent events, {} consent states, {} held categories, {} rights requests, {} answers ({} bytes of JSON)",
        export.consent_history.len(),
        export.consent_state.len(),
        export.held_data.len(),
        export.rights_requests.len(),
        export.answers.len(),
        json.len()
    );
    for held in &export.held_data {
        let kept: Vec<String> = held
            .retention
            .iter()
            .map(|d| match d.keep_until {
                Some(until) => format!("{} until {}", d.rule, until.date_naive()),
                None => format!("{} (its trigger has not happened)", d.rule),
            })
            .collect();
        println!("   held {}: {}", held.category, kept.join("; "));
    }
    // The order's minimum, as the export states it, ends when step 3's
    // deletion will be due.
    let order_kept = export.held_data.iter().filter(|h| h.category.as_str() == "user.financial.transaction");
    let order_until = order_kept.flat_map(|h| &h.retention).find_map(|d| d.keep_until).map(|t| t.date_naive());
    ensure(order_until == NaiveDate::from_ymd_opt(2028, 6, 2), "the order is kept until 2028-06-02")?;
    ensure(export.consent_history.len() == 2, "the export holds the grant and the withdrawal")?;
    ensure(export.held_data.len() == 2, "the export holds both categories")?;
    ensure(export.rights_requests.len() == 2, "the export holds the withdrawal's and the access request's cases")?;
    ensure(
        matches!(export.answers.as_slice(), [a] if a.outcome == AnswerOutcome::Accepted && a.deadline == answer.deadline),
        "the export holds the recorded answer with its deadline",
    )?;
    ensure(!json.contains(&case.id.0.to_string()), "the export names no internal id")?;
    println!();
    Ok(answer)
}

/// The audit log's pseudonymiser. A fixed key for the example only: a
/// service loads its key from its secret store.
fn demo_pseudonyms() -> Result<Pseudonymiser> {
    Ok(Pseudonymiser::new(PseudonymKey::from_bytes("example", &[7; 32])?))
}

/// The caller's holdings source: here, a fixed list.
struct Held(Vec<Holding>);

impl Holdings for Held {
    fn held(&self, _: &SubjectId) -> std::result::Result<Vec<Holding>, privacy_engine::Error> {
        Ok(self.0.clone())
    }
}

/// A consent event, in the ledger decisions read and in the durable log
/// the export reads.
fn record(ledger: &mut InMemoryLedger, log: &mut InMemoryLog, event: ConsentEvent) -> Result<()> {
    log.append(std::slice::from_ref(&event), event.at.to_utc())?;
    ledger.append(event)?;
    Ok(())
}

/// Step 3: the account was cancelled on 2025-09-30; the person asks for
/// deletion on that ground (PIPL art. 47; 004 §5.1). The phone number
/// goes; the order record must be kept three years from the transaction
/// (004 §4.1, the E-commerce Law): completed 2025-06-01, the policy counts
/// the last day (`last_day_included`), so the minimum's last day is
/// 2028-06-01. The record is restricted to storage now and deleted the day
/// after, 2028-06-02 (PIPL art. 47 ¶2).
fn deletion(engine: &Engine, ledger: &InMemoryLedger, cases: &mut InMemoryLog) -> Result<()> {
    let cancelled = r#","account_cancelled":"2025-09-30T18:00:00+08:00""#;
    let held: Vec<Holding> = serde_json::from_str(&format!(
        r#"[{{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"],
             "events":{{"collected":"2024-03-01T10:00:00+08:00"{cancelled}}}}},
            {{"category":"user.financial.transaction","origin":"provided","purposes":["ordering"],
             "events":{{"collected":"2025-06-01T12:00:00+08:00","transaction_completed":"2025-06-01T12:00:00+08:00"{cancelled}}}}}]"#
    ))?;
    let request = rights_request(
        3,
        r#"{"kind":"deletion","grounds":["account_cancelled"]}"#,
        "2025-09-30T18:30:00+08:00",
        "2025-10-09T10:00:00+08:00",
    )?;
    let answer = answer(engine, &request, &held, ledger)?;
    println!("3. deletion after cancelling the account: {:?}", answer.outcome);
    for item in &answer.items {
        println!("   {}", serde_json::to_string(item)?);
    }
    for duty in &answer.duties {
        println!("   duty: {}", serde_json::to_string(duty)?);
    }
    let delete_on = NaiveDate::from_ymd_opt(2028, 6, 2);
    ensure(answer.outcome == AnswerOutcome::PartlyAccepted, "the deletion is partly accepted")?;
    ensure(
        matches!(answer.items.as_slice(), [phone, order]
            if phone.outcome == ItemOutcome::Accepted
            && order.outcome == ItemOutcome::Restricted { delete_on }
            && order.ground == Some(LimitGround::StatutoryRetention)),
        "the phone number is deleted; the order is restricted, to be deleted on 2028-06-02",
    )?;
    ensure(answer.duties.contains(&RightsDuty::RestrictToStorage), "the order record is restricted to storage now")?;
    // Received Tuesday 2025-09-30: October 1–8 off, then Oct 9 (1), 10
    // (2), Saturday 11 worked (3), 13–17 (4–8), 20–24 (9–13), 27 (14),
    // 28 (15).
    let due = answer.deadline.as_ref().map(|d| d.date);
    println!("   answer due {}\n", due.map(|d| d.to_string()).unwrap_or_default());
    ensure(due == NaiveDate::from_ymd_opt(2025, 10, 28), "the deletion's answer is due 2025-10-28")?;
    keep(cases, &request, &answer)?;
    Ok(())
}

/// Step 4: the deadline, 15 working days (004 §9) from the day after the access
/// request, on the State Council's calendar — October 1 to 8 off, Sunday
/// September 28 and Saturday October 11 worked — compared with a count on
/// weekdays alone.
fn deadline(access: &RightsAnswer, calendar: &ChinaCalendar) -> Result<()> {
    let received = NaiveDate::from_ymd_opt(2025, 9, 25).ok_or("no such date")?;
    let rule = Deadline::new(Span::WorkingDays(15));
    let on_cn = rule.due(received, calendar, BeyondData::Refuse)?;
    let on_weekdays = rule.due(received, &WeekdayCalendar::new(), BeyondData::Refuse)?;
    println!("4. 15 working days from 2025-09-25: {} on `{}`", on_cn.date, on_cn.calendar);
    println!("   (counting weekdays alone would say {}: the holiday week is not worked)", on_weekdays.date);
    ensure(on_cn.date == NaiveDate::from_ymd_opt(2025, 10, 22).ok_or("no such date")?, "the hand count: 2025-10-22")?;
    ensure(access.deadline.as_ref().map(|d| d.date) == Some(on_cn.date), "the access answer's deadline is the same")?;
    let late = rule.due(NaiveDate::from_ymd_opt(2026, 12, 10).ok_or("no such date")?, calendar, BeyondData::Refuse);
    match late {
        Err(e) => println!("   from 2026-12-10: {e}"),
        Ok(due) => return Err(format!("inconsistent: a deadline past the data was computed: {}", due.date).into()),
    }
    Ok(())
}

/// Step 5: the cancellation itself, on 2025-09-30 at 18:00 (the one step
/// 3's deletion request followed). 004 §10: it takes effect at once — the
/// account is disabled, collection and use stop, every grant in force ends,
/// backups go at their next cycle — after a warning that it cannot be
/// undone. The data goes per category: the phone number (account data) the
/// same day; the order record, completed 2025-06-01, keeps its 3-year
/// minimum (004 §4.1), restricted to storage until then and deleted on
/// 2028-06-02, the day step 3's answer gave. The event is kept in the
/// store; a second cancellation, and a reactivation (004 §10), are refused.
fn cancellation(engine: &Engine, ledger: &InMemoryLedger, store: &mut InMemoryLog) -> Result<()> {
    let at = "2025-09-30T18:00:00+08:00".parse()?;
    let request = LifecycleRequest::cancel(SUBJECT, at);
    let held: Vec<Holding> = serde_json::from_str(
        r#"[{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login"]},
            {"category":"user.financial.transaction","origin":"provided","purposes":["ordering"],
             "events":{"transaction_completed":"2025-06-01T12:00:00+08:00"}}]"#,
    )?;
    let earlier = store.lifecycle_of(&SubjectId::from(SUBJECT))?;
    let answer = engine.lifecycle(&request, &held, &earlier, ledger);
    println!("5. the account cancelled on 2025-09-30 18:00: {:?}", answer.outcome);
    let duties = |d: &[LifecycleDuty]| d.iter().map(serde_json::to_string).collect::<std::result::Result<Vec<_>, _>>();
    println!("   before: {}", duties(&answer.before)?.join(", "));
    println!("   at once: {}", duties(&answer.immediate)?.join(", "));
    for disposal in &answer.categories {
        let due = disposal.due.map(|d| d.to_string()).unwrap_or_else(|| "held".to_owned());
        let restricted = if disposal.restricted { ", restricted to storage until then" } else { "" };
        println!(
            "   {}: {} on {due}{restricted} ({})",
            disposal.category,
            serde_json::to_string(&disposal.action)?,
            disposal.cites
        );
    }
    ensure(answer.outcome == LifecycleOutcome::Accepted, "the cancellation is accepted")?;
    ensure(answer.before.contains(&LifecycleDuty::WarnIrreversible), "the person is warned it cannot be undone")?;
    for duty in [LifecycleDuty::DisableAccount, LifecycleDuty::StopCollection, LifecycleDuty::StopUse] {
        ensure(answer.immediate.contains(&duty), "the account, collection and use stop at once")?;
    }
    let due = |category: &str| {
        answer.categories.iter().find(|d| d.category.as_str() == category).map(|d| (d.due, d.restricted))
    };
    ensure(
        due("user.contact.phone_number") == Some((NaiveDate::from_ymd_opt(2025, 9, 30), false)),
        "the phone number goes the day of the cancellation",
    )?;
    ensure(
        due("user.financial.transaction") == Some((NaiveDate::from_ymd_opt(2028, 6, 2), true)),
        "the order record is restricted and deleted on 2028-06-02, as step 3 said",
    )?;
    // The caller records what happened; a restart of a durable store
    // keeps it.
    let cancelled = LifecycleEvent::new(Uuid::from_u128(0x1042_00c1), SUBJECT, LifecycleChange::Cancelled, at);
    store.record_lifecycle(&cancelled)?;
    let kept = store.lifecycle_of(&SubjectId::from(SUBJECT))?;
    ensure(kept == [cancelled.clone()], "the store keeps the cancellation")?;
    let again = LifecycleEvent::new(Uuid::from_u128(0x1042_00c2), SUBJECT, LifecycleChange::Cancelled, at);
    ensure(store.record_lifecycle(&again).is_err(), "the store refuses a second cancellation")?;
    let back: LifecycleRequest = serde_json::from_str(&format!(
        r#"{{"lifecycle":"reactivate","subject":"{SUBJECT}","cancelled":"2025-09-30T18:00:00+08:00","at":"2025-10-09T10:00:00+08:00"}}"#
    ))?;
    let refused = engine.lifecycle(&back, &held, &kept, ledger);
    println!(
        "   kept in the store: {}; asking the account back on 10-09: {:?}",
        serde_json::to_string(&kept)?,
        refused.outcome
    );
    ensure(refused.outcome == LifecycleOutcome::Refused, "seed-004 gives no way back (§10)")?;
    Ok(())
}

/// The seed's holdings for the access request: a phone number the person
/// gave, an order.
fn holdings() -> Result<Vec<Holding>> {
    Ok(serde_json::from_str(
        r#"[{"category":"user.contact.phone_number","origin":"provided","purposes":["registration_login","ordering"]},
            {"category":"user.financial.transaction","origin":"provided","purposes":["ordering"],"recipients":["partner.logistics"],
             "events":{"transaction_completed":"2025-06-01T12:00:00+08:00"}}]"#,
    )?)
}

/// A verified rights request of the person, case number `n`.
fn rights_request(n: u128, right: &str, received: &str, at: &str) -> Result<RightsRequest> {
    let case = Uuid::from_u128(0x1042_0000 + n);
    Ok(serde_json::from_str(&format!(
        r#"{{"case":"{case}","subject":"{SUBJECT}","right":{right},"received":"{received}","at":"{at}","identity":"verified"}}"#
    ))?)
}

/// The engine's answer, on the calendar of the policy's home region.
fn answer(engine: &Engine, request: &RightsRequest, held: &[Holding], ledger: &InMemoryLedger) -> Result<RightsAnswer> {
    let calendar = privacy_engine::calendar_for_region(&engine.policy().settings.home_region).ok_or("no calendar")?;
    Ok(engine.answer(request, held, ledger, calendar, BeyondData::Refuse))
}

/// Keeps the request as a case: received (with its deadline), identity
/// verified, answered.
fn keep(cases: &mut InMemoryLog, request: &RightsRequest, answer: &RightsAnswer) -> Result<privacy_engine::RightsCase> {
    let due = answer.deadline.as_ref().ok_or("the answer has no deadline")?;
    let (id, subject) = (request.case, request.subject.clone());
    let received = CaseEvent::received(id, subject.clone(), request.right.clone(), request.received.to_utc(), due.date)
        .calendar(due.calendar.clone());
    cases.record_case(&received)?;
    cases.record_case(&CaseEvent::new(id, subject.clone(), CaseState::IdentityVerified, request.received.to_utc()))?;
    cases
        .record_case(&CaseEvent::new(id, subject, CaseState::Answered, request.at.to_utc()).outcome(answer.outcome))?;
    cases.case(id)?.ok_or_else(|| "the case was not kept".into())
}

/// A consent event of the person under seed-004 2021-08-20.
fn event(n: u128, at: &str, change: ConsentChange) -> Result<ConsentEvent> {
    Ok(ConsentEvent::new(Uuid::from_u128(n), at.parse()?, SUBJECT, "seed-004", "2021-08-20", change))
}
