//! `CompactLedger` beside `InMemoryLedger`: the same appends, the same
//! answers, after every operation; a snapshot of it answers the same, and
//! a `Replica` opens from one.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::panic)]

use chrono::{DateTime, FixedOffset, Utc};
use privacy_engine::{
    Appended, CategoryKey, CompactLedger, ConsentChange, ConsentEvent, ConsentHistory, ConsentQualities, ConsentQuery,
    ConsentStore, DurableLog, ErasureReason, Error, InMemoryLedger, LogEntry, LogRecord, Permission, PurposeId,
    RecipientId, Replica, Scope, SubjectId,
};
use proptest::prelude::*;

/// Ids of 22 bytes and fewer are kept inline by `CompactLedger`, longer ones
/// are not; the second and third differ only past the 22nd byte, and "本人"
/// is six bytes of UTF-8.
const SUBJECTS: [&str; 4] = ["a", "subject-0123456789-abcdef-1", "subject-0123456789-abcdef-2", "本人"];
/// The last purpose, category and recipient are only ever asked about.
const PURPOSES: [&str; 3] = ["ads", "stats", "never"];
const CATEGORIES: [&str; 7] = [
    "user",
    "user.device",
    "user.device.device_id",
    "user.device.device_id.imei",
    "user.contact",
    "user.contact.phone_number",
    "user.location.precise",
];
const RECIPIENTS: [&str; 3] = ["partner.ads", "processor.sms", "partner.never"];
/// Coherent qualities, mostly; the last is incoherent (separate, not explicit).
const QUALITIES: [u8; 6] = [0, 1, 3, 7, 0b1_1011, 4];
const PERMISSIONS: [Permission; 3] = [Permission::Camera, Permission::Location, Permission::Contacts];
const OFFSETS: [i32; 4] = [0, 8 * 3600, -(5 * 3600 + 1800), 14 * 3600];

/// A time among a few seconds (so that ties are frequent), in one of several
/// offsets, sometimes with nanoseconds.
fn time() -> impl Strategy<Value = DateTime<FixedOffset>> {
    (0i64..6, prop::sample::select(vec![0u32, 500_000_000, 1]), prop::sample::select(OFFSETS.to_vec())).prop_map(
        |(s, n, off)| {
            DateTime::from_timestamp(1_700_000_000 + s, n).unwrap().with_timezone(&FixedOffset::east_opt(off).unwrap())
        },
    )
}

fn scope() -> impl Strategy<Value = Scope> {
    (
        prop_oneof![1 => Just(Vec::new()), 7 => prop::collection::vec(0usize..PURPOSES.len() - 1, 1..3)],
        prop_oneof![1 => Just(Vec::new()), 7 => prop::collection::vec(0usize..CATEGORIES.len() - 1, 1..3)],
        prop::option::of(0usize..RECIPIENTS.len() - 1),
    )
        .prop_map(|(p, c, r)| {
            let mut scope = Scope::new(
                p.into_iter().map(|i| PurposeId::from(PURPOSES[i])).collect(),
                c.into_iter().map(|i| CategoryKey::new(CATEGORIES[i]).unwrap()).collect(),
            );
            scope.recipient = r.map(|i| RecipientId::from(RECIPIENTS[i]));
            scope
        })
}

fn change() -> impl Strategy<Value = ConsentChange> {
    let permission = prop::sample::select(PERMISSIONS.to_vec());
    prop_oneof![
        4 => (prop_oneof![6 => prop::sample::select(QUALITIES.to_vec()), 1 => 0u8..32], scope(), prop::option::of(time())).prop_map(|(q, scope, expires)| ConsentChange::Grant {
            qualities: ConsentQualities::from_bits_retain(q),
            scope,
            expires,
        }),
        1 => scope().prop_map(|scope| ConsentChange::Refuse { scope }),
        1 => scope().prop_map(|scope| ConsentChange::Withdraw { scope }),
        1 => scope().prop_map(|scope| ConsentChange::Expire { scope }),
        1 => scope().prop_map(|scope| ConsentChange::Revoke { scope }),
        1 => permission.clone().prop_map(|permission| ConsentChange::PermissionOn { permission }),
        1 => permission.prop_map(|permission| ConsentChange::PermissionOff { permission }),
    ]
}

/// Ids are drawn from a small pool per subject, so duplicates within a
/// subject are frequent; the compact ledger checks ids per subject only, so
/// no id is shared between subjects here.
fn event() -> impl Strategy<Value = ConsentEvent> {
    (0usize..SUBJECTS.len(), 0u128..16, time(), 0usize..2, change()).prop_map(|(s, n, at, policy, change)| {
        ConsentEvent::new(
            uuid::Uuid::from_u128(((s as u128) << 64) | n),
            at,
            SUBJECTS[s],
            ["seed-004", "seed-007"][policy],
            ["2021-08-20", "2023-01-01"][policy],
            change,
        )
    })
}

#[derive(Clone, Debug)]
struct Query {
    subject: SubjectId,
    purpose: PurposeId,
    category: CategoryKey,
    covering: Vec<CategoryKey>,
    recipient: Option<RecipientId>,
    required: ConsentQualities,
    excluded: ConsentQualities,
    at: DateTime<Utc>,
    permission: Permission,
}

fn query() -> impl Strategy<Value = Query> {
    (
        (0usize..SUBJECTS.len(), 0usize..PURPOSES.len(), 0usize..CATEGORIES.len(), any::<u8>()),
        prop::option::of(0usize..RECIPIENTS.len()),
        (prop::sample::select(QUALITIES.to_vec()), any::<bool>(), any::<bool>()),
        prop_oneof![time(), Just(DateTime::from_timestamp(1_700_000_010, 0).unwrap().fixed_offset())],
        prop::sample::select(PERMISSIONS.to_vec()),
    )
        .prop_map(|((s, p, c, mask), r, (q, no_separate, no_guardian), at, permission)| {
            let category = CategoryKey::new(CATEGORIES[c]).unwrap();
            let mut ancestors = Vec::new();
            let mut k = category.parent();
            while let Some(a) = k {
                k = a.parent();
                ancestors.push(a);
            }
            let covering =
                ancestors.into_iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, a)| a).collect();
            Query {
                subject: SUBJECTS[s].into(),
                purpose: PURPOSES[p].into(),
                category,
                covering,
                recipient: r.map(|i| RecipientId::from(RECIPIENTS[i])),
                required: ConsentQualities::from_bits_retain(q),
                // The qualities a per-requirement query excludes.
                excluded: (if no_separate { ConsentQualities::SEPARATE } else { ConsentQualities::empty() })
                    | (if no_guardian { ConsentQualities::GUARDIAN } else { ConsentQualities::empty() }),
                at: at.with_timezone(&Utc),
                permission,
            }
        })
}

/// A store that answers only `has_consent`, as a third-party store might:
/// `grants` is the trait's default.
struct OnlyHasConsent<'a>(&'a InMemoryLedger);

impl ConsentStore for OnlyHasConsent<'_> {
    fn has_consent(&self, query: &ConsentQuery<'_>) -> bool {
        self.0.has_consent(query)
    }

    fn permission_on(&self, subject: &SubjectId, permission: Permission, at: DateTime<Utc>) -> bool {
        self.0.permission_on(subject, permission, at)
    }
}

fn compare(model: &InMemoryLedger, compact: &CompactLedger, queries: &[Query]) -> Result<(), TestCaseError> {
    prop_assert_eq!(model.len(), compact.len());
    prop_assert_eq!(model.is_empty(), compact.is_empty());
    for s in SUBJECTS {
        let subject = SubjectId::from(s);
        let want: Vec<ConsentEvent> = model.events(&subject).cloned().collect();
        let got: Vec<ConsentEvent> = compact.events(&subject).collect();
        prop_assert_eq!(&want, &got);
        // `DateTime` equality ignores the offset: compare it too.
        let offsets = |v: &[ConsentEvent]| v.iter().map(|e| e.at.to_rfc3339()).collect::<Vec<_>>();
        prop_assert_eq!(offsets(&want), offsets(&got));
    }
    for q in queries {
        let mut query = ConsentQuery::new(&q.subject, &q.purpose, &q.category, q.at)
            .covering(&q.covering)
            .required(q.required)
            .excluded(q.excluded);
        query.recipient = q.recipient.as_ref();
        prop_assert_eq!(model.has_consent(&query), compact.has_consent(&query), "has_consent {:?}", q);
        // One pass over the events and the trait's default (32 look-ups) agree.
        let grants = model.grants(&query);
        prop_assert_eq!(grants, compact.grants(&query), "grants {:?}", q);
        prop_assert_eq!(grants, OnlyHasConsent(model).grants(&query), "default grants {:?}", q);
        prop_assert_eq!(grants.any(q.required, q.excluded), model.has_consent(&query));
        prop_assert_eq!(
            model.status(&q.subject, &q.purpose, &q.category, q.recipient.as_ref(), q.at),
            compact.status(&q.subject, &q.purpose, &q.category, q.recipient.as_ref(), q.at),
            "status {:?}",
            q
        );
        prop_assert_eq!(
            model.permission_on(&q.subject, q.permission, q.at),
            compact.permission_on(&q.subject, q.permission, q.at),
            "permission_on {:?}",
            q
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compact_ledger_answers_like_the_in_memory_ledger(
        events in prop::collection::vec(event(), 0..40),
        queries in prop::collection::vec(query(), 1..40),
    ) {
        let mut model = InMemoryLedger::new();
        let mut compact = CompactLedger::new();
        compare(&model, &compact, &queries)?;
        for e in events {
            let want = model.append(e.clone());
            let got = compact.append(e);
            prop_assert_eq!(want.as_ref().err().map(|e| (e.kind(), e.to_string())), got.as_ref().err().map(|e| (e.kind(), e.to_string())));
            compare(&model, &compact, &queries)?;
        }
    }
}

#[test]
fn extend_stops_at_the_first_refused_event() {
    let at: DateTime<FixedOffset> = "2024-01-01T00:00:00+08:00".parse().unwrap();
    let ev = |n| {
        let change = ConsentChange::PermissionOn { permission: Permission::Camera };
        ConsentEvent::new(uuid::Uuid::from_u128(n), at, "u", "p", "1", change)
    };
    let mut compact = CompactLedger::new();
    assert!(compact.extend([ev(1), ev(2), ev(1), ev(3)]).is_err());
    assert_eq!(compact.len(), 2);
    assert!(!compact.is_empty());
}

/// The ledger's events, every subject's in arrival order with their
/// recording times and offsets, to compare two ledgers.
fn arrivals(l: &CompactLedger) -> Vec<(ConsentEvent, String, Option<DateTime<Utc>>)> {
    let mut subjects: Vec<SubjectId> = l.subjects().collect();
    subjects.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    let all = subjects.iter().flat_map(|s| l.arrivals(s).collect::<Vec<_>>());
    all.map(|(e, r)| {
        let offset = e.at.to_rfc3339();
        (e, offset, r)
    })
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A snapshot gives back the same events and the same answers, after
    /// appends with and without a recording time and an erasure.
    #[test]
    fn a_snapshot_answers_like_its_ledger(
        events in prop::collection::vec((event(), any::<bool>()), 0..40),
        queries in prop::collection::vec(query(), 1..20),
        forget in prop::option::of(0usize..SUBJECTS.len()),
    ) {
        let mut compact = CompactLedger::new();
        for (e, recorded) in events {
            let _ = if recorded {
                let at = e.at.with_timezone(&Utc) + chrono::TimeDelta::seconds(1);
                compact.append_at(e, at)
            } else {
                compact.append(e)
            };
        }
        if let Some(s) = forget {
            compact.forget(&SUBJECTS[s].into());
        }
        let back = CompactLedger::from_snapshot(&compact.to_snapshot()).unwrap();
        prop_assert_eq!(arrivals(&compact), arrivals(&back));
        let mut model = InMemoryLedger::new();
        for s in SUBJECTS {
            model.extend(compact.events(&s.into())).unwrap();
        }
        compare(&model, &back, &queries)?;
    }
}

/// A log in memory that keeps a snapshot and counts the records it hands
/// out, to see where a replica starts.
#[derive(Default)]
struct MemoryLog {
    records: Vec<LogEntry>,
    snapshot: Option<(u64, Vec<u8>)>,
    read: usize,
}

impl MemoryLog {
    fn push(&mut self, record: LogRecord) -> u64 {
        let seq = self.records.len() as u64 + 1;
        self.records.push(LogEntry { seq, record });
        seq
    }
}

impl DurableLog for MemoryLog {
    fn append(&mut self, events: &[ConsentEvent], recorded: DateTime<Utc>) -> Result<Vec<Appended>, Error> {
        privacy_engine::check_append(events, recorded)?;
        let push = |e: &ConsentEvent| self.push(LogRecord::Consent { event: e.clone(), recorded });
        Ok(events.iter().map(push).map(|seq| Appended { seq, fresh: true }).collect())
    }
    fn read_after(&mut self, after: u64, limit: usize) -> Result<Vec<LogEntry>, Error> {
        let out: Vec<LogEntry> = self.records.iter().skip(after as usize).take(limit).cloned().collect();
        self.read += out.len();
        Ok(out)
    }
    fn subjects(&mut self) -> Result<Vec<SubjectId>, Error> {
        unimplemented!()
    }
    fn subject_records(&mut self, _: &SubjectId) -> Result<Vec<LogEntry>, Error> {
        unimplemented!()
    }
    fn erase_subject(
        &mut self,
        s: &SubjectId,
        at: DateTime<Utc>,
        reason: ErasureReason,
    ) -> Result<(u64, usize), Error> {
        self.snapshot = None;
        Ok((self.push(LogRecord::Erasure { subject: s.clone(), at, reason }), 0))
    }
    fn snapshot(&mut self) -> Result<Option<(u64, Vec<u8>)>, Error> {
        Ok(self.snapshot.clone())
    }
    fn save_snapshot(&mut self, seq: u64, bytes: &[u8]) -> Result<(), Error> {
        self.snapshot = Some((seq, bytes.to_vec()));
        Ok(())
    }
}

#[test]
fn a_replica_opens_from_its_checkpoint_and_the_tail() {
    let at: DateTime<FixedOffset> = "2024-01-01T00:00:00+08:00".parse().unwrap();
    let recorded = at.with_timezone(&Utc);
    let ev = |n: u128, subject: &str| {
        let change = ConsentChange::Grant {
            qualities: ConsentQualities::separate(),
            scope: Scope::new(vec!["ads".into()], vec![CategoryKey::new("user.device").unwrap()]),
            expires: None,
        };
        ConsentEvent::new(uuid::Uuid::from_u128(n), at, subject, "p", "1", change)
    };
    let mut replica = Replica::open(MemoryLog::default()).unwrap();
    replica.append_all(&[ev(1, "a"), ev(2, "b"), ev(3, "c")], recorded).unwrap();
    assert_eq!(replica.checkpoint().unwrap(), 3);
    replica.append(ev(4, "a"), recorded).unwrap();
    let (mut log, ledger, _) = replica.into_parts();

    log.read = 0;
    let reopened = Replica::open(&mut log).unwrap();
    assert_eq!((reopened.seen(), arrivals(reopened.ledger())), (4, arrivals(&ledger)));
    drop(reopened);
    assert_eq!(log.read, 1, "only the record after the snapshot is read");

    // A snapshot that does not decode: the whole log is replayed.
    log.snapshot.as_mut().unwrap().1[60] ^= 1;
    log.read = 0;
    let replayed = Replica::open(&mut log).unwrap();
    assert_eq!((replayed.seen(), arrivals(replayed.ledger())), (4, arrivals(&ledger)));
    drop(replayed);
    assert_eq!(log.read, 4);

    // An erasure drops the snapshot that held the subject.
    let mut replica = Replica::open(&mut log).unwrap();
    replica.checkpoint().unwrap();
    replica.log_mut().erase_subject(&"a".into(), recorded, ErasureReason::Request).unwrap();
    replica.catch_up().unwrap();
    assert_eq!(replica.ledger().len(), 2);
    drop(replica);
    assert_eq!(Replica::open(&mut log).unwrap().ledger().len(), 2);
}
