//! `UpdateItem`: an update expression and an optional condition applied to one item (created
//! from its key when absent), with `ReturnValues`. The parsed request is shared with
//! `TransactWriteItems`' `Update` actions.

use serde_json::{json, Map, Value};

use super::attr::{item_size, MAX_ITEM_BYTES};
use super::expr::{check_unused, Cond, Parser};
use super::protocol::{
    conditional_failed, expression_values, map_param, str_param, table, table_name, validated_item,
    ApiError, Context, R,
};
use super::tables::{PrimaryKey, Tables};
use super::update_expr::{apply, Action};

/// What `ReturnValues` asks an update for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Returned {
    None,
    AllOld,
    UpdatedOld,
    AllNew,
    UpdatedNew,
}

fn returned(req: &Map<String, Value>) -> R<Returned> {
    Ok(match str_param(req, "ReturnValues")? {
        None | Some("NONE") => Returned::None,
        Some("ALL_OLD") => Returned::AllOld,
        Some("UPDATED_OLD") => Returned::UpdatedOld,
        Some("ALL_NEW") => Returned::AllNew,
        Some("UPDATED_NEW") => Returned::UpdatedNew,
        Some(other) => {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'returnValues' failed to satisfy constraint: Member must satisfy enum value set: [ALL_NEW, UPDATED_OLD, ALL_OLD, NONE, UPDATED_NEW]"
            )))
        }
    })
}

/// A checked update request: table, key, actions, condition.
pub(super) struct ParsedUpdate {
    pub table: String,
    pub key: Map<String, Value>,
    pub actions: Vec<Action>,
    pub cond: Option<Cond>,
}

impl ParsedUpdate {
    /// Parses and checks everything that needs no table: the key's values, the expressions
    /// and their placeholders (all supplied ones must be used).
    pub fn parse(req: &Map<String, Value>) -> R<ParsedUpdate> {
        let table = table_name(req)?.to_string();
        // The legacy parameters are not implemented: refused, rather than silently ignored.
        for legacy in ["AttributeUpdates", "Expected"] {
            if !matches!(req.get(legacy), None | Some(Value::Null)) {
                return Err(ApiError::validation(format!(
                    "{legacy} (a legacy parameter) is not supported by this endpoint; use UpdateExpression and ConditionExpression"
                )));
            }
        }
        let key = validated_item(req, "Key")?;
        let names = map_param(req, "ExpressionAttributeNames")?;
        let values = expression_values(req)?;
        let update_src = str_param(req, "UpdateExpression")?;
        let cond_src = str_param(req, "ConditionExpression")?;
        if update_src.is_none() && cond_src.is_none() {
            if names.is_some() {
                return Err(ApiError::validation(
                    "ExpressionAttributeNames can only be specified when using expressions",
                ));
            }
            if values.is_some() {
                return Err(ApiError::validation(
                    "ExpressionAttributeValues can only be specified when using expressions: UpdateExpression and ConditionExpression are null",
                ));
            }
        }
        let mut p = Parser::new(names, values.as_ref());
        let actions = match update_src {
            Some(src) => p.parse_update(src).map_err(ApiError::validation)?,
            None => Vec::new(),
        };
        let cond = match cond_src {
            Some(src) => Some(
                p.parse(src, "ConditionExpression")
                    .map_err(ApiError::validation)?,
            ),
            None => None,
        };
        check_unused(&p.usage, names, values.as_ref()).map_err(ApiError::validation)?;
        Ok(ParsedUpdate {
            table,
            key,
            actions,
            cond,
        })
    }

    /// The item's primary key in `tables`, refusing updates of key attributes.
    pub fn resolve(&self, tables: &mut Tables) -> R<PrimaryKey> {
        let t = table(tables, &self.table)?;
        let pk = t.key_of(&self.key).map_err(ApiError::validation)?;
        for a in &self.actions {
            let target = a.target();
            if target == t.hash.0 || t.range.as_ref().is_some_and(|r| r.0 == target) {
                return Err(ApiError::validation(format!(
                    "One or more parameter values were invalid: Cannot update attribute {target}. This attribute is part of the key"
                )));
            }
        }
        Ok(pk)
    }

    /// Whether the condition holds for the current item (absent: an empty item).
    pub fn condition_holds(&self, old: Option<&Map<String, Value>>) -> bool {
        let empty = Map::new();
        self.cond
            .as_ref()
            .is_none_or(|c| c.eval(old.unwrap_or(&empty)))
    }

    /// The item after the update (from the key alone when there was none).
    pub fn new_item(&self, old: Option<&Map<String, Value>>) -> R<Map<String, Value>> {
        let mut item = old.cloned().unwrap_or_else(|| self.key.clone());
        apply(&self.actions, &mut item).map_err(ApiError::validation)?;
        if item_size(&item) > MAX_ITEM_BYTES {
            return Err(ApiError::validation(
                "Item size to update has exceeded the maximum allowed size",
            ));
        }
        Ok(item)
    }

    /// The attributes the update names, taken from `item`.
    fn updated(&self, item: &Map<String, Value>) -> Map<String, Value> {
        self.actions
            .iter()
            .filter_map(|a| {
                let t = a.target();
                item.get(t).map(|v| (t.to_string(), v.clone()))
            })
            .collect()
    }
}

/// `UpdateItem`.
pub(super) fn update_item(
    tables: &mut Tables,
    _: &Context<'_>,
    req: &Map<String, Value>,
) -> R<Value> {
    let u = ParsedUpdate::parse(req)?;
    let rv = returned(req)?;
    let pk = u.resolve(tables)?;
    let t = table(tables, &u.table)?;
    let old = t.items.get(&pk);
    if !u.condition_holds(old) {
        return Err(conditional_failed());
    }
    let new = u.new_item(old)?;
    let attrs = match (rv, old) {
        (Returned::None, _) => None,
        (Returned::AllOld, o) => o.cloned(),
        (Returned::UpdatedOld, o) => o.map(|o| u.updated(o)),
        (Returned::AllNew, _) => Some(new.clone()),
        (Returned::UpdatedNew, _) => Some(u.updated(&new)),
    };
    t.items.insert(pk, new);
    Ok(match attrs {
        Some(a) if !a.is_empty() => json!({ "Attributes": a }),
        _ => json!({}),
    })
}
