//! The AWS SigV4 signer of `firmware/aws` against the AWS SigV4 test suite
//! (`<workspace>/../shared/testdata/sigv4`, cases `NAME/NAME.req|.creq|.sts|.authz`):
//!
//! - on the host: `make -C firmware host-test` builds `sigv4_test` with the host compiler from
//!   the signer's sources, which must print `N passed, 0 failed` for every case of the
//!   directory (and pass its SHA-256/HMAC/signer self-tests);
//! - on the simulated FT900: `sigv4_vectors.elf` (the same sources built for FT32) receives
//!   every case over UART0 and prints what it signs; each canonical request, string to sign
//!   and Authorization value must equal the suite's files byte for byte. The cycles and
//!   instructions per signature are measured from the entry of `sigv4_sign` to the firmware's
//!   end-of-signature mark.
//!
//! Virtual time only. Needs the ft32-elf toolchain, GNU make and a host C compiler (`cc`).

mod support;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

use ft900_sim::elf::{LoadPolicy, Program};
use ft900_sim::profile::ft900::serial::Capture;
use ft900_sim::profile::ft900::{Ft900, Ft900Config};
use ft900_sim::{HookAction, Machine, Profile, RunLimits, StopReason};

/// CPU cycles per second (100 MHz).
const HZ: u64 = 100_000_000;
/// Longest virtual time the firmware may take for everything.
const MAX_VIRTUAL_SECONDS: u64 = 20;

// ---- the test vectors -------------------------------------------------------------------

/// The test-suite directory, next to the workspace; fails loudly when it is missing.
fn vectors_dir() -> PathBuf {
    let dir = support::workspace_root().join("../shared/testdata/sigv4");
    match dir.canonicalize() {
        Ok(d) if d.is_dir() => d,
        _ => panic!(
            "\n\nthe AWS SigV4 test vectors are missing: expected the directory {} \
             (cases NAME/NAME.req, .creq, .sts, .authz of the AWS SigV4 test suite)\n",
            dir.display()
        ),
    }
}

/// One case of the suite.
struct Case {
    name: String,
    req: Vec<u8>,
    creq: Vec<u8>,
    sts: Vec<u8>,
    authz: Vec<u8>,
    /// Session token: not in the .req files; the x-amz-security-token line of the .creq
    /// (botocore's convention), unless the .req carries the header itself.
    token: Vec<u8>,
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: cannot read: {e}", path.display()))
}

fn has_header(req: &[u8], name: &str) -> bool {
    req.split(|&b| b == b'\n')
        .skip(1)
        .take_while(|l| !l.is_empty() && *l != b"\r")
        .any(|l| {
            l.len() > name.len()
                && l[name.len()] == b':'
                && l[..name.len()].eq_ignore_ascii_case(name.as_bytes())
        })
}

fn load_case(dir: &Path, name: &str) -> Case {
    let file = |ext: &str| read(&dir.join(format!("{name}.{ext}")));
    let (req, creq) = (file("req"), file("creq"));
    let key = b"x-amz-security-token:";
    let token = if has_header(&req, "x-amz-security-token") {
        Vec::new()
    } else {
        creq.split(|&b| b == b'\n')
            .find_map(|l| l.strip_prefix(&key[..]))
            .map(<[u8]>::to_vec)
            .unwrap_or_default()
    };
    Case {
        name: name.to_string(),
        req,
        creq,
        sts: file("sts"),
        authz: file("authz"),
        token,
    }
}

/// Every case under `dir`, in the host program's order: a directory NAME holding NAME.req
/// is a case, other directories are searched in name order.
fn collect_cases(dir: &Path, depth: usize, out: &mut Vec<Case>) {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if depth > 0 && !name.is_empty() && dir.join(format!("{name}.req")).is_file() {
        out.push(load_case(dir, name));
        return;
    }
    if depth >= 6 {
        return;
    }
    let mut subdirs: Vec<(Vec<u8>, PathBuf)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: cannot list: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .filter_map(|p| {
            let n = p.file_name()?.to_str()?.to_string();
            (!n.starts_with('.')).then(|| (n.into_bytes(), p))
        })
        .collect();
    subdirs.sort();
    for (_, p) in subdirs {
        collect_cases(&p, depth + 1, out);
    }
}

/// Suite cases the shared directory lacks, kept in the repository
/// (`get-header-value-multiline`: obsolete folded header lines).
fn extra_vectors_dir() -> PathBuf {
    support::workspace_root().join("firmware/aws/tests/vectors")
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let dir = vectors_dir();
        let mut v = Vec::new();
        collect_cases(&dir, 0, &mut v);
        let extra = extra_vectors_dir();
        let before = v.len();
        collect_cases(&extra, 0, &mut v);
        assert!(
            v[before..]
                .iter()
                .any(|c| c.name == "get-header-value-multiline"),
            "get-header-value-multiline missing under {}",
            extra.display()
        );
        assert!(
            !v.is_empty(),
            "no test case (NAME/NAME.req) under {}",
            dir.display()
        );
        v
    })
}

// ---- building ---------------------------------------------------------------------------

use support::MakeOutput;

/// `make -C firmware BUILD=<dir> <extra>` (see [`support::make_firmware`]).
fn make(dir: &Path, extra: &[&str]) -> Result<MakeOutput, String> {
    support::make_firmware(dir, extra)
}

fn build_dir() -> PathBuf {
    support::target_dir().join("firmware")
}

/// `sigv4_vectors.elf` (`make sigv4_vectors`: that ELF only, and its size line), built once
/// for this binary.
fn firmware() -> &'static MakeOutput {
    static BUILD: OnceLock<Result<MakeOutput, String>> = OnceLock::new();
    match BUILD.get_or_init(|| make(&build_dir(), &["sigv4_vectors"])) {
        Ok(b) => b,
        Err(msg) => panic!("\n{msg}\n"),
    }
}

/// The host test program, `<build>/host/sigv4_test`.
fn host_program() -> PathBuf {
    static BUILD: OnceLock<Result<MakeOutput, String>> = OnceLock::new();
    match BUILD.get_or_init(|| make(&build_dir(), &["host-test"])) {
        Ok(b) => b.dir.join("host/sigv4_test"),
        Err(msg) => panic!("\n{msg}\n"),
    }
}

// ---- host ---------------------------------------------------------------------------------

#[test]
fn host_program_passes_every_vector_and_self_test() {
    let cases = cases();
    let dir = vectors_dir();
    let program = host_program();
    let out = Command::new(&program)
        .arg(&dir)
        .arg(extra_vectors_dir())
        .output()
        .unwrap_or_else(|e| panic!("{}: cannot run: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let context = format!(
        "{} {}: {}\n--- stdout ---\n{stdout}\n--- stderr ---\n{}",
        program.display(),
        dir.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!("{} passed, 0 failed", cases.len());
    assert_eq!(
        stdout.lines().last(),
        Some(expected.as_str()),
        "last line\n{context}"
    );
    let selftests = stdout
        .lines()
        .find(|l| l.starts_with("self-tests: "))
        .unwrap_or_else(|| panic!("no self-test summary\n{context}"));
    assert!(
        selftests.ends_with(" passed, 0 failed") && !selftests.starts_with("self-tests: 0 "),
        "{selftests}\n{context}"
    );
    for case in cases {
        assert!(
            stdout.lines().any(|l| l == format!("PASS {}", case.name)),
            "no PASS line for {}\n{context}",
            case.name
        );
    }
    assert!(out.status.success(), "exit status\n{context}");
    eprintln!("host sigv4_test: {selftests}; {expected}");
}

// ---- simulator ----------------------------------------------------------------------------

/// A `Write` that keeps what the simulator reports (unmodelled accesses, resets).
#[derive(Clone, Default)]
struct SharedText(Arc<Mutex<Vec<u8>>>);

impl Write for SharedText {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Cycle and instruction counts at the entry of `sigv4_sign` and at each end-of-signature
/// mark.
#[derive(Default)]
struct Timing {
    last_entry: Option<(u64, u64)>,
    signatures: Vec<(u64, u64)>,
}

/// What the firmware printed for one case.
struct Signed {
    creq: Vec<u8>,
    sts: Vec<u8>,
    authz: Vec<u8>,
}

/// Reads `TAG <n>\n<n bytes>\n` at `pos`.
fn take_block(out: &[u8], pos: &mut usize, tag: &str) -> Result<Vec<u8>, String> {
    let rest = &out[*pos..];
    let nl = rest
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| format!("no {tag} line"))?;
    let head = std::str::from_utf8(&rest[..nl]).map_err(|_| format!("bad {tag} line"))?;
    let n: usize = head
        .strip_prefix(tag)
        .and_then(|s| s.strip_prefix(' '))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("expected \"{tag} <n>\", found {head:?}"))?;
    let start = nl + 1;
    if rest.len() < start + n + 1 || rest[start + n] != b'\n' {
        return Err(format!("{tag}: {n} bytes and a newline expected"));
    }
    *pos += start + n + 1;
    Ok(rest[start..start + n].to_vec())
}

/// The firmware's answer for `name`: BEGIN, CREQ, STS, AUTHZ, DONE ok.
fn parse_case(out: &[u8], name: &str) -> Result<Signed, String> {
    let begin = format!("BEGIN {name}\n");
    let mut pos = out
        .windows(begin.len())
        .position(|w| w == begin.as_bytes())
        .ok_or_else(|| format!("no \"BEGIN {name}\""))?
        + begin.len();
    let done_err = format!("DONE {name} error");
    if out[pos..].starts_with(done_err.as_bytes()) {
        let end = out[pos..].iter().position(|&b| b == b'\n').unwrap_or(0);
        return Err(String::from_utf8_lossy(&out[pos..pos + end]).into_owned());
    }
    let creq = take_block(out, &mut pos, "CREQ")?;
    let sts = take_block(out, &mut pos, "STS")?;
    let authz = take_block(out, &mut pos, "AUTHZ")?;
    let done = format!("DONE {name} ok\n");
    if !out[pos..].starts_with(done.as_bytes()) {
        return Err(format!("no \"DONE {name} ok\" after the AUTHZ block"));
    }
    Ok(Signed { creq, sts, authz })
}

fn show(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn ft900_signs_every_vector_like_the_suite() {
    let cases = cases();
    let path = firmware().dir.join("sigv4_vectors.elf");
    let bytes = read(&path);
    let program = Program::parse(&bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let sign_entry = program
        .symbols
        .address_of("sigv4_sign")
        .expect("sigv4_sign in the ELF's symbols");
    let signed_mark = program
        .symbols
        .address_of("sigv4_vectors_signed")
        .expect("sigv4_vectors_signed in the ELF's symbols");

    let mut profile = Ft900::new(Ft900Config::default());
    let diagnostics = SharedText::default();
    profile.set_diagnostics(Box::new(diagnostics.clone()));
    let uart = Capture::new();
    profile.uart[0].set_backend(Box::new(uart.clone()));
    let mut m = Machine::with_standard_memory(profile);
    program
        .load_into(&mut m.core, LoadPolicy::Rom)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    m.profile.reset(&mut m.core, program.entry);

    let timing = Arc::new(Mutex::new(Timing::default()));
    let t = timing.clone();
    m.add_code_hook(sign_entry, sign_entry, move |core, _| {
        t.lock().unwrap().last_entry = Some((core.cycles, core.insns));
        HookAction::Continue
    });
    let t = timing.clone();
    m.add_code_hook(signed_mark, signed_mark, move |core, _| {
        let mut t = t.lock().unwrap();
        if let Some((c, i)) = t.last_entry.take() {
            t.signatures.push((core.cycles - c, core.insns - i));
        }
        HookAction::Continue
    });

    let context = |m: &Machine<Ft900>| {
        format!(
            "sigv4_vectors.elf at cycle {} (pc {:#x})\n--- UART0 ---\n{}\n--- simulator reports ---\n{}",
            m.core.cycles,
            m.core.pc,
            uart.text(),
            show(&diagnostics.0.lock().unwrap())
        )
    };
    let limit = MAX_VIRTUAL_SECONDS * HZ;
    let run_slice = |m: &mut Machine<Ft900>| -> Option<StopReason> {
        let next = m.core.cycles + HZ / 1000;
        assert!(
            next <= limit,
            "more than {MAX_VIRTUAL_SECONDS} s of virtual time\n{}",
            context(m)
        );
        match m.run(RunLimits {
            cycle_deadline: Some(next),
            ..RunLimits::default()
        }) {
            StopReason::CycleLimit => None,
            other => Some(other),
        }
    };

    // The device asks for each case with "READY".
    let ready = b"READY\n";
    let mut readies = 0usize;
    let mut fed = 0usize;
    loop {
        let count = uart
            .output()
            .windows(ready.len())
            .filter(|w| w == ready)
            .count();
        if count > readies {
            readies = count;
            if fed == cases.len() {
                uart.feed(b"END\n");
                break;
            }
            let c = &cases[fed];
            let mut frame =
                format!("CASE {} {} {}\n", c.name, c.req.len(), c.token.len()).into_bytes();
            frame.extend_from_slice(&c.req);
            frame.extend_from_slice(&c.token);
            uart.feed(&frame);
            fed += 1;
            continue;
        }
        if let Some(stop) = run_slice(&mut m) {
            panic!(
                "the firmware stopped ({stop}) after {fed} of {} cases\n{}",
                cases.len(),
                context(&m)
            );
        }
    }
    let stop = loop {
        if let Some(stop) = run_slice(&mut m) {
            break stop;
        }
    };
    m.profile.flush();
    assert_eq!(
        stop,
        StopReason::Exited(0),
        "the firmware must exit with status 0\n{}",
        context(&m)
    );
    assert!(
        m.profile.unmodelled_accesses().is_empty(),
        "unmodelled registers touched: {:?}\n{}",
        m.profile.unmodelled_accesses(),
        context(&m)
    );

    let out = uart.output();
    let text = uart.text();
    assert!(
        text.lines().any(|l| l.starts_with("ok   self-tests: ")),
        "no self-test line\n{text}"
    );
    assert!(text.contains("sigv4_vectors: PASS"), "no PASS line\n{text}");
    let mut failures = Vec::new();
    for c in cases {
        match parse_case(&out, &c.name) {
            Err(e) => failures.push(format!("{}: {e}", c.name)),
            Ok(s) => {
                for (what, got, want) in [
                    ("canonical request", &s.creq, &c.creq),
                    ("string to sign", &s.sts, &c.sts),
                    ("authorization", &s.authz, &c.authz),
                ] {
                    if got != want {
                        failures.push(format!(
                            "{}: {what} differs\n--- expected ---\n{}\n--- FT900 ---\n{}",
                            c.name,
                            show(want),
                            show(got)
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}\n--- UART0 ---\n{text}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );

    let timing = timing.lock().unwrap();
    assert_eq!(
        timing.signatures.len(),
        cases.len(),
        "one measured signature per case"
    );
    let n = timing.signatures.len() as u64;
    let (cycles, insns): (Vec<u64>, Vec<u64>) = timing.signatures.iter().copied().unzip();
    let size = firmware()
        .stdout
        .lines()
        .find(|l| l.starts_with("size: sigv4_vectors.elf "))
        .unwrap_or_else(|| {
            panic!(
                "no size line for sigv4_vectors.elf in:\n{}",
                firmware().stdout
            )
        });
    eprintln!("{size}");
    eprintln!(
        "sigv4_vectors: {n} vectors signed on the FT900 like the suite; per signature: cycles \
         min {} mean {} max {} ({:.2} ms at 100 MHz), instructions mean {}; whole run {} cycles",
        cycles.iter().min().unwrap(),
        cycles.iter().sum::<u64>() / n,
        cycles.iter().max().unwrap(),
        cycles.iter().sum::<u64>() as f64 / n as f64 / 100_000.0,
        insns.iter().sum::<u64>() / n,
        m.core.cycles
    );
}
