"""Collecting reviews from app stores into the workspace's ``data/raw/`` folder.

:mod:`.play` collects from Google Play through google-play-scraper; :mod:`.raw` keeps the pages and
the resumable state. Nothing here imports the workspace: the caller passes the folder, the typed
``[collect]`` settings and a function that says which review ids the workspace already has.
"""

from reviewtui.collect.play import (AppCollect, CollectResult, RetryPolicy, check_network, collect_play,
                                    parse_reviews_page)

__all__ = ["AppCollect", "CollectResult", "RetryPolicy", "check_network", "collect_play", "parse_reviews_page"]
