//! Incidents (docs/lifecycle.md "Incidents"): every duty and its condition
//! under PIPL art. 57, the notice's contents per seed (the law's list and
//! the seed's own: 001 §3(4), 003 §4.3, 004 §4.3 item 7), a regime with
//! its own deadline and thresholds, and the affected subjects.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use privacy_engine::{
    CategoryKey, ChannelKind, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, Engine, HoldingsIndex,
    InMemoryLedger, Incident, IncidentAnswer, IncidentCondition, IncidentDuty, IncidentRegime, IncidentRequest,
    IncidentRisk, NoticeContent, NoticeDeadline, NoticeRule, NoticeTo, Scope, SubjectId, Uuid, affected,
};
use serde_json::json;

use super::engine;

fn at() -> DateTime<FixedOffset> {
    "2024-05-01T10:00:00+08:00".parse().unwrap()
}

fn key(k: &str) -> CategoryKey {
    CategoryKey::new(k).unwrap()
}

/// A leak of phone numbers: not contained, not encrypted, people reachable.
fn leak() -> Incident {
    Incident::new(vec![key("user.contact.phone_number")], 1200, at())
}

fn seed(n: &str) -> Engine {
    let json = match n {
        "001" => include_str!("../../examples/policies/seed-001.json"),
        "003" => include_str!("../../examples/policies/seed-003.json"),
        _ => include_str!("../../examples/policies/seed-004.json"),
    };
    Engine::from_json(json).unwrap()
}

fn pipl(engine: &Engine, incident: &Incident) -> IncidentAnswer {
    engine.incident(incident, at(), &IncidentRegime::pipl())
}

fn individuals(channels: &[ChannelKind]) -> IncidentDuty {
    serde_json::from_value(json!({"duty": "notify_individuals", "channels": channels})).unwrap()
}

#[test]
fn a_leak_under_pipl_owes_remedy_and_both_notices_promptly() {
    use ChannelKind::{Email, Phone, Post};
    let answer = pipl(engine(), &leak());
    assert_eq!(
        answer.duties,
        vec![
            IncidentDuty::Remedy,
            IncidentDuty::NotifyRegulator { deadline: NoticeDeadline::Promptly },
            individuals(&[Email, Post, Phone]),
        ]
    );
    assert!(answer.skipped.is_empty());
    assert_eq!(answer.cites, ["PIPL art. 57", "004 §4.3 item 7"]);
    assert_eq!(answer.policy_version, "2021-08-20");
}

#[test]
fn harm_avoided_skips_the_people_unless_the_regulator_requires_it() {
    let mut incident = leak();
    incident.harm_avoided = true;
    let answer = pipl(engine(), &incident);
    assert!(!answer.duties.iter().any(|d| matches!(d, IncidentDuty::NotifyIndividuals { .. })));
    assert!(answer.duties.contains(&IncidentDuty::NotifyRegulator { deadline: NoticeDeadline::Promptly }));
    let skipped = serde_json::to_value(&answer.skipped).unwrap();
    assert_eq!(skipped, json!([{"duty": "notify_individuals", "because": "harm_avoided"}]));
    incident.regulator_requires_notice = true;
    let answer = pipl(engine(), &incident);
    assert!(answer.duties.iter().any(|d| matches!(d, IncidentDuty::NotifyIndividuals { .. })));
    assert!(answer.skipped.is_empty());
}

#[test]
fn people_out_of_reach_bring_a_public_announcement_and_still_their_notice() {
    let mut incident = leak();
    incident.reachable = false;
    let answer = pipl(engine(), &incident);
    assert_eq!(answer.duties.len(), 4);
    assert!(matches!(answer.duties[2], IncidentDuty::NotifyIndividuals { .. }));
    assert_eq!(answer.duties[3], IncidentDuty::PublicAnnouncement);
    // No notice to the people, no announcement in its place.
    incident.harm_avoided = true;
    assert!(!pipl(engine(), &incident).duties.contains(&IncidentDuty::PublicAnnouncement));
}

#[test]
fn leaked_credentials_bring_a_password_reminder_cited_from_003() {
    let mut incident = Incident::new(vec![key("user.credentials")], 50, at());
    assert!(!pipl(engine(), &incident).duties.contains(&IncidentDuty::PasswordReminder));
    incident.credentials = true;
    incident.harm_avoided = true;
    let answer = pipl(&seed("003"), &incident);
    assert_eq!(answer.duties.last(), Some(&IncidentDuty::PasswordReminder));
    assert_eq!(answer.cites, ["PIPL art. 57", "003 §4.3"]);
}

#[test]
fn channels_are_each_seeds_in_its_order() {
    use ChannelKind::{Email, Phone, Post, PublicPlatform, Push, Sms};
    for (n, channels) in [
        ("001", vec![Email, Post, Phone, Push]),
        ("003", vec![Push, Phone, Sms, PublicPlatform]),
        ("004", vec![Email, Post, Phone]),
    ] {
        assert_eq!(pipl(&seed(n), &leak()).duties[2], individuals(&channels), "seed {n}");
    }
}

#[test]
fn contents_are_the_union_of_pipl_and_each_seeds_list() {
    use NoticeContent::*;
    let pipl_list = [CategoriesInvolved, Cause, PossibleHarm, RemedialMeasures, SelfProtection, Contact];
    let with_remedies =
        vec![CategoriesInvolved, Cause, PossibleHarm, RemedialMeasures, SelfProtection, Remedies, Contact];
    assert_eq!(pipl(&seed("001"), &leak()).contents, with_remedies);
    assert_eq!(pipl(&seed("004"), &leak()).contents, with_remedies);
    // 003's cause, measures and user actions are all in the law's list.
    assert_eq!(pipl(&seed("003"), &leak()).contents, pipl_list);
    let json = serde_json::to_value(pipl(&seed("004"), &leak()).contents).unwrap();
    assert_eq!(
        json,
        json!([
            "categories_involved",
            "cause",
            "possible_harm",
            "remedial_measures",
            "self_protection",
            "remedies",
            "contact"
        ])
    );
}

#[test]
fn a_policy_without_an_incident_notice_names_no_channel() {
    let answer = pipl(&seed("004"), &leak());
    assert!(answer.duties.iter().all(|d| *d != individuals(&[])));
    let mut policy = seed("004").policy().clone();
    policy.incident_notice = None;
    let answer = pipl(&Engine::new(policy).unwrap(), &leak());
    assert_eq!(answer.duties[2], individuals(&[]));
    assert_eq!(answer.cites, ["PIPL art. 57"]);
    assert_eq!(answer.contents.len(), 6);
}

/// A regime with GDPR's rules (arts. 33, 34), built as a value.
fn gdpr_like() -> IncidentRegime {
    let mut regulator = NoticeRule::new(NoticeDeadline::Hours(72));
    regulator.skip_when = vec![IncidentCondition::RiskAtMost(IncidentRisk::Unlikely)];
    regulator.cites = Some("GDPR art. 33".into());
    let mut people = NoticeRule::new(NoticeDeadline::Promptly);
    people.skip_when = vec![IncidentCondition::RiskAtMost(IncidentRisk::Risk), IncidentCondition::Encrypted];
    people.cites = Some("GDPR art. 34".into());
    let mut regime = IncidentRegime::pipl();
    regime.cites = "GDPR".into();
    regime.regulator = regulator;
    regime.individuals = people;
    regime
}

#[test]
fn a_regime_sets_its_own_deadline_and_thresholds() {
    let regime = gdpr_like();
    let mut incident = leak();
    incident.risk = Some(IncidentRisk::High);
    let answer = engine().incident(&incident, at(), &regime);
    assert_eq!(answer.duties[1], IncidentDuty::NotifyRegulator { deadline: NoticeDeadline::Hours(72) });
    assert!(matches!(answer.duties[2], IncidentDuty::NotifyIndividuals { .. }));
    assert_eq!(answer.cites, ["GDPR", "GDPR art. 33", "GDPR art. 34", "004 §4.3 item 7"]);
    let json = serde_json::to_value(&answer.duties[1]).unwrap();
    assert_eq!(json, json!({"duty": "notify_regulator", "deadline": {"hours": 72}}));
    // Encrypted: no notice to the people (art. 34(3)(a)); the authority still.
    incident.encrypted = true;
    let answer = engine().incident(&incident, at(), &regime);
    assert_eq!(answer.skipped.len(), 1);
    assert_eq!(
        (answer.skipped[0].duty, answer.skipped[0].because),
        (NoticeTo::Individuals, IncidentCondition::Encrypted)
    );
    // A risk, not a high one: the authority only.
    incident.encrypted = false;
    incident.risk = Some(IncidentRisk::Risk);
    let answer = engine().incident(&incident, at(), &regime);
    assert_eq!(answer.duties.len(), 2);
    // Unlikely to result in a risk: neither.
    incident.risk = Some(IncidentRisk::Unlikely);
    let answer = engine().incident(&incident, at(), &regime);
    assert_eq!(answer.duties, vec![IncidentDuty::Remedy]);
    let skipped = serde_json::to_value(&answer.skipped).unwrap();
    assert_eq!(skipped[0], json!({"duty": "notify_regulator", "because": {"risk_at_most": "unlikely"}}));
    // No risk assessed: nothing is skipped for the risk.
    incident.risk = None;
    assert_eq!(engine().incident(&incident, at(), &regime).duties.len(), 3);
}

#[test]
fn a_subject_count_threshold_is_a_condition_too() {
    let mut regime = IncidentRegime::pipl();
    regime.regulator.skip_when = vec![IncidentCondition::FewerSubjectsThan(1000)];
    let mut incident = leak();
    assert_eq!(engine().incident(&incident, at(), &regime).duties.len(), 3);
    incident.subjects = 999;
    assert_eq!(engine().incident(&incident, at(), &regime).skipped[0].duty, NoticeTo::Regulator);
}

#[test]
fn the_request_reads_the_json_form() {
    let request: IncidentRequest = serde_json::from_value(json!({
        "incident": {"categories": ["user.credentials.password"], "subjects": 12000,
          "discovered": "2024-05-01T08:00:00+08:00", "contained": true, "encrypted": false, "credentials": true,
          "harm_avoided": false, "regulator_requires_notice": false, "reachable": true},
        "at": "2024-05-01T10:00:00+08:00"
    }))
    .unwrap();
    assert!(request.incident.credentials && request.incident.contained);
    let answer = engine().incident(&request.incident, request.at, &IncidentRegime::pipl());
    let json = serde_json::to_value(&answer).unwrap();
    assert_eq!(json["duties"][0], json!({"duty": "remedy"}));
    assert_eq!(json["duties"][1], json!({"duty": "notify_regulator", "deadline": "promptly"}));
    assert_eq!(json["duties"][2], json!({"duty": "notify_individuals", "channels": ["email", "post", "phone"]}));
    assert_eq!(json["duties"][3], json!({"duty": "password_reminder"}));
    assert_eq!(json["skipped"], json!([]));
    // Unknown fields are refused; `reachable` defaults to true.
    let bad = json!({"incident": {"categories": [], "subjects": 1, "discovered": "2024-05-01T08:00:00Z", "x": 1},
                     "at": "2024-05-01T10:00:00Z"});
    assert!(serde_json::from_value::<IncidentRequest>(bad).is_err());
    let short = json!({"categories": [], "subjects": 1, "discovered": "2024-05-01T08:00:00Z"});
    assert!(serde_json::from_value::<Incident>(short).unwrap().reachable);
}

/// An index from category to subjects.
struct Index(BTreeMap<CategoryKey, Vec<SubjectId>>);

impl HoldingsIndex for Index {
    fn categories(&self) -> impl Iterator<Item = &CategoryKey> + '_ {
        self.0.keys()
    }

    fn holders(&self, category: &CategoryKey) -> impl Iterator<Item = &SubjectId> + '_ {
        self.0.get(category).into_iter().flatten()
    }
}

fn grant(n: u128, subject: &str, categories: &[&str]) -> ConsentEvent {
    let scope = Scope::new(vec!["ads".into()], categories.iter().map(|c| key(c)).collect());
    let change = ConsentChange::Grant { qualities: ConsentQualities::explicit(), scope, expires: None };
    ConsentEvent::new(Uuid::from_u128(n), at(), subject, "seed-004", "2021-08-20", change)
}

#[test]
fn affected_subjects_come_from_the_index_and_the_grants_each_once() {
    let ids = |v: &[&str]| v.iter().map(|s| SubjectId::from(*s)).collect::<Vec<_>>();
    let index = Index(BTreeMap::from([
        (key("user.contact.phone_number"), ids(&["a", "b"])),
        (key("user.contact"), ids(&["c"])),       // broader than the leak: may hold it
        (key("user.contact.email"), ids(&["d"])), // a sibling: not affected
        (key("user.credentials.password"), ids(&["b"])), // another category, same subject
    ]));
    let mut ledger = InMemoryLedger::new();
    ledger.append(grant(1, "a", &["user.contact.phone_number"])).unwrap(); // already listed
    ledger.append(grant(2, "e", &["user.contact.phone_number"])).unwrap();
    ledger.append(grant(3, "f", &["user.location"])).unwrap();
    ledger.append(grant(4, "g", &["user"])).unwrap();
    let mut incident = leak();
    incident.categories.push(key("user.credentials"));
    let mut found: Vec<String> = affected(&incident, &index, &ledger).map(|s| s.to_string()).collect();
    found.sort();
    assert_eq!(found, ["a", "b", "c", "e", "g"]);
    // The compact ledger answers the same.
    let mut compact = CompactLedger::new();
    for (n, s, c) in
        [(1, "a", "user.contact.phone_number"), (2, "e", "user.contact.phone_number"), (3, "f", "user.location")]
    {
        compact.append(grant(n, s, &[c])).unwrap();
    }
    let mut found: Vec<String> = affected(&incident, &index, &compact).map(|s| s.to_string()).collect();
    found.sort();
    assert_eq!(found, ["a", "b", "c", "e"]);
}
