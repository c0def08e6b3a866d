//! The README's first command: the demo script runs end to end, non-interactively, on a local control plane and
//! the simulator, and prints real synced figures.

use std::{path::Path, process::Command};

#[test]
fn the_demo_runs_end_to_end_and_prints_synced_figures() {
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_jira-cloud-operator"))
        .parent()
        .expect("a target directory")
        .to_path_buf();
    for bin in ["jira-sim", "testenv"] {
        assert!(
            bin_dir.join(bin).exists(),
            "{bin} is not built in {}: run the whole suite with `make test` (cargo test --workspace)",
            bin_dir.display()
        );
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("bash")
        .arg(root.join("hack/demo.sh"))
        .env("DEMO_NONINTERACTIVE", "1")
        .env("DEMO_USERS", "150")
        .env("DEMO_BIN_DIR", &bin_dir)
        .current_dir(root)
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    testkit::plane::audit::save("output", "log", &format!("{stdout}\n{stderr}"));
    assert!(out.status.success(), "the demo failed:\n{stdout}\n{stderr}");
    for expected in [
        "The demo works: 2 connections Ready, 4 actions finished.",
        "users: 150 total",
        "Jira Software (jira-software):",
        "active users; last days:",
        "inactive holders",
        "Created OPS-",
        "Added viewer@example.com to jira-testers",
        "was not a member of jira-servicedesk-users",
    ] {
        assert!(
            stdout.contains(expected),
            "the demo output lacks {expected:?}:\n{stdout}"
        );
    }
    assert!(!stdout.contains("Failed"), "an action failed:\n{stdout}");
}
