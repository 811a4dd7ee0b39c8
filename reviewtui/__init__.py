"""reviewtui: a keyboard-driven terminal app for the active-learning loop of review classification.

This package's top level stays light: importing it must not import textual, torch, transformers,
datasets, ray or pandas.
"""

__version__ = "0.1.0"
