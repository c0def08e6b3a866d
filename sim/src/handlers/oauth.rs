//! OAuth 2.0 client credentials (`auth.atlassian.com/oauth/token`) and accessible-resources.

use axum::body::Bytes;
use axum::extract::State as AxState;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::json;

use crate::answer::{ApiError, ApiResult, ok};
use crate::app::App;
use crate::auth::bearer_client;
use crate::format::now_ms;
use crate::request::Caller;
use crate::state::IssuedToken;

#[derive(Deserialize, Default)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> ApiResult {
    Ok((
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response())
}

/// `POST /oauth/token` — JSON or form body; `client_credentials` only.
pub(crate) async fn token(AxState(app): AxState<App>, headers: HeaderMap, raw: Bytes) -> ApiResult {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let req: TokenRequest = if form {
        let mut r = TokenRequest::default();
        for (k, v) in url::form_urlencoded::parse(&raw) {
            match k.as_ref() {
                "grant_type" => r.grant_type = Some(v.into_owned()),
                "client_id" => r.client_id = Some(v.into_owned()),
                "client_secret" => r.client_secret = Some(v.into_owned()),
                _ => {}
            }
        }
        r
    } else {
        match serde_json::from_slice(&raw) {
            Ok(r) => r,
            Err(_) => {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "Malformed request body",
                );
            }
        }
    };
    if req.grant_type.as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "Grant type not allowed for the client.",
        );
    }
    let mut st = app.state.write();
    let Some(client) = st.oauth_clients.iter().position(|c| {
        Some(c.client_id.as_str()) == req.client_id.as_deref()
            && Some(c.client_secret.as_str()) == req.client_secret.as_deref()
    }) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    };
    let now = now_ms();
    if st.tokens.len() > 10_000 {
        st.tokens.retain(|_, t| t.expires_ms > now);
    }
    st.token_counter += 1;
    let access_token = format!(
        "sim-at-{}-{:x}",
        st.token_counter,
        now.wrapping_mul(0x9E37_79B9) as u64
    );
    let lifetime = app.token_lifetime;
    st.tokens.insert(
        access_token.clone(),
        IssuedToken {
            client,
            expires_ms: now + lifetime.as_millis() as i64,
        },
    );
    let scopes = st.oauth_clients[client].scopes.join(" ");
    ok(
        json!({"access_token": access_token, "expires_in": lifetime.as_secs(), "token_type": "Bearer", "scope": scopes}),
    )
}

/// `GET /oauth/token/accessible-resources` — the site this bearer token reaches.
pub(crate) async fn accessible_resources(
    AxState(app): AxState<App>,
    caller: Caller,
    headers: HeaderMap,
) -> ApiResult {
    let st = app.state.read();
    let client = bearer_client(&st, &headers, now_ms())
        .ok_or(ApiError::Gateway(StatusCode::UNAUTHORIZED, "Unauthorized"))?;
    ok(json!([{
        "id": st.cloud_id,
        "name": st.site_name,
        "url": caller.origin,
        "scopes": st.oauth_clients[client].scopes,
        "avatarUrl": format!("{}/avatar/site.png", caller.origin),
    }]))
}
