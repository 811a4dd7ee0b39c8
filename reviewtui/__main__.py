"""``python -m reviewtui``: the same as the ``reviewtui`` command."""

from reviewtui.entry import main

if __name__ == "__main__":  # not when a worker process is started by spawning
    raise SystemExit(main())
