//! One real control plane per test binary, with the operator's CRDs installed, a fresh namespace per test, and
//! manifests read into objects and created through discovery.

use kube::{
    Api, Client, Discovery, ResourceExt,
    api::{DynamicObject, PostParams},
    core::GroupVersionKind,
};
use serde::de::DeserializeOwned;
use std::path::Path;
use tokio::sync::OnceCell;

/// A client and a fresh namespace on the shared control plane, with the CRDs installed. Its methods for
/// JiraConnections are in [`crate::connection`].
#[derive(Clone)]
pub struct TestEnv {
    pub client: Client,
    pub namespace: String,
}

/// Starts (once per test binary) the control plane, installs the CRDs and creates a namespace for this test.
pub async fn env(prefix: &str) -> TestEnv {
    static CRDS: OnceCell<()> = OnceCell::const_new();
    let plane = crate::plane::shared();
    CRDS.get_or_init(|| async { plane.install_crds(&jira_cloud_operator::api::crds()).await })
        .await;
    TestEnv {
        client: plane.client().await,
        namespace: plane.namespace(prefix).await,
    }
}

/// Parses a multi-document YAML file into objects.
pub fn read_manifests(path: &Path) -> Vec<DynamicObject> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    parse_manifests(&text)
}

/// Parses a multi-document YAML string into objects.
pub fn parse_manifests(text: &str) -> Vec<DynamicObject> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|doc| serde::Deserialize::deserialize(doc).expect("a Kubernetes object"))
        .filter(|obj: &serde_json::Value| !obj.is_null())
        .map(|obj| serde_json::from_value(obj).expect("a Kubernetes object"))
        .collect()
}

/// Creates an object in `namespace`, resolving its kind through discovery.
pub async fn create(
    client: &Client,
    namespace: &str,
    obj: &DynamicObject,
) -> Result<DynamicObject, kube::Error> {
    let api = dynamic_api(client, namespace, obj).await;
    api.create(&PostParams::default(), obj).await
}

/// The namespaced API of an object's kind.
pub async fn dynamic_api(
    client: &Client,
    namespace: &str,
    obj: &DynamicObject,
) -> Api<DynamicObject> {
    let types = obj.types.as_ref().expect("apiVersion and kind");
    let gvk = GroupVersionKind::try_from(types).expect("a valid apiVersion");
    let discovery = Discovery::new(client.clone())
        .run()
        .await
        .expect("discovery");
    let (resource, _) = discovery
        .resolve_gvk(&gvk)
        .unwrap_or_else(|| panic!("unknown kind {gvk:?}"));
    Api::namespaced_with(client.clone(), namespace, &resource)
}

/// Converts a dynamic object into a typed one.
pub fn typed<K: DeserializeOwned>(obj: DynamicObject) -> K {
    let name = obj.name_any();
    serde_json::from_value(serde_json::to_value(obj).expect("serializes"))
        .unwrap_or_else(|e| panic!("{name} does not deserialize: {e}"))
}
