#!/usr/bin/env python3
"""Release archives for aibc, the same on every CI runner (Linux, Windows, macOS): only the
Python standard library, so the GitHub and Azure Pipelines release workflows call this one
script and the layout is tested here (tests/python/test_release.py).

  package.py archive --target T --bin PATH [--docs-bin PATH] --out DIR
      DIR/aibc-T.tar.gz (a .zip for Windows targets) holding aibc-T/{aibc, LICENSE,
      README.md, man/aibc*.1, completions/*}, and DIR/aibc-T.tar.gz.sha256.
  package.py sums DIR
      Checks every archive in DIR against its .sha256 file and writes DIR/SHA256SUMS in
      `sha256sum` format, so users verify with `sha256sum --check --ignore-missing SHA256SUMS`.

The man page and completions come from running a binary (`aibc man`, `aibc completions`):
the target's own, or with --docs-bin a host build when the target cannot run here (arm64
built on x64). Archives are reproducible: sorted entries, fixed owner and SOURCE_DATE_EPOCH
times.
"""

import argparse
import gzip
import hashlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHELLS = {"bash": "aibc.bash", "zsh": "_aibc", "fish": "aibc.fish", "powershell": "_aibc.ps1", "elvish": "aibc.elv"}
SUMS = "SHA256SUMS"


def is_windows(target: str) -> bool:
    return "windows" in target


def archive_name(target: str) -> str:
    return f"aibc-{target}." + ("zip" if is_windows(target) else "tar.gz")


def run(binary: Path, *args: str) -> bytes:
    out = subprocess.run([str(binary), *args], check=True, capture_output=True)
    return out.stdout


def contents(target: str, binary: Path, docs_bin: Path) -> list[tuple[str, bytes, int]]:
    """(path inside the archive, bytes, mode) for every file, sorted."""
    exe = "aibc.exe" if is_windows(target) else "aibc"
    files = [
        (exe, binary.read_bytes(), 0o755),
        ("LICENSE", (ROOT / "LICENSE").read_bytes(), 0o644),
        ("README.md", (ROOT / "README.md").read_bytes(), 0o644),
    ]
    # aibc.1 and one page per command (aibc-prune.1, ...), so `man aibc-prune` works.
    with tempfile.TemporaryDirectory() as pages:
        run(docs_bin, "man", "--dir", pages)
        for page in sorted(Path(pages).iterdir()):
            files.append((f"man/{page.name}", page.read_bytes(), 0o644))
    for shell, name in SHELLS.items():
        files.append((f"completions/{name}", run(docs_bin, "completions", shell), 0o644))
    top = f"aibc-{target}"
    return sorted((f"{top}/{p}", data, mode) for p, data, mode in files)


def epoch() -> int:
    return int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # 1980-01-01, zip's floor


def write_tar(path: Path, files) -> None:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data, mode in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), mode, epoch()
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(data))
    # mtime=0 in the gzip header keeps the archive byte-for-byte reproducible.
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0, filename="") as gz:
        gz.write(raw.getvalue())


def write_zip(path: Path, files) -> None:
    import time

    stamp = time.gmtime(epoch())[:6]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def archive(args) -> int:
    binary = Path(args.bin)
    if not binary.is_file():
        print(f"package: no binary at {binary}", file=sys.stderr)
        return 1
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    files = contents(args.target, binary, Path(args.docs_bin or args.bin))
    path = out / archive_name(args.target)
    (write_zip if is_windows(args.target) else write_tar)(path, files)
    digest = sha256(path)
    (out / f"{path.name}.sha256").write_text(f"{digest}  {path.name}\n")
    print(f"{path} {digest}")
    return 0


def sums(args) -> int:
    out = Path(args.dir)
    lines = []
    for path in sorted(out.iterdir()):
        if not (path.name.startswith("aibc-") and path.name.endswith((".tar.gz", ".zip"))):
            continue
        digest = sha256(path)
        recorded = out / f"{path.name}.sha256"
        if recorded.exists() and recorded.read_text().split()[0] != digest:
            print(f"package: {path.name} does not match {recorded.name}", file=sys.stderr)
            return 1
        lines.append(f"{digest}  {path.name}\n")
    if not lines:
        print(f"package: no aibc-* archives in {out}", file=sys.stderr)
        return 1
    (out / SUMS).write_text("".join(lines))
    print(f"{out / SUMS}: {len(lines)} archive(s)")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("archive", help="package one target")
    a.add_argument("--target", required=True)
    a.add_argument("--bin", required=True, help="the target's aibc binary")
    a.add_argument("--docs-bin", help="a binary that runs here, for the man page and completions")
    a.add_argument("--out", required=True)
    s = sub.add_parser("sums", help="write SHA256SUMS for the archives in a folder")
    s.add_argument("dir")
    args = parser.parse_args(argv)
    return archive(args) if args.command == "archive" else sums(args)


if __name__ == "__main__":
    sys.exit(main())
