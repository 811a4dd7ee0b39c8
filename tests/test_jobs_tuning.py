"""A search and the status screen, as a user meets them: a tuned model's name whichever way the
search was started, the best trial's parameters, the status screen's jobs table while a job runs
and its next step after a new model, and the Tune form while typing."""

from __future__ import annotations

import re

from reviewtui.jobs import JobStore


def test_a_tuned_model_has_one_name_however_the_search_was_started(fixture_ws, monkeypatch):
    """``reviewtui tune`` in the foreground names its model ``<version>-tuned-<date-time>``; a
    search started with ``--detach`` or from the app (a tune job) names it the same way, not after
    the [model] base (the search may well pick another candidate)."""
    import pandas as pd

    import reviewtui.modeling.quick as quick
    from reviewtui.events import TrialUpdate
    from reviewtui.modeling.tuning import SearchInputs, TuneResult, save_tuned
    from reviewtui.settings import ModelSettings, TrainingSettings

    ws = fixture_ws
    version = ws.latest_version().name
    pattern = re.compile(rf"{version}-tuned-\d{{8}}-\d{{6}}")

    # a tune job (tune --detach, the app's ctrl+s): its name is settled when it starts
    monkeypatch.setattr(JobStore, "launch", lambda self, job, argv, **kw: job)
    job = ws.start_job("tune", trials=2)
    assert pattern.fullmatch(job.params["name"]), job.params["name"]

    # the foreground search: the name its best trial is saved under
    saved = {}
    monkeypatch.setattr(quick, "train_quick", lambda df, **kw: saved.update(kw))
    inputs = SearchInputs(label_keys=list(ws.taxonomy.training_keys), model=ModelSettings(),
                          training=TrainingSettings(), quick_C=1.0, trials=1, dataset_version=version)
    config = {"model": "quick", "quick_C": 2.0}
    result = TuneResult(trials=[TrialUpdate("t1", "TERMINATED", config, 1, {"accuracy": 0.8}, 1.0)],
                        configs=[config], best_trial_id="t1", inputs=inputs)
    save_tuned(result, pd.DataFrame(), models_dir=ws.models_dir, cache_dir=ws.cache_dir)
    assert pattern.fullmatch(saved["name"]), saved["name"]
