"""Pilot tests of the sentiment keys of the labeling screen: driven by keys, checked on the store and
the exported files."""

from __future__ import annotations

import csv

from test_tui import make_app, settle

SIZE = (100, 30)


async def test_sentiment_keys_record_undo_show_and_export(fixture_ws):
    ws = fixture_ws
    app = make_app(ws, start="labeling")
    async with app.run_test(size=SIZE) as pilot:
        await settle(app, pilot)
        screen = app.screen
        first = screen.current.external_id
        await pilot.press("plus", "1")  # sentiment, then the category (which moves on)
        second = screen.current.external_id
        await pilot.press("minus")
        await pilot.pause()
        assert screen.current.external_id == second  # a sentiment key does not move on
        assert "sentiment negative" in str(screen.query_one("#review-answer").render())
        await pilot.press("u")  # undoes the sentiment, not the first review's label
        await settle(app, pilot)
        assert second not in ws.store.sentiments()
        await pilot.press("equals_sign", "2")
        third = screen.current.external_id
        await pilot.press("0", "left")
        await settle(app, pilot)
        assert screen.current.external_id == second
        assert "neu" in str(screen.query_one("#categories").render())
        await pilot.press("f1")  # the status screen shows the counts (1 labels here)
        await settle(app, pilot)
        assert "sentiment labels: negative 0, neutral 2, positive 1 (3 reviews)" in str(
            app.screen.query_one("#status-head").render())

    labels = {k: v.sentiment for k, v in ws.store.sentiments().items()}
    assert labels == {first: "positive", second: "neutral", third: "neutral"}
    assert ws.store.get(first).label == ws.taxonomy.categories[0].key
    assert ws.store.get(second).label == ws.taxonomy.categories[1].key
    assert [e.kind for e in ws.store.label_history(second)][-3:] == ["undo", "sentiment", "label"]
    info = ws.export()
    with open(info.csv_path, newline="", encoding="utf-8") as fh:
        rows = {r["externalId"]: r for r in csv.DictReader(fh)}
    assert rows[first]["sentiment"] == "positive" and rows[second]["sentiment"] == "neutral"
    assert info.manifest["counts_by_sentiment"]["positive"] == 1
