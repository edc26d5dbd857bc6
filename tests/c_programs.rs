//! The C-ABI test programs (tests/c/test_abi.c, tests/c/test_stress.c) compiled with the
//! system C compiler against the libgsms.so that this very `cargo test` build produced, and run
//! against an in-process emulator configured as scripts/test_c.sh configures the binary.
//!
//! Ignored by default: the test command runs the same programs (natively and under valgrind) in
//! scripts/test_c.sh. scripts/mutants.sh runs this one (`--run-ignored`), so that a mutant of the
//! library is also tried against the C suites, which cargo-mutants cannot run by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gsms_emulator::{Config as EmuConfig, Emulator};

/// target/<profile>/deps, where cargo put this build's libgsms.so.
fn deps_dir() -> PathBuf {
    std::env::current_exe().unwrap().parent().unwrap().to_path_buf()
}

fn compile(src: &str, out: &Path, lib_dir: &Path) {
    let root = env!("CARGO_MANIFEST_DIR");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let st = Command::new(&cc)
        .args(["-std=c99", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra", "-Werror", "-g"])
        .arg(format!("-I{root}/include"))
        .arg(format!("{root}/{src}"))
        .arg(format!("-L{}", lib_dir.display()))
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .args(["-lgsms", "-lpthread", "-o"])
        .arg(out)
        .status()
        .unwrap_or_else(|e| panic!("{cc} could not be run ({e}): a C compiler is needed (it builds ring too)"));
    assert!(st.success(), "{src} does not compile");
}

#[test]
#[ignore = "scripts/test_c.sh runs these programs in the test command; scripts/mutants.sh runs this test"]
fn c_abi_programs_pass_against_this_build() {
    let lib = deps_dir();
    assert!(lib.join("libgsms.so").exists(), "no libgsms.so next to the test binary in {}", lib.display());
    let out = lib.parent().unwrap().join("c-programs");
    std::fs::create_dir_all(&out).unwrap();
    let emu = Emulator::start(EmuConfig {
        servers_per_title: 2,
        poll_interval_ms: 100,
        server_lifetime: Duration::from_secs(1),
        allowed_titles: vec![1234, 4321],
        revoked_tokens: vec!["XBL3.0 x=u;expired".into()],
        ..EmuConfig::default()
    })
    .unwrap();
    for (prog, args) in [("test_abi", vec![]), ("test_stress", vec!["1000"])] {
        let exe = out.join(prog);
        compile(&format!("tests/c/{prog}.c"), &exe, &lib);
        let o = Command::new(&exe).arg(emu.base_url()).args(&args).output().unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        eprintln!("{prog}: {text}");
        assert!(o.status.success(), "{prog} failed ({}):\n{text}", o.status);
        emu.reset();
    }
}
