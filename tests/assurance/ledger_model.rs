//! The consent ledger beside a plain `BTreeMap` model, compared after every
//! operation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};
use privacy_engine::{
    CategoryKey, ConsentChange, ConsentEvent, ConsentQualities, ConsentQuery, ConsentStatus, ConsentStore,
    InMemoryLedger, Permission, PurposeId, RecipientId, SubjectId, Taxonomy,
};
use proptest::prelude::*;
use proptest::sample::select;

use crate::generate::{self, CATEGORIES, base_time, key};
use crate::reference::Events;

/// The model: each subject's accepted events in append order, and the ids
/// seen.
#[derive(Default)]
struct Model {
    events: BTreeMap<SubjectId, Vec<ConsentEvent>>,
    ids: BTreeSet<uuid::Uuid>,
}

impl Model {
    /// Appends as documented: refused (nothing recorded) for a duplicate id,
    /// incoherent grant qualities, or a scope with no purpose or category.
    fn append(&mut self, e: ConsentEvent) -> bool {
        let incoherent = matches!(&e.change, ConsentChange::Grant { qualities, .. } if !qualities.is_coherent());
        let empty = e.change.scope().is_some_and(|s| s.purposes.is_empty() || s.categories.is_empty());
        if self.ids.contains(&e.id) || incoherent || empty {
            return false;
        }
        self.ids.insert(e.id);
        self.events.entry(e.subject.clone()).or_default().push(e);
        true
    }

    fn all(&self) -> Vec<ConsentEvent> {
        self.events.values().flatten().cloned().collect()
    }

    /// A subject's events in time order, ties in append order.
    fn in_order(&self, subject: &SubjectId) -> Vec<ConsentEvent> {
        let mut v = self.events.get(subject).cloned().unwrap_or_default();
        v.sort_by_key(|e| e.at.with_timezone(&Utc));
        v
    }

    /// The DPV status: what the latest relevant event at or before `at` left
    /// it in; grants count on the category or an ancestor, endings on the
    /// category, an ancestor or a descendant; a second grant renews; a grant
    /// past its expiry is expired.
    fn status(
        &self,
        subject: &SubjectId,
        purpose: &PurposeId,
        category: &CategoryKey,
        recipient: Option<&RecipientId>,
        at: DateTime<Utc>,
    ) -> ConsentStatus {
        let mut status = ConsentStatus::Unknown;
        let mut granted = false;
        for e in self.in_order(subject).iter().filter(|e| e.at.with_timezone(&Utc) <= at) {
            let Some(scope) = e.change.scope() else { continue };
            let to_recipient = match (&scope.recipient, recipient) {
                (None, _) => true,
                (Some(r), Some(q)) => r == q,
                (Some(_), None) => false,
            };
            if !scope.purposes.contains(purpose) || !to_recipient {
                continue;
            }
            match &e.change {
                ConsentChange::Grant { expires, .. } => {
                    if scope.categories.iter().any(|c| category.is_within(c)) {
                        status = if granted { ConsentStatus::RenewedGiven } else { ConsentStatus::Given };
                        granted = true;
                        if expires.is_some_and(|x| x.with_timezone(&Utc) <= at) {
                            status = ConsentStatus::Expired;
                        }
                    }
                }
                other => {
                    if scope.categories.iter().any(|c| category.is_within(c) || c.is_within(category)) {
                        status = other.status().unwrap();
                    }
                }
            }
        }
        status
    }
}

/// An event to append: mostly valid, sometimes a duplicate id, incoherent
/// qualities or an empty scope.
fn op() -> impl Strategy<Value = (ConsentEvent, u8, u8)> {
    (generate::event(), 0u8..20, 0u8..32)
}

/// The ancestors of `k` whose grants cover it, as the engine computes them.
pub(crate) fn covering(tax: &Taxonomy, k: &CategoryKey) -> Vec<CategoryKey> {
    let own = tax.get(k).map(|i| i.sensitivity);
    let mut out = Vec::new();
    let mut p = k.parent();
    while let Some(a) = p {
        if own.is_none_or(|s| tax.get(&a).is_some_and(|i| i.sensitivity >= s)) {
            out.push(a.clone());
        }
        p = a.parent();
    }
    out
}

/// Subject, purpose, category, recipient, required and excluded qualities,
/// seconds from the base time.
type Query = (&'static str, &'static str, &'static str, Option<&'static str>, u8, u8, i64);

fn query() -> impl Strategy<Value = Query> {
    (
        select(vec![generate::SUBJECT, "other", "nobody"]),
        select(vec!["purpose.z", "purpose.a", "purpose.m"]),
        select(CATEGORIES),
        proptest::option::of(select(vec!["recipient.z", "recipient.a"])),
        0u8..32,
        prop_oneof![3 => Just(0u8), 1 => 0u8..32],
        select(vec![-2000i64, -86_401, -86_400, -1, 0, 1, 86_400, 86_401, 2000 * 86_400]),
    )
}

proptest! {
    #![proptest_config(crate::property_config(module_path!()))]

    #[test]
    fn ledger_matches_model(ops in proptest::collection::vec(op(), 1..12), queries in proptest::collection::vec(query(), 16)) {
        let tax = Taxonomy::builtin();
        let mut ledger = InMemoryLedger::new();
        let mut model = Model::default();
        for (i, (mut e, kind, bits)) in ops.into_iter().enumerate() {
            e.id = uuid::Uuid::from_u128(i as u128 + 1);
            match kind {
                0 if i > 0 => e.id = uuid::Uuid::from_u128(i as u128), // a duplicate id
                1 => {
                    if let ConsentChange::Grant { qualities, .. } = &mut e.change {
                        *qualities = ConsentQualities::from_bits_truncate(bits);
                    }
                }
                2 => {
                    if let ConsentChange::Withdraw { scope } | ConsentChange::Grant { scope, .. } = &mut e.change {
                        scope.categories.clear();
                    }
                }
                _ => {}
            }
            let accepted = model.append(e.clone());
            prop_assert_eq!(ledger.append(e).is_ok(), accepted);
            prop_assert_eq!(ledger.len(), model.ids.len());
            prop_assert_eq!(ledger.is_empty(), model.ids.is_empty());
            let all = model.all();
            let events = Events::any(&all);
            // The same questions asked for the grants of policy `gen` in
            // version `1` only.
            let gen_policy = [privacy_engine::Policy::new("gen", "1")];
            let under_gen = Events::under(&all, &gen_policy, 0);
            let (gen_id, gen_versions) = (privacy_engine::PolicyId::from("gen"), ["1".to_owned()]);
            for (subject, purpose, category, recipient, bits, excluded_bits, secs) in &queries {
                let subject = SubjectId::from(*subject);
                let purpose = PurposeId::from(*purpose);
                let category = key(category);
                let recipient = recipient.map(RecipientId::from);
                let at = base_time().with_timezone(&Utc) + Duration::seconds(*secs);
                let required = ConsentQualities::from_bits_truncate(*bits);
                let excluded = ConsentQualities::from_bits_truncate(*excluded_bits);
                let cover = covering(&tax, &category);
                let mut q = ConsentQuery::new(&subject, &purpose, &category, at);
                q.covering = &cover;
                q.recipient = recipient.as_ref();
                q.required = required;
                q.excluded = excluded;
                prop_assert_eq!(
                    ledger.has_consent(&q),
                    events.has_consent(&subject, &purpose, &category, &cover.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>(), recipient.as_ref(), (required, excluded), (false, None), at),
                    "has_consent {:?}", q
                );
                let cover_names = cover.iter().map(|k| k.as_str().to_owned()).collect::<Vec<_>>();
                prop_assert_eq!(
                    ledger.has_consent(&q.under(&gen_id, &gen_versions)),
                    under_gen.has_consent(&subject, &purpose, &category, &cover_names, recipient.as_ref(), (required, excluded), (false, None), at),
                    "has_consent under gen/1 {:?}", q
                );
                prop_assert_eq!(
                    ledger.status(&subject, &purpose, &category, recipient.as_ref(), at),
                    model.status(&subject, &purpose, &category, recipient.as_ref(), at)
                );
                for p in [Permission::Camera, Permission::Location, Permission::Contacts] {
                    prop_assert_eq!(ledger.permission_on(&subject, p, at), events.permission_on(&subject, p, at));
                }
            }
            for subject in ["s1", "other"] {
                let s = SubjectId::from(subject);
                let got: Vec<_> = ledger.events(&s).cloned().collect();
                prop_assert_eq!(got, model.in_order(&s));
            }
        }
    }
}
