"""A Verification -> the editor's report, as text or Markdown (JSON: `to_json`)."""

from __future__ import annotations

from .verify import Verification


def render_text(result: Verification) -> str:
    lines = [f"{result.source}: {'VERIFIED' if result.verified else 'NOT VERIFIED'}"]
    lines += [f"{label:<11}{text}" for label, text in _facts(result)]
    reasons = result.reasons()
    if reasons:
        lines.append("why not verified:")
        lines += [f"  - {reason}" for reason in reasons]
    if result.reproduction is not None:
        lines.append("reproduction:")
        lines += ["  " + line for line in result.reproduction.render().splitlines()]
    return "\n".join(lines)


def render_markdown(result: Verification) -> str:
    mark = "✅ verified" if result.verified else "❌ not verified"
    lines = [f"## Acceptance Card submission `{result.source}`: {mark}", "", "| | |", "|---|---|"]
    lines += [f"| {label} | {_cell(text)} |" for label, text in _facts(result)]
    reasons = result.reasons()
    if reasons:
        lines += ["", "**Why not verified**", ""] + [f"- {_cell(r)}" for r in reasons]
    reproduction = result.reproduction
    if reproduction is not None:
        lines += ["", "**Reproduction**", "", "```", reproduction.render(), "```"]
    return "\n".join(lines)


def _facts(result: Verification) -> list[tuple[str, str]]:
    manifest = result.manifest
    size = sum(f.size for f in manifest.files)
    facts = [
        (
            "bundle",
            f"packed by {manifest.tool_name} {manifest.tool_version}; {len(manifest.files)} "
            f"files, {_bytes(size)}; spec {manifest.spec}, card {manifest.card}",
        )
    ]
    verdict = result.verdict
    if verdict is None:
        facts.append(("card", "NOT a valid card (see why below)"))
        return facts
    strict, permissive = verdict["strict"], verdict["permissive"]
    count = len(strict["failed"]) + len(strict["not_evaluable"]) + strict["passed"]
    facts.append(
        (
            "claim",
            f"strict {'PASS' if strict['pass'] else 'FAIL'} ({strict['passed']}/{count} pass), "
            f"permissive {'PASS' if permissive['pass'] else 'FAIL'} "
            f"({permissive['passed']}/{count} pass)"
            + (" (gated: --require-pass)" if result.require_pass else " (reported, not gated)"),
        )
    )
    if result.reproduction is not None:
        facts.append(("card", result.reproduction.headline().split(": ", 1)[1]))
    return facts


def _bytes(size: int) -> str:
    if size < 1000:
        return f"{size} bytes"
    scaled = float(size)
    for unit in ("KB", "MB"):
        scaled /= 1000
        if scaled < 1000:
            return f"{scaled:.1f} {unit}"
    return f"{scaled / 1000:.1f} GB"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
