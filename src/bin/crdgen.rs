//! Writes the CustomResourceDefinitions generated from the API types to `crds/` (or prints them with `-`).

use std::{env, fs, path::PathBuf};

fn main() -> std::io::Result<()> {
    let yaml = jira_cloud_operator::api::crds_yaml();
    match env::args().nth(1).as_deref() {
        Some("-") => print!("{yaml}"),
        dir => {
            let dir = PathBuf::from(dir.unwrap_or("crds"));
            fs::create_dir_all(&dir)?;
            let path = dir.join("jiracloud.io.yaml");
            fs::write(&path, yaml)?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(())
}
