"""Versions ordered as versions, per app; Wilson intervals and the group-size rule for findings."""

from __future__ import annotations

import random

import pytest

from reviewtui.app_version import is_version, latest_by_app, latest_version, sort_versions, version_key
from reviewtui.findings import clearly_different, clearly_higher, large_enough, share, wilson_interval, z_value


def test_versions_sort_as_versions():
    versions = ["4.10", "4.9", "4.10.1", "4.2.0", "10.0", "4.10-beta", "4.10.0", "", "Varies with device", "4.9.12"]
    shuffled = versions[:]
    random.Random(3).shuffle(shuffled)
    assert sort_versions(shuffled) == ["", "Varies with device", "4.2.0", "4.9", "4.9.12", "4.10-beta", "4.10",
                                       "4.10.0", "4.10.1", "10.0"]
    assert version_key("4.10") > version_key("4.9")
    assert version_key("2.0.76") < version_key("2.0.100")
    assert version_key("4.0.1.6") > version_key("4.0.1")
    assert version_key("v4.5 (4051)") > version_key("v4.5")


def test_latest_is_per_app_never_across_apps():
    pairs = [("Waze", "4.30"), ("Waze", "4.9"), ("Facebook", "97.0"), ("Facebook", "96.1"), ("Mail", ""),
             ("Waze", "4.100"), (None, "1.0")]
    assert latest_by_app(pairs) == {"Waze": "4.100", "Facebook": "97.0", None: "1.0"}
    assert latest_version(["", "unknown"]) is None
    assert latest_version(["10.1", "9.9"]) == "10.1"
    assert not is_version("Varies with device") and is_version("3")


def test_wilson_interval_known_values():
    low, high = wilson_interval(1, 1)  # the "100.0% negative" of one review
    assert low == pytest.approx(0.2065, abs=1e-4) and high == 1.0
    low, high = wilson_interval(50, 100)
    assert (low, high) == (pytest.approx(0.4038, abs=1e-4), pytest.approx(0.5962, abs=1e-4))
    assert wilson_interval(0, 10)[0] == 0.0 and wilson_interval(0, 0) == (0.0, 1.0)
    assert z_value(0.95) == pytest.approx(1.95996, abs=1e-4)
    narrow = wilson_interval(50, 100, 0.8)
    assert narrow[0] > low and narrow[1] < high
    with pytest.raises(ValueError):
        wilson_interval(5, 4)
    with pytest.raises(ValueError):
        z_value(1.0)


def test_shares_and_the_group_size_rule():
    big_neg, small_neg = share(60, 100), share(30, 100)
    assert big_neg.value == 0.6 and clearly_higher(big_neg, small_neg) and clearly_different(small_neg, big_neg)
    one = share(1, 1)
    assert not clearly_higher(one, share(40, 100))  # one review proves nothing
    assert not large_enough(1, 30) and large_enough(30, 30) and large_enough(5, 0)
