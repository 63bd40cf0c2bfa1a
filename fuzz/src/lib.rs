//! What the fuzz targets share: the seed-004 engine, built once, and the
//! `arbitrary` input types of the structured targets, each of which builds
//! a privacy-engine value from small pools (so that ids, categories and
//! times collide often) with an escape to junk and to extremes.
//!
//! The targets in `fuzz_targets/` stay thin: build the input here, make
//! one call into privacy-engine, check what must always hold.

use std::sync::OnceLock;

use arbitrary::Arbitrary;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use privacy_engine::{
    Action, CategoryKey, ClaimedException, ConsentChange, ConsentEvent, ConsentQualities, DataState, Decision, Engine,
    Evidence, Ground, LegalHold, Permission, Policy, PurposeId, RecipientId, RecordEvents, Request, Scope, Subject,
    SubjectId, Unmet,
};
use uuid::Uuid;

/// The seed-004 policy document.
pub const SEED_004: &str = include_str!("../../examples/policies/seed-004.json");

/// The seed-004 engine, compiled on first use.
///
/// # Panics
///
/// If seed-004 does not load: the fuzz run is meaningless then.
pub fn seed_004_engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let policy = Policy::from_json(SEED_004).expect("seed-004 loads");
        Engine::new(policy).expect("seed-004 compiles")
    })
}

// ---------------------------------------------------------------------------
// Pools.

const SUBJECTS: &[&str] = &["u-1", "u-2", ""];

/// seed-004 purposes (core and optional, with and without permissions),
/// then undeclared and junk ids.
const PURPOSES: &[&str] = &[
    "registration_login",
    "face_verification",
    "payment_delivery",
    "de_identified_analytics",
    "usage_statistics",
    "identity_confirmation_contacts",
    "payment_sdk_camera",
    "security_risk_control",
    "legal_compliance",
    "subject_requested_disclosure",
    "cookies_usage_analysis",
    "qq_login_share",
    "marketing",
    "",
    "registration_login ",
    "Face_Verification",
];

/// seed-004 recipients of every kind, then undeclared and junk ids.
const RECIPIENTS: &[&str] = &[
    "sdk.alipay",
    "sdk.umeng",
    "sdk.tencent_huiyan",
    "partner.logistics",
    "processor.data_services",
    "affiliate.group",
    "partner.overseas_entity",
    "acquirer.successor",
    "merchant.platform_merchants",
    "authority.law_enforcement",
    "public.general",
    "advertiser.unknown",
    "",
];

/// Categories at every depth: roots, branches, leaves of seed-004, then
/// keys the taxonomy does not know (under known and unknown roots, below
/// known leaves).
const CATEGORIES: &[&str] = &[
    "user",
    "user.device",
    "user.device.device_id",
    "user.device.device_id.imei",
    "user.device.ip_address",
    "user.biometric",
    "user.biometric.face",
    "user.contact",
    "user.contact.phone_number",
    "user.contact.address",
    "user.contacts.address_book",
    "user.contacts.call_log",
    "user.location",
    "user.location.precise",
    "user.financial",
    "user.financial.transaction",
    "user.financial.payment_account",
    "user.government_id",
    "user.account.nickname",
    "user.behavior.browsing_history",
    "user.content.audio",
    "user.log.service",
    "aggregate.statistics",
    "system",
    "user.health",
    "user.biometric.fingerprint",
    "user.contact.phone_number.mobile",
    "user.device.device_id.imei.extra",
    "zzz.a.b.c",
    "x",
];

const REGIONS: &[&str] = &["CN", "US", "HK", "EU", "", "cn"];

const PERMISSIONS: [Permission; 10] = [
    Permission::Camera,
    Permission::Photos,
    Permission::Storage,
    Permission::Location,
    Permission::Contacts,
    Permission::CallLogs,
    Permission::Phone,
    Permission::Microphone,
    Permission::Sensors,
    Permission::DeviceInfo,
];

const EVIDENCE: [Evidence; 8] = [
    Evidence::LegalDocuments,
    Evidence::NotForProfit,
    Evidence::ResultsDeIdentified,
    Evidence::ConsentHardToObtain,
    Evidence::MajorPublicInterest,
    Evidence::SubjectRequested,
    Evidence::GuardianRequested,
    Evidence::NewHolderBound,
];

const DATA_STATES: [DataState; 4] =
    [DataState::Identifiable, DataState::DeIdentified, DataState::Anonymised, DataState::Aggregated];

fn pick<T: Copy>(pool: &[T], i: u8) -> T {
    pool[usize::from(i) % pool.len()]
}

fn category(i: u8) -> CategoryKey {
    static KEYS: OnceLock<Vec<CategoryKey>> = OnceLock::new();
    let keys = KEYS.get_or_init(|| CATEGORIES.iter().map(|k| CategoryKey::new(*k).expect("valid key")).collect());
    keys[usize::from(i) % keys.len()].clone()
}

/// The subject of pool index `i`.
pub fn subject(i: u8) -> SubjectId {
    pick(SUBJECTS, i).into()
}

/// The purpose of pool index `i`.
pub fn purpose(i: u8) -> PurposeId {
    pick(PURPOSES, i).into()
}

/// The recipient of pool index `i`.
pub fn recipient(i: u8) -> RecipientId {
    pick(RECIPIENTS, i).into()
}

/// The category of pool index `i` and, if `with_ancestors`, its ancestors
/// (what the engine passes as `covering`).
pub fn category_with_covering(i: u8, with_ancestors: bool) -> (CategoryKey, Vec<CategoryKey>) {
    let key = category(i);
    let mut covering = Vec::new();
    if with_ancestors {
        let mut k = key.parent();
        while let Some(p) = k {
            k = p.parent();
            covering.push(p);
        }
    }
    (key, covering)
}

/// The permission of pool index `i`.
pub fn permission(i: u8) -> Permission {
    pick(&PERMISSIONS, i)
}

// ---------------------------------------------------------------------------
// Times and dates.

/// A time: mostly from a small set of instants (seen in several offsets,
/// so equal instants differ in form), sometimes next to the ends of
/// chrono's range, sometimes raw.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbTime {
    /// One of eight instants around 2024-05-01, in one of five offsets.
    Near {
        /// Which instant.
        step: u8,
        /// Which offset.
        offset: u8,
    },
    /// Within 65535 s of chrono's first or last instant.
    Extreme {
        /// The last instant if true, else the first.
        max: bool,
        /// Seconds from it, inwards.
        inwards: u16,
        /// Which offset.
        offset: u8,
    },
    /// Any representable instant and offset.
    Raw {
        /// Seconds since the Unix epoch.
        secs: i64,
        /// Nanoseconds.
        nanos: u32,
        /// Offset east of UTC, seconds (rounded down to the minute).
        offset: i32,
    },
}

/// Whole minutes, as RFC 3339 writes them (chrono prints an offset rounded
/// to the minute, so a time in an offset with seconds does not read back).
const OFFSETS: [i32; 6] = [0, 8 * 3600, -5 * 3600, 14 * 3600, -12 * 3600, 86_340];

/// 2024-05-01T00:00:00Z.
const BASE: i64 = 1_714_521_600;

const STEPS: [i64; 8] = [0, 1, 3_600, 7_200, 36_000, 86_400, 31_536_000, -86_400];

impl ArbTime {
    /// The time this stands for.
    pub fn get(self) -> DateTime<FixedOffset> {
        let (secs, nanos, offset) = match self {
            Self::Near { step, offset } => (BASE + pick(&STEPS, step), 0, pick(&OFFSETS, offset)),
            Self::Extreme { max, inwards, offset } => {
                let end = if max { DateTime::<Utc>::MAX_UTC.timestamp() } else { DateTime::<Utc>::MIN_UTC.timestamp() };
                let d = i64::from(inwards);
                (if max { end - d } else { end + d }, 0, pick(&OFFSETS, offset))
            }
            Self::Raw { secs, nanos, offset } => (secs, nanos % 2_000_000_000, offset % 86_400 / 60 * 60),
        };
        let utc = FixedOffset::east_opt(0).expect("UTC");
        let off = FixedOffset::east_opt(offset).unwrap_or(utc);
        let t = Utc.timestamp_opt(secs, nanos).single().unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
        // Only times a request in JSON can carry: the local time must be in
        // chrono's range too (`with_timezone` near the ends gives a value
        // that chrono itself cannot print). Otherwise the instant in UTC.
        let local_in_range =
            t.naive_utc().checked_add_signed(chrono::Duration::seconds(i64::from(off.local_minus_utc())));
        t.with_timezone(if local_in_range.is_some() { &off } else { &utc })
    }
}

/// A birth date: recent, at chrono's ends, or any day.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum ArbDate {
    /// Days from 2024-05-01 (so ages 0..90 and the future).
    Near(i16),
    /// `NaiveDate::MIN` or `MAX`, moved inwards.
    Extreme {
        /// `MAX` if true.
        max: bool,
        /// Days inwards.
        inwards: u16,
    },
    /// Days from 0001-01-01.
    Raw(i32),
}

impl ArbDate {
    /// The date this stands for.
    pub fn get(self) -> NaiveDate {
        let base = NaiveDate::from_ymd_opt(2024, 5, 1).expect("a date");
        let d = match self {
            Self::Near(days) => base.checked_add_signed(chrono::Duration::days(i64::from(days))),
            Self::Extreme { max: true, inwards } => {
                NaiveDate::MAX.checked_sub_signed(chrono::Duration::days(i64::from(inwards)))
            }
            Self::Extreme { max: false, inwards } => {
                NaiveDate::MIN.checked_add_signed(chrono::Duration::days(i64::from(inwards)))
            }
            Self::Raw(days) => NaiveDate::from_num_days_from_ce_opt(days),
        };
        d.unwrap_or(base)
    }
}

// ---------------------------------------------------------------------------
// Consent events.

/// A scope from the pools (empty lists allowed: the ledger must refuse them).
#[derive(Arbitrary, Debug, Clone)]
pub struct ArbScope {
    purposes: Vec<u8>,
    categories: Vec<u8>,
    recipient: Option<u8>,
}

impl ArbScope {
    fn get(&self) -> Scope {
        let mut scope = Scope::new(
            self.purposes.iter().take(4).map(|&i| purpose(i)).collect(),
            self.categories.iter().take(4).map(|&i| category(i)).collect(),
        );
        scope.recipient = self.recipient.map(recipient);
        scope
    }
}

/// A consent change: qualities are any of the 32 flag sets, coherent or not.
#[derive(Arbitrary, Debug, Clone)]
pub enum ArbChange {
    /// Grant.
    Grant {
        /// Flag bits.
        qualities: u8,
        /// Scope.
        scope: ArbScope,
        /// Expiry.
        expires: Option<ArbTime>,
    },
    /// Refuse.
    Refuse(ArbScope),
    /// Withdraw.
    Withdraw(ArbScope),
    /// Expire.
    Expire(ArbScope),
    /// Revoke.
    Revoke(ArbScope),
    /// Permission on.
    PermissionOn(u8),
    /// Permission off.
    PermissionOff(u8),
}

/// A consent event; ids come from a pool of 256 so duplicates happen.
#[derive(Arbitrary, Debug, Clone)]
pub struct ArbEvent {
    /// Event id.
    pub id: u8,
    /// Time.
    pub at: ArbTime,
    /// Subject.
    pub subject: u8,
    /// Change.
    pub change: ArbChange,
}

impl ArbEvent {
    /// The event this stands for.
    pub fn get(&self) -> ConsentEvent {
        let change = match &self.change {
            ArbChange::Grant { qualities, scope, expires } => ConsentChange::Grant {
                qualities: ConsentQualities::from_bits_truncate(*qualities),
                scope: scope.get(),
                expires: expires.map(ArbTime::get),
            },
            ArbChange::Refuse(s) => ConsentChange::Refuse { scope: s.get() },
            ArbChange::Withdraw(s) => ConsentChange::Withdraw { scope: s.get() },
            ArbChange::Expire(s) => ConsentChange::Expire { scope: s.get() },
            ArbChange::Revoke(s) => ConsentChange::Revoke { scope: s.get() },
            ArbChange::PermissionOn(p) => ConsentChange::PermissionOn { permission: permission(*p) },
            ArbChange::PermissionOff(p) => ConsentChange::PermissionOff { permission: permission(*p) },
        };
        ConsentEvent::new(
            Uuid::from_u128(u128::from(self.id)),
            self.at.get(),
            subject(self.subject),
            "seed-004",
            "2021-08-20",
            change,
        )
    }
}

/// One step of the `ledger_ops` target.
#[derive(Arbitrary, Debug, Clone)]
pub enum LedgerOp {
    /// `InMemoryLedger::append`.
    Append(ArbEvent),
    /// `ConsentStore::has_consent`.
    HasConsent {
        /// Subject.
        subject: u8,
        /// Purpose.
        purpose: u8,
        /// Category.
        category: u8,
        /// Pass the category's ancestors as `covering`.
        covering: bool,
        /// Recipient.
        recipient: Option<u8>,
        /// Required qualities (flag bits).
        required: u8,
        /// As of.
        at: ArbTime,
    },
    /// `InMemoryLedger::status`.
    Status {
        /// Subject.
        subject: u8,
        /// Purpose.
        purpose: u8,
        /// Category.
        category: u8,
        /// Recipient.
        recipient: Option<u8>,
        /// As of.
        at: ArbTime,
    },
    /// `ConsentStore::permission_on`.
    PermissionOn {
        /// Subject.
        subject: u8,
        /// Permission.
        permission: u8,
        /// As of.
        at: ArbTime,
    },
}

// ---------------------------------------------------------------------------
// Requests.

/// An id from a pool, or junk.
#[derive(Arbitrary, Debug, Clone)]
pub enum ArbId {
    /// Pool index.
    Known(u8),
    /// Any string.
    Junk(String),
}

/// A category from the pool, or a junk key (dropped if not a valid key).
#[derive(Arbitrary, Debug, Clone)]
pub enum ArbCategory {
    /// Pool index.
    Known(u8),
    /// Any string.
    Junk(String),
}

/// The retention events of a request.
#[derive(Arbitrary, Debug, Clone)]
pub struct ArbEvents {
    collected: Option<ArbTime>,
    transaction_completed: Option<ArbTime>,
    account_cancelled: Option<ArbTime>,
    last_used: Option<ArbTime>,
    purpose_fulfilled: Option<ArbTime>,
    legal_hold: Option<(ArbTime, Option<ArbTime>)>,
}

/// The fields of a request, and consent events to evaluate it against.
#[derive(Arbitrary, Debug, Clone)]
pub struct ArbRequest {
    action: u8,
    subject: u8,
    age: Option<u8>,
    birth_date: Option<ArbDate>,
    region: Option<u8>,
    real_name_verified: bool,
    categories: Vec<ArbCategory>,
    purpose: Option<ArbId>,
    recipient: Option<ArbId>,
    data_state: u8,
    linked_to_identity: bool,
    exception: Option<(u8, Vec<u8>)>,
    destination_region: Option<u8>,
    at: ArbTime,
    events: ArbEvents,
    /// Appended to the ledger in order; refused ones are skipped.
    pub consents: Vec<ArbEvent>,
}

impl ArbRequest {
    /// The request this stands for.
    pub fn request(&self) -> Request {
        let mut subject = Subject::new(subject(self.subject)).real_name_verified(self.real_name_verified);
        subject.age = self.age;
        subject.birth_date = self.birth_date.map(ArbDate::get);
        subject.region = self.region.map(|r| pick(REGIONS, r).to_owned());
        let categories = self
            .categories
            .iter()
            .take(6)
            .filter_map(|c| match c {
                ArbCategory::Known(i) => Some(category(*i)),
                ArbCategory::Junk(s) => CategoryKey::new(s.as_str()).ok(),
            })
            .collect();
        let mut req = Request::new(pick(&Action::ALL, self.action), subject, categories, self.at.get());
        req.purpose = self.purpose.as_ref().map(|p| match p {
            ArbId::Known(i) => purpose(*i),
            ArbId::Junk(s) => s.as_str().into(),
        });
        req.recipient = self.recipient.as_ref().map(|r| match r {
            ArbId::Known(i) => recipient(*i),
            ArbId::Junk(s) => s.as_str().into(),
        });
        req.data_state = pick(&DATA_STATES, self.data_state);
        req.linked_to_identity = self.linked_to_identity;
        req.exception = self.exception.as_ref().map(|(g, ev)| {
            ClaimedException::new(pick(&Ground::ALL, *g), ev.iter().take(4).map(|&e| pick(&EVIDENCE, e)).collect())
        });
        req.destination_region = self.destination_region.map(|r| pick(REGIONS, r).to_owned());
        let e = &self.events;
        let mut events = RecordEvents::default();
        events.collected = e.collected.map(ArbTime::get);
        events.transaction_completed = e.transaction_completed.map(ArbTime::get);
        events.account_cancelled = e.account_cancelled.map(ArbTime::get);
        events.last_used = e.last_used.map(ArbTime::get);
        events.purpose_fulfilled = e.purpose_fulfilled.map(ArbTime::get);
        events.legal_hold = e.legal_hold.map(|(since, until)| LegalHold::new(since.get(), until.map(ArbTime::get)));
        req.events = events;
        req
    }
}

// ---------------------------------------------------------------------------
// Checks.

fn strictly_sorted<T: Ord + std::fmt::Debug>(what: &str, list: &[T]) {
    if let Some(w) = list.windows(2).find(|w| w[0] >= w[1]) {
        panic!("{what} is not sorted and free of duplicates: {:?} then {:?}", w[0], w[1]);
    }
}

/// Asserts that every list of the decision, and the lists inside its
/// outcomes and unmet consents, is sorted and free of duplicates.
pub fn assert_canonical(d: &Decision) {
    strictly_sorted("decision.categories", &d.categories);
    strictly_sorted("decision.reasons", &d.reasons);
    strictly_sorted("decision.obligations", &d.obligations);
    strictly_sorted("decision.unmet", &d.unmet);
    for c in &d.categories {
        strictly_sorted("categories[].rules", &c.rules);
    }
    for u in &d.unmet {
        if let Unmet::Consent { categories, rules, .. } = u {
            strictly_sorted("unmet consent categories", categories);
            strictly_sorted("unmet consent rules", rules);
        }
    }
}
