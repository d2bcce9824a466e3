//! A gdb/MI client for tests: spawns `ft32-elf-gdb --interpreter=mi2`, sends numbered commands
//! and parses its output records (GDB manual, "GDB/MI Output Syntax").
//!
//! Every output line is one record: a result (`TOKEN^done,...`), an asynchronous record
//! (`*stopped,...`, `=breakpoint-modified,...`), a stream record (`~"..."` console, `@"..."`
//! target, `&"..."` log) or the `(gdb)` prompt. Results are `name=value` pairs whose values are
//! C strings, tuples `{...}` or lists `[...]` (of values or of results).

#![allow(dead_code)] // the parser's accessors are there for any test

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// A value in an MI record.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    /// A C string, unescaped.
    Str(String),
    /// `{name=value,...}`.
    Tuple(Vec<(String, Value)>),
    /// `[value,...]`.
    List(Vec<Value>),
    /// `[name=value,...]` (e.g. `stack=[frame={...},frame={...}]`).
    Results(Vec<(String, Value)>),
}

impl Value {
    /// The field `name` of a tuple or result list.
    pub fn get(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Tuple(fields) | Value::Results(fields) => {
                fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }

    /// The string at `path` (`frame.func`), if there is one.
    pub fn str_at(&self, path: &str) -> Option<&str> {
        let mut v = self;
        for name in path.split('.') {
            v = v.get(name)?;
        }
        match v {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The elements of a list (the values of a result list).
    pub fn items(&self) -> Vec<&Value> {
        match self {
            Value::List(items) => items.iter().collect(),
            Value::Results(fields) => fields.iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        }
    }
}

/// One line of MI output.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    /// `TOKEN^CLASS,results`: the answer to a command.
    Result {
        token: Option<u64>,
        class: String,
        results: Value,
    },
    /// `*CLASS,...` (exec), `+CLASS,...` (status) or `=CLASS,...` (notify).
    Async {
        kind: char,
        class: String,
        results: Value,
    },
    /// `~"..."` (console), `@"..."` (target) or `&"..."` (log).
    Stream { kind: char, text: String },
    /// `(gdb)`.
    Prompt,
}

/// Parses one MI output line.
pub fn parse_record(line: &str) -> Result<Record, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim_end() == "(gdb)" {
        return Ok(Record::Prompt);
    }
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    let token = if digits > 0 {
        Some(line[..digits].parse().map_err(|e| format!("{e}"))?)
    } else {
        None
    };
    let rest = &line[digits..];
    let kind = rest
        .chars()
        .next()
        .ok_or_else(|| format!("empty record: {line:?}"))?;
    let body = &rest[1..];
    match kind {
        '~' | '@' | '&' => {
            let mut p = Parser::new(body);
            let text = p.cstring()?;
            p.end()?;
            Ok(Record::Stream { kind, text })
        }
        '^' | '*' | '+' | '=' => {
            let (class, results) = match body.split_once(',') {
                Some((class, results)) => (class, results),
                None => (body, ""),
            };
            let mut p = Parser::new(results);
            let results = Value::Tuple(p.results_until(None)?);
            p.end()?;
            if kind == '^' {
                Ok(Record::Result {
                    token,
                    class: class.to_string(),
                    results,
                })
            } else {
                Ok(Record::Async {
                    kind,
                    class: class.to_string(),
                    results,
                })
            }
        }
        _ => Err(format!("not an MI record: {line:?}")),
    }
}

/// A recursive-descent parser over one record's text.
struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(s: &'a str) -> Parser<'a> {
        Parser {
            s: s.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn expect(&mut self, c: u8) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(&format!("expected `{}`", c as char)))
        }
    }

    fn error(&self, what: &str) -> String {
        format!(
            "{what} at byte {} of {:?}",
            self.at,
            String::from_utf8_lossy(self.s)
        )
    }

    fn end(&self) -> Result<(), String> {
        if self.at == self.s.len() {
            Ok(())
        } else {
            Err(self.error("trailing text"))
        }
    }

    /// `name=value,...` up to `close` (or the end of the text when `None`).
    fn results_until(&mut self, close: Option<u8>) -> Result<Vec<(String, Value)>, String> {
        let mut out = Vec::new();
        if self.peek() == close {
            return Ok(out);
        }
        loop {
            out.push(self.result()?);
            match self.peek() {
                Some(b',') => self.at += 1,
                c if c == close => return Ok(out),
                _ => return Err(self.error("expected `,` or the end of the results")),
            }
        }
    }

    fn result(&mut self) -> Result<(String, Value), String> {
        let start = self.at;
        while let Some(c) = self.peek() {
            if c == b'=' {
                break;
            }
            if !(c.is_ascii_alphanumeric() || c == b'-' || c == b'_') {
                return Err(self.error("bad character in a result name"));
            }
            self.at += 1;
        }
        let name = String::from_utf8_lossy(&self.s[start..self.at]).into_owned();
        if name.is_empty() {
            return Err(self.error("empty result name"));
        }
        self.expect(b'=')?;
        Ok((name, self.value()?))
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => Ok(Value::Str(self.cstring()?)),
            Some(b'{') => {
                self.at += 1;
                let fields = self.results_until(Some(b'}'))?;
                self.expect(b'}')?;
                Ok(Value::Tuple(fields))
            }
            Some(b'[') => {
                self.at += 1;
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Ok(Value::List(Vec::new()));
                }
                // A list holds either values (starting with `"`, `{`, `[`) or results.
                let value = if matches!(self.peek(), Some(b'"' | b'{' | b'[')) {
                    let mut items = Vec::new();
                    loop {
                        items.push(self.value()?);
                        if self.peek() == Some(b',') {
                            self.at += 1;
                        } else {
                            break;
                        }
                    }
                    Value::List(items)
                } else {
                    Value::Results(self.results_until(Some(b']'))?)
                };
                self.expect(b']')?;
                Ok(value)
            }
            _ => Err(self.error("expected a value")),
        }
    }

    /// A C string: `"` text with `\n`, `\t`, `\r`, `\"`, `\\` and `\NNN` (octal) escapes `"`.
    fn cstring(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let mut bytes = Vec::new();
        loop {
            let c = self
                .peek()
                .ok_or_else(|| self.error("unterminated string"))?;
            self.at += 1;
            match c {
                b'"' => break,
                b'\\' => {
                    let e = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated escape"))?;
                    self.at += 1;
                    match e {
                        b'n' => bytes.push(b'\n'),
                        b't' => bytes.push(b'\t'),
                        b'r' => bytes.push(b'\r'),
                        b'e' => bytes.push(0x1b),
                        b'0'..=b'7' => {
                            let mut n = u32::from(e - b'0');
                            for _ in 0..2 {
                                match self.peek() {
                                    Some(d @ b'0'..=b'7') => {
                                        n = n * 8 + u32::from(d - b'0');
                                        self.at += 1;
                                    }
                                    _ => break,
                                }
                            }
                            bytes.push(n as u8);
                        }
                        other => bytes.push(other),
                    }
                }
                other => bytes.push(other),
            }
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// The answer to one command.
#[derive(Debug)]
pub struct Reply {
    /// `done`, `running`, `connected`, `error` or `exit`.
    pub class: String,
    /// The results of the result record, as a tuple.
    pub results: Value,
    /// What the console (`~`) and target (`@`) streams carried meanwhile (e.g. the output of a
    /// `monitor` command).
    pub output: String,
}

/// A running `ft32-elf-gdb --interpreter=mi2` session.
pub struct Gdb {
    child: Child,
    stdin: ChildStdin,
    lines: Receiver<String>,
    token: u64,
    /// Asynchronous records received and not yet waited for.
    events: VecDeque<Record>,
    /// Everything sent and received, for failure messages.
    transcript: Vec<String>,
    /// How long any one wait may take before the session is declared hung.
    limit: Duration,
}

impl Gdb {
    /// Starts `gdb --interpreter=mi2 -nx` in `cwd`; `limit` bounds every wait (a hang guard).
    pub fn spawn(gdb: &Path, cwd: &Path, limit: Duration) -> Gdb {
        let mut child = Command::new(gdb)
            .args(["--interpreter=mi2", "-nx", "-q"])
            .current_dir(cwd)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", gdb.display()));
        let (tx, lines) = mpsc::channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stdin = child.stdin.take().unwrap();
        Gdb {
            child,
            stdin,
            lines,
            token: 0,
            events: VecDeque::new(),
            transcript: Vec::new(),
            limit,
        }
    }

    /// The session so far, one line per record, for failure messages.
    pub fn transcript(&self) -> String {
        self.transcript.join("\n")
    }

    /// The next record gdb writes.
    fn next_record(&mut self) -> Record {
        let deadline = Instant::now() + self.limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match self.lines.recv_timeout(left) {
                Ok(line) => line,
                Err(_) => {
                    let _ = self.child.kill();
                    panic!(
                        "gdb said nothing for {:?} (or exited)\n{}",
                        self.limit,
                        self.transcript()
                    );
                }
            };
            self.transcript.push(format!("<- {line}"));
            if line.trim().is_empty() {
                continue;
            }
            match parse_record(&line) {
                Ok(record) => return record,
                // Text from gdb's stderr or the program is not MI: keep it in the transcript.
                Err(_) => continue,
            }
        }
    }

    /// Sends `command` and waits for its result record; asynchronous records that arrive
    /// meanwhile are kept for [`Gdb::wait_stopped`].
    pub fn command(&mut self, command: &str) -> Reply {
        self.token += 1;
        let token = self.token;
        let line = format!("{token}{command}");
        self.transcript.push(format!("-> {line}"));
        writeln!(self.stdin, "{line}")
            .and_then(|_| self.stdin.flush())
            .unwrap_or_else(|e| panic!("writing to gdb: {e}\n{}", self.transcript()));
        let mut output = String::new();
        loop {
            match self.next_record() {
                Record::Result {
                    token: Some(t),
                    class,
                    results,
                } if t == token => {
                    return Reply {
                        class,
                        results,
                        output,
                    }
                }
                Record::Stream {
                    kind: '~' | '@',
                    text,
                } => output.push_str(&text),
                record @ Record::Async { .. } => self.events.push_back(record),
                _ => {}
            }
        }
    }

    /// [`Gdb::command`], which must answer `class` (e.g. `done`); returns the reply.
    pub fn expect(&mut self, command: &str, class: &str) -> Reply {
        let reply = self.command(command);
        assert_eq!(
            reply.class,
            class,
            "`{command}` answered {:?}\n{}",
            reply.results,
            self.transcript()
        );
        reply
    }

    /// Waits for the next `*stopped` record and returns its results.
    pub fn wait_stopped(&mut self) -> Value {
        loop {
            let record = match self.events.pop_front() {
                Some(record) => record,
                None => self.next_record(),
            };
            if let Record::Async {
                kind: '*',
                class,
                results,
            } = record
            {
                if class == "stopped" {
                    return results;
                }
            }
        }
    }

    /// Waits for gdb to exit (after `-gdb-exit`).
    pub fn wait_exit(mut self) {
        let deadline = Instant::now() + self.limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        panic!("gdb did not exit\n{}", self.transcript());
    }
}

impl Drop for Gdb {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

#[test]
fn parses_the_record_kinds() {
    let r = parse_record(
        r#"12^done,stack=[frame={level="0",func="f",args=[]},frame={level="1",func="main"}]"#,
    )
    .unwrap();
    let Record::Result {
        token,
        class,
        results,
    } = r
    else {
        panic!("{r:?}")
    };
    assert_eq!((token, class.as_str()), (Some(12), "done"));
    let frames = results.get("stack").unwrap().items();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[1].str_at("func"), Some("main"));
    assert_eq!(frames[0].get("args"), Some(&Value::List(vec![])));

    let r = parse_record(r#"*stopped,reason="breakpoint-hit",frame={addr="0x10",func="g"}"#);
    let Ok(Record::Async {
        kind: '*',
        class,
        results,
    }) = r
    else {
        panic!("{r:?}")
    };
    assert_eq!(class, "stopped");
    assert_eq!(results.str_at("frame.func"), Some("g"));
    assert_eq!(
        parse_record(r#"@"a \"b\"\\\n\101""#),
        Ok(Record::Stream {
            kind: '@',
            text: "a \"b\"\\\nA".to_string()
        })
    );
    assert_eq!(
        parse_record(r#"2^done,features=["a","b"]"#)
            .map(|r| match r {
                Record::Result { results, .. } => results.get("features").unwrap().items().len(),
                _ => 0,
            })
            .unwrap(),
        2
    );
    assert_eq!(parse_record("(gdb) "), Ok(Record::Prompt));
    assert!(parse_record("3^done,x=").is_err());
    assert!(parse_record(r#"~"unterminated"#).is_err());
    assert!(parse_record("hello").is_err());
}
