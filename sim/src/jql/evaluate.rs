//! Evaluating parsed JQL against issues: date operands resolved to epoch milliseconds, then each
//! comparison checked on an issue.

use super::syntax::{Expr, Field, Op};
use crate::state::{ISSUE_TYPES, Issue, State};

/// Resolves a JQL date operand to epoch milliseconds (UTC).
pub fn date_value(v: &str, now_ms: i64) -> Result<i64, String> {
    let bad = || {
        format!(
            "Date value '{v}' for field is invalid. Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
        )
    };
    let t = v.trim();
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('+')) {
        let sign = if t.starts_with('-') { -1 } else { 1 };
        let unit = rest.chars().last().ok_or_else(bad)?;
        let n: i64 = rest[..rest.len() - 1].parse().map_err(|_| bad())?;
        let ms = match unit {
            'w' => n.checked_mul(7 * 86_400_000).ok_or_else(bad)?,
            'd' => n.checked_mul(86_400_000).ok_or_else(bad)?,
            'h' => n.checked_mul(3_600_000).ok_or_else(bad)?,
            'm' => n.checked_mul(60_000).ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        return now_ms.checked_add(sign * ms).ok_or_else(bad);
    }
    if t.chars().all(|c| c.is_ascii_digit()) && t.len() > 10 {
        return t.parse().map_err(|_| bad());
    }
    let norm = t.replace('/', "-");
    let fmt_dt = chrono::NaiveDateTime::parse_from_str(&norm, "%Y-%m-%d %H:%M");
    let dt = match fmt_dt {
        Ok(dt) => dt,
        Err(_) => chrono::NaiveDate::parse_from_str(&norm, "%Y-%m-%d")
            .map_err(|_| bad())?
            .and_hms_opt(0, 0, 0)
            .ok_or_else(bad)?,
    };
    Ok(dt.and_utc().timestamp_millis())
}

fn user_matches(st: &State, who: Option<u32>, v: &str) -> bool {
    match who {
        None => v.eq_ignore_ascii_case("empty") || v.eq_ignore_ascii_case("null"),
        Some(u) => st.users[u as usize].account_id == v,
    }
}

fn eq_value(st: &State, issue: &Issue, field: Field, v: &str) -> bool {
    match field {
        Field::Project => {
            let p = &st.projects[issue.project as usize];
            p.key.eq_ignore_ascii_case(v) || p.id.to_string() == v || p.name.eq_ignore_ascii_case(v)
        }
        Field::Labels => issue.labels.iter().any(|l| l == v),
        Field::Key => issue.key.eq_ignore_ascii_case(v),
        Field::Id => issue.id.to_string() == v,
        Field::Reporter => user_matches(st, issue.reporter, v),
        Field::Assignee => user_matches(st, issue.assignee, v),
        Field::IssueType => {
            let t = &ISSUE_TYPES[issue.issue_type];
            t.name.eq_ignore_ascii_case(v) || t.id.to_string() == v
        }
        Field::Status => issue.status.eq_ignore_ascii_case(v),
        Field::Updated | Field::Created | Field::WorklogDate => false,
    }
}

fn compare(at: i64, op: Op, v: i64) -> bool {
    match op {
        Op::Eq => at == v,
        Op::Ne => at != v,
        Op::Gt => at > v,
        Op::Ge => at >= v,
        Op::Lt => at < v,
        Op::Le => at <= v,
        Op::In | Op::NotIn => false,
    }
}

/// Evaluates a filter on an issue.
pub fn matches(expr: &Expr, st: &State, issue: &Issue, now_ms: i64) -> Result<bool, String> {
    Ok(match expr {
        Expr::And(parts) => {
            for p in parts {
                if !matches(p, st, issue, now_ms)? {
                    return Ok(false);
                }
            }
            true
        }
        Expr::Or(parts) => {
            for p in parts {
                if matches(p, st, issue, now_ms)? {
                    return Ok(true);
                }
            }
            false
        }
        Expr::Cmp { field, op, values } => match field {
            Field::Updated | Field::Created => {
                let at = if *field == Field::Updated {
                    issue.updated_ms
                } else {
                    issue.created_ms
                };
                compare(at, *op, date_value(&values[0], now_ms)?)
            }
            Field::WorklogDate => {
                let v = date_value(&values[0], now_ms)?;
                issue
                    .worklogs
                    .iter()
                    .map(|&w| &st.worklogs[w as usize])
                    .filter(|w| !w.deleted)
                    .any(|w| match op {
                        // A work date is a day: `=` matches the whole UTC day.
                        Op::Eq => {
                            crate::format::start_of_day(w.started_ms)
                                == crate::format::start_of_day(v)
                        }
                        _ => compare(w.started_ms, *op, v),
                    })
            }
            Field::Id if matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le) => {
                let v: u64 = values[0]
                    .parse()
                    .map_err(|_| format!("'{}' is not a valid issue id.", values[0]))?;
                match op {
                    Op::Gt => issue.id > v,
                    Op::Ge => issue.id >= v,
                    Op::Lt => issue.id < v,
                    _ => issue.id <= v,
                }
            }
            _ => {
                let any = values.iter().any(|v| eq_value(st, issue, *field, v));
                match op {
                    Op::Eq | Op::In => any,
                    _ => !any,
                }
            }
        },
    })
}

/// Resolves date operands to epoch milliseconds once (checking them), so that evaluating the filter on
/// many issues does not parse dates again.
pub fn prepare(expr: &Expr, now_ms: i64) -> Result<Expr, String> {
    Ok(match expr {
        Expr::And(parts) => Expr::And(
            parts
                .iter()
                .map(|p| prepare(p, now_ms))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Or(parts) => Expr::Or(
            parts
                .iter()
                .map(|p| prepare(p, now_ms))
                .collect::<Result<_, _>>()?,
        ),
        Expr::Cmp {
            field: field @ (Field::Updated | Field::Created | Field::WorklogDate),
            op,
            values,
        } => Expr::Cmp {
            field: *field,
            op: *op,
            values: values
                .iter()
                .map(|v| date_value(v, now_ms).map(|ms| format!("{:013}", ms.max(0))))
                .collect::<Result<_, _>>()?,
        },
        other => other.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jql::syntax::parse;

    #[test]
    fn prepared_dates_are_epoch_millis() {
        let now = 1_795_773_600_000;
        let q = parse("updated >= -1d AND project = ENG").unwrap();
        let p = prepare(q.filter.as_ref().unwrap(), now).unwrap();
        let Expr::And(parts) = p else {
            panic!("an AND")
        };
        assert_eq!(
            parts[0],
            Expr::Cmp {
                field: Field::Updated,
                op: Op::Ge,
                values: vec![(now - 86_400_000).to_string()]
            }
        );
        assert_eq!(date_value(&format!("{:013}", 0), now).unwrap(), 0);
        assert!(
            prepare(
                parse("created > nonsense")
                    .unwrap()
                    .filter
                    .as_ref()
                    .unwrap(),
                now
            )
            .is_err()
        );
    }

    #[test]
    fn dates() {
        let now = 1_795_773_600_000;
        assert_eq!(date_value("-30d", now).unwrap(), now - 30 * 86_400_000);
        assert_eq!(date_value("-2h", now).unwrap(), now - 7_200_000);
        assert_eq!(date_value("2026-11-27", now).unwrap(), now - 10 * 3_600_000);
        assert_eq!(date_value("2026/11/27 10:00", now).unwrap(), now);
        assert!(date_value("yesterday", now).is_err());
    }
}
