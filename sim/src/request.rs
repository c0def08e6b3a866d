//! What handlers read from a request: the caller (host, identity, link bases) set by the pipeline, the
//! OAuth scopes endpoints require, the path parameter, query parameters and JSON bodies.

use axum::body::Bytes;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::answer::ApiError;
use crate::auth::Auth;
use crate::host::HostKind;
use crate::state::UserIx;

/// Identity and addressing of the current request, set by the pipeline.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    /// Host the request was addressed to.
    pub host: HostKind,
    /// Authentication outcome.
    pub auth: Auth,
    /// Base for `self` links: `http://host[:port][/ex/jira/{cloudId}]`.
    pub base: String,
    /// Origin `http://host[:port]`.
    pub origin: String,
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

impl Caller {
    /// The calling account, requiring authentication and (for scoped credentials) `scope`.
    pub fn user(&self, scope: &str) -> Result<UserIx, ApiError> {
        match &self.auth {
            Auth::Anonymous => Err(ApiError::Unauthenticated(self.host, false)),
            Auth::User { user, scopes } => {
                check_scope(scopes, scope)?;
                Ok(*user)
            }
        }
    }

    /// Like [`Caller::user`] but anonymous callers are allowed (`None`).
    pub fn maybe_user(&self, scope: &str) -> Result<Option<UserIx>, ApiError> {
        match &self.auth {
            Auth::Anonymous => Ok(None),
            Auth::User { user, scopes } => {
                check_scope(scopes, scope)?;
                Ok(Some(*user))
            }
        }
    }
}

fn check_scope(scopes: &Option<Vec<String>>, scope: &str) -> Result<(), ApiError> {
    match scopes {
        Some(s) if !s.iter().any(|x| x == scope) => Err(ApiError::Gateway(
            StatusCode::UNAUTHORIZED,
            "Unauthorized; scope does not match",
        )),
        _ => Ok(()),
    }
}

/// OAuth scopes used by the Jira endpoints.
pub(crate) mod scope {
    pub const READ_USER: &str = "read:jira-user";
    pub const READ_WORK: &str = "read:jira-work";
    pub const WRITE_WORK: &str = "write:jira-work";
    pub const MANAGE: &str = "manage:jira-configuration";
}

/// The path parameter of a route, ignoring the gateway prefix's `cloudId`.
pub(crate) struct Arg(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Arg {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))?;
        raw.iter()
            .filter(|(k, _)| *k != "cloudId")
            .last()
            .map(|(_, v)| Arg(v.to_string()))
            .ok_or(ApiError::Status(StatusCode::INTERNAL_SERVER_ERROR))
    }
}

/// Query parameters in order, repeated names kept.
#[derive(Debug, Default)]
pub(crate) struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params::parse(parts.uri.query().unwrap_or("")))
    }
}

impl Params {
    /// Parses a query string.
    pub fn parse(query: &str) -> Params {
        Params(
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect(),
        )
    }

    /// First value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// All values of a repeated parameter (comma-separated values are split too).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// An integer parameter (400 when not a number).
    pub fn int(&self, name: &str, default: i64) -> Result<i64, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                ApiError::bad(format!(
                    "The value '{v}' is invalid for parameter '{name}'."
                ))
            }),
        }
    }

    /// A boolean parameter.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `startAt` (≥ 0) and `maxResults` (default `default`, silently capped at `cap`).
    pub fn page(&self, default: i64, cap: i64) -> Result<(usize, usize), ApiError> {
        let start = self.int("startAt", 0)?;
        let max = self.int("maxResults", default)?;
        if start < 0 {
            return Err(ApiError::bad("'startAt' must not be negative."));
        }
        if max < 0 {
            return Err(ApiError::bad("'maxResults' must not be negative."));
        }
        Ok((start as usize, max.min(cap) as usize))
    }
}

/// Parses a JSON body; empty bodies parse as `{}`.
pub(crate) fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(text).map_err(|e| {
        ApiError::bad(format!(
            "Invalid request payload. Refer to the REST API documentation and try again. ({e})"
        ))
    })
}
