"""Find input files and read their bytes as text.

Paths may be files, folders (walked recursively, symlink loops detected) or glob
patterns. Compression and text encoding are detected from the bytes, never from the
file name: a gzip member is recognised by its magic number, and a byte order mark picks
UTF-8 or UTF-16.

Files are read whole here; :mod:`h056hunt.streams` reads them line by line.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import gzip
import json
import logging
import os
import re
import stat
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from h056hunt.errors import InputError, InputValue, MessageText, UsageError
from h056hunt.plurals import Counted

logger = logging.getLogger(__name__)

GZIP_MAGIC = b"\x1f\x8b"
# A zip archive starts with a local file header, or an end record when empty.
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
# A Parquet file starts and ends with these bytes.
PARQUET_MAGIC = b"PAR1"
# Leading bytes of compressed files that h056hunt does not read, with the format's
# name. Read as text, such a file passes as a CSV header of binary cells and counts
# each line of its data as a skipped row.
OTHER_COMPRESSION_MAGICS = (
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
# A bzip2 stream starts with "BZh" and a block size digit from 1 to 9.
BZIP2_MAGIC = b"BZh"
SEVEN_ZIP_MAGIC = b"7z\xbc\xaf\x27\x1c"
# A POSIX or GNU tar archive starts with a header block of 512 bytes that has
# one of TAR_MAGICS at offset 257 and the octal checksum of the block at offsets
# 148 to 155. POSIX (and pax) headers write "ustar", NUL and the version "00".
# GNU tar writes "ustar", two spaces and NUL.
TAR_BLOCK_BYTES = 512
TAR_MAGIC_OFFSET = 257
TAR_MAGICS = (b"ustar\x0000", b"ustar  \x00")
TAR_CHECKSUM_FIELD = slice(148, 156)
# Bytes of a file's start that reject_archive reads to detect each of these formats.
ARCHIVE_HEAD_BYTES = TAR_BLOCK_BYTES
# The label of each format that a file's first bytes show h056hunt does not
# read, by the reason of the InputError that reject_archive or
# streams.open_input raises.
UNREAD_FORMAT_LABELS = {
    **{f"{kind}_archive": f"{kind} archive" for kind in ("zip", "7z", "tar")},
    "parquet_file": "Parquet",
    **{
        f"{name}_file": f"{name}-compressed"
        for name in ("bzip2", *(name for _, name in OTHER_COMPRESSION_MAGICS))
    },
    "double_gzip": "gzip compressed twice",
}
# The file that marks a folder written by h056 convert (see loaders.parquet).
PARQUET_MANIFEST_NAME = "_h056_manifest.json"
# The manifest's "format" value. A manifest larger than MAX_MANIFEST_BYTES is not
# one that h056 convert wrote.
MANIFEST_FORMAT = "h056hunt-canonical-parquet"
MAX_MANIFEST_BYTES = 256 * 1024 * 1024
UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
# Bytes of a file's start that utf16_without_mark looks at.
UTF16_PROBE_BYTES = 64
DEFAULT_MAX_DECOMPRESSED_BYTES = 20 * 1024**3
_READ_CHUNK_BYTES = 8 * 1024 * 1024
# Unreadable paths named in one message; the rest are counted.
PATHS_NAMED = 5
# A URI scheme of two or more characters, so a Windows drive letter is not one.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]+:/")


@dataclass
class InputFile:
    """One file to load, with the path as shown to the user.

    Attributes:
        source: the input value that found the file, such as the folder or the
            glob pattern given. It is the path itself for a file given directly,
            and empty when no input value is known.
        convert_folder: the folder written by ``h056 convert`` that contains the
            file, as shown to the user, however the file was reached: by walking an
            input folder, through a glob pattern, or named directly. Empty when no
            folder above the file is a convert folder.
    """

    path: Path
    display: str
    source: str = ""
    convert_folder: str = ""


@dataclass
class Expansion:
    """Files found for one log, plus the entries that could not be used."""

    files: list[InputFile] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    # Patterns that matched only folders without a file or unreadable entry. When
    # no pattern found anything, expand_inputs raises instead.
    empty_patterns: list[str] = field(default_factory=list)


def expand_inputs(patterns: list[str]) -> Expansion:
    """Expand files, folders and glob patterns into a sorted, duplicate-free list.

    Raises:
        UsageError: a pattern matches nothing at all, or the patterns match only
            folders that contain no file.
    """
    expansion = Expansion()
    seen: set[Path] = set()
    # The cached is_convert_folder result of each resolved folder.
    convert_folders: dict[Path, bool] = {}
    for pattern in patterns:
        matches = _match(pattern)
        if not matches and pattern == "-":
            raise UsageError(
                "-: no file named '-', and h056 does not read an export from "
                "standard input",
                hint="save the export to a file and give its path",
            )
        if not matches:
            raise UsageError(
                MessageText(
                    InputValue(pattern, quoted=False, cut=False),
                    ": no such file, folder or matching glob pattern",
                ),
                hint="check the path; quote glob patterns so the shell does not expand "
                "them first",
            )
        reached = sum(
            _collect(match, expansion, seen, set(), pattern, convert_folders)
            for match in matches
        )
        if not reached:
            expansion.empty_patterns.append(pattern)
    if patterns and not expansion.files and not expansion.unreadable:
        # Only folders matched, and they contain no file. Going on would report a
        # clean hunt over no data.
        # Several folders are quoted, so a name that contains ", " reads as one.
        named: str
        if len(patterns) == 1:
            where = "this folder"
            named = MessageText(InputValue(patterns[0], quoted=False, cut=False))
        else:
            where, named = "these folders", ", ".join(map(repr, patterns))
        raise UsageError(
            MessageText(
                named,
                f": no file to read in {where} or the folders inside, so there "
                "is no record to read",
            ),
            hint="check the path and that the export wrote its files there; files "
            "and folders whose names start with '.' are not read",
        )
    return expansion


def _match(pattern: str) -> list[Path]:
    path = Path(pattern)
    try:
        if path.exists() or path.is_symlink():
            return [path]
    except OSError:
        # The path cannot be checked, such as when a name in it is longer than
        # the file system allows. Reading it reports the error as unreadable.
        if not glob.has_magic(pattern):
            return [path]
    if glob.has_magic(pattern):
        return [Path(found) for found in sorted(glob.glob(pattern, recursive=True))]
    return []


def glob_reaches(pattern: str, path: Path, *, contents: bool = False) -> bool:
    """Tell whether :func:`expand_inputs` would read ``path`` through the glob
    pattern, as a match or inside a matched folder, also before ``path`` exists.

    The pattern is matched one path component at a time, as ``glob.glob`` with
    ``recursive=True`` matches it: a wildcard matches no name that starts with
    ``.`` unless its component does, and ``**`` matches any number of folders.
    With ``contents``, a path whose components all match the start of the
    pattern counts too, because a file inside it may match the rest.

    NOTE: paths are compared once resolved, so a path that the pattern reaches
    only through a symlink that a wildcard matches is not found.
    """
    components = Path(pattern).parts
    magic = [glob.has_magic(component) for component in components]
    if True not in magic:
        return False
    first_magic = magic.index(True)
    base = Path(*components[:first_magic]) if first_magic else Path(".")
    try:
        relative = path.resolve().relative_to(base.resolve())
    except (OSError, RuntimeError, ValueError):
        return False
    return _components_match(components[first_magic:], relative.parts, contents)


def _components_match(
    pattern: tuple[str, ...], names: tuple[str, ...], contents: bool
) -> bool:
    """Tell whether ``names`` start with a path that ``pattern`` matches, and
    the names after it are ones that walking a folder reads."""
    if not pattern:
        return not any(name.startswith(".") for name in names)
    if not names:
        return contents or all(component == "**" for component in pattern)
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        if _components_match(rest, names, contents):
            return True
        return not names[0].startswith(".") and _components_match(
            pattern, names[1:], contents
        )
    if not glob.has_magic(head):
        matched = head == names[0]
    elif names[0].startswith(".") and not head.startswith("."):
        matched = False
    else:
        matched = fnmatch.fnmatch(names[0], head)
    return matched and _components_match(rest, names[1:], contents)


def _collect(
    path: Path,
    expansion: Expansion,
    seen: set[Path],
    ancestors: set[Path],
    pattern: str,
    convert_folders: dict[Path, bool],
    convert_folder: str = "",
) -> int:
    """Add the files under ``path`` to ``expansion``.

    Args:
        convert_folders: the cached :func:`is_convert_folder` result of each
            resolved folder checked so far.
        convert_folder: the convert folder that contains ``path`` when the walk
            passed through it, or empty.

    Returns:
        The number of paths found that are not folders: files, also those already
        seen, and unreadable entries.
    """
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as error:
        expansion.unreadable.append((str(path), _unresolved_reason(path, error)))
        return 1
    if resolved.is_dir():
        if resolved in ancestors:
            expansion.unreadable.append((str(path), "symlink loop: folder skipped"))
            return 1
        try:
            children = sorted(resolved.iterdir())
        except OSError as error:
            expansion.unreadable.append((str(path), f"cannot list folder: {error}"))
            return 1
        if not convert_folder and _checked_convert_folder(resolved, convert_folders):
            convert_folder = str(path)
        reached = 0
        for child in children:
            if child.name.startswith("."):
                continue
            reached += _collect(
                path / child.name,
                expansion,
                seen,
                ancestors | {resolved},
                pattern,
                convert_folders,
                convert_folder,
            )
        return reached
    if resolved in seen:
        return 1
    seen.add(resolved)
    kind = _special_file_kind(resolved)
    if kind is not None:
        # Opening a FIFO or a device could block forever or never end.
        expansion.unreadable.append((str(path), f"not a regular file ({kind})"))
        return 1
    if not os.access(resolved, os.R_OK):
        expansion.unreadable.append((str(path), "permission denied"))
        return 1
    if not convert_folder:
        # The walk did not pass through a convert folder, but a glob pattern, a
        # file or folder named inside one, or a symlink can still reach its files.
        convert_folder = _enclosing_convert_folder(path, resolved, convert_folders)
    expansion.files.append(
        InputFile(
            path=resolved,
            display=str(path),
            source=pattern,
            convert_folder=convert_folder,
        )
    )
    return 1


def _enclosing_convert_folder(
    path: Path, resolved: Path, convert_folders: dict[Path, bool]
) -> str:
    """Return the convert folder above the file ``resolved``, as messages name it,
    or an empty string.

    The folder is named as the part of ``path``, the file as found, that leads to
    it, and by its resolved path when no part does, such as through a symlink.
    """
    for folder in resolved.parents:
        if not _checked_convert_folder(folder, convert_folders):
            continue
        for ancestor in path.parents:
            try:
                if ancestor.resolve(strict=True) == folder:
                    return str(ancestor)
            except (OSError, RuntimeError):
                continue
        return str(folder)
    return ""


def _checked_convert_folder(folder: Path, convert_folders: dict[Path, bool]) -> bool:
    """Apply :func:`is_convert_folder` once per resolved folder."""
    if folder not in convert_folders:
        convert_folders[folder] = is_convert_folder(folder)
    return convert_folders[folder]


def is_convert_folder(folder: Path) -> bool:
    """Tell whether ``folder`` contains the manifest of an ``h056 convert`` folder.

    A manifest that cannot be read, or that is larger than
    :data:`MAX_MANIFEST_BYTES`, does not mark the folder.
    """
    data = read_manifest(folder)
    return data is not None and is_convert_manifest(data)


def read_manifest(folder: Path) -> bytes | None:
    """Read the file named like a convert manifest inside ``folder``, or return
    None when there is none, it cannot be read, or it is larger than
    :data:`MAX_MANIFEST_BYTES`."""
    manifest = folder / PARQUET_MANIFEST_NAME
    try:
        if not manifest.is_file() or manifest.stat().st_size > MAX_MANIFEST_BYTES:
            return None
        return manifest.read_bytes()
    except OSError:
        return None


def is_convert_manifest(data: bytes) -> bool:
    """Tell whether ``data``, the bytes of a manifest file, is UTF-8 JSON that
    names the convert format.

    Only the manifest's ``format`` value decides, as in
    :func:`h056hunt.loaders.parquet.parse_manifest`, so a folder of another
    release's convert is found too.
    """
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return False
    return isinstance(document, dict) and document.get("format") == MANIFEST_FORMAT


def is_uri(value: str) -> bool:
    """Tell whether an input names a URI for Spark rather than a local path."""
    return bool(_URI.match(value))


def file_uri_path(uri: str) -> str | None:
    """Return the local path of a ``file:`` URI, such as ``/data`` for
    ``file:///data``, ``file:/data`` or ``file://localhost/data``, else None.

    The path is kept as written, glob characters and percent signs included,
    because the Spark engine passes the URI to Spark as written. A URI of
    another scheme or host returns None, since its files cannot be checked here.
    """
    scheme, _, rest = uri.partition(":")
    if scheme.lower() != "file":
        return None
    if rest.startswith("//"):
        host, slash, path = rest[2:].partition("/")
        if host not in ("", "localhost"):
            return None
        rest = slash + path
    return rest if rest.startswith("/") else None


def _unresolved_reason(path: Path, error: OSError | RuntimeError) -> str:
    """Describe why ``path`` does not lead to a file or folder."""
    # Python 3.11 raises RuntimeError for a loop of links. Later releases may
    # raise OSError with ELOOP instead.
    if isinstance(error, RuntimeError) or error.errno == errno.ELOOP:
        return "symlink loop: the links point at each other"
    if isinstance(error, FileNotFoundError) and path.is_symlink():
        try:
            target = os.readlink(path)
        except OSError:
            return "dangling symlink: its target does not exist"
        return f"dangling symlink: its target {target} does not exist"
    if isinstance(error, PermissionError):
        return "permission denied on a folder in the path"
    return f"cannot resolve path: {error.strerror or error}"


def name_paths(paths: list[str]) -> str:
    """Join the first :data:`PATHS_NAMED` paths and count the rest."""
    named = ", ".join(paths[:PATHS_NAMED])
    if len(paths) > PATHS_NAMED:
        named += f" and {len(paths) - PATHS_NAMED} more"
    return named


def raise_for_unreadable(
    unreadable: list[tuple[str, str]], unread_formats: Sequence[InputError] = ()
) -> None:
    """Stop a strict run that could not read some of its input paths or files.

    Args:
        unreadable: ``(path, reason)`` of each input path that could not be read,
            as :class:`Expansion` collects them.
        unread_formats: the error of each input file whose first bytes show a
            format that h056hunt does not read, with a reason of
            :data:`UNREAD_FORMAT_LABELS`.

    Raises:
        InputError: either list is not empty. The error names the first path of
            ``unreadable`` and its reason, then its other paths, and then every
            file of ``unread_formats`` with its format. A single file of
            ``unread_formats`` alone raises its own error.
    """
    if not unreadable:
        if len(unread_formats) == 1:
            raise unread_formats[0]
        if unread_formats:
            first = unread_formats[0]
            raise InputError(
                first.path,
                _unread_formats_text(unread_formats),
                reason=first.reason,
                hint=_unread_formats_hint(unread_formats),
            )
        return
    path, reason = unreadable[0]
    message = f"cannot read this input: {reason}"
    others = [other for other, _ in unreadable[1:]]
    if others:
        quoted = name_paths([repr(other) for other in others])
        message += f"; these inputs cannot be read either: {quoted}"
    hint = (
        "fix the path or leave it out, or rerun with --lenient to read the "
        "other inputs and mark the result as partial"
    )
    if unread_formats:
        message += f"; also, {_unread_formats_text(unread_formats)}"
        hint += f"; {_unread_formats_hint(unread_formats)}"
    raise InputError(path, message, reason="unreadable", hint=hint)


def _unread_formats_text(errors: Sequence[InputError]) -> str:
    """Name every file of ``errors`` with its format, so that one rerun after
    fixing them all reads every file."""
    named = ", ".join(
        f"{error.path!r} ({UNREAD_FORMAT_LABELS[error.reason]})" for error in errors
    )
    verb = Counted(len(errors), "file is", "files are")
    return f"{verb} in a format that h056hunt does not read: {named}"


def _unread_formats_hint(errors: Sequence[InputError]) -> str:
    """Join the hints of ``errors``, each once, after the formats it fits."""
    formats: dict[str, list[str]] = {}
    for error in errors:
        labels = formats.setdefault(str(error.hint), [])
        label = UNREAD_FORMAT_LABELS[error.reason]
        if label not in labels:
            labels.append(label)
    return "; ".join(f"{', '.join(labels)}: {hint}" for hint, labels in formats.items())


def _special_file_kind(path: Path) -> str | None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISFIFO, "named pipe"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "character device"),
        (stat.S_ISBLK, "block device"),
    ):
        if test(mode):
            return name
    return "special file"


def read_bytes(
    path: Path,
    display: str,
    *,
    max_decompressed_bytes: int = DEFAULT_MAX_DECOMPRESSED_BYTES,
) -> bytes:
    """Read a file, decompressing gzip content whatever the file is called.

    Raises:
        InputError: the file cannot be read, the gzip stream is corrupt, or it expands
            past ``max_decompressed_bytes``.
    """
    try:
        with path.open("rb") as handle:
            magic = handle.read(ARCHIVE_HEAD_BYTES)
            handle.seek(0)
            reject_archive(magic, display)
            if magic[:2] != GZIP_MAGIC:
                return handle.read()
            return _gunzip(handle, display, max_decompressed_bytes)
    except OSError as error:
        raise InputError(
            display, f"cannot read file: {error.strerror or error}", reason="unreadable"
        ) from error


def reject_archive(head: bytes, display: str) -> None:
    """Raise InputError when ``head``, a file's first :data:`ARCHIVE_HEAD_BYTES`
    bytes, starts an archive, a Parquet file or a compression format other than
    gzip.

    Read as text, such a file fails at its first compressed byte with a message
    about UTF-8, or passes as a CSV of binary rows. Neither message suggests
    extracting or decompressing it.
    """
    if head[:4] in ZIP_MAGICS:
        _reject_archive_kind(display, "zip")
    if head.startswith(SEVEN_ZIP_MAGIC):
        _reject_archive_kind(display, "7z")
    if _starts_tar_archive(head):
        _reject_archive_kind(display, "tar")
    if head[:4] == PARQUET_MAGIC:
        raise InputError(
            display,
            "the file is Parquet, which h056hunt reads only as a whole folder "
            "written by h056 convert",
            reason="parquet_file",
            hint=f"give the folder that holds {PARQUET_MANIFEST_NAME} (the --out "
            "folder of h056 convert) instead of a file inside it",
        )
    compression = None
    if head.startswith(BZIP2_MAGIC) and head[3:4].isdigit() and head[3:4] != b"0":
        compression = "bzip2"
    for magic, name in OTHER_COMPRESSION_MAGICS:
        if head.startswith(magic):
            compression = name
    if compression is not None:
        raise InputError(
            display,
            f"the file is {compression}-compressed, which h056hunt does not read",
            reason=f"{compression}_file",
            hint="decompress it, or compress it with gzip instead, and give that file",
        )


def _starts_tar_archive(head: bytes) -> bool:
    """Tell whether ``head`` starts with a tar header block.

    A text export can contain "ustar" at offset 257, as in a display name such as
    "Gustarsson". A user who sets their own display name can also put a matching
    checksum at offset 148. So the magic must include its NUL byte, which no
    export's text has, and the checksum must match too.
    """
    if len(head) < TAR_BLOCK_BYTES:
        return False
    magic = head[TAR_MAGIC_OFFSET : TAR_MAGIC_OFFSET + len(TAR_MAGICS[0])]
    if magic not in TAR_MAGICS:
        return False
    field = head[TAR_CHECKSUM_FIELD].strip(b" \x00")
    if not field or not all(0x30 <= byte <= 0x37 for byte in field):
        return False
    # The checksum adds every byte of the block, with its own field read as spaces.
    block = head[:TAR_BLOCK_BYTES]
    field_width = TAR_CHECKSUM_FIELD.stop - TAR_CHECKSUM_FIELD.start
    computed = sum(block) - sum(block[TAR_CHECKSUM_FIELD]) + field_width * ord(" ")
    return int(field, 8) == computed


def _reject_archive_kind(display: str, kind: str) -> None:
    """Raise the InputError for an archive of ``kind``, such as ``zip``."""
    raise InputError(
        display,
        f"the file is a {kind} archive, which h056hunt does not read",
        reason=f"{kind}_archive",
        hint="extract it and give the files inside",
    )


def _gunzip(handle: BinaryIO, display: str, limit: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    try:
        with gzip.GzipFile(fileobj=handle, mode="rb") as stream:
            while chunk := stream.read(_READ_CHUNK_BYTES):
                total += len(chunk)
                if total > limit:
                    raise InputError(
                        display,
                        "gzip content expands past the limit of "
                        f"{Counted(limit, 'byte')}",
                        reason="decompression_limit",
                        hint="raise --max-decompressed-size if the file is trusted",
                    )
                chunks.append(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(
            display,
            f"corrupt or truncated gzip data: {error}",
            reason="corrupt_gzip",
            hint="re-download or re-compress the file",
        ) from error
    return b"".join(chunks)


def utf16_without_mark(head: bytes) -> str | None:
    """Return "utf-16-le" or "utf-16-be" when ``head``, a file's first bytes, is
    UTF-16 text without a byte order mark; else None.

    Exports start with ASCII characters (a bracket, a quote or a header name), so
    in UTF-16 every second byte of their start is zero, and no other byte is.
    """
    probe = head[: min(len(head), UTF16_PROBE_BYTES) // 2 * 2]
    if len(probe) < 4 or probe[:2] in UTF16_MARKS:
        return None
    low, high = probe[0::2], probe[1::2]
    if not high.strip(b"\x00") and low.isascii() and b"\x00" not in low:
        return "utf-16-le"
    if not low.strip(b"\x00") and high.isascii() and b"\x00" not in high:
        return "utf-16-be"
    return None


def decode_text(data: bytes, display: str, *, strict: bool = True) -> str:
    """Decode bytes as UTF-16 when a UTF-16 byte order mark starts them or they
    start like UTF-16 text without one (:func:`utf16_without_mark`), else UTF-8.

    A UTF-8 byte order mark is removed. In lenient mode invalid bytes become U+FFFD and
    a warning names the first one.

    Raises:
        InputError: strict mode and the bytes are not valid in the detected encoding,
            or the text holds NUL characters.
    """
    has_utf16_mark = data[:2] in UTF16_MARKS
    encoding = "utf-16" if has_utf16_mark else utf16_without_mark(data) or "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        name = encoding.removesuffix("-sig").upper()[:6]
        message = f"invalid {name} byte at offset {error.start}"
        if strict:
            raise InputError(
                display,
                message,
                reason="invalid_encoding",
                line=line,
                hint="re-export as UTF-8, or rerun with --lenient to replace bad bytes",
            ) from error
        logger.warning("%s, line %d: %s; replaced with U+FFFD", display, line, message)
        text = data.decode(encoding, errors="replace")
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00")) + 1
        if strict:
            raise InputError(
                display,
                "NUL character in text: the file is binary or truncated",
                reason="nul_byte",
                line=line,
                hint="check that this is a log export; rerun with --lenient to drop "
                "NUL characters",
            )
        logger.warning("%s, line %d: NUL characters removed", display, line)
        text = text.replace("\x00", "")
    return text
