//! The report's output formats: an aligned table for people, CSV and JSON for tools.

use super::figures::Row;

/// An output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// A JSON array of rows.
    Json,
}

/// A table column: its header, and the cell of a row.
type Column = (&'static str, fn(&Row) -> String);

/// The table's columns, in order.
const COLUMNS: &[Column] = &[
    ("NAMESPACE", |r| r.namespace.clone()),
    ("CONNECTION", |r| r.connection.clone()),
    ("PRODUCT", |r| r.product.clone()),
    ("SEATS", |r| optional(r.seats)),
    ("HOLDERS", |r| r.holders.to_string()),
    ("ACTIVE", |r| r.active.to_string()),
    ("INACTIVE", |r| r.inactive.to_string()),
    ("UNKNOWN-YET", |r| r.unknown_yet.to_string()),
    ("INACTIVE-DAYS", |r| r.inactive_days.to_string()),
    ("RECLAIMABLE-BY-POLICY", |r| {
        optional(r.reclaimable_by_policy)
    }),
    ("MONTHLY-SAVINGS", |r| {
        r.monthly_savings
            .as_ref()
            .map_or_else(|| "-".into(), |m| format!("{} {}", m.amount(), m.currency))
    }),
];

/// CSV headers, in the order of [`COLUMNS`], then the currency apart.
const CSV_HEADERS: &[&str] = &[
    "namespace",
    "connection",
    "product",
    "seats",
    "holders",
    "active",
    "inactive",
    "unknownYet",
    "inactiveDays",
    "reclaimableByPolicy",
    "monthlySavings",
    "currency",
];

fn optional<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The report in `format`. The table leaves the namespace out unless `namespaces` (several namespaces).
pub fn render(rows: &[Row], format: Format, namespaces: bool) -> String {
    match format {
        Format::Table => table(rows, namespaces),
        Format::Csv => csv(rows),
        Format::Json => {
            let mut out = serde_json::to_string_pretty(rows).expect("rows serialize");
            out.push('\n');
            out
        }
    }
}

fn table(rows: &[Row], namespaces: bool) -> String {
    let columns: Vec<&Column> = COLUMNS
        .iter()
        .filter(|(h, _)| namespaces || *h != "NAMESPACE")
        .collect();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| columns.iter().map(|(_, cell)| cell(r)).collect())
        .collect();
    let widths: Vec<usize> = columns
        .iter()
        .enumerate()
        .map(|(i, (h, _))| {
            cells
                .iter()
                .map(|c| c[i].chars().count())
                .chain([h.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |values: Vec<&str>| {
        let padded: Vec<String> = values
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v:<w$}"))
            .collect();
        format!("{}\n", padded.join("   ").trim_end())
    };
    let mut out = line(columns.iter().map(|(h, _)| *h).collect());
    for row in &cells {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

fn csv(rows: &[Row]) -> String {
    let mut out = CSV_HEADERS.join(",");
    out.push('\n');
    for r in rows {
        let or_empty = |v: Option<String>| v.unwrap_or_default();
        let fields = [
            r.namespace.clone(),
            r.connection.clone(),
            r.product.clone(),
            or_empty(r.seats.map(|s| s.to_string())),
            r.holders.to_string(),
            r.active.to_string(),
            r.inactive.to_string(),
            r.unknown_yet.to_string(),
            r.inactive_days.to_string(),
            or_empty(r.reclaimable_by_policy.map(|s| s.to_string())),
            or_empty(r.monthly_savings.as_ref().map(|m| m.amount())),
            or_empty(r.currency.clone()),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::figures::Money;

    fn row(product: &str, savings: Option<&str>) -> Row {
        Row {
            namespace: "it".into(),
            connection: "acme".into(),
            product: product.into(),
            seats: Some(10),
            holders: 4,
            active: 1,
            inactive: 2,
            unknown_yet: 1,
            inactive_days: 30,
            reclaimable_by_policy: None,
            monthly_savings: savings.map(|s| Money::parse(s, "USD").unwrap()),
            currency: savings.map(|_| "USD".into()),
        }
    }

    #[test]
    fn a_table_aligns_its_columns() {
        let rows = [
            row("jira-software", Some("17.20")),
            row("jira-servicedesk", None),
        ];
        let t = render(&rows, Format::Table, false);
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3, "{t}");
        assert!(
            lines[0].starts_with("CONNECTION   PRODUCT            SEATS"),
            "{t}"
        );
        assert!(lines[1].ends_with("17.20 USD"), "{t}");
        assert!(lines[2].ends_with('-'), "{t}");
        let offset = lines[0].find("INACTIVE-DAYS").unwrap();
        assert_eq!(&lines[1][offset..offset + 2], "30");
        assert_eq!(&lines[2][offset..offset + 2], "30");
        assert!(render(&rows, Format::Table, true).starts_with("NAMESPACE   CONNECTION"));
    }

    #[test]
    fn csv_has_a_header_and_quotes_what_needs_it() {
        let mut odd = row("jira-software", Some("8.60"));
        odd.connection = "a,\"b\"".into();
        let c = render(&[odd, row("jira-servicedesk", None)], Format::Csv, true);
        let lines: Vec<&str> = c.lines().collect();
        assert_eq!(lines[0], CSV_HEADERS.join(","));
        assert_eq!(
            lines[1],
            "it,\"a,\"\"b\"\"\",jira-software,10,4,1,2,1,30,,8.60,USD"
        );
        assert_eq!(lines[2], "it,acme,jira-servicedesk,10,4,1,2,1,30,,,");
    }

    #[test]
    fn json_is_an_array_of_camel_case_rows() {
        let j = render(&[row("jira-software", Some("8.60"))], Format::Json, false);
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v[0]["unknownYet"], 1);
        assert_eq!(v[0]["monthlySavings"], "8.60");
        assert_eq!(v[0]["reclaimableByPolicy"], serde_json::Value::Null);
        assert_eq!(v[0]["seats"], 10);
    }
}
