//! `scenarios`: run scenario files (`run`), or the local DynamoDB endpoint standalone
//! (`serve`).

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

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
    let ep = scenarios::runner::fleet::endpoint_for(&s, seed)?;
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
    /// AWS example key AKIDEXAMPLE).
    #[arg(long = "credentials", value_name = "AKID:SECRET", value_parser = parse_credentials)]
    credentials: Vec<Credentials>,
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
    /// Keep the tables in this file across restarts: loaded at start if it exists, every
    /// change written through (atomically) before its response is sent.
    #[arg(long, value_name = "FILE")]
    data: Option<PathBuf>,
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
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (var("AWS_ACCESS_KEY_ID"), var("AWS_SECRET_ACCESS_KEY")) {
        (Some(id), Some(secret)) => Ok(Credentials {
            access_key_id: id,
            secret_access_key: secret,
            session_token: var("AWS_SESSION_TOKEN"),
        }),
        _ => bail!(
            "--upstream needs the upstream's key: --upstream-credentials AKID:SECRET, or \
             AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment"
        ),
    }
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
    if !a.credentials.is_empty() {
        cfg.credentials = a.credentials;
    }
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
    let opts = ServeOptions {
        plain: a.plain,
        ..ServeOptions::default()
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
