//! Consent receipts: the copy of a consent record handed to the person,
//! with the fields of ISO/IEC TS 27560 as profiled by the W3C DPV, signed
//! with Ed25519.

use std::fmt;

use chrono::{DateTime, FixedOffset};
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use zeroize::Zeroizing;

use crate::audit::{hex_decode, hex_encode};
use crate::consent::{ConsentChange, ConsentEvent, ConsentQualities, ConsentStatus, Scope};
use crate::error::Error;
use crate::ids::{PolicyId, PurposeId, RecipientId, RuleId};
use crate::policy::{EndAction, Period, Policy, PurposeBasis, RecipientKind, Trigger};
use crate::pseudonym::{KeyId, Pseudonym, PseudonymDomain, Pseudonymiser};
use crate::taxonomy::{CategoryKey, Sensitivity, Taxonomy};

/// The `schema` of the receipts this crate issues.
pub const RECEIPT_SCHEMA: &str = "privacy-engine-receipt/1 (ISO/IEC TS 27560:2023, DPV profile)";

/// Separates receipt signatures from every other use of the key.
const SIGNING_PREFIX: &[u8] = b"privacy-engine receipt v1\n";

/// What the controller adds to a receipt that neither the ledger event nor
/// the policy holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptDetails {
    /// The receipt's id.
    pub receipt_id: Uuid,
    /// The controller.
    pub controller: Controller,
    /// How the person withdraws this consent, e.g. "Settings > Privacy >
    /// Withdraw, or write to privacy@example.com".
    pub withdrawal_method: String,
}

impl ReceiptDetails {
    /// Details for one receipt.
    pub fn new(receipt_id: Uuid, controller: Controller, withdrawal_method: impl Into<String>) -> Self {
        Self { receipt_id, controller, withdrawal_method: withdrawal_method.into() }
    }
}

/// The controller (the personal information processor) as the receipt
/// names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Controller {
    /// Its name.
    pub name: String,
    /// How to contact it.
    pub contact: String,
}

impl Controller {
    /// The controller's name and how to contact it.
    pub fn new(name: impl Into<String>, contact: impl Into<String>) -> Self {
        Self { name: name.into(), contact: contact.into() }
    }
}

/// The privacy notice a consent was given under.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptNotice {
    /// The policy's id.
    pub policy_id: PolicyId,
    /// The policy version the consent was given under.
    pub policy_version: String,
    /// The language of the notice.
    pub language: String,
    /// The published text (title, URL or file name).
    pub source: Option<String>,
}

/// A purpose on a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptPurpose {
    /// The purpose's id.
    pub id: PurposeId,
    /// What it is, in the policy's words; for a purpose the policy does not
    /// declare, in the consent's own ([`Described::purpose`](crate::Described::purpose)).
    pub description: Option<String>,
    /// Core (contract) or optional (consent); none for a purpose the policy
    /// does not declare.
    pub basis: Option<PurposeBasis>,
}

/// A data category on a receipt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptCategory {
    /// The category.
    pub key: CategoryKey,
    /// Its sensitivity under the policy; none for an unknown key.
    pub sensitivity: Option<Sensitivity>,
}

/// A recipient on a receipt (PIPL art. 23: name, contact).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptRecipient {
    /// The recipient's id.
    pub id: RecipientId,
    /// Its name.
    pub name: Option<String>,
    /// How to contact it.
    pub contact: Option<String>,
    /// Where it processes the data; none for a recipient the policy does
    /// not declare.
    pub region: Option<String>,
    /// Who it is, as the consent told it, for a recipient the policy does
    /// not declare ([`Described::recipient`](crate::Described::recipient)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// What kind of party it is: the policy's, or for a recipient the policy
    /// does not declare, the consent's ([`Described::recipient_kind`](crate::Described::recipient_kind)).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RecipientKind>,
}

/// A retention rule that applies to the consented data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ReceiptRetention {
    /// The rule's id.
    pub rule: RuleId,
    /// The event the periods run from.
    pub trigger: Trigger,
    /// The statutory minimum.
    pub minimum: Option<Period>,
    /// The maximum.
    pub maximum: Option<Period>,
    /// What happens at the end.
    pub end_action: EndAction,
}

/// A consent receipt: what the person agreed to (or refused, or
/// withdrew), under which notice, with which qualities.
///
/// The fields follow the DPV profile of ISO/IEC TS 27560:2023: record and
/// receipt ids, the person's id (a keyed [`Pseudonym`] in
/// [`PseudonymDomain::Records`], the same the audit log holds), the
/// controller, the notice and its version, purposes, personal data,
/// consent type and qualities, the DPV consent status, time and expiry,
/// recipients, retention and the withdrawal method.
///
/// Serialised as compact JSON with the fields in declared order; signed
/// into a [`SignedReceipt`] by a [`ReceiptKey`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ConsentReceipt {
    /// [`RECEIPT_SCHEMA`].
    pub schema: String,
    /// The consent record's id: the ledger event's.
    pub record_id: Uuid,
    /// The receipt's id.
    pub receipt_id: Uuid,
    /// The person (PII principal), pseudonymised.
    pub subject: Pseudonym,
    /// The controller.
    pub controller: Controller,
    /// The privacy notice and its version.
    pub notice: ReceiptNotice,
    /// The purposes.
    pub purposes: Vec<ReceiptPurpose>,
    /// The personal data.
    pub personal_data: Vec<ReceiptCategory>,
    /// The DPV consent type of a grant: `dpv:ExplicitlyExpressedConsent`,
    /// `dpv:ExpressedConsent` or `dpv:ImpliedConsent`; none for an ending
    /// event.
    pub consent_type: Option<String>,
    /// The qualities of a grant: affirmative, explicit, separate, written,
    /// by a guardian.
    pub qualities: ConsentQualities,
    /// The DPV consent status the event leads to.
    pub status: ConsentStatus,
    /// When the event happened.
    pub time: DateTime<FixedOffset>,
    /// When a grant lapses by itself.
    pub expires: Option<DateTime<FixedOffset>>,
    /// The recipient the consent is about, if it is consent to provide
    /// data to one party; empty for the controller's own processing.
    pub recipients: Vec<ReceiptRecipient>,
    /// The retention rules of the policy that apply to these purposes and
    /// categories.
    pub retention: Vec<ReceiptRetention>,
    /// How to withdraw.
    pub withdrawal_method: String,
}

impl ConsentReceipt {
    /// The receipt for a consent event (grant, refusal, withdrawal,
    /// expiry, revocation) under `policy`.
    ///
    /// # Errors
    ///
    /// An error of kind [`Receipt`](crate::ErrorKind::Receipt) for a device
    /// permission switch (not a consent), or an event given under another
    /// policy id or version.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::*;
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let policy = Policy::from_json(include_str!("../examples/policies/seed-004.json"))?;
    /// let scope = Scope::new(vec!["face_verification".into()], vec![CategoryKey::new("user.biometric.face")?]);
    /// let event = ConsentEvent::new(
    ///     Uuid::from_u128(1),
    ///     "2024-05-01T09:00:00+08:00".parse()?,
    ///     "user-42",
    ///     policy.id.clone(),
    ///     policy.version.clone(),
    ///     ConsentChange::Withdraw { scope },
    /// );
    /// let details = ReceiptDetails::new(
    ///     Uuid::from_u128(2),
    ///     Controller::new("Example Co.", "privacy@example.com"),
    ///     "Settings > Privacy > Face verification",
    /// );
    /// let pseudonyms = Pseudonymiser::new(PseudonymKey::from_bytes("k1", &[7; 32])?);
    /// let receipt = ConsentReceipt::issue(&event, &policy, &details, &pseudonyms)?;
    /// assert_eq!(receipt.status.dpv(), "dpv:ConsentWithdrawn");
    ///
    /// let key = ReceiptKey::from_pkcs8("r1", &ReceiptKey::generate_pkcs8()?)?;
    /// let signed = key.sign(receipt)?;
    /// let json = signed.to_json()?;
    /// assert_eq!(key.public_key().verify(&json)?, *signed.receipt());
    /// # Ok(()) }
    /// ```
    pub fn issue(
        event: &ConsentEvent,
        policy: &Policy,
        details: &ReceiptDetails,
        pseudonyms: &Pseudonymiser,
    ) -> Result<Self, Error> {
        let told = Told::of(event, policy, &policy.taxonomy())?;
        Ok(Self {
            schema: RECEIPT_SCHEMA.to_owned(),
            record_id: event.id,
            receipt_id: details.receipt_id,
            subject: pseudonyms.pseudonymise(&PseudonymDomain::Records, event.subject.as_str()),
            controller: details.controller.clone(),
            notice: told.notice,
            purposes: told.purposes,
            personal_data: told.personal_data,
            consent_type: told.consent_type,
            qualities: told.qualities,
            status: told.status,
            time: event.at,
            expires: told.expires,
            recipients: told.recipients,
            retention: told.retention,
            withdrawal_method: details.withdrawal_method.clone(),
        })
    }
}

/// What a receipt tells the person about a consent event, from the event
/// and the policy: everything but the ids, the person, the controller and
/// the withdrawal method (which an export shows without the ids).
#[derive(Clone, Debug)]
pub(crate) struct Told {
    pub(crate) notice: ReceiptNotice,
    pub(crate) purposes: Vec<ReceiptPurpose>,
    pub(crate) personal_data: Vec<ReceiptCategory>,
    pub(crate) consent_type: Option<String>,
    pub(crate) qualities: ConsentQualities,
    pub(crate) status: ConsentStatus,
    pub(crate) expires: Option<DateTime<FixedOffset>>,
    pub(crate) recipients: Vec<ReceiptRecipient>,
    pub(crate) retention: Vec<ReceiptRetention>,
}

impl Told {
    /// What the receipt of `event` under `policy`, whose taxonomy is
    /// `taxonomy`, tells.
    ///
    /// # Errors
    ///
    /// As [`ConsentReceipt::issue`].
    pub(crate) fn of(event: &ConsentEvent, policy: &Policy, taxonomy: &Taxonomy) -> Result<Self, Error> {
        let (Some(scope), Some(status)) = (event.change.scope(), event.change.status()) else {
            return Err(Error::receipt("a device permission switch is not a consent and has no receipt".to_owned()));
        };
        if event.policy_id != policy.id || event.policy_version != policy.version {
            return Err(Error::receipt(format!(
                "the consent event was given under policy `{}` version `{}`, not `{}` version `{}`",
                event.policy_id, event.policy_version, policy.id, policy.version
            )));
        }
        let (qualities, expires) = match &event.change {
            ConsentChange::Grant { qualities, expires, .. } => (*qualities, *expires),
            _ => (ConsentQualities::empty(), None),
        };
        let consent_type =
            matches!(event.change, ConsentChange::Grant { .. }).then(|| consent_type(qualities).to_owned());
        Ok(Self {
            notice: ReceiptNotice {
                policy_id: policy.id.clone(),
                policy_version: event.policy_version.clone(),
                language: policy.language.clone(),
                source: policy.source.clone(),
            },
            purposes: purposes(policy, scope),
            personal_data: categories(taxonomy, scope),
            consent_type,
            qualities,
            status,
            expires,
            recipients: recipients(policy, scope),
            retention: retention(policy, scope),
        })
    }
}

fn consent_type(q: ConsentQualities) -> &'static str {
    if q.contains(ConsentQualities::EXPLICIT) {
        "dpv:ExplicitlyExpressedConsent"
    } else if q.contains(ConsentQualities::AFFIRMATIVE) {
        "dpv:ExpressedConsent"
    } else {
        "dpv:ImpliedConsent"
    }
}

fn purposes(policy: &Policy, scope: &Scope) -> Vec<ReceiptPurpose> {
    scope
        .purposes
        .iter()
        .map(|id| {
            let p = policy.purposes.iter().find(|p| &p.id == id);
            let told = || scope.described.as_ref().and_then(|d| d.purpose.clone());
            ReceiptPurpose {
                id: id.clone(),
                description: p.map_or_else(told, |p| p.description.clone()),
                basis: p.map(|p| p.basis),
            }
        })
        .collect()
}

fn categories(taxonomy: &Taxonomy, scope: &Scope) -> Vec<ReceiptCategory> {
    scope
        .categories
        .iter()
        .map(|key| ReceiptCategory { key: key.clone(), sensitivity: taxonomy.get(key).map(|i| i.sensitivity) })
        .collect()
}

fn recipients(policy: &Policy, scope: &Scope) -> Vec<ReceiptRecipient> {
    scope
        .recipient
        .iter()
        .map(|id| {
            let r = policy.recipients.iter().find(|r| &r.id == id);
            // Only a recipient the policy does not declare is described.
            let told = scope.described.as_ref().filter(|_| r.is_none());
            ReceiptRecipient {
                id: id.clone(),
                name: r.and_then(|r| r.name.clone()),
                contact: r.and_then(|r| r.contact.clone()),
                region: r.map(|r| r.region.clone()),
                description: told.and_then(|d| d.recipient.clone()),
                kind: r.map(|r| r.kind).or_else(|| told.and_then(|d| d.recipient_kind)),
            }
        })
        .collect()
}

fn retention(policy: &Policy, scope: &Scope) -> Vec<ReceiptRetention> {
    let overlaps = |a: &CategoryKey, b: &CategoryKey| a.is_within(b) || b.is_within(a);
    policy
        .retention
        .iter()
        .filter(|r| r.purposes.is_empty() || r.purposes.iter().any(|p| scope.purposes.contains(p)))
        .filter(|r| {
            r.categories.is_empty() || r.categories.iter().any(|c| scope.categories.iter().any(|s| overlaps(c, s)))
        })
        .map(|r| ReceiptRetention {
            rule: r.id.clone(),
            trigger: r.trigger,
            minimum: r.minimum,
            maximum: r.maximum,
            end_action: r.end_action,
        })
        .collect()
}

/// An Ed25519 key pair that signs receipts, with its id.
///
/// Its `Debug` output shows the id and the public key, never the private
/// key.
///
/// The key pair is `ring`'s `Ed25519KeyPair`, which keeps the private
/// scalar and prefix in memory and does not wipe them when dropped; the
/// crate holds no other copy (the PKCS#8 bytes of
/// [`generate_pkcs8`](Self::generate_pkcs8) are wiped on drop, and those a
/// caller passes to [`from_pkcs8`](Self::from_pkcs8) are the caller's to
/// wipe). See DESIGN.md, "Why is key material wiped only in part?".
pub struct ReceiptKey {
    id: KeyId,
    pair: Ed25519KeyPair,
}

impl ReceiptKey {
    /// Loads a key pair from PKCS#8 (v1 or v2) DER bytes.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for an invalid id or
    /// bytes that are not an Ed25519 PKCS#8 document.
    pub fn from_pkcs8(id: &str, pkcs8: &[u8]) -> Result<Self, Error> {
        let id = KeyId::new(id)?;
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8)
            .or_else(|_| Ed25519KeyPair::from_pkcs8_maybe_unchecked(pkcs8))
            .map_err(|e| Error::key(format!("receipt key `{id}` is not an Ed25519 PKCS#8 key: {e}")))?;
        Ok(Self { id, pair })
    }

    /// A new key pair as PKCS#8 v2 bytes, from the operating system's random
    /// source, wiped when dropped. Store them as a secret and load them with
    /// [`from_pkcs8`](Self::from_pkcs8).
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) if the random source
    /// fails.
    pub fn generate_pkcs8() -> Result<Zeroizing<Vec<u8>>, Error> {
        Ed25519KeyPair::generate_pkcs8(&SystemRandom::new())
            .map(|doc| Zeroizing::new(doc.as_ref().to_vec()))
            .map_err(|_| Error::key("cannot generate an Ed25519 key: the random source failed".to_owned()))
    }

    /// The key's id.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The public key that verifies this key's receipts.
    pub fn public_key(&self) -> ReceiptPublicKey {
        ReceiptPublicKey { id: self.id.clone(), key: self.pair.public_key().as_ref().to_vec() }
    }

    /// Signs a receipt: Ed25519 over `privacy-engine receipt v1\n` followed
    /// by the receipt's compact JSON.
    ///
    /// # Errors
    ///
    /// An error of kind [`Receipt`](crate::ErrorKind::Receipt) if the
    /// receipt cannot be serialised (it always can).
    pub fn sign(&self, receipt: ConsentReceipt) -> Result<SignedReceipt, Error> {
        let message = signed_message(&receipt)?;
        let sig = self.pair.sign(&message);
        Ok(SignedReceipt {
            receipt,
            signature: ReceiptSignature {
                alg: ALG.to_owned(),
                key_id: self.id.clone(),
                value: hex_encode(sig.as_ref()),
            },
        })
    }
}

impl fmt::Debug for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiptKey").field("id", &self.id).field("public_key", &self.public_key()).finish()
    }
}

const ALG: &str = "Ed25519";

fn signed_message(receipt: &ConsentReceipt) -> Result<Vec<u8>, Error> {
    let mut message = SIGNING_PREFIX.to_vec();
    serde_json::to_writer(&mut message, receipt)
        .map_err(|e| Error::receipt(format!("cannot serialise receipt: {e}")))?;
    Ok(message)
}

/// An Ed25519 public key that verifies receipts, with the id of its key
/// pair.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReceiptPublicKey {
    id: KeyId,
    key: Vec<u8>,
}

impl ReceiptPublicKey {
    /// A public key from its 32 bytes.
    ///
    /// # Errors
    ///
    /// An error of kind [`Key`](crate::ErrorKind::Key) for an invalid id or
    /// a length other than 32.
    pub fn from_bytes(id: &str, bytes: &[u8]) -> Result<Self, Error> {
        let id = KeyId::new(id)?;
        if bytes.len() != 32 {
            return Err(Error::key(format!("receipt public key `{id}` must be 32 bytes")));
        }
        Ok(Self { id, key: bytes.to_vec() })
    }

    /// The id of its key pair.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The 32 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.key
    }

    /// Verifies a signed receipt as the person holds it (the bytes of
    /// [`SignedReceipt::to_json`]) and returns the receipt.
    ///
    /// Any change to the bytes is refused: the document must be in the
    /// exact form it was issued in, name this key, and carry a valid
    /// signature over the receipt.
    ///
    /// # Errors
    ///
    /// An error of kind [`Receipt`](crate::ErrorKind::Receipt) for bytes
    /// that are not a signed receipt in its issued form, a receipt signed
    /// by another key, or an invalid signature.
    pub fn verify(&self, json: &[u8]) -> Result<ConsentReceipt, Error> {
        let signed: SignedReceipt =
            serde_json::from_slice(json).map_err(|e| Error::receipt(format!("not a signed receipt: {e}")))?;
        if signed.to_json()? != json {
            return Err(Error::receipt("the signed receipt is not in the form it was issued in".to_owned()));
        }
        let sig = &signed.signature;
        if sig.alg != ALG {
            return Err(Error::receipt(format!("receipt signature algorithm `{}` is not `{ALG}`", sig.alg)));
        }
        if sig.key_id != self.id {
            return Err(Error::receipt(format!("the receipt is signed by key `{}`, not `{}`", sig.key_id, self.id)));
        }
        let bad = || Error::receipt("the receipt's signature is not valid: it was altered".to_owned());
        let sig_bytes = hex_decode(&sig.value).ok_or_else(bad)?;
        let message = signed_message(&signed.receipt)?;
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.key)
            .verify(&message, &sig_bytes)
            .map_err(|_| bad())?;
        Ok(signed.receipt)
    }
}

impl fmt::Debug for ReceiptPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReceiptPublicKey({}:{})", self.id, hex_encode(&self.key))
    }
}

/// A receipt with its signature, as handed to the person.
///
/// Its JSON is `{"receipt":{…},"signature":{"alg":"Ed25519","key_id":…,"value":…}}`,
/// the signature 128 lowercase hex digits. Read one back with
/// [`ReceiptPublicKey::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedReceipt {
    receipt: ConsentReceipt,
    signature: ReceiptSignature,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReceiptSignature {
    alg: String,
    key_id: KeyId,
    value: String,
}

impl SignedReceipt {
    /// The receipt.
    pub fn receipt(&self) -> &ConsentReceipt {
        &self.receipt
    }

    /// The id of the key that signed it.
    pub fn key_id(&self) -> &KeyId {
        &self.signature.key_id
    }

    /// The signed receipt's JSON, the form to hand to the person.
    ///
    /// # Errors
    ///
    /// An error of kind [`Receipt`](crate::ErrorKind::Receipt) if it cannot
    /// be serialised (it always can).
    pub fn to_json(&self) -> Result<Vec<u8>, Error> {
        serde_json::to_vec(self).map_err(|e| Error::receipt(format!("cannot serialise receipt: {e}")))
    }
}
