//! The committed CRD YAML is exactly what the API types generate.

#[test]
fn committed_crds_match_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crds/jiracloud.io.yaml");
    let committed = std::fs::read_to_string(&path).expect("crds/jiracloud.io.yaml exists");
    let generated = jira_cloud_operator::api::crds_yaml();
    assert!(
        committed == generated,
        "crds/jiracloud.io.yaml is out of date: run `cargo run --bin crdgen` and commit the result"
    );
}

#[test]
fn the_charts_copy_of_the_crds_matches_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("charts/jira-cloud-operator/files/crds/jiracloud.io.yaml");
    let committed = std::fs::read_to_string(&path).expect("the chart's copy of the CRDs exists");
    assert!(
        committed == jira_cloud_operator::api::crds_yaml(),
        "{} is out of date: run `cargo run --bin crdgen` and commit the result",
        path.display()
    );
}

#[test]
fn every_resource_has_a_category_and_a_status_subresource() {
    for crd in jira_cloud_operator::api::crds() {
        assert_eq!(crd.spec.group, "jiracloud.io");
        assert_eq!(crd.spec.scope, "Namespaced");
        // JiraUsers, one per user of a site, have their own category so that `kubectl get jira` stays short.
        let category = match crd.spec.names.kind.as_str() {
            "JiraUser" => "jira-inventory",
            _ => "jira",
        };
        assert_eq!(
            crd.spec.names.categories.as_deref(),
            Some(&[category.to_string()][..])
        );
        assert!(
            crd.spec
                .names
                .short_names
                .as_ref()
                .is_some_and(|s| !s.is_empty())
        );
        let version = &crd.spec.versions[0];
        assert_eq!(version.name, "v1alpha1");
        assert!(
            version
                .subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some()
        );
        assert!(
            version
                .additional_printer_columns
                .as_ref()
                .is_some_and(|c| c.len() >= 4)
        );
    }
}
