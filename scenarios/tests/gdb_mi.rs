//! VS Code's debugging session, over gdb/MI: what the C/C++ extension (cpptools' MIEngine)
//! sends to `ft32-elf-gdb --interpreter=mi2` for the `docs/vscode/launch.json` configuration
//! "DynamoDB client in a scenario (single-device)", driven here by hand on the scenario run
//! its `preLaunchTask` in `docs/vscode/tasks.json` starts (that task's command line, on a free
//! port rather than 3333, and the problem matcher's patterns checked against what it prints).
//!
//! The launch sequence is MIEngine's for `miDebuggerServerAddress` (setup commands, async mode,
//! `-file-exec-and-symbols`, the entry breakpoint on `main`, `-target-select remote`, then
//! `-exec-continue` because the first stop has no source file), and each stop is inspected the
//! way the editor does it: `-thread-info`, `-stack-info-depth`, `-stack-list-frames`,
//! `-stack-list-variables --simple-values` with `--thread`/`--frame`, watch expressions as
//! variable objects (`-var-create - *`, `-var-list-children`, `-var-update` after steps),
//! hovers with `-data-evaluate-expression`, the caller's frame, the memory and disassembly
//! views (`-data-read-memory-bytes`, `-data-disassemble`), the registers view, `monitor`
//! commands typed in the debug console as `-exec monitor ...` (`-interpreter-exec console`),
//! the pause button (`-exec-interrupt` of a running target), step over/out, a data breakpoint
//! (`-break-watch`, "Break When Value Changes"), and continue to the end: the upload
//! completes and every expectation of the scenario is met.
//!
//! The firmware is the debug build (`make -C firmware debug`): gdb 13 cannot unwind the frames
//! of the -Os product build (README, "Step-debug the DynamoDB client").

mod fwbuild;
mod mi;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use mi::{Gdb, Value};
use regex::Regex;
use serde_json::Value as Json;

/// Longest any one MI exchange may take: a guard against hangs, not a speed requirement.
const LIMIT: Duration = Duration::from_secs(180);

/// The source line of `firmware/aws/sigv4.c` where a line breakpoint goes (after the `memset`
/// of the header list, before its count is set: a watch on `hl.n` changes as it is stepped).
const LINE_MARK: &str = "hl.h = req->headers;";

/// The launch configurations of `docs/vscode/launch.json`.
const SCENARIO_CONFIG: &str = "DynamoDB client in a scenario (single-device)";
const SIM_CONFIG: &str = "FT900 firmware in ft900-sim (hello.elf)";

/// A launch configuration of `docs/vscode/launch.json` and the task it starts first, checked
/// for what this test relies on.
struct VsCode {
    /// `setupCommands[]`: the text, and whether a failure is ignored.
    setup: Vec<(String, bool)>,
    /// `program`, relative to the workspace.
    program: String,
    /// The task's command.
    command: String,
    /// The task's arguments.
    task_args: Vec<String>,
    /// The background problem matcher's begin and end patterns.
    begins: Regex,
    ends: Regex,
}

fn vscode_config(root: &std::path::Path, name: &str) -> VsCode {
    let read = |name: &str| -> Json {
        let path = root.join("docs/vscode").join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let launch = read("launch.json");
    let tasks = read("tasks.json");
    let config = launch["configurations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no configuration {name:?} in launch.json"));
    assert_eq!(config["type"], "cppdbg");
    assert_eq!(config["request"], "launch");
    assert_eq!(config["MIMode"], "gdb");
    assert_eq!(config["cwd"], "${workspaceFolder}");
    assert!(config["miDebuggerPath"]
        .as_str()
        .unwrap()
        .ends_with("/bin/ft32-elf-gdb"));
    assert_eq!(config["miDebuggerServerAddress"], "localhost:3333");
    let program = config["program"]
        .as_str()
        .unwrap()
        .strip_prefix("${workspaceFolder}/")
        .expect("program in the workspace")
        .to_string();
    let setup = config["setupCommands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["text"].as_str().unwrap().to_string(),
                c["ignoreFailures"] == true,
            )
        })
        .collect();
    let label = config["preLaunchTask"].as_str().unwrap();
    let task = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == label)
        .unwrap_or_else(|| panic!("no task {label:?} in tasks.json"));
    assert_eq!(task["isBackground"], true);
    let task_args: Vec<String> = task["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect();
    let gdb_at = task_args.iter().position(|a| a == "--gdb").unwrap();
    assert_eq!(
        task_args[gdb_at + 1],
        "3333",
        "the port launch.json connects to"
    );
    assert!(
        task_args.contains(&program),
        "the task runs the ELF gdb reads: {task_args:?}"
    );
    let background = &task["problemMatcher"]["background"];
    let regex = |key: &str| Regex::new(background[key].as_str().unwrap()).unwrap();
    VsCode {
        setup,
        program,
        command: task["command"].as_str().unwrap().to_string(),
        task_args,
        begins: regex("beginsPattern"),
        ends: regex("endsPattern"),
    }
}

/// A `*stopped` record's `reason` and `frame.func`, for messages and asserts.
fn stop_summary(stop: &Value) -> (String, String) {
    (
        stop.str_at("reason").unwrap_or("").to_string(),
        stop.str_at("frame.func").unwrap_or("").to_string(),
    )
}

#[test]
fn vscode_debugs_the_dynamodb_client_over_gdb_mi() {
    let root = fwbuild::workspace_root();
    let vscode = vscode_config(&root, SCENARIO_CONFIG);
    assert_eq!(
        vscode.command,
        "${workspaceFolder}/target/release/scenarios"
    );
    let at = vscode.task_args.iter().position(|a| a == "--firmware");
    assert_eq!(
        at.map(|at| &vscode.task_args[at + 1]),
        Some(&vscode.program)
    );
    let elf = fwbuild::debug_firmware();
    let out_dir = fwbuild::target_dir().join("gdb-mi");

    // The preLaunchTask's command, with the ELF the test built, on a free port, and the
    // artefacts under target/.
    let args: Vec<String> = vscode
        .task_args
        .iter()
        .map(|a| match a.as_str() {
            "3333" => "0".to_string(),
            a if a == vscode.program => elf.display().to_string(),
            a => a.to_string(),
        })
        .collect();
    let mut sim = Command::new(env!("CARGO_BIN_EXE_scenarios"))
        .args(&args)
        .arg("--out")
        .arg(&out_dir)
        .current_dir(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The problem matcher's begin line names the port; VS Code starts gdb at its end line.
    let mut stderr = BufReader::new(sim.stderr.take().unwrap());
    let mut port = None;
    let mut line = String::new();
    let mut printed = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 {
        printed.push_str(&line);
        let text = line.trim_end();
        if vscode.begins.is_match(text) {
            port = text.rsplit(':').next().map(str::to_string);
        } else if vscode.ends.is_match(text) {
            break;
        }
        line.clear();
    }
    let port = port.unwrap_or_else(|| panic!("no line matched beginsPattern:\n{printed}"));
    assert!(
        vscode.ends.is_match(line.trim_end()),
        "no line matched endsPattern:\n{printed}"
    );
    std::thread::spawn(move || std::io::copy(&mut stderr, &mut std::io::sink()));

    let source = std::fs::read_to_string(root.join("firmware/aws/sigv4.c")).unwrap();
    let mark_line = source
        .lines()
        .position(|l| l.trim() == LINE_MARK)
        .expect("the marked line in sigv4.c")
        + 1;

    // gdb starts elsewhere; `cwd` in launch.json becomes `-environment-cd` (source paths in
    // the ELF are relative to the repository).
    let gdb_path = fwbuild::toolchain_prefix().join("bin/ft32-elf-gdb");
    let mut gdb = Gdb::spawn(&gdb_path, &fwbuild::target_dir(), LIMIT);

    // ---- launch: launch.json's setupCommands, then MIEngine's own sequence ----
    for (command, ignore_failures) in &vscode.setup {
        if *ignore_failures {
            gdb.command(command);
        } else {
            gdb.expect(command, "done");
        }
    }
    gdb.expect("-gdb-set mi-async on", "done");
    let features = gdb.expect("-list-features", "done");
    assert!(
        features.results.get("features").is_some(),
        "{:?}",
        features.results
    );
    gdb.expect("-interpreter-exec console \"set pagination off\"", "done");
    gdb.expect("-gdb-set auto-solib-add on", "done");
    gdb.expect(&format!("-environment-cd {}", root.display()), "done");
    gdb.expect(&format!("-file-exec-and-symbols {}", elf.display()), "done");
    let arch = gdb.expect("-interpreter-exec console \"show architecture\"", "done");
    assert!(arch.output.contains("ft32"), "{}", arch.output);
    let entry = gdb.expect("-break-insert -f main", "done");
    let entry_no = entry.results.str_at("bkpt.number").unwrap().to_string();
    gdb.expect(
        &format!("-target-select remote localhost:{port}"),
        "connected",
    );
    // The stub reports the halt at reset: no source file there, so MIEngine continues. The
    // image leaves the bootloader area empty, so reset starts at the program entry 0x8c (where
    // the vendor's bootloader would jump), not at the reset vector 0 (`jmp 0x3fffc`).
    let stop = gdb.wait_stopped();
    assert_eq!(stop.str_at("frame.addr"), Some("0x0000008c"), "{stop:?}");
    assert!(stop.str_at("frame.file").is_none(), "{stop:?}");
    let threads = gdb.expect("-thread-info", "done");
    assert_eq!(threads.results.str_at("current-thread-id"), Some("1"));
    gdb.expect("-exec-continue", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (stop.str_at("reason"), stop.str_at("bkptno")),
        (Some("breakpoint-hit"), Some(entry_no.as_str())),
        "{stop:?}\n{}",
        gdb.transcript()
    );
    assert_eq!(stop.str_at("frame.func"), Some("main"));
    assert_eq!(stop.str_at("frame.file"), Some("firmware/app/main.c"));
    // No stopAtEntry: the entry breakpoint goes and the program runs.
    gdb.expect(&format!("-break-delete {entry_no}"), "done");

    // ---- the pause button: -exec-interrupt of the running firmware ----
    gdb.expect("-exec-continue", "running");
    gdb.expect("-exec-interrupt", "done");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (stop.str_at("reason"), stop.str_at("signal-name")),
        (Some("signal-received"), Some("SIGINT")),
        "{stop:?}\n{}",
        gdb.transcript()
    );
    let paused_at = stop.str_at("frame.addr").unwrap().to_string();
    let threads = gdb.expect("-thread-info", "done");
    let thread = &threads.results.get("threads").unwrap().items()[0];
    assert_eq!(thread.str_at("state"), Some("stopped"));
    assert_eq!(thread.str_at("frame.addr"), Some(paused_at.as_str()));

    // ---- a function breakpoint and a line breakpoint, as the editor sets them ----
    let bp = gdb.expect("-break-insert -f sigv4_sign", "done");
    let sign_no = bp.results.str_at("bkpt.number").unwrap().to_string();
    let line_bp = gdb.expect(
        &format!(
            "-break-insert -f {}:{mark_line}",
            root.join("firmware/aws/sigv4.c").display()
        ),
        "done",
    );
    let line_no = line_bp.results.str_at("bkpt.number").unwrap().to_string();
    assert_eq!(line_bp.results.str_at("bkpt.func"), Some("sigv4_sign"));
    gdb.expect("-exec-continue", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (stop.str_at("reason"), stop.str_at("bkptno")),
        (Some("breakpoint-hit"), Some(sign_no.as_str())),
        "{:?}\n{}",
        stop_summary(&stop),
        gdb.transcript()
    );
    assert_eq!(stop.str_at("frame.func"), Some("sigv4_sign"));
    assert_eq!(stop.str_at("frame.file"), Some("firmware/aws/sigv4.c"));
    let frame0_addr = stop.str_at("frame.addr").unwrap().to_string();

    // ---- the call stack view ----
    let depth = gdb.expect("-stack-info-depth --thread 1 1000", "done");
    let depth: usize = depth.results.str_at("depth").unwrap().parse().unwrap();
    let frames = gdb.expect("-stack-list-frames --thread 1 0 1000", "done");
    let frames = frames.results.get("stack").unwrap().items();
    assert_eq!(frames.len(), depth);
    let funcs: Vec<&str> = frames.iter().filter_map(|f| f.str_at("func")).collect();
    assert_eq!(funcs.first(), Some(&"sigv4_sign"), "{funcs:?}");
    assert_eq!(funcs.get(1), Some(&"attempt"), "{funcs:?}");
    assert_eq!(funcs.last(), Some(&"main"), "{funcs:?}");
    assert_eq!(frames[0].str_at("addr"), Some(frame0_addr.as_str()));
    assert_eq!(
        frames[1].str_at("file"),
        Some("firmware/aws/dynamodb.c"),
        "{frames:?}"
    );
    // `-stack-list-arguments 0` lists the names only (`args=[name="req",...]`).
    let args = gdb.expect(
        &format!("-stack-list-arguments --thread 1 0 0 {}", depth - 1),
        "done",
    );
    let stack_args = args.results.get("stack-args").unwrap().items();
    assert_eq!(stack_args.len(), depth);
    let frame0_args: Vec<&str> = stack_args[0]
        .get("args")
        .unwrap()
        .items()
        .iter()
        .filter_map(|a| match a {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(frame0_args, ["req", "cred", "out"]);

    // ---- the variables view: locals and arguments of the selected frame ----
    let vars = gdb.expect(
        "-stack-list-variables --thread 1 --frame 0 --simple-values",
        "done",
    );
    let vars = vars.results.get("variables").unwrap().items();
    let var = |name: &str| {
        vars.iter()
            .find(|v| v.str_at("name") == Some(name))
            .unwrap_or_else(|| panic!("no variable {name} in {vars:?}"))
    };
    for arg in ["req", "cred", "out"] {
        assert_eq!(var(arg).str_at("arg"), Some("1"), "{vars:?}");
        assert!(
            var(arg).str_at("value").unwrap().starts_with("0x80"),
            "{arg} should point into RAM: {vars:?}"
        );
    }
    assert_eq!(
        var("req").str_at("type"),
        Some("const struct sigv4_request *")
    );
    assert!(
        !vars.iter().any(|v| v.str_at("name") == Some("req@entry")),
        "setupCommands turn entry values off: {vars:?}"
    );
    assert!(var("hl").str_at("arg").is_none(), "a local: {vars:?}");

    // ---- watch expressions and hovers ----
    let method = gdb.expect(
        "-var-create --thread 1 --frame 0 - * \"req->method\"",
        "done",
    );
    assert!(
        method
            .results
            .str_at("value")
            .unwrap()
            .ends_with("\"POST\""),
        "{:?}",
        method.results
    );
    let req = gdb.expect("-var-create --thread 1 --frame 0 - * \"*req\"", "done");
    let req_var = req.results.str_at("name").unwrap().to_string();
    let children = gdb.expect(
        &format!("-var-list-children --simple-values \"{req_var}\" 0 1000"),
        "done",
    );
    let children = children.results.get("children").unwrap().items();
    let child = |exp: &str| {
        children
            .iter()
            .find(|c| c.str_at("exp") == Some(exp))
            .unwrap_or_else(|| panic!("no member {exp} in {children:?}"))
    };
    assert!(child("path").str_at("value").unwrap().ends_with("\"/\""));
    assert_eq!(child("method").str_at("type"), Some("const char *"));
    let hover = gdb.expect(
        "-data-evaluate-expression --thread 1 --frame 0 \"req->path\"",
        "done",
    );
    assert!(
        hover.results.str_at("value").unwrap().ends_with("\"/\""),
        "{:?}",
        hover.results
    );
    let count = gdb.expect(
        "-data-evaluate-expression --thread 1 --frame 0 \"req->header_count\"",
        "done",
    );
    let header_count = count.results.str_at("value").unwrap().to_string();
    assert!(header_count.parse::<u32>().unwrap() > 0, "{header_count}");
    let bad = gdb.command("-data-evaluate-expression --thread 1 --frame 0 \"no_such_name\"");
    assert_eq!(bad.class, "error", "{:?}", bad.results);

    // ---- the caller's frame, the memory view and the disassembly view ----
    let caller = gdb.expect(
        "-stack-list-variables --thread 1 --frame 1 --simple-values",
        "done",
    );
    let caller = caller.results.get("variables").unwrap().items();
    assert!(
        caller
            .iter()
            .any(|v| v.str_at("name") == Some("op") && v.str_at("arg") == Some("1")),
        "attempt(c, op, ...): {caller:?}"
    );
    let method_addr = method
        .results
        .str_at("value")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let memory = gdb.expect(&format!("-data-read-memory-bytes {method_addr} 4"), "done");
    let block = &memory.results.get("memory").unwrap().items()[0];
    assert_eq!(
        block.str_at("contents"),
        Some("504f5354"),
        "POST: {block:?}"
    );
    let pc = u32::from_str_radix(frame0_addr.trim_start_matches("0x"), 16).unwrap();
    let disasm = gdb.expect(
        &format!("-data-disassemble -s {pc:#x} -e {:#x} -- 2", pc + 16),
        "done",
    );
    let insns = disasm.results.get("asm_insns").unwrap().items();
    assert_eq!(insns.len(), 4, "four 32-bit instructions: {insns:?}");
    assert_eq!(insns[0].str_at("func-name"), Some("sigv4_sign"));
    assert!(
        insns
            .iter()
            .all(|i| i.str_at("inst").is_some_and(|t| !t.is_empty())),
        "{insns:?}"
    );

    // ---- the line breakpoint, then a watch that changes as the lines are stepped over ----
    gdb.expect("-exec-continue", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (stop.str_at("reason"), stop.str_at("bkptno")),
        (Some("breakpoint-hit"), Some(line_no.as_str())),
        "{stop:?}"
    );
    assert_eq!(
        stop.str_at("frame.line"),
        Some(mark_line.to_string().as_str())
    );
    let watch = gdb.expect("-var-create --thread 1 --frame 0 - * \"hl.n\"", "done");
    let watch_var = watch.results.str_at("name").unwrap().to_string();
    assert_eq!(watch.results.str_at("value"), Some("0"), "after the memset");
    let mut changed = None;
    let mut lines = vec![mark_line.to_string()];
    for _ in 0..4 {
        gdb.expect("-exec-next --thread 1", "running");
        let stop = gdb.wait_stopped();
        assert_eq!(
            (stop.str_at("reason"), stop.str_at("frame.func")),
            (Some("end-stepping-range"), Some("sigv4_sign")),
            "{stop:?}"
        );
        lines.push(stop.str_at("frame.line").unwrap_or("").to_string());
        let update = gdb.expect("-var-update --all-values *", "done");
        let list = update.results.get("changelist").unwrap().items();
        if let Some(c) = list.iter().find(|c| c.str_at("name") == Some(&watch_var)) {
            assert_eq!(c.str_at("in_scope"), Some("true"), "{c:?}");
            changed = c.str_at("value").map(str::to_string);
            break;
        }
    }
    assert_eq!(
        changed.as_deref(),
        Some(header_count.as_str()),
        "the watch on hl.n did not change to the header count while stepping over lines \
         {lines:?}\n{}",
        gdb.transcript()
    );
    for var in [req_var, watch_var] {
        gdb.expect(&format!("-var-delete {var}"), "done");
    }

    // ---- the registers view ----
    let names = gdb.expect("-data-list-register-names", "done");
    let names: Vec<&str> = names
        .results
        .get("register-names")
        .unwrap()
        .items()
        .iter()
        .filter_map(|v| match v {
            Value::Str(s) => Some(s.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(names.len(), 33, "{names:?}");
    let pc_index = names.iter().position(|n| *n == "pc").unwrap().to_string();
    let sp_index = names.iter().position(|n| *n == "sp").unwrap().to_string();
    let values = gdb.expect("-data-list-register-values --thread 1 --frame 0 x", "done");
    let values = values.results.get("register-values").unwrap().items();
    let reg = |n: &str| -> u32 {
        let v = values
            .iter()
            .find(|v| v.str_at("number") == Some(n))
            .and_then(|v| v.str_at("value"))
            .unwrap_or_else(|| panic!("no register {n} in {values:?}"));
        u32::from_str_radix(v.trim_start_matches("0x"), 16).unwrap()
    };
    let frame = gdb.expect("-stack-info-frame --thread 1 --frame 0", "done");
    let addr = frame.results.str_at("frame.addr").unwrap();
    assert_eq!(
        reg(&pc_index),
        u32::from_str_radix(addr.trim_start_matches("0x"), 16).unwrap()
    );
    // The stack is in RAM (gdb shows the 16-bit data address of the FT32 register).
    assert!(
        reg(&sp_index) > 0 && reg(&sp_index) < 0x1_0000,
        "{values:?}"
    );

    // ---- monitor commands from the debug console (`-exec monitor ...`) ----
    let time = gdb.expect("-interpreter-exec console \"monitor time\"", "done");
    assert!(time.output.contains("virtual time "), "{}", time.output);
    assert!(time.output.contains("(rev C calendar; "), "{}", time.output);
    let uart = gdb.expect("-interpreter-exec console \"monitor uart 5\"", "done");
    assert!(uart.output.contains("uart0: "), "{}", uart.output);
    assert!(uart.output.contains("reading seq=1 "), "{}", uart.output);
    let unknown = gdb.expect("-interpreter-exec console \"monitor frobnicate\"", "done");
    assert!(
        unknown.output.contains("unknown monitor command"),
        "{}",
        unknown.output
    );

    // ---- step out, then continue to the end ----
    gdb.expect("-break-delete", "done");
    gdb.expect("-exec-finish --thread 1 --frame 0", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (stop.str_at("reason"), stop.str_at("frame.func")),
        (Some("function-finished"), Some("attempt")),
        "{stop:?}"
    );
    assert_eq!(stop.str_at("return-value"), Some("0"), "SIGV4_OK: {stop:?}");

    // ---- a data breakpoint ("Break When Value Changes"): MIEngine watches the variable's
    // address with its size's type; the stub's watchpoint stops after the write ----
    let addr = gdb.expect("-data-evaluate-expression \"&app.acked\"", "done");
    // `(uint32_t *) 0x80.... <app+4>`
    let addr = addr
        .results
        .str_at("value")
        .unwrap()
        .split(' ')
        .find(|w| w.starts_with("0x"))
        .unwrap()
        .to_string();
    let wpt = gdb.expect(&format!("-break-watch *(int*)({addr})"), "done");
    // gdb answers `wpt=` for a write watchpoint, hardware (Z2 to the stub) or not.
    let wpt_no = wpt.results.str_at("wpt.number").unwrap().to_string();
    let info = gdb.expect("-interpreter-exec console \"info watchpoints\"", "done");
    assert!(info.output.contains("hw watchpoint"), "{}", info.output);
    gdb.expect("-exec-continue", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        (
            stop.str_at("reason"),
            stop.str_at("wpt.number"),
            stop.str_at("value.old"),
            stop.str_at("value.new"),
            stop.str_at("frame.func"),
        ),
        (
            Some("watchpoint-trigger"),
            Some(wpt_no.as_str()),
            Some("0"),
            Some("1"),
            Some("upload")
        ),
        "{stop:?}\n{}",
        gdb.transcript()
    );
    gdb.expect(&format!("-break-delete {wpt_no}"), "done");

    gdb.expect("-exec-continue", "running");
    let stop = gdb.wait_stopped();
    assert_eq!(
        stop_summary(&stop).0,
        "exited-normally",
        "{stop:?}\n{}",
        gdb.transcript()
    );
    gdb.expect("-gdb-exit", "exit");
    let transcript = gdb.transcript();
    gdb.wait_exit();

    let sim_out = sim.wait_with_output().unwrap();
    let report = String::from_utf8_lossy(&sim_out.stdout).into_owned();
    assert!(
        sim_out.status.success(),
        "the scenario failed\n{report}\n{transcript}"
    );
    assert!(
        report.contains("ok   5 items, every (deviceId, seq) for 1..=5 exactly once"),
        "{report}"
    );
}

/// The other configuration starts `ft900-sim run --gdb`, whose stub is the same code as the
/// scenario runner's (`ft900_sim::gdb::serve`, which prints the lines the problem matcher
/// waits for): its task, halted at reset until gdb connects, and the same setup commands and
/// patterns as the configuration the session above exercises.
#[test]
fn the_ft900_sim_configuration_starts_the_stub_the_same_way() {
    let root = fwbuild::workspace_root();
    let sim = vscode_config(&root, SIM_CONFIG);
    let scenario = vscode_config(&root, SCENARIO_CONFIG);
    assert_eq!(sim.command, "${workspaceFolder}/target/release/ft900-sim");
    assert_eq!(
        sim.task_args,
        [
            "run",
            "--machine",
            "ft900",
            "--gdb",
            "3333",
            "--gdb-wait",
            sim.program.as_str()
        ]
    );
    // The task it depends on builds that ELF (a debug build: gdb 13 cannot unwind -Os frames).
    let tasks: Json = serde_json::from_str(
        &std::fs::read_to_string(root.join("docs/vscode/tasks.json")).unwrap(),
    )
    .unwrap();
    let build = tasks["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["label"] == "build: simulator, scenarios and firmware")
        .expect("the build task");
    let build = build["command"].as_str().unwrap();
    assert!(
        sim.program.starts_with("firmware/build/debug/"),
        "{}",
        sim.program
    );
    assert!(
        build.contains(&format!("${{workspaceFolder}}/{}", sim.program))
            && build.contains("FW_OPT='-Og -fno-omit-frame-pointer'")
            && build.contains("make -C firmware debug"),
        "{build}"
    );
    assert_eq!(sim.setup, scenario.setup);
    assert_eq!(sim.begins.as_str(), scenario.begins.as_str());
    assert_eq!(sim.ends.as_str(), scenario.ends.as_str());
    // What `serve` prints, with --gdb-wait and without.
    assert!(sim.begins.is_match("gdb: listening on 127.0.0.1:3333"));
    for line in [
        "gdb: the program is halted at reset until gdb connects",
        "gdb: the program runs; gdb may connect at any time",
    ] {
        assert!(sim.ends.is_match(line), "{line}");
    }
    let serve = std::fs::read_to_string(root.join("ft900-sim/src/gdb/mod.rs")).unwrap();
    for line in [
        "gdb: the program is halted at reset until gdb connects",
        "gdb: the program runs; gdb may connect at any time",
        "gdb: listening on {local}",
    ] {
        assert!(serve.contains(line), "the stub no longer prints {line:?}");
    }
}
