//! Tables kept in a file (`scenarios serve --data FILE`), so that a standalone endpoint
//! loses nothing it acknowledged when it is killed and started again.
//!
//! The file is an append-only log. After a 24-byte header (`ft900-sim tables log v2\n`) come
//! records, each `length (u32 LE) | CRC-32 of the payload (u32 LE) | payload`, the payload a
//! JSON array of changes (a table created or dropped, an item's new value or its deletion).
//! Every request that changes the tables appends one record (so a batch or a transaction is
//! all-or-nothing) and syncs it with `fdatasync` before its response is sent: a durable write
//! costs O(change), not O(data).
//!
//! Compaction rewrites the file as the live state only (a `.tmp` file, synced, renamed over the
//! file, the directory synced): at open, and whenever the log has grown past
//! [`COMPACT_FACTOR`] times the last compacted size (plus [`COMPACT_SLACK`]), so the file stays
//! within a constant factor of the data and compaction costs O(1) amortised per write.
//!
//! Recovery reads records until the end. A torn tail (a record cut short, or the last record
//! failing its CRC, as a crash mid-append leaves it) ends the log there and is cut off; a bad
//! record with more data after it is damage, and the file is refused with the reason.
//!
//! A file in the previous format (one JSON document, `"version": 1`, rewritten on every
//! change) is still read; the compaction at open replaces it with the log format.
//!
//! `FILE.lock` (created beside the file, never removed) carries an exclusive `flock` for as
//! long as the store is open: a second process on the same file fails at once.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::tables::{Table, Tables};
use super::KeyType;

const V1_FORMAT: &str = "ft900-sim-dynamodb-tables";
const V1_VERSION: u32 = 1;
/// The first bytes of a log file.
const MAGIC: &[u8; 24] = b"ft900-sim tables log v2\n";
/// Largest record accepted when reading (a bigger length field is damage).
const MAX_RECORD_BYTES: u32 = 256 * 1024 * 1024;
/// Items per record in a compacted file.
const ITEMS_PER_RECORD: usize = 256;
/// The log is compacted once it is this many times the size of the last compaction...
pub const COMPACT_FACTOR: u64 = 4;
/// ... plus this many bytes (so a small table is not compacted every few writes).
pub const COMPACT_SLACK: u64 = 1024 * 1024;

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
    /// Another process holds the file.
    #[error("{path}: in use by another process (another `scenarios serve --data` on the same file?); its lock is {lock}")]
    Locked {
        /// The data file.
        path: PathBuf,
        /// The lock file.
        lock: PathBuf,
    },
}

/// The previous format: the whole state as one JSON document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V1File {
    format: String,
    version: u32,
    tables: Vec<V1Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct V1Table {
    name: String,
    partition_key: (String, String),
    sort_key: Option<(String, String)>,
    created_unix: f64,
    billing_mode: String,
    throughput: (u64, u64),
    items: Vec<Map<String, Value>>,
}

/// A table without its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableMeta {
    name: String,
    partition_key: (String, String),
    sort_key: Option<(String, String)>,
    created_unix: f64,
    billing_mode: String,
    throughput: (u64, u64),
}

impl TableMeta {
    fn of(t: &Table) -> TableMeta {
        TableMeta {
            name: t.name.clone(),
            partition_key: (t.hash.0.clone(), t.hash.1.letter().into()),
            sort_key: t
                .range
                .as_ref()
                .map(|(n, k)| (n.clone(), k.letter().into())),
            created_unix: t.created_unix,
            billing_mode: t.billing_mode.clone(),
            throughput: t.throughput,
        }
    }

    fn table(self) -> Result<Table, String> {
        let key_type = |(name, letter): (String, String)| {
            KeyType::from_letter(&letter)
                .map(|k| (name, k))
                .ok_or_else(|| format!("table {}: key type {letter:?}", self.name))
        };
        Ok(Table {
            hash: key_type(self.partition_key.clone())?,
            range: self.sort_key.clone().map(key_type).transpose()?,
            name: self.name,
            items: Default::default(),
            created_unix: self.created_unix,
            billing_mode: self.billing_mode,
            throughput: self.throughput,
        })
    }
}

/// One change to the tables, as logged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A table created (empty), replacing any of the same name.
    Create(TableMeta),
    /// A table deleted.
    Drop(String),
    /// An item's new value (table, item).
    Put(String, Map<String, Value>),
    /// An item deleted (table, its key attributes).
    Delete(String, Map<String, Value>),
}

fn apply(tables: &mut Tables, change: Change) -> Result<(), String> {
    match change {
        Change::Create(meta) => {
            let t = meta.table()?;
            tables.by_name.insert(t.name.clone(), t);
        }
        Change::Drop(name) => {
            tables.by_name.remove(&name);
        }
        Change::Put(name, item) => {
            let t = tables
                .by_name
                .get_mut(&name)
                .ok_or_else(|| format!("an item for table {name}, which does not exist"))?;
            let k = t
                .item_key(&item)
                .map_err(|e| format!("table {name}: {e}"))?;
            t.items.insert(k, item);
        }
        Change::Delete(name, key) => {
            let t = tables
                .by_name
                .get_mut(&name)
                .ok_or_else(|| format!("a deletion in table {name}, which does not exist"))?;
            let k = t.item_key(&key).map_err(|e| format!("table {name}: {e}"))?;
            t.items.remove(&k);
        }
    }
    Ok(())
}

/// What a successful request changed: tables (created or deleted) and items (by key), read
/// from the request; their values are taken from the tables after the request ran.
#[derive(Debug, Default)]
pub struct Touched {
    /// (table, key attributes or a whole item; `None` for the table itself).
    entries: Vec<(String, Option<Map<String, Value>>)>,
}

/// Operations that never change the tables; every other successful operation is logged.
pub fn read_only(operation: &str) -> bool {
    matches!(
        operation,
        "GetItem"
            | "Query"
            | "Scan"
            | "BatchGetItem"
            | "TransactGetItems"
            | "DescribeTable"
            | "ListTables"
            | "DescribeEndpoints"
            | "DescribeLimits"
            | "DescribeTimeToLive"
            | "ListTagsOfResource"
    )
}

impl Touched {
    /// The tables and keys a request for `operation` with `body` may change, or `None` if the
    /// operation is not known here (the caller then compacts: slower, never wrong).
    pub fn of(operation: &str, body: &[u8]) -> Option<Touched> {
        let v: Value = serde_json::from_slice(body).ok()?;
        let mut t = Touched::default();
        let name = |v: &Value| v.get("TableName")?.as_str().map(str::to_string);
        let map = |v: Option<&Value>| v.and_then(Value::as_object).cloned();
        match operation {
            "CreateTable" | "DeleteTable" => t.entries.push((name(&v)?, None)),
            "PutItem" => t.entries.push((name(&v)?, Some(map(v.get("Item"))?))),
            "DeleteItem" | "UpdateItem" => t.entries.push((name(&v)?, Some(map(v.get("Key"))?))),
            "BatchWriteItem" => {
                for (table, reqs) in v.get("RequestItems")?.as_object()? {
                    for r in reqs.as_array()? {
                        let key = map(r.pointer("/PutRequest/Item"))
                            .or_else(|| map(r.pointer("/DeleteRequest/Key")))?;
                        t.entries.push((table.clone(), Some(key)));
                    }
                }
            }
            "TransactWriteItems" => {
                for action in v.get("TransactItems")?.as_array()? {
                    let (kind, a) = action.as_object()?.iter().next()?;
                    let key = match kind.as_str() {
                        "Put" => map(a.get("Item"))?,
                        "Update" | "Delete" => map(a.get("Key"))?,
                        "ConditionCheck" => continue,
                        _ => return None,
                    };
                    t.entries.push((name(a)?, Some(key)));
                }
            }
            _ => return None,
        }
        Some(t)
    }

    /// The changes to log: each touched table or item as it is now in `tables`.
    pub fn changes(&self, tables: &Tables) -> Vec<Change> {
        let mut out = Vec::with_capacity(self.entries.len());
        for (name, key) in &self.entries {
            let Some(t) = tables.by_name.get(name) else {
                out.push(Change::Drop(name.clone()));
                continue;
            };
            let Some(key) = key else {
                out.push(Change::Create(TableMeta::of(t)));
                continue;
            };
            // A key the request got wrong changed nothing (the request would have failed).
            let Ok(pk) = t.item_key(key) else { continue };
            match t.items.get(&pk) {
                Some(item) => out.push(Change::Put(name.clone(), item.clone())),
                None => out.push(Change::Delete(name.clone(), t.key_map(key))),
            }
        }
        out
    }
}

/// An open data file: locked, its log appended to.
#[derive(Debug)]
pub struct Store {
    path: PathBuf,
    /// Holds the exclusive lock for as long as the store lives.
    _lock: File,
    /// The log, opened for appending (after the compaction at open).
    log: Option<File>,
    /// The file's length now, and right after the last compaction.
    len: u64,
    compacted_len: u64,
    /// Compaction threshold beyond `COMPACT_FACTOR` times the compacted size.
    compact_slack: u64,
}

impl Store {
    /// Locks `path` (through `path.lock`) and reads its tables: `None` if there is no file yet.
    /// A torn tail is ignored (the compaction that follows at open cuts it off).
    pub fn open(path: &Path) -> Result<(Store, Option<Tables>), PersistError> {
        let lock_path = lock_path(path);
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|source| PersistError::Io {
                path: lock_path.clone(),
                source,
            })?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(PersistError::Locked {
                    path: path.to_path_buf(),
                    lock: lock_path,
                })
            }
            Err(std::fs::TryLockError::Error(source)) => {
                return Err(PersistError::Io {
                    path: lock_path,
                    source,
                })
            }
        }
        let store = Store {
            path: path.to_path_buf(),
            _lock: lock,
            log: None,
            len: 0,
            compacted_len: 0,
            compact_slack: COMPACT_SLACK,
        };
        let tables = store.load()?;
        Ok((store, tables))
    }

    fn corrupt(&self, why: String) -> PersistError {
        PersistError::Corrupt {
            path: self.path.clone(),
            why,
        }
    }

    fn io(&self, source: std::io::Error) -> PersistError {
        PersistError::Io {
            path: self.path.clone(),
            source,
        }
    }

    fn load(&self) -> Result<Option<Tables>, PersistError> {
        let f = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(self.io(source)),
        };
        let size = f.metadata().map_err(|e| self.io(e))?.len();
        let mut r = BufReader::with_capacity(64 * 1024, f);
        let mut head = Vec::with_capacity(MAGIC.len());
        (&mut r)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(|e| self.io(e))?;
        if head.first() == Some(&b'{') {
            let mut bytes = head;
            r.read_to_end(&mut bytes).map_err(|e| self.io(e))?;
            return self.load_v1(&bytes).map(Some);
        }
        if head.as_slice() != MAGIC.as_slice() {
            if MAGIC.starts_with(&head) {
                // Killed while the file was first written: nothing in it was acknowledged.
                return Ok(Some(Tables::default()));
            }
            return Err(self.corrupt("it does not start with the tables log header".into()));
        }
        let mut tables = Tables::default();
        let mut offset = MAGIC.len() as u64;
        let mut index = 0usize;
        loop {
            let mut frame = [0u8; 8];
            let got = read_full(&mut r, &mut frame).map_err(|e| self.io(e))?;
            if got == 0 {
                break;
            }
            let len = u32::from_le_bytes(frame[..4].try_into().expect("4 bytes"));
            let crc = u32::from_le_bytes(frame[4..].try_into().expect("4 bytes"));
            let end = offset + 8 + len as u64;
            if got < 8 || end > size || len > MAX_RECORD_BYTES {
                tracing::warn!(target: "dynamodb", path = %self.path.display(), offset, "torn record at the end of the log ignored");
                break;
            }
            let mut payload = vec![0u8; len as usize];
            r.read_exact(&mut payload).map_err(|e| self.io(e))?;
            if crc32fast::hash(&payload) != crc {
                if end == size {
                    tracing::warn!(target: "dynamodb", path = %self.path.display(), offset, "last record fails its CRC (torn write); ignored");
                    break;
                }
                return Err(self.corrupt(format!(
                    "record {index} at byte {offset} fails its CRC check"
                )));
            }
            let changes: Vec<Change> = serde_json::from_slice(&payload)
                .map_err(|e| self.corrupt(format!("record {index} at byte {offset}: {e}")))?;
            for c in changes {
                apply(&mut tables, c)
                    .map_err(|e| self.corrupt(format!("record {index} at byte {offset}: {e}")))?;
            }
            offset = end;
            index += 1;
        }
        Ok(Some(tables))
    }

    fn load_v1(&self, bytes: &[u8]) -> Result<Tables, PersistError> {
        let repr: V1File =
            serde_json::from_slice(bytes).map_err(|e| self.corrupt(e.to_string()))?;
        if repr.format != V1_FORMAT || repr.version != V1_VERSION {
            return Err(self.corrupt(format!(
                "format {:?} version {}, expected {V1_FORMAT:?} version {V1_VERSION} or the log format",
                repr.format, repr.version
            )));
        }
        let mut tables = Tables::default();
        for t in repr.tables {
            let name = t.name.clone();
            let meta = TableMeta {
                name: t.name,
                partition_key: t.partition_key,
                sort_key: t.sort_key,
                created_unix: t.created_unix,
                billing_mode: t.billing_mode,
                throughput: t.throughput,
            };
            let mut table = meta.table().map_err(|e| self.corrupt(e))?;
            for (i, item) in t.items.into_iter().enumerate() {
                let key = table
                    .item_key(&item)
                    .map_err(|e| self.corrupt(format!("table {name}, item {i}: {e}")))?;
                if table.items.insert(key, item).is_some() {
                    return Err(self.corrupt(format!("table {name}, item {i}: key repeated")));
                }
            }
            if tables.by_name.insert(name.clone(), table).is_some() {
                return Err(self.corrupt(format!("table {name} listed twice")));
            }
        }
        Ok(tables)
    }

    /// Rewrites the file as `tables` alone, durably (temp file, fsync, rename, directory
    /// fsync), and appends to the new file from now on.
    pub fn compact(&mut self, tables: &Tables) -> Result<(), PersistError> {
        let mut tmp_name = self.path.as_os_str().to_owned();
        tmp_name.push(".tmp");
        let tmp = PathBuf::from(tmp_name);
        let io = |source| PersistError::Io {
            path: tmp.clone(),
            source,
        };
        let f = File::create(&tmp).map_err(io)?;
        let mut w = std::io::BufWriter::with_capacity(256 * 1024, f);
        w.write_all(MAGIC).map_err(io)?;
        let mut len = MAGIC.len() as u64;
        for t in tables.by_name.values() {
            len += write_record(&mut w, &[Change::Create(TableMeta::of(t))]).map_err(io)?;
            let items: Vec<&Map<String, Value>> = t.items.values().collect();
            for chunk in items.chunks(ITEMS_PER_RECORD) {
                let changes: Vec<Change> = chunk
                    .iter()
                    .map(|i| Change::Put(t.name.clone(), (*i).clone()))
                    .collect();
                len += write_record(&mut w, &changes).map_err(io)?;
            }
        }
        let f = w.into_inner().map_err(|e| io(e.into_error()))?;
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
            .map_err(|e| self.io(e))?;
        let log = std::fs::OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(|e| self.io(e))?;
        self.log = Some(log);
        self.len = len;
        self.compacted_len = len;
        Ok(())
    }

    /// Appends one record holding `changes` and syncs it (`fdatasync`) before returning; then
    /// compacts if the log has outgrown the live data. `tables` is the state after `changes`.
    pub fn append(&mut self, changes: &[Change], tables: &Tables) -> Result<(), PersistError> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::new();
        let n = write_record(&mut buf, changes).map_err(|e| self.io(e))?;
        let Some(log) = self.log.as_mut() else {
            return self.compact(tables);
        };
        // One write for the whole record; a crash leaves at most this record torn.
        let written = log.write_all(&buf).and_then(|()| log.sync_data());
        if let Err(e) = written {
            // The file may now end in part of this record: start a fresh file from memory.
            self.log = None;
            return Err(self.io(e));
        }
        self.len += n;
        if self.len > COMPACT_FACTOR * self.compacted_len + self.compact_slack {
            self.compact(tables)?;
        }
        Ok(())
    }

    /// The file's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the file holds no record (only possible before the first compaction).
    pub fn is_empty(&self) -> bool {
        self.len <= MAGIC.len() as u64
    }
}

/// `FILE.lock`, the file that carries the lock for `FILE`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Writes one framed record; returns its size on disk.
fn write_record(w: &mut impl Write, changes: &[Change]) -> std::io::Result<u64> {
    let payload = serde_json::to_vec(changes).expect("changes serialise");
    let len = u32::try_from(payload.len())
        .ok()
        .filter(|&l| l <= MAX_RECORD_BYTES)
        .ok_or_else(|| std::io::Error::other("record larger than 256 MiB"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(&crc32fast::hash(&payload).to_le_bytes())?;
    w.write_all(&payload)?;
    Ok(8 + payload.len() as u64)
}

/// Reads until `buf` is full or the end of the input; returns how many bytes were read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
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

    fn item(n: &str) -> Map<String, Value> {
        serde_json::from_value(serde_json::json!(
            {"id": {"S": "a"}, "n": {"N": n}, "v": {"SS": ["x"]}}
        ))
        .unwrap()
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
            let i = item(n);
            t.items.insert(t.item_key(&i).unwrap(), i);
        }
        tables.by_name.insert("T".into(), t);
        tables
    }

    fn ns(tables: &Tables) -> Vec<Value> {
        tables.by_name["T"]
            .items
            .values()
            .map(|i| i["n"]["N"].clone())
            .collect()
    }

    /// Puts item `n` in `tables` and logs it as a PutItem would.
    fn put(store: &mut Store, tables: &mut Tables, n: &str) {
        let body =
            serde_json::to_vec(&serde_json::json!({"TableName": "T", "Item": item(n)})).unwrap();
        let touched = Touched::of("PutItem", &body).unwrap();
        let t = tables.by_name.get_mut("T").unwrap();
        t.items.insert(t.item_key(&item(n)).unwrap(), item(n));
        store.append(&touched.changes(tables), tables).unwrap();
    }

    #[test]
    fn log_round_trip_appends_and_compacts() {
        let d = dir("rt");
        let path = d.join("data");
        let (mut store, none) = Store::open(&path).unwrap();
        assert!(none.is_none(), "no file yet");
        let mut tables = sample();
        store.compact(&tables).unwrap();
        let base = store.len();
        put(&mut store, &mut tables, "3");
        assert!(store.len() > base, "appended, not rewritten");
        // A deletion, as DeleteItem logs it.
        let body = br#"{"TableName": "T", "Key": {"id": {"S": "a"}, "n": {"N": "1"}}}"#;
        let touched = Touched::of("DeleteItem", body).unwrap();
        let t = tables.by_name.get_mut("T").unwrap();
        t.items.remove(&t.item_key(&item("1")).unwrap());
        store.append(&touched.changes(&tables), &tables).unwrap();
        drop(store);
        let (_store, back) = Store::open(&path).unwrap();
        let back = back.unwrap();
        assert_eq!(ns(&back), ["2.50", "3"]);
        let t = &back.by_name["T"];
        assert_eq!(t.range, Some(("n".into(), KeyType::N)));
        assert_eq!(t.created_unix, 1.5);
        assert!(!d.join("data.tmp").exists(), "the temp file was renamed");
    }

    #[test]
    fn the_log_is_compacted_when_it_outgrows_the_data() {
        let d = dir("grow");
        let path = d.join("data");
        let (mut store, _) = Store::open(&path).unwrap();
        store.compact_slack = 4096;
        let mut tables = sample();
        store.compact(&tables).unwrap();
        let base = store.len();
        // Rewriting one item over and over: the file must not grow without bound.
        let mut peak = 0;
        for _ in 0..500 {
            put(&mut store, &mut tables, "7");
            peak = peak.max(std::fs::metadata(&path).unwrap().len());
        }
        assert!(
            peak <= COMPACT_FACTOR * (base + 200) + 4096 + 200,
            "file peaked at {peak} bytes"
        );
        drop(store);
        assert_eq!(
            ns(&Store::open(&path).unwrap().1.unwrap()),
            ["1", "2.50", "7"]
        );
    }

    #[test]
    fn a_torn_tail_is_ignored_and_damage_before_it_is_refused() {
        let d = dir("torn");
        let path = d.join("data");
        let (mut store, _) = Store::open(&path).unwrap();
        let mut tables = sample();
        store.compact(&tables).unwrap();
        put(&mut store, &mut tables, "3");
        let good_len = store.len();
        put(&mut store, &mut tables, "4");
        drop(store);
        let full = std::fs::read(&path).unwrap();
        // Every cut inside the last record: "4" is gone, everything before it is there.
        for cut in good_len..full.len() as u64 {
            std::fs::write(&path, &full[..cut as usize]).unwrap();
            let (_s, back) = Store::open(&path).unwrap();
            assert_eq!(ns(&back.unwrap()), ["1", "2.50", "3"], "cut at {cut}");
        }
        // The last record complete but corrupted (a torn sector): ignored too.
        let mut bad = full.clone();
        *bad.last_mut().unwrap() ^= 0xff;
        std::fs::write(&path, &bad).unwrap();
        assert_eq!(
            ns(&Store::open(&path).unwrap().1.unwrap()),
            ["1", "2.50", "3"]
        );
        // A corrupted record with another after it: damage, refused with where it is.
        let mut bad = full.clone();
        bad[good_len as usize - 1] ^= 0xff;
        std::fs::write(&path, &bad).unwrap();
        let e = Store::open(&path).unwrap_err().to_string();
        assert!(
            e.contains("fails its CRC check") && e.contains("move it away"),
            "{e}"
        );
        // A file killed while its header was written holds nothing.
        std::fs::write(&path, &MAGIC[..10]).unwrap();
        assert!(Store::open(&path).unwrap().1.unwrap().by_name.is_empty());
    }

    #[test]
    fn a_second_store_on_the_same_file_is_refused_while_the_first_is_open() {
        let d = dir("lock");
        let path = d.join("data");
        let (first, _) = Store::open(&path).unwrap();
        let e = Store::open(&path).unwrap_err();
        assert!(matches!(e, PersistError::Locked { .. }), "{e}");
        assert!(e.to_string().contains("in use by another process"), "{e}");
        drop(first);
        Store::open(&path).expect("free again once the first is closed");
    }

    #[test]
    fn version_1_files_are_read_and_damaged_ones_refused_with_the_reason() {
        let d = dir("v1");
        let path = d.join("data.json");
        let v1 = r#"{"format":"ft900-sim-dynamodb-tables","version":1,"tables":[{"name":"T","partition_key":["id","S"],"sort_key":["n","N"],"created_unix":1.5,"billing_mode":"PAY_PER_REQUEST","throughput":[0,0],"items":[{"id":{"S":"a"},"n":{"N":"1"}},{"id":{"S":"a"},"n":{"N":"2.50"}}]}]}"#;
        std::fs::write(&path, v1).unwrap();
        assert_eq!(ns(&Store::open(&path).unwrap().1.unwrap()), ["1", "2.50"]);
        let err = |text: &str| {
            std::fs::write(&path, text).unwrap();
            Store::open(&path).unwrap_err().to_string()
        };
        assert!(err("{\"format\": ").contains("not a usable tables file"));
        assert!(err("[1, 2]").contains("data.json"));
        assert!(err(&v1.replace("\"version\":1", "\"version\":9")).contains("version 9"));
        assert!(err(&v1.replace("[\"n\",\"N\"]", "[\"n\",\"Q\"]")).contains("key type"));
        // An item without its sort key.
        assert!(err(&v1.replace(",\"n\":{\"N\":\"1\"}", "")).contains("item 0"));
    }
}
