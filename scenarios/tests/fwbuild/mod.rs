//! Shared by the scenarios crate's tests: building the firmware with the ft32-elf toolchain.

#![allow(dead_code)] // each test binary uses a different part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Root of the cargo workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the package has a parent directory")
        .to_path_buf()
}

/// The cargo target directory (parent of `CARGO_TARGET_TMPDIR`).
pub fn target_dir() -> PathBuf {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The toolchain prefix: `$FT32_TOOLCHAIN`, else `~/.local/ft32-elf`, else the directory
/// above the `ft32-elf-gcc` on `PATH`. Panics with instructions when there is none.
pub fn toolchain_prefix() -> PathBuf {
    let has_gcc = |p: &Path| p.join("bin/ft32-elf-gcc").is_file();
    if let Some(p) = std::env::var_os("FT32_TOOLCHAIN").map(PathBuf::from) {
        if has_gcc(&p) {
            return p;
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let p = Path::new(&home).join(".local/ft32-elf");
        if has_gcc(&p) {
            return p;
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("ft32-elf-gcc").is_file() {
                if let Some(prefix) = dir.parent() {
                    return prefix.to_path_buf();
                }
            }
        }
    }
    panic!(
        "no ft32-elf toolchain: run `toolchain/install.sh --tarball auto` or set FT32_TOOLCHAIN \
         to its prefix (the directory holding bin/ft32-elf-gcc)"
    );
}

/// Builds `target` (e.g. `dynamodb-client.elf`) with `make -C firmware BUILD=<target>/firmware`,
/// once per test binary, and returns its path.
pub fn firmware(target: &str) -> PathBuf {
    firmware_and_size(target).0
}

/// [`firmware`], with the size line `make` printed for it (`size: NAME PM ... RAM ...`).
pub fn firmware_and_size(target: &str) -> (PathBuf, String) {
    static BUILT: OnceLock<Result<(PathBuf, String), String>> = OnceLock::new();
    let dir = target_dir().join("firmware");
    let elf = dir.join(target);
    let result = BUILT.get_or_init(|| {
        let out = Command::new("make")
            .arg("-C")
            .arg(workspace_root().join("firmware"))
            .arg(format!("BUILD={}", dir.display()))
            .arg(&elf)
            .env("FT32_TOOLCHAIN", toolchain_prefix())
            .output()
            .map_err(|e| format!("cannot run make ({e}); apt-get install make"))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "make {target} failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let size = stdout
            .lines()
            .find(|l| l.starts_with(&format!("size: {target}")))
            .unwrap_or("")
            .to_string();
        Ok((elf.clone(), size))
    });
    match result {
        Ok((p, size)) if p == &elf => (p.clone(), size.clone()),
        Ok((p, _)) => panic!("this test binary already built {}", p.display()),
        Err(e) => panic!("\n{e}\n"),
    }
}

/// Builds the DynamoDB client for gdb (`make -C firmware BUILD=<target>/firmware debug`: -Og
/// and frame pointers, which gdb's FT32 unwinder follows), once per test binary, and returns
/// `<target>/firmware/debug/dynamodb-client.elf`.
pub fn debug_firmware() -> PathBuf {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = target_dir().join("firmware");
    let result = BUILT.get_or_init(|| {
        let out = Command::new("make")
            .arg("-C")
            .arg(workspace_root().join("firmware"))
            .arg(format!("BUILD={}", dir.display()))
            .arg("debug")
            .env("FT32_TOOLCHAIN", toolchain_prefix())
            .output()
            .map_err(|e| format!("cannot run make ({e}); apt-get install make"))?;
        if !out.status.success() {
            return Err(format!(
                "make debug failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(dir.join("debug/dynamodb-client.elf"))
    });
    match result {
        Ok(p) => p.clone(),
        Err(e) => panic!("\n{e}\n"),
    }
}
