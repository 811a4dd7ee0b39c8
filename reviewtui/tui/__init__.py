"""The Textual app. Only this package imports textual; the core never imports it.

* ``app``       ReviewApp: the modes, the app-wide keys, export, worker errors as notifications
* ``screens/``  one screen a file and their registry (``screens.SCREENS``, ``screen_class``)
* ``widgets/``  the tab bar, bar charts, the live trial table, the GPU panel, the labeling
                screen's filter bar and stop line
* ``messages``  core events as Textual messages, and the typed results workers post
* ``commands``  the command palette's entries, built from the registry and the bindings
* ``output``    where libraries' prints go while the app runs (cache/app-output.log)
* ``app.tcss``  the one stylesheet
"""
