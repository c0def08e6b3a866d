//! The one middleware every route goes through: statistics, faults, host detection, authentication and the
//! answer headers Jira adds.

use axum::extract::{MatchedPath, Request, State as AxState};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::answer::{ApiError, captcha_locked};
use crate::app::App;
use crate::auth::{self, Auth};
use crate::host::HostKind;
use crate::request::Caller;

/// The one middleware: statistics, faults, host detection and authentication.
pub(super) async fn pipeline(AxState(app): AxState<App>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__sim/") {
        return next.run(req).await;
    }
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().clone();
    let response = serve(&app, req, &path, next).await;
    app.stats
        .record(&method, &route, response.status().as_u16());
    response
}

async fn serve(app: &App, mut req: Request, path: &str, next: Next) -> Response {
    let credential_key = auth::credential_key(req.headers());
    let method = req.method().clone();
    if let Some(response) = app
        .faults
        .before(method.as_str(), path, credential_key, &app.stats)
        .await
    {
        return response;
    }
    let host = HostKind::of_path(path);
    let origin = origin(req.headers());
    let base = match host {
        HostKind::Gateway => {
            let cloud = path
                .trim_start_matches("/ex/jira/")
                .split('/')
                .next()
                .unwrap_or("");
            if cloud != app.state.read().cloud_id {
                return ApiError::Gateway(StatusCode::NOT_FOUND, "Not Found").into_response();
            }
            format!("{origin}/ex/jira/{cloud}")
        }
        _ => origin.clone(),
    };
    let login = auth::basic_email(req.headers());
    if let Some(email) = &login
        && app.faults.captcha_locked(email)
    {
        return captcha_locked(host);
    }
    let auth = {
        let st = app.state.read();
        auth::authenticate(&st, req.headers(), host, crate::format::now_ms())
    };
    let auth = match auth {
        Ok(a) => a,
        Err(e) => {
            if let Some(email) = &login {
                app.faults.login_failed(email);
            }
            return e.into_response();
        }
    };
    let account = match &auth {
        Auth::User { user, .. } => Some(app.state.read().users[*user as usize].account_id.clone()),
        Auth::Anonymous => None,
    };
    req.extensions_mut().insert(Caller {
        host,
        auth,
        base,
        origin,
    });
    let mut response = next.run(req).await;
    if let Some(account) = account
        && response.status().is_success()
        && let Ok(v) = HeaderValue::from_str(&account)
    {
        response.headers_mut().insert("x-aaccountid", v);
    }
    app.faults.after(
        method.as_str(),
        path,
        credential_key,
        response.headers_mut(),
    );
    let n = app
        .request_counter
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Ok(v) = HeaderValue::from_str(&format!("{n:016x}")) {
        response.headers_mut().insert("x-arequestid", v.clone());
        response.headers_mut().insert("atl-traceid", v);
    }
    response
}

fn origin(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}
