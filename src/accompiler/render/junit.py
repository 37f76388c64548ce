"""Card -> JUnit XML: each diagnostic a test case (a suite per coding), so a CI dashboard
shows which of the four a claim passes. Reads only the card's JSON; no timestamps."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from typing import Any

from ..diagnostics import DIAGNOSTICS


def card_junit(card: Mapping[str, Any]) -> str:
    """Two suites, strict and permissive; `fail` is a failure, `not_evaluable` a skip."""
    sections = card["diagnostics"]
    root = ElementTree.Element("testsuites", name=f"accard: {card['claim']['title']}")
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for coding, verdict in card["verdict"].items():
        suite = _suite(card, coding, verdict, sections)
        root.append(suite)
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    root.attrib.update({key: str(value) for key, value in totals.items()} | {"errors": "0"})
    ElementTree.indent(root)
    body = ElementTree.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _suite(
    card: Mapping[str, Any], coding: str, verdict: Mapping[str, Any], sections: Mapping[str, Any]
) -> ElementTree.Element:
    permissive = coding == "permissive"
    statuses = {
        name: (entry.permissive if permissive else entry.strict)(sections[name])
        for name, entry in DIAGNOSTICS.items()
        if name in sections
    }
    suite = ElementTree.Element(
        "testsuite",
        name=f"{coding}: {card['claim']['title']}",
        tests=str(len(statuses)),
        failures=str(sum(s == "fail" for s in statuses.values())),
        skipped=str(sum(s == "not_evaluable" for s in statuses.values())),
        errors="0",
    )
    properties = ElementTree.SubElement(suite, "properties")
    for name, value in (
        ("verdict", "pass" if verdict["pass"] else "fail"),
        ("passed", f"{verdict['passed']}/{len(statuses)}"),
        ("defense", card["claim"]["defense"]),
        ("model", card["claim"]["model"]),
    ):
        ElementTree.SubElement(properties, "property", name=name, value=str(value))
    for name, status in statuses.items():
        suite.append(_case(coding, DIAGNOSTICS[name].label, status, sections[name]))
    return suite


def _case(coding: str, label: str, status: str, section: Mapping[str, Any]) -> ElementTree.Element:
    case = ElementTree.Element("testcase", classname=f"accard.{coding}", name=label)
    reason = str(section.get("reason") or status)
    if status == "fail":
        failure = ElementTree.SubElement(case, "failure", message=reason, type="fail")
        failure.text = reason
    elif status == "not_evaluable":
        ElementTree.SubElement(case, "skipped", message=f"not evaluable: {reason}")
    return case
