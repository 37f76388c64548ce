"""accard: Acceptance Cards for safe fine-tuning defense claims."""

from __future__ import annotations

__version__ = "0.1.0"
