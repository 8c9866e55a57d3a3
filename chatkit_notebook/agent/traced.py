"""Traced numbers: which numbers in an answer come from something the turn read or computed.

A plausible wrong number is the main risk of chatting with data. After a turn, every
number its answer states is looked for among the numbers of what the turn saw: the tool
results (previews, ``preview_rows``, ``run_python``'s output, ``query`` results) and the
question. A number is *traced* when one of them equals it within the rounding it is
written with: ``1,234`` matches 1,233.5 to 1,234.99 (rounded or cut), ``1.2M`` matches
1,234,567, ``1,200`` matches 1,150 to 1,250 (its zeros say hundreds), ``12.3%`` matches
12.34 or 0.1234. Signs are ignored ("fell by 5%" and -0.05).

Not checked, so never flagged: years (1900-2100 written bare), list numbering, dates and
times, ordinals (``3rd``), numbers inside words or names (``Q3``, ``col2``), numbers in
code, and numbers the question itself holds. What is left untraced is not necessarily
wrong (the model may have added two numbers up in its head), only not found: the mark
says exactly that.

ChatKit's annotations (``Annotation`` with an ``EntitySource``) are citations: a client
lists each as a source of the answer. An untraced number has no source to cite, and
citing every traced number would list a dozen sources under each answer, so the numbers'
check goes into the turn's receipt instead (:func:`~chatkit_notebook._items.numbers_task`);
the variables an answer read *are* its sources and go into annotations (``sources.py``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

__all__ = ["Number", "NumberTrace", "numbers_in", "trace"]

_NUMBER = re.compile(
    r"""
    (?<![\w.$€£%/:-])                 # not inside a word, a path, a version or a range
    (?P<sign>[-\u2212])?
    (?P<currency>[$€£])?
    (?P<body>\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+)
    (?:\s?(?P<suffix>k|K|M|B|bn|million|billion|thousand)\b)?
    (?P<percent>\s?%|\s?percent\b)?
    (?![\w]|\.\d)                      # not followed by letters (3rd, 5kg) or more digits
    """,
    re.VERBOSE,
)
_SCALE = {
    "k": 1e3,
    "K": 1e3,
    "thousand": 1e3,
    "M": 1e6,
    "million": 1e6,
    "B": 1e9,
    "bn": 1e9,
    "billion": 1e9,
}
_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.DOTALL | re.MULTILINE)
_INLINE_CODE = re.compile(r"(`+)[^`]*?\1")
_DATE = re.compile(
    r"\b\d{4}-\d{1,2}(?:-\d{1,2})?(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\b"
    r"|\b\d{1,2}/\d{1,2}/\d{2,4}\b|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
_LIST_NUMBER = re.compile(r"^[ \t>]*\d{1,3}[.)](?=\s)", re.MULTILINE)
_SOURCE_NUMBER = re.compile(r"-?\d{1,3}(?:,\d{3})+(?:\.\d+)?|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")


@dataclass(frozen=True)
class Number:
    """A number as an answer writes it."""

    text: str  # as written, what the panel marks ("1,234", "12.3%")
    value: float  # what it says, suffixes applied, sign dropped
    below: float  # how far under it a source may be and still be written so (rounded up)
    above: float  # how far over (rounded down, or cut)
    percent: bool

    def matches(self, source: float) -> bool:
        """Whether ``source`` (sign dropped) is this number, within its written rounding."""
        if self._near(source):
            return True
        return self.percent and self._near(source * 100)

    def _near(self, source: float) -> bool:
        return -self.below <= source - self.value < self.above


@dataclass
class NumberTrace:
    """The outcome for one turn: how many numbers were checked, and which were not found."""

    checked: int = 0
    untraced: list[str] = field(default_factory=list)

    @property
    def traced(self) -> int:
        return self.checked - len(self.untraced)

    def line(self) -> str:
        """The receipt's line: "14 numbers: 13 traced, 1 not"."""
        noun = "number" if self.checked == 1 else "numbers"
        return f"{self.checked} {noun}: {self.traced} traced, {len(self.untraced)} not"


def numbers_in(text: str) -> list[Number]:
    """The numbers of an answer that are checked (see the module docstring for what is not)."""
    prose = _mask(text)
    found = []
    for match in _NUMBER.finditer(prose):
        number = _number(match)
        if number is not None:
            found.append(number)
    return found


def trace(answers: Iterable[str], sources: Iterable[str], question: str = "") -> NumberTrace:
    """Check the numbers of ``answers`` against the numbers in ``sources`` and the question."""
    seen = sorted(abs(value) for text in sources for value in _source_numbers(text))
    asked = [number.value for number in numbers_in(question)]
    asked += [abs(value) for value in _source_numbers(question)]
    result = NumberTrace()
    for answer in answers:
        for number in numbers_in(answer):
            if any(number.matches(value) or value == number.value for value in asked):
                continue  # the question's own numbers are not the answer's claims
            result.checked += 1
            if not _found(number, seen) and number.text not in result.untraced:
                result.untraced.append(number.text)
    return result


def _found(number: Number, seen: list[float]) -> bool:
    """Whether a source number lies within the number's reach (and, for a percentage,
    its fraction's: 12.3% is 0.123)."""
    windows = [(number.value, 1.0)]
    if number.percent:
        windows.append((number.value / 100, 0.01))
    for centre, scale in windows:
        start = bisect.bisect_left(seen, centre - number.below * scale)
        if start < len(seen) and seen[start] < centre + number.above * scale:
            return True
    return False


def _mask(text: str) -> str:
    """``text`` with what is never checked blanked out (same length, so offsets hold)."""
    for pattern in (_FENCED, _INLINE_CODE, _DATE, _LIST_NUMBER):
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _number(match: re.Match[str]) -> Number | None:
    body = match.group("body")
    suffix = match.group("suffix")
    percent = match.group("percent") is not None
    plain = body.replace(",", "")
    bare = "," not in body and suffix is None and not percent and not match.group("currency")
    if bare and "." not in plain and len(plain) == 4 and 1900 <= int(plain) <= 2100:
        return None  # a year
    scale = _SCALE.get(suffix, 1.0) if suffix else 1.0
    value = float(plain) * scale
    # A unit of the last place written: a source rounds to it (half a unit either way) or
    # is cut to it (up to a unit over). Trailing zeros of a whole number are its place too
    # ("1,200": hundreds), and such a number is only ever rounded.
    if "." in plain:
        unit = 10.0 ** -len(plain.split(".")[1]) * scale
        below, above = unit / 2, unit
    else:
        zeros = len(plain) - len(plain.rstrip("0")) if plain.strip("0") else 0
        unit = 10.0**zeros * scale
        below, above = unit / 2, (unit / 2 if zeros else unit)
    text = match.group(0).lstrip("-\u2212").strip()
    return Number(text=text, value=value, below=below, above=above * 0.999999, percent=percent)


def _source_numbers(text: str) -> Iterable[float]:
    """Every number a source holds, as JSON or as printed output (``1,234`` too)."""
    for match in _SOURCE_NUMBER.finditer(text):
        try:
            yield float(match.group(0).replace(",", ""))
        except ValueError:
            continue
