//! Consent per channel address (SPEC 9): whether the person may be contacted on one UID, who
//! said so and when. Each UID keeps its changes (the newest [`HISTORY_PER_UID`]); its consent is
//! the last of them, `unknown` before any.

use serde::{Deserialize, Serialize};

use super::Timestamp;
use super::uid::UidType;

/// Changes kept per UID; older ones are dropped (a STOP/START loop cannot grow the record).
pub const HISTORY_PER_UID: usize = 20;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ConsentStatus {
    #[default]
    Unknown,
    OptedIn,
    OptedOut,
}

impl ConsentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsentStatus::Unknown => "unknown",
            ConsentStatus::OptedIn => "optedIn",
            ConsentStatus::OptedOut => "optedOut",
        }
    }

    /// What the desk may set (`optedIn`, `optedOut`), exactly as written.
    pub fn parse_desk(raw: &str) -> Result<Self, String> {
        match raw {
            "optedIn" => Ok(ConsentStatus::OptedIn),
            "optedOut" => Ok(ConsentStatus::OptedOut),
            _ => Err("must be optedIn or optedOut".into()),
        }
    }

    /// What the list filter `consent=` names: any of the three, any case.
    pub fn parse_filter(raw: &str) -> Result<Self, String> {
        let wanted = raw.trim();
        [
            ConsentStatus::Unknown,
            ConsentStatus::OptedIn,
            ConsentStatus::OptedOut,
        ]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(wanted))
        .ok_or_else(|| "must be one of unknown, optedIn, optedOut".into())
    }
}

/// One consent change of a UID: what it became, when and on whose word.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentChange {
    pub status: ConsentStatus,
    pub at: Timestamp,
    pub source: String,
}

impl ConsentChange {
    /// Set by the desk (`api`).
    pub fn by_desk(status: ConsentStatus, at: Timestamp) -> Self {
        ConsentChange {
            status,
            at,
            source: "api".into(),
        }
    }

    /// Set by a Twilio message (`twilio:<MessageSid>`).
    pub fn by_twilio(status: ConsentStatus, message_sid: &str, at: Timestamp) -> Self {
        ConsentChange {
            status,
            at,
            source: format!("twilio:{message_sid}"),
        }
    }

    /// An address linked again after an opted-out holder was erased (`suppression`).
    pub fn suppressed(at: Timestamp) -> Self {
        ConsentChange {
            status: ConsentStatus::OptedOut,
            at,
            source: "suppression".into(),
        }
    }
}

/// A UID's consent as read: `unknown`, `null`, `null` until something sets it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Consent {
    pub status: ConsentStatus,
    pub at: Option<Timestamp>,
    pub source: Option<String>,
}

/// One consent change of an end user's UID, as `GET /api/EndUsers/{id}/consent` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsentEntry {
    pub uid_type: UidType,
    pub uid: String,
    pub status: ConsentStatus,
    pub at: Timestamp,
    pub source: String,
}

/// The consent `history` (oldest first) ends at.
pub fn current(history: &[ConsentChange]) -> Consent {
    history
        .last()
        .map_or_else(Consent::default, |last| Consent {
            status: last.status,
            at: Some(last.at),
            source: Some(last.source.clone()),
        })
}

/// Appends `change` to `history` when it changes the status; `false` when it is the status
/// already (nothing to record).
pub fn record(history: &mut Vec<ConsentChange>, change: ConsentChange) -> bool {
    if current(history).status == change.status {
        return false;
    }
    history.push(change);
    let excess = history.len().saturating_sub(HISTORY_PER_UID);
    history.drain(..excess);
    true
}

/// `history` of an address linked again after an opted-out holder was erased: it starts opted
/// out (`suppression`), before what the request itself says of it.
pub fn start_suppressed(history: &mut Vec<ConsentChange>, at: Timestamp) {
    if history.first().is_some_and(|c| c.source == "suppression") {
        return;
    }
    history.insert(0, ConsentChange::suppressed(at));
    // The request's own opt-out says nothing new.
    if history
        .get(1)
        .is_some_and(|c| c.status == ConsentStatus::OptedOut)
    {
        history.remove(1);
    }
}

/// Twilio's opt-out keywords (SPEC 9), matched on the whole trimmed body in any case.
const OPT_OUT_KEYWORDS: &[&str] = &[
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
];
const OPT_IN_KEYWORDS: &[&str] = &["START", "YES", "UNSTOP"];

/// What a Twilio message says of its sender's consent: its `OptOutType` (`STOP`, `START`) when
/// given, otherwise a body that is exactly one of the keywords; `None` for anything else.
pub fn from_twilio(opt_out_type: Option<&str>, body: &str) -> Option<ConsentStatus> {
    let keyword = |word: &str, list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    match opt_out_type.map(str::trim).filter(|t| !t.is_empty()) {
        Some(kind) if kind.eq_ignore_ascii_case("STOP") => Some(ConsentStatus::OptedOut),
        Some(kind) if kind.eq_ignore_ascii_case("START") => Some(ConsentStatus::OptedIn),
        // HELP, or a type Twilio adds later: nothing said of consent.
        Some(_) => None,
        None => {
            let word = body.trim();
            if keyword(word, OPT_OUT_KEYWORDS) {
                Some(ConsentStatus::OptedOut)
            } else if keyword(word, OPT_IN_KEYWORDS) {
                Some(ConsentStatus::OptedIn)
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_unix_seconds(seconds)
    }

    #[test]
    fn the_desk_sets_only_the_two_decisions_as_written() {
        assert_eq!(
            ConsentStatus::parse_desk("optedOut"),
            Ok(ConsentStatus::OptedOut)
        );
        assert_eq!(
            ConsentStatus::parse_desk("optedIn"),
            Ok(ConsentStatus::OptedIn)
        );
        for bad in ["unknown", "OPTEDOUT", "opted_out", "", "yes"] {
            assert!(ConsentStatus::parse_desk(bad).is_err(), "{bad} accepted");
        }
        assert_eq!(
            ConsentStatus::parse_filter(" OptedOut "),
            Ok(ConsentStatus::OptedOut)
        );
        assert!(ConsentStatus::parse_filter("no").is_err());
    }

    #[test]
    fn twilio_opt_out_type_wins_over_the_body() {
        use ConsentStatus::*;
        assert_eq!(from_twilio(Some("STOP"), "hello"), Some(OptedOut));
        assert_eq!(from_twilio(Some("start"), "STOP"), Some(OptedIn));
        assert_eq!(from_twilio(Some("HELP"), "STOP"), None);
        assert_eq!(from_twilio(None, "  unsubscribe \n"), Some(OptedOut));
        assert_eq!(from_twilio(Some(""), "Stop"), Some(OptedOut));
        assert_eq!(from_twilio(None, "unstop"), Some(OptedIn));
        assert_eq!(from_twilio(None, "yes"), Some(OptedIn));
        for body in ["stop please", "STOP.", "don't stop", "", "startup", "HELP"] {
            assert_eq!(from_twilio(None, body), None, "{body:?}");
        }
    }

    #[test]
    fn a_suppressed_address_starts_opted_out_before_what_the_request_says() {
        let mut fresh = Vec::new();
        start_suppressed(&mut fresh, at(5));
        assert_eq!(current(&fresh).source.as_deref(), Some("suppression"));
        start_suppressed(&mut fresh, at(6));
        assert_eq!(fresh.len(), 1, "suppressed once");

        let mut opted_in = vec![ConsentChange::by_desk(ConsentStatus::OptedIn, at(7))];
        start_suppressed(&mut opted_in, at(7));
        let statuses: Vec<ConsentStatus> = opted_in.iter().map(|c| c.status).collect();
        assert_eq!(statuses, [ConsentStatus::OptedOut, ConsentStatus::OptedIn]);
        assert_eq!(current(&opted_in).status, ConsentStatus::OptedIn);

        let mut opted_out = vec![ConsentChange::by_desk(ConsentStatus::OptedOut, at(8))];
        start_suppressed(&mut opted_out, at(8));
        assert_eq!(opted_out.len(), 1, "the request's opt-out says nothing new");
        assert_eq!(current(&opted_out).source.as_deref(), Some("suppression"));
    }

    #[test]
    fn a_change_is_recorded_only_when_the_status_changes_and_history_is_bounded() {
        let mut history = Vec::new();
        assert_eq!(current(&history), Consent::default());
        assert!(record(
            &mut history,
            ConsentChange::by_desk(ConsentStatus::OptedIn, at(1))
        ));
        assert!(!record(
            &mut history,
            ConsentChange::by_desk(ConsentStatus::OptedIn, at(2))
        ));
        assert_eq!(current(&history).at, Some(at(1)));
        for i in 0..50 {
            let status = if i % 2 == 0 {
                ConsentStatus::OptedOut
            } else {
                ConsentStatus::OptedIn
            };
            assert!(record(
                &mut history,
                ConsentChange::by_twilio(status, &format!("SM{i}"), at(10 + i))
            ));
        }
        assert_eq!(history.len(), HISTORY_PER_UID);
        let last = current(&history);
        assert_eq!(last.status, ConsentStatus::OptedIn);
        assert_eq!(last.source.as_deref(), Some("twilio:SM49"));
    }
}
