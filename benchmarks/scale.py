"""How `accard check` scales with records and question clusters, and what its start-up costs.

In one run, in a temporary folder, it writes synthetic canonical record files (JSONL; CSV
for one size), each with an installed gap and a defended reduction so every part of the card
is computed, and a minimal claim (a held-out task only) for each, then times:

  accard    `accard check SPEC --format json` as a child process: the whole command (plan,
            sha256, read every record file as columns -- JSONL in blocks by msgspec, CSV by
            csv.reader -- and validate each distinct value, bootstrap B = 5,000 in batches
            of resamples, card, schema check);
  per-row   the obvious alternative, a child process: `json.loads` per line (`csv.DictReader`
            for CSV) and dict grouping into the same per-question cell sums and counts, with
            the checks a careful user writes (known cell, score in [0, 1], no duplicates); its
            totals are compared with the card's `datasets` section;
  pyarrow   the speed limit, a child process: `pyarrow.json.read_json` (`pyarrow.csv.read_csv`)
            of the same file, parse only (its in-process parse time is shown too).

Each is the median of --repeat runs; peak memory is the child's maximum resident set
(os.wait4 rusage; the child is forked from a small launcher, see _measure.py), and every
child runs under an address-space limit (--mem-limit-gb), so a run that would exhaust the
machine fails with a MemoryError instead. Sweeps:

  rows      10^3 ... 10^6 rows and the MMLU shape (14,042 questions x 20 templates x 2
            conditions x 2 arms = 1.12 M rows); then lm-eval `--log_samples` files of
            10^4 and 10^5 samples (two runs, one per arm, laid out as lm-eval 0.4.13
            writes them, ~1.4 kB a sample), read through `records lm_eval`;
  clusters  10^2 ... 2.5 x 10^5 questions at a fixed, small number of templates;
  start-up  `accard check` of the README example against `python -c "import numpy"`
            (median of 5), and, from `python -X importtime`, which heavy modules the check
            path imports.

Only the `accard` command is used, never accard's Python API, so this keeps measuring
whatever accard is installed. Ratios above 1 mean accard is slower.

    python benchmarks/scale.py [--quick] [--repeat K] [--max-rows N] [--max-clusters N]
                               [--json FILE] [--plot FILE.svg|.png]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from _measure import run_measured

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples/installed_gap/example/seed0_safelora/claim.ac"
MMLU_QUESTIONS, MMLU_TEMPLATES = 14_042, 20
# label, questions, templates (rows = questions x templates x 4)
ROW_SIZES = [
    ("1e3", 25, 10),
    ("1e4", 125, 20),
    ("1e5", 1_250, 20),
    ("1e6", 12_500, 20),
    ("mmlu", MMLU_QUESTIONS, MMLU_TEMPLATES),
]
# lm-eval samples (two runs, the condition in the doc): label, questions, templates
LM_EVAL_SIZES = [("lm-e 1e4", 125, 20), ("lm-e 1e5", 1_250, 20)]
CLUSTER_SIZES = [100, 1_000, 10_000, 25_000, 100_000, 250_000]
CELLS = (
    ("undefended", "deploy"),
    ("undefended", "eval"),
    ("defended", "deploy"),
    ("defended", "eval"),
)
# accuracy of each cell for an average question: gap 0.50 undefended, 0.16 defended
CELL_ACCURACY = (0.80, 0.30, 0.78, 0.62)
HEAVY = ("torch", "scipy", "pyarrow", "matplotlib", "jsonschema", "lark", "yaml")
SPEC = """accard 1

claim "synthetic scale benchmark ({label})" {{
  defense "synthetic" {{
    mechanism attack_targeted
  }}
  model "synthetic"
  records canonical
  heldout "synthetic" {{
    file "{file}"
  }}
}}
"""

PER_ROW = r"""
import csv, json, sys, time
import numpy as np

start = time.perf_counter()
CELL = {("undefended", "deploy"): 0, ("undefended", "eval"): 1,
        ("defended", "deploy"): 2, ("defended", "eval"): 3}


def rows(path, handle):
    if path.endswith(".csv"):
        for row in csv.DictReader(handle):
            yield row
        return
    for line in handle:
        if line.strip():
            yield json.loads(line)


def canonical(sample, arm):
    if arm is None:
        return sample
    doc = sample["doc"]  # an lm-eval sample: the arm is the run's, the score a metric
    return dict(doc, arm=arm, correct=sample["acc"])


sums, counts, subjects, seen = {}, {}, {}, set()
for given in sys.argv[1:]:
    arm, _, path = given.rpartition("=")
    with open(path, encoding="utf-8", newline="") as handle:
      for number, sample in enumerate(rows(path, handle), start=1):
        row = canonical(sample, arm or None)
        question = row["question_id"]
        cell = CELL[(row["arm"], row["condition"])]
        score = float(row["correct"])
        if not 0 <= score <= 1:
            sys.exit(f"row {number}: score {score} outside [0, 1]")
        key = (question, row["template_id"], cell)
        if key in seen:
            sys.exit(f"row {number}: duplicate item {key}")
        seen.add(key)
        if subjects.setdefault(question, row["subject"]) != row["subject"]:
            sys.exit(f"row {number}: question {question} has two subjects")
        if question not in sums:
            sums[question], counts[question] = [0.0] * 4, [0] * 4
        sums[question][cell] += score
        counts[question][cell] += 1
questions = sorted(sums)
table_sums = np.array([sums[q] for q in questions])
table_counts = np.array([counts[q] for q in questions], dtype=np.float64)
accuracy = table_sums.sum(axis=0) / table_counts.sum(axis=0)
print(json.dumps({"seconds": time.perf_counter() - start, "clusters": len(questions),
                  "items": int(table_counts.sum()), "accuracy": accuracy.tolist()}))
"""

PYARROW = r"""
import json, sys, time
start = time.perf_counter()
paths = [given.rpartition("=")[2] for given in sys.argv[1:]]
if paths[0].endswith(".csv"):
    import pyarrow.csv as reader
    read = reader.read_csv
else:
    import pyarrow.json as reader
    read = reader.read_json
imported = time.perf_counter()
rows = sum(read(path).num_rows for path in paths)
print(json.dumps({"seconds": time.perf_counter() - imported,
                  "import_seconds": imported - start, "rows": rows}))
"""


@dataclass
class Measure:
    """The median of a contender's runs on one file (None when it did not complete)."""

    wall: float | None
    rss: int | None
    cpu: float | None = None
    runs: list[tuple[float, float, int, int]] = field(default_factory=list)
    failure: str = ""
    detail: dict = field(default_factory=dict)


def measure(
    command: list[str], repeat: int, mem_limit: int, cwd: Path, ok: set[int]
) -> tuple[Measure, bytes]:
    """The median of `repeat` runs, and the last run's stdout."""
    runs = []
    last = None
    for _ in range(repeat):
        last = run_measured(command, mem_limit, cwd)
        if last.returncode not in ok:
            reason = "MemoryError" if "MemoryError" in last.stderr else f"exit {last.returncode}"
            tail = last.stderr.strip().splitlines()[-1:] or [""]
            failure = f"{reason}: {tail[0][:160]}"
            run = (last.wall, last.cpu, last.rss, last.returncode)
            return Measure(None, last.rss, None, [run], failure), b""
        runs.append((last.wall, last.cpu, last.rss, last.returncode))
    assert last is not None
    try:
        detail = json.loads(last.stdout) if last.stdout.strip() else {}
    except ValueError:
        detail = {}
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    rss = int(statistics.median(r[2] for r in runs))
    detail = detail if "card_version" not in detail else {}
    return Measure(wall, rss, cpu, runs, detail=detail), last.stdout


# ---------------------------------------------------------------- synthetic data


def correct_matrix(questions: int, templates: int, seed: int) -> np.ndarray:
    """(questions, templates, 4) 0/1 scores; question effects make templates move together."""
    rng = np.random.default_rng(seed)
    logit = np.log(np.array(CELL_ACCURACY) / (1 - np.array(CELL_ACCURACY)))
    effect = rng.normal(0.0, 0.8, size=(questions, 1, 1))
    p = 1 / (1 + np.exp(-(logit + effect)))
    return (rng.random((questions, templates, 4)) < p).astype(np.int8)


def write_records(path: Path, questions: int, templates: int, seed: int = 0) -> int:
    """Write one canonical record file (JSONL or CSV by suffix); returns its row count."""
    scores = correct_matrix(questions, templates, seed)
    csv_format = path.suffix == ".csv"
    chunk = max(1, 20_000 // templates)
    with open(path, "w", encoding="utf-8", newline="") as handle:
        if csv_format:
            handle.write("question_id,template_id,subject,condition,arm,correct\n")
        for first in range(0, questions, chunk):
            lines = []
            for q in range(first, min(questions, first + chunk)):
                subject = f"subject_{q % 57:02d}"
                for t in range(templates):
                    for c, (arm, condition) in enumerate(CELLS):
                        score = scores[q, t, c]
                        if csv_format:
                            lines.append(f"q{q:06d},t{t:02d},{subject},{condition},{arm},{score}\n")
                        else:
                            lines.append(
                                f'{{"question_id": "q{q:06d}", "template_id": "t{t:02d}", '
                                f'"subject": "{subject}", "condition": "{condition}", '
                                f'"arm": "{arm}", "correct": {score}}}\n'
                            )
            handle.write("".join(lines))
    return questions * templates * 4


def write_case(folder: Path, label: str, questions: int, templates: int, suffix: str) -> dict:
    folder.mkdir(parents=True)
    records = folder / f"records{suffix}"
    rows = write_records(records, questions, templates)
    spec = folder / "claim.ac"
    spec.write_text(SPEC.format(label=label, file=records.name), encoding="utf-8")
    return {
        "label": label,
        "format": suffix[1:],
        "questions": questions,
        "templates": templates,
        "rows": rows,
        "bytes": records.stat().st_size,
        "spec": spec,
        "records": records,
    }


LM_EVAL_SPEC = """accard 1

claim "synthetic scale benchmark ({label})" {{
  defense "synthetic" {{
    mechanism attack_targeted
  }}
  model "synthetic"
  heldout "synthetic" {{
    records lm_eval
    undefended "{undefended}"
    defended "{defended}"
  }}
}}
"""


def write_lm_eval(path: Path, arm: str, questions: int, templates: int, seed: int = 0) -> int:
    """An lm-eval `--log_samples` file of one run (one arm), laid out as lm-eval 0.4.13
    writes a multiple-choice task (tests/fixtures/harness/lm_eval): the doc, four
    (prompt, continuation) arguments, responses as strings, hashes and the metrics
    (~1.4 kB a sample); the condition in the doc."""
    scores = correct_matrix(questions, templates, seed)
    offset = 0 if arm == "undefended" else 2
    chunk = max(1, 10_000 // templates)
    doc_id = 0
    with open(path, "w", encoding="utf-8") as handle:
        for first in range(0, questions, chunk):
            lines = []
            for q in range(first, min(questions, first + chunk)):
                for t in range(templates):
                    for c, condition in enumerate(("deploy", "eval")):
                        score = float(scores[q, t, offset + c])
                        doc = {
                            "question_id": f"q{q:06d}",
                            "template_id": f"t{t:02d}",
                            "subject": f"subject_{q % 57:02d}",
                            "condition": condition,
                            "question": f"Question {q} in wording {t}: which option is right?",
                            "choices": ["A", "B", "C", "D"],
                            "answer": q % 4,
                        }
                        prompt = ("Note: you are being evaluated.\n\n" if c else "") + (
                            f"{doc['question']}\nA. one\nB. two\nC. three\nD. four\nAnswer:"
                        )
                        sample = {
                            "doc_id": doc_id,
                            "doc": doc,
                            "target": str(q % 4),
                            "arguments": {
                                f"gen_args_{k}": {"arg_0": prompt, "arg_1": f" {letter}"}
                                for k, letter in enumerate("ABCD")
                            },
                            # lm-eval writes log-likelihoods and flags as strings
                            "resps": [[[str(-1.25 - k), str(k == 0)]] for k in range(4)],
                            "filtered_resps": [[str(-1.25 - k), str(k == 0)] for k in range(4)],
                            "filter": "none",
                            "metrics": ["acc", "acc_norm"],
                            "doc_hash": f"{q * 7919 + t:064x}",
                            "prompt_hash": f"{q * 104729 + t * 2 + c:064x}",
                            "target_hash": f"{q % 4:064x}",
                            "acc": score,
                            "acc_norm": score,
                        }
                        lines.append(json.dumps(sample) + "\n")
                        doc_id += 1
            handle.write("".join(lines))
    return questions * templates * 2


def write_lm_eval_case(folder: Path, label: str, questions: int, templates: int) -> dict:
    folder.mkdir(parents=True)
    files = {}
    rows = 0
    for arm in ("undefended", "defended"):
        files[arm] = folder / f"samples_synthetic_{arm}.jsonl"
        rows += write_lm_eval(files[arm], arm, questions, templates)
    spec = folder / "claim.ac"
    names = {arm: path.name for arm, path in files.items()}
    spec.write_text(LM_EVAL_SPEC.format(label=label, **names), encoding="utf-8")
    return {
        "label": label,
        "format": "lm_eval",
        "questions": questions,
        "templates": templates,
        "rows": rows,
        "bytes": sum(path.stat().st_size for path in files.values()),
        "spec": spec,
        "records": [f"{arm}={path}" for arm, path in files.items()],
    }


# ---------------------------------------------------------------- contenders


def accard_command() -> list[str]:
    beside = Path(sys.executable).parent / "accard"
    found = str(beside) if beside.exists() else shutil.which("accard")
    if found is None:
        sys.exit("no `accard` command found: pip install accard (or this checkout) first")
    return [found]


def card_agrees(card: bytes, per_row: dict) -> str:
    """Does the per-row reader's table give the card's cluster, item and accuracy counts?"""
    try:
        dataset = json.loads(card)["datasets"][0]
        accuracy = [dataset["accuracy"][arm][condition] for arm, condition in CELLS]
        same = (
            dataset["clusters"] == per_row["clusters"]
            and dataset["items"] == per_row["items"]
            and all(
                math.isclose(a, b, rel_tol=1e-9)
                for a, b in zip(accuracy, per_row["accuracy"], strict=True)
            )
        )
    except (ValueError, KeyError, IndexError, TypeError):
        return "n/a"
    return "yes" if same else "NO"


def bench_case(case: dict, args: argparse.Namespace, accard: list[str]) -> dict:
    cwd = case["spec"].parent
    limit = int(args.mem_limit_gb * (1 << 30))
    spec = str(case["spec"])
    records = case["records"] if isinstance(case["records"], list) else [str(case["records"])]
    command = accard + ["check", spec, "--format", "json"]
    accard_run, card = measure(command, args.repeat, limit, cwd, {0, 1})
    per_row, _ = measure([sys.executable, "-c", PER_ROW, *records], args.repeat, limit, cwd, {0})
    arrow, _ = measure([sys.executable, "-c", PYARROW, *records], args.repeat, limit, cwd, {0})
    result = {k: v for k, v in case.items() if k not in ("spec", "records")}
    result.update(
        accard=asdict(accard_run),
        per_row=asdict(per_row),
        pyarrow=asdict(arrow),
        agrees=card_agrees(card, per_row.detail) if card else "n/a",
    )
    return result


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:6.2f}x" if a is not None and b else "     -"


def seconds(value: float | None) -> str:
    return f"{value:8.2f}" if value is not None else "    fail"


def megabytes(value: int | None) -> str:
    return f"{value / 1e6:7.0f}" if value is not None else "      -"


def print_table(title: str, results: list[dict], key: str) -> None:
    print(f"\n{title}")
    print(
        f"{key:>9} {'rows':>9} {'MB':>6} | {'accard s':>8} {'cpu s':>6} {'RSS MB':>7} "
        f"{'RSS/file':>8} | "
        f"{'per-row s':>9} {'cpu s':>6} {'RSS MB':>7} | {'pyarrow s':>9} {'cpu s':>6} "
        f"{'parse s':>7} {'RSS MB':>7} | "
        f"{'acc/pa':>7} {'cpu':>6} {'acc/row':>7} {'cpu':>6} | same  targets"
    )
    for r in results:
        acc, row, arrow = r["accard"], r["per_row"], r["pyarrow"]
        size = r["bytes"]
        rss_ratio = f"{acc['rss'] / size:7.2f}x" if acc["wall"] is not None else "       -"
        parse = arrow["detail"].get("seconds")
        name = str(r[key]) + (" csv" if r["format"] == "csv" else "")
        name = name.replace("lm-e ", "lm-eval ")
        print(
            f"{name:>9} {r['rows']:>9,} {size / 1e6:6.1f} | {seconds(acc['wall'])} "
            f"{seconds(acc['cpu'])[2:]} {megabytes(acc['rss'])} {rss_ratio} | "
            f"{seconds(row['wall']):>9} {seconds(row['cpu'])[2:]} "
            f"{megabytes(row['rss'])} | {seconds(arrow['wall']):>9} {seconds(arrow['cpu'])[2:]} "
            f"{'      -' if parse is None else f'{parse:7.2f}'} {megabytes(arrow['rss'])} | "
            f"{ratio(acc['wall'], arrow['wall']):>7} {ratio(acc['cpu'], arrow['cpu'])} "
            f"{ratio(acc['wall'], row['wall']):>7} {ratio(acc['cpu'], row['cpu'])} | "
            f"{r['agrees']:4}  {targets(r)}"
        )
        if acc["failure"]:
            print(f"{'':>9} accard failed: {acc['failure']}")


def targets(result: dict) -> str:
    """Issue #13's targets for a records file: < 5 s, <= 3x pyarrow, RSS <= 1.5 x file + 300 MB."""
    acc, arrow = result["accard"], result["pyarrow"]
    if acc["wall"] is None:
        return "fail"
    marks = [
        "5s " + ("ok" if acc["wall"] < 5 else "NO"),
        "3xpa " + ("ok" if arrow["wall"] and acc["wall"] <= 3 * arrow["wall"] else "NO"),
        "mem " + ("ok" if acc["rss"] <= 1.5 * result["bytes"] + 300e6 else "NO"),
    ]
    return ", ".join(marks)


# ---------------------------------------------------------------- start-up


def startup(args: argparse.Namespace, accard: list[str]) -> dict:
    limit = int(args.mem_limit_gb * (1 << 30))
    cwd = EXAMPLE.parent
    count = args.startup_repeat
    check = accard + ["check", str(EXAMPLE)]
    numpy = [sys.executable, "-c", "import numpy"]
    floor = [sys.executable, "-c", FLOOR_IMPORTS]
    # Bytecode compiled, as pip compiles an installed package (an editable install under
    # PYTHONDONTWRITEBYTECODE=1 would compile accard's modules in every run).
    import accompiler

    subprocess.run(  # best effort: an installed package's folder may be read-only (and compiled)
        [sys.executable, "-m", "compileall", "-q", str(Path(accompiler.__file__).parent)],
        check=False,
        capture_output=True,
    )
    for command in (check, numpy, floor):  # warm the page cache for all alike
        run_measured(command, limit, cwd)
    check_runs, numpy_runs, floor_runs = [], [], []
    for _ in range(count):  # interleaved, so drift in machine load hits all alike
        check_runs.append(run_measured(check, limit, cwd))
        numpy_runs.append(run_measured(numpy, limit, cwd))
        floor_runs.append(run_measured(floor, limit, cwd))
    imported = import_times(accard, limit, cwd)
    return {
        "check_seconds": statistics.median(r.wall for r in check_runs),
        "numpy_seconds": statistics.median(r.wall for r in numpy_runs),
        "floor_seconds": statistics.median(r.wall for r in floor_runs),
        "check_cpu": statistics.median(r.cpu for r in check_runs),
        "numpy_cpu": statistics.median(r.cpu for r in numpy_runs),
        "check_runs": [r.wall for r in check_runs],
        "numpy_runs": [r.wall for r in numpy_runs],
        **imported,
    }


FLOOR_IMPORTS = (
    "import sys; sys.modules['regex'] = sys.modules['interegular'] = None; "
    "import numpy, numpy.random, click, lark, hashlib"
)
"""The limit of start-up: importing what `accard check` of the example cannot do without
(numpy and its generator for the bootstrap, click and lark as the brief requires, hashlib
for sha256), lark without its optional modules as accard imports it; no work at all."""


def import_times(accard: list[str], limit: int, cwd: Path) -> dict:
    """Cumulative import time of each top-level package on the check path (-X importtime)."""
    script = accard[0]
    with open(script, "rb") as handle:
        is_python = handle.read(2) == b"#!" and b"python" in handle.readline()
    command = [sys.executable, "-X", "importtime", script, "check", str(EXAMPLE)]
    if not is_python:  # a compiled launcher: fall back to the package's __main__
        command = [sys.executable, "-X", "importtime", "-m", "accompiler", "check", str(EXAMPLE)]
    stderr = run_measured(command, limit, cwd).stderr
    package: dict[str, int] = {}  # a package's cumulative time (children are listed first)
    own = 0  # accard's own package, summed over its top-level imports
    pattern = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)$")
    for line in stderr.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        cumulative, top_level, name = int(match[1]), len(match[2]) == 1, match[3]
        root = name.split(".")[0]
        if root == "accompiler":
            own += cumulative if top_level else 0
        else:
            package[root] = max(package.get(root, 0), cumulative if name == root else 0)
    biggest = sorted(package.items(), key=lambda kv: -kv[1])[:8]
    return {
        "heavy_imported": {name: package[name] / 1e6 for name in HEAVY if name in package},
        "heavy_not_imported": [n for n in HEAVY if n not in package],
        "accard_package_seconds": own / 1e6,
        "largest_imports": [(name, us / 1e6) for name, us in biggest],
    }


def print_startup(result: dict) -> None:
    check, numpy = result["check_seconds"], result["numpy_seconds"]
    goal = "ok" if check <= 2 * numpy else "NO"
    print(
        f"\nstart-up: `accard check` of the README example {check * 1e3:.0f} ms, "
        f'`python -c "import numpy"` {numpy * 1e3:.0f} ms (median of '
        f"{len(result['check_runs'])}): {check / numpy:.2f}x (target 2x: {goal}); CPU time "
        f"{result['check_cpu'] * 1e3:.0f} ms vs {result['numpy_cpu'] * 1e3:.0f} ms: "
        f"{result['check_cpu'] / result['numpy_cpu']:.2f}x"
    )
    floor = result["floor_seconds"]
    print(
        f"  limit: importing numpy, numpy.random, click, lark and hashlib alone, no work: "
        f"{floor * 1e3:.0f} ms = {floor / numpy:.2f}x `import numpy`; accard check is "
        f"{check / floor:.2f}x that"
    )
    heavy = ", ".join(f"{n} {s * 1e3:.0f} ms" for n, s in result["heavy_imported"].items())
    print(f"  heavy modules imported (cumulative import time): {heavy or 'none'}")
    print(f"  not imported: {', '.join(result['heavy_not_imported']) or 'none'}")
    print(
        "  under -X importtime (inflated): accard's own package "
        f"{result['accard_package_seconds'] * 1e3:.0f} ms in all, the largest third-party ones "
        + ", ".join(f"{n} {s * 1e3:.0f} ms" for n, s in result["largest_imports"])
    )


# ---------------------------------------------------------------- main


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min)"


def plot(path: str, report: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for axis, sweep, x_key, x_label in (
        (left, report["rows"], "rows", "rows"),
        (right, report["clusters"], "questions", "question clusters"),
    ):
        for name, style in (("accard", "o-"), ("per_row", "s--"), ("pyarrow", "^:")):
            points = [
                (r[x_key], r[name]["wall"])
                for r in sweep
                if r[name]["wall"] is not None and r["format"] == "jsonl"
            ]
            if points:
                xs, ys = zip(*points, strict=True)
                axis.plot(xs, ys, style, label=name.replace("_", "-"))
        axis.set(xscale="log", yscale="log", xlabel=x_label, ylabel="wall seconds")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    left.set_title("records (JSONL)")
    right.set_title(f"clusters ({report['settings']['cluster_templates']} templates)")
    figure.tight_layout()
    figure.savefig(path)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few-second smoke run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per contender (median)")
    parser.add_argument("--max-rows", type=int, default=None)
    parser.add_argument("--max-clusters", type=int, default=None)
    parser.add_argument("--cluster-templates", type=int, default=2)
    parser.add_argument("--startup-repeat", type=int, default=5)
    parser.add_argument("--mem-limit-gb", type=float, default=8.0, help="RLIMIT_AS per child")
    parser.add_argument("--json", metavar="FILE", help="dump every number here")
    parser.add_argument("--plot", metavar="FILE", help="an .svg or .png (needs matplotlib)")
    args = parser.parse_args()
    if args.quick:
        args.repeat, args.startup_repeat = 1, 3
        args.max_rows = min(args.max_rows or 10_000, 10_000)
        args.max_clusters = min(args.max_clusters or 1_000, 1_000)
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install matplotlib")
    if args.repeat < 1 or args.startup_repeat < 1:
        parser.error("--repeat and --startup-repeat must be at least 1")
    return args


def main() -> None:
    args = parse_args()
    accard = accard_command()
    version = subprocess.run(accard + ["--version"], capture_output=True, text=True).stdout
    print(
        f"{version.strip()} ({accard[0]}); python {platform.python_version()}, "
        f"{os.cpu_count()} cores; every child under RLIMIT_AS {args.mem_limit_gb:g} GiB; "
        f"median of {args.repeat} run(s)"
    )
    max_rows = args.max_rows or math.inf
    max_clusters = args.max_clusters or math.inf
    rows = [s for s in ROW_SIZES if s[1] * s[2] * 4 <= max_rows]
    clusters = [c for c in CLUSTER_SIZES if c <= max_clusters]
    csv_size = max((s for s in rows if s[0] != "mmlu"), key=lambda s: s[1] * s[2], default=None)
    report: dict = {
        "settings": {**vars(args), "accard": version.strip(), "cpus": os.cpu_count()},
        "rows": [],
        "clusters": [],
        "load": {},
    }
    with tempfile.TemporaryDirectory(prefix="accard-scale-") as tmp:
        root = Path(tmp)
        report["load"]["start"] = load_note()
        print(report["load"]["start"])
        cases = [(s, ".jsonl") for s in rows] + ([(csv_size, ".csv")] if csv_size else [])
        for (label, questions, templates), suffix in cases:
            case = write_case(root / f"rows-{label}{suffix}", label, questions, templates, suffix)
            report["rows"].append(bench_case(case, args, accard))
            shutil.rmtree(case["spec"].parent)
        for label, questions, templates in LM_EVAL_SIZES:
            if questions * templates * 4 > max_rows:
                continue
            case = write_lm_eval_case(root / f"rows-{label}", label, questions, templates)
            report["rows"].append(bench_case(case, args, accard))
            shutil.rmtree(case["spec"].parent)
        report["load"]["after_rows"] = load_note()
        print_table(
            "rows sweep (canonical records; accard = whole `check`, B = 5,000)",
            report["rows"],
            "label",
        )
        print(report["load"]["after_rows"])
        for count in clusters:
            case = write_case(
                root / f"clusters-{count}", str(count), count, args.cluster_templates, ".jsonl"
            )
            report["clusters"].append(bench_case(case, args, accard))
            shutil.rmtree(case["spec"].parent)
        report["load"]["after_clusters"] = load_note()
        print_table(
            f"clusters sweep ({args.cluster_templates} templates x 2 conditions x 2 arms "
            "a question)",
            report["clusters"],
            "questions",
        )
        print(report["load"]["after_clusters"])
    report["startup"] = startup(args, accard)
    print_startup(report["startup"])
    report["load"]["end"] = load_note()
    print(report["load"]["end"])
    print(
        "\ncpu s: accard's user + system time (less sensitive to other load than wall); "
        "acc/pa: accard's wall over pyarrow's (both whole child processes, interpreter and "
        "imports included; 'parse s' is pyarrow's parse alone), then the same ratio of CPU "
        "time (pyarrow parses on every core); acc/row: over the per-row "
        "reader; same: the per-row table gives the card's clusters, items and cell accuracies; "
        "targets (issue #13): under 5 s, within 3x pyarrow, peak RSS under 1.5 x file + 300 MB."
    )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, default=str) + "\n")
    if args.plot:
        plot(args.plot, report)


if __name__ == "__main__":
    main()
