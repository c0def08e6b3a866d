//! Writes the CustomResourceDefinitions generated from the API types to `crds/` and to the Helm chart's copy
//! (`charts/jira-cloud-operator/files/crds/`), or to a given directory only, or prints them with `-`.

use std::{env, fs, path::PathBuf};

/// Where the Helm chart keeps its copy of the CRDs (rendered by its templates/crds.yaml).
const CHART_COPY: &str = "charts/jira-cloud-operator/files/crds";

fn main() -> std::io::Result<()> {
    let yaml = jira_cloud_operator::api::crds_yaml();
    let dirs = match env::args().nth(1).as_deref() {
        Some("-") => {
            print!("{yaml}");
            return Ok(());
        }
        Some(dir) => vec![PathBuf::from(dir)],
        None => vec![PathBuf::from("crds"), PathBuf::from(CHART_COPY)],
    };
    for dir in dirs {
        fs::create_dir_all(&dir)?;
        let path = dir.join("jiracloud.io.yaml");
        fs::write(&path, &yaml)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
