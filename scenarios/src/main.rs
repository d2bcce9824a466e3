//! `scenarios`: run scenario files (`run`), benchmark a fleet (`bench`), or the local DynamoDB
//! endpoint standalone (`serve`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use scenarios::endpoint::{
    Credentials, Endpoint, EndpointConfig, KeyType, ServeOptions, ServerKey, TableSpec,
};

#[derive(Parser)]
#[command(
    name = "scenarios",
    version,
    about = "End-to-end scenarios and a local DynamoDB endpoint"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run scenario files (or directories of them) and check their expectations.
    Run(scenarios::runner::cli::RunArgs),
    /// The fleet benchmark: a scenario on 1 host thread and on N; readings per host second,
    /// the threads' efficiency, and whether both runs agree. On a one-device scenario, the
    /// device bench: its busy MIPS in the scenario ÷ the same instructions run alone.
    Bench(scenarios::runner::bench::BenchArgs),
    /// Serve the DynamoDB-compatible endpoint (HTTPS, SigV4 enforced) on a TCP port.
    Serve(ServeArgs),
    /// Write a scenario's TLS identity (the CA its devices trust, the server certificate and
    /// key) as PEM files, for a server outside the simulation (`[endpoint] external`):
    /// `moto_server --ssl-cert DIR/server.pem --ssl-key DIR/server.key`.
    Identity(IdentityArgs),
}

#[derive(Args)]
struct IdentityArgs {
    /// The scenario file.
    scenario: PathBuf,
    /// Directory for ca.pem, server.pem and server.key (created if missing).
    #[arg(long)]
    out: PathBuf,
    /// Overrides the scenario's seed (the identity derives from it).
    #[arg(long)]
    seed: Option<u64>,
}

fn identity(a: IdentityArgs) -> anyhow::Result<()> {
    let s = scenarios::runner::Scenario::load(&a.scenario)?;
    let seed = a.seed.unwrap_or(s.seed);
    let ep = scenarios::runner::world::endpoint_for(&s, seed)?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("{}: cannot create", a.out.display()))?;
    let (cert, key) = ep.server_identity_pem();
    let write = |name: &str, text: &str, mode: u32| -> anyhow::Result<()> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = a.out.join(name);
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(mode)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()))
            .with_context(|| format!("{}: cannot write", path.display()))
    };
    write("ca.pem", &ep.ca_cert_pem(), 0o644)?;
    write("server.pem", &cert, 0o644)?;
    // A throwaway test key, but a private key all the same: readable by its owner only.
    write("server.key", &key, 0o600)?;
    println!(
        "scenarios: {} identity for {} in {} (ca.pem, server.pem, server.key)",
        s.name,
        s.endpoint.host_names.join(", "),
        a.out.display()
    );
    Ok(())
}

#[derive(Args)]
struct ServeArgs {
    /// Address to listen on (loopback unless --allow-remote).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: String,
    /// Write the test CA certificate (PEM) here, for clients to trust.
    #[arg(long)]
    ca_out: Option<PathBuf>,
    /// Append one JSON line per request here (signatures and tokens redacted).
    #[arg(long)]
    request_log: Option<PathBuf>,
    /// Region accepted in credential scopes.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// A known key, `AKID:SECRET` or `AKID:SECRET:SESSION_TOKEN` (repeatable; default: the
    /// AWS example key AKIDEXAMPLE). The command line is visible to every local user (`ps`):
    /// for a real secret use --credentials-file or --credentials-from-env.
    #[arg(long = "credentials", value_name = "AKID:SECRET", value_parser = parse_credentials)]
    credentials: Vec<Credentials>,
    /// Known keys from a file, one `AKID:SECRET[:SESSION_TOKEN]` per line (`#` comments); the
    /// file must be yours and readable by you only (mode 0600 or stricter).
    #[arg(long, value_name = "FILE")]
    credentials_file: Option<PathBuf>,
    /// A known key from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
    #[arg(long)]
    credentials_from_env: bool,
    /// A table to create, `NAME:PK:TYPE[:SK:TYPE]` with TYPE one of S, N, B (repeatable;
    /// default: SensorReadings:deviceId:S:seq:N).
    #[arg(long = "table", value_name = "NAME:PK:S[:SK:N]", value_parser = parse_table)]
    tables: Vec<TableSpec>,
    /// Certificate host names (repeatable; default: dynamodb.<region>.amazonaws.com,
    /// localhost, 127.0.0.1).
    #[arg(long = "host-name")]
    host_names: Vec<String>,
    /// Serve plain HTTP instead of HTTPS.
    #[arg(long)]
    plain: bool,
    /// Seed for request ids and faults.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Skew the endpoint's clock by this many seconds.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    clock_offset: i64,
    /// Use an RSA-2048 CA and server key instead of ECDSA P-256.
    #[arg(long)]
    rsa: bool,
    /// Allow listening on a non-loopback address.
    #[arg(long)]
    allow_remote: bool,
    /// Keep the tables in this file across restarts: an append-only log, locked (FILE.lock),
    /// loaded and compacted at start if it exists, every change synced before its response.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
    /// Most connections served at once; more are closed as they are accepted.
    #[arg(long, default_value_t = ServeOptions::default().max_connections)]
    max_connections: usize,
    /// Seconds for the TLS handshake (from accept) and for each request head (from its first
    /// byte); a connection over it is closed.
    #[arg(long, value_name = "SECS", default_value = "20", value_parser = parse_secs)]
    head_timeout: Duration,
    /// Seconds for each request body, from the end of its head.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
    body_timeout: Duration,
    /// Seconds an idle keep-alive connection is kept.
    #[arg(long, value_name = "SECS", default_value = "120", value_parser = parse_secs)]
    idle_timeout: Duration,
    /// Seconds a response write may make no progress (a client not reading) before the
    /// connection is closed.
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = parse_secs)]
    send_timeout: Duration,
    /// MiB of request bodies held at once over all connections while they are read (before
    /// their signatures can be checked); a request past it gets 503 ServiceUnavailable.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    max_body_memory: usize,
    /// Request records kept in memory (the last N; the --request-log file gets them all).
    #[arg(long, value_name = "N", default_value_t = 1000)]
    request_log_keep: usize,
    /// Forward every request that passes the local checks (SigV4 with --credentials, faults)
    /// to this DynamoDB-compatible engine, re-signed: `http://HOST:PORT` (DynamoDB Local,
    /// moto_server). Tables then live there, not here.
    #[arg(long, value_name = "URL", conflicts_with = "data")]
    upstream: Option<String>,
    /// The upstream's key, `AKID:SECRET[:SESSION_TOKEN]`; default: AWS_ACCESS_KEY_ID,
    /// AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) from the environment.
    #[arg(long, value_name = "AKID:SECRET", value_parser = parse_credentials, requires = "upstream")]
    upstream_credentials: Option<Credentials>,
}

/// The upstream's credentials: the flag, else the standard AWS environment variables.
fn upstream_credentials(flag: Option<Credentials>) -> anyhow::Result<Credentials> {
    if let Some(c) = flag {
        return Ok(c);
    }
    match env_credentials() {
        Some(c) => Ok(c),
        None => bail!(
            "--upstream needs the upstream's key: --upstream-credentials AKID:SECRET, or \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
        ),
    }
}

fn parse_secs(s: &str) -> Result<Duration, String> {
    s.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0 && *v < 1e9)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| format!("'{s}' is not a positive number of seconds"))
}

/// The keys in a credentials file, which must be the user's own and not readable by others
/// (the secrets stay out of `ps`, and out of other users' reach).
fn credentials_file(path: &std::path::Path) -> anyhow::Result<Vec<Credentials>> {
    use std::os::unix::fs::MetadataExt;
    let show = path.display();
    let f = std::fs::File::open(path).with_context(|| format!("{show}: cannot open"))?;
    let meta = f
        .metadata()
        .with_context(|| format!("{show}: cannot stat"))?;
    if !meta.is_file() {
        bail!("{show}: not a regular file");
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{show}: mode {mode:04o} lets other users read the secrets; `chmod 600 {show}` first"
        );
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    if meta.uid() != me {
        bail!(
            "{show}: owned by uid {}, not by you (uid {me}); a key file must be your own",
            meta.uid()
        );
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut &f, &mut text)
        .with_context(|| format!("{show}: cannot read"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // The message must not echo the line: it holds a secret.
        out.push(
            parse_credentials(line).map_err(|e| anyhow::anyhow!("{show}: line {}: {e}", i + 1))?,
        );
    }
    if out.is_empty() {
        bail!("{show}: no key in the file (expected lines AKID:SECRET[:SESSION_TOKEN])");
    }
    Ok(out)
}

/// The key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN).
fn env_credentials() -> Option<Credentials> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    Some(Credentials {
        access_key_id: var("AWS_ACCESS_KEY_ID")?,
        secret_access_key: var("AWS_SECRET_ACCESS_KEY")?,
        session_token: var("AWS_SESSION_TOKEN"),
    })
}

fn parse_credentials(s: &str) -> Result<Credentials, String> {
    let parts: Vec<&str> = s.splitn(3, ':').collect();
    match parts.as_slice() {
        [id, secret] | [id, secret, _] if !id.is_empty() && !secret.is_empty() => Ok(Credentials {
            access_key_id: id.to_string(),
            secret_access_key: secret.to_string(),
            session_token: parts.get(2).map(|t| t.to_string()),
        }),
        _ => Err("expected AKID:SECRET or AKID:SECRET:SESSION_TOKEN".into()),
    }
}

fn key_type(s: &str) -> Result<KeyType, String> {
    match s {
        "S" => Ok(KeyType::S),
        "N" => Ok(KeyType::N),
        "B" => Ok(KeyType::B),
        _ => Err(format!("key type '{s}' is not one of S, N, B")),
    }
}

fn parse_table(s: &str) -> Result<TableSpec, String> {
    let p: Vec<&str> = s.split(':').collect();
    if !(p.len() == 3 || p.len() == 5) || p.iter().any(|x| x.is_empty()) {
        return Err("expected NAME:PK:TYPE or NAME:PK:TYPE:SK:TYPE".into());
    }
    Ok(TableSpec {
        name: p[0].into(),
        partition_key: (p[1].into(), key_type(p[2])?),
        sort_key: if p.len() == 5 {
            Some((p[3].into(), key_type(p[4])?))
        } else {
            None
        },
    })
}

fn serve(a: ServeArgs) -> anyhow::Result<()> {
    let addr: std::net::SocketAddr = a
        .listen
        .parse()
        .with_context(|| format!("--listen {}: expected IP:PORT", a.listen))?;
    if !addr.ip().is_loopback() && !a.allow_remote {
        bail!("--listen {addr} is not a loopback address; add --allow-remote to serve beyond this host");
    }
    let mut cfg = EndpointConfig {
        region: a.region.clone(),
        seed: a.seed,
        clock_offset_secs: a.clock_offset,
        server_key: if a.rsa {
            ServerKey::Rsa2048
        } else {
            ServerKey::EcdsaP256
        },
        epoch_unix: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .context("system clock before 1970")?
            .as_secs(),
        ..EndpointConfig::default()
    };
    cfg.host_names = if a.host_names.is_empty() {
        vec![
            format!("dynamodb.{}.amazonaws.com", a.region),
            "localhost".into(),
            "127.0.0.1".into(),
        ]
    } else {
        a.host_names
    };
    let mut keys = a.credentials.clone();
    if let Some(path) = &a.credentials_file {
        keys.extend(credentials_file(path)?);
    }
    if a.credentials_from_env {
        keys.push(env_credentials().context(
            "--credentials-from-env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
        )?);
    }
    if !keys.is_empty() {
        cfg.credentials = keys;
    }
    cfg.max_body_memory = a
        .max_body_memory
        .checked_mul(1024 * 1024)
        .context("--max-body-memory: too large")?;
    cfg.request_log_keep = Some(a.request_log_keep);
    if !a.tables.is_empty() {
        cfg.tables = a.tables;
    }
    cfg.data_file = a.data.clone();
    if let Some(url) = &a.upstream {
        let creds = upstream_credentials(a.upstream_credentials.clone())?;
        cfg.upstream = Some(
            scenarios::endpoint::upstream::Upstream::new(url, &a.region, creds)
                .map_err(anyhow::Error::msg)?,
        );
    }
    let ep = Endpoint::new(cfg)?;
    if let Some(path) = &a.ca_out {
        std::fs::write(path, ep.ca_cert_pem())
            .with_context(|| format!("writing the CA certificate to {}", path.display()))?;
    }
    if let Some(path) = &a.request_log {
        let f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening the request log {}", path.display()))?;
        ep.set_request_log(Box::new(std::io::LineWriter::new(f)));
    }
    anyhow::ensure!(
        a.max_connections > 0,
        "--max-connections must be at least 1"
    );
    let opts = ServeOptions {
        plain: a.plain,
        max_connections: a.max_connections,
        head_timeout: a.head_timeout,
        body_timeout: a.body_timeout,
        idle_timeout: a.idle_timeout,
        send_timeout: a.send_timeout,
    };
    let scheme = if a.plain { "http" } else { "https" };
    ep.serve_on(
        &a.listen,
        &opts,
        Arc::new(AtomicBool::new(false)),
        |bound| {
            println!(
            "scenarios: DynamoDB endpoint listening on {scheme}://{bound} (region {}, {} key(s))",
            a.region,
            ep.config().credentials.len()
        );
            let _ = std::io::stdout().flush();
        },
    )
    .with_context(|| format!("serving on {}", a.listen))
}

fn main() -> std::process::ExitCode {
    let result = match Cli::parse().cmd {
        Cmd::Run(a) => scenarios::runner::cli::run(&a),
        Cmd::Bench(a) => scenarios::runner::bench::run(&a),
        Cmd::Serve(a) => serve(a).map(|()| 0),
        Cmd::Identity(a) => identity(a).map(|()| 0),
    };
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("scenarios: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
