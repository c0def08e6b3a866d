//! Accounts in the shapes Jira answers them: `User` (with its group and role wrappers on single-user
//! endpoints), the lighter listed user, and `UserDetails` for authors and members.

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::groups::group_name_json;
use super::roles::role_json;
use crate::state::{State, UserIx};

/// `avatarUrls` of an account.
pub(crate) fn avatar_urls(origin: &str, account_id: &str) -> Value {
    let u = |s: u32| Value::String(format!("{origin}/avatar/{account_id}?s={s}"));
    json!({"48x48": u(48), "24x24": u(24), "16x16": u(16), "32x32": u(32)})
}

fn put_email(st: &State, u: UserIx, m: &mut Map<String, Value>) {
    match st.users[u as usize].jira_email() {
        Some(Some(e)) => {
            m.insert("emailAddress".into(), Value::String(e.into()));
        }
        Some(None) => {
            m.insert("emailAddress".into(), Value::Null);
        }
        None => {}
    }
}

/// A user in the `User` shape. `full` adds the `groups` / `applicationRoles` wrappers (items listed when
/// `expand` holds `groups` / `applicationRoles`), as single-user endpoints do.
pub(crate) fn user_json(st: &State, base: &str, u: UserIx, expand: &[&str], full: bool) -> Value {
    let user = &st.users[u as usize];
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/user?accountId={}", user.account_id).into(),
    );
    m.insert("accountId".into(), user.account_id.clone().into());
    m.insert("accountType".into(), user.account_type.as_str().into());
    if let Some(t) = &user.app_type {
        m.insert("appType".into(), t.clone().into());
    }
    put_email(st, u, &mut m);
    m.insert("avatarUrls".into(), avatar_urls(base, &user.account_id));
    m.insert("displayName".into(), user.display_name.clone().into());
    m.insert("active".into(), user.active.into());
    m.insert("timeZone".into(), user.time_zone.clone().into());
    m.insert("locale".into(), "en_US".into());
    if !full {
        return Value::Object(m);
    }
    let groups: Vec<Value> = user
        .groups
        .iter()
        .map(|&g| group_name_json(base, &st.groups[g as usize]))
        .collect();
    let roles: Vec<Value> = st
        .user_products(u)
        .into_iter()
        .map(|k| role_json(st, base, k, false))
        .collect();
    let wrap = |items: Vec<Value>, expanded: bool| {
        let size = items.len();
        json!({"size": size, "items": if expanded { items } else { Vec::new() }, "max-results": 1000})
    };
    let eg = expand.contains(&"groups");
    let er = expand.contains(&"applicationRoles");
    m.insert("groups".into(), wrap(groups, eg));
    m.insert("applicationRoles".into(), wrap(roles, er));
    m.insert("expand".into(), "groups,applicationRoles".into());
    Value::Object(m)
}

/// A listed user in the `User` shape, serialised without building a JSON tree (user listings are the
/// bulkiest answers).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ListedUser<'a> {
    #[serde(rename = "self")]
    self_url: String,
    account_id: &'a str,
    account_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_type: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    email_address: Option<Option<&'a str>>,
    avatar_urls: Avatars,
    display_name: &'a str,
    active: bool,
    time_zone: &'a str,
    locale: &'static str,
}

#[derive(Serialize)]
struct Avatars {
    #[serde(rename = "48x48")]
    a48: String,
    #[serde(rename = "24x24")]
    a24: String,
    #[serde(rename = "16x16")]
    a16: String,
    #[serde(rename = "32x32")]
    a32: String,
}

pub(crate) fn listed_user<'a>(st: &'a State, base: &str, u: UserIx) -> ListedUser<'a> {
    let user = &st.users[u as usize];
    let avatar = |s: u32| format!("{base}/avatar/{}?s={s}", user.account_id);
    ListedUser {
        self_url: format!("{base}/rest/api/3/user?accountId={}", user.account_id),
        account_id: &user.account_id,
        account_type: user.account_type.as_str(),
        app_type: user.app_type.as_deref(),
        email_address: user.jira_email(),
        avatar_urls: Avatars {
            a48: avatar(48),
            a24: avatar(24),
            a16: avatar(16),
            a32: avatar(32),
        },
        display_name: &user.display_name,
        active: user.active,
        time_zone: &user.time_zone,
        locale: "en_US",
    }
}

/// A user in the `UserDetails` shape (authors, group members).
pub(crate) fn user_details(st: &State, base: &str, u: UserIx) -> Value {
    let user = &st.users[u as usize];
    let mut m = Map::new();
    m.insert(
        "self".into(),
        format!("{base}/rest/api/3/user?accountId={}", user.account_id).into(),
    );
    m.insert("accountId".into(), user.account_id.clone().into());
    m.insert("accountType".into(), user.account_type.as_str().into());
    put_email(st, u, &mut m);
    m.insert("avatarUrls".into(), avatar_urls(base, &user.account_id));
    m.insert("displayName".into(), user.display_name.clone().into());
    m.insert("active".into(), user.active.into());
    m.insert("timeZone".into(), user.time_zone.clone().into());
    Value::Object(m)
}

/// Optional author in the `UserDetails` shape.
pub(crate) fn author(st: &State, base: &str, u: Option<UserIx>) -> Option<Value> {
    u.map(|u| user_details(st, base, u))
}
