"""Zero-shot suggestions from the categories' descriptions and examples, with no label at all."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest

from reviewtui.config import Config, Taxonomy
from reviewtui.errors import ReviewtuiError
from reviewtui.loop.zeroshot import (ZeroShotModel, blend, blend_weight, category_texts, name_feedback_prototypes,
                                     quotas, zero_shot_batch, zero_shot_for, zero_shot_prior)
from reviewtui.settings import ActiveLearningSettings

ROOT = Path(__file__).resolve().parents[1]
PRESET = ROOT / "reviewtui" / "presets" / "medium.toml"

# written for this test: none of them is a preset example
REVIEWS = {
    "SUBSCRIPTION": ["why do i have to pay every month to read a story, cancelled my membership",
                     "the yearly plan price doubled and they billed me without asking",
                     "free trial ended and the charge on my card was not refunded"],
    "CONTENT": ["the essays on history and psychology are thoughtful and well researched",
                "my feed is flooded with low effort clickbait posts from the same authors",
                "i discover brilliant writers on economics every week"],
    "INTERFACE": ["the app freezes and crashes whenever i tap the bookmark icon",
                  "after the latest update the text is too small and there is no setting to enlarge it",
                  "login keeps failing and the back button does nothing"],
    "USER_EXPERIENCE": ["i really enjoy using it, a lovely app", "such a good app, i recommend it to everyone",
                        "pleasant and simple, i open it every morning"],
}


def preset() -> Taxonomy:
    with open(PRESET, "rb") as fh:
        return Taxonomy.from_list(tomllib.load(fh)["categories"], where=str(PRESET))


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    from reviewtui.modeling.embeddings import EmbeddingCache

    return EmbeddingCache(tmp_path_factory.mktemp("emb"), "minilm", 64)


def test_the_preset_describes_every_training_category():
    tax = preset()
    assert tax.training_keys == ["SUBSCRIPTION", "CONTENT", "INTERFACE", "USER_EXPERIENCE"]
    for key in tax.training_keys:
        c = tax.get(key)
        assert c.description and 3 <= len(c.examples) <= 5
    texts = category_texts(tax)
    assert texts["INTERFACE"][0].startswith("Interface: ") and len(texts["INTERFACE"]) == 6


def test_zero_shot_suggests_with_no_labels(cache):
    tax = preset()
    texts = [t for k in tax.training_keys for t in REVIEWS[k]]
    truth = [k for k in tax.training_keys for _ in REVIEWS[k]]
    X = cache.embed(texts)
    model = ZeroShotModel.fit(tax, cache.embed, X)
    pred = model.predict(X)
    assert sum(p == t for p, t in zip(pred, truth)) >= 10, list(zip(pred, truth))
    p = model.predict_proba(X)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    assert model.classes_ == tax.training_keys and model.missing == ()
    # columns in another order, zeros for a category it does not know
    q = model.proba_for(X, ["CONTENT", "NEW", "SUBSCRIPTION"])
    np.testing.assert_allclose(q[:, 0], p[:, 1])
    assert np.all(q[:, 1] == 0)
    # the first batch: one of each predicted category before any category repeats
    batch = zero_shot_batch(p, X, 4, seed=0)
    assert len(set(batch.tolist())) == 4
    assert sorted(p[batch].argmax(axis=1).tolist()) == [0, 1, 2, 3]


def test_centering_and_calibration(cache):
    tax = preset()
    texts = [t for k in tax.training_keys for t in REVIEWS[k]]
    truth = [k for k in tax.training_keys for _ in REVIEWS[k]]
    X = cache.embed(texts)
    plain = ZeroShotModel.fit(tax, cache.embed)
    centred = ZeroShotModel.fit(tax, cache.embed, X)
    np.testing.assert_allclose(centred.scores(X).mean(axis=0), 0.0, atol=1e-5)  # the pool's mean is subtracted
    assert np.all(plain.offsets == 0)

    def nll(m):
        p = m.predict_proba(X)
        return -np.mean(np.log([p[i, m.classes_.index(t)] for i, t in enumerate(truth)]))

    before = nll(centred)
    t = centred.calibrate(X, truth)
    assert 0.005 <= t <= 1.0 and nll(centred) <= before + 1e-9
    few = ZeroShotModel.fit(tax, cache.embed, X)
    assert few.calibrate(X[:3], truth[:3]) == few.temperature  # fewer than 5 labels: unchanged


def test_no_descriptions_is_a_clear_error_and_no_prior(cache):
    tax = Taxonomy.default()
    with pytest.raises(ReviewtuiError, match="description or examples.*--taxonomy app-review"):
        ZeroShotModel.fit(tax, cache.embed)
    assert zero_shot_for(tax, cache.embed, None, ActiveLearningSettings()) is None
    assert zero_shot_for(preset(), cache.embed, None, ActiveLearningSettings(prior_labels=0.0)) is None
    # a category with only a name still gets a prototype, and is reported as missing
    items = preset().to_list()
    items[1] = {k: v for k, v in items[1].items() if k not in ("description", "examples")}
    model = ZeroShotModel.fit(Taxonomy.from_list(items), cache.embed)
    assert model.missing == ("CONTENT",)


def test_a_taxonomy_of_names_only_gets_a_prior_that_steps_aside_once_a_model_exists(cache):
    tax = Taxonomy.default()  # names, no description or example
    pool = ["the subscription costs too much", "great articles every day", "the font is tiny", "love it"]
    prior = zero_shot_prior(tax, cache.embed, lambda: pool, ActiveLearningSettings())
    assert prior is not None and prior.names_only
    X = cache.embed(["i was charged twice for the membership", "the stories are badly written"])
    p = prior.proba(X)
    assert p.shape == (2, len(tax.training_keys)) and np.allclose(p.sum(axis=1), 1.0, atol=1e-5)
    assert ZeroShotModel.fit(tax, cache.embed, names_only=True).missing == tuple(tax.training_keys)
    assert prior.weight(0) == 1.0 and prior.weight(1) == 0.0 and prior.weight(200) == 0.0
    np.testing.assert_allclose(prior.combine(None, X, 0), p, rtol=1e-6)  # before a model: the names alone
    quick = np.full((2, len(tax.training_keys)), 1.0 / len(tax.training_keys), dtype=np.float32)
    np.testing.assert_allclose(prior.combine(quick, X, 12), quick)  # with one: the quick model alone
    described = zero_shot_prior(preset(), cache.embed, lambda: pool, ActiveLearningSettings())
    assert not described.names_only and 0.0 < described.weight(12) < 1.0  # descriptions blend on
    assert zero_shot_prior(tax, cache.embed, lambda: pool, ActiveLearningSettings(prior_labels=0.0)) is None


def test_a_name_prototype_moves_towards_the_reviews_it_fits_best():
    """Two categories known by name: their unit vectors sit off the reviews' clusters, tilted so
    that the name of A takes some of B's reviews. One move towards the better half of what each
    predicts brings both nearer their clusters: a tenth more reviews right. Only the listed rows
    move."""
    rng = np.random.default_rng(0)
    a, b, noise = np.eye(8)[0], np.eye(8)[1], 0.3
    pool = np.vstack([a + noise * rng.standard_normal((40, 8)), b + noise * rng.standard_normal((40, 8))])
    pool /= np.linalg.norm(pool, axis=1, keepdims=True)
    truth = np.array([0] * 40 + [1] * 40)
    names = np.stack([a + 0.9 * b + 1.2 * np.eye(8)[2], b + 1.2 * np.eye(8)[3]])
    names = (names / np.linalg.norm(names, axis=1, keepdims=True)).astype(np.float32)

    def accuracy(protos):
        s = pool @ protos.T
        return float(((s - s.mean(axis=0)).argmax(axis=1) == truth).mean())

    before = accuracy(names)
    moved = name_feedback_prototypes(names, pool.astype(np.float32), [0, 1], 0.5)
    assert before < 0.85 and accuracy(moved) >= before + 0.1
    assert np.allclose(np.linalg.norm(moved, axis=1), 1.0, atol=1e-5)
    assert moved[0] @ a > names[0] @ a and moved[1] @ b > names[1] @ b
    only = name_feedback_prototypes(names, pool.astype(np.float32), [1], 0.5)
    assert np.allclose(only[0], names[0]) and not np.allclose(only[1], names[1])


def test_fit_moves_only_the_categories_known_by_name(cache):
    """In a taxonomy where some categories are described, fit moves the others' prototypes only,
    and name_feedback 0 moves none; centring follows the prototypes used."""
    tax = preset()
    items = [dict(c) for c in tax.to_list()]
    for c in items:
        if c.get("key") in ("INTERFACE", "USER_EXPERIENCE"):
            c.pop("description", None)
            c.pop("examples", None)
    mixed = Taxonomy.from_list(items)
    texts = [t for k in tax.training_keys for t in REVIEWS[k]]
    pool = cache.embed(texts)
    moved = ZeroShotModel.fit(mixed, cache.embed, pool)
    kept = ZeroShotModel.fit(mixed, cache.embed, pool, name_feedback=0)
    assert moved.missing == kept.missing == ("INTERFACE", "USER_EXPERIENCE")
    for i, key in enumerate(moved.classes_):
        assert np.allclose(moved.prototypes[i], kept.prototypes[i]) == (key not in moved.missing)
    assert np.allclose(moved.offsets, (pool @ moved.prototypes.T).mean(axis=0), atol=1e-5)
    assert np.allclose(ZeroShotModel.fit(mixed, cache.embed).prototypes, kept.prototypes)  # no pool: no move


def test_blend_moves_from_the_prior_to_the_quick_model():
    prior = np.array([[0.7, 0.3], [0.2, 0.8]])
    quick = np.array([[0.1, 0.9], [0.6, 0.4]])
    np.testing.assert_allclose(blend(None, prior, 0, 20), prior)
    assert blend_weight(0, 20) == 0.0 and blend_weight(20, 20) == 0.5 and blend_weight(5, 0) == 1.0
    np.testing.assert_allclose(blend(quick, prior, 20, 20), (quick + prior) / 2, rtol=1e-6)
    np.testing.assert_allclose(blend(quick, prior, 7, 0), quick, rtol=1e-6)


def test_quotas_are_as_equal_as_the_groups_allow():
    assert quotas([10, 10, 10, 10], 10) == [3, 3, 2, 2]
    assert quotas([1, 50, 0, 50], 10) == [1, 5, 0, 4]
    assert quotas([2, 2], 10) == [2, 2]
    assert sum(quotas([3, 7, 9], 12)) == 12


def test_descriptions_and_examples_survive_the_config_file(tmp_path):
    data = Config.default_data("t")
    items = preset().to_list()
    items[-1] = {k: v for k, v in items[-1].items() if k != "examples"}  # MULTI_LABEL with a description only
    data["categories"] = items
    cfg = Config(tmp_path / "reviewtui.toml", data)
    cfg.save()
    again = Config.load(tmp_path / "reviewtui.toml")
    assert again.taxonomy.get("SUBSCRIPTION").examples == preset().get("SUBSCRIPTION").examples
    assert again.taxonomy.get("CONTENT").description.startswith("What there is to read")
    assert "examples" not in again.taxonomy.to_list()[-1] and again.taxonomy.to_list()[-1]["description"]
    bad = [{"key": "A", "name": "A", "examples": "just one string"}, {"key": "B", "name": "B"}]
    with pytest.raises(ReviewtuiError, match="examples must be a list of strings"):
        Taxonomy.from_list(bad)


def test_the_first_batch_takes_short_reviews_last_while_longer_ones_fill_it():
    """"good", "ok", "Worst app" filled the quotas of categories they say nothing of (a fifth of a
    team's first batch); they come last now, and still come when nothing else is left."""
    from reviewtui.loop.zeroshot import short_texts

    rng = np.random.default_rng(0)
    texts = ["good", "ok", "Worst app", "nice", "the card was blocked after the update and support never answered",
             "fees doubled this month without a word", "transfers fail with an error every time",
             "login with the otp code never arrives", "love the new design of the home screen",
             "the app crashes when I open my statement"]
    assert short_texts(texts).tolist() == [True] * 4 + [False] * 6
    assert short_texts(["这个应用每次打开都会闪退，客服也不回复", "アプリが起動しない", "Bekar app", "很好"]).tolist() == \
        [False, False, True, True]
    X = rng.normal(size=(10, 8)).astype(np.float32)
    P = rng.dirichlet(np.ones(3), size=10)
    P[:4] = [[0.98, 0.01, 0.01], [0.01, 0.98, 0.01], [0.01, 0.01, 0.98], [0.98, 0.01, 0.01]]  # the best matches
    batch = zero_shot_batch(P, X, 5, seed=0, short=short_texts(texts))
    assert len(batch) == 5 and not set(batch.tolist()) & {0, 1, 2, 3}
    assert set(zero_shot_batch(P, X, 8, seed=0, short=short_texts(texts)).tolist()[6:]) <= {0, 1, 2, 3}
    assert set(zero_shot_batch(P, X, 5, seed=0).tolist()) & {0, 1, 2, 3}  # without the marks they came first
