"""``python -m reviewtui``: the same as the ``reviewtui`` command."""

from reviewtui.entry import main

if __name__ == "__main__":  # run as the program, not when imported
    raise SystemExit(main())
