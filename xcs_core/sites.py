"""Call sites: where in the user's code an operation happened.

``user_frame()`` is the innermost frame outside the xcs packages, whose
``file:line`` names the call site in reports and error messages.  Nothing here
decides what runs when: that is known from the compiled source
(``xcs_core.compiler``).
"""

from __future__ import annotations

import os
import sys
from types import FrameType

__all__ = ["Site", "format_site", "short_path", "site_of", "user_frame"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_EXAMPLES = _PACKAGE + "examples" + os.sep


_internal_files: dict[str, bool] = {}


def _internal(filename: str) -> bool:
    """True for xcs's own files (its shipped examples excepted); cached per file name."""
    found = _internal_files.get(filename)
    if found is None:
        found = _internal_files[filename] = (filename.startswith(_PACKAGE)
                                             and not filename.startswith(_EXAMPLES))
    return found


def user_frame(depth: int = 1) -> FrameType | None:
    """The innermost caller frame that is not xcs code (``None`` if there is none)."""
    frame: FrameType | None = sys._getframe(depth)
    internal = _internal_files
    while frame is not None:
        filename = frame.f_code.co_filename
        found = internal.get(filename)
        if found is None:
            found = _internal(filename)
        if not found:
            return frame
        frame = frame.f_back
    return frame


Site = tuple[str, int]


_sites: dict[str, dict[int, Site]] = {}


def site_of(frame: FrameType | None) -> Site | None:
    """The raw ``(filename, line)`` of a frame: cheap enough for every call.  One tuple per
    line of code, shared by every operation made there (a traced loop of 100,000 calls
    would otherwise keep 100,000 equal ones, each an object for the garbage collector)."""
    if frame is None:
        return None
    filename, line = frame.f_code.co_filename, frame.f_lineno
    lines = _sites.get(filename)
    if lines is None:
        lines = _sites[filename] = {}
    site = lines.get(line)
    if site is None:
        site = lines[line] = (filename, line)
    return site


def format_site(where: FrameType | Site | None) -> str:
    """``path:line`` of a frame or raw site, the path relative to the working directory."""
    if where is None:
        return "<unknown>"
    if isinstance(where, tuple):
        return f"{short_path(where[0])}:{where[1]}"
    return f"{short_path(where.f_code.co_filename)}:{where.f_lineno}"


_short: dict[tuple[str, str], str] = {}


def short_path(filename: str) -> str:
    """A path relative to the working directory when that is shorter (cached)."""
    cwd = os.getcwd()
    try:
        return _short[(cwd, filename)]
    except KeyError:
        pass
    try:
        rel = os.path.relpath(filename, cwd)
    except ValueError:  # pragma: no cover - other drive on Windows
        rel = filename
    _short[(cwd, filename)] = result = rel if len(rel) < len(filename) else filename
    return result
