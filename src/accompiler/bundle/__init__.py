"""Submission bundles: a spec, every input its plan reads, its card and a manifest, as a zip
or a directory (schemas/bundle.v1.schema.json). `pack` writes one; `open_bundle` reads one
safely into a folder of the caller's; `verify_bundle` validates and reproduces its card.

    from accompiler.bundle import open_bundle
    bundle = open_bundle(Path("submission.zip"), workdir)   # SpecError if malformed
    bundle.spec, bundle.card, bundle.manifest.files
"""

from __future__ import annotations

from .manifest import BUNDLE_VERSION, MANIFEST, FileEntry, Manifest, parse_manifest, path_fault
from .pack import pack
from .reader import LIMITS, Bundle, Limits, open_bundle
from .verify import Verification, verify_bundle

__all__ = [
    "BUNDLE_VERSION",
    "LIMITS",
    "MANIFEST",
    "Bundle",
    "FileEntry",
    "Limits",
    "Manifest",
    "Verification",
    "open_bundle",
    "pack",
    "parse_manifest",
    "path_fault",
    "verify_bundle",
]
