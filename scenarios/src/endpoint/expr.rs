//! The expression language subset the endpoint evaluates: condition, filter and key
//! condition expressions with `#name`/`:value` placeholders, comparisons, `BETWEEN`,
//! `AND`/`OR`/`NOT`, parentheses, `attribute_exists`, `attribute_not_exists`, `begins_with`.
//! Paths are top-level attribute names (no `a.b` or `a[0]`): those are refused clearly.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::attr::{key_value, single, values_equal};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// A top-level attribute name (placeholders already resolved).
    Path(String),
    /// A literal from ExpressionAttributeValues.
    Value(Value),
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// `a OR b`
    Or(Box<Cond>, Box<Cond>),
    /// `a AND b`
    And(Box<Cond>, Box<Cond>),
    /// `NOT a`
    Not(Box<Cond>),
    /// `attribute_exists(path)`
    Exists(String),
    /// `attribute_not_exists(path)`
    NotExists(String),
    /// `begins_with(path, :prefix)`
    BeginsWith(Operand, Operand),
    /// `a op b`
    Cmp(Operand, CmpOp, Operand),
    /// `a BETWEEN lo AND hi`
    Between(Operand, Operand, Operand),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Ident(String),
    Name(String),
    Val(String),
    Op(CmpOp),
    LParen,
    RParen,
    Comma,
    /// `+` (update expressions only).
    Plus,
    /// `-` (update expressions only).
    Minus,
}

/// Placeholders in use, for the "unused" checks DynamoDB makes across all expressions.
#[derive(Debug, Default)]
pub struct Usage {
    /// `#names` referenced.
    pub names: BTreeSet<String>,
    /// `:values` referenced.
    pub values: BTreeSet<String>,
}

/// Parses expressions of one request against its placeholder maps.
pub struct Parser<'a> {
    pub(super) names: Option<&'a Map<String, Value>>,
    pub(super) values: Option<&'a Map<String, Value>>,
    /// Placeholders referenced so far.
    pub usage: Usage,
}

/// DynamoDB's limit on the length of any expression string, bytes.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// Most parentheses and `NOT`s nested in one another. The parser, [`Cond::eval`] and the drop of
/// a [`Cond`] recurse once per level, so without a bound a request could overflow the stack.
pub const MAX_NESTING: usize = 100;

pub(super) struct Stream<'s> {
    pub(super) toks: Vec<Tok>,
    pub(super) pos: usize,
    pub(super) kind: &'s str,
    /// Parentheses and `NOT`s open at `pos`.
    pub(super) depth: usize,
}

pub(super) fn tokenize(s: &str, kind: &str) -> Result<Vec<Tok>, String> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let word = |i: usize| {
        let mut j = i;
        while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
            j += 1;
        }
        j
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'(' => {
                out.push(Tok::LParen);
                i += 1
            }
            b')' => {
                out.push(Tok::RParen);
                i += 1
            }
            b',' => {
                out.push(Tok::Comma);
                i += 1
            }
            b'+' => {
                out.push(Tok::Plus);
                i += 1
            }
            b'-' => {
                out.push(Tok::Minus);
                i += 1
            }
            b'=' => {
                out.push(Tok::Op(CmpOp::Eq));
                i += 1
            }
            b'<' | b'>' => {
                let two = b.get(i + 1).copied();
                let (op, n) = match (c, two) {
                    (b'<', Some(b'>')) => (CmpOp::Ne, 2),
                    (b'<', Some(b'=')) => (CmpOp::Le, 2),
                    (b'>', Some(b'=')) => (CmpOp::Ge, 2),
                    (b'<', _) => (CmpOp::Lt, 1),
                    _ => (CmpOp::Gt, 1),
                };
                out.push(Tok::Op(op));
                i += n;
            }
            b'#' | b':' => {
                let j = word(i + 1);
                if j == i + 1 {
                    return Err(format!(
                        "Invalid {kind}: Syntax error; token: \"{}\", near: \"{s}\"",
                        c as char
                    ));
                }
                let t = s[i..j].to_string();
                out.push(if c == b'#' { Tok::Name(t) } else { Tok::Val(t) });
                i = j;
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let j = word(i);
                out.push(Tok::Ident(s[i..j].to_string()));
                i = j;
            }
            b'.' | b'[' => {
                return Err(format!(
                    "Invalid {kind}: nested attribute paths are not supported by this endpoint"
                ))
            }
            _ => {
                return Err(format!(
                    "Invalid {kind}: Syntax error; token: \"{}\", near: \"{s}\"",
                    c as char
                ))
            }
        }
    }
    Ok(out)
}

impl Stream<'_> {
    /// Enters one more level of nesting (leave it with `depth -= 1`).
    pub(super) fn deeper(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(format!(
                "Invalid {}: The expression nests parentheses or NOT more than {MAX_NESTING} levels deep",
                self.kind
            ));
        }
        Ok(())
    }

    pub(super) fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }
    pub(super) fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    pub(super) fn keyword(&mut self, kw: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Ident(w)) if w.eq_ignore_ascii_case(kw)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    pub(super) fn syntax(&self) -> String {
        format!(
            "Invalid {}: Syntax error; unexpected token: {:?}",
            self.kind,
            self.peek()
        )
    }
    pub(super) fn expect(&mut self, t: Tok) -> Result<(), String> {
        if self.peek() == Some(&t) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax())
        }
    }
}

const RESERVED: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "BETWEEN",
    "IN",
    "SIZE",
    "DATA",
    "NAME",
    "TABLE",
    "VALUE",
    "KEY",
    "TIME",
    "TIMESTAMP",
    "STATUS",
    "YEAR",
    "DATE",
    "COUNT",
    "USER",
    "SET",
    "REMOVE",
    "ADD",
    "DELETE",
];

impl<'a> Parser<'a> {
    /// A parser resolving placeholders from these (optional) maps.
    pub fn new(
        names: Option<&'a Map<String, Value>>,
        values: Option<&'a Map<String, Value>>,
    ) -> Self {
        Parser {
            names,
            values,
            usage: Usage::default(),
        }
    }

    /// Parses one expression; `kind` names it in errors (`ConditionExpression`, ...).
    pub fn parse(&mut self, src: &str, kind: &str) -> Result<Cond, String> {
        if src.trim().is_empty() {
            return Err(format!("Invalid {kind}: The expression can not be empty;"));
        }
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(format!(
                "Invalid {kind}: Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            ));
        }
        let mut st = Stream {
            toks: tokenize(src, kind)?,
            pos: 0,
            kind,
            depth: 0,
        };
        let c = self.or(&mut st)?;
        if st.peek().is_some() {
            return Err(st.syntax());
        }
        Ok(c)
    }

    fn or(&mut self, st: &mut Stream) -> Result<Cond, String> {
        let mut l = self.and(st)?;
        while st.keyword("OR") {
            l = Cond::Or(Box::new(l), Box::new(self.and(st)?));
        }
        Ok(l)
    }

    fn and(&mut self, st: &mut Stream) -> Result<Cond, String> {
        let mut l = self.not(st)?;
        while st.keyword("AND") {
            l = Cond::And(Box::new(l), Box::new(self.not(st)?));
        }
        Ok(l)
    }

    fn not(&mut self, st: &mut Stream) -> Result<Cond, String> {
        if st.keyword("NOT") {
            st.deeper()?;
            let c = self.not(st)?;
            st.depth -= 1;
            return Ok(Cond::Not(Box::new(c)));
        }
        self.primary(st)
    }

    fn primary(&mut self, st: &mut Stream) -> Result<Cond, String> {
        if st.peek() == Some(&Tok::LParen) {
            st.next();
            st.deeper()?;
            let c = self.or(st)?;
            st.expect(Tok::RParen)?;
            st.depth -= 1;
            return Ok(c);
        }
        if let (Some(Tok::Ident(f)), Some(Tok::LParen)) =
            (st.toks.get(st.pos).cloned(), st.toks.get(st.pos + 1))
        {
            st.pos += 2;
            let c = match f.as_str() {
                "attribute_exists" | "attribute_not_exists" => {
                    let p = self.path(st)?;
                    if f == "attribute_exists" {
                        Cond::Exists(p)
                    } else {
                        Cond::NotExists(p)
                    }
                }
                "begins_with" => {
                    let a = self.operand(st)?;
                    st.expect(Tok::Comma)?;
                    let b = self.operand(st)?;
                    Cond::BeginsWith(a, b)
                }
                other => {
                    return Err(format!(
                        "Invalid {}: Invalid function name; function: {other}",
                        st.kind
                    ))
                }
            };
            st.expect(Tok::RParen)?;
            return Ok(c);
        }
        let a = self.operand(st)?;
        if st.keyword("BETWEEN") {
            let lo = self.operand(st)?;
            if !st.keyword("AND") {
                return Err(st.syntax());
            }
            let hi = self.operand(st)?;
            return Ok(Cond::Between(a, lo, hi));
        }
        let Some(Tok::Op(op)) = st.next() else {
            st.pos -= 1;
            return Err(st.syntax());
        };
        let b = self.operand(st)?;
        Ok(Cond::Cmp(a, op, b))
    }

    pub(super) fn path(&mut self, st: &mut Stream) -> Result<String, String> {
        match st.next() {
            Some(Tok::Name(n)) => {
                let v = self
                    .names
                    .and_then(|m| m.get(&n))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        format!(
                            "Invalid {}: An expression attribute name used in the document path is not defined; attribute name: {n}",
                            st.kind
                        )
                    })?;
                self.usage.names.insert(n);
                Ok(v.to_string())
            }
            Some(Tok::Ident(w)) => {
                if RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&w)) {
                    return Err(format!(
                        "Invalid {}: Attribute name is a reserved keyword; reserved keyword: {w}",
                        st.kind
                    ));
                }
                Ok(w)
            }
            _ => {
                st.pos -= 1;
                Err(st.syntax())
            }
        }
    }

    pub(super) fn operand(&mut self, st: &mut Stream) -> Result<Operand, String> {
        if let Some(Tok::Val(v)) = st.peek().cloned() {
            st.next();
            let val = self.values.and_then(|m| m.get(&v)).cloned().ok_or_else(|| {
                format!(
                    "Invalid {}: An expression attribute value used in expression is not defined; attribute value: {v}",
                    st.kind
                )
            })?;
            self.usage.values.insert(v);
            return Ok(Operand::Value(val));
        }
        self.path(st).map(Operand::Path)
    }
}

fn resolve<'v>(o: &'v Operand, item: &'v Map<String, Value>) -> Option<&'v Value> {
    match o {
        Operand::Path(p) => item.get(p),
        Operand::Value(v) => Some(v),
    }
}

fn order(a: &Value, b: &Value) -> Option<Ordering> {
    let (x, y) = (key_value(a)?, key_value(b)?);
    (x.type_letter() == y.type_letter()).then(|| x.cmp(&y))
}

impl Cond {
    /// Evaluates against an item (an absent item is an empty map).
    pub fn eval(&self, item: &Map<String, Value>) -> bool {
        match self {
            Cond::Or(a, b) => a.eval(item) || b.eval(item),
            Cond::And(a, b) => a.eval(item) && b.eval(item),
            Cond::Not(a) => !a.eval(item),
            Cond::Exists(p) => item.contains_key(p),
            Cond::NotExists(p) => !item.contains_key(p),
            Cond::BeginsWith(a, b) => match (resolve(a, item), resolve(b, item)) {
                (Some(a), Some(b)) => match (single(a), single(b)) {
                    (Ok((ta, va)), Ok((tb, vb))) if ta == tb && (ta == "S" || ta == "B") => {
                        match (va.as_str(), vb.as_str()) {
                            (Some(x), Some(y)) if ta == "S" => x.starts_with(y),
                            _ => match (key_value(a), key_value(b)) {
                                (
                                    Some(super::attr::KeyValue::B(x)),
                                    Some(super::attr::KeyValue::B(y)),
                                ) => x.starts_with(&y),
                                _ => false,
                            },
                        }
                    }
                    _ => false,
                },
                _ => false,
            },
            Cond::Cmp(a, op, b) => match (resolve(a, item), resolve(b, item)) {
                (Some(x), Some(y)) => match op {
                    CmpOp::Eq => values_equal(x, y),
                    CmpOp::Ne => !values_equal(x, y),
                    CmpOp::Lt => order(x, y) == Some(Ordering::Less),
                    CmpOp::Le => matches!(order(x, y), Some(Ordering::Less | Ordering::Equal)),
                    CmpOp::Gt => order(x, y) == Some(Ordering::Greater),
                    CmpOp::Ge => {
                        matches!(order(x, y), Some(Ordering::Greater | Ordering::Equal))
                    }
                },
                _ => false,
            },
            Cond::Between(a, lo, hi) => {
                match (resolve(a, item), resolve(lo, item), resolve(hi, item)) {
                    (Some(x), Some(l), Some(h)) => {
                        matches!(order(x, l), Some(Ordering::Greater | Ordering::Equal))
                            && matches!(order(x, h), Some(Ordering::Less | Ordering::Equal))
                    }
                    _ => false,
                }
            }
        }
    }

    /// Attribute names the expression reads.
    pub fn paths(&self, out: &mut BTreeSet<String>) {
        let op = |o: &Operand, out: &mut BTreeSet<String>| {
            if let Operand::Path(p) = o {
                out.insert(p.clone());
            }
        };
        match self {
            Cond::Or(a, b) | Cond::And(a, b) => {
                a.paths(out);
                b.paths(out)
            }
            Cond::Not(a) => a.paths(out),
            Cond::Exists(p) | Cond::NotExists(p) => {
                out.insert(p.clone());
            }
            Cond::BeginsWith(a, b) | Cond::Cmp(a, _, b) => {
                op(a, out);
                op(b, out)
            }
            Cond::Between(a, b, c) => {
                op(a, out);
                op(b, out);
                op(c, out)
            }
        }
    }
}

/// Checks that every placeholder supplied was used (DynamoDB refuses unused ones).
pub fn check_unused(
    usage: &Usage,
    names: Option<&Map<String, Value>>,
    values: Option<&Map<String, Value>>,
) -> Result<(), String> {
    let unused = |m: Option<&Map<String, Value>>, used: &BTreeSet<String>| -> Vec<String> {
        m.map(|m| m.keys().filter(|k| !used.contains(*k)).cloned().collect())
            .unwrap_or_default()
    };
    let n = unused(names, &usage.names);
    if !n.is_empty() {
        return Err(format!(
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
            n.join(", ")
        ));
    }
    let v = unused(values, &usage.values);
    if !v.is_empty() {
        return Err(format!(
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
            v.join(", ")
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn parses_and_evaluates() {
        let names = map(json!({"#d": "deviceId", "#s": "seq"}));
        let values = map(json!({":d": {"S": "hopper"}, ":lo": {"N": "2"}, ":hi": {"N": "10"}}));
        let mut p = Parser::new(Some(&names), Some(&values));
        let c = p
            .parse(
                "#d = :d AND #s BETWEEN :lo AND :hi",
                "KeyConditionExpression",
            )
            .unwrap();
        let item = map(json!({"deviceId": {"S": "hopper"}, "seq": {"N": "3"}}));
        assert!(c.eval(&item));
        let item9 = map(json!({"deviceId": {"S": "hopper"}, "seq": {"N": "11"}}));
        assert!(!c.eval(&item9));
        assert!(check_unused(&p.usage, Some(&names), Some(&values)).is_ok());

        let c = p
            .parse("attribute_not_exists(#d)", "ConditionExpression")
            .unwrap();
        assert!(!c.eval(&item));
        assert!(c.eval(&Map::new()));
        let c = p
            .parse(
                "NOT (attribute_exists(x) OR begins_with(#d, :d))",
                "ConditionExpression",
            )
            .unwrap();
        assert!(!c.eval(&item));
    }

    /// Found by fuzz/ (expression): deeply nested parentheses or NOTs, or a long OR chain, in a
    /// request body overflowed the stack (the process aborted); they are refused or bounded now.
    #[test]
    fn bounds_size_and_nesting() {
        let values = map(json!({":v": {"S": "1"}}));
        let parse = |src: &str| Parser::new(None, Some(&values)).parse(src, "FilterExpression");
        let deep = |n: usize| format!("{}a = :v{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&deep(MAX_NESTING)).is_ok());
        let e = parse(&deep(MAX_NESTING + 1)).unwrap_err();
        assert!(e.contains("more than 100 levels"), "{e}");
        let e = parse(&format!("{}a = :v", "NOT ".repeat(MAX_NESTING + 1))).unwrap_err();
        assert!(e.contains("more than 100 levels"), "{e}");
        // 1 MB of them, as a 4 MB body could carry: a clean error, not a crash.
        let e = parse(&deep(500_000)).unwrap_err();
        assert_eq!(
            e,
            "Invalid FilterExpression: Expression size has exceeded the maximum allowed size; expression size: 1000006"
        );
        let chain = vec!["a = :v"; 4096 / 10].join(" OR ");
        assert!(chain.len() <= MAX_EXPRESSION_BYTES);
        assert!(parse(&chain).unwrap().eval(&map(json!({"a": {"S": "1"}}))));
    }

    #[test]
    fn refuses_undefined_unused_and_bad_syntax() {
        let names = map(json!({"#d": "deviceId", "#x": "x"}));
        let mut p = Parser::new(Some(&names), None);
        let e = p
            .parse("attribute_not_exists(#q)", "ConditionExpression")
            .unwrap_err();
        assert!(e.contains("attribute name: #q"), "{e}");
        p.parse("attribute_not_exists(#d)", "ConditionExpression")
            .unwrap();
        let e = check_unused(&p.usage, Some(&names), None).unwrap_err();
        assert_eq!(
            e,
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#x}"
        );
        for bad in [
            "a =",
            "(a = :v",
            "a.b = :v",
            "foo(a)",
            "a = = b",
            "",
            "status = :v",
        ] {
            assert!(
                Parser::new(None, Some(&map(json!({":v": {"S": "1"}}))))
                    .parse(bad, "ConditionExpression")
                    .is_err(),
                "{bad}"
            );
        }
    }
}
