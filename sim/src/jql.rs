//! A small JQL subset: `AND`/`OR`/parentheses over `updated`, `created`, `worklogDate`, `project`,
//! `labels`, `key`, `id`, `reporter`, `assignee`, `issuetype`, `status` with `= != > >= < <= IN NOT IN`,
//! and `ORDER BY`.
//! Dates: `-30d` (also `w`, `h`, `m`), `"2026-09-01"`, `"2026-09-01 10:00"`, epoch milliseconds.

use crate::state::{ISSUE_TYPES, Issue, State};

/// A field the subset knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `updated`.
    Updated,
    /// `created`.
    Created,
    /// `project`.
    Project,
    /// `labels`.
    Labels,
    /// `key` / `issuekey`.
    Key,
    /// `id`.
    Id,
    /// `reporter`.
    Reporter,
    /// `assignee`.
    Assignee,
    /// `issuetype` / `type`.
    IssueType,
    /// `status`.
    Status,
    /// `worklogDate`: the work date (`started`) of any worklog of the issue.
    WorklogDate,
}

impl Field {
    fn is_date(self) -> bool {
        matches!(self, Field::Updated | Field::Created | Field::WorklogDate)
    }

    fn parse(name: &str) -> Result<Field, String> {
        Ok(match name.to_ascii_lowercase().as_str() {
            "updated" | "updateddate" => Field::Updated,
            "created" | "createddate" => Field::Created,
            "project" => Field::Project,
            "labels" => Field::Labels,
            "key" | "issuekey" => Field::Key,
            "id" => Field::Id,
            "reporter" => Field::Reporter,
            "assignee" => Field::Assignee,
            "issuetype" | "type" => Field::IssueType,
            "status" => Field::Status,
            "worklogdate" => Field::WorklogDate,
            _ => {
                return Err(format!(
                    "Field '{name}' does not exist or you do not have permission to view it."
                ));
            }
        })
    }
}

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `=`.
    Eq,
    /// `!=`.
    Ne,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `IN (...)`.
    In,
    /// `NOT IN (...)`.
    NotIn,
}

/// A filter expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// All must hold.
    And(Vec<Expr>),
    /// One must hold.
    Or(Vec<Expr>),
    /// A comparison.
    Cmp {
        /// Field.
        field: Field,
        /// Operator.
        op: Op,
        /// Operand(s).
        values: Vec<String>,
    },
}

/// A parsed query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// The restriction (`None` = unbounded).
    pub filter: Option<Expr>,
    /// Sort keys, `true` = descending.
    pub order: Vec<(Field, bool)>,
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Str(String),
    Op(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Tok::LParen);
                i += 1;
            }
            ')' => {
                out.push(Tok::RParen);
                i += 1;
            }
            ',' => {
                out.push(Tok::Comma);
                i += 1;
            }
            '"' | '\'' => {
                let mut s = String::new();
                i += 1;
                while i < chars.len() && chars[i] != c {
                    if chars[i] == '\\' && i + 1 < chars.len() {
                        i += 1;
                    }
                    s.push(chars[i]);
                    i += 1;
                }
                if i >= chars.len() {
                    return Err(
                        "Error in the JQL Query: The quoted string has not been completed.".into(),
                    );
                }
                i += 1;
                out.push(Tok::Str(s));
            }
            '=' | '!' | '<' | '>' | '~' => {
                let mut op = c.to_string();
                if i + 1 < chars.len()
                    && (chars[i + 1] == '=' || chars[i + 1] == '~')
                    && c != '='
                    && c != '~'
                {
                    op.push(chars[i + 1]);
                    i += 1;
                }
                i += 1;
                out.push(Tok::Op(op));
            }
            _ => {
                let mut s = String::new();
                while i < chars.len()
                    && !chars[i].is_whitespace()
                    && !"()=,!<>~\"'".contains(chars[i])
                {
                    s.push(chars[i]);
                    i += 1;
                }
                out.push(Tok::Word(s));
            }
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

fn kw(t: Option<&Tok>, k: &str) -> bool {
    matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(k))
}

fn err_at(t: Option<&Tok>) -> String {
    match t {
        None => "Error in the JQL Query: The query ended unexpectedly.".into(),
        Some(t) => format!("Error in the JQL Query: unexpected {t:?}."),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.and()?];
        while kw(self.peek(), "or") {
            self.pos += 1;
            parts.push(self.and()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut parts = vec![self.atom()?];
        while kw(self.peek(), "and") {
            self.pos += 1;
            parts.push(self.atom()?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().expect("one part")
        } else {
            Expr::And(parts)
        })
    }

    fn value(&mut self) -> Result<String, String> {
        match self.next() {
            Some(Tok::Word(w)) | Some(Tok::Str(w)) => Ok(w),
            t => Err(err_at(t.as_ref())),
        }
    }

    fn atom(&mut self) -> Result<Expr, String> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            if self.next() != Some(Tok::RParen) {
                return Err("Error in the JQL Query: Expecting ')'.".into());
            }
            return Ok(e);
        }
        let field = match self.next() {
            Some(Tok::Word(w)) | Some(Tok::Str(w)) => Field::parse(&w)?,
            t => return Err(err_at(t.as_ref())),
        };
        let op = match self.next() {
            Some(Tok::Op(o)) => match o.as_str() {
                "=" => Op::Eq,
                "!=" => Op::Ne,
                ">" => Op::Gt,
                ">=" => Op::Ge,
                "<" => Op::Lt,
                "<=" => Op::Le,
                _ => {
                    return Err(format!(
                        "Error in the JQL Query: the operator '{o}' is not supported here."
                    ));
                }
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("in") => Op::In,
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && kw(self.peek(), "in") => {
                self.pos += 1;
                Op::NotIn
            }
            t => return Err(err_at(t.as_ref())),
        };
        let values = if matches!(op, Op::In | Op::NotIn) {
            if self.next() != Some(Tok::LParen) {
                return Err("Error in the JQL Query: Expecting '(' after IN.".into());
            }
            let mut vs = vec![self.value()?];
            loop {
                match self.next() {
                    Some(Tok::Comma) => vs.push(self.value()?),
                    Some(Tok::RParen) => break,
                    t => return Err(err_at(t.as_ref())),
                }
            }
            vs
        } else {
            vec![self.value()?]
        };
        if field.is_date() && matches!(op, Op::In | Op::NotIn) {
            return Err("Error in the JQL Query: IN is not supported for date fields.".into());
        }
        if !(field.is_date() || field == Field::Id)
            && matches!(op, Op::Gt | Op::Ge | Op::Lt | Op::Le)
        {
            return Err(format!(
                "The operator is not supported by the '{field:?}' field."
            ));
        }
        Ok(Expr::Cmp { field, op, values })
    }
}

/// Parses a JQL string of the subset.
pub fn parse(text: &str) -> Result<Query, String> {
    let toks = tokenize(text)?;
    let order_at = toks
        .windows(2)
        .position(|w| kw(Some(&w[0]), "order") && kw(Some(&w[1]), "by"))
        .unwrap_or(toks.len());
    let mut p = Parser {
        toks: toks[..order_at].to_vec(),
        pos: 0,
    };
    let filter = if p.toks.is_empty() {
        None
    } else {
        let e = p.or()?;
        if p.pos < p.toks.len() {
            return Err(err_at(p.peek()));
        }
        Some(e)
    };
    let mut order = Vec::new();
    if order_at < toks.len() {
        let mut rest = toks[order_at + 2..].iter().peekable();
        loop {
            let field = match rest.next() {
                Some(Tok::Word(w)) | Some(Tok::Str(w)) => Field::parse(w)?,
                t => return Err(err_at(t)),
            };
            let mut desc = false;
            if let Some(Tok::Word(w)) = rest.peek() {
                if w.eq_ignore_ascii_case("desc") {
                    desc = true;
                    rest.next();
                } else if w.eq_ignore_ascii_case("asc") {
                    rest.next();
                }
            }
            order.push((field, desc));
            match rest.next() {
                None => break,
                Some(Tok::Comma) => {}
                t => return Err(err_at(t)),
            }
        }
        if order.len() > 7 {
            return Err("The ORDER BY clause may have at most 7 fields.".into());
        }
    }
    Ok(Query { filter, order })
}

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

    #[test]
    fn parses_the_subset() {
        let q = parse("updated >= -30d AND project = ENG ORDER BY updated DESC, key").unwrap();
        assert_eq!(q.order, vec![(Field::Updated, true), (Field::Key, false)]);
        assert!(matches!(q.filter, Some(Expr::And(ref v)) if v.len() == 2));
        let q = parse("labels = \"op-3f9a2c\" and key in (ENG-1, 'ENG-2')").unwrap();
        assert!(q.filter.is_some());
        let q = parse("project = ENG AND labels in (a, b) OR (key = X-1)").unwrap();
        assert!(matches!(q.filter, Some(Expr::Or(_))));
        let q = parse("ORDER BY created DESC").unwrap();
        assert!(q.filter.is_none());
        assert!(parse("").unwrap().filter.is_none());
        assert!(parse("foo = 1").unwrap_err().contains("does not exist"));
        assert!(parse("project = ").is_err());
        assert!(parse("labels > x").is_err());
        assert!(parse("key in (A-1").is_err());
    }

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
