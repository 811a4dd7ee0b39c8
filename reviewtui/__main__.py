"""``python -m reviewtui``: the same as the ``reviewtui`` command."""

from reviewtui.entry import main

raise SystemExit(main())
