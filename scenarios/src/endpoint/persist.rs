//! Tables kept in a file (`scenarios serve --data FILE`), so that a standalone endpoint
//! loses nothing it acknowledged when it is killed and started again.
//!
//! Every change is written through before its response is sent: the whole set of tables is
//! serialised to `FILE.tmp`, synced, renamed over `FILE`, and the directory synced, so that
//! after a crash at any point the file holds either the state before the change or after it,
//! never a torn mix. Rewriting everything per change is O(data) per write: fine for a test
//! endpoint's few thousand items, not a database.
//!
//! The file is JSON: `{"format": "ft900-sim-dynamodb-tables", "version": 1, "tables": [...]}`,
//! each table with its key schema and its items in DynamoDB JSON.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tables::{Table, Tables};
use super::KeyType;

const FORMAT: &str = "ft900-sim-dynamodb-tables";
const VERSION: u32 = 1;

/// Why a data file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a tables file, or is damaged.
    #[error("{path}: not a usable tables file ({why}); move it away to start empty")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong, and where.
        why: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRepr {
    format: String,
    version: u32,
    tables: Vec<TableRepr>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TableRepr {
    name: String,
    partition_key: (String, String),
    sort_key: Option<(String, String)>,
    created_unix: f64,
    billing_mode: String,
    throughput: (u64, u64),
    items: Vec<Map<String, Value>>,
}

/// A data file.
#[derive(Debug, Clone)]
pub struct Store {
    path: PathBuf,
}

impl Store {
    /// The store at `path` (nothing is read or written yet).
    pub fn new(path: &Path) -> Store {
        Store {
            path: path.to_path_buf(),
        }
    }

    /// The tables in the file, or `None` if there is no file yet.
    pub fn load(&self) -> Result<Option<Tables>, PersistError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io(source)),
        };
        let corrupt = |why: String| PersistError::Corrupt {
            path: self.path.clone(),
            why,
        };
        let repr: FileRepr = serde_json::from_slice(&bytes).map_err(|e| corrupt(e.to_string()))?;
        if repr.format != FORMAT || repr.version != VERSION {
            return Err(corrupt(format!(
                "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
                repr.format, repr.version
            )));
        }
        let mut tables = Tables::default();
        for t in repr.tables {
            let key_type = |(name, letter): (String, String)| {
                KeyType::from_letter(&letter)
                    .map(|k| (name, k))
                    .ok_or_else(|| corrupt(format!("table {}: key type {letter:?}", t.name)))
            };
            let mut table = Table {
                name: t.name.clone(),
                hash: key_type(t.partition_key)?,
                range: t.sort_key.map(key_type).transpose()?,
                items: Default::default(),
                created_unix: t.created_unix,
                billing_mode: t.billing_mode,
                throughput: t.throughput,
            };
            for (i, item) in t.items.into_iter().enumerate() {
                let key = table
                    .item_key(&item)
                    .map_err(|e| corrupt(format!("table {}, item {i}: {e}", t.name)))?;
                if table.items.insert(key, item).is_some() {
                    return Err(corrupt(format!("table {}, item {i}: key repeated", t.name)));
                }
            }
            if tables.by_name.insert(t.name.clone(), table).is_some() {
                return Err(corrupt(format!("table {} listed twice", t.name)));
            }
        }
        Ok(Some(tables))
    }

    /// Replaces the file with `tables`, durably (temp file, fsync, rename, directory fsync).
    pub fn save(&self, tables: &Tables) -> Result<(), PersistError> {
        let repr = FileRepr {
            format: FORMAT.into(),
            version: VERSION,
            tables: tables
                .by_name
                .values()
                .map(|t| TableRepr {
                    name: t.name.clone(),
                    partition_key: (t.hash.0.clone(), t.hash.1.letter().into()),
                    sort_key: t
                        .range
                        .as_ref()
                        .map(|(n, k)| (n.clone(), k.letter().into())),
                    created_unix: t.created_unix,
                    billing_mode: t.billing_mode.clone(),
                    throughput: t.throughput,
                    items: t.items.values().cloned().collect(),
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&repr).expect("tables serialise");
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let io = |source| PersistError::Io {
            path: tmp.clone(),
            source,
        };
        let mut f = File::create(&tmp).map_err(io)?;
        f.write_all(&bytes).map_err(io)?;
        f.sync_all().map_err(io)?;
        drop(f);
        std::fs::rename(&tmp, &self.path).map_err(|e| self.io(e))?;
        // The rename is durable only once the directory entry is.
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| self.io(e))
    }

    fn io(&self, source: std::io::Error) -> PersistError {
        PersistError::Io {
            path: self.path.clone(),
            source,
        }
    }
}

/// Whether an operation can change the tables (and so must be written through).
pub fn mutates(operation: &str) -> bool {
    matches!(
        operation,
        "CreateTable"
            | "DeleteTable"
            | "PutItem"
            | "DeleteItem"
            | "BatchWriteItem"
            | "UpdateItem"
            | "TransactWriteItems"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ft9-persist-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn sample() -> Tables {
        let mut tables = Tables::default();
        let mut t = Table {
            name: "T".into(),
            hash: ("id".into(), KeyType::S),
            range: Some(("n".into(), KeyType::N)),
            items: Default::default(),
            created_unix: 1.5,
            billing_mode: "PAY_PER_REQUEST".into(),
            throughput: (0, 0),
        };
        for n in ["1", "2.50"] {
            let item: Map<String, Value> = serde_json::from_value(serde_json::json!(
                {"id": {"S": "a"}, "n": {"N": n}, "v": {"SS": ["x"]}}
            ))
            .unwrap();
            t.items.insert(t.item_key(&item).unwrap(), item);
        }
        tables.by_name.insert("T".into(), t);
        tables
    }

    #[test]
    fn round_trip_and_atomic_replace() {
        let d = dir("rt");
        let store = Store::new(&d.join("data.json"));
        assert!(store.load().unwrap().is_none(), "no file yet");
        store.save(&sample()).unwrap();
        store.save(&sample()).unwrap();
        let back = store.load().unwrap().unwrap();
        let t = &back.by_name["T"];
        assert_eq!(t.items.len(), 2);
        assert_eq!(t.range, Some(("n".into(), KeyType::N)));
        assert_eq!(t.created_unix, 1.5);
        assert_eq!(
            t.items
                .values()
                .map(|i| i["n"]["N"].clone())
                .collect::<Vec<_>>(),
            ["1", "2.50"]
        );
        assert!(
            !d.join("data.json.tmp").exists(),
            "the temp file was renamed"
        );
    }

    #[test]
    fn damaged_files_are_refused_with_the_reason() {
        let d = dir("bad");
        let path = d.join("data.json");
        let err = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Store::new(&path).load().unwrap_err().to_string()
        };
        assert!(err("{\"format\": ").contains("not a usable tables file"));
        assert!(err("[1, 2]").contains("data.json"));
        let good = {
            Store::new(&path).save(&sample()).unwrap();
            std::fs::read_to_string(&path).unwrap()
        };
        assert!(err(&good.replace("\"version\":1", "\"version\":9")).contains("version 9"));
        assert!(err(&good.replace("[\"n\",\"N\"]", "[\"n\",\"Q\"]")).contains("key type"));
        // An item without its sort key.
        assert!(err(&good.replace("\"n\":{\"N\":\"1\"},", "")).contains("item 0"));
    }
}
