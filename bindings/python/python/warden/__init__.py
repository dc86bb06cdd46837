"""Warden, the typed policy engine, in-process.

    import warden
    engine = warden.Engine.from_folder("stdlib-policies", data_files=["catalog=catalog.json"])
    decision = engine.decide("request", {"principal": {...}, ...}, now="2026-06-01T00:00:00Z")
    decision["decision"]   # "allow" or "deny", with findings, obligations, ...

Decisions are the decision JSON every Warden entry point gives (the CLI,
the HTTP server, the Rust library), as Python dicts. An engine is
immutable and safe to share between threads; deciding releases the GIL.
"""

from __future__ import annotations

import datetime as _datetime
import json as _json
import os as _os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _native

__all__ = ["Engine", "WardenError", "CompileError", "__version__"]
__version__: str = _native.__version__

PathLike = Union[str, "_os.PathLike[str]"]
Now = Union[str, _datetime.datetime, None]


class WardenError(Exception):
    """An error from the engine, with its permanent code (`E0404`, ...)
    when it has one (`warden explain CODE` explains it)."""

    def __init__(self, message: str, code: Optional[str] = None,
                 diagnostics: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(f"[{code}] {message}" if code else message)
        self.message = message
        self.code = code
        self.diagnostics: List[Dict[str, Any]] = diagnostics or []


class CompileError(WardenError):
    """The policies do not compile: `diagnostics` holds every diagnostic,
    errors and warnings, each with its `code`, `severity`, `message`,
    `file`, `line`, `column` and `help` where there is one."""


def _raise(error: Exception) -> "NoReturn":  # type: ignore[name-defined]
    code, message, diagnostics = error.args
    found = _json.loads(diagnostics)
    kind = CompileError if found else WardenError
    raise kind(message, code, found) from None


def _dumps(value: Any) -> str:
    """JSON text of `value`; NaN and infinities are no JSON, and say so."""
    try:
        return _json.dumps(value, allow_nan=False)
    except ValueError as error:
        raise ValueError(f"not a JSON value: {error}") from None


def _now(now: Now) -> Optional[str]:
    if now is None or isinstance(now, str):
        return now
    # Aware means an offset, not merely a tzinfo (one may answer None).
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now: give an aware datetime (with tzinfo), e.g. datetime.now(timezone.utc)")
    return now.astimezone(_datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class Engine:
    """A compiled policy set and its data."""

    __slots__ = ("_native",)

    def __init__(self, native: "_native.NativeEngine") -> None:
        self._native = native

    @classmethod
    def from_folder(cls, path: Union[PathLike, Sequence[PathLike]], data: Optional[Mapping[str, Any]] = None,
                    data_files: Iterable[str] = ()) -> "Engine":
        """Compiles the `*.warden` files under `path` (a folder or a file, or
        a list of them: a set composed of several folders). `data` is merged
        into the data documents (`{"catalog": {...}}` becomes `data.catalog`);
        `data_files` are read as the CLI's `--data` reads them (`FILE`, whose
        top-level object is merged, or `NAME=FILE`). Raises `CompileError`
        with the coded diagnostics when the policies do not compile."""
        paths = [path] if isinstance(path, (str, _os.PathLike)) else list(path)
        if not paths:
            raise ValueError("path: give a policy folder or file")
        if isinstance(data_files, (str, _os.PathLike)):
            data_files = [data_files]
        documents = [] if data is None else [_dumps(data)]
        try:
            native = _native.NativeEngine.compile(
                [_os.fspath(p) for p in paths], documents, [_os.fspath(f) for f in data_files])
        except _native.NativeError as error:
            _raise(error)
        return cls(native)

    def decide(self, target: str, input: Any, now: Now = None, explain: bool = False,
               budget: Optional[int] = None) -> Dict[str, Any]:
        """Decides `input` (any JSON value) against `target` at `now` (RFC 3339
        text or an aware datetime; default: the current time): the decision.
        `explain` records the sub-expressions that decided each finding;
        `budget` bounds the evaluation steps (a decision out of budget is a
        denial with an E0501 finding)."""
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int) or budget < 0):
            raise ValueError("budget: give a number of evaluation steps (an int, 0 or more)")
        try:
            text = self._native.decide(target, _dumps(input), _now(now), explain, budget)
        except _native.NativeError as error:
            _raise(error)
        return _json.loads(text)

    def check(self, manifest_path: PathLike, now: Now = None) -> Dict[str, Any]:
        """Decides a manifest file (YAML or JSON) against the `manifest` target,
        as `warden check` does: the decision."""
        try:
            text = self._native.check(_os.fspath(manifest_path), _now(now))
        except _native.NativeError as error:
            _raise(error)
        return _json.loads(text)

    def run_tests(self, filter: Optional[str] = None) -> Dict[str, Any]:
        """Runs the policy set's `test` blocks (those whose name contains
        `filter`): `{"tests": [...], "summary": {"total", "passed", "failed",
        "errors"}, "coverage": {...}}`."""
        return _json.loads(self._native.run_tests(filter))

    @property
    def warnings(self) -> List[Dict[str, Any]]:
        """The compile's warnings: lints (`W0001`...) with their places, and
        each file of the folder left out (`W0006`: not a regular file, a
        link out of the folder, a name that is not UTF-8)."""
        return _json.loads(self._native.warnings)

    @property
    def revision(self) -> str:
        """The policy sources' revision, as decisions carry it (`sha256:…`)."""
        return self._native.revision

    def targets(self) -> List[Dict[str, Any]]:
        """The targets: `[{"name": ..., "default_allow": ...}]`."""
        return _json.loads(self._native.targets())

    def rules(self) -> List[Dict[str, Any]]:
        """Every rule: name, target, severity, control, documentation, location."""
        return _json.loads(self._native.rules())
