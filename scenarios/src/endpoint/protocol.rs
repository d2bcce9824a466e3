//! The DynamoDB JSON protocol (`x-amz-json-1.0`, `X-Amz-Target: DynamoDB_20120810.<Op>`):
//! request decoding, the operations on in-memory tables, and the service's error shapes.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::attr::{item_size, normalize_item, MAX_ITEM_BYTES};
use super::expr::{check_unused, Cond, Parser};
use super::tables::{Table, Tables};
use super::KeyType;

/// The target prefix of every DynamoDB operation.
pub const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// The content type DynamoDB speaks.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// An error answer: status, `__type`, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Fully qualified `__type`.
    pub type_name: &'static str,
    /// Message (some errors have none).
    pub message: Option<String>,
    /// Further members of the body (`CancellationReasons` of a cancelled transaction).
    pub extra: Map<String, Value>,
}

impl ApiError {
    /// `ValidationException` with a message.
    pub fn validation(msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            type_name: "com.amazon.coral.validate#ValidationException",
            message: Some(msg.into()),
            extra: Map::new(),
        }
    }

    pub(super) fn dynamo(type_name: &'static str, msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            type_name,
            message: Some(msg.into()),
            extra: Map::new(),
        }
    }

    /// `ResourceNotFoundException`.
    pub fn not_found(msg: impl Into<String>) -> ApiError {
        Self::dynamo(
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
            msg,
        )
    }

    /// `SerializationException` for a body that does not decode.
    pub fn serialization(msg: impl Into<String>) -> ApiError {
        ApiError {
            status: 400,
            type_name: "com.amazon.coral.service#SerializationException",
            message: Some(msg.into()),
            extra: Map::new(),
        }
    }

    /// `UnknownOperationException` (no message, as the service sends it).
    pub fn unknown_operation() -> ApiError {
        ApiError {
            status: 400,
            type_name: "com.amazon.coral.service#UnknownOperationException",
            message: None,
            extra: Map::new(),
        }
    }

    /// `ProvisionedThroughputExceededException`.
    pub fn throughput_exceeded() -> ApiError {
        Self::dynamo(
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.",
        )
    }

    /// `ThrottlingException`.
    pub fn throttling() -> ApiError {
        Self::dynamo(
            "com.amazon.coral.availability#ThrottlingException",
            "Rate of requests exceeds the allowed throughput.",
        )
    }

    /// `InternalServerError` (500).
    pub fn internal() -> ApiError {
        ApiError {
            status: 500,
            type_name: "com.amazonaws.dynamodb.v20120810#InternalServerError",
            message: Some("Internal server error".into()),
            extra: Map::new(),
        }
    }

    /// `ServiceUnavailable` (503).
    pub fn unavailable() -> ApiError {
        ApiError {
            status: 503,
            type_name: "com.amazon.coral.availability#ServiceUnavailableException",
            message: Some("Service Unavailable".into()),
            extra: Map::new(),
        }
    }

    /// The JSON body.
    pub fn body(&self) -> Value {
        let mut b = match &self.message {
            Some(m) => json!({"__type": self.type_name, "message": m}),
            None => json!({"__type": self.type_name}),
        };
        for (k, v) in &self.extra {
            b[k] = v.clone();
        }
        b
    }
}

pub(super) type R<T> = Result<T, ApiError>;

/// What an operation may consult besides its tables.
pub struct Context<'a> {
    /// The endpoint's region (for ARNs).
    pub region: &'a str,
    /// The endpoint clock, unix seconds (for CreationDateTime).
    pub now_unix: f64,
    /// Whether a throttling fault applies to this request (BatchWriteItem leaves work undone).
    pub throttled: bool,
}

/// Runs operation `op` with request body `body`.
pub fn dispatch(tables: &mut Tables, cx: &Context<'_>, op: &str, body: &[u8]) -> R<Value> {
    let f: fn(&mut Tables, &Context<'_>, &Map<String, Value>) -> R<Value> = match op {
        "CreateTable" => create_table,
        "DescribeTable" => describe_table,
        "ListTables" => list_tables,
        "DeleteTable" => delete_table,
        "PutItem" => put_item,
        "GetItem" => get_item,
        "DeleteItem" => delete_item,
        "BatchWriteItem" => batch_write_item,
        "BatchGetItem" => super::batch_get::batch_get_item,
        "UpdateItem" => super::update::update_item,
        "TransactWriteItems" => super::transact::transact_write_items,
        "TransactGetItems" => super::transact::transact_get_items,
        "Scan" => scan,
        "Query" => query,
        _ => return Err(ApiError::unknown_operation()),
    };
    let v: Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::serialization(format!("The request body is not valid JSON: {e}")))?;
    let Value::Object(req) = v else {
        return Err(ApiError::serialization(
            "Start of structure or map expected in the request body",
        ));
    };
    f(tables, cx, &req)
}

pub(super) fn param_missing(field: &str) -> ApiError {
    ApiError::validation(format!(
        "1 validation error detected: Value null at '{field}' failed to satisfy constraint: Member must not be null"
    ))
}

pub(super) fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_lowercase().chain(c).collect())
        .unwrap_or_default()
}

pub(super) fn str_param<'a>(req: &'a Map<String, Value>, name: &str) -> R<Option<&'a str>> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::serialization(format!(
            "Unexpected value type for {name}: expected a string"
        ))),
    }
}

pub(super) fn map_param<'a>(
    req: &'a Map<String, Value>,
    name: &str,
) -> R<Option<&'a Map<String, Value>>> {
    match req.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(ApiError::serialization(format!(
            "Unexpected value type for {name}: expected a structure"
        ))),
    }
}

/// ExpressionAttributeValues, each validated and normalised (numbers in their stored form,
/// so arithmetic and set operations see canonical values).
pub(super) fn expression_values(req: &Map<String, Value>) -> R<Option<Map<String, Value>>> {
    let Some(m) = map_param(req, "ExpressionAttributeValues")? else {
        return Ok(None);
    };
    let mut m = m.clone();
    for (k, v) in m.iter_mut() {
        super::attr::normalize(v).map_err(|e| {
            ApiError::validation(format!(
                "ExpressionAttributeValues contains invalid value: {e} for key {k}"
            ))
        })?;
    }
    Ok(Some(m))
}

pub(super) fn table_name(req: &Map<String, Value>) -> R<&str> {
    let n = str_param(req, "TableName")?.ok_or_else(|| param_missing("tableName"))?;
    if n.len() < 3 || n.len() > 255 {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'tableName' failed to satisfy constraint: Member must have length {}",
            if n.len() < 3 { "greater than or equal to 3" } else { "less than or equal to 255" }
        )));
    }
    if !n
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'tableName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+"
        )));
    }
    Ok(n)
}

pub(super) fn not_found_generic() -> ApiError {
    ApiError::not_found("Requested resource not found")
}

pub(super) fn table<'t>(tables: &'t mut Tables, name: &str) -> R<&'t mut Table> {
    tables.by_name.get_mut(name).ok_or_else(not_found_generic)
}

fn create_table(tables: &mut Tables, cx: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?.to_string();
    let schema = req
        .get("KeySchema")
        .and_then(Value::as_array)
        .ok_or_else(|| param_missing("keySchema"))?;
    let defs = req
        .get("AttributeDefinitions")
        .and_then(Value::as_array)
        .ok_or_else(|| param_missing("attributeDefinitions"))?;
    let def_type = |attr: &str| -> R<KeyType> {
        let d = defs
            .iter()
            .find(|d| d.get("AttributeName").and_then(Value::as_str) == Some(attr))
            .ok_or_else(|| {
                ApiError::validation(format!(
                    "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{attr}], AttributeDefinitions: []"
                ))
            })?;
        let t = d.get("AttributeType").and_then(Value::as_str).unwrap_or("");
        KeyType::from_letter(t).ok_or_else(|| {
            ApiError::validation(format!(
                "1 validation error detected: Value '{t}' at 'attributeDefinitions.1.member.attributeType' failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]"
            ))
        })
    };
    let mut hash = None;
    let mut range = None;
    for k in schema {
        let n = k.get("AttributeName").and_then(Value::as_str).unwrap_or("");
        match k.get("KeyType").and_then(Value::as_str) {
            Some("HASH") if hash.is_none() => hash = Some((n.to_string(), def_type(n)?)),
            Some("RANGE") if range.is_none() => range = Some((n.to_string(), def_type(n)?)),
            _ => {
                return Err(ApiError::validation(
                    "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have one HASH key and at most one RANGE key",
                ))
            }
        }
    }
    let Some(hash) = hash else {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: Member must have one HASH key and at most one RANGE key",
        ));
    };
    if defs.len() != 1 + range.is_some() as usize {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    if tables.by_name.contains_key(&name) {
        return Err(ApiError::dynamo(
            "com.amazonaws.dynamodb.v20120810#ResourceInUseException",
            format!("Table already exists: {name}"),
        ));
    }
    let billing = str_param(req, "BillingMode")?
        .unwrap_or("PROVISIONED")
        .to_string();
    let tp = req.get("ProvisionedThroughput");
    let cap = |k: &str| {
        tp.and_then(|t| t.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    if billing == "PROVISIONED" && tp.is_none() {
        return Err(ApiError::validation(
            "One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be specified when BillingMode is PROVISIONED",
        ));
    }
    let t = Table {
        name: name.clone(),
        hash,
        range,
        items: Default::default(),
        created_unix: cx.now_unix,
        billing_mode: billing,
        throughput: (cap("ReadCapacityUnits"), cap("WriteCapacityUnits")),
    };
    let desc = t.description(cx.region, "ACTIVE");
    tables.by_name.insert(name, t);
    Ok(json!({ "TableDescription": desc }))
}

fn describe_table(tables: &mut Tables, cx: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let t = tables.by_name.get(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    })?;
    Ok(json!({ "Table": t.description(cx.region, "ACTIVE") }))
}

fn delete_table(tables: &mut Tables, cx: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let t = tables.by_name.remove(name).ok_or_else(|| {
        ApiError::not_found(format!(
            "Requested resource not found: Table: {name} not found"
        ))
    })?;
    Ok(json!({ "TableDescription": t.description(cx.region, "DELETING") }))
}

fn list_tables(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let start = str_param(req, "ExclusiveStartTableName")?;
    let limit = match req.get("Limit") {
        None | Some(Value::Null) => 100,
        Some(v) => match v.as_u64() {
            Some(l @ 1..=100) => l as usize,
            _ => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 100"
                )))
            }
        },
    };
    let names: Vec<&String> = tables
        .by_name
        .keys()
        .filter(|n| start.is_none_or(|s| n.as_str() > s))
        .collect();
    let page: Vec<&String> = names.iter().take(limit).copied().collect();
    let mut out = json!({ "TableNames": page });
    if names.len() > limit {
        out["LastEvaluatedTableName"] = json!(page.last());
    }
    Ok(out)
}

/// Parsed condition of a write, with its placeholders checked.
fn write_condition(req: &Map<String, Value>) -> R<Option<Cond>> {
    let names = map_param(req, "ExpressionAttributeNames")?;
    let values = map_param(req, "ExpressionAttributeValues")?;
    let cond = str_param(req, "ConditionExpression")?;
    let mut p = Parser::new(names, values);
    let c = match cond {
        Some(src) => Some(
            p.parse(src, "ConditionExpression")
                .map_err(ApiError::validation)?,
        ),
        None => None,
    };
    if cond.is_none() && (names.is_some() || values.is_some()) {
        let which = if names.is_some() {
            "ExpressionAttributeNames"
        } else {
            "ExpressionAttributeValues"
        };
        return Err(ApiError::validation(format!(
            "{which} can only be specified when using expressions"
        )));
    }
    check_unused(&p.usage, names, values).map_err(ApiError::validation)?;
    Ok(c)
}

fn return_values(req: &Map<String, Value>, allowed: &[&str]) -> R<bool> {
    match str_param(req, "ReturnValues")? {
        None | Some("NONE") => Ok(false),
        Some("ALL_OLD") if allowed.contains(&"ALL_OLD") => Ok(true),
        Some(_) => Err(ApiError::validation("Return values set to invalid value")),
    }
}

pub(super) fn conditional_failed() -> ApiError {
    ApiError::dynamo(
        "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        "The conditional request failed",
    )
}

pub(super) fn validated_item(req: &Map<String, Value>, field: &str) -> R<Map<String, Value>> {
    let mut item = map_param(req, field)?
        .ok_or_else(|| param_missing(&lower_first(field)))?
        .clone();
    normalize_item(&mut item).map_err(ApiError::validation)?;
    Ok(item)
}

fn put_item(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let item = validated_item(req, "Item")?;
    let cond = write_condition(req)?;
    let want_old = return_values(req, &["ALL_OLD"])?;
    let t = table(tables, name)?;
    let key = t.item_key(&item).map_err(ApiError::validation)?;
    if item_size(&item) > MAX_ITEM_BYTES {
        return Err(ApiError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    let empty = Map::new();
    if let Some(c) = cond {
        if !c.eval(t.items.get(&key).unwrap_or(&empty)) {
            return Err(conditional_failed());
        }
    }
    let old = t.items.insert(key, item);
    Ok(match (want_old, old) {
        (true, Some(o)) => json!({ "Attributes": o }),
        _ => json!({}),
    })
}

pub(super) fn projection(req: &Map<String, Value>) -> R<Option<BTreeSet<String>>> {
    let names = map_param(req, "ExpressionAttributeNames")?;
    let Some(src) = str_param(req, "ProjectionExpression")? else {
        return Ok(None);
    };
    let mut out = BTreeSet::new();
    for part in src.split(',').map(str::trim) {
        let n = if let Some(stripped) = part.strip_prefix('#') {
            let _ = stripped;
            names
                .and_then(|m| m.get(part))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ApiError::validation(format!(
                        "Invalid ProjectionExpression: An expression attribute name used in the document path is not defined; attribute name: {part}"
                    ))
                })?
                .to_string()
        } else if !part.is_empty() && part.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
            part.to_string()
        } else {
            return Err(ApiError::validation(format!(
                "Invalid ProjectionExpression: Syntax error; token: \"{part}\""
            )));
        };
        out.insert(n);
    }
    Ok(Some(out))
}

pub(super) fn project(
    item: &Map<String, Value>,
    p: &Option<BTreeSet<String>>,
) -> Map<String, Value> {
    match p {
        None => item.clone(),
        Some(keep) => item
            .iter()
            .filter(|(k, _)| keep.contains(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

fn get_item(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let key = validated_item(req, "Key")?;
    let proj = projection(req)?;
    let t = table(tables, name)?;
    let pk = t.key_of(&key).map_err(ApiError::validation)?;
    Ok(match t.items.get(&pk) {
        Some(item) => json!({ "Item": project(item, &proj) }),
        None => json!({}),
    })
}

fn delete_item(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let key = validated_item(req, "Key")?;
    let cond = write_condition(req)?;
    let want_old = return_values(req, &["ALL_OLD"])?;
    let t = table(tables, name)?;
    let pk = t.key_of(&key).map_err(ApiError::validation)?;
    let empty = Map::new();
    if let Some(c) = cond {
        if !c.eval(t.items.get(&pk).unwrap_or(&empty)) {
            return Err(conditional_failed());
        }
    }
    let old = t.items.remove(&pk);
    Ok(match (want_old, old) {
        (true, Some(o)) => json!({ "Attributes": o }),
        _ => json!({}),
    })
}

enum Write {
    Put(Map<String, Value>),
    Delete(Map<String, Value>),
}

/// Most put and delete requests in one BatchWriteItem, over all its tables.
pub const MAX_BATCH_WRITE_ITEMS: usize = 25;

fn batch_write_item(tables: &mut Tables, cx: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let items = map_param(req, "RequestItems")?.ok_or_else(|| param_missing("requestItems"))?;
    if items.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    // Validate everything first: DynamoDB rejects the whole batch on any invalid request.
    let mut writes: Vec<(String, Write, Value)> = Vec::new();
    for (tname, list) in items {
        let list = list.as_array().ok_or_else(|| {
            ApiError::serialization("Unexpected value type for RequestItems: expected a list")
        })?;
        if list.is_empty() || list.len() > MAX_BATCH_WRITE_ITEMS {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to {MAX_BATCH_WRITE_ITEMS}, Member must have length greater than or equal to 1]"
            )));
        }
        let t = tables.by_name.get(tname).ok_or_else(not_found_generic)?;
        for w in list {
            let (put, del) = (w.get("PutRequest"), w.get("DeleteRequest"));
            let write = match (put, del) {
                (Some(p), None) => {
                    let mut item = p
                        .get("Item")
                        .and_then(Value::as_object)
                        .ok_or_else(|| param_missing("requestItems.member.putRequest.item"))?
                        .clone();
                    normalize_item(&mut item).map_err(ApiError::validation)?;
                    t.item_key(&item).map_err(ApiError::validation)?;
                    if item_size(&item) > MAX_ITEM_BYTES {
                        return Err(ApiError::validation(
                            "Item size has exceeded the maximum allowed size",
                        ));
                    }
                    Write::Put(item)
                }
                (None, Some(d)) => {
                    let mut key = d
                        .get("Key")
                        .and_then(Value::as_object)
                        .ok_or_else(|| param_missing("requestItems.member.deleteRequest.key"))?
                        .clone();
                    normalize_item(&mut key).map_err(ApiError::validation)?;
                    t.key_of(&key).map_err(ApiError::validation)?;
                    Write::Delete(key)
                }
                _ => {
                    return Err(ApiError::validation(
                        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
                    ))
                }
            };
            writes.push((tname.clone(), write, w.clone()));
        }
    }
    if writes.len() > MAX_BATCH_WRITE_ITEMS {
        return Err(ApiError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let mut seen = BTreeSet::new();
    for (tname, w, _) in &writes {
        let t = &tables.by_name[tname];
        let k = match w {
            Write::Put(i) => t.item_key(i),
            Write::Delete(k) => t.key_of(k),
        }
        .map_err(ApiError::validation)?;
        if !seen.insert((tname.clone(), k)) {
            return Err(ApiError::validation(
                "Provided list of item keys contains duplicates",
            ));
        }
    }
    // Under a throttling fault, the first half is done and the rest comes back unprocessed.
    let done = if cx.throttled {
        writes.len() / 2
    } else {
        writes.len()
    };
    let mut unprocessed: Map<String, Value> = Map::new();
    for (i, (tname, w, raw)) in writes.into_iter().enumerate() {
        if i >= done {
            unprocessed
                .entry(tname)
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .expect("array")
                .push(raw);
            continue;
        }
        let t = tables.by_name.get_mut(&tname).expect("validated");
        match w {
            Write::Put(item) => {
                let k = t.item_key(&item).expect("validated");
                t.items.insert(k, item);
            }
            Write::Delete(key) => {
                let k = t.key_of(&key).expect("validated");
                t.items.remove(&k);
            }
        }
    }
    Ok(json!({ "UnprocessedItems": unprocessed }))
}

fn limit(req: &Map<String, Value>) -> R<Option<usize>> {
    match req.get("Limit") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(l) if l >= 1 => Ok(Some(l as usize)),
            _ => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{v}' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
            ))),
        },
    }
}

/// Most item bytes (as [`item_size`] counts them) one Query or Scan page reads: DynamoDB
/// stops a page once the items read reach 1 MB and returns `LastEvaluatedKey`.
pub const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// Shared paging for Scan and Query over `candidates` (in the order they are read:
/// ascending keys, or descending for a backward Query).
fn page(
    t: &Table,
    req: &Map<String, Value>,
    candidates: Vec<&Map<String, Value>>,
    descending: bool,
    filter: Option<&Cond>,
    proj: &Option<BTreeSet<String>>,
) -> R<Value> {
    let limit = limit(req)?;
    let start = match map_param(req, "ExclusiveStartKey")? {
        Some(k) => {
            let mut k = k.clone();
            normalize_item(&mut k).map_err(ApiError::validation)?;
            Some(t.key_of(&k).map_err(|_| {
                ApiError::validation("The provided starting key is invalid: The provided key element does not match the schema")
            })?)
        }
        None => None,
    };
    let mut scanned = 0;
    let mut read_bytes = 0;
    let mut out = Vec::new();
    let mut last = None;
    for item in candidates {
        if let Some(s) = &start {
            // Continue after the start key's position in key order, whether or not an item
            // with that key (still) exists.
            let k = t.item_key(item).expect("stored items have keys");
            if (!descending && k <= *s) || (descending && k >= *s) {
                continue;
            }
        }
        scanned += 1;
        read_bytes += item_size(item);
        if filter.is_none_or(|f| f.eval(item)) {
            out.push(Value::Object(project(item, proj)));
        }
        if limit == Some(scanned) || read_bytes >= MAX_PAGE_BYTES {
            last = Some(t.key_map(item));
            break;
        }
    }
    let mut v = json!({ "Items": out, "Count": out.len(), "ScannedCount": scanned });
    if let Some(k) = last {
        v["LastEvaluatedKey"] = Value::Object(k);
    }
    Ok(v)
}

fn scan(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let names = map_param(req, "ExpressionAttributeNames")?;
    let values = map_param(req, "ExpressionAttributeValues")?;
    let mut p = Parser::new(names, values);
    let filter = match str_param(req, "FilterExpression")? {
        Some(src) => Some(
            p.parse(src, "FilterExpression")
                .map_err(ApiError::validation)?,
        ),
        None => None,
    };
    let proj = projection(req)?;
    if let Some(pr) = &proj {
        let _ = pr;
        for k in names.into_iter().flat_map(|m| m.keys()) {
            if str_param(req, "ProjectionExpression")?.is_some_and(|s| s.contains(k.as_str())) {
                p.usage.names.insert(k.clone());
            }
        }
    }
    check_unused(&p.usage, names, values).map_err(ApiError::validation)?;
    let t = table(tables, name)?;
    let all: Vec<&Map<String, Value>> = t.items.values().collect();
    page(t, req, all, false, filter.as_ref(), &proj)
}

fn query(tables: &mut Tables, _: &Context<'_>, req: &Map<String, Value>) -> R<Value> {
    let name = table_name(req)?;
    let names = map_param(req, "ExpressionAttributeNames")?;
    let values = map_param(req, "ExpressionAttributeValues")?;
    let mut p = Parser::new(names, values);
    let src = str_param(req, "KeyConditionExpression")?.ok_or_else(|| {
        ApiError::validation("Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.")
    })?;
    let kc = p
        .parse(src, "KeyConditionExpression")
        .map_err(ApiError::validation)?;
    let filter = match str_param(req, "FilterExpression")? {
        Some(src) => Some(
            p.parse(src, "FilterExpression")
                .map_err(ApiError::validation)?,
        ),
        None => None,
    };
    let proj = projection(req)?;
    if proj.is_some() {
        let pe = str_param(req, "ProjectionExpression")?.unwrap_or("");
        for k in names.into_iter().flat_map(|m| m.keys()) {
            if pe.contains(k.as_str()) {
                p.usage.names.insert(k.clone());
            }
        }
    }
    check_unused(&p.usage, names, values).map_err(ApiError::validation)?;
    let forward = req
        .get("ScanIndexForward")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let t = table(tables, name)?;

    // The key condition: `pk = :v`, optionally AND one condition on the sort key.
    let (pk_cond, sk_cond) = match &kc {
        Cond::And(a, b) => (a.as_ref(), Some(b.as_ref())),
        c => (c, None),
    };
    let pk_value = match pk_cond {
        Cond::Cmp(
            super::expr::Operand::Path(p),
            super::expr::CmpOp::Eq,
            super::expr::Operand::Value(v),
        ) if *p == t.hash.0 => v,
        _ => {
            return Err(ApiError::validation(format!(
                "Query condition missed key schema element: {}",
                t.hash.0
            )))
        }
    };
    if let Some(sk) = sk_cond {
        let mut used = BTreeSet::new();
        sk.paths(&mut used);
        let ok_shape = matches!(sk, Cond::Cmp(_, op, _) if *op != super::expr::CmpOp::Ne)
            || matches!(sk, Cond::Between(..) | Cond::BeginsWith(..));
        if !ok_shape
            || t.range
                .as_ref()
                .is_none_or(|(n, _)| used.iter().any(|u| u != n))
        {
            return Err(ApiError::validation("Query key condition not supported"));
        }
    }
    let mut pkv = pk_value.clone();
    super::attr::normalize(&mut pkv).map_err(ApiError::validation)?;
    let pk = super::attr::key_value(&pkv)
        .filter(|k| k.type_letter() == t.hash.1.letter())
        .ok_or_else(|| {
            ApiError::validation("One or more parameter values were invalid: Condition parameter type does not match schema type")
        })?;
    let mut cands: Vec<&Map<String, Value>> = t
        .items
        .iter()
        .filter(|((h, _), item)| *h == pk && kc.eval(item))
        .map(|(_, v)| v)
        .collect();
    if !forward {
        cands.reverse();
    }
    page(t, req, cands, !forward, filter.as_ref(), &proj)
}
