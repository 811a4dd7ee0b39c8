"""The analysis room: corpus prediction, sentiment, summaries and the report.

Light on purpose: importing ``reviewtui.analysis`` loads none of torch, transformers, sklearn,
matplotlib or pandas; the submodules import them inside the functions that need them.

* ``predict``    predict_workspace(ws, model=None, ...) -> PredictResult (results/result.csv, resumable)
* ``sentiment``  make_analyzer(spec) -> VADER | Hugging Face folder | star-trained head; agreement
* ``summary``    summarize(frame, app_version=None, weight_by_thumbs=False) -> Summary (numbers, DataFrames)
* ``report``     write_report(summary, results_dir) -> ReportPaths (report.md/html, charts/*.png, tables/*.csv)
* ``export``     CSV writing with formula-injection neutralising, atomic writes
* ``charts``     matplotlib (Agg) helpers
"""

from __future__ import annotations
