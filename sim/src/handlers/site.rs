//! Site-level endpoints: serverInfo, tenant_info, browse, and the HTML 404 of any other path.

use axum::extract::{Path, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::answer::{ApiResult, ok};
use crate::app::{App, read};
use crate::format::{jira_date, now_ms};
use crate::request::Caller;

/// `GET /rest/api/{2,3}/serverInfo` — anonymous allowed; `deploymentType` switchable to Server.
pub(crate) async fn server_info(AxState(app): AxState<App>, caller: Caller) -> ApiResult {
    let now = now_ms();
    if let Some(kind) = app.faults.deployment_type() {
        return ok(json!({
            "baseUrl": caller.origin, "version": "9.12.7", "versionNumbers": [9, 12, 7],
            "deploymentType": kind, "buildNumber": 9120007, "databaseBuildNumber": 9120007,
            "buildDate": "2024-03-01T00:00:00.000+0000", "serverTime": jira_date(now),
            "scmInfo": "0d5c3fb4a3f2", "serverTitle": "Example JIRA",
        }));
    }
    ok(json!({
        "baseUrl": caller.origin,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100290,
        "buildDate": jira_date(now - 2 * 86_400_000),
        "serverTime": jira_date(now),
        "scmInfo": "1f51473f5c7b0d4b9e1a",
        "serverTitle": "Jira",
        "serverTimeZone": "Etc/UTC",
    }))
}

/// `GET /_edge/tenant_info` — unauthenticated `{"cloudId": ...}`; 404 when disguised as Server.
pub(crate) async fn tenant_info(AxState(app): AxState<App>) -> Response {
    if app.faults.deployment_type().is_some() {
        return not_found().await;
    }
    axum::Json(json!({"cloudId": read(&app, |st| st.cloud_id.clone())})).into_response()
}

/// `GET /browse/{key}` — a minimal HTML page for an issue.
pub(crate) async fn browse(AxState(app): AxState<App>, Path(key): Path<String>) -> Response {
    let page = read(&app, |st| {
        st.issue_ref(&key).map(|ix| {
            let i = st.issue(ix);
            let summary = i.summary.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
            format!(
                "<html><head><title>[{}] {summary}</title></head><body><h1>{summary}</h1></body></html>",
                i.key
            )
        })
    });
    match page {
        Some(html) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
            html,
        )
            .into_response(),
        None => not_found().await,
    }
}

/// The HTML 404 of the site for a path it does not serve.
pub(crate) async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html;charset=UTF-8")],
        "<html><body>Not Found</body></html>",
    )
        .into_response()
}
