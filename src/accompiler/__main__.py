"""`python -m accompiler` runs the accard command line."""

from .cli import main

main()
