//! What handlers answer: a JSON success, or an error in the shape the real service uses (Jira's
//! ErrorCollection, the gateway's `{code, message}`, the Admin API's errors, each host's 401).

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::host::HostKind;

/// Handler result.
pub(crate) type ApiResult = Result<Response, ApiError>;

/// 200 with a JSON body.
pub(crate) fn ok(v: Value) -> ApiResult {
    Ok(axum::Json(v).into_response())
}

/// An error answer in one of the shapes the real services use.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// Jira ErrorCollection.
    Jira {
        status: StatusCode,
        messages: Vec<String>,
        errors: Vec<(String, String)>,
    },
    /// Gateway / proxy `{"code":..,"message":..}`.
    Gateway(StatusCode, &'static str),
    /// 401 on the given host; `true` = credentials were presented but rejected.
    Unauthenticated(HostKind, bool),
    /// Admin API ApplicationError.
    Admin {
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    },
    /// Bare status, empty body.
    Status(StatusCode),
}

impl ApiError {
    /// ErrorCollection with one message.
    pub fn jira(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError::Jira {
            status,
            messages: vec![message.into()],
            errors: Vec::new(),
        }
    }

    /// 400 ErrorCollection with one message.
    pub fn bad(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::BAD_REQUEST, message)
    }

    /// ErrorCollection with field errors.
    pub fn fields(status: StatusCode, errors: Vec<(String, String)>) -> ApiError {
        ApiError::Jira {
            status,
            messages: Vec::new(),
            errors,
        }
    }

    /// 403 ErrorCollection.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::FORBIDDEN, message)
    }

    /// 404 ErrorCollection.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::jira(StatusCode::NOT_FOUND, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Jira {
                status,
                messages,
                errors,
            } => {
                let errors: serde_json::Map<String, Value> = errors
                    .into_iter()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                (
                    status,
                    axum::Json(json!({"errorMessages": messages, "errors": errors})),
                )
                    .into_response()
            }
            ApiError::Gateway(status, message) => (
                status,
                axum::Json(json!({"code": status.as_u16(), "message": message})),
            )
                .into_response(),
            ApiError::Unauthenticated(host, failed) => unauthenticated(host, failed),
            ApiError::Admin {
                status,
                code,
                title,
                detail,
            } => {
                let id = format!("{:x}", crate::format::now_ms());
                let body = json!({"errors": [{"id": id, "status": status.as_u16().to_string(), "code": code,
                    "title": title, "detail": detail}]});
                (status, axum::Json(body)).into_response()
            }
            ApiError::Status(status) => status.into_response(),
        }
    }
}

/// The 401 answer of a host. `failed` = credentials were presented but rejected.
pub fn unauthenticated(host: HostKind, failed: bool) -> Response {
    match host {
        HostKind::Site => {
            let mut r = (
                StatusCode::UNAUTHORIZED,
                [(header::CONTENT_TYPE, "text/plain;charset=UTF-8")],
                "Client must be authenticated to access this resource.",
            )
                .into_response();
            let h = r.headers_mut();
            h.insert(
                header::WWW_AUTHENTICATE,
                "OAuth realm=\"jira-sim\"".parse().expect("valid header"),
            );
            if failed {
                h.insert(
                    "x-seraph-loginreason",
                    "AUTHENTICATED_FAILED".parse().expect("valid header"),
                );
            }
            r
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({"code": 401, "message": "Unauthorized"})),
        )
            .into_response(),
    }
}

/// The 401 of an account locked behind a CAPTCHA after too many failed logins (only a browser login
/// unlocks it in real life; clearing the faults does here).
pub fn captcha_locked(host: HostKind) -> Response {
    let mut r = unauthenticated(host, false);
    let h = r.headers_mut();
    h.insert(
        "x-seraph-loginreason",
        "AUTHENTICATION_DENIED".parse().expect("valid header"),
    );
    h.insert(
        "x-authentication-denied-reason",
        "CAPTCHA_CHALLENGE".parse().expect("valid header"),
    );
    r
}
