"""`python -m xstilts.data.bundle {build,check} FOLDER`: rebuild the bundle from its pinned sources, or check
the checksums of every file (what a run does first)."""
from __future__ import annotations

import argparse
import sys
import tempfile

import xstilts.data.bundle as bundle
from xstilts.data.bundle import verify
from xstilts.data.bundle.build import build, compare, github_reader, mirror_reader


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m xstilts.data.bundle", description=bundle.__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="write the bundle from its pinned sources")
    b.add_argument("folder")
    g = b.add_mutually_exclusive_group(required=True)
    g.add_argument("--mirrors", help="folder of local git mirrors <owner>+<name> (git dir or holding repo/)")
    g.add_argument("--github", action="store_true", help="read raw files from GitHub at the pinned commits")
    b.add_argument("--verify", action="store_true",
                   help="build into a scratch folder and compare byte for byte with FOLDER instead of writing it")
    c = sub.add_parser("check", help="verify the checksums of every bundle file")
    c.add_argument("folder")
    args = ap.parse_args(argv)
    if args.cmd == "check":
        entries = verify(args.folder)
        print(f"{args.folder}: {sum(not e.omitted for e in entries)} files, checksums match SOURCES.tsv")
        return 0
    read = mirror_reader(args.mirrors) if args.mirrors else github_reader
    if args.verify:
        with tempfile.TemporaryDirectory() as tmp:
            build(tmp, read, log=lambda *_: None)
            diff = compare(tmp, args.folder)
        if diff:
            print(f"{len(diff)} file(s) differ from {args.folder}: {diff[:10]}", file=sys.stderr)
            return 1
        print(f"{args.folder}: rebuilt byte-identically from the pinned sources")
        return 0
    build(args.folder, read)
    return 0


if __name__ == "__main__":
    sys.exit(main())
