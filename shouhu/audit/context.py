"""Who is acting, from where: set once per request (or command) and read by the audit log."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    source: str = "system"  # web / api / command / system


_current: ContextVar[AuditContext] = ContextVar("shouhu_audit_context", default=AuditContext())  # noqa: B039 (frozen)


def current() -> AuditContext:
    return _current.get()


def set_context(ctx: AuditContext) -> object:
    return _current.set(ctx)


def reset_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
