//! The one error type of the API. `http::problem` renders it as an RFC 9457 problem response.

use crate::domain::errors::FieldErrors;
use crate::store::StoreError;
use crate::vault::VaultError;

#[derive(Clone, Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request has invalid fields")]
    Validation(FieldErrors),
    #[error("{0}")]
    MalformedBody(String),
    #[error("missing bearer token")]
    MissingCredentials,
    #[error("send one Authorization header")]
    RepeatedCredentials,
    #[error("invalid token: {0}")]
    InvalidToken(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A known path with another method; the methods it has.
    #[error("method not allowed")]
    MethodNotAllowed(String),
    /// A value the request would write is already held by another end user.
    #[error("{detail}")]
    Conflict {
        detail: String,
        errors: FieldErrors,
        holder: Option<u64>,
    },
    /// The tenant's stored secrets no longer open (their key was replaced or disabled) and the
    /// update touches secrets without setting or clearing every stored one: the fields, each
    /// with what to do.
    #[error("the stored secrets can no longer be opened; set or clear every stored secret field")]
    SecretsUnreadable(FieldErrors),
    /// The tenant has no CRM connector to ask (SPEC 10): why (no `apiBaseUrl`, a credential its
    /// type needs missing).
    #[error("{0}")]
    NoCrmConnector(String),
    /// The tenant's CRM gave no usable answer (SPEC 10): what it did.
    #[error("{0}")]
    CrmUnavailable(String),
    /// The end user was merged into `merged_into`.
    #[error("end user {id} was merged into end user {merged_into}")]
    Gone { id: u64, merged_into: u64 },
    /// `If-Match` or `If-None-Match` does not hold; the record's current version, if any.
    #[error("the end user is not at the version the request names")]
    PreconditionFailed { current: Option<u64> },
    #[error("the value matches more than one end user")]
    Ambiguous { end_user_ids: Vec<u64> },
    #[error("the record was changed by concurrent requests; retry")]
    ConcurrentModification,
    /// An `Idempotency-Key` used before for another request (method, path or body).
    #[error("this Idempotency-Key was used for another request within the last 24 hours")]
    IdempotencyKeyReused,
    /// A request with this `Idempotency-Key` is still running.
    #[error("a request with this Idempotency-Key is still running; retry after it answered")]
    IdempotencyInFlight,
    #[error("request body larger than {0} bytes")]
    PayloadTooLarge(usize),
    /// The body did not arrive within the transport's time limit.
    #[error("the request body did not arrive in time")]
    BodyTimeout,
    /// A body route given another media type; what it expects.
    #[error("expected {0}")]
    UnsupportedMediaType(&'static str),
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Validation(errors)
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Unavailable(cause) => ApiError::Unavailable(cause),
            StoreError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<VaultError> for ApiError {
    fn from(error: VaultError) -> Self {
        match error {
            VaultError::Unavailable(cause) => ApiError::Unavailable(cause),
            VaultError::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

impl From<crate::domain::precondition::Unmet> for ApiError {
    /// A write's unmet precondition (a read answers 304 itself).
    fn from(unmet: crate::domain::precondition::Unmet) -> Self {
        use crate::domain::precondition::Unmet;
        match unmet {
            Unmet::Failed(current) => ApiError::PreconditionFailed { current },
            Unmet::NotModified(version) => ApiError::PreconditionFailed {
                current: Some(version),
            },
        }
    }
}
