"""Problems of a data set's records, grouped by cause: one problem per field and kind of
fault (a wrong mapping is one problem, however many rows it fails), with the count of rows
affected, the first of them, what the file holds where the path found nothing (keys,
lm-eval metrics, inspect scorers or log-header values, with "did you mean"), and the spec
line of the mapping when no row fits it. A fault of a single row reads as it always did."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING, Any

import numpy as np

from ..problems import Problem, closest, did_you_mean
from ..protocol import ARMS, CONDITIONS
from ..span import Span
from .readers import ReadError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from .columns import FileColumns
    from .formats import RecordFormat
    from .table import SourceFile, _Coded

MISSING, INVALID, UNKNOWN, NOT_NUMBER, NAN, OUTSIDE = 1, 2, 3, 4, 5, 6
ROWS_SHOWN = 3
ROWS_PROBED = 50
_ORDER = ("question_id", "template_id", "subject", "condition", "arm", "correct")


def score_fault(raw: Any, score: float | None) -> int:
    if raw is None or (isinstance(raw, str) and raw == ""):
        return MISSING
    if score is None:
        return NOT_NUMBER
    if math.isnan(score):
        return NAN
    return 0 if 0 <= score <= 1 else OUTSIDE


def row_span(path: str, row: int | str) -> Span:
    if isinstance(row, int):
        return Span(path, row)
    return Span(f"{path}#{row}", 0)


def describe_item(question: str, template: str, arm: int, condition: int) -> str:
    return f"(question {question!r}, template {template!r}, {CONDITIONS[condition]}, {ARMS[arm]})"


class Check:
    """Collects a data set's problems, each with its place in row order."""

    def __init__(
        self,
        sources: list[SourceFile],
        fields: dict[str, str],
        record_format: RecordFormat,
        lm_filter: str | None,
        spans: dict[str, Span],
    ) -> None:
        self.sources = sources
        self.fields = fields
        self.format = record_format
        self.lm_filter = lm_filter
        self.spans = spans
        self.files: dict[int, FileColumns] = {}
        self.problems: list[tuple[tuple[int, int], Problem]] = []
        self.unfiltered: list[tuple[int, list[str]]] = []
        """Files with no sample of the claim's filter, and the filters they hold."""

    def add(self, where: tuple[int, int], problem: Problem) -> None:
        self.problems.append((where, problem))

    def sorted_problems(self) -> list[Problem]:
        return [p for _, p in sorted(self.problems, key=lambda item: item[0])]

    # --- files --------------------------------------------------------------------------

    def file_problem(self, index: int, error: ReadError, after: int = 0) -> None:
        path = self.sources[index].path
        span = row_span(path, error.row) if error.row is not None else Span(path, 1)
        field = self.fields.get(_field_of(self.fields, error.field), error.field)
        self.add((index, after), Problem(str(error), span, "", field))

    def empty(self, index: int) -> None:
        problem = Problem(
            "the record file is empty",
            Span(self.sources[index].path, 1),
            "every declared record file must hold rows",
        )
        self.add((index, 0), problem)

    def filtered(self, index: int, columns: FileColumns) -> NDArray[np.bool_] | None:
        """lm-eval: the rows of the claim's filter (and rows that are not objects, which
        are reported as such); a sample without `filter` is a problem, and so is a file
        with no sample of the claim's filter (one problem for all such files)."""
        if self.lm_filter is None:
            return None
        column = columns.columns["filter"]
        chosen = np.array([v == self.lm_filter for v in column.values], np.bool_)
        absent = np.array([v is None for v in column.values], np.bool_)
        keep = chosen[column.codes] | columns.not_object
        missing = absent[column.codes] & ~columns.not_object
        if missing.any():
            self._missing_filter(index, columns, np.flatnonzero(missing))
        elif columns.rows and not keep.any():
            held = [v for v in column.values if isinstance(v, str)]
            self.unfiltered.append((index, held))
        return keep

    def _missing_filter(self, index: int, columns: FileColumns, rows: NDArray[np.int64]) -> None:
        path = self.sources[index].path
        first = row_span(path, columns.row_id(int(rows[0])))
        count = _count(len(rows), columns.rows)
        summary = "a sample without a `filter` field" + ("" if len(rows) == 1 else f" {count}")
        detail = "remove `filter` from the records block for files that do not record it"
        if len(rows) > 1:
            detail += "; rows: " + _locations(path, columns, rows)
        self.add((index, int(rows[0])), Problem(summary, first, detail, "filter"))

    def filter_problems(self) -> None:
        """One problem for every file that holds no sample of the claim's filter."""
        if not self.unfiltered:
            return
        assert self.lm_filter is not None
        files = [self.sources[index].path for index, _held in self.unfiltered]
        held = sorted({f for _index, names in self.unfiltered for f in names})
        summary = f"no sample has filter {self.lm_filter!r}"
        if len(files) > 1:
            summary += f" in {len(files)} files"
        detail = "name a filter the files hold (their samples' `filter` field)"
        if held:
            what = "the file holds" if len(files) == 1 else "the files hold"
            shown = [repr(f) for f in held]
            detail = f"{what} filters {_listed(shown)}{did_you_mean(self.lm_filter, held)}"
        if len(files) > 1:
            detail += "; files: " + _listed(files, ROWS_SHOWN)
        span = self.spans.get("filter", Span(files[0], 1))
        self.add((self.unfiltered[0][0], 0), Problem(summary, span, detail, "filter"))

    # --- rows ---------------------------------------------------------------------------

    def row_faults(self, coded: _Coded) -> None:
        """Rows that are not objects, then each field's faults, then (on valid rows only)
        questions with two subjects and duplicate items."""
        total = len(coded.source)
        bad = np.flatnonzero(coded.not_object)
        if len(bad):
            self._group(coded, bad, None, 0, total)
        for name in _ORDER:
            fault = coded.faults[name]
            for kind in np.flatnonzero(np.bincount(fault, minlength=1)[1:]) + 1:
                rows = np.flatnonzero((fault == kind) & ~coded.not_object)
                if len(rows):
                    self._group(coded, rows, name, int(kind), total)
        valid = np.flatnonzero(coded.valid)
        if len(valid):
            if _may_conflict(coded, valid):
                self._conflicts(coded, valid)
            if not self.format.repeats_are_epochs and _may_repeat(coded, valid):
                self._duplicates(coded, valid)

    def _where(self, coded: _Coded, row: int) -> tuple[str, FileColumns, int | str]:
        source = int(coded.source[row])
        columns = self.files[source]
        return self.sources[source].path, columns, columns.row_id(int(coded.local[row]))

    def _span_of(self, coded: _Coded, row: int) -> Span:
        path, _columns, row_id = self._where(coded, row)
        return row_span(path, row_id)

    def _raw(self, coded: _Coded, name: str, row: int) -> Any:
        columns = self.files[int(coded.source[row])]
        return columns.columns[name].values[columns.columns[name].codes[int(coded.local[row])]]

    def _group(
        self, coded: _Coded, rows: NDArray[np.int64], name: str | None, kind: int, total: int
    ) -> None:
        first = int(rows[0])
        single = len(rows) == 1
        raw = self._raw(coded, name, first) if name is not None else None
        summary, detail = _message(name, kind, raw, single, self.format)
        if not single:
            summary += f" {_count(len(rows), total)}"
            shown = self._values_shown(coded, name, rows) if name else []
            if kind in (INVALID, UNKNOWN, NOT_NUMBER, OUTSIDE) and shown:
                summary += ": " + ", ".join(shown)
            detail += "; rows: " + self._rows_shown(coded, rows)
        path = self.fields.get(name, "") if name else ""
        if name is not None and (kind == MISSING or len(rows) == total):
            detail += self._what_the_file_has(int(coded.source[first]), name)
        span = self._span_of(coded, first)
        if (
            name in self.spans
            and len(rows) == total
            and kind
            in (
                MISSING,
                INVALID,
                UNKNOWN,
                NOT_NUMBER,
            )
        ):
            span = self.spans[name]  # a mapping no row fits: point at it
        where = (int(coded.source[first]), int(coded.local[first]))
        self.add(where, Problem(summary, span, detail, path))

    def _values_shown(self, coded: _Coded, name: str, rows: NDArray[np.int64]) -> list[str]:
        """The first distinct raw values of `rows` (by file and code, not row by row)."""
        raw = coded.raw.get(name)
        if raw is not None:
            key = coded.source[rows].astype(np.int64) << 32 | raw[rows].astype(np.int64)
            _unique, first = np.unique(key, return_index=True)
            rows = rows[np.sort(first)]
        return _distinct(self._raw(coded, name, int(r)) for r in rows)

    def _rows_shown(self, coded: _Coded, rows: Sequence[int] | NDArray[np.int64]) -> str:
        places = [self._where(coded, int(r)) for r in rows[:ROWS_SHOWN]]
        return _places([(path, row) for path, _columns, row in places], len(rows))

    def _what_the_file_has(self, source: int, name: str) -> str:
        path = self.fields[name]
        data = self.sources[source]
        try:
            rows = [r for _, r in islice(self.format.read(data.data, data.suffix), ROWS_PROBED)]
        except ReadError:
            return ""
        rows = [r for r in rows if isinstance(r, dict)]
        return held_text(self.format, name, path, rows, data)

    def _filters_held(self, source: int) -> str:
        data = self.sources[source]
        try:
            rows = [r for _, r in islice(self.format.read(data.data, data.suffix), ROWS_PROBED)]
        except ReadError:
            return ""
        held = sorted(
            {r["filter"] for r in rows if isinstance(r, dict) and isinstance(r.get("filter"), str)}
        )
        return f" (the file holds {_listed([repr(f) for f in held])})" if held else ""

    def _conflicts(self, coded: _Coded, valid: NDArray[np.int64]) -> None:
        questions = coded.values["question_id"][valid]
        subjects = coded.values["subject"][valid]
        _unique, first, inverse = np.unique(questions, return_index=True, return_inverse=True)
        first_row = valid[first[inverse.reshape(-1)]]
        rows = valid[subjects != coded.values["subject"][first_row]]
        if not len(rows):
            return
        text = self._conflict_text(coded, int(rows[0]), first_row[np.searchsorted(valid, rows[0])])
        if len(rows) > 1:
            text += f"; {len(rows) - 1} more rows give a question another subject"
        detail = "a question belongs to one subject"
        if len(rows) > 1:
            detail += "; rows: " + self._rows_shown(coded, rows)
        where = (int(coded.source[rows[0]]), int(coded.local[rows[0]]))
        self.add(
            where, Problem(text, self._span_of(coded, int(rows[0])), detail, self.fields["subject"])
        )

    def _conflict_text(self, coded: _Coded, row: int, first: int) -> str:
        question = coded.texts[0][coded.values["question_id"][row]]
        here = coded.texts[2][coded.values["subject"][row]]
        known = coded.texts[2][coded.values["subject"][first]]
        return (
            f"question {question!r} has subject {here!r} here and "
            f"{known!r} at {self._span_of(coded, int(first)).location()}"
        )

    def _duplicates(self, coded: _Coded, valid: NDArray[np.int64]) -> None:
        keys = coded.item_keys(valid)
        _unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        first_row = valid[first[inverse.reshape(-1)]]
        rows = valid[first_row != valid]
        if not len(rows):
            return
        row = int(rows[0])
        original = int(first_row[np.searchsorted(valid, row)])
        summary = f"duplicate item {self._item(coded, row)}"
        if len(rows) > 1:
            summary += f"; {len(rows) - 1} more duplicate items"
        detail = f"first seen at {self._span_of(coded, original).location()}"
        detail += self.format.duplicate_hint
        if self.format.filtered and self.lm_filter is None:
            detail += self._filters_held(int(coded.source[row]))
        if len(rows) > 1:
            detail += "; duplicates at " + self._rows_shown(coded, rows)
        where = (int(coded.source[row]), int(coded.local[row]))
        self.add(where, Problem(summary, self._span_of(coded, row), detail))

    def _item(self, coded: _Coded, row: int) -> str:
        v = coded.values
        return describe_item(
            coded.texts[0][v["question_id"][row]],
            coded.texts[1][v["template_id"][row]],
            int(v["arm"][row]),
            int(v["condition"][row]),
        )

    # --- pairing ------------------------------------------------------------------------

    def pairing(self, coded: _Coded) -> None:
        """Every item in both arms; every question in all four cells."""
        display = ", ".join(s.path for s in self.sources)
        span = Span(display, 0)
        keys = coded.item_keys()
        _unique, first = np.unique(keys, return_index=True)
        first = np.sort(first)
        alone = first[~np.isin(keys[first] ^ 2, keys)]
        if len(alone):
            row = int(alone[0])
            arm = int(coded.values["arm"][row])
            summary = f"item {self._item(coded, row)} has no {ARMS[1 - arm]} counterpart"
            if len(alone) > 1:
                summary += f"; {len(alone) - 1} more items lack their other arm"
            detail = (
                "the arms are paired: every item needs both (seen at "
                f"{self._span_of(coded, row).location()})"
            )
            if len(alone) > 1:
                detail += "; items seen at " + self._rows_shown(coded, alone)
            self.add((len(self.sources), 0), Problem(summary, span, detail))
        self._lacking(coded, span)

    def _lacking(self, coded: _Coded, span: Span) -> None:
        questions = coded.texts[0]
        present = np.zeros((len(questions), 4), bool)
        cell = coded.values["arm"].astype(np.int64) * 2 + coded.values["condition"]
        present[coded.values["question_id"], cell] = True
        lacking = sorted(questions[g] for g in np.flatnonzero(~present.all(axis=1)))
        if not lacking:
            return
        index = {q: g for g, q in enumerate(questions)}
        missing = [
            f"{ARMS[a]}/{CONDITIONS[c]}"
            for a in range(2)
            for c in range(2)
            if not present[index[lacking[0]], a * 2 + c]
        ]
        summary = f"question {lacking[0]!r} lacks {', '.join(missing)}"
        detail = "each question needs all four (arm, condition) combinations"
        if len(lacking) > 1:
            summary += f"; {len(lacking) - 1} more questions lack a cell"
            detail += "; also " + ", ".join(repr(q) for q in lacking[1 : ROWS_SHOWN + 1])
        self.add((len(self.sources), 1), Problem(summary, span, detail))


def _may_conflict(coded: _Coded, valid: NDArray[np.int64]) -> bool:
    """Does a question have two subjects? One pass, no sort: keep any one row's subject per
    question; a question of one subject matches it on every row (the full search, with
    first rows for the message, runs only when this says yes)."""
    questions = coded.values["question_id"][valid]
    subjects = coded.values["subject"][valid]
    kept = np.zeros(len(coded.texts[0]), subjects.dtype)
    kept[questions] = subjects
    return bool((kept[questions] != subjects).any())


def _may_repeat(coded: _Coded, valid: NDArray[np.int64]) -> bool:
    """Is an item key given twice? Counted without a sort when the key space is small
    (it is questions x templates x 4); else assumed, and the full search decides."""
    keys = coded.item_keys(valid)
    space = len(coded.texts[0]) * max(len(coded.texts[1]), 1) * 4
    if space > max(4 * len(keys), 1 << 20):
        return True
    return bool(np.bincount(keys, minlength=space).max(initial=0) > 1)


def _field_of(fields: dict[str, str], column: str) -> str:
    """The canonical field read from a CSV column, for a header problem's field."""
    return next((name for name, path in fields.items() if path == column), "")


def _count(count: int, total: int) -> str:
    return f"in all {total} rows" if count == total else f"in {count} of {total} rows"


def _distinct(values: Any) -> list[str]:
    shown: dict[str, None] = {}
    for value in values:
        shown.setdefault(repr(value), None)
        if len(shown) == ROWS_SHOWN:
            break
    return list(shown)


def _listed(names: Sequence[str], limit: int = 12) -> str:
    head = ", ".join(names[:limit])
    return head + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _locations(path: str, columns: FileColumns, rows: NDArray[np.int64]) -> str:
    places = [(path, columns.row_id(int(r))) for r in rows[:ROWS_SHOWN]]
    return _places(places, len(rows))


def _places(places: list[tuple[str, int | str]], total: int) -> str:
    """`file:1, 2, 3, other:7 and 9 more`: a file is named where its rows begin."""
    shown = []
    previous = None
    for path, row in places:
        shown.append(row_span(path, row).location() if path != previous else str(row))
        previous = path
    more = total - len(places)
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _message(
    name: str | None, kind: int, raw: Any, single: bool, record_format: RecordFormat
) -> tuple[str, str]:
    """(summary, detail) of one fault; a single row's summary quotes its value."""
    if name is None:
        return ("a row is not an object" if single else "rows are not objects"), (
            "each row must be a JSON object"
        )
    if name == "correct":
        rule = "`correct` must be a number in [0, 1]"
        if kind == MISSING:
            return "score is missing", rule
        if kind == NAN:
            return "score is NaN", rule
        what = "is not a number" if kind == NOT_NUMBER else "is outside [0, 1]"
        return (f"score {raw!r} {what}" if single else f"score {what}"), rule
    if name in ("condition", "arm"):
        expected = (
            "expected deploy or eval"
            if name == "condition"
            else ("expected undefended or defended")
        )
        if kind == MISSING:
            return f"missing `{name}`", expected
        return (f"unknown {name} {raw!r}" if single else f"unknown {name}"), expected
    rule = "an id or subject is a string or an integer"
    if kind == MISSING:
        return f"missing `{name}`", rule
    return (f"invalid `{name}` {raw!r}" if single else f"invalid `{name}`"), rule + _why(raw)


def _why(raw: Any) -> str:
    if isinstance(raw, str) and "\x00" in raw:
        return " without NUL characters"
    if isinstance(raw, str):
        return " that UTF-8 can encode (it holds a lone surrogate)"
    return ""


def held_text(
    record_format: RecordFormat, name: str, path: str, rows: list[dict[str, Any]], data: Any
) -> str:
    """What a file holds where `path` (the claim's path of field `name`) found nothing, for
    a problem's help: the keys beside the path (lm-eval's metrics, inspect's scorers, an
    inspect log header's values), with "did you mean"."""
    from .probe import leaf_paths, leaf_values

    parts = path.split(".")
    if record_format.log_level and parts[0] == record_format.log_level:
        header = _header(data)
        if header is None:
            return "; the log has no `eval` header"
        return _beside(path, name, sorted(leaf_values(header, "eval")), "the log header has")
    if record_format.filtered and len(parts) == 1:
        metrics = list(
            dict.fromkeys(m for r in rows for m in r.get("metrics") or () if isinstance(m, str))
        )
        if metrics and path not in metrics:
            return f"; the samples' metrics are {_listed(metrics)}{did_you_mean(path, metrics)}"
    if record_format.text_scores and parts[0] == "scores":
        scorers = [
            f"scores.{s}.value"
            for s in dict.fromkeys(
                k for r in rows if isinstance(r.get("scores"), dict) for k in r["scores"]
            )
        ]
        if scorers and path not in scorers:
            return f"; the samples' scorers give {_listed(scorers)}{did_you_mean(path, scorers)}"
    held = sorted(set().union(*(leaf_paths(r) for r in rows))) if rows else []
    logged = _in_header(name, data) if record_format.log_level else ""
    return _beside(path, name, held, "the rows have", hint=not logged) + logged


def _header(data: Any) -> dict[str, Any] | None:
    from .readers import read_inspect_header

    try:
        return read_inspect_header(data.data, data.suffix)
    except ReadError:
        return None


def _beside(path: str, name: str, held: list[str], what: str, hint: bool = True) -> str:
    """The keys next to `path` (under the longest part of it that exists); "did you mean"
    a key that ends in the field's own name, else one whose last part is close to the
    path's next part (`hint` False: the caller has a better suggestion)."""
    if not held or path in held:
        return ""
    parts = path.split(".")
    depth = 0
    for size in range(len(parts) - 1, 0, -1):
        prefix = ".".join(parts[:size]) + "."
        if any(h.startswith(prefix) for h in held):
            depth = size
            break
    prefix = ".".join(parts[:depth]) + "." if depth else ""
    beside = sorted({".".join(h.split(".")[: depth + 1]) for h in held if h.startswith(prefix)})
    named = [h for h in held if h.split(".")[-1] == name]
    suggestion = ""
    if named:
        suggestion = f' (did you mean "{named[0]}"?)'
    else:
        last = {b.split(".")[-1]: b for b in beside}
        close = closest(parts[depth], last)
        suggestion = f' (did you mean "{last[close]}"?)' if close else ""
    where = f" under `{prefix[:-1]}`" if prefix else ""
    return f"; {what} {_listed(beside)}{where}{suggestion if hint else ''}"


def _in_header(name: str, data: Any) -> str:
    """inspect: a log-level value named like the field (the arm as a task parameter)."""
    from .probe import leaf_values

    header = _header(data)
    if header is None:
        return ""
    found = [
        (path, value)
        for path, value in sorted(leaf_values(header, "eval").items())
        if path.split(".")[-1] == name
    ]
    if not found:
        return ""
    path, value = found[0]
    return f'; the log header has {path} = {value!r}: write `{name} "{path}"` to read it'
