//! Duplicate candidates (SPEC 9): the match keys an end user's UIDs and names give, and how the
//! reasons two end users share score. A match key is the canonical form of what a reason
//! compares, so two end users share a reason exactly when they share one of its keys.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use icu_normalizer::DecomposingNormalizerBorrowed;
use serde::Serialize;

use super::end_user::{EndUser, display_name};
use super::uid::{Uid, UidType};

/// The most candidates an answer lists.
pub const MAX_CANDIDATES: usize = 20;

/// Why two end users may be the same person.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub enum Reason {
    SamePhoneNumber,
    SameEmailIgnoringTags,
    SameExternalIgnoringCase,
    SameNameAndCompany,
    SameNameAndEmailDomain,
}

impl Reason {
    const ALL: [Reason; 5] = [
        Reason::SamePhoneNumber,
        Reason::SameEmailIgnoringTags,
        Reason::SameExternalIgnoringCase,
        Reason::SameNameAndCompany,
        Reason::SameNameAndEmailDomain,
    ];

    /// How likely this reason alone makes the same person (docs/decisions.md).
    fn weight(self) -> f64 {
        match self {
            Reason::SamePhoneNumber | Reason::SameEmailIgnoringTags => 0.85,
            Reason::SameExternalIgnoringCase => 0.7,
            Reason::SameNameAndEmailDomain => 0.5,
            Reason::SameNameAndCompany => 0.4,
        }
    }

    /// Whether it compares names (with a company or an e-mail domain).
    pub fn is_name(self) -> bool {
        matches!(
            self,
            Reason::SameNameAndCompany | Reason::SameNameAndEmailDomain
        )
    }

    /// The prefix of its keys' tokens.
    fn tag(self) -> &'static str {
        match self {
            Reason::SamePhoneNumber => "phone",
            Reason::SameEmailIgnoringTags => "email",
            Reason::SameExternalIgnoringCase => "external",
            Reason::SameNameAndCompany => "nameCompany",
            Reason::SameNameAndEmailDomain => "nameDomain",
        }
    }
}

/// One match key: a reason and the canonical value it compares.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchKey {
    reason: Reason,
    value: String,
}

impl MatchKey {
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// `{reason tag}:{canonical value}`: what the store files the key under.
    pub fn token(&self) -> String {
        format!("{}:{}", self.reason.tag(), self.value)
    }

    /// The reason of a key's token.
    pub fn reason_of(token: &str) -> Option<Reason> {
        let (tag, _) = token.split_once(':')?;
        Reason::ALL.into_iter().find(|r| r.tag() == tag)
    }

    /// The key of a UID: its E.164 number for `Phone` and `WhatsApp`, its address without
    /// `+tag` (and Gmail's dots and alias) for `Email`, its value ignoring case and surrounding
    /// spaces for `External`; other types give none.
    pub fn of_uid(uid: &Uid) -> Option<MatchKey> {
        let (reason, value) = match uid.uid_type() {
            UidType::Phone | UidType::WhatsApp => (Reason::SamePhoneNumber, uid.value().into()),
            UidType::Email => (Reason::SameEmailIgnoringTags, canonical_email(uid.value())?),
            UidType::External => (Reason::SameExternalIgnoringCase, external(uid.value())?),
            _ => return None,
        };
        Some(MatchKey { reason, value })
    }

    /// The key of a customerRef: compared with `External` UIDs.
    pub fn of_reference(reference: &str) -> Option<MatchKey> {
        Some(MatchKey {
            reason: Reason::SameExternalIgnoringCase,
            value: external(reference)?,
        })
    }

    /// The key of an end user's name and company, both non-empty.
    pub fn name_and_company(user: &EndUser) -> Option<MatchKey> {
        let name = folded_name(user)?;
        let company = fold(user.company.as_deref()?)?;
        Some(MatchKey {
            reason: Reason::SameNameAndCompany,
            value: format!("{name}\n{company}"),
        })
    }

    /// The key of an end user's name and the domain of its e-mail UID `uid` (none for another
    /// type, an empty name or a public mail provider's domain).
    pub fn name_and_domain(user: &EndUser, uid: &Uid) -> Option<MatchKey> {
        if uid.uid_type() != UidType::Email {
            return None;
        }
        let (_, domain) = uid.value().rsplit_once('@')?;
        if is_public_provider(domain) {
            return None;
        }
        Some(MatchKey {
            reason: Reason::SameNameAndEmailDomain,
            value: format!("{}\n{domain}", folded_name(user)?),
        })
    }
}

/// Every match key of `user`; none for an anonymized end user.
pub fn keys_of(user: &EndUser) -> BTreeSet<MatchKey> {
    if user.anonymized_at.is_some() {
        return BTreeSet::new();
    }
    let mut keys: BTreeSet<MatchKey> = user
        .uids
        .iter()
        .flat_map(|stored| {
            let uid = stored.as_uid();
            [
                MatchKey::of_uid(&uid),
                MatchKey::name_and_domain(user, &uid),
            ]
        })
        .flatten()
        .collect();
    keys.extend(
        user.customer_ref
            .as_deref()
            .and_then(MatchKey::of_reference),
    );
    keys.extend(MatchKey::name_and_company(user));
    keys
}

/// `local@domain` without a `+tag` in the local part; for Gmail, without dots and with
/// `googlemail.com` read as `gmail.com`. E-mail UIDs are stored lower-case.
fn canonical_email(address: &str) -> Option<String> {
    let (local, domain) = address.rsplit_once('@')?;
    let local = local.split_once('+').map_or(local, |(base, _)| base);
    let (local, domain) = match domain {
        "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
        _ => (local.to_owned(), domain),
    };
    (!local.is_empty()).then(|| format!("{local}@{domain}"))
}

fn external(value: &str) -> Option<String> {
    let value = value.trim().to_lowercase();
    (!value.is_empty()).then_some(value)
}

/// The display name of `user`, folded; `None` when empty.
fn folded_name(user: &EndUser) -> Option<String> {
    let name = display_name(
        user.name.as_deref(),
        user.firstname.as_deref(),
        user.lastname.as_deref(),
    );
    fold(&name)
}

/// `text` lower-cased, without accents (canonical decomposition, combining marks dropped) and
/// with runs of spaces as one; `None` when nothing is left.
pub fn fold(text: &str) -> Option<String> {
    const NFD: DecomposingNormalizerBorrowed<'static> = DecomposingNormalizerBorrowed::new_nfd();
    let bare: String = NFD
        .normalize_iter(text.chars())
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let words: Vec<&str> = bare.split_whitespace().collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The blocks of combining diacritical marks that decomposed Latin, Greek and Cyrillic letters
/// carry.
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}')
}

/// Mail providers whose domain says nothing about who uses it.
const PUBLIC_PROVIDERS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "outlook.com",
    "hotmail.com",
    "live.com",
    "msn.com",
    "yahoo.com",
    "ymail.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "proton.me",
    "protonmail.com",
    "pm.me",
    "gmx.com",
    "gmx.net",
    "gmx.de",
    "web.de",
    "t-online.de",
    "mail.com",
    "mail.ru",
    "yandex.ru",
    "yandex.com",
    "zoho.com",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "orange.fr",
    "free.fr",
    "laposte.net",
    "libero.it",
    "uol.com.br",
    "bol.com.br",
    "fastmail.com",
    "hey.com",
    "tutanota.com",
    "skynet.be",
    "telenet.be",
];

/// Whether `domain` is a public mail provider's: one of the list, or a national domain of
/// Hotmail, Outlook, Live, Yahoo or GMX (`yahoo.co.uk`, `hotmail.fr`, `gmx.at`).
fn is_public_provider(domain: &str) -> bool {
    if PUBLIC_PROVIDERS.contains(&domain) {
        return true;
    }
    let Some((brand, rest)) = domain.split_once('.') else {
        return false;
    };
    let country = |code: &str| code.len() == 2 && code.bytes().all(|b| b.is_ascii_lowercase());
    let national = country(rest)
        || rest
            .strip_prefix("co.")
            .or_else(|| rest.strip_prefix("com."))
            .is_some_and(country);
    national && matches!(brand, "hotmail" | "outlook" | "live" | "yahoo" | "gmx")
}

/// One candidate: another end user, how likely the same person and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    #[serde(rename = "endUserID")]
    pub end_user_id: u64,
    /// In (0, 1], two decimals.
    pub score: f64,
    /// Strongest first.
    pub reasons: Vec<Reason>,
}

/// The score of sharing `reasons`: the chance that at least one of them, taken as independent
/// evidence, tells the truth (`1 - Π(1 - weight)`), rounded to two decimals.
pub fn score(reasons: &BTreeSet<Reason>) -> f64 {
    let miss: f64 = reasons.iter().map(|r| 1.0 - r.weight()).product();
    ((1.0 - miss) * 100.0).round() / 100.0
}

/// The candidates of end user `own` among `found` (an end user sharing a key, and the key's
/// reason), without itself and the `dismissed`: highest score first (then lowest ID), at most
/// [`MAX_CANDIDATES`].
pub fn rank(
    own: u64,
    found: impl IntoIterator<Item = (u64, Reason)>,
    dismissed: &HashSet<u64>,
) -> Vec<Candidate> {
    let mut shared: BTreeMap<u64, BTreeSet<Reason>> = BTreeMap::new();
    for (id, reason) in found {
        if id != own && !dismissed.contains(&id) {
            shared.entry(id).or_default().insert(reason);
        }
    }
    let mut candidates: Vec<Candidate> = shared
        .into_iter()
        .map(|(id, reasons)| candidate(id, &reasons))
        .collect();
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.end_user_id.cmp(&b.end_user_id))
    });
    candidates.truncate(MAX_CANDIDATES);
    candidates
}

/// End user `id` as a candidate sharing `reasons`.
pub fn candidate(id: u64, reasons: &BTreeSet<Reason>) -> Candidate {
    let mut listed: Vec<Reason> = reasons.iter().copied().collect();
    listed.sort_by(|a, b| b.weight().total_cmp(&a.weight()).then(a.cmp(b)));
    Candidate {
        end_user_id: id,
        score: score(reasons),
        reasons: listed,
    }
}

#[cfg(test)]
mod tests;
