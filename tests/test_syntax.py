"""The claim language: grammar strictness, spans, the invalid corpus, fmt and convert."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from lark.exceptions import UnexpectedInput

from accompiler._resources import grammar_path, load_schema
from accompiler.canonical import dumps
from accompiler.claim.decode import decode_claim
from accompiler.claim.emit import claim_to_ac, claim_to_yaml
from accompiler.claim.load import load_spec
from accompiler.claim.model import (
    Adapter,
    Claim,
    DataSet,
    Defense,
    RecordFile,
    Records,
    Relabel,
)
from accompiler.claim.settings import Settings
from accompiler.plan import Plan, plan_to_json
from accompiler.problems import SpecError
from accompiler.records.formats import FORMATS
from accompiler.spec import parse_spec, tables
from accompiler.spec.dsl import _parser, parse_document
from accompiler.spec.fmt import format_document
from conftest import GOLDEN, ROOT, SPECS

INVALID = sorted(p for p in (SPECS / "invalid").rglob("*") if p.suffix in (".ac", ".yaml"))
EXAMPLES = sorted((SPECS / "example").glob("*.ac"))


def test_grammar_builds_strict_lalr() -> None:
    parser = _parser(strict=True)
    assert parser.options.parser == "lalr"
    assert parser.options.strict


def test_shipped_grammar_tables_are_current() -> None:
    """The LALR tables shipped in spec/_grammar_tables.py were built from today's grammar
    (regenerate with `python grammar/make_tables.py`), and the runtime parser uses them
    whenever the installed lark is the one that built them. (lark numbers the tables'
    tokens in the order of sets of objects, so two builds differ as text:
    test_tables_parse_as_the_grammar_does compares what they do.)"""
    import lark

    from accompiler.spec import _grammar_tables

    text = grammar_path().read_text(encoding="utf-8")
    assert _grammar_tables.GRAMMAR_SHA256 == tables.grammar_sha256(text), (
        "grammar/accard.lark changed: run `python grammar/make_tables.py`"
    )
    used = tables.parser().source_path == "<deserialized>"
    assert used == (_grammar_tables.LARK_VERSION == lark.__version__)


def test_tables_parse_as_the_grammar_does() -> None:
    """Every spec and audit file in the repository (and the invalid corpus, errors included)
    parses to the same tree, or the same error, with the shipped tables as with a parser
    built from the grammar."""
    loaded, built = tables.parser(), tables.build(grammar_path().read_text(encoding="utf-8"))
    sources = sorted({*ROOT.glob("specs/**/*.ac"), *ROOT.glob("examples/**/*.ac")})
    assert len(sources) > 30
    for path in sources:
        text = path.read_text(encoding="utf-8")
        outcomes = []
        for parser in (loaded, built):
            try:
                outcomes.append(parser.parse(text))
            except UnexpectedInput as error:
                outcomes.append((type(error).__name__, error.line, error.column))
        assert outcomes[0] == outcomes[1], path


def test_stale_tables_are_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tables built from another grammar (or by another lark) are ignored: the parser is
    built from the grammar instead."""
    from accompiler.spec import _grammar_tables

    monkeypatch.setattr(_grammar_tables, "GRAMMAR_SHA256", "0" * 64)
    assert tables.parser().source_path != "<deserialized>"
    monkeypatch.undo()
    monkeypatch.setattr(_grammar_tables, "LARK_VERSION", "0.0.0")
    assert tables.parser().source_path != "<deserialized>"


def test_corpus_is_large_enough() -> None:
    assert len(INVALID) >= 30


@pytest.mark.parametrize("path", INVALID, ids=lambda p: str(p.relative_to(SPECS / "invalid")))
def test_invalid_spec_gives_exact_problems(path: Path, golden) -> None:
    display = str(path.relative_to(ROOT))
    with pytest.raises(SpecError) as caught:
        load_spec(path, display)
    rendered = caught.value.render()
    assert path.read_text().startswith("# proves: "), "each invalid spec says what it proves"
    name = str(path.relative_to(SPECS / "invalid")).replace("/", "__")
    golden(GOLDEN / "invalid" / f"{name}.problems.txt", rendered)


def test_problem_points_at_the_exact_character() -> None:
    path = SPECS / "invalid" / "confidence_out_of_range.ac"
    with pytest.raises(SpecError) as caught:
        load_spec(path, "x.ac")
    (problem,) = caught.value.problems
    line = path.read_text().splitlines()[problem.span.line - 1]
    assert line[problem.span.column - 1 : problem.span.end_column - 1] == "1.5"
    assert problem.field == "claim.settings.confidence"


def test_all_problems_reported_in_one_run() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(SPECS / "invalid" / "many_problems.ac")
    assert len(caught.value.problems) == 4


def test_unknown_keyword_suggests_the_known_one() -> None:
    with pytest.raises(SpecError) as caught:
        load_spec(SPECS / "invalid" / "unknown_keyword.ac")
    assert 'did you mean "settings"?' in caught.value.problems[0].summary


def test_spec_over_one_mebibyte_is_refused(tmp_path: Path) -> None:
    spec = tmp_path / "big.ac"
    spec.write_text("# " + "x" * (1 << 20) + "\n")
    with pytest.raises(SpecError, match="limit is 1 MiB"):
        load_spec(spec)


@pytest.mark.parametrize("levels", [40, 20_000])
def test_deep_nesting_is_refused(tmp_path: Path, levels: int) -> None:
    spec = tmp_path / "deep.ac"
    spec.write_text("a {\n" * levels + "}\n" * levels)
    with pytest.raises(SpecError) as caught:
        load_spec(spec)
    (problem,) = caught.value.problems
    assert problem.summary == "blocks nested deeper than 16"
    assert (problem.span.line, problem.span.column) == (17, 3)


@pytest.mark.parametrize("levels", [40, 20_000])
def test_deep_yaml_is_refused(tmp_path: Path, levels: int) -> None:
    spec = tmp_path / "deep.yaml"
    spec.write_text("accard: 1\nclaim: " + "[" * levels + "]" * levels + "\n")
    with pytest.raises(SpecError, match="nested deeper"):
        load_spec(spec)


def test_same_problems_from_both_front_ends(tmp_path: Path) -> None:
    ac = tmp_path / "c.ac"
    ac.write_text(
        'accard 1\nclaim "t" {\n  defense "D" {\n    mechanism attack_aware\n  }\n'
        '  model "m"\n  heldout "h" {\n    file "r.jsonl"\n  }\n  setings {\n  }\n}\n'
    )
    yml = tmp_path / "c.yaml"
    yml.write_text(
        "accard: 1\nclaim:\n  title: t\n  defense:\n    name: D\n"
        "    mechanism: attack_aware\n  model: m\n  heldout:\n    task: h\n"
        "    file: r.jsonl\n  setings: {}\n"
    )
    summaries = []
    for path in (ac, yml):
        with pytest.raises(SpecError) as caught:
            load_spec(path)
        summaries.append(sorted(p.summary for p in caught.value.problems))
    assert summaries[0] == summaries[1]
    assert len(summaries[0]) == 2


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_ac_and_yaml_build_the_same_claim(path: Path) -> None:
    assert load_spec(path)[0] == load_spec(path.with_suffix(".yaml"))[0]


# --- fmt ---------------------------------------------------------------------------------

MESSY = """# leading comment

accard   1
claim "t" {   # trailing on open
    defense "D" {
  mechanism shrinkage
      }


  # own-line comment before model
  model "m"    # trailing
  settings { seed 3
  resamples 2000 }
  # comment before the closing brace
}
# final comment
"""

CANONICAL = """# leading comment

accard 1
claim "t" {  # trailing on open
  defense "D" {
    mechanism shrinkage
  }

  # own-line comment before model
  model "m"  # trailing
  settings {
    seed 3
    resamples 2000
  }
  # comment before the closing brace
}
# final comment
"""


def _fmt(text: str) -> str:
    document, problems = parse_document(text, "x.ac")
    assert document is not None and not problems
    return format_document(document, text)


def test_fmt_canonical_layout_keeps_comments() -> None:
    assert _fmt(MESSY) == CANONICAL


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_canonical_and_fmt_is_idempotent(path: Path) -> None:
    text = path.read_text()
    assert _fmt(text) == text
    assert _fmt(_fmt(MESSY)) == _fmt(MESSY)


# --- convert: generated claims survive .ac and YAML round trips ---------------------------

_text = st.text(
    # claim text holds no control characters or lone surrogates (claim/decode.py text_fault)
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() != "")
_paths = st.lists(
    st.builds(
        RecordFile,
        st.from_regex(r"[a-z]{1,8}/[a-z0-9_]{1,8}\.jsonl", fullmatch=True),
        st.sampled_from([None, "deploy", "eval"]),
    ),
    min_size=1,
    max_size=3,
).map(tuple)


@st.composite
def _datasets(draw: st.DrawFn, role: str) -> DataSet:
    name = role if role == "fresh" else draw(_text)
    if draw(st.booleans()):
        return DataSet(role, name, files=draw(_paths))
    return DataSet(role, name, undefended=draw(_paths), defended=draw(_paths))


@st.composite
def claims(draw: st.DrawFn) -> Claim:
    mechanism = draw(st.sampled_from(["attack_targeted", "shrinkage"]))
    relabel = draw(
        st.none() | st.builds(Relabel, st.sampled_from(["attack_targeted", "shrinkage"]), _text)
    )
    record_format = draw(st.sampled_from(sorted(FORMATS)))
    fields = {
        k: draw(st.sampled_from([v, f"x.{k}"])) for k, v in FORMATS[record_format].fields.items()
    }
    lm_filter = draw(st.none() | _text) if record_format == "lm_eval" else None
    transfer_names = draw(st.lists(_text, max_size=3, unique=True))
    transfer = tuple(DataSet("transfer", n, files=draw(_paths)) for n in transfer_names)
    adapters = ()
    if draw(st.booleans()):
        adapters = tuple(
            Adapter(
                role,
                draw(st.from_regex(r"[a-z]{1,8}(\.safetensors)?", fullmatch=True)),
                draw(st.none() | st.floats(0.1, 64)),
            )
            for role in ("undefended", "defended", "reference")
        )
    if adapters and draw(st.booleans()):
        adapters += (Adapter("base", "w/base.safetensors"), Adapter("aligned", "w/al.safetensors"))
    settings_ = Settings(
        resamples=draw(st.integers(1000, 20000)),
        confidence=draw(st.floats(0.5, 0.999)),
        seed=draw(st.integers(0, 2**40)),
        tau_fresh=draw(st.floats(0.01, 1.0)),
        rho_at=draw(st.floats(0.01, 5)),
        max_deploy_cost=draw(st.none() | st.floats(0, 1)),
        min_clusters=draw(st.integers(2, 100)),
        safelora_threshold=draw(st.floats(-1, 1)),
        rank_rtol=draw(st.none() | st.floats(1e-12, 0.5)),
    )
    return Claim(
        draw(_text),
        Defense(draw(_text), mechanism, relabel),
        draw(_text),
        Records(record_format, tuple(fields.items()), lm_filter),
        draw(_datasets("heldout")),
        draw(st.none() | _datasets("fresh")),
        transfer,
        adapters,
        settings_,
    )


def _reparse(text: str, suffix: str) -> Claim:
    tree, problems = parse_spec(text, f"x{suffix}", suffix)
    assert tree is not None and not problems, problems
    claim, problems = decode_claim(tree)
    assert claim is not None, problems
    return claim


@settings(max_examples=150, deadline=None)
@given(claims())
def test_convert_round_trips_both_ways(claim: Claim) -> None:
    via_ac = _reparse(claim_to_ac(claim), ".ac")
    via_yaml = _reparse(claim_to_yaml(claim), ".yaml")
    assert via_ac == claim
    assert via_yaml == claim
    assert _reparse(claim_to_yaml(via_ac), ".yaml") == claim
    assert claim_to_ac(via_yaml) == claim_to_ac(claim)
    plans = {dumps(plan_to_json(Plan(c, (), (), ()))) for c in (claim, via_ac, via_yaml)}
    assert len(plans) == 1
    written = yaml.safe_load(claim_to_yaml(claim))
    assert list(Draft202012Validator(load_schema("spec.v1")).iter_errors(written)) == []


# --- robustness: arbitrary text gives a claim or problems, never an exception --------------

_SPEC_ALPHABET = st.sampled_from(
    list('{}"#\\:=,;[]\n\t ')
    + [
        "accard",
        "1",
        "claim",
        "defense",
        "mechanism",
        "shrinkage",
        "relabel",
        "because",
        "heldout",
        "file",
        "settings",
        "seed",
        "-0.5",
        "1e9",
        '"x"',
        "\u00e9",
        "\u2028",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_SPEC_ALPHABET, max_size=60).map("".join))
def test_arbitrary_ac_text_never_raises(text: str) -> None:
    tree, problems = parse_spec(text, "fuzz.ac", ".ac")
    if tree is not None and not problems:
        decode_claim(tree)


@settings(max_examples=300, deadline=None)
@given(st.text(st.sampled_from(list("{}[]:-,&*!'\"#\n ab1.")), max_size=80))
def test_arbitrary_yaml_text_never_raises(text: str) -> None:
    tree, problems = parse_spec(text, "fuzz.yaml", ".yaml")
    if tree is not None and not problems:
        decode_claim(tree)


def _readme_blocks(language: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    blocks = text.split("```")
    return [b.split("\n", 1)[1] for b in blocks[1::2] if b.split("\n", 1)[0].strip() == language]


def test_readme_examples_are_valid_claims() -> None:
    (annotated,) = [b for b in _readme_blocks("") if b.startswith("accard 1")]
    (yaml_form,) = _readme_blocks("yaml")
    claims = []
    for text, suffix in ((annotated, ".ac"), (yaml_form, ".yaml")):
        tree, problems = parse_spec(text, f"README{suffix}", suffix)
        assert tree is not None and not problems, problems
        claim, problems = decode_claim(tree)
        assert claim is not None, problems
        claims.append(claim)
    assert claims[0] == claims[1]
