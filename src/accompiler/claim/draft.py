"""Harness output folders -> a commented draft claim (`accard init`). What the files show is
filled in (formats, field paths, metrics, filters, scorers, arms, conditions); what they
cannot show is a placeholder, `"<fill in: ...>"`, that `accard plan` reports until filled."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from ..protocol import ARMS
from ..records.formats import FORMATS, RECORD_FIELDS
from ..records.probe import FileFacts, probe_folder
from .model import LANGUAGE_VERSION

_CONDITION_TOKEN = re.compile(r"(^|[_\-.])(deploy|eval)($|[_\-.])")


def placeholder(what: str) -> str:
    return f"<fill in: {what}>"


@dataclass(frozen=True)
class _DataSet:
    name: str
    format: str
    files: tuple[FileFacts, ...]


def holds_records(folder: Path) -> bool:
    """Whether `folder` holds a record file accard reads (a data set for the draft)."""
    return bool(_datasets(probe_folder(folder)))


def draft_claim(folders: list[Path], spec_dir: Path) -> str:
    """The draft's .ac text; record paths are relative to `spec_dir`, the spec's folder."""
    datasets = [d for folder in folders for d in _datasets(probe_folder(folder))]
    datasets = _unique_names(datasets)
    lines = [
        f"accard {LANGUAGE_VERSION}",
        '# Drafted by `accard init`. Fill in every "<fill in: ...>": `accard plan` lists',
        "# the ones left. The first data set found is the held-out one; the others are",
        "# transfer targets (move one into `fresh { ... }` if its subjects are fresh ones).",
        "",
        f"claim {_q(placeholder('the claim in one sentence'))} {{",
        f"  defense {_q(placeholder('the defense'))} {{",
        f"    mechanism {_q(placeholder('attack_targeted or shrinkage, as its authors claim'))}",
        "  }",
        f"  model {_q(placeholder('the model the arms were fine-tuned from'))}",
    ]
    for index, data in enumerate(datasets):
        lines += [""] + _dataset_lines(data, spec_dir, index == 0)
    if not datasets:
        lines += ["", '  heldout "<fill in: the task>" {', '    file "<fill in: records>"', "  }"]
    return "\n".join(lines + _tail()) + "\n"


def _q(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _is_records(facts: FileFacts) -> bool:
    if facts.format != "canonical":
        return True
    return {"question_id", "correct"} <= set(facts.fields)


def _base(facts: FileFacts) -> str:
    task = facts.task or facts.path.stem
    return _CONDITION_TOKEN.sub(lambda m: m.group(1) if m.group(3) else "", task) or task


def _datasets(found: list[FileFacts]) -> list[_DataSet]:
    """One folder's files grouped into data sets (a task's deploy and eval runs are one)."""
    groups: dict[tuple[str, str], list[FileFacts]] = {}
    for facts in filter(_is_records, found):
        groups.setdefault((_base(facts), facts.format), []).append(facts)
    return [_DataSet(name, fmt, tuple(files)) for (name, fmt), files in sorted(groups.items())]


def _unique_names(datasets: list[_DataSet]) -> list[_DataSet]:
    seen: dict[str, int] = {}
    for data in datasets:
        seen[data.name] = seen.get(data.name, 0) + 1
    return [
        _DataSet(f"{d.name} ({d.format})", d.format, d.files) if seen[d.name] > 1 else d
        for d in datasets
    ]


def _dataset_lines(data: _DataSet, spec_dir: Path, first: bool) -> list[str]:
    head = f"  heldout {_q(data.name)} {{" if first else f"  transfer {_q(data.name)} {{"
    return [head, *_records_lines(data), *_entries(data, spec_dir), "  }"]


def _records_lines(data: _DataSet) -> list[str]:
    fields = set().union(*(f.fields for f in data.files))
    lines = [f"    records {data.format} {{"]
    by_file = all(f.arm for f in data.files)
    for name in RECORD_FIELDS:
        if (name == "arm" and by_file) or (
            name == "condition" and all(f.condition for f in data.files)
        ):
            continue
        lines.append(f"      {name} {_q(_field_path(data, name, fields))}")
    filters = [f for f in dict.fromkeys(x for f in data.files for x in f.filters) if f != "none"]
    if filters:
        lines.append(f"      filter {_q(filters[0])}  # the files hold: {', '.join(filters)}")
    return lines + ["    }"]


def _field_path(data: _DataSet, name: str, fields: set[str]) -> str:
    default = FORMATS[data.format].fields[name]
    if name == "correct":
        return _score_path(data, default)
    if default in fields:
        return default
    near = sorted(f for f in fields if f.split(".")[-1] == name)
    if near:
        return near[0]
    return placeholder(f"the path to `{name}`; the rows have {', '.join(sorted(fields)[:12])}")


def _score_path(data: _DataSet, default: str) -> str:
    metrics = [m for f in data.files for m in f.metrics]
    scorers = [s for f in data.files for s in f.scorers]
    if data.format == "lm_eval" and metrics:
        return "acc" if "acc" in metrics else metrics[0]
    if data.format == "inspect" and scorers:
        return f"scores.{scorers[0]}.value"
    return default


def _entries(data: _DataSet, spec_dir: Path) -> list[str]:
    lines = []
    by_file = all(f.arm for f in data.files)
    ordered = sorted(
        data.files, key=lambda f: (ARMS.index(f.arm) if f.arm else 0, f.condition or "")
    )
    for facts in ordered:
        keyword = facts.arm if by_file and facts.arm else "file"
        path = facts.path.resolve().relative_to(spec_dir.resolve()).as_posix()
        if facts.condition:
            lines += [f"    {keyword} {_q(path)} {{", f"      condition {facts.condition}", "    }"]
        else:
            lines.append(f"    {keyword} {_q(path)}")
    return lines


def _entry_order(facts: FileFacts) -> tuple[int, str]:
    return (ARMS.index(facts.arm) if facts.arm else 0, facts.condition or "")


def _tail() -> list[str]:
    return [
        "",
        "  # The LoRA adapters, for (c) mechanism alignment (PEFT directories):",
        "  # adapters {",
        '  #   undefended "adapters/undefended"',
        '  #   defended "adapters/defended"',
        '  #   reference "adapters/reference"',
        "  # }",
        "  # Settings (these are the defaults; see README, 'Settings'):",
        "  # settings {",
        "  #   resamples 5000",
        "  #   confidence 0.95",
        "  #   seed 0",
        "  # }",
        "}",
    ]
