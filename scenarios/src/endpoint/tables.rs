//! In-memory tables: key schema, items keyed by (partition, sort) value, and the key checks
//! DynamoDB makes on every item and key.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::attr::{key_value, KeyValue};
use super::KeyType;

const INVALID: &str = "One or more parameter values were invalid: ";

impl KeyType {
    /// The type letter (`S`, `N`, `B`).
    pub fn letter(&self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }

    /// Parses a type letter.
    pub fn from_letter(s: &str) -> Option<KeyType> {
        match s {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }
}

/// A table's primary key value.
pub type PrimaryKey = (KeyValue, Option<KeyValue>);

/// One table.
#[derive(Debug)]
pub struct Table {
    /// Name.
    pub name: String,
    /// Partition key name and type.
    pub hash: (String, KeyType),
    /// Sort key name and type, if any.
    pub range: Option<(String, KeyType)>,
    /// Items by primary key.
    pub items: BTreeMap<PrimaryKey, Map<String, Value>>,
    /// Unix seconds at creation.
    pub created_unix: f64,
    /// Billing mode as created (`PROVISIONED` or `PAY_PER_REQUEST`).
    pub billing_mode: String,
    /// Provisioned (read, write) capacity as given.
    pub throughput: (u64, u64),
}

impl Table {
    fn key_attr(
        &self,
        item: &Map<String, Value>,
        name: &str,
        ty: &KeyType,
        what: &str,
    ) -> Result<KeyValue, String> {
        let Some(v) = item.get(name) else {
            return Err(format!("{INVALID}Missing the key {name} in the {what}"));
        };
        let kv = key_value(v).ok_or_else(|| {
            let actual = super::attr::single(v).map(|(t, _)| t).unwrap_or("?");
            format!(
                "{INVALID}Type mismatch for key {name} expected: {} actual: {actual}",
                ty.letter()
            )
        })?;
        if kv.type_letter() != ty.letter() {
            return Err(format!(
                "{INVALID}Type mismatch for key {name} expected: {} actual: {}",
                ty.letter(),
                kv.type_letter()
            ));
        }
        let empty = match &kv {
            KeyValue::S(s) => s.is_empty(),
            KeyValue::B(b) => b.is_empty(),
            KeyValue::N(_) => false,
        };
        if empty {
            return Err(format!(
                "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
                if ty.letter() == "S" { "string" } else { "binary" }
            ));
        }
        Ok(kv)
    }

    /// The primary key of a (validated) item.
    pub fn item_key(&self, item: &Map<String, Value>) -> Result<PrimaryKey, String> {
        let h = self.key_attr(item, &self.hash.0, &self.hash.1, "item")?;
        let r = match &self.range {
            Some((n, t)) => Some(self.key_attr(item, n, t, "item")?),
            None => None,
        };
        Ok((h, r))
    }

    /// The primary key of a `Key` parameter, which must hold exactly the key attributes.
    pub fn key_of(&self, key: &Map<String, Value>) -> Result<PrimaryKey, String> {
        let want = 1 + self.range.is_some() as usize;
        if key.len() != want {
            return Err("The provided key element does not match the schema".into());
        }
        self.item_key(key).map_err(|e| {
            if e.contains("Missing the key") {
                "The provided key element does not match the schema".into()
            } else {
                e
            }
        })
    }

    /// The key attributes of an item, as a `Key`/`LastEvaluatedKey` map.
    pub fn key_map(&self, item: &Map<String, Value>) -> Map<String, Value> {
        let mut m = Map::new();
        for n in std::iter::once(&self.hash.0).chain(self.range.as_ref().map(|r| &r.0)) {
            if let Some(v) = item.get(n) {
                m.insert(n.clone(), v.clone());
            }
        }
        m
    }

    /// The TableDescription DynamoDB returns.
    pub fn description(&self, region: &str, status: &str) -> Value {
        let mut schema = vec![json!({"AttributeName": self.hash.0, "KeyType": "HASH"})];
        let mut defs =
            vec![json!({"AttributeName": self.hash.0, "AttributeType": self.hash.1.letter()})];
        if let Some((n, t)) = &self.range {
            schema.push(json!({"AttributeName": n, "KeyType": "RANGE"}));
            defs.push(json!({"AttributeName": n, "AttributeType": t.letter()}));
        }
        let size: usize = self.items.values().map(super::attr::item_size).sum();
        let mut d = json!({
            "TableName": self.name,
            "TableStatus": status,
            "KeySchema": schema,
            "AttributeDefinitions": defs,
            "CreationDateTime": self.created_unix,
            "ItemCount": self.items.len(),
            "TableSizeBytes": size,
            "TableArn": format!("arn:aws:dynamodb:{region}:000000000000:table/{}", self.name),
            "TableId": format!("{:08x}-0000-4000-8000-000000000000", crc32fast::hash(self.name.as_bytes())),
            "ProvisionedThroughput": {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.throughput.0,
                "WriteCapacityUnits": self.throughput.1,
            },
        });
        if self.billing_mode == "PAY_PER_REQUEST" {
            d["BillingModeSummary"] = json!({"BillingMode": "PAY_PER_REQUEST"});
        }
        d
    }
}

/// All tables of an endpoint, by name.
#[derive(Debug, Default)]
pub struct Tables {
    /// Tables by name.
    pub by_name: BTreeMap<String, Table>,
}
