//! The chart's release lifecycle with helm itself on the real apiserver: `helm install` (the CRDs are templates,
//! so Helm owns them and NOTES.txt tells the next step), `helm upgrade` to two replicas (leader election turns
//! on by itself, with its Lease Role), and `helm uninstall`, which keeps the CRDs (`crds.keep`) and so every
//! custom resource.

use k8s_openapi::{
    api::{apps::v1::Deployment, rbac::v1::Role},
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::Api;
use std::{path::Path, process::Command};

fn helm(home: &Path, args: &[&str]) -> String {
    let helm = testkit::tools::tool("helm");
    let out = Command::new(helm)
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .arg("--kubeconfig")
        .arg(testkit::plane::shared().kubeconfig_path())
        .args(args)
        .output()
        .expect("run helm");
    assert!(
        out.status.success(),
        "helm {} failed:\n{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_upgrade_and_uninstall_keep_the_crds() {
    let plane = testkit::plane::shared();
    let client = plane.client().await;
    let namespace = plane.namespace("helm").await;
    let home = tempfile::tempdir().unwrap();
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/jira-cloud-operator");
    let chart = chart.to_str().unwrap();
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &namespace);
    let roles: Api<Role> = Api::namespaced(client.clone(), &namespace);
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());

    let installed = helm(
        home.path(),
        &["install", "jco", chart, "--namespace", &namespace],
    );
    assert!(installed.contains("STATUS: deployed"), "{installed}");
    assert!(
        installed.contains("Next step: connect a Jira Cloud site"),
        "NOTES.txt:\n{installed}"
    );
    let deployment = deployments
        .get("jco-jira-cloud-operator")
        .await
        .expect("the Deployment");
    assert_eq!(deployment.spec.unwrap().replicas, Some(1));
    assert!(
        roles
            .get_opt("jco-jira-cloud-operator-leader-election")
            .await
            .unwrap()
            .is_none()
    );
    for crd in jira_cloud_operator::api::crds() {
        let name = crd.metadata.name.unwrap();
        let stored = crds
            .get(&name)
            .await
            .unwrap_or_else(|e| panic!("CRD {name}: {e}"));
        let annotations = stored.metadata.annotations.unwrap_or_default();
        assert_eq!(
            annotations
                .get("meta.helm.sh/release-name")
                .map(String::as_str),
            Some("jco"),
            "{name}"
        );
    }

    let upgraded = helm(
        home.path(),
        &[
            "upgrade",
            "jco",
            chart,
            "--namespace",
            &namespace,
            "--set",
            "replicaCount=2",
        ],
    );
    assert!(
        upgraded.contains("Leader election is on"),
        "NOTES.txt:\n{upgraded}"
    );
    let deployment = deployments.get("jco-jira-cloud-operator").await.unwrap();
    assert_eq!(deployment.spec.as_ref().unwrap().replicas, Some(2));
    let env = deployment.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap();
    let leader_elect = env
        .iter()
        .find(|e| e.name == "JCO_LEADER_ELECT")
        .and_then(|e| e.value.clone());
    assert_eq!(leader_elect.as_deref(), Some("true"));
    assert!(
        roles
            .get_opt("jco-jira-cloud-operator-leader-election")
            .await
            .unwrap()
            .is_some()
    );

    let uninstalled = helm(
        home.path(),
        &["uninstall", "jco", "--namespace", &namespace],
    );
    assert!(
        uninstalled.contains("kept due to the resource policy"),
        "{uninstalled}"
    );
    assert!(
        deployments
            .get_opt("jco-jira-cloud-operator")
            .await
            .unwrap()
            .is_none()
    );
    for crd in jira_cloud_operator::api::crds() {
        let name = crd.metadata.name.unwrap();
        assert!(
            crds.get_opt(&name).await.unwrap().is_some(),
            "CRD {name} was deleted on uninstall"
        );
    }
}
