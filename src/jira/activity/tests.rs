use super::*;
use chrono::TimeZone;

#[test]
fn relative_minutes() {
    let now = Utc.with_ymd_and_hms(2026, 10, 29, 1, 0, 0).unwrap();
    let since = Utc.with_ymd_and_hms(2026, 10, 29, 0, 0, 1).unwrap();
    assert_eq!(minutes_back(now, since), 60 + 5);
    assert_eq!(minutes_back(now, now), 5);
    assert_eq!(minutes_back(since, now), 5);
}

#[test]
fn ids_as_strings_or_numbers() {
    #[derive(Deserialize)]
    struct T {
        #[serde(deserialize_with = "de_id")]
        id: u64,
    }
    assert_eq!(
        serde_json::from_str::<T>(r#"{"id":"10042"}"#).unwrap().id,
        10042
    );
    assert_eq!(serde_json::from_str::<T>(r#"{"id":103}"#).unwrap().id, 103);
    assert!(serde_json::from_str::<T>(r#"{"id":"ENG-1"}"#).is_err());
}

#[test]
fn embedded_comments_only_when_complete() {
    let comment = |at: &str| {
        serde_json::json!({"author": {"accountId": "a"}, "updateAuthor": {"accountId": "b"},
                           "created": at, "updated": "2026-11-02T10:00:00.000+0000"})
    };
    let fields = |page: serde_json::Value| serde_json::json!({ "comment": page });
    let two = vec![
        comment("2026-11-01T10:00:00.000+0000"),
        comment("not a date"),
    ];
    let full = complete_comments(&fields(
        serde_json::json!({"comments": two, "total": 2, "maxResults": 2, "startAt": 0}),
    ))
    .expect("a complete page");
    assert_eq!(
        full.len(),
        1,
        "a comment without a creation time is skipped"
    );
    assert_eq!(full[0].author.as_deref(), Some("a"));
    assert_eq!(full[0].update_author.as_deref(), Some("b"));
    assert_eq!(
        full[0].created,
        Utc.with_ymd_and_hms(2026, 11, 1, 10, 0, 0).unwrap()
    );
    let empty = serde_json::json!({"comments": [], "total": 0, "maxResults": 0, "startAt": 0});
    assert_eq!(complete_comments(&fields(empty)), Some(Vec::new()));
    for unusable in [
        // Truncated: more comments than embedded.
        serde_json::json!({"comments": two, "total": 3, "maxResults": 2, "startAt": 0}),
        serde_json::json!({"comments": two, "total": 2, "maxResults": 2, "startAt": 1}),
        serde_json::json!({"comments": two, "maxResults": 2, "startAt": 0}),
        serde_json::json!({"comments": two, "total": -1, "startAt": 0}),
        serde_json::json!({"comments": two, "total": 2}),
        serde_json::json!({"total": 0, "startAt": 0}),
        serde_json::json!({"comments": {"a": 1}, "total": 0, "startAt": 0}),
        serde_json::json!({"comments": [1], "total": 1, "startAt": 0}),
        serde_json::json!(null),
        serde_json::json!("comments"),
    ] {
        assert_eq!(
            complete_comments(&fields(unusable.clone())),
            None,
            "{unusable}"
        );
    }
    assert_eq!(complete_comments(&serde_json::json!({})), None);
    assert_eq!(complete_comments(&serde_json::json!(null)), None);
    assert_eq!(complete_comments(&serde_json::json!([1, 2])), None);
}
