"""The small-scale real-data bundle: hub-schema rows from pinned public snapshots, committed under data/small/.

A `small` run reads real data offline through the *paper path's* loaders: `hub.download_task` is given
`BundleLoader(folder)` instead of `datasets.load_dataset`, and the rows it returns are exactly what a `datasets`
load of the hub repo named in `SOURCES.tsv` gives (the features of HUB_SCHEMAS.md), cut to a laptop's size.

`SOURCES.tsv` (one row per bundle file) says, for every file: which hub table it stands in for
(`hub_repo`, `hub_config`, `hub_split`), where its rows come from (`source_repo`, `source_path`,
`source_commit`: a public GitHub snapshot), the licence stated there, the cut rule, the row count, and the
SHA-256 of the file (`sha256`, the .jsonl.gz as committed) and of its content (`content_sha256`, the JSONL
text, which is what a run checks: independent of the zlib build). A row whose `file` is `-` declares a hub
table the bundle leaves out on purpose (`cut` says why); the download records the omission instead of failing.

    python -m xstilts.data.bundle build data/small --mirrors DIR   # from local git mirrors DIR/<owner>+<name>
    python -m xstilts.data.bundle build data/small --github        # from raw.githubusercontent.com at the commits
    python -m xstilts.data.bundle check data/small                 # checksums of every file (what a run does first)

`build` (module `bundle.build`) writes every file from its pinned source with the cut rule in `SPECS`
(gzip level 9, mtime 0, no file name: byte-identical output from identical input) and rewrites SOURCES.tsv;
with `--verify` it writes into a scratch folder and compares byte for byte with the committed bundle instead.
This package reads and checks the bundle (what a run needs); `build` and `__main__` are the maintainer's side.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path


SOURCES = "SOURCES.tsv"
COLUMNS = ("file", "hub_repo", "hub_config", "hub_split", "source_repo", "source_path", "source_commit",
           "license", "cut", "rows", "sha256", "content_sha256")
REBUILD = "python -m xstilts.data.bundle build {folder} --github   (or --mirrors DIR; see xstilts/data/bundle/)"


class BundleError(ValueError):
    """A bundle file is missing, altered or unreadable (the message names the file and the rebuild command)."""


class Omitted(LookupError):
    """The bundle leaves this hub table out on purpose (SOURCES.tsv row with file `-`)."""


@dataclass(frozen=True)
class Entry:
    file: str
    hub_repo: str
    hub_config: str
    hub_split: str
    source_repo: str
    source_path: str
    source_commit: str
    license: str
    cut: str
    rows: int
    sha256: str
    content_sha256: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.hub_repo, self.hub_config, self.hub_split)

    @property
    def omitted(self) -> bool:
        return self.file == "-"


def _key(repo, config, split) -> tuple[str, str, str]:
    return (str(repo or ""), str(config or ""), str(split or ""))


def read_sources(folder) -> list[Entry]:
    folder = Path(folder)
    path = folder / SOURCES
    if not path.is_file():
        raise BundleError(f"{path}: missing; rebuild the bundle: {REBUILD.format(folder=folder)}")
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        rd = csv.DictReader(f, delimiter="\t")
        if tuple(rd.fieldnames or ()) != COLUMNS:
            raise BundleError(f"{path}: columns {rd.fieldnames}, expected {list(COLUMNS)}")
        for i, r in enumerate(rd, 2):
            try:
                out.append(Entry(**{**r, "rows": int(r["rows"])}))
            except (TypeError, ValueError) as e:
                raise BundleError(f"{path}:{i}: {e}") from None
    keys = [e.key for e in out]
    dup = sorted({k for k in keys if keys.count(k) > 1})
    if dup:
        raise BundleError(f"{path}: hub tables listed twice: {dup}")
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verify(folder) -> list[Entry]:
    """Check every file SOURCES.tsv lists: present, content checksum and row count as recorded. Raises
    BundleError naming the first bad file and the rebuild command; returns the entries."""
    folder = Path(folder)
    entries = read_sources(folder)
    for e in entries:
        if e.omitted:
            continue
        path = folder / e.file
        if not path.is_file():
            raise BundleError(f"{path}: bundle file missing (listed in {folder / SOURCES}); "
                              f"rebuild: {REBUILD.format(folder=folder)}")
        try:
            content = gzip.decompress(path.read_bytes())
        except (OSError, EOFError) as err:
            raise BundleError(f"{path}: not a readable gzip file ({err}); rebuild: "
                              f"{REBUILD.format(folder=folder)}") from None
        got = _sha256(content)
        if got != e.content_sha256:
            raise BundleError(f"{path}: content sha256 {got[:16]}... differs from {folder / SOURCES} "
                              f"({e.content_sha256[:16]}...): altered or stale; rebuild: "
                              f"{REBUILD.format(folder=folder)}")
        n = content.count(b"\n")
        if n != e.rows:
            raise BundleError(f"{path}: {n} rows, {folder / SOURCES} says {e.rows}")
    return entries


class BundleLoader:
    """`hub.download_task(load=...)`: hub rows of (repo, config, split) from the bundle, never the network."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.entries = {e.key: e for e in verify(self.folder)}

    def __call__(self, repo, config=None, split="train", revision=None, streaming=False, parquet_layout=False):
        e = self.entries.get(_key(repo, config, split))
        if e is None:
            raise BundleError(f"{self.folder / SOURCES}: no bundle file for hub table {repo}:{config}:{split}; "
                              f"add it to xstilts.data.bundle.SPECS and rebuild: {REBUILD.format(folder=self.folder)}")
        if e.omitted:
            raise Omitted(f"{repo}:{config}:{split} is left out of the bundle: {e.cut}")
        with gzip.open(self.folder / e.file, "rt", encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def has(self, repo, config, split) -> bool:
        """The bundle holds (or deliberately omits) this hub table."""
        return _key(repo, config, split) in self.entries

    def provenance(self, repo, config, split) -> dict:
        e = self.entries[_key(repo, config, split)]
        return {"bundle_file": e.file, "source_repo": e.source_repo, "source_path": e.source_path,
                "source_commit": e.source_commit, "license": e.license, "cut": e.cut,
                "content_sha256": e.content_sha256}
