//! Endpoint families: each declares its routes in one table (method, path template, auth
//! policy, operation) and answers its operations. [`super::Api`] mounts families; a Lambda mounts
//! its own, so its binary links only that family's handlers.

use async_trait::async_trait;
use lambda_http::http::Method;

use super::request::{Call, Signed};
use super::response::Reply;
use crate::error::ApiError;

/// How a route authenticates its caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthPolicy {
    /// A bearer JWT of a tenant; a phone-auth token is refused (403).
    Jwt,
    /// Only a phone-auth bearer JWT (`auth: "phone"`); any other token is refused (403).
    PhoneJwt,
    /// The tenant's signature over the request, verified by the family
    /// ([`Family::verify_signature`]); no JWT.
    TenantSignature,
    /// No credentials.
    Public,
}

/// One route of a family.
#[derive(Debug)]
pub struct Route<Op> {
    pub method: Method,
    /// Segments are literals or `{name}` parameters: `/api/EndUsers/{id}`.
    pub path: &'static str,
    pub auth: AuthPolicy,
    pub op: Op,
}

impl<Op> Route<Op> {
    pub const fn new(method: Method, path: &'static str, auth: AuthPolicy, op: Op) -> Self {
        Route {
            method,
            path,
            auth,
            op,
        }
    }
}

#[async_trait]
pub trait Family: Send + Sync + 'static {
    /// The family's operations, one per route.
    type Op: Copy + Send + Sync + 'static;

    /// The route table. A literal segment wins over a parameter: `/api/EndUsers/byUid` is never
    /// `/api/EndUsers/{id}`.
    fn routes(&self) -> &'static [Route<Self::Op>];

    /// Answers an authenticated call of `op`.
    async fn call(&self, op: Self::Op, call: &Call<'_>) -> Result<Reply, ApiError>;

    /// For a [`AuthPolicy::TenantSignature`] route: the tenant named by the path whose secret
    /// signed the request, with what the check read for the handler. A family without signed
    /// routes accepts no signature.
    async fn verify_signature(&self, _op: Self::Op, _call: &Call<'_>) -> Result<Signed, ApiError> {
        Err(ApiError::Forbidden(
            "this route accepts no signature".into(),
        ))
    }
}

/// Where a request path leads within one family.
pub enum Lookup<'p> {
    /// No route of the family has this path.
    Unknown,
    /// The path's most specific template in the family exists with other methods (their
    /// `Allow` value).
    OtherMethods {
        template: &'static str,
        allow: String,
    },
    /// Route `index` (of `template`), with the path parameters.
    Found {
        index: usize,
        template: &'static str,
        params: Vec<(&'static str, &'p str)>,
    },
}

impl Lookup<'_> {
    /// The template the lookup matched.
    pub fn template(&self) -> Option<&'static str> {
        match self {
            Lookup::Unknown => None,
            Lookup::OtherMethods { template, .. } | Lookup::Found { template, .. } => {
                Some(template)
            }
        }
    }
}

/// The parameter name of a template segment (`{id}`), if it is one.
fn parameter(part: &'static str) -> Option<&'static str> {
    part.strip_prefix('{').and_then(|p| p.strip_suffix('}'))
}

/// Whether `template` matches `segments`: the same count, literals equal.
fn matches(template: &'static str, segments: &[&str]) -> bool {
    let mut parts = template.trim_start_matches('/').split('/');
    segments.iter().all(|segment| {
        parts
            .next()
            .is_some_and(|part| parameter(part).is_some() || part == *segment)
    }) && parts.next().is_none()
}

/// The parameters a matching `template` binds in `segments`.
fn bind<'p>(template: &'static str, segments: &[&'p str]) -> Vec<(&'static str, &'p str)> {
    template
        .trim_start_matches('/')
        .split('/')
        .zip(segments)
        .filter_map(|(part, segment)| parameter(part).map(|name| (name, *segment)))
        .collect()
}

/// Whether `a` is more specific than `b`: at the first segment where one has a literal and the
/// other a parameter, `a` has the literal.
pub(crate) fn more_specific(a: &str, b: &str) -> bool {
    let is_param = |part: &str| part.starts_with('{');
    a.split('/')
        .zip(b.split('/'))
        .map(|(x, y)| (is_param(x), is_param(y)))
        .find(|(x, y)| x != y)
        .is_some_and(|(x, _)| !x)
}

/// The route of `routes` for `method` on the path of `segments`.
pub fn lookup<'p, Op>(routes: &[Route<Op>], method: &Method, segments: &[&'p str]) -> Lookup<'p> {
    let mut best: Option<&'static str> = None;
    for route in routes {
        if best != Some(route.path)
            && matches(route.path, segments)
            && best.is_none_or(|path| more_specific(route.path, path))
        {
            best = Some(route.path);
        }
    }
    let Some(template) = best else {
        return Lookup::Unknown;
    };
    let same_path = || {
        routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.path == template)
    };
    match same_path().find(|(_, route)| route.method == *method) {
        Some((index, _)) => Lookup::Found {
            index,
            template,
            params: bind(template, segments),
        },
        None => Lookup::OtherMethods {
            template,
            allow: same_path()
                .map(|(_, route)| route.method.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
    }
}

/// A family as [`super::Api`] holds it, whatever its operations.
#[async_trait]
pub(super) trait Mounted: Send + Sync {
    fn lookup<'p>(&self, method: &Method, segments: &[&'p str]) -> Lookup<'p>;
    fn route(&self, index: usize) -> (&Method, &'static str, AuthPolicy);
    fn route_count(&self) -> usize;
    async fn verify_signature(&self, index: usize, call: &Call<'_>) -> Result<Signed, ApiError>;
    async fn call(&self, index: usize, call: &Call<'_>) -> Result<Reply, ApiError>;
}

#[async_trait]
impl<F: Family> Mounted for F {
    fn lookup<'p>(&self, method: &Method, segments: &[&'p str]) -> Lookup<'p> {
        lookup(self.routes(), method, segments)
    }

    fn route(&self, index: usize) -> (&Method, &'static str, AuthPolicy) {
        let route = &self.routes()[index];
        (&route.method, route.path, route.auth)
    }

    fn route_count(&self) -> usize {
        self.routes().len()
    }

    async fn verify_signature(&self, index: usize, call: &Call<'_>) -> Result<Signed, ApiError> {
        Family::verify_signature(self, self.routes()[index].op, call).await
    }

    async fn call(&self, index: usize, call: &Call<'_>) -> Result<Reply, ApiError> {
        Family::call(self, self.routes()[index].op, call).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum Op {
        List,
        ByUid,
        Get,
        Put,
        Tickets,
    }

    const ROUTES: &[Route<Op>] = &[
        Route::new(Method::GET, "/api/EndUsers", AuthPolicy::Jwt, Op::List),
        Route::new(Method::GET, "/api/EndUsers/{id}", AuthPolicy::Jwt, Op::Get),
        Route::new(Method::PUT, "/api/EndUsers/{id}", AuthPolicy::Jwt, Op::Put),
        Route::new(
            Method::GET,
            "/api/EndUsers/byUid",
            AuthPolicy::Jwt,
            Op::ByUid,
        ),
        Route::new(
            Method::GET,
            "/api/EndUsers/{id}/tickets",
            AuthPolicy::Jwt,
            Op::Tickets,
        ),
    ];

    fn found(method: Method, path: &str) -> Option<(Op, Vec<(&'static str, String)>)> {
        let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match lookup(ROUTES, &method, &segments) {
            Lookup::Found { index, params, .. } => Some((
                ROUTES[index].op,
                params.into_iter().map(|(n, v)| (n, v.to_owned())).collect(),
            )),
            _ => None,
        }
    }

    #[test]
    fn literals_win_over_parameters_and_parameters_bind() {
        assert_eq!(
            found(Method::GET, "/api/EndUsers"),
            Some((Op::List, vec![]))
        );
        assert_eq!(
            found(Method::GET, "/api/EndUsers/byUid"),
            Some((Op::ByUid, vec![]))
        );
        assert_eq!(
            found(Method::PUT, "/api/EndUsers/12"),
            Some((Op::Put, vec![("id", "12".to_string())]))
        );
        assert_eq!(
            found(Method::GET, "/api/EndUsers/12/tickets"),
            Some((Op::Tickets, vec![("id", "12".to_string())]))
        );
    }

    #[test]
    fn other_methods_and_unknown_paths() {
        let segments = ["api", "EndUsers", "byUid"];
        assert!(matches!(
            lookup(ROUTES, &Method::PUT, &segments),
            Lookup::OtherMethods { allow, .. } if allow == "GET"
        ));
        assert!(matches!(
            lookup(ROUTES, &Method::DELETE, &["api", "EndUsers", "1"]),
            Lookup::OtherMethods { allow, .. } if allow == "GET, PUT"
        ));
        for path in ["/api/Nope", "/api/EndUsers/1/merges", "/api"] {
            let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
            assert!(matches!(
                lookup(ROUTES, &Method::GET, &segments),
                Lookup::Unknown
            ));
        }
    }
}
