"""The modeling room: model resolution, cached embeddings, the quick model, fine-tuning, Ray Tune.

Kept light on purpose: importing ``reviewtui.modeling`` pulls in none of torch, transformers,
datasets, ray or sklearn; the submodules import them inside the functions that need them.

* ``loading``    resolve_model(spec) -> ResolvedModel
* ``embeddings`` EmbeddingCache(cache_dir, model_spec, max_length).embed(texts)
* ``quick``      QuickModel: embeddings + a linear classifier
* ``finetune``   train_model(df, ...) -> ModelCard (Hugging Face Trainer)
* ``inference``  SavedClassifier.load(model_dir).predict_proba(texts)
* ``tuning``     tune_models(df, ...) -> TuneResult (Ray Tune ASHA + HyperOpt)
* ``history``    model_history(models_dir) -> metrics per dataset version
"""

from __future__ import annotations

from reviewtui.errors import ReviewtuiError


class Cancelled(ReviewtuiError):
    """Long modeling work stopped because the user cancelled it."""


__all__ = ["Cancelled"]
