//! The chart's conventions for production installs, rendered without a cluster (`ci/production-values.yaml`
//! and `--set`): extra flags, volumes, objects and labels; the CA bundle and proxy settings; a PDB that never
//! blocks a drain at one replica; the tenants' aggregated roles; and the Artifact Hub metadata of `Chart.yaml`.

use serde_json::{Value, json};
use testkit::tools::{chart_dir, helm, helm_template};

fn objects(manifests: &str) -> Vec<Value> {
    testkit::parse_manifests(manifests)
        .into_iter()
        .map(|o| serde_json::to_value(o).expect("serializes"))
        .collect()
}

fn find<'a>(objects: &'a [Value], kind: &str, name: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

fn production() -> Vec<Value> {
    let values = chart_dir().join("ci/production-values.yaml");
    objects(&helm_template(
        "jco",
        "jira-operator",
        &["-f", values.to_str().unwrap()],
    ))
}

fn env<'a>(container: &'a Value, name: &str) -> Option<&'a str> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)?["value"]
        .as_str()
}

/// `helm template` with `args`; the error text when it fails.
fn render_error(args: &[&str]) -> Option<String> {
    let chart = chart_dir();
    let mut all = vec!["template", "jco", chart.to_str().unwrap()];
    all.extend_from_slice(args);
    let out = helm(&all);
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn extra_flags_volumes_objects_and_labels_render() {
    let objects = production();
    // Every object of the chart (extraObjects are the user's own).
    for o in objects
        .iter()
        .filter(|o| o["metadata"]["name"] != "corporate-ca")
    {
        assert_eq!(
            o["metadata"]["labels"]["example.com/cost-center"], "it-saas",
            "commonLabels missing on {} {}",
            o["kind"], o["metadata"]["name"]
        );
    }
    let deployment = find(&objects, "Deployment", "jco-jira-cloud-operator");
    let pod = &deployment["spec"]["template"]["spec"];
    assert!(
        deployment["spec"]["selector"]["matchLabels"]["example.com/cost-center"].is_null(),
        "commonLabels stay out of the selector"
    );
    let container = &pod["containers"][0];
    assert_eq!(
        container["args"],
        json!(["--log-level=info,jira_cloud_operator=debug"])
    );
    let mounts = container["volumeMounts"].as_array().unwrap();
    assert!(
        mounts
            .iter()
            .any(|m| m["name"] == "scratch" && m["mountPath"] == "/scratch")
    );
    let volumes = pod["volumes"].as_array().unwrap();
    assert!(
        volumes
            .iter()
            .any(|v| v["name"] == "scratch" && v["emptyDir"].is_object())
    );

    // extraObjects, rendered with tpl.
    let ca = find(&objects, "ConfigMap", "corporate-ca");
    assert!(
        ca["data"]["ca.crt"]
            .as_str()
            .unwrap()
            .contains("BEGIN CERTIFICATE")
    );
    assert_eq!(ca["metadata"]["labels"]["release"], "jco");

    // Without them, nothing extra.
    let plain = self::objects(&helm_template("jco", "jira-operator", &[]));
    let c = &find(&plain, "Deployment", "jco-jira-cloud-operator")["spec"]["template"]["spec"];
    assert!(c["containers"][0]["args"].is_null() && c["volumes"].is_null());
    assert!(c["containers"][0]["volumeMounts"].is_null());
}

#[test]
fn a_ca_bundle_is_mounted_and_passed_and_the_proxy_set() {
    let objects = production();
    let pod = &find(&objects, "Deployment", "jco-jira-cloud-operator")["spec"]["template"]["spec"];
    let container = &pod["containers"][0];
    assert_eq!(
        env(container, "JCO_CA_BUNDLE"),
        Some("/etc/jira-cloud-operator/ca/ca.crt")
    );
    assert_eq!(
        env(container, "HTTPS_PROXY"),
        Some("http://proxy.corp.example:3128")
    );
    assert_eq!(
        env(container, "NO_PROXY"),
        Some("kubernetes.default.svc,10.96.0.1")
    );
    let mount = container["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "ca-bundle")
        .expect("the CA bundle mount");
    assert_eq!(mount["mountPath"], "/etc/jira-cloud-operator/ca");
    assert_eq!(mount["readOnly"], true);
    let volume = pod["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "ca-bundle")
        .unwrap();
    assert_eq!(volume["configMap"]["name"], "corporate-ca");

    let from_secret = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &[
            "--set",
            "caBundle.secretName=corp-ca",
            "--set",
            "caBundle.key=bundle.pem",
        ],
    ));
    let pod =
        &find(&from_secret, "Deployment", "jco-jira-cloud-operator")["spec"]["template"]["spec"];
    assert_eq!(pod["volumes"][0]["secret"]["secretName"], "corp-ca");
    assert_eq!(pod["volumes"][0]["secret"]["items"][0]["key"], "bundle.pem");
    assert_eq!(
        env(&pod["containers"][0], "JCO_CA_BUNDLE"),
        Some("/etc/jira-cloud-operator/ca/bundle.pem")
    );
    let both = render_error(&[
        "--set",
        "caBundle.secretName=a",
        "--set",
        "caBundle.configMapName=b",
    ])
    .expect("a ConfigMap and a Secret at once fail");
    assert!(both.contains("not both"), "{both}");

    // The NetworkPolicy lets the operator reach the proxy.
    let policy = find(&objects, "NetworkPolicy", "jco-jira-cloud-operator");
    let egress = policy["spec"]["egress"].as_array().unwrap();
    assert!(egress.iter().any(|r| r["ports"][0]["port"] == 3128));
}

#[test]
fn the_disruption_budget_never_blocks_a_drain_at_one_replica() {
    let objects = production();
    let pdb = find(&objects, "PodDisruptionBudget", "jco-jira-cloud-operator");
    assert_eq!(pdb["spec"]["maxUnavailable"], 1);
    assert!(pdb["spec"]["minAvailable"].is_null());
    let blocking = render_error(&[
        "--set",
        "podDisruptionBudget.enabled=true",
        "--set",
        "podDisruptionBudget.minAvailable=1",
    ])
    .expect("minAvailable 1 with one replica fails");
    assert!(
        blocking.contains("must be below replicaCount"),
        "{blocking}"
    );
    // Every other budget that would let no pod go at one replica fails too, naming what to change.
    for (value, says) in [
        ("maxUnavailable=0", "maxUnavailable (0) must be at least 1"),
        ("maxUnavailable=0%", "maxUnavailable (0%) must be above 0%"),
        (
            "minAvailable=100%",
            "minAvailable (100% of 1, rounded up: 1) must be below replicaCount (1)",
        ),
        (
            "minAvailable=1%",
            "minAvailable (1% of 1, rounded up: 1) must be below replicaCount (1)",
        ),
        ("maxUnavailable=none", "does not match pattern"),
    ] {
        let set = format!("podDisruptionBudget.{value}");
        let error = render_error(&["--set", "podDisruptionBudget.enabled=true", "--set", &set])
            .unwrap_or_else(|| panic!("{value} renders a budget that blocks a drain"));
        assert!(error.contains(says), "{value}: {error}");
    }
    // A budget that lets one pod go renders: a percentage is rounded up as Kubernetes does.
    for (replicas, value, field, rendered) in [
        ("1", "maxUnavailable=1%", "maxUnavailable", json!("1%")),
        ("1", "minAvailable=0%", "minAvailable", json!("0%")),
        ("2", "minAvailable=50%", "minAvailable", json!("50%")),
    ] {
        let set = format!("podDisruptionBudget.{value}");
        let replicas = format!("replicaCount={replicas}");
        let args = [
            "--set",
            replicas.as_str(),
            "--set",
            "podDisruptionBudget.enabled=true",
            "--set",
            set.as_str(),
        ];
        let objects = self::objects(&helm_template("jco", "jira-operator", &args));
        let pdb = find(&objects, "PodDisruptionBudget", "jco-jira-cloud-operator");
        assert_eq!(pdb["spec"][field], rendered, "{value}");
    }
    let half_of_two = render_error(&[
        "--set",
        "replicaCount=2",
        "--set",
        "podDisruptionBudget.enabled=true",
        "--set",
        "podDisruptionBudget.minAvailable=51%",
    ])
    .expect("51% of 2 rounds up to 2");
    assert!(half_of_two.contains("rounded up: 2"), "{half_of_two}");
    let ha = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &[
            "--set",
            "replicaCount=2",
            "--set",
            "podDisruptionBudget.enabled=true",
            "--set",
            "podDisruptionBudget.minAvailable=1",
        ],
    ));
    assert_eq!(
        find(&ha, "PodDisruptionBudget", "jco-jira-cloud-operator")["spec"]["minAvailable"],
        1
    );
}

#[test]
fn tenants_get_view_by_default_and_edit_only_when_asked() {
    let rules = |objects: &[Value], name: &str| -> Option<Value> {
        objects
            .iter()
            .find(|o| o["kind"] == "ClusterRole" && o["metadata"]["name"] == name)
            .map(|r| json!({"labels": r["metadata"]["labels"], "rules": r["rules"]}))
    };
    let defaults = self::objects(&helm_template("jco", "jira-operator", &[]));
    let view = rules(&defaults, "jco-jira-cloud-operator-view").expect("the view role");
    for role in ["view", "edit", "admin"] {
        assert_eq!(
            view["labels"][format!("rbac.authorization.k8s.io/aggregate-to-{role}")],
            "true"
        );
    }
    assert_eq!(
        view["rules"],
        json!([{"apiGroups": ["jiracloud.io"], "resources": ["jiraconnections", "jiraactions", "jiralicensepolicies", "jirausers"],
                "verbs": ["get", "list", "watch"]}])
    );
    assert!(rules(&defaults, "jco-jira-cloud-operator-edit").is_none());

    let edit = rules(&production(), "jco-jira-cloud-operator-edit").expect("the edit role");
    assert!(edit["labels"]["rbac.authorization.k8s.io/aggregate-to-view"].is_null());
    assert_eq!(
        edit["labels"]["rbac.authorization.k8s.io/aggregate-to-edit"],
        "true"
    );
    let verbs = |resource: &str| -> Vec<String> {
        edit["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                r["resources"]
                    .as_array()
                    .unwrap()
                    .contains(&json!(resource))
            })
            .flat_map(|r| {
                r["verbs"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap().to_string())
            })
            .collect()
    };
    assert_eq!(verbs("jiraactions"), ["create", "delete"]);
    assert_eq!(
        verbs("jiraconnections"),
        ["create", "update", "patch", "delete"]
    );
    assert_eq!(
        verbs("jiralicensepolicies"),
        ["create", "update", "patch", "delete"]
    );
    assert!(
        verbs("jirausers").is_empty(),
        "JiraUsers are the operator's alone"
    );

    let none = self::objects(&helm_template(
        "jco",
        "jira-operator",
        &["--set", "rbac.aggregateToView=false"],
    ));
    assert!(rules(&none, "jco-jira-cloud-operator-view").is_none());
}

#[test]
fn artifact_hub_metadata_describes_the_crds_the_image_and_examples() {
    let chart: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(chart_dir().join("Chart.yaml")).unwrap())
            .unwrap();
    let annotations = &chart["annotations"];
    let yaml = |key: &str| -> Value {
        serde_yaml_ng::from_str(
            annotations[key]
                .as_str()
                .unwrap_or_else(|| panic!("Chart.yaml has no {key}")),
        )
        .unwrap_or_else(|e| panic!("{key} is not YAML: {e}"))
    };
    assert_eq!(annotations["artifacthub.io/license"], "Apache-2.0");
    assert_eq!(annotations["artifacthub.io/operator"], "true");
    for key in [
        "artifacthub.io/category",
        "artifacthub.io/operatorCapabilities",
    ] {
        assert!(annotations[key].is_string(), "{key}");
    }

    let crds = yaml("artifacthub.io/crds");
    let described: Vec<(String, String, String)> = crds
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            assert!(c["displayName"].is_string() && c["description"].is_string());
            (
                c["kind"].as_str().unwrap().into(),
                c["version"].as_str().unwrap().into(),
                c["name"].as_str().unwrap().into(),
            )
        })
        .collect();
    let generated: Vec<(String, String, String)> = jira_cloud_operator::api::crds()
        .into_iter()
        .map(|c| {
            (
                c.spec.names.kind.clone(),
                c.spec.versions[0].name.clone(),
                c.metadata.name.clone().unwrap(),
            )
        })
        .collect();
    assert_eq!(described, generated);

    let images = yaml("artifacthub.io/images");
    let values: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(chart_dir().join("values.yaml")).unwrap())
            .unwrap();
    assert_eq!(
        images[0]["image"].as_str().unwrap(),
        format!(
            "{}:{}",
            values["image"]["repository"].as_str().unwrap(),
            chart["appVersion"].as_str().unwrap()
        )
    );

    // The examples are objects of the chart's kinds that the schema accepts.
    let kinds: Vec<String> = generated.iter().map(|g| g.0.clone()).collect();
    for example in yaml("artifacthub.io/crdsExamples").as_array().unwrap() {
        let kind = example["kind"].as_str().unwrap();
        assert!(kinds.iter().any(|k| k == kind), "{kind}");
        match kind {
            "JiraConnection" => {
                serde_json::from_value::<jira_cloud_operator::api::JiraConnection>(example.clone())
                    .expect("a valid JiraConnection");
            }
            "JiraAction" => {
                serde_json::from_value::<jira_cloud_operator::api::JiraAction>(example.clone())
                    .expect("a valid JiraAction");
            }
            "JiraLicensePolicy" => {
                serde_json::from_value::<jira_cloud_operator::api::JiraLicensePolicy>(
                    example.clone(),
                )
                .expect("a valid JiraLicensePolicy");
            }
            other => panic!("no example expected for {other}"),
        }
    }
}
