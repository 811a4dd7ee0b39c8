"""REVIEWTUI_TORCH_THREADS caps the CPU threads torch uses, for a machine shared with other work."""

from __future__ import annotations

import pytest

from reviewtui.errors import ReviewtuiError
from reviewtui.modeling.loading import set_torch_threads, thread_cap, usable_cores


def test_the_cap_limits_every_request_and_no_cap_takes_the_usable_cores(monkeypatch):
    import torch

    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", "1")
        set_torch_threads(4)
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", "0")
        assert thread_cap() == 0
        set_torch_threads(3)
        assert torch.get_num_threads() == 3
        monkeypatch.delenv("REVIEWTUI_TORCH_THREADS")
        set_torch_threads()
        assert torch.get_num_threads() == usable_cores()
    finally:
        torch.set_num_threads(before)


@pytest.mark.parametrize("raw", ["two", "-1", "1.5"])
def test_a_cap_that_is_not_a_whole_number_is_one_clear_error(monkeypatch, raw):
    monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", raw)
    with pytest.raises(ReviewtuiError, match="REVIEWTUI_TORCH_THREADS must be a whole number"):
        thread_cap()


def test_a_step_that_keeps_its_own_threads_only_obeys_the_cap(monkeypatch):
    import torch

    from reviewtui.modeling.loading import apply_thread_cap

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", "3")
        apply_thread_cap()
        assert torch.get_num_threads() == 2  # below the cap: as it was
        monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", "1")
        apply_thread_cap()
        assert torch.get_num_threads() == 1
        monkeypatch.setenv("REVIEWTUI_TORCH_THREADS", "²")
        with pytest.raises(ReviewtuiError, match="whole number"):
            apply_thread_cap()
    finally:
        torch.set_num_threads(before)
