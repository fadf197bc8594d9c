"""The DDEX files of a batch upload: many ``.xml`` files, or one zip of them, checked before anything is kept.

A zip is read from its central directory first, so a hostile archive is refused
before a byte is inflated: too many entries, nested archives, symlinks, absolute
paths, ``..`` components, encrypted entries, an entry larger than the importer
takes (``ern.MAX_BYTES``), a total over ``ZIP_MAX_TOTAL`` or an entry inflating
more than ``ZIP_MAX_RATIO`` times. The sizes a header states are not trusted:
every entry is inflated through a bounded read, so a header that lies stops at
the limit. Each refusal is a ``ValidationFailed`` naming the entry and the rule.
"""

from __future__ import annotations

import posixpath
import stat
import zipfile
from collections.abc import Sequence
from typing import IO, Any

from registry.errors import ValidationFailed
from registry.labels import ern

# One batch: at most this many DDEX messages, and the upload at most this many bytes.
BATCH_MAX_FILES = 200
BATCH_MAX_BYTES = 50 * 2**20
# Inflated, a zip's entries together; DDEX XML compresses about 10:1, so 100:1 is a bomb.
ZIP_MAX_TOTAL = 100 * 2**20
ZIP_MAX_RATIO = 100
# What archivers add next to the files; skipped, never read.
_IGNORED = ("__MACOSX/", ".DS_Store", "Thumbs.db")
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, fields={"files": [message]})


def _mb(n: int) -> str:
    return f"{n / 2**20:.0f} MB"


def is_zip(upload: Any) -> bool:
    name = (getattr(upload, "name", "") or "").lower()
    upload.seek(0)
    head = upload.read(4)
    upload.seek(0)
    return name.endswith(".zip") or head == b"PK\x03\x04"


def _unsafe_name(name: str) -> str | None:
    """Why an entry's path is refused, or None."""
    if "\\" in name:
        return "has a backslash in its path"
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return "has an absolute path"
    if ".." in name.split("/"):
        return "has “..” in its path"
    if "\x00" in name:
        return "has a NUL character in its name"
    return None


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def files_from_zip(stream: IO[bytes]) -> list[tuple[str, bytes]]:
    """The ``.xml`` entries of a zip as (name, bytes), in archive order; refuses the whole archive on any trick."""
    try:
        archive = zipfile.ZipFile(stream)
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise _refuse(f"The zip file cannot be read ({exc}).") from None
    if len(infos) > BATCH_MAX_FILES * 2:
        raise _refuse(f"The zip file has {len(infos)} entries; at most {BATCH_MAX_FILES} DDEX files are read at once.")
    wanted: list[zipfile.ZipInfo] = []
    total = 0
    for info in infos:
        name = info.filename
        why = _unsafe_name(name)
        if why is None and _is_symlink(info):
            why = "is a symbolic link"
        if why is None and info.flag_bits & 0x1:
            why = "is encrypted"
        if why is None and name.lower().endswith((".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".jar")):
            why = "is an archive inside the archive"
        if why is not None:
            raise _refuse(f"The zip file is refused: “{name[:200]}” {why}.")
        if info.is_dir() or any(part in name for part in _IGNORED):
            continue
        if info.file_size > ern.MAX_BYTES:
            raise _refuse(f"“{name}” is {_mb(info.file_size)}; a DDEX file may be at most {_mb(ern.MAX_BYTES)}.")
        if info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(f"The zip file is refused: “{name}” inflates over {ZIP_MAX_RATIO} times (a zip bomb?).")
        total += info.file_size
        if total > ZIP_MAX_TOTAL:
            raise _refuse(f"The zip file inflates to over {_mb(ZIP_MAX_TOTAL)}; split the batch.")
        wanted.append(info)
    if not wanted:
        raise _refuse("The zip file holds no files.")
    if len(wanted) > BATCH_MAX_FILES:
        raise _refuse(f"The zip file has {len(wanted)} files; at most {BATCH_MAX_FILES} are read at once.")
    files = []
    for info in wanted:
        try:
            with archive.open(info) as entry:
                # Never trust the header: read at most one byte past what it states.
                data = entry.read(info.file_size + 1)
        except (zipfile.BadZipFile, NotImplementedError, OSError, EOFError, ValueError) as exc:
            raise _refuse(f"“{info.filename}” cannot be read from the zip file ({exc}).") from None
        if len(data) > info.file_size:
            raise _refuse(f"The zip file is refused: “{info.filename}” is larger than its header says.")
        if data.startswith(_ARCHIVE_MAGIC):
            raise _refuse(f"The zip file is refused: “{info.filename}” is an archive inside the archive.")
        files.append((posixpath.basename(info.filename) or info.filename, data))
    return files


def files_from_uploads(uploads: Sequence[Any]) -> list[tuple[str, bytes]]:
    """The DDEX files of an upload: one zip, or up to ``BATCH_MAX_FILES`` XML files (sizes checked before reading)."""
    if not uploads:
        raise _refuse("Choose DDEX ERN files (.xml) or one zip file of them.")
    if len(uploads) > BATCH_MAX_FILES:
        raise _refuse(f"{len(uploads)} files were sent; at most {BATCH_MAX_FILES} are read at once.")
    if sum(u.size for u in uploads) > BATCH_MAX_BYTES:
        raise _refuse(f"The files are over {_mb(BATCH_MAX_BYTES)} together; split the batch.")
    zips = [u for u in uploads if is_zip(u)]
    if zips:
        if len(uploads) > 1:
            raise _refuse("Send one zip file on its own, or XML files without a zip.")
        return files_from_zip(zips[0])
    files = []
    for u in uploads:
        if u.size > ern.MAX_BYTES:
            raise _refuse(f"“{u.name}” is {_mb(u.size)}; a DDEX file may be at most {_mb(ern.MAX_BYTES)}.")
        files.append((posixpath.basename(u.name or "file.xml"), u.read()))
    return files
