//! Data categories: hierarchical dotted keys, their sensitivity, and the
//! built-in taxonomy that covers every category the seed policies name.
//!
//! Keys follow the fideslang 3.x `user.*` vocabulary where it has a key for
//! the category (`user.contact.phone_number`, `user.location.precise`,
//! `user.behavior.browsing_history`) and extend it below those keys where the
//! seeds are more specific (`user.device.device_id.imei`).
//!
//! The built-in sensitivity defaults follow China's PIPL art. 28 and
//! GB/T 35273-2020 Annex B: bank and payment accounts, transaction records,
//! credentials, identity documents, biometrics, whereabouts, precise
//! location, address book, call logs, communications and browsing history
//! are sensitive. The GDPR's special categories (art. 9) are narrower and
//! different; a policy for another regime raises what it must.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, shown_name};
use crate::limits::MAX_CATEGORY_KEY_BYTES;

use serde::{Deserialize, Serialize};

/// How much harm the processing of a category can do, in increasing order.
///
/// A policy may raise a category's level, never lower it below the built-in
/// default.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sensitivity {
    /// Cannot identify anyone on its own (device model, search keywords).
    /// Becomes personal while it is linked to an identity.
    NonPersonal,
    /// Personal information.
    Personal,
    /// Sensitive personal information (PIPL art. 28): needs separate consent
    /// when consent is the legal basis.
    Sensitive,
}

/// A hierarchical, dotted data-category key such as `user.device.device_id.imei`.
///
/// A key is one or more segments of lowercase ASCII letters, digits and
/// underscores, joined by dots. A rule on `user.device` covers every key
/// below it.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CategoryKey(Arc<str>);

impl CategoryKey {
    /// Parses a dotted key.
    ///
    /// # Errors
    ///
    /// An error of kind [`Category`](crate::ErrorKind::Category) on an empty
    /// key, an empty segment, a key over
    /// [`MAX_CATEGORY_KEY_BYTES`](crate::MAX_CATEGORY_KEY_BYTES) (200)
    /// bytes, or a character other than `a-z`, `0-9`, `_` and `.`.
    ///
    /// # Example
    ///
    /// ```
    /// use privacy_engine::CategoryKey;
    /// let imei = CategoryKey::new("user.device.device_id.imei")?;
    /// let device = CategoryKey::new("user.device")?;
    /// assert!(imei.is_within(&device));
    /// assert!(CategoryKey::new("User.Device").is_err());
    /// # Ok::<(), privacy_engine::Error>(())
    /// ```
    pub fn new(key: impl Into<String>) -> Result<Self, Error> {
        let key = key.into();
        let why = if key.is_empty() {
            Some("it is empty")
        } else if key.len() > MAX_CATEGORY_KEY_BYTES {
            Some("it is longer than the limit of 200 bytes")
        } else if key.split('.').any(str::is_empty) {
            Some("it has an empty segment")
        } else if !key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.') {
            Some("only a-z, 0-9, `_` and `.` are allowed")
        } else {
            None
        };
        match why {
            Some(why) => Err(Error::category(format!("invalid data category key `{}`: {why}", shown_name(&key)))),
            None => Ok(Self(Arc::from(key))),
        }
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The parent key, `None` for a root such as `user`.
    pub fn parent(&self) -> Option<CategoryKey> {
        self.0.rsplit_once('.').map(|(p, _)| CategoryKey(Arc::from(p)))
    }

    /// Whether `self` is `other` or lies below it.
    pub fn is_within(&self, other: &CategoryKey) -> bool {
        match self.0.strip_prefix(other.as_str()) {
            Some(rest) => rest.is_empty() || rest.starts_with('.'),
            None => false,
        }
    }

    /// Number of segments: `user` is 1, `user.device` is 2.
    pub fn depth(&self) -> usize {
        self.0.split('.').count()
    }
}

impl std::str::FromStr for CategoryKey {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for CategoryKey {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::new(s)
    }
}

impl From<CategoryKey> for String {
    fn from(k: CategoryKey) -> String {
        k.0.as_ref().to_owned()
    }
}

impl fmt::Debug for CategoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CategoryKey({:?})", self.0)
    }
}

impl fmt::Display for CategoryKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What the taxonomy knows of one category.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CategoryInfo {
    /// The category's sensitivity (the built-in default, raised by the policy
    /// where it says so).
    pub sensitivity: Sensitivity,
    /// What the category holds.
    pub description: String,
    /// The ids of `shared/reference/seeds-catalog.md` §1 this key stands for
    /// (empty for categories a policy adds).
    pub catalog: Vec<&'static str>,
    /// Whether the category comes from the built-in taxonomy.
    pub builtin: bool,
}

/// The set of known data categories: the built-in ones plus those a policy
/// adds, with their sensitivities.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taxonomy {
    categories: BTreeMap<CategoryKey, CategoryInfo>,
}

/// One row of the built-in table: key, default sensitivity, catalog ids,
/// description.
type Row = (&'static str, Sensitivity, &'static [&'static str], &'static str);

use Sensitivity::{NonPersonal as N, Personal as P, Sensitive as S};

const BUILTIN: &[Row] = &[
    ("user", P, &[], "data about a natural person"),
    // Identity, account and contact.
    ("user.account", P, &[], "account information"),
    ("user.account.username", P, &["DC-04"], "account name, login account, system account"),
    ("user.account.nickname", P, &["DC-03"], "nickname, including one synced from a third-party account"),
    ("user.account.avatar", P, &["DC-03"], "avatar, including one synced from a third-party account"),
    ("user.account.member_form", P, &["DC-18"], "member-form field `la collection` (garbled in seed 001)"),
    ("user.authorization", S, &[], "authentication secrets"),
    ("user.authorization.credentials", S, &["DC-05"], "passwords, secrets, password-protection questions and answers"),
    ("user.contact", P, &["DC-07"], "contact information"),
    ("user.contact.phone_number", P, &["DC-01"], "mobile phone number"),
    ("user.contact.email", P, &["DC-06"], "e-mail address"),
    ("user.contact.address", P, &["DC-82"], "postal or shipping address"),
    ("user.contact.person", P, &["DC-07"], "contact person"),
    ("user.contact.carrier", N, &["DC-02"], "mobile carrier or operator"),
    ("user.name", P, &["DC-08"], "name"),
    ("user.government_id", S, &[], "real-name identity information (PIPL art. 28: specific identity)"),
    ("user.government_id.name", S, &["DC-08"], "real name as part of real-name identity information"),
    ("user.government_id.national_identification_number", S, &["DC-09"], "national ID number"),
    ("user.government_id.photo", S, &["DC-10"], "photo as part of real-name identity information"),
    ("user.professional", P, &[], "professional information"),
    (
        "user.professional.certificate",
        P,
        &["DC-11", "DC-12"],
        "qualification and practising certificates, paper certificates",
    ),
    ("user.professional.resume", P, &["DC-16"], "resume (CV)"),
    ("user.workplace", P, &["DC-15"], "unit and department"),
    ("user.biometric", S, &[], "biometric information"),
    ("user.biometric.face", S, &["DC-13"], "face image and face data"),
    ("user.behavior", P, &[], "behaviour on the service"),
    (
        "user.behavior.interaction_trajectory",
        P,
        &["DC-14"],
        "slide, click and mouse trajectories produced during verification",
    ),
    ("user.behavior.browsing_history", S, &["DC-50"], "web browsing history (GB/T 35273 Annex B)"),
    ("user.behavior.click_history", P, &["DC-51"], "click records"),
    ("user.behavior.search_history", P, &["DC-52", "DC-92"], "search records, including the copy cached on the device"),
    ("user.behavior.search_keywords", N, &["DC-52"], "query keywords, which alone identify no one"),
    ("user.behavior.software_usage", P, &["DC-53"], "software use records"),
    ("user.content", P, &[], "content the person provides"),
    ("user.content.public", P, &["DC-54"], "posts, comments, likes, collections, shares, product listings"),
    ("user.content.media", P, &["DC-55"], "photos, pictures, files, screenshots"),
    ("user.content.communications", S, &["DC-19"], "communications sent to the service and customer-service records"),
    ("user.content.shared_by_others", P, &["DC-56"], "information about the person shared by other parties"),
    ("user.content.survey", P, &["DC-57"], "survey answers"),
    // Device.
    ("user.device", P, &[], "device information"),
    ("user.device.model", N, &["DC-20"], "device model, hardware model, device name"),
    ("user.device.device_id", P, &["DC-21"], "unique device identifiers"),
    ("user.device.device_id.imei", P, &["DC-22"], "IMEI"),
    ("user.device.device_id.imsi", P, &["DC-23"], "IMSI"),
    ("user.device.device_id.mac_address", P, &["DC-24"], "MAC address"),
    ("user.device.device_id.idfa", P, &["DC-25"], "iOS advertising identifier"),
    ("user.device.device_id.oaid", P, &["DC-26"], "OAID"),
    ("user.device.device_id.android_id", P, &["DC-27"], "Android ID, DEVICE_ID"),
    ("user.device.device_id.openudid", P, &["DC-28"], "OpenUDID, GUID"),
    ("user.device.device_id.serial_number", P, &["DC-29"], "device and SIM card serial numbers"),
    ("user.device.device_id.bluetooth_address", P, &["DC-30"], "Bluetooth address"),
    ("user.device.hardware", N, &["DC-31"], "CPU, disk, resolution, sensors, boot duration, processes"),
    ("user.device.software", N, &["DC-32"], "OS type and version, app and SDK versions, language"),
    ("user.device.app_list", P, &["DC-33"], "installed-application list"),
    ("user.device.browser", N, &["DC-34"], "browser type and settings"),
    ("user.device.ip_address", P, &["DC-40"], "IP address"),
    ("user.device.network", N, &["DC-41"], "network type, quality, Wi-Fi and base-station information"),
    ("user.device.phone_state", P, &["DC-72"], "phone state and phone information"),
    ("user.device.cookie_id", P, &["DC-90", "DC-91"], "cookies, web beacons and browser-supplied identifiers"),
    // Logs.
    ("user.log", P, &[], "log information"),
    ("user.log.access", P, &["DC-42", "DC-43"], "server access records and log information"),
    ("user.log.service", P, &["DC-44"], "service log: browsing, click to view, sharing"),
    ("user.log.mini_program", P, &["DC-45"], "mini-program operation logs"),
    ("user.log.diagnostics", N, &["DC-46"], "app start-up data, error logs, session times"),
    // Location.
    ("user.location", P, &[], "location"),
    ("user.location.precise", S, &["DC-60", "DC-62"], "GPS and precise location"),
    ("user.location.imprecise", P, &["DC-61", "DC-63", "DC-65"], "city-level or log-derived location"),
    ("user.location.travel", S, &["DC-64"], "travel information, whereabouts (PIPL art. 28)"),
    // Contacts.
    ("user.contacts", S, &[], "the person's contacts"),
    ("user.contacts.address_book", S, &["DC-70"], "address book (GB/T 35273 Annex B)"),
    ("user.contacts.call_log", S, &["DC-71"], "call logs (communication records)"),
    // Financial.
    ("user.financial", S, &[], "financial information (PIPL art. 28: financial accounts)"),
    ("user.financial.payment_account", S, &["DC-80"], "third-party payment account"),
    ("user.financial.bank_account", S, &["DC-83"], "bank account"),
    (
        "user.financial.transaction",
        S,
        &["DC-81", "DC-84", "DC-85"],
        "orders, payments, transaction records (GB/T 35273 Annex B)",
    ),
    ("user.financial.virtual_goods", S, &["DC-86"], "virtual goods, memberships, points (virtual property)"),
    // Derived.
    ("user.derived", P, &[], "information derived from other data"),
    ("user.derived.profile", P, &["DC-95"], "user portrait (profile)"),
    // Organisations.
    ("organization", N, &[], "data about an organisation"),
    ("organization.profile", N, &["DC-17"], "company name, business licence, credit code, products"),
    ("organization.contact", P, &["DC-17"], "the business contact person's phone, e-mail, fax"),
    // Aggregates.
    ("aggregate", N, &[], "data about no one in particular"),
    ("aggregate.statistics", N, &["DC-96"], "grouped, aggregated, statistical information"),
];

/// Catalog §1 entries that are not categories but are modelled elsewhere.
pub(crate) const MODELLED_ELSEWHERE: &[(&str, &str)] = &[
    ("DC-97", "de-identified and anonymised data are data states (`DataState`)"),
    ("DC-98", "children's data: the subject's age and the policy's minors rules"),
    ("DC-99", "minors' data: the subject's age and the policy's minors rules"),
];

impl Taxonomy {
    /// The built-in taxonomy.
    pub fn builtin() -> Self {
        let mut categories = BTreeMap::new();
        for &(key, sensitivity, catalog, description) in BUILTIN {
            if let Ok(k) = CategoryKey::new(key) {
                categories.insert(
                    k,
                    CategoryInfo {
                        sensitivity,
                        description: description.to_owned(),
                        catalog: catalog.to_vec(),
                        builtin: true,
                    },
                );
            }
        }
        Self { categories }
    }

    /// A taxonomy with no category, for policies that declare their own.
    pub(crate) fn empty() -> Self {
        Self { categories: BTreeMap::new() }
    }

    /// The information on `key`, if it is known.
    pub fn get(&self, key: &CategoryKey) -> Option<&CategoryInfo> {
        self.categories.get(key)
    }

    /// Whether `key` is known.
    pub fn contains(&self, key: &CategoryKey) -> bool {
        self.categories.contains_key(key)
    }

    /// All categories in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&CategoryKey, &CategoryInfo)> {
        self.categories.iter()
    }

    /// The key that stands for a catalog §1 id such as `DC-62`, if any.
    pub fn by_catalog_id(&self, id: &str) -> Option<&CategoryKey> {
        self.categories.iter().find(|(_, info)| info.catalog.contains(&id)).map(|(k, _)| k)
    }

    /// Where a catalog id that is not a category is modelled instead.
    pub fn modelled_elsewhere(id: &str) -> Option<&'static str> {
        MODELLED_ELSEWHERE.iter().find(|(i, _)| *i == id).map(|(_, w)| *w)
    }

    /// Declares a category, as a policy does: a known key may have its
    /// sensitivity raised (never lowered); a new key needs a known parent,
    /// or no parent where `roots` allows new roots, and inherits its
    /// parent's sensitivity unless it names one.
    pub(crate) fn declare(
        &mut self,
        key: &CategoryKey,
        sensitivity: Option<Sensitivity>,
        description: Option<&str>,
        roots: bool,
    ) -> Result<(), Undeclarable> {
        if let Some(info) = self.categories.get_mut(key) {
            return match sensitivity {
                Some(s) if s < info.sensitivity => Err(Undeclarable::LowersSensitivity),
                Some(s) => {
                    info.sensitivity = s;
                    Ok(())
                }
                None => Ok(()),
            };
        }
        let inherited = match key.parent() {
            Some(p) => self.get(&p).map(|i| i.sensitivity).ok_or(Undeclarable::UnknownParent)?,
            None if roots => Sensitivity::Personal,
            None => return Err(Undeclarable::UnknownParent),
        };
        let info = CategoryInfo {
            sensitivity: sensitivity.unwrap_or(inherited),
            description: description.unwrap_or_default().to_owned(),
            catalog: Vec::new(),
            builtin: false,
        };
        self.categories.insert(key.clone(), info);
        Ok(())
    }
}

/// Why a category cannot be declared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Undeclarable {
    /// It would make a known category less sensitive.
    LowersSensitivity,
    /// Its parent is not known (or it is a new root where none may start).
    UnknownParent,
}
