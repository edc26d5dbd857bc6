#!/usr/bin/env python3
"""Checks the links of the project's Markdown files: the project explains itself with its own
files, so every link must name a file of this repository that exists.

For every Markdown file of the repository (tracked, or new and not ignored; build output such as
target/ is left out), each link -- [text](target), ![alt](target), [label]: target, and the
href/src of inline HTML -- outside code blocks and code spans must be:
  - relative (a link to another site, or an absolute path, fails: say it in our own words);
  - inside the repository once resolved from the linking file's folder (../shared fails);
  - to a file or folder that exists and is part of the repository (tracked, or new and not
    ignored: a link into target/ would break in a fresh clone);
  - when it names a heading (file.md#heading, or #heading in the same file), to a heading that
    exists, spelled as GitHub makes anchors.

usage: python3 scripts/check_docs.py [FILE.md ...]      (default: every Markdown file)
Prints one line per broken link (file:line: why) and "docs: N files, M links, K broken";
exits 1 when any link is broken. Run by scripts/test.sh.
"""

import os
import re
import subprocess
import sys
import urllib.parse

ROOT = os.path.realpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)\s*=\s*[\"']([^\"']+)[\"']", re.I)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
FENCE = re.compile(r"^\s{0,3}(```+|~~~+)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def repo_files():
    """Paths (relative to ROOT, '/'-separated) of the repository's files: tracked, or untracked
    and not ignored. None when git is not available (then the file system is the judge)."""
    try:
        out = subprocess.run(
            ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True, capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return {p for p in out.decode("utf-8", "replace").split("\0") if p}


def strip_code_spans(line):
    """The line with `code spans` blanked out (links inside them are examples, not links)."""
    return re.sub(r"(`+)(?:(?!\1).)+?\1", lambda m: " " * len(m.group(0)), line)


def slug(text):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"<[^>]+>", "", text)                     # inline HTML
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links keep their text
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)                    # punctuation (backticks included) goes
    return text.replace(" ", "-")


def lines_outside_code(path, raw=False):
    """(line number, text) of the lines outside fenced code blocks, code spans blanked (kept when
    `raw`: a heading's code spans are part of its anchor)."""
    fence = None
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = FENCE.match(line)
            if m:
                mark = m.group(1)[0] * 3
                if fence is None:
                    fence = mark
                    continue
                if mark == fence:
                    fence = None
                    continue
            if fence is None:
                line = line.rstrip("\n")
                yield n, line if raw else strip_code_spans(line)


def anchors(path, cache={}):
    if path not in cache:
        seen = {}
        out = set()
        for _, line in lines_outside_code(path, raw=True):
            m = HEADING.match(line)
            if not m:
                continue
            s = slug(m.group(2))
            k = seen.get(s, 0)
            seen[s] = k + 1
            out.add(s if k == 0 else f"{s}-{k}")
        # Explicit anchors: <a name="x"> / <a id="x">.
        with open(path, encoding="utf-8") as f:
            out.update(re.findall(r"<a\s+(?:name|id)=[\"']([^\"']+)[\"']", f.read()))
        cache[path] = out
    return cache[path]


def check_link(src, target, files):
    """None when the link is fine, else why not."""
    target = target.strip("<>")
    if SCHEME.match(target) or target.startswith("//"):
        return f"{target}: a link outside the repository (the docs explain themselves: say it here, in our own words)"
    if target.startswith("/"):
        return f"{target}: an absolute path (write it relative to {os.path.relpath(src, ROOT)})"
    path, _, fragment = target.partition("#")
    path = urllib.parse.unquote(path.split("?", 1)[0])
    if path:
        full = os.path.realpath(os.path.join(os.path.dirname(src), path))
    else:
        full = os.path.realpath(src)
    rel = os.path.relpath(full, ROOT)
    if rel == ".." or rel.startswith(".." + os.sep) or os.path.isabs(rel):
        return f"{target}: leaves the repository"
    if not os.path.exists(full):
        return f"{target}: no such file ({rel})"
    if files is not None and rel != ".":
        r = rel.replace(os.sep, "/")
        if r not in files and not any(f.startswith(r.rstrip("/") + "/") for f in files):
            return f"{target}: {rel} is not part of the repository (ignored or build output?)"
    if fragment and os.path.isfile(full) and full.endswith(".md"):
        if fragment not in anchors(full):
            return f"{target}: {rel} has no heading #{fragment}"
    return None


def main(argv):
    files = repo_files()
    if argv:
        docs = [os.path.realpath(a) for a in argv]
    elif files is not None:
        docs = sorted(os.path.join(ROOT, f) for f in files if f.endswith(".md") and not f.startswith("fuzz/corpus/"))
        docs = [d for d in docs if os.path.isfile(d)]
    else:
        docs = []
        for dirpath, dirnames, names in os.walk(ROOT):
            dirnames[:] = [d for d in dirnames if d not in (".git", "target", "node_modules", "corpus")]
            docs += [os.path.join(dirpath, n) for n in names if n.endswith(".md")]
        docs.sort()
    links = broken = 0
    for doc in docs:
        for n, line in lines_outside_code(doc):
            targets = [m.group(1) for m in INLINE.finditer(line)]
            targets += [m.group(1) for m in HTML.finditer(line)]
            m = REFDEF.match(line)
            if m:
                targets.append(m.group(1))
            for t in targets:
                links += 1
                why = check_link(doc, t, files)
                if why:
                    broken += 1
                    print(f"{os.path.relpath(doc, ROOT)}:{n}: {why}")
    print(f"docs: {len(docs)} files, {links} links, {broken} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
