"""Notifications are news once: a job's end is told when the app first shows it; a screen that
shows the same job again (the app reopened) shows it without the old notifications."""

from __future__ import annotations

from test_tui import RecordingApp, settle
from textual.notifications import Notify

SIZE = (100, 30)


class ToastApp(RecordingApp):
    """The app, keeping the notifications it really posted (``notes`` also keeps those it dropped)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.shown: list[str] = []

    def post_message(self, message) -> bool:
        if isinstance(message, Notify):
            self.shown.append(message.notification.message)
        return super().post_message(message)


async def open_tuning(ws) -> tuple[list[str], str]:
    app = ToastApp(ws, start="status", assist=False, probe_gpus=False, cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        await pilot.press("4")  # the tuning screen follows the newest job, ended or not
        await settle(app, pilot)
        state = str(app.screen.query_one("#tune-state").render())
        return app.shown, state


async def test_a_failed_jobs_error_is_told_once_not_at_each_opening(fixture_ws):
    ws = fixture_ws
    job = ws.jobs.claim("train", "train", {"version": ws.latest_version().name, "name": "m1"}, ["models/m1"])
    ws.jobs.mark_running(job.id)
    ws.jobs.finish(job.id, "failed", error="CUDA out of memory while training m1")
    first, state = await open_tuning(ws)
    assert first == ["CUDA out of memory while training m1"]
    assert "failed: CUDA out of memory" in state
    for _ in range(2):  # reopened: the screen still says how the job ended, no toast says it again
        again, state = await open_tuning(ws)
        assert again == []
        assert f"job {job.id} failed: CUDA out of memory" in state


async def test_a_finished_search_is_told_once_and_a_newer_one_is_news(fixture_ws):
    from tui_data import best_versus_last_reports

    from reviewtui.modeling.tuning import tune_result_to_dict

    ws = fixture_ws

    def search() -> str:
        _events, result = best_versus_last_reports()
        job = ws.jobs.claim("tune", "tune trials=2", {"trials": 2}, [])
        ws.jobs.mark_running(job.id)
        ws.jobs.finish(job.id, "cancelled", result={"search": tune_result_to_dict(result)})
        return job.id

    search()
    first, _ = await open_tuning(ws)
    assert len(first) == 1 and "Best trial t1" in first[0]
    again, state = await open_tuning(ws)
    assert again == [] and "Best trial t1" in state
    search()  # ended while the app was closed: news the next time it opens, once
    news, state = await open_tuning(ws)
    assert len(news) == 1 and "Best trial t1" in news[0]
    assert (await open_tuning(ws))[0] == []
