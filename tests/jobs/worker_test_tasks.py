"""Tasks the worker's tests enqueue (importable by path, as every task must be)."""

from __future__ import annotations

from pathlib import Path

from django.tasks import task

from weishang.core.errors import BusinessError


@task
def fails_until(path: str, failures: int) -> dict:
    """Fail the first ``failures`` calls (counted in the file at ``path``), then succeed."""
    counter = Path(path)
    calls = int(counter.read_text() or 0) + 1 if counter.exists() else 1
    counter.write_text(str(calls))
    if calls <= failures:
        raise ConnectionError(f"call {calls}: the provider did not answer")
    return {"calls": calls}


@task
def refused() -> None:
    raise BusinessError("该期间尚未结束。")
