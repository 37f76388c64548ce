"""The package version, in its own module so that nothing imports the package to learn it."""

__version__ = "0.1.0"
