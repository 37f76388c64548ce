"""`python -m accompiler.audit.pool_worker`: the process a pool runs (see worker.main). Nothing
imports this module, so running it does not find it already imported by the package."""

from __future__ import annotations

from .worker import main

if __name__ == "__main__":
    main()
