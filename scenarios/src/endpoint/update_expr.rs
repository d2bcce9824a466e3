//! Update expressions (`SET`, `REMOVE`, `ADD`, `DELETE` sections, `+`/`-`, `if_not_exists`,
//! `list_append`): the grammar on top of the condition parser's tokens and placeholders
//! ([`Parser`]), the checks DynamoDB makes before reading the item, and applying the actions
//! to an item. Paths are top-level attribute names, as in the condition language.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::attr::{single, Number};
use super::expr::{CmpOp, Operand, Parser, Stream, Tok};

const KIND: &str = "UpdateExpression";

/// A value operand of a `SET` action.
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOperand {
    /// An attribute of the item as it was before the update.
    Path(String),
    /// A literal from ExpressionAttributeValues.
    Value(Value),
    /// `if_not_exists(path, operand)`.
    IfNotExists(String, Box<UpdateOperand>),
    /// `list_append(a, b)`.
    ListAppend(Box<UpdateOperand>, Box<UpdateOperand>),
    /// `a + b` or, with `true`, `a - b`.
    Arith(Box<UpdateOperand>, Box<UpdateOperand>, bool),
}

/// One action of an update expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `SET path = value`
    Set(String, UpdateOperand),
    /// `REMOVE path`
    Remove(String),
    /// `ADD path :v` (a number or a set)
    Add(String, Value),
    /// `DELETE path :v` (a set)
    Delete(String, Value),
}

impl Action {
    /// The attribute the action changes.
    pub fn target(&self) -> &str {
        match self {
            Action::Set(p, _) | Action::Remove(p) | Action::Add(p, _) | Action::Delete(p, _) => p,
        }
    }
}

fn invalid(msg: impl std::fmt::Display) -> String {
    format!("Invalid {KIND}: {msg}")
}

/// The type letter of a literal value (`S`, `N`, `L`, ...).
fn type_of(v: &Value) -> &str {
    single(v).map(|(t, _)| t).unwrap_or("")
}

/// The upper-case type name DynamoDB uses in `ADD`/`DELETE` operand errors.
fn long_type(t: &str) -> &str {
    match t {
        "S" => "STRING",
        "N" => "NUMBER",
        "B" => "BINARY",
        "BOOL" => "BOOLEAN",
        "NULL" => "NULL",
        "L" => "LIST",
        "M" => "MAP",
        other => other,
    }
}

impl Parser<'_> {
    /// Parses an update expression into its actions, in order, with DynamoDB's checks on
    /// sections, overlapping paths and operand types.
    pub fn parse_update(&mut self, src: &str) -> Result<Vec<Action>, String> {
        if src.trim().is_empty() {
            return Err(invalid("The expression can not be empty;"));
        }
        if src.len() > super::expr::MAX_EXPRESSION_BYTES {
            return Err(invalid(format!(
                "Expression size has exceeded the maximum allowed size; expression size: {}",
                src.len()
            )));
        }
        let mut st = Stream {
            toks: super::expr::tokenize(src, KIND)?,
            pos: 0,
            kind: KIND,
            depth: 0,
        };
        let mut sections = BTreeSet::new();
        let mut actions = Vec::new();
        while st.peek().is_some() {
            let section = match st.next() {
                Some(Tok::Ident(w))
                    if ["SET", "REMOVE", "ADD", "DELETE"]
                        .iter()
                        .any(|k| k.eq_ignore_ascii_case(&w)) =>
                {
                    w.to_ascii_uppercase()
                }
                _ => {
                    st.pos -= 1;
                    return Err(st.syntax());
                }
            };
            if !sections.insert(section.clone()) {
                return Err(invalid(format!(
                    "The \"{section}\" section can only be used once in an update expression;"
                )));
            }
            loop {
                let path = self.path(&mut st)?;
                let action = match section.as_str() {
                    "SET" => {
                        st.expect(Tok::Op(CmpOp::Eq))?;
                        Action::Set(path, self.set_value(&mut st)?)
                    }
                    "REMOVE" => Action::Remove(path),
                    op => {
                        let v = match st.peek() {
                            Some(Tok::Val(_)) => match self.operand(&mut st)? {
                                Operand::Value(v) => v,
                                Operand::Path(_) => unreachable!("a :value token"),
                            },
                            _ => return Err(st.syntax()),
                        };
                        let t = type_of(&v);
                        let ok = match op {
                            "ADD" => matches!(t, "N" | "SS" | "NS" | "BS"),
                            _ => matches!(t, "SS" | "NS" | "BS"),
                        };
                        if !ok {
                            return Err(invalid(format!(
                                "Incorrect operand type for operator or function; operator: {op}, operand type: {}",
                                long_type(t)
                            )));
                        }
                        if op == "ADD" {
                            Action::Add(path, v)
                        } else {
                            Action::Delete(path, v)
                        }
                    }
                };
                actions.push(action);
                if st.peek() == Some(&Tok::Comma) {
                    st.next();
                    continue;
                }
                break;
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for a in &actions {
            let p = a.target();
            if seen.contains(&p) {
                return Err(invalid(format!(
                    "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{p}], path two: [{p}]"
                )));
            }
            seen.push(p);
        }
        Ok(actions)
    }

    /// `operand [(+|-) operand]`
    fn set_value(&mut self, st: &mut Stream) -> Result<UpdateOperand, String> {
        let a = self.update_operand(st)?;
        let minus = match st.peek() {
            Some(Tok::Plus) => false,
            Some(Tok::Minus) => true,
            _ => return Ok(a),
        };
        st.next();
        let b = self.update_operand(st)?;
        for o in [&a, &b] {
            if let UpdateOperand::Value(v) = o {
                if type_of(v) != "N" {
                    return Err(invalid(format!(
                        "Incorrect operand type for operator or function; operator or function: {}, operand type: {}",
                        if minus { "-" } else { "+" },
                        type_of(v)
                    )));
                }
            }
        }
        Ok(UpdateOperand::Arith(Box::new(a), Box::new(b), minus))
    }

    /// A path, a `:value`, or a function call.
    fn update_operand(&mut self, st: &mut Stream) -> Result<UpdateOperand, String> {
        if let (Some(Tok::Ident(f)), Some(Tok::LParen)) =
            (st.toks.get(st.pos).cloned(), st.toks.get(st.pos + 1))
        {
            st.pos += 2;
            if f != "if_not_exists" && f != "list_append" {
                return Err(invalid(format!("Invalid function name; function: {f}")));
            }
            // Functions nest (`list_append(list_append(...), ...)`): bounded like parentheses.
            st.deeper()?;
            let mut args = Vec::new();
            if st.peek() != Some(&Tok::RParen) {
                loop {
                    args.push(self.set_value(st)?);
                    if st.peek() == Some(&Tok::Comma) {
                        st.next();
                        continue;
                    }
                    break;
                }
            }
            st.expect(Tok::RParen)?;
            st.depth -= 1;
            if args.len() != 2 {
                return Err(invalid(format!(
                    "Incorrect number of operands for operator or function; operator or function: {f}, number of operands: {}",
                    args.len()
                )));
            }
            let b = args.pop().expect("two");
            let a = args.pop().expect("two");
            return if f == "if_not_exists" {
                match a {
                    UpdateOperand::Path(p) => Ok(UpdateOperand::IfNotExists(p, Box::new(b))),
                    _ => Err(invalid(
                        "Operator or function requires a document path; operator or function: if_not_exists",
                    )),
                }
            } else {
                for o in [&a, &b] {
                    if let UpdateOperand::Value(v) = o {
                        if type_of(v) != "L" {
                            return Err(invalid(format!(
                                "Incorrect operand type for operator or function; operator or function: list_append, operand type: {}",
                                type_of(v)
                            )));
                        }
                    }
                }
                Ok(UpdateOperand::ListAppend(Box::new(a), Box::new(b)))
            };
        }
        Ok(match self.operand(st)? {
            Operand::Path(p) => UpdateOperand::Path(p),
            Operand::Value(v) => UpdateOperand::Value(v),
        })
    }
}

const MISSING: &str =
    "The provided expression refers to an attribute that does not exist in the item";
const BAD_TYPE: &str = "An operand in the update expression has an incorrect data type";

fn number(v: &Value) -> Result<Number, String> {
    match single(v) {
        Ok(("N", Value::String(s))) => Number::parse(s),
        _ => Err(BAD_TYPE.into()),
    }
}

/// Evaluates a `SET` operand against the item as it was before the update.
fn eval(o: &UpdateOperand, old: &Map<String, Value>) -> Result<Value, String> {
    match o {
        UpdateOperand::Path(p) => old.get(p).cloned().ok_or_else(|| MISSING.to_string()),
        UpdateOperand::Value(v) => Ok(v.clone()),
        UpdateOperand::IfNotExists(p, dflt) => match old.get(p) {
            Some(v) => Ok(v.clone()),
            None => eval(dflt, old),
        },
        UpdateOperand::ListAppend(a, b) => {
            let (a, b) = (eval(a, old)?, eval(b, old)?);
            match (a.get("L"), b.get("L")) {
                (Some(Value::Array(x)), Some(Value::Array(y))) => {
                    let mut l = x.clone();
                    l.extend(y.iter().cloned());
                    Ok(serde_json::json!({ "L": l }))
                }
                _ => Err(BAD_TYPE.into()),
            }
        }
        UpdateOperand::Arith(a, b, minus) => {
            let (a, b) = (number(&eval(a, old)?)?, number(&eval(b, old)?)?);
            Ok(serde_json::json!({ "N": a.add(&b, *minus)?.to_text() }))
        }
    }
}

/// The elements of a set value (`SS`/`NS`/`BS`), as stored (numbers are normalised, so
/// equal elements have equal text).
fn set_elems(v: &Value) -> Option<(&str, &Vec<Value>)> {
    match single(v) {
        Ok((t @ ("SS" | "NS" | "BS"), Value::Array(a))) => Some((t, a)),
        _ => None,
    }
}

/// Applies `actions` to `item` (an existing item, or just the key of a new one). `SET` values
/// are all computed from the item as it was before any action, as DynamoDB does.
pub fn apply(actions: &[Action], item: &mut Map<String, Value>) -> Result<(), String> {
    let old = item.clone();
    let mut set_values = Vec::new();
    for a in actions {
        if let Action::Set(_, o) = a {
            set_values.push(eval(o, &old)?);
        }
    }
    let mut set_values = set_values.into_iter();
    for a in actions {
        match a {
            Action::Set(p, _) => {
                item.insert(p.clone(), set_values.next().expect("one per SET"));
            }
            Action::Remove(p) => {
                item.remove(p);
            }
            Action::Add(p, v) => {
                let new = match (item.get(p), type_of(v)) {
                    (None, _) => v.clone(),
                    (Some(cur), "N") => {
                        serde_json::json!({ "N": number(cur)?.add(&number(v)?, false)?.to_text() })
                    }
                    (Some(cur), t) => {
                        let (ct, have) = set_elems(cur).ok_or(BAD_TYPE)?;
                        let (_, add) = set_elems(v).ok_or(BAD_TYPE)?;
                        if ct != t {
                            return Err(BAD_TYPE.into());
                        }
                        let mut all = have.clone();
                        for e in add {
                            if !all.contains(e) {
                                all.push(e.clone());
                            }
                        }
                        serde_json::json!({ t: all })
                    }
                };
                item.insert(p.clone(), new);
            }
            Action::Delete(p, v) => {
                let Some(cur) = item.get(p) else { continue };
                let (ct, have) = set_elems(cur).ok_or(BAD_TYPE)?;
                let (t, del) = set_elems(v).ok_or(BAD_TYPE)?;
                if ct != t {
                    return Err(BAD_TYPE.into());
                }
                let left: Vec<Value> = have.iter().filter(|e| !del.contains(e)).cloned().collect();
                if left.is_empty() {
                    item.remove(p);
                } else {
                    item.insert(p.clone(), serde_json::json!({ t: left }));
                }
            }
        }
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

    fn parse(src: &str, values: Value) -> Result<Vec<Action>, String> {
        let names = map(json!({"#n": "n"}));
        let values = map(values);
        Parser::new(Some(&names), Some(&values)).parse_update(src)
    }

    #[test]
    fn parses_every_section_and_function() {
        let a = parse(
            "SET a = :one, b = b + :one, c = if_not_exists(c, :one) - :one, d = list_append(d, :l) REMOVE e, f ADD #n :one, s :ss DELETE t :ss",
            json!({":one": {"N": "1"}, ":l": {"L": [{"S": "x"}]}, ":ss": {"SS": ["x"]}}),
        )
        .unwrap();
        let targets: Vec<&str> = a.iter().map(Action::target).collect();
        assert_eq!(targets, ["a", "b", "c", "d", "e", "f", "n", "s", "t"]);
    }

    #[test]
    fn nesting_and_size_are_bounded() {
        let vals = json!({":l": {"L": []}});
        let nest = |n: usize| format!("SET a = {}a{}", "list_append(".repeat(n), ", :l)".repeat(n));
        assert!(parse(&nest(50), vals.clone()).is_ok());
        let e = parse(&nest(150), vals.clone()).unwrap_err();
        assert!(e.contains("more than 100 levels"), "{e}");
        let long = format!("SET a = :l{}", ", b = :l".repeat(600));
        let e = parse(&long, vals).unwrap_err();
        assert!(e.contains("Expression size has exceeded"), "{e}");
    }

    #[test]
    fn refuses_bad_expressions_with_dynamodbs_wording() {
        let vals = json!({":s": {"S": "x"}, ":n": {"N": "1"}, ":l": {"L": []}});
        for (src, msg) in [
            ("", "The expression can not be empty;"),
            (
                "SET a = :n SET b = :n",
                "The \"SET\" section can only be used once",
            ),
            ("SET a = :n, a = :n", "Two document paths overlap"),
            ("SET a = :n REMOVE a", "Two document paths overlap"),
            ("ADD a :s", "operator: ADD, operand type: STRING"),
            ("DELETE a :n", "operator: DELETE, operand type: NUMBER"),
            ("SET a = a + :s", "operator or function: +, operand type: S"),
            (
                "SET a = list_append(a, :n)",
                "operator or function: list_append, operand type: N",
            ),
            ("SET a = if_not_exists(:n, a)", "requires a document path"),
            ("SET a = foo(a, :n)", "Invalid function name; function: foo"),
            ("SET a = list_append(a)", "number of operands: 1"),
            ("SET a = :undefined", "attribute value: :undefined"),
            ("SET a :n", "Syntax error"),
            ("PUT a = :n", "Syntax error"),
            ("SET status = :n", "reserved keyword: status"),
        ] {
            let e = parse(src, vals.clone()).unwrap_err();
            assert!(e.contains(msg), "{src}: {e}");
            assert!(e.starts_with("Invalid UpdateExpression: "), "{src}: {e}");
        }
    }

    #[test]
    fn applies_actions_against_the_old_item() {
        let vals = json!({":one": {"N": "1"}, ":l": {"L": [{"S": "z"}]},
                          ":ss": {"SS": ["b", "c"]}, ":del": {"SS": ["a", "b", "c"]}});
        let actions = parse(
            "SET x = y, y = y + :one, z = if_not_exists(z, :one), l = list_append(:l, l) ADD cnt :one, s :ss REMOVE gone",
            vals,
        )
        .unwrap();
        let mut item = map(json!({"y": {"N": "41"}, "l": {"L": [{"S": "a"}]},
                                  "s": {"SS": ["a", "b"]}, "gone": {"BOOL": true}}));
        apply(&actions, &mut item).unwrap();
        assert_eq!(
            Value::Object(item.clone()),
            json!({"x": {"N": "41"}, "y": {"N": "42"}, "z": {"N": "1"},
                   "l": {"L": [{"S": "z"}, {"S": "a"}]}, "cnt": {"N": "1"},
                   "s": {"SS": ["a", "b", "c"]}})
        );
        let del = parse("DELETE s :del", json!({":del": {"SS": ["a", "b", "c"]}})).unwrap();
        apply(&del, &mut item).unwrap();
        assert!(!item.contains_key("s"), "an emptied set is removed");

        for (src, vals, msg) in [
            ("SET a = missing", json!({}), MISSING),
            ("SET a = s + :n", json!({":n": {"N": "1"}}), BAD_TYPE),
            ("ADD s :n", json!({":n": {"N": "1"}}), BAD_TYPE),
            ("ADD n :ns", json!({":ns": {"NS": ["1"]}}), BAD_TYPE),
        ] {
            let mut it = map(json!({"s": {"S": "x"}, "n": {"N": "1"}}));
            let e = apply(&parse(src, vals).unwrap(), &mut it).unwrap_err();
            assert_eq!(e, msg, "{src}");
        }
    }
}
