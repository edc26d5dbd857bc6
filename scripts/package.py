#!/usr/bin/env python3
"""Assembles libgsms's release packages from libraries already built (scripts/package.sh builds
them and calls this). Standard library only.

  package.py unity --out DIR [--native PLATFORM=PATH ...]
      the Unity package as a folder (samples/stage_native_libs.sh unity uses this too)
  package.py dist --out dist --managed LibGsms.dll [--platform PLATFORM ...]
      dist/: one SDK archive per platform, the Unity tarball, the NuGet package

The Unity package is assembled here, not kept assembled in samples/unity: the repository holds
only what is really there (package.json, the asmdef, README, the sample) and their .meta files;
the C# layer comes from bindings/csharp and the native plugins from target/, and this script
writes the .meta files of what it adds, with each plugin's import settings. GUIDs are derived from
the package name and the asset's path, so they stay the same from one build to the next.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UNITY_SRC = ROOT / "samples" / "unity"
UNITY_NAME = "com.libgsms.gsms"
NUGET_ID = "LibGsms"

# Platform -> what its build directory holds and where each package puts it.
PLATFORMS = {
    "linux-x64": {
        "triple": "x86_64-unknown-linux-gnu", "system": "Linux", "archive": "tar.gz", "rid": "linux-x64",
        "shared": "libgsms.so", "libs": ["libgsms.so", "libgsms.a"], "bin": [],
        "unity": "Plugins/Linux/x86_64/libgsms.so",
    },
    "linux-arm64": {
        "triple": "aarch64-unknown-linux-gnu", "system": "Linux", "archive": "tar.gz", "rid": "linux-arm64",
        "shared": "libgsms.so", "libs": ["libgsms.so", "libgsms.a"], "bin": [],
        "unity": "Plugins/Linux/arm64/libgsms.so",
    },
    "windows-x64": {
        "triple": "x86_64-pc-windows-gnu", "system": "Windows", "archive": "zip", "rid": "win-x64",
        "shared": "gsms.dll", "libs": ["gsms.lib", "libgsms.dll.a", "libgsms.a"], "bin": ["gsms.dll"],
        "unity": "Plugins/Windows/x86_64/gsms.dll",
    },
    "macos-arm64": {
        "triple": "aarch64-apple-darwin", "system": "Darwin", "archive": "tar.gz", "rid": "osx-arm64",
        "shared": "libgsms.dylib", "libs": ["libgsms.dylib", "libgsms.a"], "bin": [],
        "unity": "Plugins/macOS/libgsms.dylib",
    },
}
# Plugins the Unity package can carry when a team builds them itself (no NDK or Xcode here, so
# scripts/package.sh never does; samples/stage_native_libs.sh stages them when present).
UNITY_EXTRA = {
    "android-arm64": "Plugins/Android/arm64-v8a/libgsms.so",
    "ios-arm64": "Plugins/iOS/libgsms.a",
}

# --- Unity .meta files -----------------------------------------------------------------------

META_TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"


def unity_guid(rel):
    return hashlib.md5(f"{UNITY_NAME}/{rel}".encode()).hexdigest()


def folder_meta(guid):
    return (f"fileFormatVersion: 2\nguid: {guid}\nfolderAsset: yes\nDefaultImporter:\n"
            "  externalObjects: {}\n" + META_TAIL)


def text_meta(guid):
    return f"fileFormatVersion: 2\nguid: {guid}\nTextScriptImporter:\n  externalObjects: {{}}\n" + META_TAIL


def script_meta(guid):
    return (f"fileFormatVersion: 2\nguid: {guid}\nMonoImporter:\n  externalObjects: {{}}\n"
            "  serializedVersion: 2\n  defaultReferences: []\n  executionOrder: 0\n"
            "  icon: {instanceID: 0}\n" + META_TAIL)


# Import settings per plugin: which editors and players load it, with which CPU. "linux-arm64" is
# switched off everywhere: Unity 2021-2023 has no Linux arm64 player (and a second libgsms.so
# enabled for Linux64 would collide with the x86_64 one); enable it in its Inspector for a Unity
# version or an Embedded Linux player that has one.
PLUGIN_SETTINGS = {
    "linux-x64": {"editor": ("Linux", "x86_64"), "standalone": {"Linux64": "x86_64"}},
    "linux-arm64": {"editor": None, "standalone": {}},
    "windows-x64": {"editor": ("Windows", "x86_64"), "standalone": {"Win64": "x86_64"}},
    "macos-arm64": {"editor": ("OSX", "ARM64"), "standalone": {"OSXUniversal": "ARM64"}},
    "android-arm64": {"editor": None, "standalone": {}, "android": "ARM64"},
    "ios-arm64": {"editor": None, "standalone": {}, "ios": "ARM64"},
}


def plugin_meta(guid, platform):
    s = PLUGIN_SETTINGS[platform]
    editor, standalone = s["editor"], s["standalone"]
    android, ios = s.get("android"), s.get("ios")
    ex = {
        "Android": android is None, "Editor": editor is None,
        "Linux64": "Linux64" not in standalone, "OSXUniversal": "OSXUniversal" not in standalone,
        "Win": True, "Win64": "Win64" not in standalone, "iOS": ios is None,
    }
    out = [f"fileFormatVersion: 2\nguid: {guid}\nPluginImporter:\n  externalObjects: {{}}\n"
           "  serializedVersion: 2\n  iconMap: {}\n  executionOrder: {}\n  defineConstraints: []\n"
           "  isPreloaded: 0\n  isOverridable: 0\n  isExplicitlyReferenced: 0\n  validateReferences: 1\n"
           "  platformData:\n  - first:\n      : Any\n    second:\n      enabled: 0\n      settings:\n"]
    for k in sorted(ex):
        out.append(f"        Exclude {k}: {int(ex[k])}\n")

    def entry(first, enabled, settings):
        lines = [f"  - first:\n      {first}\n    second:\n      enabled: {int(enabled)}\n      settings:"]
        if not settings:
            return lines[0] + " {}\n"
        return lines[0] + "\n" + "".join(f"        {k}: {v}\n" for k, v in settings)

    out.append(entry("Android: Android", android is not None, [("CPU", android or "ARMv7")]))
    out.append(entry("Any: ", False, []))
    out.append(entry("Editor: Editor", editor is not None,
                     [("CPU", editor[1] if editor else "AnyCPU"), ("DefaultValueInitialized", "true"),
                      ("OS", editor[0] if editor else "AnyOS")]))
    for name in ("Linux64", "OSXUniversal", "Win", "Win64"):
        out.append(entry(f"Standalone: {name}", name in standalone, [("CPU", standalone.get(name, "None"))]))
    out.append(entry("iPhone: iOS", ios is not None,
                     [("AddToEmbeddedBinaries", "false"), ("CPU", ios or "AnyCPU"), ("CompileFlags", ""),
                      ("FrameworkDependencies", "Security;" if ios else "")]))
    out.append(META_TAIL)
    return "".join(out)


def crate_version():
    for line in (ROOT / "Cargo.toml").read_text().splitlines():
        if line.startswith("version"):
            return line.split('"')[1]
    raise SystemExit("no version in Cargo.toml")


def license_md():
    return ("libgsms is licensed under either of the MIT license or the Apache License 2.0, at your option "
            "(SPDX: MIT OR Apache-2.0). Both texts follow.\n\n---\n\n" + (ROOT / "LICENSE-MIT").read_text()
            + "\n---\n\n" + (ROOT / "LICENSE-APACHE").read_text())


def unity_package(out, natives):
    """Writes the Unity package into OUT (replaced). natives: {platform: library path}."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    version = crate_version()
    manifest = json.loads((UNITY_SRC / "package.json").read_text())
    if manifest.get("version") != version:
        raise SystemExit(f"samples/unity/package.json has version {manifest.get('version')}, Cargo.toml {version}")

    def put(rel, data=None, src=None, meta=None):
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src is not None:
            shutil.copyfile(src, dest)
        else:
            dest.write_text(data) if isinstance(data, str) else dest.write_bytes(data)
        if meta is not None:
            (out / (rel + ".meta")).write_text(meta)

    # What the repository holds, with its committed .meta files.
    for rel in ("package.json", "README.md", "Runtime/Gsms.Runtime.asmdef"):
        put(rel, src=UNITY_SRC / rel)
        shutil.copyfile(UNITY_SRC / (rel + ".meta"), out / (rel + ".meta"))
    shutil.copyfile(UNITY_SRC / "Runtime.meta", out / "Runtime.meta")
    shutil.copytree(UNITY_SRC / "Samples~", out / "Samples~")
    # What this script adds.
    put("CHANGELOG.md", src=ROOT / "CHANGELOG.md", meta=text_meta(unity_guid("CHANGELOG.md")))
    put("LICENSE.md", license_md(), meta=text_meta(unity_guid("LICENSE.md")))
    for cs in sorted((ROOT / "bindings" / "csharp").glob("*.cs")):
        rel = f"Runtime/{cs.name}"
        put(rel, src=cs, meta=script_meta(unity_guid(rel)))
    for platform, lib in sorted(natives.items()):
        rel = PLATFORMS[platform]["unity"] if platform in PLATFORMS else UNITY_EXTRA[platform]
        put(rel, src=lib, meta=plugin_meta(unity_guid(rel), platform))
    # Folder .meta files for every folder that lacks one (outside the ~ folders Unity ignores).
    for d in sorted(p for p in out.rglob("*") if p.is_dir()):
        rel = d.relative_to(out).as_posix()
        if any(part.endswith("~") or part.startswith(".") for part in d.relative_to(out).parts):
            continue
        meta = out / (rel + ".meta")
        if not meta.exists():
            meta.write_text(folder_meta(unity_guid(rel + "/")))
    return out


# --- archives ----------------------------------------------------------------------------------

def epoch():
    """A fixed timestamp for archive entries: SOURCE_DATE_EPOCH, else the last commit's time."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return int(os.environ["SOURCE_DATE_EPOCH"])
    try:
        return int(subprocess.check_output(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"], text=True).strip())
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 315532800  # 1980-01-01, the earliest a zip can say


def files_under(base):
    return sorted(p for p in Path(base).rglob("*") if p.is_file())


def mode_of(p):
    shared = Path(p).suffix in (".so", ".dll", ".dylib")
    return 0o755 if shared or os.access(p, os.X_OK) else 0o644


def write_tgz(path, base, prefix):
    """A gzipped tar of BASE's files under PREFIX/, sorted, with fixed times and owners."""
    t = epoch()
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        dirs = set()
        for f in files_under(base):
            rel = f.relative_to(base).as_posix()
            parts = rel.split("/")[:-1]
            for i in range(len(parts)):
                d = "/".join(parts[: i + 1])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(f"{prefix}/{d}")
                    info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, t
                    tar.addfile(info)
            info = tarfile.TarInfo(f"{prefix}/{rel}")
            info.size, info.mode, info.mtime = f.stat().st_size, mode_of(f), t
            with open(f, "rb") as fh:
                tar.addfile(info, fh)
    with open(path, "wb") as out, gzip.GzipFile(fileobj=out, mode="wb", mtime=t, filename="") as gz:
        gz.write(raw.getvalue())


def write_zip(path, entries):
    """A zip of (name, file path or bytes) entries, sorted, with fixed times."""
    import time
    stamp = time.gmtime(max(epoch(), 315532800))[:6]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, src in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            if isinstance(src, (bytes, str)):
                info.external_attr = 0o644 << 16
                z.writestr(info, src)
            else:
                info.external_attr = mode_of(src) << 16
                z.writestr(info, Path(src).read_bytes())


# --- SDK archives ------------------------------------------------------------------------------

def sdk(platform, stage, dist, version):
    p = PLATFORMS[platform]
    libdir = ROOT / "target" / p["triple"] / "release"
    name = f"gsms-{version}-{platform}"
    tree = Path(stage) / name
    if tree.exists():
        shutil.rmtree(tree)
    # The layout, the CMake package and the pkg-config files: cmake/gsmsInstall.cmake, as for any install.
    subprocess.run(["cmake", f"-DGSMS_PREFIX={tree}", f"-DGSMS_LIBRARY_DIR={libdir}", f"-DGSMS_SYSTEM={p['system']}",
                    "-P", str(ROOT / "cmake" / "gsmsInstall.cmake")], check=True, stdout=subprocess.DEVNULL)
    for f in p["libs"]:
        if not (tree / "lib" / f).exists() and f not in p["bin"]:
            raise SystemExit(f"{platform}: {libdir / f} was not built")
    for f in p["bin"]:
        if not (tree / "bin" / f).exists():
            raise SystemExit(f"{platform}: {libdir / f} was not built")
    (tree / "csharp").mkdir()
    for cs in sorted((ROOT / "bindings" / "csharp").glob("*.cs")):
        shutil.copyfile(cs, tree / "csharp" / cs.name)
    readme = (ROOT / "packaging" / "SDK-README.md").read_text()
    (tree / "README.md").write_text(readme.replace("@VERSION@", version).replace("@PLATFORM@", platform))
    for f in ("CHANGELOG.md", "LICENSE-MIT", "LICENSE-APACHE"):
        shutil.copyfile(ROOT / f, tree / f)
    if p["archive"] == "zip":
        out = Path(dist) / f"{name}.zip"
        write_zip(out, [(f"{name}/{f.relative_to(tree).as_posix()}", f) for f in files_under(tree)])
    else:
        out = Path(dist) / f"{name}.tar.gz"
        write_tgz(out, tree, name)
    return out


# --- NuGet -------------------------------------------------------------------------------------

def nuspec(version, platforms):
    rids = ", ".join(PLATFORMS[p]["rid"] for p in platforms)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<package xmlns="http://schemas.microsoft.com/packaging/2013/05/nuspec.xsd">
  <metadata>
    <id>{NUGET_ID}</id>
    <version>{version}</version>
    <title>libgsms</title>
    <authors>The libgsms authors</authors>
    <license type="expression">MIT OR Apache-2.0</license>
    <readme>README.md</readme>
    <requireLicenseAcceptance>false</requireLicenseAcceptance>
    <description>Get a dedicated game server from Xbox Live Compute (GSMS): the C# layer (LibGsms.dll, netstandard2.0) over the native libgsms library for {rids}.</description>
    <tags>xbox gsms gameserver multiplayer native</tags>
    <dependencies>
      <group targetFramework=".NETStandard2.0" />
    </dependencies>
  </metadata>
</package>
"""


def nuget(dist, stage, managed, platforms, version):
    """A .nupkg (a zip: the .nuspec, the OPC parts NuGet clients read, lib/ and runtimes/)."""
    spec = nuspec(version, platforms)
    entries = [(f"{NUGET_ID}.nuspec", spec.encode()),
               ("lib/netstandard2.0/LibGsms.dll", Path(managed)),
               ("README.md", (ROOT / "packaging" / "NUGET-README.md").read_text().replace("@VERSION@", version).encode()),
               ("LICENSE-MIT", ROOT / "LICENSE-MIT"), ("LICENSE-APACHE", ROOT / "LICENSE-APACHE")]
    doc = Path(managed).with_suffix(".xml")
    if doc.exists():
        entries.append(("lib/netstandard2.0/LibGsms.xml", doc))
    for p in platforms:
        d = PLATFORMS[p]
        entries.append((f"runtimes/{d['rid']}/native/{d['shared']}", ROOT / "target" / d["triple"] / "release" / d["shared"]))
    exts = sorted({n.rsplit(".", 1)[-1] for n, _ in entries if "." in n.rsplit("/", 1)[-1]} - {"nuspec"})
    types = "".join(f'<Default Extension="{e}" ContentType="application/octet" />' for e in exts)
    entries.append(("[Content_Types].xml", (
        '<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml" />'
        '<Default Extension="psmdcp" ContentType="application/vnd.openxmlformats-package.core-properties+xml" />'
        '<Default Extension="nuspec" ContentType="application/octet" />' + types
        + '<Override PartName="/LICENSE-MIT" ContentType="application/octet" />'
        + '<Override PartName="/LICENSE-APACHE" ContentType="application/octet" /></Types>').encode()))
    core = hashlib.md5(spec.encode()).hexdigest()
    entries.append(("_rels/.rels", (
        '<?xml version="1.0" encoding="utf-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Type="http://schemas.microsoft.com/packaging/2010/07/manifest" Target="/{NUGET_ID}.nuspec" Id="R1" />'
        '<Relationship Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" '
        f'Target="/package/services/metadata/core-properties/{core}.psmdcp" Id="R2" /></Relationships>').encode()))
    entries.append((f"package/services/metadata/core-properties/{core}.psmdcp", (
        '<?xml version="1.0" encoding="utf-8"?><coreProperties xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:dcterms="http://purl.org/dc/terms/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xmlns="http://schemas.openxmlformats.org/package/2006/metadata/core-properties">'
        f'<dc:creator>The libgsms authors</dc:creator><dc:identifier>{NUGET_ID}</dc:identifier>'
        f'<version>{version}</version><keywords>xbox gsms gameserver multiplayer native</keywords>'
        '<lastModifiedBy>scripts/package.py</lastModifiedBy></coreProperties>').encode()))
    out = Path(dist) / f"{NUGET_ID}.{version}.nupkg"
    write_zip(out, entries)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unity")
    u.add_argument("--out", required=True)
    u.add_argument("--native", action="append", default=[], metavar="PLATFORM=PATH")
    d = sub.add_parser("dist")
    d.add_argument("--out", required=True)
    d.add_argument("--managed", required=True, help="LibGsms.dll compiled from bindings/csharp")
    d.add_argument("--platform", action="append", default=[])
    a = ap.parse_args()
    if a.cmd == "unity":
        natives = {}
        for n in a.native:
            plat, _, path = n.partition("=")
            if plat not in PLATFORMS and plat not in UNITY_EXTRA:
                raise SystemExit(f"unknown platform {plat}")
            natives[plat] = path
        print(unity_package(a.out, natives))
        return
    platforms = a.platform or list(PLATFORMS)
    version = crate_version()
    dist = Path(a.out)
    stage = ROOT / "target" / "package"
    if dist.exists():
        shutil.rmtree(dist)
    dist.mkdir(parents=True)
    stage.mkdir(parents=True, exist_ok=True)
    made = [sdk(p, stage, dist, version) for p in platforms]
    natives = {p: ROOT / "target" / PLATFORMS[p]["triple"] / "release" / PLATFORMS[p]["shared"] for p in platforms}
    pkg = unity_package(stage / "unity" / "package", natives)
    tgz = dist / f"{UNITY_NAME}-{version}.tgz"
    write_tgz(tgz, pkg, "package")
    made.append(tgz)
    made.append(nuget(dist, stage, a.managed, platforms, version))
    for m in made:
        print(f"{m.stat().st_size:>10}  {m.relative_to(ROOT) if m.is_relative_to(ROOT) else m}")


if __name__ == "__main__":
    sys.exit(main())
