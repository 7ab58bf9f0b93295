"""Files only the service's own user may read: the data directory and what it holds.

``CLAIMWIRE_DATA_DIR`` holds the private Redis's append-only file (every article text),
its password and its log. Whatever the umask of whoever starts ``serve``, directories in
it are 0700 and files 0600: ``serve`` and its Redis run with :data:`PRIVATE_UMASK`, and
:func:`secure_tree` takes from what an earlier start (or another tool) left there every
permission of group and others, and nothing else (a data directory pointed at a folder
of other files leaves them usable by their owner, executables included).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

GROUP_AND_OTHERS = 0o077  # the permission bits that let other users in
PRIVATE_UMASK = GROUP_AND_OTHERS
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def secure_tree(root: str | os.PathLike[str]) -> Path:
    """Create ``root`` if needed and make it and everything under it private; the resolved path.

    Symbolic links are neither followed nor changed.
    """
    path = Path(root)
    path.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    _make_private(path)
    for folder, dirs, files in os.walk(path):
        for name in (*dirs, *files):
            _make_private(Path(folder, name))
    return path.resolve()


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, readable by this user only from its first byte."""
    partial = path.with_name(path.name + ".tmp")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    partial.replace(path)


def _make_private(path: Path) -> None:
    mode = path.lstat().st_mode
    if (stat.S_ISDIR(mode) or stat.S_ISREG(mode)) and mode & GROUP_AND_OTHERS:
        os.chmod(path, stat.S_IMODE(mode) & ~GROUP_AND_OTHERS)
