"""The analysis package: corpus prediction, sentiment, summaries, the report and learning curves.

Light on purpose: importing ``reviewtui.analysis`` loads none of torch, transformers, sklearn,
matplotlib or pandas; the submodules import them inside the functions that need them.

* ``predict``    predict_assets(store, taxonomy, ...) -> PredictResult (results/result.csv, resumable)
* ``results``    the result files' names; staleness(store, results_dir, ...) -> Staleness (reviews and
                 labels the predictions miss)
* ``sentiment``  make_analyzer(spec, ...) -> VADER | Hugging Face folder | star-trained head; agreement
* ``summary``    summarize(frame, app_version=None, weight_by_thumbs=False) -> Summary (numbers, DataFrames)
* ``report``     write_report(summary, results_dir) -> ReportPaths (report.md/html, charts/*.png, tables/*.csv)
* ``learning_curves`` write_simulation(result, folder): a simulation's curves.csv, summary.csv and PNG
* ``export``     CSV writing with formula-injection neutralising, atomic writes
* ``charts``     matplotlib (Agg) helpers
"""

from __future__ import annotations
