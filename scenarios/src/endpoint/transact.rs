//! `TransactWriteItems` (Put, Update, Delete, ConditionCheck: all applied or none, with
//! `TransactionCanceledException` and its `CancellationReasons`) and `TransactGetItems`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::attr::{item_size, MAX_ITEM_BYTES};
use super::expr::{check_unused, Cond, Parser};
use super::protocol::{
    expression_values, map_param, param_missing, project, projection, str_param, table, table_name,
    validated_item, ApiError, Context, R,
};
use super::tables::{PrimaryKey, Tables};
use super::update::ParsedUpdate;

/// Most actions in one transaction.
pub const MAX_TRANSACT_ITEMS: usize = 100;
/// Most item bytes a transaction reads or writes in all.
pub const MAX_TRANSACT_BYTES: usize = 4 * 1024 * 1024;

const ACTIONS: [&str; 4] = ["ConditionCheck", "Put", "Delete", "Update"];

enum Op {
    Check,
    Put(Map<String, Value>),
    Delete,
    Update(ParsedUpdate),
}

struct Planned {
    table: String,
    pk: PrimaryKey,
    op: Op,
    cond: Option<Cond>,
    /// `ReturnValuesOnConditionCheckFailure` is `ALL_OLD`.
    old_on_failure: bool,
}

fn list(req: &Map<String, Value>) -> R<&Vec<Value>> {
    let items = match req.get("TransactItems") {
        None | Some(Value::Null) => return Err(param_missing("transactItems")),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(ApiError::serialization(
                "Unexpected value type for TransactItems: expected a list",
            ))
        }
    };
    if items.is_empty() || items.len() > MAX_TRANSACT_ITEMS {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length {}",
            if items.is_empty() {
                "greater than or equal to 1".to_string()
            } else {
                format!("less than or equal to {MAX_TRANSACT_ITEMS}")
            }
        )));
    }
    Ok(items)
}

/// The single action object of one `TransactItems` member, and its name.
fn action<'a>(
    member: &'a Value,
    allowed: &[&'static str],
    what: &str,
) -> R<(&'static str, &'a Map<String, Value>)> {
    let m = member.as_object().ok_or_else(|| {
        ApiError::serialization("Unexpected value type for TransactItems: expected a structure")
    })?;
    let present: Vec<&'static str> = allowed
        .iter()
        .copied()
        .filter(|k| !matches!(m.get(*k), None | Some(Value::Null)))
        .collect();
    match present.as_slice() {
        [one] => {
            let body = m[*one].as_object().ok_or_else(|| {
                ApiError::serialization(format!(
                    "Unexpected value type for {one}: expected a structure"
                ))
            })?;
            Ok((one, body))
        }
        _ => Err(ApiError::validation(format!(
            "TransactItems can only contain one of {what}"
        ))),
    }
}

/// The condition of a Put/Delete/ConditionCheck, its placeholders all used.
fn condition(body: &Map<String, Value>, required: bool) -> R<Option<Cond>> {
    let names = map_param(body, "ExpressionAttributeNames")?;
    let values = expression_values(body)?;
    let src = str_param(body, "ConditionExpression")?;
    if required && src.is_none() {
        return Err(param_missing(
            "transactItems.member.conditionCheck.conditionExpression",
        ));
    }
    let mut p = Parser::new(names, values.as_ref());
    let c = match src {
        Some(s) => Some(
            p.parse(s, "ConditionExpression")
                .map_err(ApiError::validation)?,
        ),
        None => {
            if names.is_some() || values.is_some() {
                return Err(ApiError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            None
        }
    };
    check_unused(&p.usage, names, values.as_ref()).map_err(ApiError::validation)?;
    Ok(c)
}

fn old_on_failure(body: &Map<String, Value>) -> R<bool> {
    match str_param(body, "ReturnValuesOnConditionCheckFailure")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") => Ok(true),
        Some(other) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{other}' at 'transactItems.1.member.returnValuesOnConditionCheckFailure' failed to satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]"
        ))),
    }
}

fn plan(tables: &mut Tables, name: &'static str, body: &Map<String, Value>) -> R<Planned> {
    let old_on_failure = old_on_failure(body)?;
    let (tname, op, cond) = match name {
        "Update" => {
            if str_param(body, "UpdateExpression")?.is_none() {
                return Err(param_missing(
                    "transactItems.member.update.updateExpression",
                ));
            }
            let u = ParsedUpdate::parse(body)?;
            (u.table.clone(), Op::Update(u), None)
        }
        "Put" => {
            let tname = table_name(body)?.to_string();
            let item = validated_item(body, "Item")?;
            if item_size(&item) > MAX_ITEM_BYTES {
                return Err(ApiError::validation(
                    "Item size has exceeded the maximum allowed size",
                ));
            }
            (tname, Op::Put(item), condition(body, false)?)
        }
        "Delete" => (
            table_name(body)?.to_string(),
            Op::Delete,
            condition(body, false)?,
        ),
        _ => (
            table_name(body)?.to_string(),
            Op::Check,
            condition(body, true)?,
        ),
    };
    let pk = match &op {
        Op::Update(u) => u.resolve(tables)?,
        Op::Put(item) => table(tables, &tname)?
            .item_key(item)
            .map_err(ApiError::validation)?,
        Op::Check | Op::Delete => {
            let key = validated_item(body, "Key")?;
            table(tables, &tname)?
                .key_of(&key)
                .map_err(ApiError::validation)?
        }
    };
    Ok(Planned {
        table: tname,
        pk,
        op,
        cond,
        old_on_failure,
    })
}

fn cancelled(reasons: Vec<Value>) -> ApiError {
    let codes: Vec<&str> = reasons
        .iter()
        .map(|r| r["Code"].as_str().unwrap_or("None"))
        .collect();
    let mut e = ApiError::dynamo(
        "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
        format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            codes.join(", ")
        ),
    );
    e.extra
        .insert("CancellationReasons".into(), Value::Array(reasons));
    e
}

/// `TransactWriteItems`.
pub(super) fn transact_write_items(
    tables: &mut Tables,
    _: &Context<'_>,
    req: &Map<String, Value>,
) -> R<Value> {
    let members = list(req)?;
    let mut planned = Vec::new();
    let mut seen = BTreeSet::new();
    let mut bytes = 0;
    for m in members {
        let (name, body) = action(m, &ACTIONS, "Check, Put, Update or Delete")?;
        let p = plan(tables, name, body)?;
        if let Op::Put(item) = &p.op {
            bytes += item_size(item);
        }
        if !seen.insert((p.table.clone(), p.pk.clone())) {
            return Err(ApiError::validation(
                "Transaction request cannot include multiple operations on one item",
            ));
        }
        planned.push(p);
    }
    if bytes > MAX_TRANSACT_BYTES {
        return Err(ApiError::validation(
            "Transaction request cannot be larger than 4 MB",
        ));
    }
    // Every condition and every new item first; nothing is written unless all pass.
    let mut reasons = Vec::new();
    let mut results = Vec::new();
    let mut failed = false;
    for p in &planned {
        let old = tables.by_name[&p.table].items.get(&p.pk);
        let holds = match &p.op {
            Op::Update(u) => u.condition_holds(old),
            _ => {
                let empty = Map::new();
                p.cond
                    .as_ref()
                    .is_none_or(|c| c.eval(old.unwrap_or(&empty)))
            }
        };
        if !holds {
            failed = true;
            let mut r = json!({"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"});
            if let (true, Some(o)) = (p.old_on_failure, old) {
                r["Item"] = Value::Object(o.clone());
            }
            reasons.push(r);
            results.push(None);
            continue;
        }
        let new = match &p.op {
            Op::Update(u) => match u.new_item(old) {
                Ok(n) => Some(n),
                Err(e) => {
                    failed = true;
                    reasons.push(json!({"Code": "ValidationError", "Message": e.message}));
                    results.push(None);
                    continue;
                }
            },
            Op::Put(item) => Some(item.clone()),
            Op::Delete | Op::Check => None,
        };
        reasons.push(json!({"Code": "None"}));
        results.push(new);
    }
    if failed {
        return Err(cancelled(reasons));
    }
    for (p, new) in planned.into_iter().zip(results) {
        let t = tables
            .by_name
            .get_mut(&p.table)
            .expect("planned tables exist");
        match (p.op, new) {
            (Op::Delete, _) => {
                t.items.remove(&p.pk);
            }
            (Op::Check, _) => {}
            (_, Some(item)) => {
                t.items.insert(p.pk, item);
            }
            (_, None) => unreachable!("puts and updates have a new item"),
        }
    }
    Ok(json!({}))
}

/// `TransactGetItems`.
pub(super) fn transact_get_items(
    tables: &mut Tables,
    _: &Context<'_>,
    req: &Map<String, Value>,
) -> R<Value> {
    let members = list(req)?;
    let mut gets = Vec::new();
    for m in members {
        let (_, body) = action(m, &["Get"], "Get")?;
        let tname = table_name(body)?.to_string();
        let key = validated_item(body, "Key")?;
        let proj = projection(body)?;
        let pk = table(tables, &tname)?
            .key_of(&key)
            .map_err(ApiError::validation)?;
        gets.push((tname, pk, proj));
    }
    let mut bytes = 0;
    let mut out = Vec::new();
    for (tname, pk, proj) in &gets {
        match tables.by_name[tname].items.get(pk) {
            Some(item) => {
                bytes += item_size(item);
                out.push(json!({ "Item": project(item, proj) }));
            }
            None => out.push(json!({})),
        }
    }
    if bytes > MAX_TRANSACT_BYTES {
        return Err(ApiError::validation(
            "Transaction request cannot be larger than 4 MB",
        ));
    }
    Ok(json!({ "Responses": out }))
}
