"""Files shipped inside the package, in ``gancourse/assets/``, each checked against its recorded SHA-256 before use.

``asset_path(name)`` is where a shipped file lives, ``sha256(path)`` the hash of any file, and
``checked(path, expected)`` returns ``path`` once its hash is ``expected``; otherwise it raises one error naming the
file: ``FileNotFoundError`` when it is missing, ``ShippedFileError`` when its contents differ.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

__all__ = ["ShippedFileError", "asset_path", "checked", "sha256"]


class ShippedFileError(RuntimeError):
    """A shipped file whose SHA-256 is not the one recorded for it: corrupt or replaced."""


def asset_path(name: str) -> Path:
    """The path of ``gancourse/assets/<name>`` in the installed package."""
    return Path(str(resources.files("gancourse") / "assets" / name))


def sha256(path: Path) -> str:
    """The SHA-256 of the file at ``path``, as 64 hex digits."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def checked(path: Path, expected: str, remedy: str = "reinstall gancourse") -> Path:
    """``path`` if the file is there and its SHA-256 is ``expected``; else one error naming it and ``remedy``."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {remedy}")
    digest = sha256(path)
    if digest != expected:
        raise ShippedFileError(
            f"{path} has SHA-256 {digest}, expected {expected}: the file is corrupt or replaced; {remedy}"
        )
    return path
