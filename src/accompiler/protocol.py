"""The protocol's vocabulary (PROTOCOL.md): arms, conditions, cells, mechanism classes."""

from __future__ import annotations

ARMS = ("undefended", "defended")
CONDITIONS = ("deploy", "eval")
# The four cells of a question, in the order every table and contrast uses.
CELLS = tuple((arm, condition) for arm in ARMS for condition in CONDITIONS)
MECHANISM_CLASSES = ("attack_targeted", "shrinkage")
