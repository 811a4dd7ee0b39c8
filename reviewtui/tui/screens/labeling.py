"""Labeling: one review at a time, large; number keys label it, the answer is saved at once.

Keys: 1-9 label with that category, s skip (asks a reason), u undo, R send to review, left/right
move in the queue, PgDn/PgUp (or shift+down/up) scroll a long review, r re-rank the queue (refit
the quick model on the labels so far), t switch the active-learning strategy and re-rank, v
evidence-span mode (left/right move over words, space selects a word, a number key labels with the
selected words as evidence spans). - 0 + record the review's sentiment (negative, neutral,
positive; = works for neutral too) without moving on, so "+ 2" gives the review its sentiment and
its category: the sentiment is its own label history (u undoes it like a label) and versions
export it. The queue comes
from the store (priorities set by active learning). ``[active_learning] retrain_every = N`` re-ranks
it in the background after every N labels, and on opening when no ranked batch is waiting in it (a
fresh import: the zero-shot first batch); ``0`` never does by itself: r does it when asked.
A, S, T and D choose the queue (active learning, suspect labels, stars vs text, disagreements) and
c confirms a label: see :mod:`reviewtui.tui.screens.review_queues`.
/ search, f filters, B bulk label, L learning curves and the stop line: see
:mod:`reviewtui.tui.screens.labeling_loop`.
"""

from __future__ import annotations

import re
from dataclasses import fields
from typing import Any

from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.reactive import reactive
from textual.widgets import Static

from reviewtui import presentation as say
from reviewtui.config import CONFIG_NAME
from reviewtui.errors import ReviewtuiError
from reviewtui.settings import ActiveLearningSettings
from reviewtui.store import Asset
from reviewtui.tui.messages import QueueLoaded, RerankFinished, SentToReview, SuggestionsReady
from reviewtui.tui.queues import QUEUE_BINDINGS
from reviewtui.tui.screens.labeling_loop import FIND_BINDINGS, LOOP_BINDINGS, LoopControls
from reviewtui.tui.screens.review_queues import ReviewQueueScreen

WORD_RE = re.compile(r"\S+")
QUEUE_CHUNK = 50
TALL = 30  # from this many rows the categories panel repeats the footer's main keys
NAME_CELLS = 24  # a category name in the side panel, beside its number, and the ◀ of a suggestion after it
SKIP_REASONS = ("not English", "spam", "unclear", "not a review")
STRATEGIES: tuple[str, ...] = next(f.metadata["choices"] for f in fields(ActiveLearningSettings)
                                   if f.name == "strategy")


def stars(score: Any) -> str:
    try:
        n = max(0, min(5, int(float(score))))
    except (TypeError, ValueError):
        return "no stars"
    return "★" * n + "☆" * (5 - n)


class LabelingScreen(LoopControls, ReviewQueueScreen):
    MODE = "labeling"
    FUNCTION_KEY_TABS = True
    BINDINGS = [
        *[Binding(str(n), f"label({n})", "Label" if n == 1 else f"Label with category {n}", show=n == 1, key_display="1-9", id=f"labeling.label{n}")
          for n in range(1, 10)],
        Binding("l", "pick_category", "Any category", id="labeling.pick"),
        Binding("s", "skip", "Skip", id="labeling.skip"),
        Binding("u", "undo", "Undo", id="labeling.undo"),
        *FIND_BINDINGS,
        # a review longer than its pane (80x24 shows a dozen lines): the arrows move in the queue
        Binding("pagedown,shift+down", "scroll_review(1)", "Scroll", key_display="PgDn", id="labeling.scroll_down"),
        Binding("pageup,shift+up", "scroll_review(-1)", "Scroll up", show=False, key_display="PgUp",
                id="labeling.scroll_up"),
        Binding("r", "rerank", "Re-rank", id="labeling.rerank"),
        Binding("t", "strategy", "Strategy", id="labeling.strategy"),
        Binding("R", "send_to_review", "To review", id="labeling.review"),
        Binding("left", "move(-1)", "Prev", id="labeling.prev"),
        Binding("right", "move(1)", "Next", id="labeling.next"),
        Binding("v", "evidence", "Evidence", id="labeling.evidence"),
        Binding("space", "toggle_word", "Select word", show=False, id="labeling.word"),
        Binding("minus", "sentiment('negative')", "Sentiment negative", show=False, key_display="-",
                id="labeling.negative"),
        Binding("0,equals_sign", "sentiment('neutral')", "Sentiment neutral", show=False, key_display="0, =",
                id="labeling.neutral"),
        Binding("plus", "sentiment('positive')", "Sentiment positive", show=False, key_display="+",
                id="labeling.positive"),
        Binding("escape", "leave_evidence", "Leave evidence mode", show=False, id="labeling.leave"),
        *LOOP_BINDINGS,
        *QUEUE_BINDINGS,
    ]

    index: reactive[int] = reactive(0, init=False)
    evidence: reactive[bool] = reactive(False, init=False)

    def __init__(self) -> None:
        super().__init__()
        self.items: list[Asset] = []
        self.done_loading = False
        self.word = 0
        self.selected: set[int] = set()
        self.labeled_here: dict[str, int] = {}  # external id -> labels given to it in this session, not undone
        self.labels_since_rank = 0  # labels (one by one or in bulk) since the queue was last ranked
        self.suggestions: dict[str, tuple[str, float]] = {}
        self.shown_taxonomy: Any = None  # the taxonomy the category list on screen was drawn from
        self.warned_unreadable: str | None = None  # the reviewtui.toml error last said
        self.strategy = ""
        self.ranked_by = ""  # what ranked the queue when it was not the strategy (the zero-shot first batch)
        self.ranked_here = False  # whether this screen ranked the queue (else its order is an earlier ranking's)
        self.reranking = False
        self.ranked_on_open = False
        self.refitted_for = 0  # the reviews (from the first) whose suggestions the running ranking refits
        self.sentiments: dict[str, str] = {}  # external id -> the sentiment recorded for it
        self.tall = True  # whether the categories panel shows its key hints (see TALL)

    # -- layout -----------------------------------------------------------------------------
    def compose_body(self) -> ComposeResult:
        with Horizontal(id="labeling"):
            with Vertical(id="review-pane"):
                yield from self.compose_filter_bar()
                yield Static(id="review-meta")
                with VerticalScroll(id="review-scroll", can_focus=False):
                    yield Static(id="review-text")
                yield Static(id="review-answer")
            with Vertical(id="label-side"):
                categories = Static(id="categories")
                categories.border_title = "Categories"
                yield categories
                suggestion = Static(id="suggestion")
                suggestion.border_title = "Model"
                yield suggestion
                queue = Static(id="queue-info")
                queue.border_title = "Queue"
                yield queue
        yield from self.compose_stop_line()

    def on_mount(self) -> None:
        self.on_resize()
        self.strategy = self.ws.settings.active_learning.strategy
        self.load_queue()
        self.start_loop()

    def workspace_changed(self) -> None:
        self.reviews_changed()
        self.reload_upcoming()  # a new category's reviews may come first now

    def reviews_changed(self) -> None:
        """Read again the reviews answered or looked at (another screen may have sent them to
        review): the line under a review says its status as the store has it."""
        for i in range(min(self.index + 1, len(self.items))):
            fresh = self.ws.store.find(self.items[i].external_id)
            if fresh is not None:
                self.items[i] = fresh
        if self.current is not None:
            self.render_review()

    @property
    def assist(self) -> bool:
        """Model suggestions and automatic re-ranking (off in tests: they load the embedding model);
        r and t re-rank either way."""
        return bool(getattr(self.app, "assist", True))

    @property
    def labels_given(self) -> int:
        """How many reviews were labeled in this session (a review labeled twice counts once)."""
        return len(self.labeled_here)

    def count_labels(self, external_ids: list[str], step: int = 1) -> None:
        """Count labels given (``step`` 1) or undone (-1) on ``external_ids`` in this session."""
        for ext in external_ids:
            n = self.labeled_here.get(ext, 0) + step
            if n > 0:
                self.labeled_here[ext] = n
            else:
                self.labeled_here.pop(ext, None)

    @property
    def current(self) -> Asset | None:
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    # -- queue ------------------------------------------------------------------------------
    @property
    def retrain_every(self) -> int:
        """``[active_learning] retrain_every``: re-rank after this many labels; 0: only on r."""
        return self.ws.settings.active_learning.retrain_every

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self) -> None:
        seen = [a.external_id for a in self.items]
        if self.in_review_queue:
            self.post_message(self.review_page(seen, QUEUE_CHUNK))
            return
        try:
            page = self.filtered_page(seen, QUEUE_CHUNK) if self.filtered else self.ws.queue(QUEUE_CHUNK, exclude=seen)
        except ReviewtuiError as exc:  # a filter checked when given fails now (its predictions removed since)
            if self.still_wanted():
                self.app.call_from_thread(self.error, str(exc))
                self.post_message(QueueLoaded([], QUEUE_CHUNK))  # the pane leaves "Loading the queue…"
            return
        if self.still_wanted():  # not replaced by a load for another filter
            self.post_message(QueueLoaded(page, QUEUE_CHUNK))

    @on(QueueLoaded)
    def add_items(self, message: QueueLoaded) -> None:
        if self.in_review_queue:  # a page of the labeling queue asked for before a review queue was chosen
            return
        self.done_loading = len(message.assets) < message.asked
        seen = {a.external_id for a in self.items}  # two loads may race (a re-rank and scrolling)
        more = [a for a in message.assets if a.external_id not in seen]
        self.items.extend(more)
        if more:
            known = self.ws.store.sentiments([a.external_id for a in more])
            self.sentiments.update({ext: label.sentiment for ext, label in known.items()})
        self.load_suggestions([a.external_id for a in more])
        self.render_review()
        self.rank_on_open(more)

    def rank_on_open(self, first: list[Asset]) -> None:
        """Once, after the first page of the unfiltered labeling queue: when no ranked batch is
        waiting in it (its first review has no priority: a fresh import, or the last batch all
        answered), re-rank it in the background as ``retrain_every`` would after N labels: the
        zero-shot first batch before any label, the strategy's batch after. The review on screen
        stays; the ones after it follow the new order. Off with ``retrain_every = 0`` (r asks)."""
        if self.ranked_on_open or self.filtered or self.in_review_queue:
            return
        self.ranked_on_open = True
        if not first or first[0].priority > 0 or not (self.assist and self.retrain_every) or self.reranking:
            return
        self.notify(f"ranking the queue ({self.strategy or 'default strategy'}): the reviews after this one "
                    "follow it", markup=False)
        self.rerank()

    @work(thread=True, group="suggestions", exit_on_error=False)
    def load_suggestions(self, ids: list[str]) -> None:
        if not ids or not self.assist:
            return
        suggestions = self.ws.suggestions(ids)
        self.post_message(SuggestionsReady(suggestions, None if self.ranked_here else self.ws.queue_ranked_by()))
        self.after_suggestions()

    @on(SuggestionsReady)
    def add_suggestions(self, message: SuggestionsReady) -> None:
        self.note_suggestions(message.suggestions)
        waiting = bool(self.items) and self.items[0].priority > 0  # a ranked batch heads the queue
        if waiting and not self.ranked_here and message.ranked_by:
            # the batch waiting from a ranking before this screen opened, as the workspace recorded
            # it: a first batch, a strategy, or a category made from a discovered cluster
            self.ranked_by = message.ranked_by
        elif getattr(message.suggestions, "source", None) == "zero-shot" and waiting and not self.ranked_here:
            # nothing recorded (a ranking of an earlier reviewtui) and no model yet: the batch
            # waiting is the zero-shot first batch (a ranking with no model takes it)
            self.ranked_by = self.ranked_by or "zero-shot first batch"
        if getattr(message.suggestions, "source", None) == "" and not self.in_review_queue:
            self.suggestions.clear()  # no model any more (an undo took a category's last label): none is true
        for ext, value in (message.suggestions or {}).items():
            if isinstance(value, dict):
                value = (value.get("label"), value.get("confidence"))
            self.suggestions[ext] = (str(value[0]), float(value[1]))
        self.render_review()

    # -- rendering --------------------------------------------------------------------------
    def watch_index(self) -> None:
        self.word = 0
        self.selected = set()
        self.query_one("#review-scroll", VerticalScroll).scroll_home(animate=False)  # each review from its start
        self.render_review()
        if not self.done_loading and self.index >= len(self.items) - 5:
            self.load_queue()

    def watch_evidence(self) -> None:
        self.render_review()

    def render_review(self) -> None:
        asset = self.current
        meta = self.query_one("#review-meta", Static)
        text = self.query_one("#review-text", Static)
        answer = self.query_one("#review-answer", Static)
        if asset is None:
            meta.update("")
            if not self.items and not self.done_loading:
                text.update(self.loading_text())
            else:
                text.update(self.queue_end_text())
            answer.update("")
        else:
            m = asset.metadata
            # the app (or product) and version where the review has them: reviews of products have
            # no version, and a workspace of one app often no app name
            app, version = m.get("app"), m.get("app_version")
            where = f"{app} {version}" if app and version else str(app) if app else f"version {version}" if version else ""
            parts = [stars(m.get("score")), *([where] if where else []), str(m.get("at") or "-")[:10],
                     f"id {say.short_id(asset.external_id, 18)}"]
            meta.update(" · ".join(parts))
            body = self.review_text(asset)
            title = " ".join(str(m.get("title") or "").split())  # a store's title, where its export had one
            text.update(Text.assemble((title, "bold"), "\n", body) if title else body)
            answer.update(self.answer_line(asset))
        self.query_one("#categories", Static).update(self.categories_text(asset))
        self.query_one("#suggestion", Static).update(self.suggestion_text(asset))
        self.query_one("#queue-info", Static).update(self.queue_text())

    def review_text(self, asset: Asset) -> Text:
        if not self.evidence:
            return Text(asset.text)
        out = Text()
        last = 0
        for i, m in enumerate(WORD_RE.finditer(asset.text)):
            out.append(asset.text[last:m.start()])
            style = ""
            if i in self.selected:
                style = "bold underline"
            if i == self.word:
                style += " reverse"
            out.append(m.group(), style=style.strip())
            last = m.end()
        out.append(asset.text[last:])
        return out

    def answer_line(self, asset: Asset) -> str:
        mode = "  [b]evidence[/b]: ←/→ word, space select, 1-9 label, esc leave" if self.evidence else ""
        sentiment = self.sentiments.get(asset.external_id)
        if sentiment:
            mode = f" · sentiment [b]{sentiment}[/b]{mode}"
        if asset.skipped:
            return f"skipped ({asset.skip_reason}){mode}"
        if asset.label:
            name = escape(say.category_name(asset.label, self.ws.taxonomy))
            status = asset.status.lower().replace("_", " ")  # "labeled Bugs · labeled" said it twice
            return f"labeled [b]{name}[/b]" + ("" if status == "labeled" else f" · {status}") + mode
        return f"{asset.status}{mode}"

    def categories_text(self, asset: Asset | None) -> Text:
        self.shown_taxonomy = self.ws.taxonomy  # what the number keys mean (see action_label)
        out = Text()
        suggested = self.suggestions.get(asset.external_id, ("", 0.0))[0] if asset else ""
        for n, cat in enumerate(self.ws.taxonomy.categories, start=1):
            # the number keys reach the first nine; the others are chosen from the list (l)
            line = Text(f"{n} ", style="bold") if n <= 9 else Text("l ", style="dim")
            line.append("■ ", style=cat.colour)
            style = "bold reverse" if asset is not None and asset.label == cat.key else ""
            # a long name is cut, not wrapped: the panel is 30 cells (the list `l` shows it whole)
            name = cat.name if len(cat.name) <= NAME_CELLS else cat.name[:NAME_CELLS - 1] + "…"
            line.append(name, style=style)
            if cat.key == suggested:
                line.append(" ◀", style="bold")
            out.append_text(line)
            out.append("\n")
        current = self.sentiments.get(asset.external_id) if asset is not None else None
        for i, (key, value) in enumerate(say.SENTIMENT_KEYS):
            out.append(" · " if i else "")
            out.append(f"{key} ", style="bold")
            out.append(value[:3], style="bold reverse" if value == current else "")
        if self.app.size.height >= TALL:  # a short terminal keeps these rows for the model and the queue
            out.append("\n")
            out.append("s skip · u undo · R review\nl any category", style="dim")  # two lines: the panel is narrow
        return out

    def on_resize(self) -> None:
        tall = self.app.size.height >= TALL
        # a short terminal: the model box takes the rows the categories and the queue leave (app.tcss)
        self.query_one("#labeling").set_class(not tall, "-short")
        if tall != self.tall:
            self.tall = tall
            self.query_one("#categories", Static).update(self.categories_text(self.current))

    def suggestion_text(self, asset: Asset | None) -> str:
        note = self.note_text(asset)
        if note is not None:
            return note
        if self.assist and (asset is None or asset.external_id not in self.suggestions):
            embedding = self.embedding_text()  # the first fit of the quick model: its progress
            if embedding is not None:
                return embedding
        if asset is None and self.items_ended():
            return "[dim]no review on screen[/dim]"  # no suggestion is coming for an empty queue
        if not self.assist:
            return "[dim]suggestions are off[/dim]"
        if asset is None or asset.external_id not in self.suggestions:
            return self.waiting_text()
        label, confidence = self.suggestions[asset.external_id]
        info = self.suggestion_info
        # zero-shot scores are sharpened similarities, not probabilities: a rank, not a percentage
        sure = "best match" if info is not None and info.source == "zero-shot" else f"{confidence:.0%}"
        return f"[b]{escape(say.category_name(label, self.ws.taxonomy))}[/b]  {sure}" + self.source_text()

    def ready_for_actions(self) -> bool:
        """The first page of the queue is in: a review is shown, or none is left to show."""
        return self.current is not None or self.done_loading

    def items_ended(self) -> bool:
        """Whether the queue was loaded and nothing of it is left to show (past its end)."""
        return self.done_loading and self.current is None

    def queue_text(self) -> str:
        position = f"{min(self.index + 1, len(self.items))} of {len(self.items)}"
        if self.items_ended() and self.items:  # past the last one: none is shown
            position = f"none left of {len(self.items)}"
        if not self.done_loading:
            position += "+"
        every = self.retrain_every
        # a review queue has its own order (most suspect first...): the labeling strategy is not its
        strategy = "" if self.in_review_queue else f" · {self.ranked_by or self.strategy or '-'}"
        # few lines: at 80x24 the panel shares the column with the categories and the model
        lines = [self.queue_line(), f"{position}{strategy}" + (" [i](re-ranking…)[/i]" if self.reranking else "")]
        if every and self.assist:
            left = max(1, every - self.labels_since_rank)
            lines.append(f"re-rank in {left} label{'s' if left != 1 else ''}")
        else:
            lines.append("re-rank with r")
        lines.append(f"labeled this session: {self.labels_given}")
        return "\n".join(lines)

    # -- answers ----------------------------------------------------------------------------
    def replace_current(self, asset: Asset) -> None:
        for i, item in enumerate(self.items):
            if item.external_id == asset.external_id:
                self.items[i] = asset

    def advance(self) -> None:
        if self.index < len(self.items):
            self.index += 1
        else:
            self.render_review()

    def spans(self, asset: Asset, category: str) -> list[dict[str, Any]] | None:
        if not self.evidence or not self.selected:
            return None
        words = list(WORD_RE.finditer(asset.text))
        return [{"category": category, "start": words[i].start(), "end": words[i].end(), "text": words[i].group()}
                for i in sorted(self.selected) if i < len(words)]

    def action_label(self, n: int) -> None:
        taxonomy = self.ws.taxonomy
        if self.current is None:
            return
        unreadable = self.ws.config.unreadable
        if unreadable and unreadable != self.warned_unreadable:  # said once per broken state of the file
            self.warned_unreadable = unreadable
            self.notify(f"{CONFIG_NAME} cannot be read now ({unreadable}): the app labels with the categories it "
                        "read before; fix the file", severity="warning", markup=False)
        if self.shown_taxonomy is not None and taxonomy != self.shown_taxonomy:
            # reviewtui.toml changed under the app (a rename or merge from the CLI): the numbers on
            # screen may name other categories now, so the list is shown again and nothing labeled
            self.query_one("#categories", Static).update(self.categories_text(self.current))
            self.notify("The categories changed in reviewtui.toml since this list was shown; it shows them now: "
                        "press the number again.", severity="warning", markup=False)
            return
        categories = taxonomy.categories
        if n > len(categories):
            self.notify(f"no category {n}: the taxonomy has {len(categories)}", severity="warning")
            return
        self.label_with(categories[n - 1].key)

    def action_pick_category(self) -> None:
        """l: choose any category from a list (the number keys reach the first nine)."""
        from reviewtui.tui.screens.dialogs import CategoryPicker

        asset = self.current
        if asset is None:
            return

        def chosen(key: str | None) -> None:
            if key is not None and self.current is not None and self.current.external_id == asset.external_id:
                self.label_with(key)

        categories = [(c.key, c.name) for c in self.ws.taxonomy.categories]
        self.app.push_screen(CategoryPicker("Label this review with which category?", categories), chosen)

    def label_with(self, key: str) -> None:
        """Label the current review with category ``key`` and go to the next one."""
        asset = self.current
        if asset is None:
            return
        changed = self.ws.changed_by_others(asset)
        if changed is not None:  # a teammate's label since this page was read: shown first, not replaced unseen
            now, event = changed
            self.replace_current(now)
            self.render_review()
            self.notify(say.changed_since_shown(event, now, self.ws.taxonomy), severity="warning", markup=False)
            return
        try:
            self.ws.label(asset.external_id, key, spans=self.spans(asset, key))
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.replace_current(self.ws.store.get(asset.external_id))
        self.count_labels([asset.external_id])
        self.labels_since_rank += 1
        self.recount()
        self.maybe_rerank()
        self.advance()

    def action_sentiment(self, value: str) -> None:
        """- 0 +: record the current review's sentiment; the review stays on screen for its category."""
        asset = self.current
        if asset is None:
            return
        try:
            self.ws.label_sentiment(asset.external_id, value)
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.sentiments[asset.external_id] = value
        self.render_review()

    def action_skip(self) -> None:
        asset = self.current
        if asset is None:
            return
        from reviewtui.tui.screens.dialogs import PromptDialog

        def done(reason: str | None) -> None:
            if not reason:
                return
            try:
                self.ws.skip(asset.external_id, reason)
            except ReviewtuiError as exc:
                self.error(str(exc))
                return
            self.replace_current(self.ws.store.get(asset.external_id))
            self.recount()
            self.advance()

        self.app.push_screen(PromptDialog("Why skip this review?", "reason", SKIP_REASONS,
                                          required="a skip needs a reason: type one, or escape to cancel"), done)

    def action_undo(self) -> None:
        try:
            event = self.ws.undo()
        except ReviewtuiError as exc:
            self.error(str(exc))
            return
        self.notify(say.undo_sentence(event, self.ws.taxonomy), markup=False)
        if event is None:
            return
        self.recount()  # the review is back in the queue (or its label back to the one before)
        asset = self.ws.store.get(event.external_id)
        ids = [a.external_id for a in self.items]
        if asset.external_id in ids:
            self.replace_current(asset)
            target = ids.index(asset.external_id)
        else:  # a label of an earlier session, or a review past this page: back in the queue with its suggestion
            target = min(self.index, len(self.items))
            self.items.insert(target, asset)
            known = self.ws.store.sentiments([asset.external_id]).get(asset.external_id)
            if known is not None:
                self.sentiments[asset.external_id] = known.sentiment
            if not self.in_review_queue:
                self.load_suggestions([asset.external_id])
        if event.kind == "label":
            self.count_labels([asset.external_id], -1)
            if self.labels_since_rank == 0 and self.assist:
                # the last ranking (or the fit when the screen opened) learnt this label: fit again
                # without it, or the model keeps suggesting the label just taken back; every review
                # loaded gets the new fit's suggestion (a review queue's come from its notes)
                self.refit_model([] if self.in_review_queue else [a.external_id for a in self.items])
            self.labels_since_rank = max(0, self.labels_since_rank - 1)
        elif event.kind == "confirm":
            self.confirmed_here.pop(event.external_id, None)
        elif event.kind == "sentiment":
            now = self.ws.store.sentiments([asset.external_id]).get(asset.external_id)
            if now is None:
                self.sentiments.pop(asset.external_id, None)
            else:
                self.sentiments[asset.external_id] = now.sentiment
        if target == self.index:
            self.render_review()
        self.index = target

    def action_send_to_review(self) -> None:
        asset = self.current
        if asset is None:
            return
        self.advance()
        self.send_to_review(asset.external_id)

    @work(thread=True, group="review", exit_on_error=False)
    def send_to_review(self, external_id: str) -> None:
        """A worker: with the Kili backend this is a network call."""
        result = self.ws.send_to_review([external_id])
        if result.failed:
            raise ReviewtuiError("; ".join(f"{k}: {v}" for k, v in result.failed.items()))
        self.post_message(SentToReview(result, self.ws.store.get(external_id)))

    @on(SentToReview)
    def sent_to_review(self, message: SentToReview) -> None:
        asset = message.asset
        if asset.label is None:  # a hard case for a teammate: say where it went
            self.notify(f"Sent {asset.external_id} to review with no label yet: it leaves the labeling queue; the "
                        "filter status=TO_REVIEW (f) finds it, and a label there settles it; u takes it back.",
                        markup=False)
        else:
            self.notify(f"Sent {asset.external_id} to review.", markup=False)
        self.replace_current(asset)
        self.recount()
        self.render_review()

    def action_scroll_review(self, pages: int) -> None:
        """PgDn/PgUp (or shift+down/up): scroll the review a page down (1) or up (-1)."""
        scroll = self.query_one("#review-scroll", VerticalScroll)
        if pages > 0:
            scroll.scroll_page_down(animate=False)
        else:
            scroll.scroll_page_up(animate=False)

    def action_move(self, step: int) -> None:
        if self.evidence and self.current is not None:
            count = len(WORD_RE.findall(self.current.text))
            self.word = max(0, min(count - 1, self.word + step))
            self.render_review()
            return
        self.index = max(0, min(len(self.items), self.index + step))

    # -- evidence mode ----------------------------------------------------------------------
    def action_evidence(self) -> None:
        self.evidence = not self.evidence

    def action_leave_evidence(self) -> None:
        self.evidence = False

    def action_toggle_word(self) -> None:
        if not self.evidence:
            return
        self.selected ^= {self.word}
        self.render_review()

    # -- active learning --------------------------------------------------------------------
    def action_strategy(self) -> None:
        current = STRATEGIES.index(self.strategy) if self.strategy in STRATEGIES else -1
        self.strategy = STRATEGIES[(current + 1) % len(STRATEGIES)]
        weakest = self.ws.weakest_category() if self.strategy == "weakest" else None
        self.notify(say.strategy_notice(self.strategy, weakest, self.ws.taxonomy), markup=False)
        self.rerank()

    def action_rerank(self) -> None:
        """r: refit on the labels so far and re-rank the queue now (whatever ``retrain_every`` says)."""
        if self.reranking:
            self.notify("the queue is being re-ranked already", severity="warning")
            return
        self.notify(f"re-ranking the queue ({self.strategy or 'default strategy'})")
        self.rerank(refit=True)

    def maybe_rerank(self) -> None:
        """Re-rank once ``retrain_every`` labels were given since the last ranking (a bulk label of
        many counts them all)."""
        every = self.retrain_every
        if every and self.assist and self.labels_since_rank >= every:
            if self.in_review_queue:
                self.refit_model()  # no labeling queue is ranked here: the model and the stop line catch up
            self.rerank()

    def rerank(self, refit: bool = False) -> None:
        """Re-rank the queue in the background; the suggestions' model is refitted on the labels so
        far too and the reviews kept on screen get new suggestions (``refit``: asked with r; a ranking
        after ``retrain_every`` labels does the same, so that the suggestions, the queue and the
        stop line read one model). In a review queue: that queue is built again. Either way the
        count towards the next ranking starts again."""
        self.labels_since_rank = 0
        if self.in_review_queue:
            self.rerank_review_queue(asked=refit)
            self.render_review()
            return
        self.reranking = True
        self.render_review()
        kept = [a.external_id for a in self.items[:self.index + 1]] if self.assist else None
        self.refitted_for = len(kept or [])
        self.rerank_queue(self.strategy or None, kept)

    @work(thread=True, exclusive=True, group="rerank", exit_on_error=False)
    def rerank_queue(self, strategy: str | None, refit_for: list[str] | None = None) -> None:
        ranked = False
        first = ""
        try:
            batch = self.ws.queue_batch(strategy=strategy, **self.queue_scope())
            first = str(getattr(batch, "first", "") or "")
            self.after_rerank()
            if refit_for is not None:
                self.post_message(SuggestionsReady(self.ws.suggestions(refit_for, refit=True)))
            ranked = True
        finally:
            self.post_message(RerankFinished(ranked, first))

    @on(RerankFinished)
    def rerank_done(self, message: RerankFinished) -> None:
        self.reranking = False
        if message.ranked:
            self.ranked_here = True
            self.ranked_by = f"{message.first} first batch" if message.first else ""
        self.render_review()
        if message.ranked:
            if self.assist and not self.in_review_queue:  # a review queue's suggestions are its notes'
                # the reviews reached while it ran (the one after the label that set it off) are kept
                # too: the new fit's suggestions, not the old model's or none
                self.load_suggestions([a.external_id for a in self.items[self.refitted_for:self.index + 1]])
            self.reload_upcoming()

    def action_queue(self, name: str) -> None:
        """A/S/T/D (see :class:`ReviewQueueScreen`), then the filter line for that queue."""
        super().action_queue(name)
        self.queue_chosen()

    def reload_upcoming(self) -> None:
        """Keep what was answered or looked at; refill what comes next in the new order."""
        del self.items[self.index + 1:]
        self.done_loading = False
        self.load_queue()
