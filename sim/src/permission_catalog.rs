//! The Jira permissions the simulator knows, global and project ones: key, name and description, as
//! `GET /rest/api/3/mypermissions` lists them.

/// Global permissions the simulator knows: key, name, description.
pub const GLOBAL: &[(&str, &str, &str)] = &[
    (
        "ADMINISTER",
        "Administer Jira",
        "Create and administer projects, issue types, fields, workflows, and schemes for all projects.",
    ),
    (
        "SYSTEM_ADMIN",
        "Administer system",
        "Configure Jira system settings and manage site administrators.",
    ),
    (
        "USER_PICKER",
        "Browse users and groups",
        "View and select users or groups from the user picker, and share issues.",
    ),
];

/// Project permissions the simulator knows: key, name, description.
pub const PROJECT: &[(&str, &str, &str)] = &[
    (
        "BROWSE_PROJECTS",
        "Browse Projects",
        "Ability to browse projects and the issues within them.",
    ),
    (
        "CREATE_ISSUES",
        "Create Issues",
        "Ability to create issues.",
    ),
    (
        "DELETE_ISSUES",
        "Delete Issues",
        "Ability to delete issues.",
    ),
    (
        "ADMINISTER_PROJECTS",
        "Administer Projects",
        "Ability to administer a project in Jira.",
    ),
];
