"""The `.graphnet` container: a zip of stored members and a manifest of their sha256.

Writing is atomic: a temporary file beside the target, fsync, then `os.replace`, so an
interrupted save never leaves a half-written file where a good one was. Reading checks the
zip structure, the format version and every member's checksum before anything is parsed;
arrays are `.npy` members read without pickle (an object dtype is refused outright).
Each member is read into its own 64-byte aligned buffer (and `.npy` headers are multiples
of 64 bytes), so `jax.device_put` adopts the arrays without a copy; the writer also pads
members to 64-byte file offsets, for readers that map the file.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
import stat
import struct
import zipfile
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .atomic import atomic_write

FORMAT = "graphnet"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
ALIGN = 64
_CHUNK = 16 << 20
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")     # zip local file header, 30 bytes
_PAD_EXTRA_ID = 0xD935                             # the alignment extra field (zipalign)
_BACKGROUND_BYTES = 4 << 20                         # smaller files: read in line
_FIXED_DATE = (1980, 1, 1, 0, 0, 0)                # same model, same bytes

# dtypes an array member may hold: plain numbers only, by name (never a parsed descr).
_NUMPY_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
                 "uint64", "float16", "float32", "float64", "complex64", "complex128"}
_ML_DTYPES = {"bfloat16", "float8_e4m3fn", "float8_e5m2", "float8_e4m3b11fnuz",
              "float8_e4m3fnuz", "float8_e5m2fnuz", "int4", "uint4"}


class FileFormatError(ValueError):
    """A file that is not a readable graphnet file: truncated, altered, foreign or too new.

    Examples:
        >>> import os, tempfile; folder = tempfile.mkdtemp()
        >>> path = os.path.join(folder, "broken.graphnet")
        >>> _ = open(path, "wb").write(b"not a model")
        >>> try:
        ...     graphnet.load_model(path)
        ... except graphnet.saving.FileFormatError as error:
        ...     print(type(error).__name__)
        ...
        FileFormatError
    """


def dtype_from_name(name, who: str) -> np.dtype:
    """A dtype from its name in a file's index, from a fixed list of numeric dtypes."""
    if not isinstance(name, str):
        raise FileFormatError(f"{who}: dtype must be a dtype name, found {name!r}")
    if name in _NUMPY_DTYPES:
        return np.dtype(name)
    if name in _ML_DTYPES:
        import ml_dtypes
        return np.dtype(getattr(ml_dtypes, name))
    raise FileFormatError(f"{who}: dtype {name!r} is not a numeric dtype graphnet stores")


def _storage_view(array: np.ndarray) -> np.ndarray:
    """Standard dtypes as they are; ml_dtypes (bfloat16, ...) as unsigned ints of their
    width, since `.npy` headers cannot name them (the index keeps the real name)."""
    if array.dtype.name in _NUMPY_DTYPES:
        return array
    return array.view(f"u{array.dtype.itemsize}")


# ---- writing ---------------------------------------------------------------------------
class ArchiveWriter:
    """Adds members to an open zip and records each one's sha256 for the manifest."""

    def __init__(self, zf: zipfile.ZipFile):
        self._zf = zf
        self._members: dict[str, dict] = {}

    def _write(self, name: str, chunks, size: int, align_at: int | None = None) -> None:
        """`align_at`: the offset inside the member that must land on a 64-byte file offset."""
        if name in self._members or name == MANIFEST:
            raise ValueError(f"archive member {name!r} written twice")
        zinfo = zipfile.ZipInfo(name, date_time=_FIXED_DATE)
        zinfo.compress_type = zipfile.ZIP_STORED
        zinfo.external_attr = 0o644 << 16
        zinfo.file_size = size
        if align_at is not None:
            zip64 = 20 if size * 1.05 > zipfile.ZIP64_LIMIT else 0     # as zipfile decides
            fixed = self._zf.start_dir + _LOCAL_HEADER.size + len(name.encode()) + 4 + zip64
            pad = (-(fixed + align_at)) % ALIGN
            zinfo.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + bytes(pad)
        digest, written = hashlib.sha256(), 0
        with self._zf.open(zinfo, "w") as out:
            for chunk in chunks:
                out.write(chunk)
                digest.update(chunk)
                written += len(chunk)
        if written != size:
            raise RuntimeError(f"archive member {name!r}: wrote {written} bytes, expected {size}")
        self._members[name] = {"sha256": digest.hexdigest(), "size": size}

    def add_json(self, name: str, obj) -> None:
        data = json.dumps(obj, indent=1, default=json_default).encode("utf-8")
        self._write(name, [data], len(data))

    def add_array(self, name: str, array) -> dict:
        """Writes one `.npy` member; returns its index entry (dtype name and shape)."""
        array = np.asarray(array, order="C")          # (ascontiguousarray makes 0-d 1-d)
        if array.dtype.name not in _NUMPY_DTYPES | _ML_DTYPES:
            raise TypeError(f"cannot save an array of dtype {array.dtype} ({name}): graphnet "
                            f"stores numeric arrays only")
        stored = _storage_view(array)
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, np.lib.format.header_data_from_array_1_0(stored))
        header = header.getvalue()
        data = memoryview(stored.reshape(-1)).cast("B") if stored.size else memoryview(b"")
        chunks = [header] + [data[i:i + _CHUNK] for i in range(0, len(data), _CHUNK)]
        self._write(name, chunks, len(header) + len(data), align_at=len(header))
        return {"member": name, "dtype": array.dtype.name, "shape": list(array.shape)}

    def finish(self, kind: str) -> None:
        from ..version import __version__
        manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "kind": kind,
                    "graphnet_version": __version__, "members": self._members}
        zinfo = zipfile.ZipInfo(MANIFEST, date_time=_FIXED_DATE)
        zinfo.external_attr = 0o644 << 16
        self._zf.writestr(zinfo, json.dumps(manifest, indent=1).encode("utf-8"))


MAX_JSON_DEPTH = 64
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(r"[\[\]{}]")


def parse_json(data: bytes, error):
    """JSON from a file, nested at most MAX_JSON_DEPTH deep; `error(what)` builds the
    exception for text that is not UTF-8, not JSON, or nested too deep."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise error(f"is not UTF-8 text ({err})") from None
    depth = 0
    for bracket in _BRACKETS.finditer(_STRINGS.sub("", text)):   # before parsing
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise error(f"is nested more than {MAX_JSON_DEPTH} levels deep; no graphnet "
                        f"file is, so it is refused")
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError, ValueError) as err:
        raise error(f"is not valid JSON ({err})") from None


def json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"{obj!r} ({type(obj).__name__}) cannot be written to a graphnet file's "
                    f"JSON; configs hold strings, numbers, lists and dicts")


def write_archive(path, kind: str, fill, overwrite: bool = True) -> None:
    """Writes `fill(writer)`'s members and the manifest to `path`, atomically."""
    def write(f):
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            writer = ArchiveWriter(zf)
            fill(writer)
            writer.finish(kind)
    atomic_write(path, write, overwrite)


def write_archive_bytes(path, fill, overwrite: bool = True, raw: bool = False) -> None:
    """A foreign format written atomically: `fill(zipfile)` for a zip, or `fill(file)`."""
    def write(f):
        if raw:
            fill(f)
            return
        with zipfile.ZipFile(f, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
            fill(zf)
    atomic_write(path, write, overwrite)


# ---- reading ---------------------------------------------------------------------------
def _aligned_empty(size: int) -> np.ndarray:
    """`size` uninitialized bytes on a 64-byte boundary, which jax adopts without a copy."""
    raw = np.empty(size + ALIGN, np.uint8)
    start = (-raw.ctypes.data) % ALIGN
    return raw[start:start + size]


def file_error(path, what) -> FileFormatError:
    return FileFormatError(f"Cannot load {path!r}: {what}")


class Archive:
    """A graphnet file being read: each member into its own 64-byte aligned buffer.

    JSON members are read and checked when the file is opened; array members are read and
    hashed on a thread pool (os.pread and hashlib release the GIL) while the caller rebuilds
    the model, and `array()` or `verify()` wait for them. Use it as a context manager.
    """

    def __init__(self, path: str, f, spans: dict):
        self.path = path
        self._file = f
        self._spans = spans
        self._data: dict = {}
        self._pool = None
        self._pending: dict = {}
        self.manifest: dict = {}
        self.kind = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._file.close()

    def error(self, what: str) -> FileFormatError:
        return file_error(self.path, what)

    @property
    def names(self) -> list:
        return list(self._spans)

    def stored_bytes(self, prefix: str) -> int:
        """The bytes of the members whose names start with `prefix`."""
        return sum(size for name, (_, size) in self._spans.items() if name.startswith(prefix))

    def __contains__(self, name) -> bool:
        return name in self._spans

    # -- reading and checking members --
    def _read(self, name: str, digest=None) -> np.ndarray:
        """A member's bytes; one buffer per member, so arrays pin only their own member."""
        start, size = self._spans[name]
        buffer = _aligned_empty(size)
        view = memoryview(buffer)
        for at in range(0, size, _CHUNK):
            chunk = view[at:at + _CHUNK]
            done = 0
            while done < len(chunk):
                n = _pread(self._file, chunk[done:], start + at + done)
                if not n:
                    raise self.error("it was truncated while being read")
                done += n
            if digest is not None:
                digest.update(chunk)          # while the chunk is still in cache
        return buffer

    def _load_member(self, name: str, expected: dict) -> None:
        digest = hashlib.sha256()
        buffer = self._read(name, digest)
        if buffer.size != expected["size"] or digest.hexdigest() != expected["sha256"]:
            raise self.error(f"member {name!r} fails its checksum: the file was altered or "
                             f"damaged")
        self._data[name] = buffer

    def open(self) -> None:
        """Reads and checks the manifest: done once, by `read_archive` / `open_archive`."""
        if MANIFEST not in self._spans:
            raise self.error("it is not a graphnet file (no manifest.json)")
        raw = self._read(MANIFEST)
        del self._spans[MANIFEST]
        manifest = parse_json(raw.tobytes(), lambda what: self.error(
            f"its manifest.json {what}: the file is damaged"))
        _check_manifest(self.path, manifest)
        self.manifest, self.kind = manifest, manifest.get("kind")
        listed = manifest["members"]
        for name in self._spans:
            if name not in listed:
                raise self.error(f"it has a member {name!r} that its manifest does not list: "
                                 f"the file was altered")
        for name in listed:
            if name not in self._spans:
                raise self.error(f"missing member {name!r}: the file is incomplete or was altered")
        later = [n for n in self._spans if not n.endswith(".json")]
        for name in self._spans:
            if name.endswith(".json"):
                self._load_member(name, listed[name])
        if sum(self._spans[n][1] for n in later) >= _BACKGROUND_BYTES:
            self._pool = ThreadPoolExecutor(min(4, os.cpu_count() or 1))
            self._pending = {n: self._pool.submit(self._load_member, n, listed[n]) for n in later}
        else:
            for name in later:
                self._load_member(name, listed[name])

    def _ready(self, name: str) -> None:
        future = self._pending.pop(name, None)
        if future is not None:
            future.result()

    def verify(self) -> None:
        """Waits until every member is read and checked; raises the first failure."""
        for name in list(self._pending):
            self._ready(name)

    def _bytes(self, name: str, who: str = "") -> np.ndarray:
        if name not in self._spans:
            raise self.error(f"missing member {name!r}{who}: the file is incomplete or was altered")
        self._ready(name)
        return self._data[name]

    # -- parsing --
    def json(self, name: str):
        return parse_json(self._bytes(name).tobytes(), lambda what: self.error(
            f"member {name!r} {what}"))

    def array(self, name: str, dtype_name, shape, who: str = "") -> np.ndarray:
        """The `.npy` member `name` as a view into the file's buffer (no pickle, no copy)."""
        if not isinstance(name, str):
            raise self.error(f"an array entry{who} names no member")
        buffer = self._bytes(name, who)
        size = buffer.size
        dtype = dtype_from_name(dtype_name, f"{self.path!r} member {name!r}{who}")
        fp = io.BytesIO(buffer[:1 << 16].tobytes())
        try:
            version = np.lib.format.read_magic(fp)
            if version != (1, 0):
                raise ValueError(f"npy format version {version}, expected (1, 0)")
            stored_shape, fortran, stored = np.lib.format.read_array_header_1_0(fp)
        except ValueError as err:
            raise self.error(f"member {name!r}{who} is not a valid .npy array ({err})") from None
        if stored.hasobject:
            raise self.error(f"member {name!r}{who} holds Python objects (pickled data); "
                             f"graphnet files never contain pickles, so it is refused")
        expected_stored = _storage_view(np.zeros(0, dtype)).dtype
        if stored != expected_stored or tuple(stored_shape) != tuple(shape) or fortran:
            raise self.error(f"member {name!r}{who} holds {stored} {tuple(stored_shape)}, its "
                             f"index says {dtype_name} {tuple(shape)}")
        offset = fp.tell()
        count = int(np.prod(shape, dtype=np.int64))
        if size - offset != count * dtype.itemsize:
            raise self.error(f"member {name!r}{who} has {size - offset} bytes of data, "
                             f"{count * dtype.itemsize} expected")
        return np.frombuffer(buffer, dtype, count, offset).reshape(shape)


if hasattr(os, "preadv"):
    def _pread(f, view, offset: int) -> int:
        return os.preadv(f.fileno(), [view], offset)
else:                                             # no positional reads: one reader at a time
    import threading
    _read_lock = threading.Lock()

    def _pread(f, view, offset: int) -> int:
        with _read_lock:
            f.seek(offset)
            return f.readinto(view)


def _member_spans(path, f, size: int) -> dict:
    """Member name -> (data offset, size), from the zip directory, each checked in bounds.

    Every member's local header must agree with the central directory, and the members'
    regions (header and data) may neither overlap nor reach into the directory: so the
    bytes read for all members together never exceed the file's size.
    """
    try:
        with zipfile.ZipFile(f) as zf:
            infos = zf.infolist()
            directory_start = zf.start_dir
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, struct.error, ValueError,
            OverflowError) as err:
        raise file_error(path, f"it is truncated or damaged: its zip directory cannot be read "
                                f"({err})") from None
    spans, regions = {}, []
    for info in infos:
        name = info.filename
        if name in spans:
            raise file_error(path, f"member {name!r} appears twice: the file was altered")
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            raise file_error(path, f"member {name!r} is compressed or encrypted; graphnet "
                                    f"writes stored members only")
        if info.compress_size != info.file_size:
            raise file_error(path, f"member {name!r} is stored with {info.compress_size} "
                                    f"bytes but claims {info.file_size}: the file was altered")
        if not 0 <= info.header_offset <= size - _LOCAL_HEADER.size:
            raise file_error(path, f"it is truncated: member {name!r} is cut off")
        f.seek(info.header_offset)
        header = f.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size:
            raise file_error(path, f"it is truncated: member {name!r} is cut off")
        (signature, _, _, flags, method, _, _, crc, csize, usize, name_len,
         extra_len) = _LOCAL_HEADER.unpack(header)
        if signature != b"PK\x03\x04" or f.read(name_len) != info.orig_filename.encode():
            raise file_error(path, f"member {name!r} has a damaged header: the file was altered")
        sizes_known = not flags & 0x8 and csize != 0xFFFFFFFF and usize != 0xFFFFFFFF
        if (method != info.compress_type or (flags & 0x1) != (info.flag_bits & 0x1)
                or (not flags & 0x8 and crc != info.CRC)
                or (sizes_known and (csize, usize) != (info.compress_size, info.file_size))):
            raise file_error(path, f"member {name!r}: its local header disagrees with the zip "
                                    f"directory (method, checksum or size): the file was "
                                    f"altered or damaged")
        start = info.header_offset + _LOCAL_HEADER.size + name_len + extra_len
        end = start + info.file_size
        if end > size:
            raise file_error(path, f"it is truncated: member {name!r} claims {info.file_size} "
                                    f"bytes, more than the file holds")
        spans[name] = (start, info.file_size)
        regions.append((info.header_offset, end, name))
    regions.sort()
    for (_, end, name), (start, _, other) in zip(regions, regions[1:]):
        if start < end:
            raise file_error(path, f"members {name!r} and {other!r} overlap: the file was "
                                    f"crafted or damaged (each member must have its own bytes)")
    if regions and regions[-1][1] > directory_start:
        raise file_error(path, f"member {regions[-1][2]!r} overlaps the zip directory: the "
                                f"file was crafted or damaged")
    return spans


def _check_manifest(path, manifest) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise file_error(path, "it is not a graphnet file (its manifest does not name the "
                                "graphnet format)")
    version = manifest.get("format_version")
    if not isinstance(version, int) or version < 1:
        raise file_error(path, f"its manifest has no valid format_version ({version!r})")
    if version > FORMAT_VERSION:
        raise file_error(path, f"it was written in graphnet file format version {version}, "
                                f"newer than this graphnet reads ({FORMAT_VERSION}): upgrade "
                                f"graphnet to load it")
    members = manifest.get("members")
    if not isinstance(members, dict) or not all(
            isinstance(m, dict) and isinstance(m.get("sha256"), str) and isinstance(m.get("size"), int)
            for m in members.values()):
        raise file_error(path, "its manifest has no valid member list")


def open_regular_file(path, what: str = "graphnet file"):
    """`open(path, "rb")` for regular files only: a named pipe, device or directory is
    refused at once (reading one would hang or never end)."""
    path = os.fspath(path)
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except IsADirectoryError:
        raise IsADirectoryError(f"Cannot load {path!r}: it is a directory, not a {what}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(f"Cannot load {path!r}: it is a directory, not a {what}")
        raise FileFormatError(f"Cannot load {path!r}: it is not a regular file (a named pipe, "
                              f"socket or device), so it is not a {what}")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def open_archive(path) -> Archive:
    """Opens a graphnet file, checks its structure and manifest; members are checked as
    they are read. Every error names the file and what is wrong."""
    path = os.fspath(path)
    f = open_regular_file(path)
    try:
        size = os.fstat(f.fileno()).st_size
        magic = f.read(4)
        if magic != b"PK\x03\x04":
            hint = (" (it looks like a pickle, which graphnet never loads)"
                    if magic[:1] == b"\x80" else "")
            raise file_error(path, f"it is not a graphnet file{hint}" if size else "it is empty")
        archive = Archive(path, f, _member_spans(path, f, size))
        archive.open()
        return archive
    except BaseException:
        f.close()
        raise


def read_archive(path) -> Archive:
    """Opens a graphnet file and waits until every member is read and checked."""
    archive = open_archive(path)
    try:
        archive.verify()
    finally:
        archive.close()
    return archive
