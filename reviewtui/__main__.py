"""``python -m reviewtui``: the same as the ``reviewtui`` command."""

from reviewtui.cli import main

raise SystemExit(main())
