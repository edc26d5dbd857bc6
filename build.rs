//! Regenerates include/gsms.h from src/ffi with cbindgen (pinned in Cargo.toml).
//!
//! The header is committed; `tests/header.rs` fails when the committed copy differs from what
//! this script generates, so the contract can never drift silently.

use std::path::PathBuf;

fn main() {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    println!("cargo:rerun-if-changed=src/ffi");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=build.rs");
    // A SONAME, so programs linked by path record "libgsms.so" rather than the build path.
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" || os == "android" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libgsms.so");
    }
    // The same on Apple platforms: an install name found through the program's rpath, not the
    // build directory (which the linker would record otherwise).
    if os == "macos" || os == "ios" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libgsms.dylib");
    }
    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml is valid");
    let bindings = match cbindgen::Builder::new().with_crate(&crate_dir).with_config(config).generate() {
        Ok(b) => b,
        Err(e) => {
            // A syntax error in src/ffi is reported by rustc itself; keep the old header.
            println!("cargo:warning=cbindgen could not generate include/gsms.h: {e}");
            return;
        }
    };
    let mut out = Vec::new();
    bindings.write(&mut out);
    let text = String::from_utf8(out).expect("cbindgen writes UTF-8");
    // The token provider returns a gsms_status. Rust declares it as u32 (reading an out-of-range
    // enum value from C would be undefined behaviour); the C type is the same 32-bit integer, and
    // C++ callers need the enum name to assign their function without a cast.
    let text =
        text.replace("typedef uint32_t (*gsms_token_provider_fn)(", "typedef gsms_status (*gsms_token_provider_fn)(");
    // Always kept in OUT_DIR, where tests/header.rs compares it with the committed copy.
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out_dir.join("gsms.h"), &text).expect("write OUT_DIR/gsms.h");
    // Developers get include/gsms.h refreshed; CI (CI=true) never writes it, so drift fails the test.
    println!("cargo:rerun-if-env-changed=CI");
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
        return;
    }
    let path = crate_dir.join("include").join("gsms.h");
    let old = std::fs::read_to_string(&path).unwrap_or_default();
    if old != text {
        std::fs::create_dir_all(crate_dir.join("include")).expect("create include/");
        std::fs::write(&path, text).expect("write include/gsms.h");
    }
}
