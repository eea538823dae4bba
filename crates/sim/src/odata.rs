//! The OData query options Graph supports on the collections served here: `$filter` (comparison,
//! `startswith`, `and`/`or`/`not`, nested paths such as `status/errorCode`), `$select`, `$top` and
//! server-driven paging with `@odata.nextLink`.

use std::collections::BTreeMap;

use chrono::DateTime;
use serde_json::{Map, Value};

use crate::error::GraphError;

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Str(String),
    Num(i64),
    Lit(String),
    LParen,
    RParen,
    Comma,
}

fn tokenize(input: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = input.chars().collect();
    let mut i = 0;
    let mut out = Vec::new();
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' => i += 1,
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
            '\'' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i) {
                        None => return Err("unterminated string literal".into()),
                        Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                            s.push('\'');
                            i += 2;
                        }
                        Some('\'') => {
                            i += 1;
                            break;
                        }
                        Some(ch) => {
                            s.push(*ch);
                            i += 1;
                        }
                    }
                }
                out.push(Tok::Str(s));
            }
            _ => {
                let start = i;
                while i < chars.len() && !matches!(chars[i], ' ' | '(' | ')' | ',' | '\'') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if let Ok(n) = word.parse::<i64>() {
                    out.push(Tok::Num(n));
                } else if word.contains('-')
                    && word.contains(':')
                    && DateTime::parse_from_rfc3339(&word).is_ok()
                {
                    out.push(Tok::Lit(word));
                } else {
                    out.push(Tok::Ident(word));
                }
            }
        }
    }
    Ok(out)
}

/// A parsed `$filter` expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Cmp {
        path: String,
        op: String,
        value: Value,
    },
    StartsWith {
        path: String,
        prefix: String,
    },
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
}

impl Parser {
    fn peek_word(&self) -> Option<&str> {
        match self.toks.get(self.pos) {
            Some(Tok::Ident(w)) => Some(w.as_str()),
            _ => None,
        }
    }
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn expect(&mut self, t: &Tok) -> Result<(), String> {
        match self.next() {
            Some(ref got) if got == t => Ok(()),
            other => Err(format!("expected {t:?}, found {other:?}")),
        }
    }
    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case("or"))
        {
            self.pos += 1;
            left = Filter::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }
    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case("and"))
        {
            self.pos += 1;
            left = Filter::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }
    fn unary(&mut self) -> Result<Filter, String> {
        if self
            .peek_word()
            .is_some_and(|w| w.eq_ignore_ascii_case("not"))
        {
            self.pos += 1;
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.toks.get(self.pos) == Some(&Tok::LParen) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(&Tok::RParen)?;
            return Ok(inner);
        }
        match self.next() {
            Some(Tok::Ident(word)) if word.eq_ignore_ascii_case("startswith") => {
                self.expect(&Tok::LParen)?;
                let path = match self.next() {
                    Some(Tok::Ident(p)) => p,
                    other => return Err(format!("expected a property, found {other:?}")),
                };
                self.expect(&Tok::Comma)?;
                let prefix = match self.next() {
                    Some(Tok::Str(s)) => s,
                    other => return Err(format!("expected a string, found {other:?}")),
                };
                self.expect(&Tok::RParen)?;
                Ok(Filter::StartsWith { path, prefix })
            }
            Some(Tok::Ident(path)) => {
                let op = match self.next() {
                    Some(Tok::Ident(op))
                        if ["eq", "ne", "gt", "ge", "lt", "le"]
                            .contains(&op.to_lowercase().as_str()) =>
                    {
                        op.to_lowercase()
                    }
                    other => {
                        return Err(format!(
                            "expected a comparison operator after `{path}`, found {other:?}"
                        ));
                    }
                };
                let value = match self.next() {
                    Some(Tok::Str(s)) | Some(Tok::Lit(s)) => Value::String(s),
                    Some(Tok::Num(n)) => Value::from(n),
                    Some(Tok::Ident(w)) if w == "true" || w == "false" => Value::Bool(w == "true"),
                    Some(Tok::Ident(w)) if w == "null" => Value::Null,
                    other => return Err(format!("expected a literal, found {other:?}")),
                };
                Ok(Filter::Cmp { path, op, value })
            }
            other => Err(format!("unexpected {other:?}")),
        }
    }
}

impl Filter {
    /// Parses a `$filter`, accepting only the listed property paths.
    pub fn parse(input: &str, allowed: &[&str], type_name: &str) -> Result<Self, GraphError> {
        let toks = tokenize(input)
            .map_err(|e| GraphError::bad_request(format!("Invalid filter clause: {e}")))?;
        let mut parser = Parser { toks, pos: 0 };
        let filter = parser
            .or()
            .map_err(|e| GraphError::bad_request(format!("Invalid filter clause: {e}")))?;
        if parser.pos != parser.toks.len() {
            return Err(GraphError::bad_request(
                "Invalid filter clause: trailing tokens",
            ));
        }
        filter.check(allowed, type_name)?;
        Ok(filter)
    }

    fn check(&self, allowed: &[&str], type_name: &str) -> Result<(), GraphError> {
        match self {
            Self::And(a, b) | Self::Or(a, b) => {
                a.check(allowed, type_name)?;
                b.check(allowed, type_name)
            }
            Self::Not(a) => a.check(allowed, type_name),
            Self::Cmp { path, .. } | Self::StartsWith { path, .. } => {
                if allowed.iter().any(|p| p.eq_ignore_ascii_case(path)) {
                    Ok(())
                } else {
                    Err(GraphError::bad_request(format!(
                        "Unsupported or invalid query filter clause specified for property '{path}' of resource '{type_name}'."
                    )))
                }
            }
        }
    }

    /// Whether an entity matches.
    pub fn matches(&self, entity: &Value) -> bool {
        match self {
            Self::And(a, b) => a.matches(entity) && b.matches(entity),
            Self::Or(a, b) => a.matches(entity) || b.matches(entity),
            Self::Not(a) => !a.matches(entity),
            Self::StartsWith { path, prefix } => lookup(entity, path)
                .and_then(Value::as_str)
                .is_some_and(|s| s.to_lowercase().starts_with(&prefix.to_lowercase())),
            Self::Cmp { path, op, value } => {
                let actual = lookup(entity, path).cloned().unwrap_or(Value::Null);
                compare(&actual, op, value)
            }
        }
    }
}

fn lookup<'a>(entity: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('/').try_fold(entity, |v, key| {
        v.as_object().and_then(|m| {
            m.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    })
}

fn compare(actual: &Value, op: &str, expected: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering = match (actual, expected) {
        (Value::String(a), Value::String(b)) => {
            match (
                DateTime::parse_from_rfc3339(a),
                DateTime::parse_from_rfc3339(b),
            ) {
                (Ok(a), Ok(b)) => Some(a.cmp(&b)),
                _ => Some(a.to_lowercase().cmp(&b.to_lowercase())),
            }
        }
        (Value::Number(a), Value::Number(b)) => a.as_i64().zip(b.as_i64()).map(|(a, b)| a.cmp(&b)),
        (Value::Bool(a), Value::Bool(b)) => Some(a.cmp(b)),
        (Value::Null, Value::Null) => Some(Ordering::Equal),
        _ => None,
    };
    match (op, ordering) {
        ("eq", Some(o)) => o == Ordering::Equal,
        ("ne", Some(o)) => o != Ordering::Equal,
        ("ne", None) => true,
        ("gt", Some(o)) => o == Ordering::Greater,
        ("ge", Some(o)) => o != Ordering::Less,
        ("lt", Some(o)) => o == Ordering::Less,
        ("le", Some(o)) => o != Ordering::Greater,
        _ => false,
    }
}

/// Applies `$select` (with `id` always kept, as Graph does) or the default property set.
pub(crate) fn select(
    entity: &Map<String, Value>,
    select: Option<&str>,
    defaults: &[&str],
    known: &[&str],
    type_name: &str,
) -> Result<Value, GraphError> {
    let wanted: Vec<String> = match select {
        Some(list) if !list.trim().is_empty() => {
            let mut wanted = Vec::new();
            for name in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let Some(canonical) = known.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
                    return Err(GraphError::bad_request(format!(
                        "Could not find a property named '{name}' on type '{type_name}'."
                    )));
                };
                wanted.push((*canonical).to_owned());
            }
            if !wanted.iter().any(|w| w == "id") {
                wanted.push("id".into());
            }
            wanted
        }
        _ => defaults.iter().map(|s| (*s).to_owned()).collect(),
    };
    let mut out = Map::new();
    for name in wanted {
        out.insert(
            name.clone(),
            entity.get(&name).cloned().unwrap_or(Value::Null),
        );
    }
    Ok(Value::Object(out))
}

/// The query options of a collection request.
#[derive(Debug, Default)]
pub(crate) struct CollectionQuery {
    pub filter: Option<String>,
    pub select: Option<String>,
    pub top: Option<usize>,
    pub skip_token: Option<usize>,
    pub raw: BTreeMap<String, String>,
}

impl CollectionQuery {
    pub fn from_params(
        params: &BTreeMap<String, String>,
        max_top: usize,
    ) -> Result<Self, GraphError> {
        let top = match params.get("$top") {
            None => None,
            Some(t) => match t.parse::<usize>() {
                Ok(n) if (1..=max_top).contains(&n) => Some(n),
                _ => {
                    return Err(GraphError::bad_request(format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and {max_top} inclusive."
                    )));
                }
            },
        };
        let skip_token = match params.get("$skiptoken") {
            None => None,
            Some(t) => Some(
                t.strip_prefix("o.")
                    .and_then(|n| n.parse::<usize>().ok())
                    .ok_or_else(|| GraphError::bad_request("Invalid skip token."))?,
            ),
        };
        Ok(Self {
            filter: params.get("$filter").cloned(),
            select: params.get("$select").cloned(),
            top,
            skip_token,
            raw: params.clone(),
        })
    }

    /// One page of `items` with an `@odata.nextLink` when more remain.
    pub fn page(
        &self,
        items: Vec<Value>,
        default_top: usize,
        base_url: &str,
        path: &str,
        context: &str,
    ) -> Value {
        let start = self.skip_token.unwrap_or(0);
        let size = self.top.unwrap_or(default_top);
        let total = items.len();
        let page: Vec<Value> = items.into_iter().skip(start).take(size).collect();
        let mut body = Map::new();
        body.insert(
            "@odata.context".into(),
            Value::String(format!("{base_url}/v1.0/$metadata#{context}")),
        );
        if start + size < total {
            let mut query = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &self.raw {
                if k != "$skiptoken" {
                    query.append_pair(k, v);
                }
            }
            query.append_pair("$skiptoken", &format!("o.{}", start + size));
            body.insert(
                "@odata.nextLink".into(),
                Value::String(format!("{base_url}{path}?{}", query.finish())),
            );
        }
        body.insert("value".into(), Value::Array(page));
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_parse_and_match() {
        let allowed = [
            "userPrincipalName",
            "createdDateTime",
            "status/errorCode",
            "displayName",
        ];
        let f = Filter::parse(
            "userPrincipalName eq 'Adele@x.example' and createdDateTime ge 2026-11-01T00:00:00Z and status/errorCode eq 50053",
            &allowed,
            "signIn",
        )
        .unwrap();
        let hit = json!({"userPrincipalName": "adele@x.example", "createdDateTime": "2026-11-20T09:00:00Z", "status": {"errorCode": 50053}});
        let miss = json!({"userPrincipalName": "adele@x.example", "createdDateTime": "2026-11-20T09:00:00Z", "status": {"errorCode": 0}});
        assert!(f.matches(&hit));
        assert!(!f.matches(&miss));
        let s = Filter::parse(
            "startswith(displayName,'mar') or displayName eq 'O''Brien'",
            &allowed,
            "user",
        )
        .unwrap();
        assert!(s.matches(&json!({"displayName": "Maria Lopez"})));
        assert!(s.matches(&json!({"displayName": "O'Brien"})));
        assert!(Filter::parse("jobTitle eq 'x'", &allowed, "user").is_err());
        assert!(Filter::parse("displayName eq", &allowed, "user").is_err());
    }
}
