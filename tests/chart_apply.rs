//! The Helm chart on the real apiserver: each values file under `ci/` is rendered, applied with a server-side
//! dry run (the apiserver validates every object, including the CRDs' structural schemas and the pod security
//! fields, and stores nothing), then applied for real into fresh namespaces, then applied again (an upgrade
//! that changes nothing). Before that, the operator started without its CRDs exits with an actionable message.

use k8s_openapi::{
    api::{
        apps::v1::Deployment,
        core::v1::ServiceAccount,
        rbac::v1::{ClusterRole, Role},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{Api, Client};
use testkit::{
    OperatorProcess,
    tools::{apply, chart_dir, helm_template},
};

/// Minimal CRDs standing in for the Prometheus Operator's (ServiceMonitor, PodMonitor, PrometheusRule), so the
/// optional monitoring objects can be applied too.
fn monitoring_crds() -> String {
    ["ServiceMonitor", "PodMonitor", "PrometheusRule"]
        .into_iter()
        .map(|kind| {
            let singular = kind.to_lowercase();
            format!(
                r#"---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {singular}s.monitoring.coreos.com
spec:
  group: monitoring.coreos.com
  scope: Namespaced
  names: {{kind: {kind}, listKind: {kind}List, plural: {singular}s, singular: {singular}}}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}
"#
            )
        })
        .collect()
}

fn values_file(name: &str) -> String {
    chart_dir().join("ci").join(name).display().to_string()
}

async fn crd_established(client: &Client, name: &str) -> bool {
    let api: Api<CustomResourceDefinition> = Api::all(client.clone());
    api.get_opt(name).await.unwrap().is_some_and(|crd| {
        crd.status.and_then(|s| s.conditions).is_some_and(|c| {
            c.iter()
                .any(|c| c.type_ == "Established" && c.status == "True")
        })
    })
}

async fn wait_established(client: &Client, name: &str) {
    let deadline = std::time::Instant::now() + testkit::wait::DEADLINE;
    while !crd_established(client, name).await {
        assert!(
            std::time::Instant::now() < deadline,
            "CRD {name} never became established"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_values_file_applies_with_a_server_dry_run_then_for_real() {
    let plane = testkit::plane::shared();
    let client = plane.client().await;
    // Before the chart is applied the CRDs are missing: the operator refuses to start and says how to install
    // them.
    let sim_url = url::Url::parse("http://127.0.0.1:9/").unwrap();
    let mut early = OperatorProcess::spawn("no-crds", plane.kubeconfig_path(), &sim_url, &[]);
    let status = early.wait_exit().await;
    assert!(!status.success(), "the operator started without its CRDs");
    assert!(
        early
            .log()
            .contains("is not installed: install the chart with crds.install=true"),
        "{}",
        early.log()
    );

    apply(&monitoring_crds(), false);
    for crd in ["servicemonitors", "podmonitors", "prometheusrules"] {
        wait_established(&client, &format!("{crd}.monitoring.coreos.com")).await;
    }

    for (n, values) in [
        "default-values.yaml",
        "namespaced-ha-values.yaml",
        "bring-your-own-values.yaml",
        "production-values.yaml",
    ]
    .into_iter()
    .enumerate()
    {
        let release = format!("chart-{n}");
        let namespace = plane.namespace("chart-release").await;
        let (team_a, team_b) = (
            plane.namespace("chart-team").await,
            plane.namespace("chart-team").await,
        );
        let watched = format!("watchNamespaces={{{team_a},{team_b}}}");
        let mut args = vec!["-f".to_string(), values_file(values)];
        if values.starts_with("namespaced") {
            args.extend(["--set".to_string(), watched]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let manifests = helm_template(&release, &namespace, &args);

        // Server-side dry run: validated by the apiserver, nothing stored.
        let out = apply(&manifests, true);
        assert!(out.contains("(server dry run)"), "{values}: {out}");
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
        let name = format!("{release}-jira-cloud-operator");
        assert!(
            deployments.get_opt(&name).await.unwrap().is_none(),
            "{values}: the dry run stored the Deployment"
        );

        // For real, then once more (nothing changes).
        apply(&manifests, false);
        apply(&manifests, false);

        let deployment = deployments
            .get(&name)
            .await
            .unwrap_or_else(|e| panic!("{values}: Deployment {name}: {e}"));
        let pod = deployment.spec.unwrap().template.spec.unwrap();
        let security = pod.containers[0].security_context.clone().unwrap();
        assert_eq!(security.read_only_root_filesystem, Some(true), "{values}");
        assert_eq!(security.allow_privilege_escalation, Some(false), "{values}");
        assert_eq!(
            pod.security_context.unwrap().run_as_non_root,
            Some(true),
            "{values}"
        );

        let accounts: Api<ServiceAccount> = Api::namespaced(client.clone(), &namespace);
        let cluster_roles: Api<ClusterRole> = Api::all(client.clone());
        match values {
            "default-values.yaml" => {
                assert!(accounts.get_opt(&name).await.unwrap().is_some());
                assert!(cluster_roles.get_opt(&name).await.unwrap().is_some());
                for crd in jira_cloud_operator::api::crds() {
                    let crd_name = crd.metadata.name.unwrap();
                    assert!(
                        crd_established(&client, &crd_name).await,
                        "{crd_name} is not established"
                    );
                }
            }
            "namespaced-ha-values.yaml" => {
                assert!(cluster_roles.get_opt(&name).await.unwrap().is_none());
                for ns in [&team_a, &team_b] {
                    let roles: Api<Role> = Api::namespaced(client.clone(), ns);
                    assert!(
                        roles.get_opt(&name).await.unwrap().is_some(),
                        "no Role in {ns}"
                    );
                }
                let roles: Api<Role> = Api::namespaced(client.clone(), &namespace);
                assert!(
                    roles
                        .get_opt(&format!("{name}-leader-election"))
                        .await
                        .unwrap()
                        .is_some()
                );
            }
            "production-values.yaml" => {
                for kind in ["podmonitors", "prometheusrules"] {
                    let out = testkit::tools::kubectl(&["get", kind, "-n", &namespace, &name], "");
                    assert!(
                        out.status.success(),
                        "{values}: no {kind} {name}: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                assert!(
                    cluster_roles
                        .get_opt(&format!("{name}-edit"))
                        .await
                        .unwrap()
                        .is_some()
                );
            }
            _ => {
                assert!(accounts.get_opt(&name).await.unwrap().is_none());
                assert!(cluster_roles.get_opt(&name).await.unwrap().is_none());
            }
        }
        println!(
            "{values}: {} objects applied (dry run, then twice for real)",
            manifests.matches("\nkind: ").count()
        );
    }
}
