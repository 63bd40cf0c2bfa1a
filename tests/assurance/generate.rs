//! proptest generators: small random policies that pass `Policy::validate`,
//! consent histories and requests around every boundary that matters.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use privacy_engine::{
    Action, ActionRule, Agreement, CategoryDecl, CategoryKey, Cites, ClaimedException, ConsentChange, ConsentEvent,
    ConsentQualities, ConsentRequirement, DataState, Duty, EndAction, Evidence, Exception, Ground, LegalHold,
    MinorEffect, MinorRule, Minors, MonthEnd, Period, Permission, Policy, Purpose, PurposeBasis, PurposeId, Recipient,
    RecipientKind, RecipientRequirement, RecordEvents, Request, RetentionRule, Scope, Sensitivity, Settings, Subject,
    Trigger, UnknownAge,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// Built-in categories at every depth and of every sensitivity, and the two
/// the generated policies may declare.
pub(crate) const CATEGORIES: &[&str] = &[
    "user",
    "user.contact",
    "user.contact.phone_number",
    "user.contact.carrier",
    "user.biometric",
    "user.biometric.face",
    "user.device",
    "user.device.model",
    "user.device.device_id",
    "user.device.device_id.imei",
    "user.financial.transaction",
    "user.location.precise",
    "user.account.nickname",
    "organization.contact",
    "aggregate.statistics",
    "user.contact.phone_number.backup",
    "user.device.model.codename",
];

/// Keys that no generated policy declares.
pub(crate) const UNKNOWN_CATEGORIES: &[&str] = &["user.unknown", "user.contact.phone_number.unknown", "unknown"];

/// The subject whose consents the ledger holds; requests are for it or for
/// `other`.
pub(crate) const SUBJECT: &str = "s1";

/// Ids in an order that is not sorted, so that lists built in policy order
/// show whether they are sorted.
const PURPOSE_IDS: [&str; 3] = ["purpose.z", "purpose.a", "purpose.m"];
const RECIPIENT_IDS: [&str; 3] = ["recipient.z", "recipient.a", "recipient.m"];

/// The request time the generated times are around.
pub(crate) fn base_time() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2024-05-01T10:00:00+08:00").unwrap()
}

pub(crate) fn key(s: &str) -> CategoryKey {
    CategoryKey::new(s).unwrap()
}

/// Any of the 32 quality sets, made coherent (separate implies explicit,
/// explicit, separate and written imply affirmative): every coherent set,
/// the empty one (policy acceptance) included.
pub(crate) fn qualities() -> impl Strategy<Value = ConsentQualities> {
    (0u8..32).prop_map(|bits| {
        let mut q = ConsentQualities::from_bits_truncate(bits);
        if q.contains(ConsentQualities::SEPARATE) {
            q |= ConsentQualities::EXPLICIT;
        }
        if q.intersects(ConsentQualities::EXPLICIT | ConsentQualities::SEPARATE | ConsentQualities::WRITTEN) {
            q |= ConsentQualities::AFFIRMATIVE;
        }
        q
    })
}

/// A coherent, non-empty quality set (what a requirement may name).
pub(crate) fn required_qualities() -> impl Strategy<Value = ConsentQualities> {
    qualities().prop_map(|q| if q.is_empty() { ConsentQualities::AFFIRMATIVE } else { q })
}

fn cats(max: usize) -> impl Strategy<Value = Vec<CategoryKey>> {
    subsequence(CATEGORIES, 0..=max).prop_map(|v| v.into_iter().map(key).collect())
}

fn nonempty_cats(max: usize) -> impl Strategy<Value = Vec<CategoryKey>> {
    subsequence(CATEGORIES, 1..=max).prop_map(|v| v.into_iter().map(key).collect())
}

fn purpose_refs(n: usize) -> impl Strategy<Value = Vec<PurposeId>> {
    subsequence(&PURPOSE_IDS[..n], 0..=n).prop_map(|v| v.into_iter().map(PurposeId::from).collect())
}

const GROUNDS: &[Ground] = &[
    Ground::AuthorityRequest,
    Ground::VitalInterests,
    Ground::SubjectRequest,
    Ground::GuardianRequest,
    Ground::Contract,
    Ground::Merger,
    Ground::AcademicResearch,
    Ground::ServiceProvision,
    Ground::ProtectRights,
    Ground::Law,
];

const EVIDENCE: &[Evidence] = &[
    Evidence::LegalDocuments,
    Evidence::NotForProfit,
    Evidence::ResultsDeIdentified,
    Evidence::ConsentHardToObtain,
    Evidence::MajorPublicInterest,
    Evidence::SubjectRequested,
    Evidence::GuardianRequested,
    Evidence::NewHolderBound,
];

const KINDS: &[RecipientKind] = &[
    RecipientKind::Affiliate,
    RecipientKind::Processor,
    RecipientKind::Partner,
    RecipientKind::Merchant,
    RecipientKind::Advertiser,
    RecipientKind::Sdk,
    RecipientKind::Authority,
    RecipientKind::Acquirer,
    RecipientKind::Public,
];

const AGREEMENTS: &[Agreement] = &[
    Agreement::Confidentiality,
    Agreement::ProcessingContract,
    Agreement::CacStandardContract,
    Agreement::CacSecurityAssessment,
    Agreement::Certification,
    Agreement::AdvertisingRules,
];

const RECIPIENT_REQUIREMENTS: &[RecipientRequirement] = &[
    RecipientRequirement::Confidentiality,
    RecipientRequirement::ProcessingContract,
    RecipientRequirement::TransferMechanism,
    RecipientRequirement::AdvertisingRules,
];

const DUTIES: &[Duty] = &[
    Duty::DeIdentifyFirst,
    Duty::AnonymiseFirst,
    Duty::Minimise,
    Duty::Encrypt,
    Duty::NotifySubject,
    Duty::BindRecipientToPurpose,
    Duty::ConfidentialityAgreement,
    Duty::TransferMechanism,
    Duty::ImpactAssessment,
    Duty::LegalDocuments,
    Duty::EncryptDisclosure,
    Duty::DeIdentifyResults,
    Duty::NotForProfit,
    Duty::NewHolderBound,
    Duty::AdvanceNotice,
    Duty::NotifyRecipients,
    Duty::NoReidentification,
];

const PERMISSIONS: &[Permission] = &[Permission::Camera, Permission::Location, Permission::Contacts];

pub(crate) const STATES: &[DataState] =
    &[DataState::Identifiable, DataState::DeIdentified, DataState::Anonymised, DataState::Aggregated];

const REGIONS: &[&str] = &["CN", "EU", "US"];

/// Periods in increasing length, so a minimum never exceeds its maximum.
const PERIODS: &[&str] = &["P0D", "P30D", "P6M", "P1Y", "P1Y6M", "P3Y"];

fn cites() -> impl Strategy<Value = Option<Cites>> {
    prop_oneof![Just(None), Just(Some(Cites::from("§1"))), Just(Some(Cites::from("§2")))]
}

fn purpose(id: &'static str) -> impl Strategy<Value = Purpose> {
    (
        prop_oneof![Just(PurposeBasis::Core), Just(PurposeBasis::Optional)],
        nonempty_cats(4),
        proptest::option::weighted(0.3, select(PERMISSIONS)),
        cites(),
    )
        .prop_map(move |(basis, categories, permission, cites)| Purpose {
            id: id.into(),
            description: None,
            basis,
            categories,
            permission,
            cites,
        })
}

fn requirement(i: usize, n_purposes: usize) -> impl Strategy<Value = ConsentRequirement> {
    (subsequence(Action::ALL.to_vec(), 1..=4), purpose_refs(n_purposes), cats(2), required_qualities(), cites())
        .prop_map(move |(actions, purposes, categories, qualities, cites)| ConsentRequirement {
            recipient_kinds: vec![],
            id: format!("req{i}").into(),
            actions,
            purposes,
            categories,
            qualities,
            cites,
        })
}

fn recipient(id: &'static str, n_purposes: usize) -> impl Strategy<Value = Recipient> {
    (
        select(KINDS),
        select(REGIONS),
        subsequence(AGREEMENTS, 0..=3),
        nonempty_cats(3),
        purpose_refs(n_purposes),
        select(STATES),
        cites(),
    )
        .prop_map(move |(kind, region, agreements, categories, purposes, data_state, cites)| Recipient {
            id: id.into(),
            kind,
            name: None,
            contact: None,
            region: region.to_owned(),
            agreements,
            categories,
            purposes,
            data_state,
            cites,
        })
}

fn exception(rule: String, j: usize) -> impl Strategy<Value = Exception> {
    (select(GROUNDS), subsequence(EVIDENCE, 0..=1), subsequence(KINDS, 0..=2), subsequence(DUTIES, 0..=2), cites())
        .prop_map(move |(ground, requires, recipient_kinds, duties, cites)| Exception {
            id: format!("{rule}.e{j}").into(),
            ground,
            requires,
            recipient_kinds,
            duties,
            cites,
        })
}

fn action_rule(action: Action) -> impl Strategy<Value = ActionRule> {
    let id = format!("rule.{}", action.as_str());
    let exceptions = vec(0..3usize, 0..=2);
    (
        proptest::option::weighted(0.6, required_qualities()),
        any::<bool>(),
        subsequence(KINDS, 0..=3),
        subsequence(RECIPIENT_REQUIREMENTS, 0..=2),
        exceptions,
        subsequence(DUTIES, 0..=2),
        cites(),
    )
        .prop_flat_map(move |(consent, core_purposes, recipient_kinds, recipient_requires, ex, duties, cites)| {
            let id = id.clone();
            let exs: Vec<_> = (0..ex.len()).map(|j| exception(id.clone(), j)).collect();
            exs.prop_map(move |exceptions| ActionRule {
                id: id.clone().into(),
                action,
                consent,
                core_purposes,
                recipient_kinds: recipient_kinds.clone(),
                recipient_requires: recipient_requires.clone(),
                exceptions,
                duties: duties.clone(),
                within_purpose: true,
                allow_abroad: false,
                data_states: vec![],
                recipient_requires_kinds: vec![],
                domestic: privacy_engine::Domestic::Deny,
                cites: cites.clone(),
            })
        })
}

fn age_threshold() -> impl Strategy<Value = u8> {
    prop_oneof![Just(13u8), Just(14), Just(17), Just(18), 1u8..=25]
}

fn minors(n_purposes: usize) -> impl Strategy<Value = Minors> {
    let rule = (
        age_threshold(),
        prop_oneof![Just(MinorEffect::Deny), Just(MinorEffect::GuardianConsent), Just(MinorEffect::Guidance)],
        subsequence(Action::ALL.to_vec(), 0..=3),
        purpose_refs(n_purposes),
        any::<bool>(),
        cites(),
    );
    (age_threshold(), qualities(), vec(rule, 0..=2), cites()).prop_map(|(below, guardian_qualities, rules, cites)| {
        Minors {
            id: "minors".into(),
            guardian_consent_below: below,
            guardian_qualities,
            rules: rules
                .into_iter()
                .enumerate()
                .map(|(i, (below_age, effect, actions, purposes, requires_real_name, cites))| MinorRule {
                    id: format!("minors.r{i}").into(),
                    below_age,
                    effect,
                    actions,
                    purposes,
                    requires_real_name,
                    cites,
                })
                .collect(),
            cites,
        }
    })
}

fn trigger() -> impl Strategy<Value = Trigger> {
    select(vec![
        Trigger::Collected,
        Trigger::TransactionCompleted,
        Trigger::AccountCancelled,
        Trigger::LastUsed,
        Trigger::PurposeFulfilled,
    ])
}

fn retention_rule(i: usize, n_purposes: usize) -> impl Strategy<Value = RetentionRule> {
    (
        cats(2),
        purpose_refs(n_purposes),
        trigger(),
        proptest::option::of(0..PERIODS.len()),
        proptest::option::of(0..PERIODS.len()),
        select(vec![EndAction::Delete, EndAction::Anonymise, EndAction::DeleteOrAnonymise]),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        cites(),
    )
        .prop_map(move |(categories, purposes, trigger, min, max, end_action, backups, isolate, notify, cites)| {
            let (min, max) = match (min, max) {
                (Some(a), Some(b)) => (Some(a.min(b)), Some(a.max(b))),
                other => other,
            };
            let period = |i: usize| PERIODS[i].parse::<Period>().unwrap();
            RetentionRule {
                id: format!("ret{i}").into(),
                categories,
                purposes,
                trigger,
                minimum: min.map(period),
                maximum: max.map(period),
                end_action,
                backups_at_next_cycle: backups,
                isolate_backups: isolate,
                notify_recipients: notify,
                cites,
            }
        })
}

fn settings() -> impl Strategy<Value = Settings> {
    (
        select(vec![0i32, 8 * 3600, -5 * 3600]),
        any::<bool>(),
        prop_oneof![Just(MonthEnd::Clamp), Just(MonthEnd::RollOver)],
        prop_oneof![Just(UnknownAge::Minor), Just(UnknownAge::Adult)],
        any::<bool>(),
    )
        .prop_map(|(offset, last_day_included, month_end, unknown_age, stops_use)| {
            let mut s = Settings::default();
            s.permission_off_stops_use = stops_use;
            s.utc_offset_seconds = offset;
            s.last_day_included = last_day_included;
            s.month_end = month_end;
            s.unknown_age = unknown_age;
            s
        })
}

fn category_decls() -> impl Strategy<Value = Vec<CategoryDecl>> {
    let sens =
        proptest::option::of(select(vec![Sensitivity::NonPersonal, Sensitivity::Personal, Sensitivity::Sensitive]));
    (sens.clone(), sens, proptest::option::weighted(0.3, Just(Sensitivity::Sensitive))).prop_map(|(a, b, raise)| {
        let mut decls = vec![
            CategoryDecl {
                key: key("user.contact.phone_number.backup"),
                sensitivity: a,
                description: None,
                cites: None,
            },
            CategoryDecl { key: key("user.device.model.codename"), sensitivity: b, description: None, cites: None },
        ];
        if raise.is_some() {
            // Raise a built-in personal category.
            decls.push(CategoryDecl { key: key("user.contact"), sensitivity: raise, description: None, cites: None });
        }
        decls
    })
}

/// A small random policy that passes `Policy::validate`.
pub(crate) fn policy() -> impl Strategy<Value = Policy> {
    (prop_oneof![1 => Just(0usize), 6 => 1usize..=3], 0usize..=3, 0usize..=3, 0usize..=3)
        .prop_flat_map(|(np, nq, nr, nt)| {
            (
                settings(),
                category_decls(),
                PURPOSE_IDS[..np].iter().map(|id| purpose(id)).collect::<Vec<_>>(),
                (0..nq).map(|i| requirement(i, np)).collect::<Vec<_>>(),
                RECIPIENT_IDS[..nr].iter().map(|id| recipient(id, np)).collect::<Vec<_>>(),
                subsequence(Action::ALL.to_vec(), 3..=10)
                    .prop_flat_map(|acts| acts.into_iter().map(action_rule).collect::<Vec<_>>()),
                proptest::option::weighted(0.7, minors(np)),
                (0..nt).map(|i| retention_rule(i, np)).collect::<Vec<_>>(),
            )
        })
        .prop_map(|(settings, categories, purposes, consent_requirements, recipients, actions, minors, retention)| {
            let p = Policy {
                schema: privacy_engine::SCHEMA_VERSION,
                id: "gen".into(),
                version: "1".into(),
                effective: base_time() - Duration::days(3650),
                language: "en".into(),
                source: None,
                notes: vec![],
                acknowledged_warnings: vec![],
                settings,
                categories,
                purposes,
                consent_requirements,
                recipients,
                actions,
                minors,
                retention,
            };
            if let Err(e) = p.validate() {
                panic!("generated policy is invalid: {e}\n{p:#?}");
            }
            p
        })
}

/// An offset from the request time: around it to the second, and a day,
/// a month, a year or three away.
fn near(scale_days: &'static [i64]) -> impl Strategy<Value = Duration> {
    (select(scale_days), select(vec![-1i64, 0, 1, 3600 * 7, 3600 * 16, -3600 * 16]))
        .prop_map(|(d, s)| Duration::days(d) + Duration::seconds(s))
}

/// Offsets of consent events relative to the request time.
const CONSENT_DAYS: &[i64] = &[-1000, -1, 0, 1];

/// Offsets of retention events before the request time, around 30 days,
/// six months, one, one and a half and three years.
const RETENTION_DAYS: &[i64] =
    &[0, 1, 29, 30, 31, 180, 181, 182, 183, 184, 364, 365, 366, 367, 546, 547, 548, 549, 1094, 1095, 1096, 1097, 1098];

fn time_zone() -> impl Strategy<Value = FixedOffset> {
    select(vec![0i32, 8 * 3600, -5 * 3600]).prop_map(|s| FixedOffset::east_opt(s).unwrap())
}

fn scope(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = Scope> {
    let n = purposes.len().min(2);
    (
        subsequence(purposes, 1..=n.max(1)),
        vec(category_near(cats), 1..=2),
        proptest::option::weighted(0.3, select(RECIPIENT_IDS.to_vec())),
    )
        .prop_map(|(purposes, categories, recipient)| Scope {
            purposes,
            categories,
            recipient: recipient.map(Into::into),
        })
}

/// A consent change: grants with every coherent quality set and expiries
/// around the request time, endings of every kind, permission switches;
/// about the given purposes and (mostly) categories within `cats`.
fn change_about(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = ConsentChange> {
    let at = base_time();
    let sc = move || scope(purposes.clone(), cats.clone());
    prop_oneof![
        6 => (qualities(), sc(), proptest::option::weighted(0.3, near(CONSENT_DAYS)))
            .prop_map(move |(qualities, scope, exp)| ConsentChange::Grant {
                qualities,
                scope,
                expires: exp.map(|d| at + d),
            }),
        1 => sc().prop_map(|scope| ConsentChange::Refuse { scope }),
        1 => sc().prop_map(|scope| ConsentChange::Withdraw { scope }),
        1 => sc().prop_map(|scope| ConsentChange::Expire { scope }),
        1 => sc().prop_map(|scope| ConsentChange::Revoke { scope }),
        1 => select(PERMISSIONS).prop_map(|permission| ConsentChange::PermissionOn { permission }),
        1 => select(PERMISSIONS).prop_map(|permission| ConsentChange::PermissionOff { permission }),
    ]
}

fn all_purposes() -> Vec<PurposeId> {
    PURPOSE_IDS.iter().map(|p| PurposeId::from(*p)).collect()
}

fn event_about(purposes: Vec<PurposeId>, cats: Vec<CategoryKey>) -> impl Strategy<Value = ConsentEvent> {
    (near(CONSENT_DAYS), time_zone(), change_about(purposes, cats), prop_oneof![6 => Just(SUBJECT), 1 => Just("other")])
        .prop_map(|(d, tz, change, subject)| ConsentEvent {
            id: uuid::Uuid::nil(),
            at: (base_time() + d).with_timezone(&tz),
            subject: subject.into(),
            policy_id: "gen".into(),
            policy_version: "1".into(),
            change,
        })
}

/// A consent event near the request time (ids are set by `history`).
pub(crate) fn event() -> impl Strategy<Value = ConsentEvent> {
    event_about(all_purposes(), vec![key("user")])
}

fn with_ids(mut evs: Vec<ConsentEvent>) -> Vec<ConsentEvent> {
    for (i, e) in evs.iter_mut().enumerate() {
        e.id = uuid::Uuid::from_u128(i as u128 + 1);
    }
    evs
}

/// A consent history the ledger accepts (unique ids), about anything.
pub(crate) fn history(max: usize) -> impl Strategy<Value = Vec<ConsentEvent>> {
    vec(event(), 0..=max).prop_map(with_ids)
}

/// A consent history about the policy's purposes and categories.
pub(crate) fn history_for(policy: &Policy, max: usize) -> BoxedStrategy<Vec<ConsentEvent>> {
    let mut purposes: Vec<PurposeId> = policy.purposes.iter().map(|p| p.id.clone()).collect();
    if purposes.is_empty() {
        purposes = all_purposes();
    }
    let cats: Vec<CategoryKey> = policy.purposes.iter().flat_map(|p| p.categories.clone()).collect();
    let cats = if cats.is_empty() { vec![key("user")] } else { cats };
    vec(event_about(purposes, cats), 0..=max).prop_map(with_ids).boxed()
}

/// A policy, a consent history and requests about it.
pub(crate) fn case() -> impl Strategy<Value = (Policy, Vec<ConsentEvent>, Vec<Request>)> {
    policy().prop_flat_map(|p| {
        let h = history_for(&p, 8);
        let r = vec(request_for(&p), 1..=4);
        (Just(p), h, r)
    })
}

fn age() -> impl Strategy<Value = Option<u8>> {
    prop_oneof![
        6 => Just(None),
        36 => select(vec![0u8, 12, 13, 14, 15, 16, 17, 18, 19, 30, 150]).prop_map(Some),
        1 => select(vec![151u8, 255]).prop_map(Some),
    ]
}

/// A birth date that puts the subject just below, at or just above 13, 14,
/// 17 or 18 on the request's day (give or take the time zone), above 150, or
/// in the future.
fn birth_date() -> impl Strategy<Value = Option<NaiveDate>> {
    let at = base_time().date_naive();
    prop_oneof![
        40 => Just(None),
        8 => (select(vec![13i32, 14, 17, 18]), -1i64..=1).prop_map(move |(y, d)| {
            NaiveDate::from_ymd_opt(at.year() - y, at.month(), at.day()).map(|b| b + Duration::days(d))
        }),
        1 => Just(NaiveDate::from_ymd_opt(at.year() - 151, 1, 1)),
        1 => Just(Some(at + Duration::days(2))),
    ]
}

use chrono::Datelike;

fn record_events() -> impl Strategy<Value = RecordEvents> {
    let at = base_time();
    let t = move |w: f64| {
        proptest::option::weighted(
            w,
            (near(RETENTION_DAYS), time_zone()).prop_map(move |(d, tz)| (at - d).with_timezone(&tz)),
        )
    };
    let hold = proptest::option::weighted(
        0.15,
        (near(CONSENT_DAYS), proptest::option::of(near(CONSENT_DAYS)))
            .prop_map(move |(s, u)| LegalHold { since: at + s, until: u.map(|u| at + u) }),
    );
    (t(0.6), t(0.5), t(0.15), t(0.5), t(0.4), hold).prop_map(
        |(collected, transaction_completed, account_cancelled, last_used, purpose_fulfilled, legal_hold)| {
            RecordEvents {
                collected,
                transaction_completed,
                account_cancelled,
                last_used,
                purpose_fulfilled,
                legal_hold,
                retain_until: None,
            }
        },
    )
}

/// What a request may name: the policy's declarations, or anything.
#[derive(Clone, Debug)]
struct Names {
    actions: Vec<Action>,
    purposes: Vec<(PurposeId, Vec<CategoryKey>)>,
    recipients: Vec<privacy_engine::RecipientId>,
    exceptions: Vec<(Ground, Vec<Evidence>)>,
}

impl Names {
    fn of(p: &Policy) -> Self {
        Self {
            actions: p.actions.iter().map(|a| a.action).collect(),
            purposes: p.purposes.iter().map(|p| (p.id.clone(), p.categories.clone())).collect(),
            recipients: p.recipients.iter().map(|r| r.id.clone()).collect(),
            exceptions: p
                .actions
                .iter()
                .flat_map(|a| a.exceptions.iter().map(|e| (e.ground, e.requires.clone())))
                .collect(),
        }
    }
}

/// A category within one of `within` (at any depth below), or any known or
/// unknown one.
fn category_near(within: Vec<CategoryKey>) -> impl Strategy<Value = CategoryKey> {
    let inside: Vec<CategoryKey> =
        CATEGORIES.iter().map(|c| key(c)).filter(|c| within.iter().any(|w| c.is_within(w))).collect();
    let inside = if inside.is_empty() { vec![key("user")] } else { inside };
    prop_oneof![
        12 => select(inside),
        6 => select(CATEGORIES).prop_map(key),
        1 => select(UNKNOWN_CATEGORIES).prop_map(key),
    ]
}

/// A request: every action, categories at every depth (unknown ones too),
/// purposes and recipients declared or not, ages and birth dates around the
/// thresholds, every data state, a claimed exception, times around the
/// retention boundaries and legal holds; for the most part what `policy`
/// declares.
pub(crate) fn request_for(policy: &Policy) -> BoxedStrategy<Request> {
    request_from(Names::of(policy))
}

fn pick<T: Clone + std::fmt::Debug + 'static>(declared: Vec<T>, others: Vec<T>) -> BoxedStrategy<T> {
    if declared.is_empty() {
        select(others).boxed()
    } else {
        prop_oneof![6 => select(declared), 1 => select(others)].boxed()
    }
}

fn request_from(names: Names) -> BoxedStrategy<Request> {
    let action = pick(names.actions.clone(), Action::ALL.to_vec());
    let purpose_choice: BoxedStrategy<Option<(PurposeId, Vec<CategoryKey>)>> = {
        let declared = names.purposes.clone();
        let undeclared = Just(Some((PurposeId::from("purpose.undeclared"), vec![key("user")])));
        if declared.is_empty() {
            prop_oneof![Just(None), undeclared].boxed()
        } else {
            prop_oneof![1 => Just(None), 24 => select(declared).prop_map(Some), 1 => undeclared].boxed()
        }
    };
    let recipient = {
        let declared = names.recipients.clone();
        let undeclared = Just(Some(privacy_engine::RecipientId::from("recipient.undeclared")));
        if declared.is_empty() {
            prop_oneof![3 => Just(None), 1 => undeclared].boxed()
        } else {
            prop_oneof![1 => Just(None), 14 => select(declared).prop_map(Some), 1 => undeclared].boxed()
        }
    };
    let exception = {
        let listed = names.exceptions.clone();
        let any_ground = (select(GROUNDS), subsequence(EVIDENCE, 0..=3));
        let listed: BoxedStrategy<(Ground, Vec<Evidence>)> = if listed.is_empty() {
            any_ground.boxed()
        } else {
            // A listed ground with the evidence it needs, or some of it.
            prop_oneof![
                select(listed).prop_flat_map(|(g, mut ev)| {
                    ev.extend(g.evidence());
                    let n = ev.len();
                    subsequence(ev, 0..=n).prop_map(move |ev| (g, ev))
                }),
                any_ground,
            ]
            .boxed()
        };
        proptest::option::weighted(0.25, listed)
    };
    (
        (action, age(), birth_date(), any::<bool>()),
        purpose_choice.prop_flat_map(|p| {
            let within = p.as_ref().map_or_else(|| vec![key("user")], |(_, c)| c.clone());
            let n = prop_oneof![1 => Just(0usize), 30 => 1usize..=3];
            (Just(p.map(|(id, _)| id)), n.prop_flat_map(move |n| vec(category_near(within.clone()), n)))
        }),
        recipient,
        (prop_oneof![5 => Just(DataState::Identifiable), 1 => select(STATES)], any::<bool>()),
        exception,
        proptest::option::weighted(0.2, select(REGIONS)),
        (near(CONSENT_DAYS), time_zone()),
        record_events(),
        prop_oneof![9 => Just(SUBJECT), 1 => Just("other")],
    )
        .prop_map(
            |(
                (action, age, birth_date, real_name_verified),
                (purpose, categories),
                recipient,
                (data_state, linked),
                exc,
                dest,
                (d, tz),
                events,
                subject,
            )| {
                Request {
                    action,
                    subject: Subject { id: subject.into(), age, birth_date, region: None, real_name_verified },
                    categories,
                    purpose,
                    recipient,
                    data_state,
                    linked_to_identity: linked,
                    exception: exc.map(|(ground, evidence)| ClaimedException { ground, evidence }),
                    destination_region: dest.map(str::to_owned),
                    at: (base_time() + d).with_timezone(&tz),
                    events,
                }
            },
        )
        .boxed()
}
