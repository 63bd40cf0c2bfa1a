//! The peer benchmark's scenarios (`tests/data/peer-bench/scenarios.jsonl.gz`)
//! translated into this crate's requests and consent ledgers.
//!
//! Shared by `benches/peer.rs` and `tests/peer_replay.rs` through `#[path]`.
//! The translation maps data only: names, ids, times and flags. Everything
//! the peer's 21 rules decide is in `examples/policies/peer-bench.json` and
//! decided by the engine.

#![allow(dead_code, reason = "shared by the test and the bench, which each use a part")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset};
use privacy_engine::{
    Action, CategoryKey, ClaimedException, CompactLedger, ConsentChange, ConsentEvent, ConsentQualities, DataState,
    DurableLog, Evidence, Ground, InMemoryLedger, InMemoryLog, LegalHold, Replica, Request, Scope, Subject,
};
use serde::Deserialize;

/// The policy the scenarios are decided against.
pub(crate) const POLICY: &str = include_str!("../../examples/policies/peer-bench.json");

/// The peer's purposes and leaf categories (`src/model.rs` there): a
/// guardian's consent, which the peer records per subject, covers them all.
const PURPOSES: [&str; 9] = [
    "registration",
    "identity_verification",
    "security",
    "payment",
    "delivery",
    "personalization",
    "advertising",
    "analytics",
    "research",
];
const CATEGORIES: [&str; 16] = [
    "user.contact.phone",
    "user.contact.address",
    "user.name.real_name",
    "user.id.national_id",
    "user.biometric.face",
    "user.device.imei",
    "user.device.android_id",
    "user.network.ip",
    "user.log.access",
    "user.location.precise",
    "user.location.coarse",
    "user.financial.bank_account",
    "user.financial.payment_account",
    "user.order",
    "user.browsing.history",
    "user.contacts.address_book",
];

/// One line of the scenario file.
#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Scenario {
    pub(crate) id: u32,
    pub(crate) action: String,
    pub(crate) subject: PeerSubject,
    pub(crate) item: Item,
    pub(crate) recipient: PeerRecipient,
    pub(crate) context: Context,
    pub(crate) expected: Expected,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub(crate) struct PeerSubject {
    pub(crate) id: String,
    pub(crate) age: i64,
    pub(crate) region: String,
    pub(crate) consents: Vec<String>,
    pub(crate) separate_consents: Vec<String>,
    pub(crate) guardian_consent: bool,
    pub(crate) withdrawn: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Item {
    pub(crate) category: String,
    /// The peer's own flag, read by the hand-written rules only: the engine
    /// takes a category's sensitivity from the policy.
    pub(crate) sensitive: bool,
    pub(crate) deidentified: bool,
    pub(crate) legal_hold: bool,
    pub(crate) retain_until: i64,
    pub(crate) collected_at: i64,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct PeerRecipient {
    pub(crate) kind: String,
    pub(crate) region: String,
    pub(crate) has_confidentiality_agreement: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Context {
    pub(crate) purpose: String,
    #[serde(default)]
    pub(crate) exception: Option<String>,
    pub(crate) now: i64,
    pub(crate) legal_documents: bool,
}

#[derive(Clone, Debug, Deserialize)]
pub(crate) struct Expected {
    pub(crate) decision: String,
    pub(crate) reasons: Vec<String>,
}

impl Expected {
    pub(crate) fn permit(&self) -> bool {
        self.decision == "allow"
    }
}

/// Where the scenario file is: `tests/data/peer-bench/` in the crate (see
/// `tests/data/README.md` for where it comes from).
pub(crate) fn scenario_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/peer-bench/scenarios.jsonl.gz")
}

/// Reads every scenario.
pub(crate) fn load() -> Vec<Scenario> {
    let path = scenario_path();
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| {
            let line = line.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

fn time(unix: i64) -> DateTime<FixedOffset> {
    DateTime::from_timestamp(unix, 0).expect("peer times are in range").fixed_offset()
}

fn category(key: &str) -> CategoryKey {
    CategoryKey::new(key).unwrap_or_else(|e| panic!("{e}"))
}

/// The ground a peer exception string stands for. Strings outside the
/// peer's 11 legal exceptions ("marketing_need", ...) never count there, so
/// they claim nothing here.
pub(crate) fn ground(exception: &str) -> Option<Ground> {
    Some(match exception {
        "national_security" => Ground::NationalSecurity,
        "public_health" => Ground::PublicInterest,
        "criminal_investigation" => Ground::CriminalProceedings,
        "vital_interest" => Ground::VitalInterests,
        "self_published" => Ground::SelfPublished,
        "public_record" => Ground::LawfullyPublicSource,
        "contract_necessity" => Ground::Contract,
        "service_security" => Ground::ServiceSecurity,
        "news_reporting" => Ground::NewsReporting,
        "academic_research" => Ground::AcademicResearch,
        "law" => Ground::Law,
        _ => return None,
    })
}

/// The id of the recipient the policy declares for the peer's (kind,
/// region, has_confidentiality_agreement), e.g. `processor.cn.conf`.
pub(crate) fn recipient_id(r: &PeerRecipient) -> String {
    let conf = if r.has_confidentiality_agreement { "conf" } else { "no_conf" };
    format!("{}.{}.{conf}", r.kind, r.region.to_lowercase())
}

/// How the scenarios' subjects are keyed in the ledger: by the peer's
/// subject id when every scenario of a subject carries the same consent
/// lists (as the generator makes them), else one ledger subject per
/// scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Keying {
    PerSubject,
    PerScenario,
}

pub(crate) fn keying(scenarios: &[Scenario]) -> Keying {
    let mut seen: HashMap<&str, &PeerSubject> = HashMap::new();
    for s in scenarios {
        if let Some(first) = seen.insert(&s.subject.id, &s.subject)
            && (first.consents != s.subject.consents
                || first.separate_consents != s.subject.separate_consents
                || first.withdrawn != s.subject.withdrawn
                || first.guardian_consent != s.subject.guardian_consent)
        {
            return Keying::PerScenario;
        }
    }
    Keying::PerSubject
}

fn subject_key(s: &Scenario, keying: Keying) -> String {
    match keying {
        Keying::PerSubject => s.subject.id.clone(),
        Keying::PerScenario => format!("{}#{}", s.subject.id, s.id),
    }
}

/// The request for one scenario.
pub(crate) fn request(s: &Scenario, keying: Keying) -> Request {
    let action = match s.action.as_str() {
        "collect" => Action::Collect,
        "use" => Action::Use,
        "share" => Action::Share,
        "transfer_cross_border" => Action::CrossBorder,
        "disclose_public" => Action::Disclose,
        "delete" => Action::Delete,
        other => panic!("scenario {}: unknown action `{other}`", s.id),
    };
    let subject = Subject::new(subject_key(s, keying))
        .age(u8::try_from(s.subject.age).expect("peer ages fit"))
        .region(s.subject.region.clone());
    let mut req = Request::new(action, subject, vec![category(&s.item.category)], time(s.context.now))
        .purpose(s.context.purpose.as_str());
    // A public disclosure has no named recipient.
    if matches!(action, Action::Share | Action::CrossBorder) {
        req = req.recipient(recipient_id(&s.recipient));
    }
    if s.item.deidentified {
        req.data_state = DataState::DeIdentified;
    }
    req.exception = s.context.exception.as_deref().and_then(ground).map(|ground| {
        let mut evidence: Vec<Evidence> = ground.evidence().to_vec();
        if s.context.legal_documents {
            evidence.push(Evidence::LegalDocuments);
        }
        ClaimedException::new(ground, evidence)
    });
    let collected = time(s.item.collected_at);
    req.events.collected = Some(collected);
    if s.item.legal_hold {
        req.events.legal_hold = Some(LegalHold::new(collected, None));
    }
    req.events.retain_until = Some(time(s.item.retain_until));
    req
}

/// When the translated consent events happened: the peer records consent as
/// it stands, with no times, so grants come first, then withdrawals, then
/// the guardian's consent (which peer withdrawals do not touch), all before
/// the earliest scenario (2026-01-01).
const GRANTED: &str = "2025-01-01T00:00:00Z";
const WITHDRAWN: &str = "2025-01-02T00:00:00Z";
const GUARDIAN: &str = "2025-01-03T00:00:00Z";

/// The consent events of every subject, in the order they are appended.
pub(crate) fn consent_events(scenarios: &[Scenario], keying: Keying) -> Vec<ConsentEvent> {
    let mut done = std::collections::HashSet::new();
    let mut out = Vec::new();
    let mut n: u128 = 0;
    let mut push = |out: &mut Vec<ConsentEvent>, subject: &str, at: &str, change: ConsentChange| {
        n += 1;
        out.push(ConsentEvent::new(
            uuid::Uuid::from_u128(n),
            at.parse().expect("a fixed time"),
            subject,
            "peer-bench",
            "2026-11-23",
            change,
        ));
    };
    let scope = |key: &str| {
        let (purpose, cat) = key.split_once('/').expect("a peer consent key is purpose/category");
        Scope::new(vec![purpose.into()], vec![category(cat)])
    };
    for s in scenarios {
        let subject = subject_key(s, keying);
        if !done.insert(subject.clone()) {
            continue;
        }
        let p = &s.subject;
        for key in &p.consents {
            let change =
                ConsentChange::Grant { qualities: ConsentQualities::affirmative(), scope: scope(key), expires: None };
            push(&mut out, &subject, GRANTED, change);
        }
        for key in &p.separate_consents {
            let change =
                ConsentChange::Grant { qualities: ConsentQualities::separate(), scope: scope(key), expires: None };
            push(&mut out, &subject, GRANTED, change);
        }
        for key in &p.withdrawn {
            push(&mut out, &subject, WITHDRAWN, ConsentChange::Withdraw { scope: scope(key) });
        }
        if p.guardian_consent {
            let change = ConsentChange::Grant {
                qualities: ConsentQualities::AFFIRMATIVE | ConsentQualities::GUARDIAN,
                scope: Scope::new(
                    PURPOSES.iter().map(|p| (*p).into()).collect(),
                    CATEGORIES.iter().map(|c| category(c)).collect(),
                ),
                expires: None,
            };
            push(&mut out, &subject, GUARDIAN, change);
        }
    }
    out
}

/// Everything a run needs: the scenarios, their requests, and both ledgers
/// and a replica of a durable log loaded with the same events.
pub(crate) struct Replay {
    pub(crate) scenarios: Vec<Scenario>,
    pub(crate) requests: Vec<Request>,
    pub(crate) in_memory: InMemoryLedger,
    pub(crate) compact: CompactLedger,
    /// The events appended to a durable log (in memory) one at a time, each
    /// recorded at its own time, and loaded back into the replica.
    pub(crate) replica: Replica<InMemoryLog>,
    pub(crate) keying: Keying,
}

pub(crate) fn replay() -> Replay {
    let scenarios = load();
    let keying = keying(&scenarios);
    let requests = scenarios.iter().map(|s| request(s, keying)).collect();
    let events = consent_events(&scenarios, keying);
    let mut in_memory = InMemoryLedger::new();
    in_memory.extend(events.iter().cloned()).expect("valid events");
    let mut log = InMemoryLog::new();
    for e in &events {
        log.append(std::slice::from_ref(e), e.at.to_utc()).expect("valid events");
    }
    let replica = Replica::open(log).expect("the log loads");
    let mut compact = CompactLedger::new();
    compact.extend(events).expect("valid events");
    Replay { scenarios, requests, in_memory, compact, replica, keying }
}
