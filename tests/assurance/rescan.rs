//! The re-consent scan against a brute force: every subject, purpose,
//! category of the taxonomy and recipient asked of the ledger with
//! `ConsentStore::grants`, on generated histories.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use privacy_engine::{
    CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentHistory, ConsentQualities, ConsentQuery,
    ConsentStore, FreshConsent, InMemoryLedger, PurposeId, RecipientId, Rescan, Scope, SubjectId, Taxonomy,
};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

use crate::ledger_model::covering;

const SUBJECTS: [&str; 4] = ["s1", "s2", "s3", "s4"];
const PURPOSES: [&str; 2] = ["ads", "analytics"];
const RECIPIENTS: [&str; 2] = ["adnet", "other_net"];
/// Parents and children of each sensitivity, and one key out of the
/// taxonomy's reach for neither.
const CATEGORIES: [&str; 10] = [
    "user",
    "user.contact",
    "user.contact.phone_number",
    "user.contact.email",
    "user.behavior",
    "user.behavior.browsing_history",
    "user.behavior.click_history",
    "user.biometric",
    "user.biometric.face",
    "user.device",
];
/// The versions grants are given under: the one the change concerns, the
/// new one, an earlier one, and another policy's.
const POLICIES: [(&str, &str); 4] = [("app", "1"), ("app", "2"), ("app", "0"), ("other", "1")];

fn base() -> DateTime<Utc> {
    "2024-01-01T00:00:00Z".parse().unwrap()
}

fn day(n: i64) -> DateTime<Utc> {
    base() + Duration::days(n)
}

fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

fn qualities() -> impl Strategy<Value = ConsentQualities> {
    select(vec![
        ConsentQualities::IMPLIED,
        ConsentQualities::affirmative(),
        ConsentQualities::explicit(),
        ConsentQualities::separate(),
    ])
}

fn scope() -> impl Strategy<Value = Scope> {
    (
        subsequence(PURPOSES.to_vec(), 1..=2),
        subsequence(CATEGORIES.to_vec(), 1..=2),
        prop_oneof![2 => Just(None), 1 => select(RECIPIENTS.to_vec()).prop_map(Some)],
    )
        .prop_map(|(p, c, r)| {
            let s = Scope::new(p.into_iter().map(PurposeId::from).collect(), c.into_iter().map(key).collect());
            match r {
                Some(r) => s.recipient(r),
                None => s,
            }
        })
}

fn change() -> impl Strategy<Value = ConsentChange> {
    prop_oneof![
        4 => (qualities(), scope(), proptest::option::weighted(0.2, 0i64..12)).prop_map(|(q, scope, e)| {
            ConsentChange::Grant { qualities: q, scope, expires: e.map(|d| day(d).fixed_offset()) }
        }),
        1 => scope().prop_map(|scope| ConsentChange::Withdraw { scope }),
        1 => scope().prop_map(|scope| ConsentChange::Revoke { scope }),
        1 => scope().prop_map(|scope| ConsentChange::Refuse { scope }),
    ]
}

fn events() -> impl Strategy<Value = Vec<ConsentEvent>> {
    let event = (select(SUBJECTS.to_vec()), 0i64..10, select(POLICIES.to_vec()), change());
    proptest::collection::vec(event, 0..24).prop_map(|events| {
        let events = events.into_iter().enumerate();
        let events = events.map(|(i, (s, d, (p, v), c))| {
            ConsentEvent::new(uuid::Uuid::from_u128(i as u128 + 1), day(d).fixed_offset(), s, p, v, c)
        });
        events.collect()
    })
}

fn fresh() -> impl Strategy<Value = Vec<FreshConsent>> {
    let one = (
        select(PURPOSES.to_vec()),
        prop_oneof![1 => Just(Vec::new()), 2 => subsequence(CATEGORIES.to_vec(), 1..=2)],
        proptest::option::weighted(0.3, select(RECIPIENTS.to_vec())),
        qualities(),
    )
        .prop_map(|(p, c, r, q)| {
            let f = FreshConsent::new(p.into(), q).for_categories(c.into_iter().map(key).collect());
            match r {
                Some(r) => f.for_recipient(r.into()),
                None => f,
            }
        });
    proptest::collection::vec(one, 1..=3)
}

/// A lapsed grant as the brute force finds it: subject, purpose, category,
/// recipient, qualities asked.
type Found = (String, String, String, Option<String>, u8);

/// A ledger of the ending events and the grants under `app` at `version`.
fn only(events: &[ConsentEvent], version: &str) -> InMemoryLedger {
    let mut ledger = InMemoryLedger::new();
    let kept = events.iter().filter(|e| {
        !matches!(e.change, ConsentChange::Grant { .. })
            || (e.policy_id.as_str() == "app" && e.policy_version == version)
    });
    ledger.extend(kept.cloned()).unwrap();
    ledger
}

/// Every (subject, purpose, category, recipient, qualities) the revision
/// makes lapse, asked one by one of `has_consent`-style look-ups.
fn brute_force(events: &[ConsentEvent], fresh: &[FreshConsent], at: DateTime<Utc>) -> BTreeSet<Found> {
    let tax = Taxonomy::builtin();
    let (old, new) = (only(events, "1"), only(events, "2"));
    let recipients = [None].into_iter().chain(RECIPIENTS.map(|r| Some(RecipientId::from(r))));
    let recipients: Vec<Option<RecipientId>> = recipients.collect();
    let mut out = BTreeSet::new();
    for subject in SUBJECTS.map(SubjectId::from) {
        for f in fresh {
            for (category, _) in tax.iter() {
                let touched = f.categories.is_empty() || f.categories.iter().any(|k| category.is_within(k));
                if !touched {
                    continue;
                }
                let cover = covering(&tax, category);
                for r in recipients.iter().filter(|r| f.recipient.is_none() || f.recipient == **r) {
                    let mut q = ConsentQuery::new(&subject, &f.purpose, category, at).covering(&cover);
                    q.recipient = r.as_ref();
                    let lapses =
                        !old.grants(&q).is_empty() && !new.grants(&q).any(f.qualities, ConsentQualities::empty());
                    if lapses {
                        let r = r.as_ref().map(|r| r.as_str().to_owned());
                        let item = (
                            subject.as_str().to_owned(),
                            f.purpose.as_str().to_owned(),
                            category.as_str().to_owned(),
                            r,
                            f.qualities.bits(),
                        );
                        out.insert(item);
                    }
                }
            }
        }
    }
    out
}

fn scanned<S: ConsentHistory>(rescan: &Rescan, store: &S) -> Vec<Found> {
    let mut out = Vec::new();
    for r in rescan.scan(store) {
        assert!(!r.lapsed.is_empty());
        for l in r.lapsed {
            let recipient = l.recipient.as_ref().map(|r| r.as_str().to_owned());
            out.push((
                r.subject.as_str().to_owned(),
                l.purpose.as_str().to_owned(),
                l.category.as_str().to_owned(),
                recipient,
                l.qualities.bits(),
            ));
        }
    }
    out.sort();
    out
}

proptest! {
    #![proptest_config(crate::property_config(module_path!()))]

    #[test]
    fn the_scan_agrees_with_a_brute_force(events in events(), fresh in fresh(), at in 0i64..12) {
        let at = day(at);
        let mut memory = InMemoryLedger::new();
        memory.extend(events.iter().cloned()).unwrap();
        let mut compact = CompactLedger::new();
        events.iter().cloned().for_each(|e| compact.append(e).unwrap());
        let rescan = Rescan::new(Taxonomy::builtin(), "app", "1", "2", fresh.clone()).at(at);
        let got = scanned(&rescan, &memory);
        prop_assert_eq!(&got, &scanned(&rescan, &compact));
        let expected = brute_force(&events, &fresh, at);
        // Every item the scan lists lapses.
        for item in &got {
            prop_assert!(expected.contains(item), "listed but does not lapse: {:?}", item);
        }
        // Every lapse is asked for: the item's category or one above it, for
        // its recipient or for every recipient.
        for (s, p, c, r, q) in &expected {
            let asked = got.iter().any(|(s2, p2, c2, r2, q2)| {
                s == s2 && p == p2 && q == q2 && key(c).is_within(&key(c2)) && (r2.is_none() || r == r2)
            });
            prop_assert!(asked, "lapses but is not asked: {:?} in {:?}", (s, p, c, r, q), got);
        }
    }
}
