//! Every authentication path: classic and scoped API tokens on both hosts, OAuth client credentials
//! with expiring tokens, Admin API keys, missing scopes, anonymous callers, missing permissions.

use std::time::Duration;

use crate::common::*;
use jira_sim::SimConfig;
use jira_sim::scenario::{OAuthClientSpec, default_scenario};
use serde_json::json;

#[tokio::test]
async fn classic_token_works_on_site_and_gateway_and_names_the_caller() {
    let sim = start().await;
    for url in [sim.url("/rest/api/3/myself"), sim.gw("/rest/api/3/myself")] {
        let r = sim.send("GET", &url, &Who::Admin, None).await;
        assert_eq!(r.status, 200, "{url}");
        assert_eq!(r.json()["accountId"], ADMIN_ID);
        assert_eq!(r.header("x-aaccountid").as_deref(), Some(ADMIN_ID));
        assert!(r.header("x-arequestid").is_some() && r.header("atl-traceid").is_some());
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn scoped_token_is_rejected_on_the_site_host_like_a_wrong_token() {
    let sim = start().await;
    let scoped = sim.get(&Who::Scoped, "/rest/api/3/myself").await;
    let wrong = sim
        .get(
            &Who::Basic("admin@example.com".into(), "nope".into()),
            "/rest/api/3/myself",
        )
        .await;
    for r in [&scoped, &wrong] {
        assert_eq!(r.status, 401);
        assert_eq!(
            r.text,
            "Client must be authenticated to access this resource."
        );
        assert_eq!(
            r.header("x-seraph-loginreason").as_deref(),
            Some("AUTHENTICATED_FAILED")
        );
        assert!(r.header("www-authenticate").is_some());
    }
    let gw = sim
        .send("GET", &sim.gw("/rest/api/3/myself"), &Who::Scoped, None)
        .await;
    assert_eq!(gw.status, 200);
    let wrong_gw = sim
        .send(
            "GET",
            &sim.gw("/rest/api/3/myself"),
            &Who::Basic("admin@example.com".into(), "nope".into()),
            None,
        )
        .await;
    assert_eq!(wrong_gw.status, 401);
    assert_eq!(
        wrong_gw.json(),
        json!({"code": 401, "message": "Unauthorized"})
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn anonymous_callers_get_empty_results_where_jira_does_that() {
    let sim = start().await;
    assert_eq!(sim.get(&Who::Anon, "/rest/api/3/myself").await.status, 401);
    assert_eq!(
        sim.get(&Who::Anon, "/rest/api/3/user?accountId=x")
            .await
            .status,
        401
    );
    let users = sim.get(&Who::Anon, "/rest/api/3/users/search").await;
    assert_eq!((users.status, users.json()), (200, json!([])));
    let search = sim.get(&Who::Anon, "/rest/api/3/user/search?query=a").await;
    assert_eq!((search.status, search.json()), (200, json!([])));
    let jql = sim
        .get(&Who::Anon, "/rest/api/3/search/jql?jql=project%3DENG")
        .await;
    assert_eq!(jql.status, 200);
    assert_eq!(jql.json()["issues"], json!([]));
    let count = sim
        .post(
            &Who::Anon,
            "/rest/api/3/search/approximate-count",
            json!({"jql": "project = ENG"}),
        )
        .await;
    assert_eq!(count.json(), json!({"count": 0}));
    assert_eq!(
        sim.get(&Who::Anon, "/rest/api/2/serverInfo").await.status,
        200
    );
    assert!(
        sim.get(&Who::Anon, "/rest/api/3/myself")
            .await
            .header("x-seraph-loginreason")
            .is_none()
    );
    // The gateway never serves anonymous callers.
    let gw = sim
        .send("GET", &sim.gw("/rest/api/3/users/search"), &Who::Anon, None)
        .await;
    assert_eq!(gw.status, 401);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn unprivileged_accounts_get_403_on_admin_endpoints_and_empty_user_search() {
    let sim = start().await;
    for path in [
        "/rest/api/3/applicationrole".to_string(),
        "/rest/api/3/applicationrole/jira-software".to_string(),
        format!("/rest/api/3/group/member?groupId={SOFTWARE_GROUP}"),
        "/rest/api/3/group/bulk".to_string(),
        "/rest/api/3/users/search".to_string(),
        format!("/rest/api/3/user?accountId={MIA}"),
        format!("/rest/api/3/user/groups?accountId={MIA}"),
    ] {
        let r = sim.get(&Who::Viewer, &path).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        let body = r.json();
        assert!(
            body["errorMessages"][0]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{path}"
        );
        assert_eq!(body["errors"], json!({}));
    }
    let search = sim
        .get(&Who::Viewer, "/rest/api/3/user/search?query=mia")
        .await;
    assert_eq!((search.status, search.json()), (200, json!([])));
    let admin_search = sim
        .get(&Who::Admin, "/rest/api/3/user/search?query=mia")
        .await;
    assert_eq!(admin_search.json().as_array().unwrap().len(), 1);
    // The viewer still reaches what any Jira user may call.
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/myself").await.status,
        200
    );
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/instance/license")
            .await
            .status,
        200
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn oauth_client_credentials_issue_bearer_tokens_for_the_gateway_only() {
    let sim = start().await;
    let form = sim
        .client
        .post(sim.url("/oauth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            "grant_type=client_credentials&client_id=sim-client-id&client_secret=sim-client-secret",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let body: serde_json::Value = form.json().await.unwrap();
    assert_eq!(body["expires_in"], 3600);
    assert_eq!(body["token_type"], "Bearer");
    let token = body["access_token"].as_str().unwrap().to_string();
    let me = sim
        .send(
            "GET",
            &sim.gw("/rest/api/3/myself"),
            &Who::Bearer(token.clone()),
            None,
        )
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["accountType"], "app");
    // Bearer tokens are not accepted on the site host.
    assert_eq!(
        sim.get(&Who::Bearer(token.clone()), "/rest/api/3/myself")
            .await
            .status,
        401
    );
    let res = sim
        .get(&Who::Bearer(token), "/oauth/token/accessible-resources")
        .await;
    assert_eq!(res.json()[0]["id"], CLOUD);
    assert_eq!(
        sim.get(
            &Who::Bearer("garbage".into()),
            "/oauth/token/accessible-resources"
        )
        .await
        .status,
        401
    );

    let bad = json!({"grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "x"});
    let r = sim.post(&Who::Anon, "/oauth/token", bad).await;
    assert_eq!(r.status, 401);
    assert_eq!(
        r.json(),
        json!({"error": "access_denied", "error_description": "Unauthorized"})
    );
    let grant = json!({"grant_type": "authorization_code", "client_id": "sim-client-id", "client_secret": "sim-client-secret"});
    assert_eq!(
        sim.post(&Who::Anon, "/oauth/token", grant).await.status,
        403
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn expired_tokens_get_401_and_a_new_token_works() {
    let sim = start_with(SimConfig {
        token_lifetime: Duration::from_secs(1),
        ..SimConfig::default()
    })
    .await;
    let body = json!({"grant_type": "client_credentials", "client_id": "sim-client-id", "client_secret": "sim-client-secret"});
    let r = sim.post(&Who::Anon, "/oauth/token", body).await;
    assert_eq!(r.json()["expires_in"], 1);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    let url = sim.gw("/rest/api/3/myself");
    assert_eq!(
        sim.send("GET", &url, &Who::Bearer(token.clone()), None)
            .await
            .status,
        200
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let expired = sim.send("GET", &url, &Who::Bearer(token), None).await;
    assert_eq!(expired.status, 401);
    assert_eq!(
        expired.json(),
        json!({"code": 401, "message": "Unauthorized"})
    );
    let fresh = sim.oauth_token().await;
    assert_eq!(
        sim.send("GET", &url, &Who::Bearer(fresh.clone()), None)
            .await
            .status,
        200
    );
    // The control plane expires tokens at once.
    assert_eq!(
        sim.post(&Who::Anon, "/__sim/oauth/expire", json!({}))
            .await
            .status,
        200
    );
    assert_eq!(
        sim.send("GET", &url, &Who::Bearer(fresh), None)
            .await
            .status,
        401
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn tokens_without_a_scope_get_the_gateway_scope_error() {
    let mut scenario = default_scenario();
    scenario.credentials.oauth_clients.push(OAuthClientSpec {
        client_id: "reader".into(),
        client_secret: "reader-secret".into(),
        account: "sim-service-account".into(),
        scopes: vec!["read:jira-user".into()],
    });
    let sim = start_with(SimConfig {
        scenario,
        ..SimConfig::default()
    })
    .await;
    let body = json!({"grant_type": "client_credentials", "client_id": "reader", "client_secret": "reader-secret"});
    let r = sim.post(&Who::Anon, "/oauth/token", body).await;
    assert_eq!(r.json()["scope"], "read:jira-user");
    let token = Who::Bearer(r.json()["access_token"].as_str().unwrap().to_string());
    assert_eq!(
        sim.send("GET", &sim.gw("/rest/api/3/users/search"), &token, None)
            .await
            .status,
        200
    );
    for path in [
        "/rest/api/3/applicationrole",
        "/rest/api/3/search/jql?jql=project%3DENG",
    ] {
        let r = sim.send("GET", &sim.gw(path), &token, None).await;
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(
            r.json(),
            json!({"code": 401, "message": "Unauthorized; scope does not match"})
        );
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn admin_api_takes_bearer_keys_only() {
    let sim = start().await;
    let key = Who::Bearer("sim-admin-key".into());
    assert_eq!(
        sim.get(&key, "/admin/v1/orgs").await.json()["data"][0]["id"],
        ORG
    );
    for who in [Who::Anon, Who::Admin, Who::Bearer("other-key".into())] {
        let r = sim.get(&who, &format!("/admin/v1/orgs/{ORG}/users")).await;
        assert_eq!(r.status, 401, "{who:?}");
        assert_eq!(r.json(), json!({"code": 401, "message": "Unauthorized"}));
    }
    let token = sim.oauth_token().await;
    assert_eq!(
        sim.get(&Who::Bearer(token), "/admin/v1/orgs").await.status,
        401
    );
    let wrong_org = sim.get(&key, "/admin/v1/orgs/not-my-org/users").await;
    assert_eq!(wrong_org.status, 404);
    assert_eq!(wrong_org.json()["errors"][0]["code"], "ADMIN-404-2");
    let r = sim.get(&key, &format!("/admin/v1/orgs/{ORG}/users")).await;
    assert!(r.header("x-ratelimit-limit").is_some() && r.header("x-ratelimit-reset").is_some());
    // The admin key is not a Jira credential.
    assert_eq!(
        sim.send("GET", &sim.gw("/rest/api/3/myself"), &key, None)
            .await
            .status,
        401
    );
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn gateway_checks_the_cloud_id() {
    let sim = start().await;
    let r = sim
        .send(
            "GET",
            &sim.url("/ex/jira/not-the-cloud/rest/api/3/myself"),
            &Who::Admin,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn paths_outside_the_route_table_are_the_sites_html_404() {
    let sim = start().await;
    let site = sim.get(&Who::Admin, "/rest/api/3/no-such-resource").await;
    let gateway = sim
        .send(
            "GET",
            &sim.gw("/rest/api/3/no-such-resource"),
            &Who::Admin,
            None,
        )
        .await;
    let anonymous = sim.get(&Who::Anon, "/no/such/path").await;
    for r in [site, gateway, anonymous] {
        assert_eq!(r.status, 404);
        assert_eq!(
            r.header("content-type").as_deref(),
            Some("text/html;charset=UTF-8")
        );
        assert_eq!(r.text, "<html><body>Not Found</body></html>");
    }
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn deactivated_accounts_cannot_authenticate() {
    let sim = start().await;
    sim.handle.with_state(|st| {
        let u = st.user_ref("viewer@example.com").unwrap();
        st.users[u as usize].active = false;
    });
    assert_eq!(
        sim.get(&Who::Viewer, "/rest/api/3/myself").await.status,
        401
    );
    sim.handle.shutdown().await;
}
