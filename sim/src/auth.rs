//! Authentication: Basic auth with classic and scoped API tokens, OAuth bearer tokens on the gateway and
//! Admin API keys.

use axum::http::{HeaderMap, header};
use base64::Engine;

use crate::answer::ApiError;
use crate::host::HostKind;
use crate::state::{State, UserIx};

/// Outcome of authentication for Jira endpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Auth {
    /// No credentials.
    Anonymous,
    /// An account, with the scopes of its credential (`None` = classic API token, unrestricted).
    User {
        /// The account.
        user: UserIx,
        /// Scopes of a scoped token or OAuth token.
        scopes: Option<Vec<String>>,
    },
}

/// The (lower-case) email of a Basic Authorization header.
pub fn basic_email(headers: &HeaderMap) -> Option<String> {
    let (scheme, value) = authorization(headers)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(value)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    Some(text.split_once(':')?.0.to_lowercase())
}

/// A stable key of the credential of a request (for per-credential rate limits); 0 = anonymous.
pub fn credential_key(headers: &HeaderMap) -> u64 {
    let Some(v) = headers.get(header::AUTHORIZATION) else {
        return 0;
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in v.as_bytes() {
        h = (h ^ *b as u64).wrapping_mul(0x0100_0000_01b3);
    }
    h | 1
}

fn authorization(headers: &HeaderMap) -> Option<(&str, &str)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = v.split_once(' ')?;
    Some((scheme, rest.trim()))
}

fn basic(st: &State, encoded: &str) -> Option<(UserIx, Option<Vec<String>>)> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (email, token) = text.split_once(':')?;
    let t = st
        .api_tokens
        .get(&format!("{}\0{}", email.to_lowercase(), token))?;
    let user = &st.users[t.user as usize];
    (user.active && !user.deleted).then(|| (t.user, t.scopes.clone()))
}

/// The OAuth client behind a live bearer token.
pub fn bearer_client(st: &State, headers: &HeaderMap, now_ms: i64) -> Option<usize> {
    let (scheme, token) = authorization(headers)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    let issued = st.tokens.get(token)?;
    (issued.expires_ms > now_ms).then_some(issued.client)
}

/// Whether the request carries a valid Admin API key.
pub fn admin_key(st: &State, headers: &HeaderMap) -> bool {
    match authorization(headers) {
        Some((scheme, key)) if scheme.eq_ignore_ascii_case("bearer") => {
            st.admin_keys.iter().any(|k| k == key)
        }
        _ => false,
    }
}

/// Authenticates a Jira request. Site host: classic Basic tokens only (scoped tokens and bearer tokens
/// get 401). Gateway: Basic (classic or scoped) and OAuth bearer tokens; anonymous gets 401. Other
/// hosts authenticate in their handlers.
pub fn authenticate(
    st: &State,
    headers: &HeaderMap,
    host: HostKind,
    now_ms: i64,
) -> Result<Auth, ApiError> {
    if matches!(host, HostKind::Api | HostKind::Auth) {
        return Ok(Auth::Anonymous);
    }
    let Some((scheme, value)) = authorization(headers) else {
        return match host {
            HostKind::Gateway => Err(ApiError::Unauthenticated(host, false)),
            _ => Ok(Auth::Anonymous),
        };
    };
    let failed = || ApiError::Unauthenticated(host, true);
    if scheme.eq_ignore_ascii_case("basic") {
        let (user, scopes) = basic(st, value).ok_or_else(failed)?;
        if host == HostKind::Site && scopes.is_some() {
            return Err(failed());
        }
        return Ok(Auth::User { user, scopes });
    }
    if scheme.eq_ignore_ascii_case("bearer") && host == HostKind::Gateway {
        let client = bearer_client(st, headers, now_ms).ok_or_else(failed)?;
        let c = &st.oauth_clients[client];
        let u = &st.users[c.user as usize];
        if !u.active || u.deleted {
            return Err(failed());
        }
        return Ok(Auth::User {
            user: c.user,
            scopes: Some(c.scopes.clone()),
        });
    }
    Err(failed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::default_scenario;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, v.parse().unwrap());
        h
    }

    fn basic_header(user: &str, token: &str) -> HeaderMap {
        headers(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{token}"))
        ))
    }

    #[test]
    fn matrix() {
        let st = State::from_scenario(default_scenario(), 0).unwrap();
        let classic = basic_header("admin@example.com", "classic-admin-token");
        let scoped = basic_header("admin@example.com", "scoped-admin-token");
        assert!(matches!(
            authenticate(&st, &classic, HostKind::Site, 0),
            Ok(Auth::User { scopes: None, .. })
        ));
        assert!(authenticate(&st, &scoped, HostKind::Site, 0).is_err());
        assert!(matches!(
            authenticate(&st, &scoped, HostKind::Gateway, 0),
            Ok(Auth::User {
                scopes: Some(_),
                ..
            })
        ));
        assert!(
            authenticate(
                &st,
                &basic_header("admin@example.com", "nope"),
                HostKind::Site,
                0
            )
            .is_err()
        );
        assert!(matches!(
            authenticate(&st, &HeaderMap::new(), HostKind::Site, 0),
            Ok(Auth::Anonymous)
        ));
        assert!(authenticate(&st, &HeaderMap::new(), HostKind::Gateway, 0).is_err());
        assert!(authenticate(&st, &headers("Bearer unknown"), HostKind::Gateway, 0).is_err());
        assert!(admin_key(&st, &headers("Bearer sim-admin-key")));
        assert!(!admin_key(&st, &classic));
        assert_ne!(credential_key(&classic), credential_key(&scoped));
        assert_eq!(credential_key(&HeaderMap::new()), 0);
    }
}
