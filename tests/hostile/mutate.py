"""Seeded mutations of the example specs, and one in-process run of accard on a mutant.

Shared by tests/test_fuzz.py (a bounded run in CI) and tests/hostile/fuzz_many.py (a long
run in worker processes). A mutant is reproducible from (seed spec, case number): the
mutations are drawn from random.Random(f"{SEED}:{number}").
"""

from __future__ import annotations

import random
import re
import shutil
import signal
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "specs" / "example"
SEED = 14
SEEDS = sorted(p.name for p in EXAMPLE.iterdir() if p.suffix in (".ac", ".yaml"))

_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[-+]?\d[\w.+-]*|[A-Za-z_][A-Za-z0-9_]*|\S')
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_NUMBER = re.compile(r"(?<![\w.\"])[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?(?![\w.])")
HUGE = "9" * 5000

INTERESTING = [
    "0",
    "-1",
    "-0",
    "1e309",
    "-1e309",
    "1e-400",
    "NaN",
    ".nan",
    ".inf",
    "nan",
    "inf",
    HUGE,
    "-" + HUGE,
    "0." + "0" * 4000 + "1",
    "2147483648",
    "9223372036854775808",
    "1000000",
    "999999999999",
    "true",
    "false",
    "null",
    "~",
    "yes",
    '""',
    '" "',
    '"\\u0000"',
    '"\\ud800"',
    '"\\udfff\\ud800"',
    '"\\u001b[2J"',
    '"a\\\\b"',
    '"../x"',
    '"/etc/passwd"',
    '"data\\\\x.jsonl"',
    '"' + "a" * 300 + '"',
    '"' + "a/" * 2100 + '"',
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "#",
    "&a",
    "*a",
    "!!python/object:os.system",
    "!!binary",
    "<<",
    "-",
    "|",
    "accard",
    "claim",
    "defense",
    "mechanism",
    "relabel",
    "because",
    "model",
    "records",
    "heldout",
    "fresh",
    "transfer",
    "adapters",
    "settings",
    "file",
    "undefended",
    "defended",
    "reference",
    "base",
    "aligned",
    "scale",
    "condition",
    "deploy",
    "eval",
    "filter",
    "resamples",
    "confidence",
    "seed",
    "tau_fresh",
    "rho_at",
    "max_deploy_cost",
    "min_clusters",
    "rank_rtol",
    "safelora_threshold",
    "attack_targeted",
    "shrinkage",
    "canonical",
    "lm_eval",
    "inspect",
    "question_id",
    "template_id",
    "subject",
    "arm",
    "correct",
    "path",
    "task",
    "name",
    "to",
    "format",
]
RAW_BYTES = [
    b"\x00",
    b"\xff",
    b"\xed\xa0\x80",
    b"\xef\xbb\xbf",
    b"\r",
    b"\r\n",
    b"\t",
    "\u2028".encode(),
    "\u0085".encode(),
    b"\x1b",
    b"\x0c",
    b"\x0b",
]


@dataclass(frozen=True)
class Mutant:
    number: int
    seed_name: str
    steps: tuple[str, ...]
    data: bytes

    @property
    def suffix(self) -> str:
        return Path(self.seed_name).suffix

    def reproducer(self) -> str:
        return (
            f"mutant {self.number} of {self.seed_name} via {', '.join(self.steps)}\n"
            f"spec bytes: {self.data!r}"
        )


def _flip(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    if not text:
        return text, "flip(empty)"
    at = rng.randrange(len(text))
    bit = 1 << rng.randrange(8)
    return text[:at] + bytes([text[at] ^ bit]) + text[at + 1 :], f"flip@{at}^{bit}"


def _raw_byte(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    at = rng.randrange(len(text) + 1)
    insert = rng.choice(RAW_BYTES)
    return text[:at] + insert + text[at:], f"insert{insert!r}@{at}"


def _tokens(text: str) -> list[re.Match[str]]:
    return list(_TOKEN.finditer(text))


def _swap(rng: random.Random, text: str) -> tuple[str, str]:
    tokens = _tokens(text)
    if len(tokens) < 2:
        return text, "swap(none)"
    a, b = sorted(rng.sample(range(len(tokens)), 2))
    ta, tb = tokens[a], tokens[b]
    out = (
        text[: ta.start()]
        + tb.group()
        + text[ta.end() : tb.start()]
        + ta.group()
        + text[tb.end() :]
    )
    return out, f"swap({ta.group()[:20]!r},{tb.group()[:20]!r})"


def _replace_token(rng: random.Random, text: str) -> tuple[str, str]:
    tokens = _tokens(text)
    if not tokens:
        return text, "replace(none)"
    token = rng.choice(tokens)
    new = rng.choice(INTERESTING)
    return text[: token.start()] + new + text[
        token.end() :
    ], f"replace({token.group()[:20]!r}->{new[:20]!r})"


_YAML_SCALAR = re.compile(r"(?m)^(\s*(?:- )?[\w]+: )([^\s\[{&*!|>\"'#][^\n#]*)$")


def _in_string(rng: random.Random, text: str, payload: Callable[[str], str], label: str):
    """Append `payload` (JSON escapes) inside a double-quoted string; a plain YAML scalar
    becomes a double-quoted one first."""
    strings = [(m.start(), m.end(), m.group()[1:-1]) for m in _STRING.finditer(text)]
    strings += [
        (m.start(2), m.end(2), m.group(2).rstrip().replace("\\", "\\\\").replace('"', '\\"'))
        for m in _YAML_SCALAR.finditer(text)
    ]
    if not strings:
        return text, f"{label}(no string)"
    start, end, inner = rng.choice(strings)
    return text[:start] + '"' + payload(inner) + '"' + text[end:], label


def _path_like(text: str) -> list[re.Match[str]]:
    return [m for m in _STRING.finditer(text) if "/" in m.group()] + [
        m for m in re.finditer(r"(?<=: )(?:data|adapters)/\S+", text)
    ]


def _backslash_path(rng: random.Random, text: str) -> tuple[str, str]:
    paths = _path_like(text)
    if not paths:
        return text, "backslash(no path)"
    match = rng.choice(paths)
    return text[: match.start()] + match.group().replace("/", "\\\\") + text[
        match.end() :
    ], "backslash"


def _long_path(rng: random.Random, text: str) -> tuple[str, str]:
    paths = _path_like(text)
    if not paths:
        return text, "longpath(no path)"
    match = rng.choice(paths)
    kind = rng.choice(["component", "total"])
    value = match.group()
    quote = '"' if value.startswith('"') else ""
    body = value.strip('"')
    if kind == "component":
        body = body.rsplit("/", 1)[0] + "/" + "n" * rng.choice([256, 300, 1000])
    else:
        body = "/".join(["d" * 200] * rng.choice([21, 25, 40])) + "/" + body
    return text[: match.start()] + quote + body + quote + text[match.end() :], f"longpath({kind})"


def _huge_number(rng: random.Random, text: str) -> tuple[str, str]:
    numbers = list(_NUMBER.finditer(text))
    if not numbers:
        return text, "huge(no number)"
    match = rng.choice(numbers)
    new = rng.choice(
        [
            HUGE,
            "-" + HUGE,
            "1e999",
            "-1e999",
            "1e-999",
            HUGE + ".5",
            "1" + "0" * 400,
            "0x10",
            "1_000",
            "9223372036854775807",
            "1e308",
        ]
    )
    return text[: match.start()] + new + text[match.end() :], f"huge({new[:12]})"


def _deep(rng: random.Random, text: str, yaml: bool) -> tuple[str, str]:
    depth = rng.choice([15, 16, 17, 40, 200, 3000])
    lines = text.splitlines(keepends=True)
    at = rng.randrange(len(lines) + 1)
    if yaml:
        block = "  deep: " + "[" * depth + "1" + "]" * depth + "\n"
    else:
        block = "".join(f"  n{i} {{\n" for i in range(depth)) + "  }\n" * depth
    return "".join(lines[:at]) + block + "".join(lines[at:]), f"deep({depth})@{at}"


def _duplicate_block(rng: random.Random, text: str) -> tuple[str, str]:
    lines = text.splitlines(keepends=True)
    starts = [i for i, line in enumerate(lines) if line.rstrip().endswith(("{", ":"))]
    if not starts:
        return text, "dup(no block)"
    start = rng.choice(starts)
    indent = len(lines[start]) - len(lines[start].lstrip())
    end = start + 1
    while end < len(lines) and (
        len(lines[end]) - len(lines[end].lstrip()) > indent or not lines[end].strip()
    ):
        end += 1
    if end < len(lines) and lines[end].strip() == "}":
        end += 1
    times = rng.choice([1, 2, 50])
    block = "".join(lines[start:end])
    return "".join(lines[:end]) + block * times + "".join(
        lines[end:]
    ), f"dup({start}-{end}x{times})"


def _delete_span(rng: random.Random, text: str) -> tuple[str, str]:
    if len(text) < 2:
        return text, "delete(short)"
    start = rng.randrange(len(text))
    length = rng.choice([1, 2, 5, 20, 200])
    return text[:start] + text[start + length :], f"delete@{start}+{length}"


def _yaml_trick(rng: random.Random, text: str) -> tuple[str, str]:
    tricks = [
        ("anchor", lambda t: t.replace("claim:", "claim: &c", 1) + "other: *c\n"),
        ("tag", lambda t: t.replace("title:", "title: !!python/object/apply:os.system", 1)),
        ("merge", lambda t: t.replace("claim:\n", "claim:\n  <<: {model: x}\n", 1)),
        ("flow", lambda t: t.replace("\n  ", " ", 3)),
        ("tab", lambda t: t.replace("  ", "\t", 1)),
        ("doc", lambda t: t + "---\naccard: 1\n"),
        ("timestamp", lambda t: re.sub(r"seed: \d+", "seed: 2001-12-14", t)),
        ("set", lambda t: t.replace("claim:", "claim: !!set", 1)),
    ]
    name, trick = rng.choice(tricks)
    return trick(text), f"yaml:{name}"


def mutate(number: int, seeds: list[str] | None = None) -> Mutant:
    rng = random.Random(f"{SEED}:{number}")
    seeds = seeds or SEEDS
    seed_name = seeds[number % len(seeds)]
    yaml = seed_name.endswith(".yaml")
    text = (EXAMPLE / seed_name).read_text(encoding="utf-8")
    steps = []
    data: bytes | None = None
    for _ in range(rng.choice([1, 1, 2, 3])):
        kind = rng.choice(
            [
                "swap",
                "replace",
                "replace",
                "nul",
                "surrogate",
                "long_name",
                "long_path",
                "backslash",
                "huge",
                "deep",
                "dup",
                "delete",
                "flip",
                "raw",
                "control",
                "yaml",
            ]
        )
        if kind in ("flip", "raw"):
            raw = data if data is not None else text.encode("utf-8")
            raw, step = (_flip if kind == "flip" else _raw_byte)(rng, raw)
            data = raw
            steps.append(step)
            continue
        if data is not None:  # keep working on text where the bytes still decode
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                continue
            data = None
        if kind == "swap":
            text, step = _swap(rng, text)
        elif kind == "replace":
            text, step = _replace_token(rng, text)
        elif kind == "nul":
            text, step = _in_string(rng, text, lambda s: s + "\\u0000x", "nul")
        elif kind == "surrogate":
            text, step = _in_string(
                rng,
                text,
                lambda s: s + rng.choice(["\\ud800", "\\udc80", "\\udfff", "\\ud83d"]),
                "surrogate",
            )
        elif kind == "control":
            text, step = _in_string(
                rng,
                text,
                lambda s: s + rng.choice(["\\u001b[31m", "\\u0007", "\\u2028", "\\u202e", "\\r"]),
                "control",
            )
        elif kind == "long_name":
            text, step = _in_string(
                rng,
                text,
                lambda s: s * 1 + "x" * rng.choice([255, 256, 4096, 100_000]),
                "long_name",
            )
        elif kind == "long_path":
            text, step = _long_path(rng, text)
        elif kind == "backslash":
            text, step = _backslash_path(rng, text)
        elif kind == "huge":
            text, step = _huge_number(rng, text)
        elif kind == "deep":
            text, step = _deep(rng, text, yaml)
        elif kind == "dup":
            text, step = _duplicate_block(rng, text)
        elif kind == "delete":
            text, step = _delete_span(rng, text)
        else:
            text, step = _yaml_trick(rng, text) if yaml else _swap(rng, text)
        steps.append(step)
    final = data if data is not None else text.encode("utf-8", "surrogatepass")
    return Mutant(number, seed_name, tuple(steps), final)


# --- running a mutant --------------------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by SIGALRM; a BaseException so that accard's exit-3 guard does not catch it."""


def _alarm(_signum: int, _frame: object) -> None:
    raise CaseTimeout


def workspace(root: Path) -> Path:
    """A private copy of specs/example (the mutants' paths point into it)."""
    target = root / "example"
    if not target.exists():
        shutil.copytree(EXAMPLE, target, symlinks=True)
    return target


def command_for(mutant: Mutant, spec: Path) -> list[str]:
    """plan (text or JSON) for most mutants; every 8th runs check with B = 1000."""
    choice = (mutant.number // len(SEEDS)) % 8  # independent of the seed spec
    if choice == 0:
        return ["--debug", "check", str(spec), "--resamples", "1000"]
    if choice % 2:
        return ["--debug", "plan", str(spec), "--json"]
    return ["--debug", "plan", str(spec)]


@dataclass(frozen=True)
class Result:
    outcome: str
    """exit0 / exit1 / exit2 / exit3 / crash / timeout."""
    cause: str = ""


def run_mutant(mutant: Mutant, folder: Path, timeout: float = 5.0) -> Result:
    """Write the mutant as fuzz.<suffix> in `folder` and run accard in-process."""
    from click.testing import CliRunner

    from accompiler.cli import main

    spec = folder / f"fuzz{mutant.suffix}"
    spec.write_bytes(mutant.data)
    runner = CliRunner()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        result = runner.invoke(main, command_for(mutant, spec), catch_exceptions=True)
    except CaseTimeout:
        return Result("timeout", f"over {timeout} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    code = result.exit_code
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        frames = traceback.extract_tb(result.exc_info[2]) if result.exc_info else []
        return Result(
            "crash", _cause(type(result.exception).__name__, str(result.exception), frames)
        )
    if code == 3:
        return Result("exit3", _cause_from_debug(result.stderr))
    return Result(f"exit{code}")


def _frame(frames: list[traceback.FrameSummary]) -> str:
    own = [f for f in frames if "accompiler" in f.filename] or frames
    if not own:
        return "?"
    last = own[-1]
    return f"{Path(last.filename).name}:{last.lineno} {last.name}"


def _normalise(message: str) -> str:
    message = message.replace("can't", "cannot")
    message = re.sub(r"'[^']*'|\"[^\"]*\"|`[^`]*`", "…", message)
    return re.sub(r"\d+", "N", message)[:120]


def _cause(kind: str, message: str, frames: list[traceback.FrameSummary]) -> str:
    return f"{kind}: {_normalise(message)} @ {_frame(frames)}"


def _cause_from_debug(stderr: str) -> str:
    frames = re.findall(r'File "([^"]+)", line (\d+), in (\S+)', stderr)
    own = [f for f in frames if "accompiler" in f[0]] or frames
    where = f"{Path(own[-1][0]).name}:{own[-1][1]} {own[-1][2]}" if own else "?"
    error = next(
        (
            ln
            for ln in reversed(stderr.splitlines())
            if re.match(r"^[\w.]+(Error|Exception|Warning)\b|^[\w.]+: ", ln)
            and not ln.startswith("internal error")
        ),
        "",
    )
    if not error:
        error = next((ln for ln in stderr.splitlines() if ln.startswith("internal error")), "?")
    kind, _, message = error.partition(": ")
    return f"{kind}: {_normalise(message)} @ {where}"


__all__ = ["Mutant", "Result", "SEEDS", "mutate", "run_mutant", "workspace", "CaseTimeout"]
