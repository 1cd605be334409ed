"""What `shouhu keys` and `shouhu handoff` share: errors as one clear line with exit code
2, the acting user, the audit context of a command, and writing a file atomically."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from shouhu.accounts.models import User
from shouhu.audit import context

INPUT_ERROR = 2


def fail(message: str) -> CommandError:
    return CommandError(" ".join(message.split()), returncode=INPUT_ERROR)


def one_line(exc: ValidationError) -> str:
    """A service's refusal on one line, naming the field where there is one."""
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}"
            for name, messages in exc.message_dict.items()
        )
    return " ".join(str(m) for m in exc.messages)


def user_named(username: str) -> User:
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise fail(f"No active user {username!r}.")
    return user


@contextmanager
def as_command() -> Iterator[None]:
    token = context.set_context(context.AuditContext(source="command"))
    try:
        yield
    finally:
        context.reset_context(token)


def write_atomically(path: Path, content: bytes) -> None:
    """A temporary file beside the target, then a rename: never a partial file."""
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise fail(f"No such directory: {directory}")
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as exc:
        raise fail(f"Cannot write {path}: {exc.strerror or exc}.") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(content)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise fail(f"Cannot write {path}: {exc.strerror or exc}.") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise fail(f"Cannot read {path}: {exc.strerror or exc}.") from None
