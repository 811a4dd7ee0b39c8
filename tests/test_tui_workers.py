"""The app's loading workers: a screen shown once loads once, and a load that a newer one replaced
does not put its older result on the screen when it ends after it."""

from __future__ import annotations

import threading

import pytest

from test_tui import SIZE, make_app, settle

pytestmark = pytest.mark.asyncio


def counting(monkeypatch, cls, method: str) -> list:
    calls: list = []
    real = getattr(cls, method)

    def counted(self, *args, **kwargs):
        calls.append(args)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, method, counted)
    return calls


@pytest.mark.parametrize(("start", "loader"), [("quality", "load"), ("status", "load"), ("diff", "fill_versions"),
                                               ("summary", "load")])
async def test_a_screen_shown_once_loads_once(fixture_ws, monkeypatch, start, loader):
    """Textual resumes a mode's screen twice when it first shows it: each screen started its loading
    twice, and on a busy machine both ran, the later one repainting the tables after the other."""
    from reviewtui.tui.screens import screen_class

    calls = counting(monkeypatch, screen_class(start), loader)
    app = make_app(fixture_ws, start=start)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.pause(0.2)
        assert len(calls) == 1
        if start == "quality":  # shown again (away and back): loaded again
            await pilot.press("1")
            await settle(app, pilot)
            await pilot.press("6")
            await settle(app, pilot)
            assert app.current_mode == "quality" and len(calls) == 2


async def test_a_diff_replaced_by_a_later_choice_does_not_come_back_when_it_ends(fixture_ws, monkeypatch):
    """The diff of the versions first shown is slow; the user picks the two the other way round,
    whose diff comes first: the slow one, ending after it, must not put the old pair back."""
    ws = fixture_ws
    first, second = (v.name for v in ws.versions()[-2:])
    real = ws.diff
    release, ended = threading.Event(), threading.Event()

    def diff(a, b, *args, **kwargs):
        if (a, b) == (first, second) and not release.is_set():
            release.wait(10)
            try:
                return real(a, b, *args, **kwargs)
            finally:
                ended.set()
        return real(a, b, *args, **kwargs)

    monkeypatch.setattr(ws, "diff", diff)
    app = make_app(ws, start="diff")
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause(0.2)
        screen = app.screen
        assert screen.diff is None  # the first diff still runs
        screen.run_diff(second, first)
        await settle(app, pilot)
        assert (screen.diff.a, screen.diff.b) == (second, first)
        release.set()
        assert ended.wait(10)
        await pilot.pause(0.2)
        assert (screen.diff.a, screen.diff.b) == (second, first)
        assert "removed" in str(screen.query_one("#diff-summary").render())


def test_quitting_does_not_wait_for_a_worker_thread_at_work():
    """ctrl+q left the terminal blank for minutes: asyncio waits for its default executor's threads
    when the app's loop ends, and the labeling screen was embedding the corpus in one."""
    import threading

    from reviewtui.tui.app import NoWaitExecutor

    release, started = threading.Event(), threading.Event()

    def long_work():
        started.set()
        release.wait(30)
        return "done"

    pool = NoWaitExecutor()
    future = pool.submit(long_work)
    started.wait(10)
    pool.shutdown(wait=True)  # what asyncio.run asks at its end: returns with the work still running
    assert not future.done()
    release.set()
    assert future.result(timeout=10) == "done"
