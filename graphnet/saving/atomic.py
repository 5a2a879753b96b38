"""Writing a file atomically: a temporary file beside the target, locked while it is
written, fsync, then a rename (or a link with `overwrite=False`), so an interrupted save
never leaves a half-written file where a good one was, and the next save to that folder
removes what a killed one left."""
from __future__ import annotations

import os
import re
import stat

try:
    import fcntl
except ImportError:                                # not on Windows: no stale-file cleanup
    fcntl = None


def atomic_write(path, write, overwrite: bool = True) -> None:
    """Runs `write(file)` on a temporary file beside `path`, then puts it in place.

    The temporary is locked while it is written (so a later save can tell a leftover of a
    killed save from a live one and remove it), then fsync and rename. A symlink is
    followed (its target is written); an existing target keeps its permission bits;
    `overwrite=False` links the file into place, which fails if anything appeared at
    `path` meanwhile.
    """
    path = _resolve_target(os.fspath(path))
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {path!r}: it is a directory")
    if not overwrite and os.path.lexists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot save to {path!r}: directory {directory!r} does not exist")
    remove_stale_temporaries(directory)
    tmp, fd = _create_temporary(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as f:
            _keep_mode(path, f.fileno())
            write(f)
            f.flush()
            os.fsync(f.fileno())
            _place(tmp, path, overwrite)       # under the lock: no cleaner takes it
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)


def _resolve_target(path: str) -> str:
    """A symlink's final target (even a dangling one), so saving writes through the link."""
    seen = 0
    while os.path.islink(path):
        target = os.readlink(path)
        path = os.path.join(os.path.dirname(path), target)
        seen += 1
        if seen > 40:
            raise OSError(f"cannot save to {path!r}: too many levels of symbolic links")
    return path


def _keep_mode(path: str, fd: int) -> None:
    """The replaced file's permission bits on the new one (a 0600 file stays 0600)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(mode))


def _place(tmp: str, path: str, overwrite: bool) -> None:
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)                      # fails if `path` exists, atomically
    except FileExistsError:
        raise FileExistsError(f"{path!r} appeared while saving and overwrite=False: the "
                              f"new file was not written") from None
    except OSError:                             # no hard links here: no-replace rename
        _rename_noreplace(tmp, path)
        return
    os.unlink(tmp)


def _rename_noreplace(tmp: str, path: str) -> None:
    """renameat2(RENAME_NOREPLACE) where the platform has it, else a checked rename."""
    import ctypes
    import errno
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        renameat2 = None
    if renameat2 is not None:
        at_fdcwd, rename_noreplace = -100, 1
        if renameat2(at_fdcwd, os.fsencode(tmp), at_fdcwd, os.fsencode(path),
                     rename_noreplace) == 0:
            return
        err = ctypes.get_errno()
        if err == errno.EEXIST:
            raise FileExistsError(f"{path!r} appeared while saving and overwrite=False: the "
                                  f"new file was not written")
        if err not in (errno.EINVAL, errno.ENOSYS):
            raise OSError(err, os.strerror(err), path)
    if os.path.lexists(path):
        raise FileExistsError(f"{path!r} appeared while saving and overwrite=False")
    os.rename(tmp, path)


_TEMPORARY = re.compile(r"^\..+\.[0-9a-f]{16}\.tmp$")


def _create_temporary(directory: str, base: str):
    """`.<base>.<hex>.tmp`, created exclusively and locked for the whole save."""
    while True:
        tmp = os.path.join(directory, f".{base}.{os.urandom(8).hex()}.tmp")
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        if fcntl is None:
            return tmp, fd
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:                                    # a cleaner may have taken it before the lock
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                return tmp, fd
        except FileNotFoundError:
            pass
        os.close(fd)


def remove_stale_temporaries(directory: str) -> list:
    """Removes temporaries of killed saves in `directory`: those no live save holds locked."""
    if fcntl is None:
        return []
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        if not _TEMPORARY.match(name):
            continue
        tmp = os.path.join(directory, name)
        try:
            fd = os.open(tmp, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:                     # held: a save in progress
                continue
            if os.stat(tmp).st_ino == os.fstat(fd).st_ino:
                os.unlink(tmp)
                removed.append(tmp)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _fsync_directory(directory: str) -> None:
    """Makes the rename durable; not possible on every platform, so best effort."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
