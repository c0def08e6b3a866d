//! JQL syntax: the fields and operators of the subset, the tokenizer and the parser.

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
}
