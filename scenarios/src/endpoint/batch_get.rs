//! `BatchGetItem`: up to 100 keys over any tables, each table with its own projection; a
//! response stops at 16 MB of items and the keys not read come back in `UnprocessedKeys`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::attr::{item_size, normalize_item};
use super::protocol::{
    map_param, not_found_generic, param_missing, project, projection, ApiError, Context, R,
};
use super::tables::{PrimaryKey, Tables};

/// Most keys one BatchGetItem may ask for, over all its tables.
pub const MAX_BATCH_GET_KEYS: usize = 100;
/// Most item bytes one BatchGetItem response carries; the rest is left unprocessed.
pub const MAX_BATCH_GET_BYTES: usize = 16 * 1024 * 1024;

struct TableRequest<'a> {
    name: &'a str,
    /// The request's `KeysAndAttributes` (for `UnprocessedKeys`).
    spec: &'a Map<String, Value>,
    keys: Vec<(Map<String, Value>, PrimaryKey)>,
    proj: Option<BTreeSet<String>>,
}

fn length_error(field: &str, constraint: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length {constraint}"
    ))
}

/// `BatchGetItem`.
pub(super) fn batch_get_item(
    tables: &mut Tables,
    _: &Context<'_>,
    req: &Map<String, Value>,
) -> R<Value> {
    let items = map_param(req, "RequestItems")?.ok_or_else(|| param_missing("requestItems"))?;
    if items.is_empty() {
        return Err(length_error("requestItems", "greater than or equal to 1"));
    }
    // Everything is validated before anything is read, in the order the service checks.
    let mut specs = Vec::new();
    for (name, spec) in items {
        let spec = spec.as_object().ok_or_else(|| {
            ApiError::serialization("Unexpected value type for RequestItems: expected a structure")
        })?;
        let field = format!("requestItems.{name}.member.keys");
        let keys = spec
            .get("Keys")
            .and_then(Value::as_array)
            .ok_or_else(|| param_missing(&field))?;
        if keys.is_empty() {
            return Err(length_error(&field, "greater than or equal to 1"));
        }
        if keys.len() > MAX_BATCH_GET_KEYS {
            return Err(length_error(
                &field,
                &format!("less than or equal to {MAX_BATCH_GET_KEYS}"),
            ));
        }
        specs.push((name.as_str(), spec, keys));
    }
    let mut total = 0;
    let mut plan = Vec::new();
    for (name, spec, keys) in specs {
        let proj = projection(spec)?;
        let mut seen = BTreeSet::new();
        let mut parsed = Vec::new();
        for k in keys {
            let mut key = k
                .as_object()
                .ok_or_else(|| {
                    ApiError::serialization("Unexpected value type for Keys: expected a map")
                })?
                .clone();
            normalize_item(&mut key).map_err(ApiError::validation)?;
            if !seen.insert(serde_json::to_string(&key).expect("JSON serialises")) {
                return Err(ApiError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
            total += 1;
            if total > MAX_BATCH_GET_KEYS {
                return Err(ApiError::validation(
                    "Too many items requested for the BatchGetItem call",
                ));
            }
            parsed.push(key);
        }
        let t = tables.by_name.get(name).ok_or_else(not_found_generic)?;
        let keys = parsed
            .into_iter()
            .map(|k| {
                let pk = t.key_of(&k).map_err(ApiError::validation)?;
                Ok((k, pk))
            })
            .collect::<R<Vec<_>>>()?;
        plan.push(TableRequest {
            name,
            spec,
            keys,
            proj,
        });
    }

    let mut responses = Map::new();
    let mut unprocessed = Map::new();
    let mut bytes = 0;
    for tr in plan {
        let t = &tables.by_name[tr.name];
        let mut found = Vec::new();
        let mut left = Vec::new();
        for (k, pk) in tr.keys {
            if bytes >= MAX_BATCH_GET_BYTES {
                left.push(Value::Object(k));
                continue;
            }
            if let Some(item) = t.items.get(&pk) {
                bytes += item_size(item);
                found.push(Value::Object(project(item, &tr.proj)));
            }
        }
        responses.insert(tr.name.to_string(), Value::Array(found));
        if !left.is_empty() {
            let mut spec = tr.spec.clone();
            spec.insert("Keys".into(), Value::Array(left));
            unprocessed.insert(tr.name.to_string(), Value::Object(spec));
        }
    }
    Ok(json!({ "Responses": responses, "UnprocessedKeys": unprocessed }))
}
