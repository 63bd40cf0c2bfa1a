//! Who must re-consent after a revision: `Rescan` over both ledgers through
//! `ConsentHistory`.

use chrono::{DateTime, Utc};
use privacy_engine::{
    CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentHistory, ConsentQualities, DynConsentHistory,
    FreshConsent, InMemoryLedger, Lapsed, Policy, Reconsent, Rescan, Scope, SubjectId, Taxonomy,
};
use uuid::Uuid;

fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn scope(purpose: &str, categories: &[&str]) -> Scope {
    Scope::new(vec![purpose.into()], categories.iter().map(|c| key(c)).collect())
}

/// A history of events, each `(subject, time, policy, version, change)`.
#[derive(Default)]
struct History(Vec<ConsentEvent>);

impl History {
    fn add(&mut self, subject: &str, at: &str, policy: &str, version: &str, change: ConsentChange) -> &mut Self {
        let id = Uuid::from_u128(self.0.len() as u128 + 1);
        self.0.push(ConsentEvent::new(id, at.parse().unwrap(), subject, policy, version, change));
        self
    }

    /// A grant by `subject` under `app` version 1 at 2024-01-01.
    fn grant(&mut self, subject: &str, q: ConsentQualities, scope: Scope) -> &mut Self {
        self.add(
            subject,
            "2024-01-01T00:00:00Z",
            "app",
            "1",
            ConsentChange::Grant { qualities: q, scope, expires: None },
        )
    }

    /// The scan over both ledgers, which must agree, by subject.
    fn scan(&self, rescan: &Rescan) -> Vec<(String, Vec<Lapsed>)> {
        let mut memory = InMemoryLedger::new();
        memory.extend(self.0.iter().cloned()).unwrap();
        let mut compact = CompactLedger::new();
        self.0.iter().cloned().for_each(|e| compact.append(e).unwrap());
        let a = by_subject(rescan, &memory);
        let b = by_subject(rescan, &compact);
        assert_eq!(a, b, "the two ledgers disagree");
        // The same through trait objects, as a service that picks its
        // store at run time holds it.
        let stores: [Box<dyn DynConsentHistory + Send + Sync>; 2] = [Box::new(memory), Box::new(compact)];
        for store in &stores {
            assert_eq!(by_subject(rescan, store.as_ref()), a, "a boxed ledger disagrees");
        }
        a
    }
}

fn by_subject<S: ConsentHistory + ?Sized>(rescan: &Rescan, store: &S) -> Vec<(String, Vec<Lapsed>)> {
    let mut out: Vec<(String, Vec<Lapsed>)> =
        rescan.scan(store).map(|r| (r.subject.as_str().to_owned(), r.lapsed)).collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    for (subject, lapsed) in &out {
        assert_eq!(&rescan.subject(store, &SubjectId::from(subject.as_str())), lapsed);
    }
    out
}

/// A lapsed grant's purpose, category and recipient, for comparing.
type Names<'a> = (&'a str, &'a str, Option<&'a str>);

/// `(subject, [(purpose, category, recipient)])`, for comparing.
fn names(found: &[(String, Vec<Lapsed>)]) -> Vec<(&str, Vec<Names<'_>>)> {
    found
        .iter()
        .map(|(s, l)| {
            let l =
                l.iter().map(|l| (l.purpose.as_str(), l.category.as_str(), l.recipient.as_ref().map(|r| r.as_str())));
            (s.as_str(), l.collect())
        })
        .collect()
}

fn explicit() -> ConsentQualities {
    ConsentQualities::explicit()
}

/// Fresh consent for `ads` on `categories`, explicit.
fn ads(categories: &[&str]) -> FreshConsent {
    FreshConsent::new("ads".into(), explicit()).for_categories(categories.iter().map(|c| key(c)).collect())
}

fn rescan(fresh: Vec<FreshConsent>) -> Rescan {
    Rescan::new(Taxonomy::builtin(), "app", "1", "2", fresh).at(t("2024-06-01T00:00:00Z"))
}

#[test]
fn a_grant_covering_a_changed_category_lapses() {
    let mut h = History::default();
    h.grant("alice", explicit(), scope("ads", &["user.contact"]));
    let found = h.scan(&rescan(vec![ads(&["user.contact.phone_number"])]));
    assert_eq!(names(&found), [("alice", vec![("ads", "user.contact.phone_number", None)])]);
    assert_eq!(found[0].1[0].qualities, explicit());
}

#[test]
fn grants_that_still_cover_are_not_listed() {
    let mut h = History::default();
    h.grant("alice", explicit(), scope("delivery", &["user.contact"]));
    h.grant("bob", explicit(), scope("ads", &["user.contact.email"]));
    h.grant("carol", explicit(), scope("ads", &["user.device"]));
    assert!(h.scan(&rescan(vec![ads(&["user.contact.phone_number"])])).is_empty());
}

#[test]
fn withdrawn_refused_and_expired_grants_are_not_listed() {
    let mut h = History::default();
    let s = || scope("ads", &["user.contact"]);
    h.grant("alice", explicit(), s());
    h.add("alice", "2024-02-01T00:00:00Z", "app", "1", ConsentChange::Withdraw { scope: s() });
    // A withdrawal of a part ends the grant for that part.
    h.grant("bob", explicit(), s());
    h.add(
        "bob",
        "2024-02-01T00:00:00Z",
        "app",
        "1",
        ConsentChange::Revoke { scope: scope("ads", &["user.contact.phone_number"]) },
    );
    // Withdrawn under another policy: a withdrawal is the person's word.
    h.grant("carol", explicit(), s());
    h.add("carol", "2024-02-01T00:00:00Z", "other", "9", ConsentChange::Withdraw { scope: s() });
    let expiring =
        |e: &str| ConsentChange::Grant { qualities: explicit(), scope: s(), expires: Some(e.parse().unwrap()) };
    h.add("dave", "2024-01-01T00:00:00Z", "app", "1", expiring("2024-05-01T00:00:00Z"));
    h.add("erin", "2024-01-01T00:00:00Z", "app", "1", expiring("2024-07-01T00:00:00Z"));
    // A withdrawal before the grant does not end it.
    h.add("fred", "2023-12-01T00:00:00Z", "app", "1", ConsentChange::Withdraw { scope: s() });
    h.grant("fred", explicit(), s());
    let found = h.scan(&rescan(vec![ads(&["user.contact.phone_number"])]));
    let expected = vec![
        ("erin", vec![("ads", "user.contact.phone_number", None)]),
        ("fred", vec![("ads", "user.contact.phone_number", None)]),
    ];
    assert_eq!(names(&found), expected);
}

#[test]
fn events_after_the_time_asked_do_not_count() {
    let mut h = History::default();
    let s = || scope("ads", &["user.contact"]);
    h.add(
        "alice",
        "2024-07-01T00:00:00Z",
        "app",
        "1",
        ConsentChange::Grant { qualities: explicit(), scope: s(), expires: None },
    );
    h.grant("bob", explicit(), s());
    h.add("bob", "2024-07-01T00:00:00Z", "app", "1", ConsentChange::Withdraw { scope: s() });
    let found = h.scan(&rescan(vec![ads(&["user.contact"])]));
    assert_eq!(names(&found), [("bob", vec![("ads", "user.contact", None)])]);
    // At the end of time both events count.
    let whenever = Rescan::new(Taxonomy::builtin(), "app", "1", "2", vec![ads(&["user.contact"])]);
    assert_eq!(names(&h.scan(&whenever)), [("alice", vec![("ads", "user.contact", None)])]);
}

#[test]
fn grants_under_another_policy_or_version_are_not_listed() {
    let mut h = History::default();
    let grant = |s: Scope| ConsentChange::Grant { qualities: explicit(), scope: s, expires: None };
    h.add("alice", "2024-01-01T00:00:00Z", "some-other-policy", "1", grant(scope("ads", &["user"])));
    h.add("bob", "2024-01-01T00:00:00Z", "app", "0", grant(scope("ads", &["user"])));
    h.add("carol", "2024-01-01T00:00:00Z", "app", "1999", grant(scope("ads", &["user"])));
    let fresh = || vec![ads(&["user.contact"])];
    assert!(h.scan(&rescan(fresh())).is_empty());
    // Version 0's grants still counted under 1: the caller says so.
    let found = h.scan(&rescan(fresh()).given_under("0"));
    assert_eq!(names(&found), [("bob", vec![("ads", "user.contact", None)])]);
}

#[test]
fn a_new_grant_under_the_new_version_with_the_qualities_asked_settles_it() {
    let mut h = History::default();
    let new = |q: ConsentQualities, s: Scope| ConsentChange::Grant { qualities: q, scope: s, expires: None };
    for subject in ["alice", "bob", "carol"] {
        h.grant(subject, explicit(), scope("ads", &["user.contact"]));
    }
    h.add("alice", "2024-03-01T00:00:00Z", "app", "2", new(explicit(), scope("ads", &["user"])));
    // Not the qualities the fresh consent asks.
    h.add(
        "bob",
        "2024-03-01T00:00:00Z",
        "app",
        "2",
        new(ConsentQualities::affirmative(), scope("ads", &["user.contact"])),
    );
    // Only part of it given again: `user.contact` as a whole is not
    // covered by the new grant, so it is still asked.
    h.add("carol", "2024-03-01T00:00:00Z", "app", "2", new(explicit(), scope("ads", &["user.contact.email"])));
    // Given again whole, in two parts.
    h.grant("dave", explicit(), scope("ads", &["user.contact.phone_number", "user.contact.email"]));
    for part in ["user.contact.phone_number", "user.contact.email"] {
        h.add("dave", "2024-03-01T00:00:00Z", "app", "2", new(explicit(), scope("ads", &[part])));
    }
    let found = h.scan(&rescan(vec![ads(&["user.contact"])]));
    let expected = vec![("bob", vec![("ads", "user.contact", None)]), ("carol", vec![("ads", "user.contact", None)])];
    assert_eq!(names(&found), expected);
}

#[test]
fn a_recipient_specific_fresh_consent_lapses_grants_only_for_that_recipient() {
    let mut h = History::default();
    let s = || scope("ads", &["user.device"]);
    h.grant("alice", explicit(), s());
    h.grant("bob", explicit(), s().recipient("adnet"));
    h.grant("carol", explicit(), s().recipient("other_net"));
    // A general grant withdrawn as far as adnet is concerned.
    h.grant("dave", explicit(), s());
    h.add("dave", "2024-02-01T00:00:00Z", "app", "1", ConsentChange::Withdraw { scope: s().recipient("adnet") });
    let fresh = FreshConsent::new("ads".into(), explicit()).for_recipient("adnet".into());
    let found = h.scan(&rescan(vec![fresh]));
    let expected = vec![
        ("alice", vec![("ads", "user.device", Some("adnet"))]),
        ("bob", vec![("ads", "user.device", Some("adnet"))]),
    ];
    assert_eq!(names(&found), expected);
    // Without a recipient every grant lapses, each for its own recipient.
    let found = h.scan(&rescan(vec![FreshConsent::new("ads".into(), explicit())]));
    let all: Vec<_> = names(&found).into_iter().map(|(s, l)| (s, l[0].2)).collect();
    assert_eq!(all, [("alice", None), ("bob", Some("adnet")), ("carol", Some("other_net")), ("dave", None)]);
}

#[test]
fn the_category_match_follows_the_taxonomy() {
    let mut h = History::default();
    // A grant below the changed category lapses whole.
    h.grant("alice", explicit(), scope("ads", &["user.contact.phone_number"]));
    // A grant on `user` does not cover the sensitive face data, so nothing lapses.
    h.grant("bob", explicit(), scope("ads", &["user"]));
    // A grant on the sensitive parent does.
    h.grant("carol", ConsentQualities::separate(), scope("ads", &["user.biometric"]));
    let fresh = vec![ads(&["user.contact", "user.biometric.face"])];
    let found = h.scan(&rescan(fresh));
    let expected = vec![
        ("alice", vec![("ads", "user.contact.phone_number", None)]),
        ("bob", vec![("ads", "user.contact", None)]),
        ("carol", vec![("ads", "user.biometric.face", None)]),
    ];
    assert_eq!(names(&found), expected);
}

#[test]
fn a_partly_withdrawn_grant_lapses_for_what_remains() {
    let mut h = History::default();
    h.grant("alice", explicit(), scope("ads", &["user.behavior"]));
    h.add(
        "alice",
        "2024-02-01T00:00:00Z",
        "app",
        "1",
        ConsentChange::Withdraw {
            scope: scope("ads", &["user.behavior.click_history", "user.behavior.search_history"]),
        },
    );
    let found = h.scan(&rescan(vec![ads(&["user.behavior"])]));
    // `user.behavior.browsing_history` is sensitive: the grant never covered it.
    let rest = ["interaction_trajectory", "search_keywords", "software_usage"].map(|c| format!("user.behavior.{c}"));
    let expected: Vec<(&str, &str, Option<&str>)> = rest.iter().map(|c| ("ads", c.as_str(), None)).collect();
    assert_eq!(names(&found), [("alice", expected)]);
}

#[test]
fn a_fresh_consent_for_every_category_lapses_the_grant_as_given() {
    let mut h = History::default();
    h.grant("alice", explicit(), scope("ads", &["user.device", "user.location.imprecise"]));
    h.grant("alice", explicit(), scope("analytics", &["user.log"]));
    let found = h.scan(&rescan(vec![FreshConsent::new("ads".into(), ConsentQualities::separate())]));
    assert_eq!(
        names(&found),
        [("alice", vec![("ads", "user.device", None), ("ads", "user.location.imprecise", None)])]
    );
    assert!(found[0].1.iter().all(|l| l.qualities == ConsentQualities::separate()));
}

#[test]
fn the_scan_is_the_same_on_every_walk() {
    let mut h = History::default();
    for n in 0..50 {
        h.grant(&format!("s{n}"), explicit(), scope("ads", &["user"]));
    }
    let mut ledger = CompactLedger::new();
    h.0.iter().cloned().for_each(|e| ledger.append(e).unwrap());
    let r = rescan(vec![ads(&["user.device"])]);
    let first: Vec<SubjectId> = r.scan(&ledger).map(|r| r.subject).collect();
    let second: Vec<SubjectId> = r.scan(&ledger).map(|r| r.subject).collect();
    assert_eq!(first.len(), 50);
    assert_eq!(first, second);
}

#[test]
fn between_two_policies_reads_the_id_versions_and_taxonomy() {
    let old = Policy::from_json(include_str!("../../examples/policies/seed-004.json")).unwrap();
    let mut new = old.clone();
    new.version = "2099-01-01".into();
    let mut h = History::default();
    let grant = ConsentChange::Grant { qualities: explicit(), scope: scope("ads", &["user"]), expires: None };
    h.add("alice", "2024-01-01T00:00:00Z", old.id.as_str(), &old.version, grant);
    let found = h.scan(&Rescan::between(&old, &new, vec![ads(&["user.device"])]));
    assert_eq!(names(&found), [("alice", vec![("ads", "user.device", None)])]);
}

#[test]
fn the_history_lends_grants_and_endings_but_not_permission_switches() {
    let mut h = History::default();
    h.grant("alice", explicit(), scope("ads", &["user"]));
    h.add("alice", "2024-02-01T00:00:00Z", "app", "1", ConsentChange::Refuse { scope: scope("ads", &["user"]) });
    h.add(
        "alice",
        "2024-02-01T00:00:00Z",
        "app",
        "1",
        ConsentChange::PermissionOn { permission: privacy_engine::Permission::Camera },
    );
    let mut memory = InMemoryLedger::new();
    memory.extend(h.0.iter().cloned()).unwrap();
    let mut compact = CompactLedger::new();
    h.0.iter().cloned().for_each(|e| compact.append(e).unwrap());
    let a: Vec<bool> = memory.history(&"alice".into()).map(|e| e.is_grant()).collect();
    let b: Vec<bool> = compact.history(&"alice".into()).map(|e| e.is_grant()).collect();
    assert_eq!(a, [true, false]);
    assert_eq!(a, b);
    assert_eq!(memory.subjects().collect::<Vec<_>>(), [SubjectId::from("alice")]);
    assert_eq!(compact.subjects().collect::<Vec<_>>(), [SubjectId::from("alice")]);
}

/// The change classification drives the scan: after seed-004's revision
/// (`examples/policies/seed-004-v2.json`), a person who consented to the
/// optional `usage_statistics` purpose under the old version must be asked
/// again (the purpose gains `user.location.imprecise`, 004 §7 item 1, PIPL
/// art. 14), and one who consented only to the unchanged `camera_listing`
/// is not listed.
#[test]
fn the_seed_004_revision_lists_who_must_consent_again() {
    let old = Policy::from_json(include_str!("../../examples/policies/seed-004.json")).unwrap();
    let new = Policy::from_json(include_str!("../../examples/policies/seed-004-v2.json")).unwrap();
    let fresh = privacy_engine::diff(&old, &new).fresh_consent();
    let mut h = History::default();
    let grant = |purpose: &str, category: &str| ConsentChange::Grant {
        qualities: ConsentQualities::separate(),
        scope: scope(purpose, &[category]),
        expires: None,
    };
    h.add("stats", "2022-01-01T00:00:00+08:00", "seed-004", &old.version, grant("usage_statistics", "user.device"));
    h.add(
        "camera",
        "2022-01-01T00:00:00+08:00",
        "seed-004",
        &old.version,
        grant("camera_listing", "user.content.media"),
    );
    let mut ledger = CompactLedger::new();
    ledger.extend(h.0.iter().cloned()).unwrap();
    let scan = Rescan::between(&old, &new, fresh);
    let listed: Vec<Reconsent> = scan.scan(&ledger).collect();
    assert_eq!(listed.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), vec!["stats"], "{listed:?}");
    assert!(listed[0].lapsed.iter().all(|l| l.purpose.as_str() == "usage_statistics"));
}
