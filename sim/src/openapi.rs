//! The official OpenAPI documents the route table refers to ([`SpecDoc`]), read from the shared reference
//! folder beside the repository: an operation, the query parameters it declares, and the components with
//! OpenAPI's `nullable` turned into JSON Schema. For tests that check requests or answers against the official
//! documents (the simulator's conformance test, the operator's requests); panics with a clear message when the
//! documents are missing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::{Value, json};

use crate::routes::SpecDoc;

/// The folder of the official OpenAPI documents: `shared/reference/openapi` beside the repository.
pub fn spec_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/reference/openapi");
    assert!(
        dir.join("jira-platform-v3.json").is_file()
            && dir.join("admin-organization.json").is_file(),
        "the official OpenAPI documents are missing: expected jira-platform-v3.json and admin-organization.json \
         in {} (the shared reference folder beside the repository)",
        dir.display()
    );
    dir
}

/// The file name of a document.
pub fn file_name(doc: SpecDoc) -> &'static str {
    match doc {
        SpecDoc::Jira => "jira-platform-v3.json",
        SpecDoc::Admin => "admin-organization.json",
    }
}

/// OpenAPI 3.0 → JSON Schema: `nullable: true` becomes a `null` alternative.
pub fn denull(v: &mut Value) {
    match v {
        Value::Array(items) => items.iter_mut().for_each(denull),
        Value::Object(m) => {
            m.values_mut().for_each(denull);
            if m.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = m.get("type").cloned() {
                    m.insert("type".into(), json!([t, "null"]));
                    if let Some(Value::Array(e)) = m.get_mut("enum") {
                        e.push(Value::Null);
                    }
                } else {
                    let inner = Value::Object(std::mem::take(m));
                    m.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                }
            }
        }
        _ => {}
    }
}

/// One official document.
pub struct Spec {
    /// The document as read.
    pub doc: Value,
    /// Its components, `nullable` turned into `null` alternatives.
    pub components: Value,
}

impl Spec {
    /// Reads a document.
    pub fn load(doc: SpecDoc) -> Spec {
        let path = spec_dir().join(file_name(doc));
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let doc: Value = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
        let mut components = doc["components"].clone();
        denull(&mut components);
        Spec { doc, components }
    }

    /// The operation at `path` (as the document spells it) for `method`, if the document has it.
    pub fn operation(&self, path: &str, method: &str) -> Option<&Value> {
        Some(&self.doc["paths"][path][method.to_lowercase()]).filter(|op| op.is_object())
    }

    /// The operation, which must be in the document.
    pub fn op(&self, path: &str, method: &str) -> &Value {
        self.operation(path, method)
            .unwrap_or_else(|| panic!("operation {method} {path} is not in the spec"))
    }

    /// The names of the query parameters the operation declares (its own and its path's).
    pub fn query_params(&self, path: &str, method: &str) -> BTreeSet<String> {
        let mut all: Vec<&Value> = Vec::new();
        if let Some(Value::Array(p)) = self.doc["paths"][path].get("parameters") {
            all.extend(p);
        }
        if let Some(Value::Array(p)) = self.op(path, method).get("parameters") {
            all.extend(p);
        }
        all.iter()
            .map(|p| match p.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    &self.doc["components"]["parameters"][r.rsplit('/').next().unwrap_or("")]
                }
                None => p,
            })
            .filter(|p| p["in"] == "query")
            .filter_map(|p| p["name"].as_str().map(str::to_string))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denull_turns_nullable_into_null_alternatives() {
        let mut v = json!({"a": {"type": "string", "nullable": true}, "b": {"$ref": "#/x", "nullable": true}});
        denull(&mut v);
        assert_eq!(v["a"]["type"], json!(["string", "null"]));
        assert_eq!(v["b"]["anyOf"][1], json!({"type": "null"}));
    }
}
