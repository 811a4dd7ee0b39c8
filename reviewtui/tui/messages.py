"""Core events carried into the app as Textual messages.

Core work runs in thread workers and reports through an ``on_event`` callback; ``event_sink``
turns that callback into ``post_message`` calls, which are thread-safe. High-rate progress
messages coalesce (``can_replace``) so a fast loop never floods the message queue.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message
from textual.message_pump import MessagePump

from reviewtui.events import Notice, Progress, TrialUpdate


class CoreEvent(Message):
    """One core event (Progress, Notice or TrialUpdate) for the screen that started the work."""

    def __init__(self, event: Any, group: str = "") -> None:
        super().__init__()
        self.event = event
        self.group = group

    def can_replace(self, message: Message) -> bool:
        if not isinstance(message, CoreEvent) or message.group != self.group:
            return False
        new, old = self.event, message.event
        if isinstance(new, Progress) and isinstance(old, Progress):
            return new.task == old.task
        if isinstance(new, TrialUpdate) and isinstance(old, TrialUpdate):
            # a later RUNNING update of the same trial supersedes an earlier one; status changes never drop
            return new.trial_id == old.trial_id and new.status == old.status == "RUNNING"
        return False


def event_sink(target: MessagePump, group: str = ""):
    """An EventSink for core functions that posts each event to ``target`` (safe from threads)."""

    def sink(event: Any) -> None:
        target.post_message(CoreEvent(event, group))

    return sink


def notice_severity(event: Notice) -> str:
    return {"error": "error", "warning": "warning"}.get(event.level, "information")
