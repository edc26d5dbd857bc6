//! The C-ABI test programs (tests/c/test_abi.c, test_stress.c, test_family.c, test_lifecycle.c) compiled with the
//! system C compiler against the libgsms.so that this very `cargo test` build produced, and run
//! against an in-process emulator configured as scripts/test_c.sh configures the binary.
//!
//! Ignored by default: the test command runs the same programs (natively and under valgrind) in
//! scripts/test_c.sh. Needs a C compiler and valgrind. scripts/mutants.sh runs this one (`--run-ignored`), so that a mutant of the
//! library is also tried against the C suites, which cargo-mutants cannot run by itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use gsms_emulator::{Config as EmuConfig, Emulator, FaultRule, RegionConfig};

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

/// The emulator scripts/test_c.sh starts for test_abi and test_stress (`c_test_emulators`, EMU).
fn abi_emulator() -> EmuConfig {
    EmuConfig {
        servers_per_title: 2,
        poll_interval_ms: 100,
        server_lifetime: Duration::from_secs(1),
        allowed_titles: vec![1234, 4321],
        revoked_tokens: vec!["XBL3.0 x=u;expired".into()],
        ..EmuConfig::default()
    }
}

/// The family suite's emulator (FAMILY_EMULATOR_FLAGS in scripts/lib.sh).
fn family_emulator() -> EmuConfig {
    EmuConfig {
        servers_per_title: 2,
        poll_interval_ms: 100,
        server_lifetime: Duration::from_millis(2500),
        allowed_titles: vec![1234, 4321, 77],
        titles_without_subscriptions: vec![77],
        session_hosts_per_title: 2,
        session_host_activation: Duration::from_millis(250),
        regions: vec![
            RegionConfig::new("West US").with_delay_ms(1.0),
            RegionConfig::new("North Europe").with_delay_ms(25.0),
        ],
        ..EmuConfig::default()
    }
}

/// The lifecycle suite's two emulators (LC and SLOW in scripts/lib.sh): answering, and 300 ms
/// per request.
fn lifecycle_emulator(latency_ms: u64) -> EmuConfig {
    EmuConfig {
        servers_per_title: 2,
        poll_interval_ms: 100,
        server_lifetime: Duration::from_secs(1),
        faults: if latency_ms > 0 { vec![FaultRule::latency(latency_ms)] } else { vec![] },
        ..EmuConfig::default()
    }
}

/// Compiles the programs, starts the emulator, and runs each (prog, args, wrapper) in order.
fn run_programs(emulator: EmuConfig, runs: &[(&str, &[&str], &[&str])]) {
    let lib = deps_dir();
    assert!(lib.join("libgsms.so").exists(), "no libgsms.so next to the test binary in {}", lib.display());
    let out = lib.parent().unwrap().join(format!("c-programs-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let emu = Emulator::start(emulator).unwrap();
    for (prog, args, wrapper) in runs {
        let exe = out.join(prog);
        compile(&format!("tests/c/{prog}.c"), &exe, &lib);
        let mut cmd = match wrapper.split_first() {
            Some((w, rest)) => {
                let mut c = Command::new(w);
                c.args(rest).arg(&exe);
                c
            }
            None => Command::new(&exe),
        };
        let o = cmd.arg(emu.base_url()).args(*args).output().unwrap_or_else(|e| {
            panic!("{wrapper:?} {prog} could not be run ({e}); scripts/mutants.sh installs valgrind")
        });
        let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        eprintln!("{wrapper:?} {prog}: {text}");
        assert!(o.status.success(), "{wrapper:?} {prog} failed ({}):\n{text}", o.status);
        emu.reset();
    }
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
#[ignore = "scripts/test_c.sh runs these programs in the test command; scripts/mutants.sh runs this test"]
fn c_abi_programs_pass_against_this_build() {
    run_programs(abi_emulator(), &[("test_abi", &[], &[]), ("test_stress", &["1000"], &[])]);
    run_programs(family_emulator(), &[("test_family", &[], &[])]);
}

/// The lifecycle suite (free from every callback, shutdown races, dispatch counts): its first
/// URL is the emulator `run_programs` starts, its second a slow one started here.
#[test]
#[ignore = "scripts/test_c.sh runs this program in the test command; scripts/mutants.sh runs this test"]
fn c_lifecycle_program_passes_against_this_build() {
    let slow = Emulator::start(lifecycle_emulator(300)).unwrap();
    let slow_url = slow.base_url();
    run_programs(lifecycle_emulator(0), &[("test_lifecycle", &[slow_url.as_str()], &[])]);
}

/// As scripts/test_c.sh does: a use after free that runs "fine" natively (say, a client released
/// too early by a free from inside its own callback) is an error under valgrind.
#[test]
#[ignore = "scripts/test_c.sh runs this in the test command; scripts/mutants.sh runs this test"]
fn c_abi_program_passes_under_valgrind() {
    run_programs(
        abi_emulator(),
        &[(
            "test_abi",
            &[],
            &["valgrind", "-q", "--leak-check=full", "--errors-for-leak-kinds=definite", "--error-exitcode=99"],
        )],
    );
}
