#!/usr/bin/env python3
"""Opens every artifact scripts/package.sh wrote and checks what is inside (scripts/test_package.sh
runs this, then links and runs programs against the unpacked artifacts).

  check_dist.py check DIST              prints "ok - ..." / "not ok - ..."; exits 1 on a failure
  check_dist.py dotnet-app NUPKG DIR APP
      writes DIR/APP.deps.json and DIR/APP.runtimeconfig.json as the .NET SDK would for a
      framework-dependent app referencing the package (its runtime assets from lib/, its native
      assets from runtimes/<rid>/native/, taken from the .nupkg's own file list), so the .NET host
      resolves both from the package folder (--additionalprobingpath), as `dotnet run` does.
"""
import base64
import hashlib
import json
import re
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import package  # noqa: E402  (the same tables the packages were made from)

failures = 0


def ok(cond, what, detail=""):
    global failures
    if cond:
        print(f"ok - {what}")
    else:
        failures += 1
        print(f"not ok - {what}" + (f": {detail}" if detail else ""))
    return cond


# Executable formats, by magic bytes: (ELF machine), PE machine, Mach-O cpu type.
def binary_kind(data):
    if data[:4] == b"\x7fELF":
        return {0x3E: "elf-x86_64", 0xB7: "elf-aarch64"}.get(int.from_bytes(data[18:20], "little"), "elf-?")
    if data[:2] == b"MZ":
        pe = int.from_bytes(data[0x3C:0x40], "little")
        if data[pe:pe + 4] == b"PE\0\0":
            return {0x8664: "pe-x86_64"}.get(int.from_bytes(data[pe + 4:pe + 6], "little"), "pe-?")
    if data[:4] == b"\xcf\xfa\xed\xfe":
        return {0x0100000C: "macho-arm64", 0x01000007: "macho-x86_64"}.get(int.from_bytes(data[4:8], "little"), "macho-?")
    if data[:8] == b"!<arch>\n":
        return "ar"
    return "?"


WANT_KIND = {"linux-x64": "elf-x86_64", "linux-arm64": "elf-aarch64", "windows-x64": "pe-x86_64", "macos-arm64": "macho-arm64"}
SO_LIMIT = 2_000_000  # COMMON.md: the stripped shipped libgsms.so stays at or below 2.0 MB


def header_functions():
    """The functions gsms.h declares (declarations split at ';', typedefs left out)."""
    text = re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", "", (package.ROOT / "include" / "gsms.h").read_text(), flags=re.S))
    names = set()
    for st in text.split(";"):
        m = re.search(r"\b(gsms_\w+)\s*\([^()]*\)\s*$", st)
        if m and not re.search(r"\btypedef\b", st):
            names.add(m.group(1))
    return sorted(names)


def check_sdk(path, platform, version):
    p = package.PLATFORMS[platform]
    name = f"gsms-{version}-{platform}"
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as z:
            files = {n: z.read(n) for n in z.namelist() if not n.endswith("/")}
    else:
        with tarfile.open(path) as t:
            files = {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}
    ok(all(n.startswith(name + "/") for n in files), f"{path.name}: every entry under {name}/")
    rel = {n[len(name) + 1:]: d for n, d in files.items()}
    want = ["include/gsms.h", "include/gsms.hpp", "lib/cmake/gsms/gsmsConfig.cmake", "lib/cmake/gsms/gsmsConfigVersion.cmake",
            "lib/cmake/gsms/gsms-version.txt", "lib/pkgconfig/gsms.pc", "lib/pkgconfig/gsms-lib.pc",
            "csharp/GsmsNative.cs", "csharp/GsmsClient.cs", "csharp/GsmsFamily.cs", "README.md", "CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"]
    want += [f"lib/{f}" for f in p["libs"]] + [f"bin/{f}" for f in p["bin"]]
    missing = [f for f in want if f not in rel]
    ok(not missing, f"{path.name}: has {', '.join(want)}", f"missing {missing}")
    ok(rel.get("include/gsms.h") == (package.ROOT / "include" / "gsms.h").read_bytes(), f"{path.name}: gsms.h is the repository's")
    ok(rel.get("lib/cmake/gsms/gsms-version.txt", b"").decode().strip() == version, f"{path.name}: CMake package version {version}")
    pc = rel.get("lib/pkgconfig/gsms.pc", b"").decode()
    ok(f"Version: {version}" in pc and "prefix=${pcfiledir}/../.." in pc, f"{path.name}: gsms.pc is relocatable, version {version}")
    shared = rel.get(("bin/" if p["bin"] else "lib/") + p["shared"], b"")
    ok(binary_kind(shared) == WANT_KIND[platform], f"{path.name}: {p['shared']} is {WANT_KIND[platform]}", binary_kind(shared))
    ok(binary_kind(rel.get("lib/libgsms.a", b"")) == "ar", f"{path.name}: libgsms.a is an ar archive")
    missing_syms = [f for f in header_functions() if f.encode() not in shared]
    ok(not missing_syms, f"{path.name}: {p['shared']} names every function of gsms.h", f"missing {missing_syms[:5]}")
    if platform == "linux-x64":
        ok(len(shared) <= SO_LIMIT, f"{path.name}: libgsms.so is {len(shared)} bytes (limit {SO_LIMIT})")
    if platform == "windows-x64":
        implib = rel.get("lib/gsms.lib", b"")
        ok(implib[:8] == b"!<arch>\n" and b"gsms.dll" in implib and all(f"__imp_{f}".encode() in implib for f in header_functions()),
           f"{path.name}: gsms.lib is an import library of gsms.dll with every function")
    if platform == "macos-arm64":
        ok(b"@rpath/libgsms.dylib" in shared, f"{path.name}: libgsms.dylib's install name is @rpath/libgsms.dylib")


def check_unity(path, version, platforms):
    with tarfile.open(path) as t:
        members = t.getmembers()
        files = {m.name: t.extractfile(m).read() for m in members if m.isfile()}
        dirs = {m.name.rstrip("/") for m in members if m.isdir()}
    ok(all(m.name.startswith("package/") for m in members), f"{path.name}: every entry under package/ (npm tarball layout)")
    ok(all(not m.issym() and not m.islnk() for m in members), f"{path.name}: no links")
    try:
        manifest = json.loads(files["package/package.json"])
    except (KeyError, ValueError) as e:
        ok(False, f"{path.name}: package.json is valid JSON", str(e))
        return
    ok(True, f"{path.name}: package.json is valid JSON")
    ok(manifest.get("name") == package.UNITY_NAME and re.fullmatch(r"[a-z0-9.-]+", manifest["name"]) is not None,
       f"{path.name}: name {package.UNITY_NAME}")
    ok(manifest.get("version") == version, f"{path.name}: version {version}")
    ok(re.fullmatch(r"\d{4}\.\d+", str(manifest.get("unity", ""))) is not None and bool(manifest.get("displayName")),
       f"{path.name}: unity and displayName fields")
    samples = manifest.get("samples", [])
    ok(bool(samples) and all(any(f.startswith(f"package/{s['path']}/") for f in files) for s in samples),
       f"{path.name}: every sample of package.json is in the tarball ({', '.join(s['path'] for s in samples)})")
    # Every asset (file or folder outside folders ending in ~ or starting with .) has a .meta;
    # every .meta describes an asset that is there.
    def hidden(n):
        return any(part.endswith("~") or part.startswith(".") for part in n.split("/")[1:])
    assets = [n for n in list(files) + list(dirs) if n != "package" and not n.endswith(".meta") and not hidden(n)]
    no_meta = [a for a in assets if a + ".meta" not in files]
    ok(not no_meta, f"{path.name}: every one of {len(assets)} assets has a .meta", f"missing {no_meta}")
    orphans = [m for m in files if m.endswith(".meta") and m[:-5] not in files and m[:-5] not in dirs]
    ok(not orphans, f"{path.name}: no .meta without its asset", f"orphans {orphans}")
    guids = {}
    for m, data in files.items():
        if m.endswith(".meta"):
            g = re.search(r"^guid: ([0-9a-f]{32})$", data.decode(), re.M)
            guids.setdefault(g.group(1) if g else None, []).append(m)
    ok(None not in guids, f"{path.name}: every .meta has a 32-hex-digit guid", str(guids.get(None)))
    dup = {g: ms for g, ms in guids.items() if len(ms) > 1}
    ok(not dup, f"{path.name}: {len(guids)} GUIDs, all different", str(dup))
    for cs in ("Runtime/GsmsClient.cs", "Runtime/GsmsNative.cs", "Runtime/GsmsFamily.cs"):
        ok(files.get(f"package/{cs}") == (package.ROOT / "bindings" / "csharp" / cs.split("/")[1]).read_bytes(),
           f"{path.name}: {cs} is bindings/csharp's")
    ok(f"package/Runtime/Gsms.Runtime.asmdef" in files, f"{path.name}: Runtime has its assembly definition")
    # Each plugin: the right binary, and import settings that load it where it belongs.
    for plat in platforms:
        rel = package.PLATFORMS[plat]["unity"]
        data = files.get(f"package/{rel}", b"")
        meta = files.get(f"package/{rel}.meta", b"").decode()
        ok(binary_kind(data) == WANT_KIND[plat], f"{path.name}: {rel} is {WANT_KIND[plat]}", binary_kind(data))
        s = package.PLUGIN_SETTINGS[plat]
        good = "PluginImporter:" in meta
        for target, cpu in s["standalone"].items():
            good &= bool(re.search(rf"Standalone: {target}\n    second:\n      enabled: 1\n      settings:\n        CPU: {cpu}\n", meta))
            good &= f"Exclude {target}: 0" in meta
        if s["editor"]:
            good &= bool(re.search(rf"Editor: Editor\n    second:\n      enabled: 1\n      settings:\n        CPU: {s['editor'][1]}\n"
                                   rf"        DefaultValueInitialized: true\n        OS: {s['editor'][0]}\n", meta))
        enabled = len(re.findall(r"enabled: 1", meta))
        good &= enabled == len(s["standalone"]) + (1 if s["editor"] else 0)
        where = ", ".join([f"Editor {s['editor'][0]}"] if s["editor"] else []) + "".join(f", {t} {c}" for t, c in s["standalone"].items())
        ok(good, f"{path.name}: {rel}.meta enables it for {where.strip(', ') or 'nothing (enable by hand)'} only")


def check_nuget(path, version, platforms):
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        bad = z.testzip()
        spec_name = f"{package.NUGET_ID}.nuspec"
        spec = z.read(spec_name) if spec_name in names else b""
        data = {n: z.read(n) for n in names}
    ok(bad is None, f"{path.name}: zip CRCs check")
    try:
        root = ET.fromstring(spec)
    except ET.ParseError as e:
        ok(False, f"{path.name}: {spec_name} at the root parses", str(e))
        return
    ns = {"n": root.tag.split("}")[0].strip("{")}
    meta = root.find("n:metadata", ns)
    ok(meta is not None and meta.findtext("n:id", namespaces=ns) == package.NUGET_ID and meta.findtext("n:version", namespaces=ns) == version,
       f"{path.name}: nuspec id {package.NUGET_ID}, version {version}")
    ok(meta is not None and meta.findtext("n:license", namespaces=ns) == "MIT OR Apache-2.0", f"{path.name}: license expression")
    ok("[Content_Types].xml" in names and "_rels/.rels" in names, f"{path.name}: OPC parts ([Content_Types].xml, _rels/.rels)")
    types = data.get("[Content_Types].xml", b"").decode()
    exts = {n.rsplit(".", 1)[1] for n in names if "." in n.rsplit("/", 1)[-1] and not n.startswith("[")}
    ok(all(f'Extension="{e}"' in types for e in exts), f"{path.name}: [Content_Types].xml covers {sorted(exts)}")
    asm = data.get("lib/netstandard2.0/LibGsms.dll", b"")
    ok(binary_kind(asm) == "pe-?" or (asm[:2] == b"MZ" and b"BSJB" in asm), f"{path.name}: lib/netstandard2.0/LibGsms.dll is a .NET assembly")
    ok(not any(n.lower().endswith("/gsms.dll") and n.startswith("lib/") for n in names),
       f"{path.name}: no managed assembly named gsms.dll (Windows would confuse it with the native gsms.dll)")
    for plat in platforms:
        p = package.PLATFORMS[plat]
        n = f"runtimes/{p['rid']}/native/{p['shared']}"
        ok(binary_kind(data.get(n, b"")) == WANT_KIND[plat], f"{path.name}: {n} is {WANT_KIND[plat]}")


def check(dist):
    dist = Path(dist)
    version = package.crate_version()
    platforms = list(package.PLATFORMS)
    for plat in platforms:
        ext = "zip" if package.PLATFORMS[plat]["archive"] == "zip" else "tar.gz"
        f = dist / f"gsms-{version}-{plat}.{ext}"
        if ok(f.exists(), f"{f.name} exists"):
            check_sdk(f, plat, version)
    f = dist / f"{package.UNITY_NAME}-{version}.tgz"
    if ok(f.exists(), f"{f.name} exists"):
        check_unity(f, version, platforms)
    f = dist / f"{package.NUGET_ID}.{version}.nupkg"
    if ok(f.exists(), f"{f.name} exists"):
        check_nuget(f, version, platforms)
    print(f"dist: {sum(1 for _ in dist.iterdir())} artifacts, {failures} failed checks")
    return 1 if failures else 0


def dotnet_app(nupkg, out, app):
    nupkg, out = Path(nupkg), Path(out)
    with zipfile.ZipFile(nupkg) as z:
        names = z.namelist()
    pid, version = package.NUGET_ID, package.crate_version()
    runtime = {n: {} for n in names if n.startswith("lib/netstandard2.0/") and n.endswith(".dll")}
    native = {n: {"rid": n.split("/")[1], "assetType": "native"} for n in names if re.fullmatch(r"runtimes/[^/]+/native/[^/]+", n)}
    sha = base64.b64encode(hashlib.sha512(nupkg.read_bytes()).digest()).decode()
    tfm = ".NETCoreApp,Version=v3.1"
    deps = {
        "runtimeTarget": {"name": tfm, "signature": ""}, "compilationOptions": {},
        "targets": {tfm: {f"{app}/1.0.0": {"dependencies": {pid: version}, "runtime": {f"{app}.exe": {}}},
                          f"{pid}/{version}": {"runtime": runtime, "runtimeTargets": native}}},
        "libraries": {f"{app}/1.0.0": {"type": "project", "serviceable": False, "sha512": ""},
                      f"{pid}/{version}": {"type": "package", "serviceable": False, "sha512": "sha512-" + sha,
                                           "path": f"{pid.lower()}/{version}", "hashPath": f"{pid.lower()}.{version}.nupkg.sha512"}},
    }
    (out / f"{app}.deps.json").write_text(json.dumps(deps, indent=2))
    (out / f"{app}.runtimeconfig.json").write_text(json.dumps(
        {"runtimeOptions": {"tfm": "netcoreapp3.1", "framework": {"name": "Microsoft.NETCore.App", "version": "3.1.23"}}}, indent=2))
    return sha


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2]))
    if len(sys.argv) == 5 and sys.argv[1] == "dotnet-app":
        print(dotnet_app(*sys.argv[2:]))
        sys.exit(0)
    sys.exit(__doc__)
