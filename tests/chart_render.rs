//! The Helm chart, rendered without a cluster: `helm lint` and `helm template` with every values file under
//! `ci/` (through `hack/chart-check.sh`, the script CI also runs), then what the rendered manifests promise:
//! the hardened security context, least-privilege RBAC in both scopes, leader election on with two replicas,
//! the CRDs equal to the generated ones, the optional resources, and settings that the binary understands.

use serde_json::{Value, json};
use std::{collections::BTreeSet, process::Command};
use testkit::tools::{chart_dir, helm, helm_template};

/// The rendered objects as JSON values.
fn objects(manifests: &str) -> Vec<Value> {
    testkit::parse_manifests(manifests)
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("serializes"))
        .collect()
}

fn kinds(objects: &[Value]) -> Vec<String> {
    objects
        .iter()
        .map(|o| o["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn one<'a>(objects: &'a [Value], kind: &str) -> &'a Value {
    let found: Vec<&Value> = objects.iter().filter(|o| o["kind"] == kind).collect();
    assert_eq!(found.len(), 1, "expected one {kind}, found {}", found.len());
    found[0]
}

/// The operator's own ClusterRole (the others are the tenant roles aggregated into view and edit).
fn operator_cluster_role(objects: &[Value]) -> &Value {
    let found: Vec<&Value> = all(objects, "ClusterRole")
        .into_iter()
        .filter(|r| {
            r["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"].is_null()
        })
        .filter(|r| {
            r["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"].is_null()
        })
        .collect();
    assert_eq!(found.len(), 1, "expected the operator's ClusterRole");
    found[0]
}

fn all<'a>(objects: &'a [Value], kind: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["kind"] == kind).collect()
}

fn container(objects: &[Value]) -> &Value {
    &one(objects, "Deployment")["spec"]["template"]["spec"]["containers"][0]
}

fn env(objects: &[Value], name: &str) -> Option<String> {
    container(objects)["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str())
        .map(str::to_string)
}

/// Every (apiGroup, resource, verb) a set of RBAC rules grants.
fn grants(rules: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for rule in rules.as_array().expect("rules") {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    out.insert((
                        group.as_str().unwrap().to_string(),
                        resource.as_str().unwrap().to_string(),
                        verb.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out
}

/// The value with every number as a float (YAML round trips turn `0.0` into `0`).
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(n) => json!(n.as_f64().expect("a finite number")),
        Value::Array(items) => Value::Array(items.into_iter().map(numbers_as_floats).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, numbers_as_floats(v)))
                .collect(),
        ),
        other => other,
    }
}

fn values_file(name: &str) -> String {
    chart_dir().join("ci").join(name).display().to_string()
}

#[test]
fn chart_check_script_lints_and_renders_every_values_file() {
    let out_dir = tempfile::tempdir().unwrap();
    let helm_bin = testkit::tools::tool("helm");
    let out = Command::new("bash")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("hack/chart-check.sh"))
        .env("HELM", helm_bin)
        .env("CHART_RENDER_DIR", out_dir.path())
        .output()
        .expect("run hack/chart-check.sh");
    assert!(
        out.status.success(),
        "hack/chart-check.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered: BTreeSet<String> = std::fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let expected: BTreeSet<String> = std::fs::read_dir(chart_dir().join("ci"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .replace("-values.yaml", ".yaml")
        })
        .collect();
    assert_eq!(rendered, expected);
    for file in rendered {
        let text = std::fs::read_to_string(out_dir.path().join(&file)).unwrap();
        assert!(
            kinds(&objects(&text)).contains(&"Deployment".to_string()),
            "{file} has no Deployment"
        );
    }
}

#[test]
fn values_the_schema_rejects_fail_to_render() {
    let chart = chart_dir();
    for bad in [
        "image.tag=latest",
        "logFormat=xml",
        "leaderElection.enabled=maybe",
        "concurrency=0",
        "watchNamespaces[0]=Not_A_Namespace",
        "unknownKey=1",
    ] {
        let out = helm(&["template", "x", chart.to_str().unwrap(), "--set", bad]);
        assert!(!out.status.success(), "--set {bad} rendered");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("schema"),
            "--set {bad}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn defaults_are_cluster_wide_hardened_and_single_replica() {
    let objects = objects(&helm_template("jco", "jira-operator", &[]));
    let kinds = kinds(&objects);
    for kind in [
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "Service",
        "Deployment",
    ] {
        assert!(kinds.contains(&kind.to_string()), "no {kind} in {kinds:?}");
    }
    for kind in [
        "Role",
        "RoleBinding",
        "ServiceMonitor",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "ConfigMap",
    ] {
        assert!(
            !kinds.contains(&kind.to_string()),
            "unexpected {kind} by default"
        );
    }

    let deployment = one(&objects, "Deployment");
    assert_eq!(deployment["spec"]["replicas"], 1);
    assert_eq!(
        deployment["spec"]["strategy"]["type"], "Recreate",
        "no rollout surge without leader election"
    );
    let pod = &deployment["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(pod["serviceAccountName"], "jco-jira-cloud-operator");
    let c = container(&objects);
    let security = &c["securityContext"];
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["runAsNonRoot"], true);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    assert!(
        c["resources"]["requests"]["cpu"].is_string()
            && c["resources"]["requests"]["memory"].is_string()
    );
    assert_eq!(
        c["image"],
        "ghcr.io/jira-cloud-operator/jira-cloud-operator:0.1.0"
    );
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(env(&objects, "JCO_LEADER_ELECT").as_deref(), Some("false"));
    assert_eq!(env(&objects, "JCO_WATCH_NAMESPACES").as_deref(), Some(""));
    assert_eq!(env(&objects, "JCO_LOG_FORMAT").as_deref(), Some("json"));
    assert_eq!(
        env(&objects, "JCO_ACTION_CONCURRENCY").as_deref(),
        Some("256")
    );

    // Cluster-wide RBAC: exactly what the controllers call, nothing on CRDs, Secrets read one by one (never listed
    // or watched cluster-wide).
    let role = operator_cluster_role(&objects);
    let granted = grants(&role["rules"]);
    let expected: BTreeSet<(String, String, String)> = [
        ("jiracloud.io", "jiraconnections", "get list watch"),
        // License policies create the JiraActions of their runs.
        (
            "jiracloud.io",
            "jiraactions",
            "get list watch create delete",
        ),
        (
            "jiracloud.io",
            "jiralicensepolicies",
            "get list watch patch",
        ),
        ("jiracloud.io", "jiraconnections/status", "get patch"),
        ("jiracloud.io", "jiraactions/status", "get patch"),
        ("jiracloud.io", "jiralicensepolicies/status", "get patch"),
        // JiraUsers block their connection's deletion, and a policy's JiraActions the policy's
        // (OwnerReferencesPermissionEnforcement).
        ("jiracloud.io", "jiraconnections/finalizers", "update"),
        ("jiracloud.io", "jiralicensepolicies/finalizers", "update"),
        (
            "jiracloud.io",
            "jirausers",
            "get list watch create update patch delete deletecollection",
        ),
        ("", "secrets", "get"),
        ("events.k8s.io", "events", "create patch"),
        ("", "configmaps", "get create patch delete"),
    ]
    .into_iter()
    .flat_map(|(g, r, verbs)| {
        verbs
            .split(' ')
            .map(move |v| (g.to_string(), r.to_string(), v.to_string()))
    })
    .collect();
    assert_eq!(granted, expected);
    let binding = one(&objects, "ClusterRoleBinding");
    assert_eq!(binding["subjects"][0]["name"], "jco-jira-cloud-operator");
    assert_eq!(binding["subjects"][0]["namespace"], "jira-operator");
}

#[test]
fn rendered_crds_are_the_generated_ones_and_kept_on_uninstall() {
    let objects = objects(&helm_template("jco", "jira-operator", &[]));
    let crds = all(&objects, "CustomResourceDefinition");
    let generated = jira_cloud_operator::api::crds();
    assert_eq!(crds.len(), generated.len());
    for (rendered, generated) in crds.iter().zip(&generated) {
        let generated = serde_json::to_value(generated).unwrap();
        assert_eq!(rendered["metadata"]["name"], generated["metadata"]["name"]);
        assert!(
            numbers_as_floats(rendered["spec"].clone())
                == numbers_as_floats(generated["spec"].clone()),
            "the chart changed the schema of {}",
            generated["metadata"]["name"]
        );
        assert_eq!(
            rendered["metadata"]["annotations"]["helm.sh/resource-policy"],
            "keep"
        );
        assert_eq!(
            rendered["metadata"]["labels"]["app.kubernetes.io/managed-by"],
            "Helm"
        );
    }
    let not_kept = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "crds.keep=false"],
    ));
    for crd in all(&not_kept, "CustomResourceDefinition") {
        assert!(crd["metadata"]["annotations"]["helm.sh/resource-policy"].is_null());
    }
    let none = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "crds.install=false"],
    ));
    assert!(all(&none, "CustomResourceDefinition").is_empty());
}

#[test]
fn namespace_scoped_ha_install_uses_roles_a_lease_and_every_optional_resource() {
    let objects = objects(&helm_template(
        "jco",
        "jira-operator",
        &["-f", &values_file("namespaced-ha-values.yaml")],
    ));
    let kinds = kinds(&objects);
    assert!(!kinds.contains(&"ClusterRoleBinding".to_string()));
    assert!(
        all(&objects, "ClusterRole").iter().all(
            |r| r["metadata"]["labels"]["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
        ),
        "only the tenants' aggregated view role is cluster-wide"
    );

    // One Role and RoleBinding per watched namespace, with the rules of the cluster-wide install, except that
    // Secrets of a watched namespace may be listed and watched there (their changes take effect at once).
    let mut cluster_rules = grants(
        &operator_cluster_role(&self::objects(&helm_template("jco", "jira-operator", &[])))["rules"],
    );
    for verb in ["list", "watch"] {
        cluster_rules.insert(("".into(), "secrets".into(), verb.into()));
    }
    let roles = all(&objects, "Role");
    let watched: BTreeSet<&str> = roles
        .iter()
        .filter(|r| r["metadata"]["namespace"] != "jira-operator")
        .map(|r| r["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(watched, BTreeSet::from(["team-a", "team-b"]));
    for role in roles
        .iter()
        .filter(|r| r["metadata"]["namespace"] != "jira-operator")
    {
        assert_eq!(grants(&role["rules"]), cluster_rules);
    }
    assert_eq!(all(&objects, "RoleBinding").len(), 3);

    // Leader election: on because replicaCount is 2, with a Lease Role limited to the release namespace.
    let lease_role = roles
        .iter()
        .find(|r| r["metadata"]["namespace"] == "jira-operator")
        .expect("the leader-election Role");
    let lease_grants = grants(&lease_role["rules"]);
    assert!(
        lease_grants
            .iter()
            .all(|(g, r, _)| g == "coordination.k8s.io" && r == "leases"),
        "{lease_grants:?}"
    );
    assert_eq!(
        lease_role["rules"][1]["resourceNames"],
        json!(["jco-jira-cloud-operator"])
    );
    assert_eq!(env(&objects, "JCO_LEADER_ELECT").as_deref(), Some("true"));
    assert_eq!(
        one(&objects, "Deployment")["spec"]["strategy"]["type"],
        "RollingUpdate"
    );
    assert_eq!(
        env(&objects, "JCO_LEADER_ELECTION_NAMESPACE").as_deref(),
        Some("jira-operator")
    );
    assert_eq!(
        env(&objects, "JCO_LEADER_ELECTION_ID").as_deref(),
        Some("jco-jira-cloud-operator")
    );
    assert_eq!(
        env(&objects, "JCO_WATCH_NAMESPACES").as_deref(),
        Some("team-a,team-b")
    );
    assert_eq!(
        env(&objects, "HTTPS_PROXY").as_deref(),
        Some("http://proxy.example:3128")
    );
    let image = container(&objects)["image"].as_str().unwrap().to_string();
    assert!(
        image.ends_with("@sha256:0000000000000000000000000000000000000000000000000000000000000000"),
        "{image}"
    );

    let monitor = one(&objects, "ServiceMonitor");
    assert_eq!(monitor["spec"]["endpoints"][0]["port"], "metrics");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(
        one(&objects, "PodDisruptionBudget")["spec"]["minAvailable"],
        1
    );
    let policy = one(&objects, "NetworkPolicy");
    assert_eq!(policy["spec"]["policyTypes"], json!(["Ingress", "Egress"]));
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], 8080);
    let egress_ports: Vec<i64> = policy["spec"]["egress"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            r["ports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["port"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(egress_ports, [53, 53, 443, 6443, 443]);

    let dashboard = one(&objects, "ConfigMap");
    assert_eq!(dashboard["metadata"]["labels"]["grafana_dashboard"], "1");
    let json_text = dashboard["data"]["jira-cloud-operator.json"]
        .as_str()
        .expect("the dashboard JSON");
    let dashboard: Value = serde_json::from_str(json_text).expect("valid JSON");
    assert!(dashboard["panels"].as_array().is_some_and(|p| p.len() >= 8));
}

#[test]
fn bring_your_own_crds_and_rbac_renders_neither_and_still_elects_a_leader() {
    let objects = objects(&helm_template(
        "jco",
        "jira-operator",
        &["-f", &values_file("bring-your-own-values.yaml")],
    ));
    let kinds = kinds(&objects);
    for kind in [
        "CustomResourceDefinition",
        "ServiceAccount",
        "ClusterRole",
        "Role",
        "RoleBinding",
        "ClusterRoleBinding",
    ] {
        assert!(!kinds.contains(&kind.to_string()), "unexpected {kind}");
    }
    assert_eq!(one(&objects, "Deployment")["spec"]["replicas"], 1);
    assert_eq!(
        one(&objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"],
        "jira-operator"
    );
    assert_eq!(env(&objects, "JCO_LEADER_ELECT").as_deref(), Some("true"));
    assert_eq!(
        env(&objects, "JCO_LEADER_ELECTION_ID").as_deref(),
        Some("jira-operator-leader")
    );
    assert_eq!(env(&objects, "JCO_LEASE_DURATION").as_deref(), Some("30s"));
    // Leader election can be turned off even with several replicas.
    let off = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &[
            "--set",
            "replicaCount=3",
            "--set",
            "leaderElection.enabled=false",
        ],
    ));
    assert_eq!(env(&off, "JCO_LEADER_ELECT").as_deref(), Some("false"));
}

#[test]
fn every_setting_the_chart_passes_is_a_flag_of_the_binary() {
    let help = Command::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
        .arg("--help")
        .output()
        .expect("run --help");
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    let mut checked = 0;
    for values in [
        "default-values.yaml",
        "namespaced-ha-values.yaml",
        "bring-your-own-values.yaml",
        "production-values.yaml",
    ] {
        let objects = objects(&helm_template(
            "jco",
            "jira-operator",
            &["-f", &values_file(values)],
        ));
        for var in container(&objects)["env"].as_array().unwrap() {
            let name = var["name"].as_str().unwrap();
            if name.starts_with("JCO_") {
                assert!(
                    help.contains(&format!("[env: {name}=")),
                    "--help documents no {name}:\n{help}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 20, "only {checked} settings checked");
}
