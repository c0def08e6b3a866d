//! Security review of the chart and the image, as invariants that hold for every values file under the chart's
//! `ci/` directory (the RBAC sufficiency test with the real binary is `tests/rbac.rs`):
//! - RBAC: no wildcard, no privilege-granting verbs (`escalate`, `bind`, `impersonate`), Secrets only read
//!   (`get`, `list`, `watch`), no ServiceAccount tokens or pod exec, no binding to a built-in role
//!   (`cluster-admin`, `admin`, `edit`);
//! - the pod: no host namespaces or host paths, no privilege, no privilege escalation, non-root with a read-only
//!   root filesystem, every capability dropped and none added, the runtime's seccomp profile, no credential in
//!   its environment, an image that is not `latest`;
//! - the chart renders no Secret (credentials never pass through Helm values);
//! - the image: the runtime stage is pinned by digest, runs as a numeric non-root user, and fetches nothing
//!   from the network with `ADD`.

use serde_json::Value;
use testkit::tools::{chart_dir, helm_template};

fn values_files() -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(chart_dir().join("ci"))
        .expect("the chart's ci directory")
        .map(|e| e.expect("an entry").path().display().to_string())
        .filter(|p| p.ends_with(".yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no values file under ci/");
    files
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn check_rbac(file: &str, objects: &[Value]) -> usize {
    let mut rules_seen = 0;
    for o in objects {
        let kind = o["kind"].as_str().unwrap_or_default();
        let name = o["metadata"]["name"].as_str().unwrap_or_default();
        if kind == "ClusterRoleBinding" || kind == "RoleBinding" {
            let role = o["roleRef"]["name"].as_str().unwrap_or_default();
            assert!(
                !["cluster-admin", "admin", "edit"].contains(&role),
                "{file}: {kind} {name} binds the built-in role {role}"
            );
        }
        if kind != "ClusterRole" && kind != "Role" {
            continue;
        }
        assert!(
            o["aggregationRule"].is_null(),
            "{file}: {kind} {name} aggregates other roles"
        );
        for rule in o["rules"].as_array().into_iter().flatten() {
            rules_seen += 1;
            let (groups, resources, verbs) = (
                strings(&rule["apiGroups"]),
                strings(&rule["resources"]),
                strings(&rule["verbs"]),
            );
            for list in [&groups, &resources, &verbs] {
                assert!(
                    !list.iter().any(|s| s == "*"),
                    "{file}: {kind} {name} has a wildcard: {rule}"
                );
            }
            assert!(
                rule["nonResourceURLs"].is_null(),
                "{file}: {kind} {name} grants non-resource URLs: {rule}"
            );
            for verb in ["escalate", "bind", "impersonate"] {
                assert!(
                    !verbs.iter().any(|v| v == verb),
                    "{file}: {kind} {name} grants {verb}"
                );
            }
            for resource in &resources {
                assert!(
                    ![
                        "pods/exec",
                        "pods/attach",
                        "serviceaccounts/token",
                        "nodes/proxy"
                    ]
                    .contains(&resource.as_str()),
                    "{file}: {kind} {name} grants {resource}"
                );
                if resource == "secrets" {
                    assert!(
                        verbs
                            .iter()
                            .all(|v| ["get", "list", "watch"].contains(&v.as_str())),
                        "{file}: {kind} {name} may change Secrets: {verbs:?}"
                    );
                }
            }
        }
    }
    rules_seen
}

fn check_pod(file: &str, objects: &[Value]) {
    let deployments: Vec<&Value> = objects
        .iter()
        .filter(|o| o["kind"] == "Deployment")
        .collect();
    assert_eq!(deployments.len(), 1, "{file}: one Deployment");
    let pod = &deployments[0]["spec"]["template"]["spec"];
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        assert!(pod[host] != true, "{file}: {host}");
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        assert!(volume["hostPath"].is_null(), "{file}: a hostPath volume");
    }
    let pod_security = &pod["securityContext"];
    let containers: Vec<&Value> = pod["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(pod["initContainers"].as_array().into_iter().flatten())
        .collect();
    assert!(!containers.is_empty(), "{file}: no container");
    for c in containers {
        let name = c["name"].as_str().unwrap_or_default();
        let s = &c["securityContext"];
        assert!(s["privileged"] != true, "{file}: {name} is privileged");
        assert_eq!(
            s["allowPrivilegeEscalation"], false,
            "{file}: {name} allows privilege escalation"
        );
        assert_eq!(
            s["readOnlyRootFilesystem"], true,
            "{file}: {name} root filesystem"
        );
        assert!(
            s["runAsNonRoot"] == true || pod_security["runAsNonRoot"] == true,
            "{file}: {name} may run as root"
        );
        for uid in [&s["runAsUser"], &pod_security["runAsUser"]] {
            assert!(uid.as_i64() != Some(0), "{file}: {name} runs as uid 0");
        }
        assert_eq!(
            strings(&s["capabilities"]["drop"]),
            vec!["ALL".to_string()],
            "{file}: {name} keeps capabilities"
        );
        assert!(
            strings(&s["capabilities"]["add"]).is_empty(),
            "{file}: {name} adds capabilities"
        );
        let seccomp = if s["seccompProfile"]["type"].is_string() {
            &s["seccompProfile"]["type"]
        } else {
            &pod_security["seccompProfile"]["type"]
        };
        assert_eq!(seccomp, "RuntimeDefault", "{file}: {name} seccomp profile");
        let image = c["image"].as_str().unwrap_or_default();
        assert!(
            !image.is_empty() && !image.ends_with(":latest"),
            "{file}: {name} image {image:?}"
        );
        for e in c["env"].as_array().into_iter().flatten() {
            assert!(
                e["valueFrom"]["secretKeyRef"].is_null(),
                "{file}: {name} takes a Secret into its environment: {e}"
            );
            let var = e["name"].as_str().unwrap_or_default().to_ascii_uppercase();
            assert!(
                !["TOKEN", "PASSWORD", "SECRET", "API_KEY"]
                    .iter()
                    .any(|w| var.contains(w)),
                "{file}: {name} has a credential-like variable {var}"
            );
        }
    }
}

#[test]
fn every_values_file_renders_least_privilege_and_a_hardened_pod() {
    for file in values_files() {
        let manifests = helm_template("review", "jira-system", &["-f", &file]);
        let objects: Vec<Value> = testkit::parse_manifests(&manifests)
            .into_iter()
            .map(|o| serde_json::to_value(o).expect("serializes"))
            .collect();
        assert!(
            !objects.iter().any(|o| o["kind"] == "Secret"),
            "{file}: the chart renders a Secret"
        );
        let rules = check_rbac(&file, &objects);
        check_pod(&file, &objects);
        eprintln!(
            "{file}: {} objects, {rules} RBAC rules reviewed",
            objects.len()
        );
    }
}

#[test]
fn the_image_is_pinned_and_runs_as_a_non_root_user() {
    let dockerfile =
        std::fs::read_to_string(chart_dir().join("../../Dockerfile")).expect("the Dockerfile");
    let lines: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let froms: Vec<&&str> = lines.iter().filter(|l| l.starts_with("FROM ")).collect();
    let runtime = froms.last().expect("a FROM line");
    assert!(
        runtime.contains("@sha256:"),
        "the runtime image is not pinned by digest: {runtime}"
    );
    let user = lines
        .iter()
        .rev()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER line");
    let uid: u32 = user
        .split(':')
        .next()
        .and_then(|u| u.trim().parse().ok())
        .unwrap_or_else(|| panic!("USER {user} is not numeric (runAsNonRoot needs a numeric uid)"));
    assert_ne!(uid, 0, "the image runs as root");
    for l in &lines {
        assert!(
            !(l.starts_with("ADD ") && l.contains("://")),
            "the image fetches from the network: {l}"
        );
    }
}
