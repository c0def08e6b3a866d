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

    // The license policy: a DryRun plan that changes nothing, the approved run, and the report after it.
    for expected in [
        "A JiraLicensePolicy in DryRun",
        ", nothing changed in Jira yet:",
        " leaves [",
        "Approving plan ",
        "A sync after the run moves the figures",
        "reclaimed users still hold the product",
    ] {
        assert!(
            stdout.contains(expected),
            "the demo output lacks {expected:?}:\n{stdout}"
        );
    }
    let plan = after(&stdout, "    plan ")
        .split(',')
        .next()
        .unwrap_or_default();
    assert!(!plan.is_empty(), "no plan id:\n{stdout}");
    let run = after(&stdout, "    run of plan ");
    assert!(run.starts_with(&format!("{plan}: ")), "{run}");
    let reclaimed: u32 = run
        .split(": ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count of reclaimed users in {run:?}"));
    assert!(reclaimed > 0, "the approved run reclaimed nobody: {run}");
    let reports = reclaimable_by_policy(&stdout);
    assert_eq!(reports.len(), 2, "a report before and after:\n{stdout}");
    assert_eq!(reports[0], "-", "no policy before:\n{stdout}");
    assert!(
        reports[1].parse::<u32>().is_ok(),
        "the report after counts what the policy may reclaim: {:?}\n{stdout}",
        reports[1]
    );
}

/// The rest of the first line starting with `prefix`.
fn after<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}:\n{out}"))
}

/// The RECLAIMABLE-BY-POLICY cell of Jira Software in each report table, in order.
fn reclaimable_by_policy(out: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut column = None;
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        if let Some(i) = words.iter().position(|w| *w == "RECLAIMABLE-BY-POLICY") {
            column = Some(i);
        } else if let Some(i) = column
            && words.get(1) == Some(&"jira-software")
        {
            cells.push(words.get(i).map_or_else(String::new, |w| w.to_string()));
            column = None;
        }
    }
    cells
}
