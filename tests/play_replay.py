"""A loopback replay of Google Play's review pages, for tests and benchmarks.

It answers ``POST /_/PlayStoreUi/data/batchexecute`` the way Google Play does, in the shape that
google-play-scraper 1.2.x parses: the ``)]}'`` prefix, a ``wrb.fr``/``oCPfdb`` envelope whose third
field is the double-encoded page, the page being ``[reviews, [null, next token], null]`` (reviews at
``[0]``, the token at ``[-2][-1]``; the last page has no token). Each review is the nested list the
package's ``ElementSpecs.Review`` reads: id at [0], [user name, [.., [.., .., image]]] at [1], score
at [2], text at [4], [seconds, nanos] at [5], thumbs-up at [6], [.., reply, [seconds, nanos]] at
[7], version at [10].

The server reads the request body as Google Play would (sort, count, token, score filter, app id)
and serves pages of a fixed corpus, newest first. ``script`` queues answers to give instead of the
next page: an HTTP status (429 with Retry-After, 503, 500), ``"gateway"`` (the throttling answer
inside a 200) or ``"garbage"``.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

BASE = datetime(2026, 3, 1, 12, 0, 0, tzinfo=timezone.utc)


def make_corpus(n: int, app_id: str = "com.example.app", seed_text: str = "review") -> list[dict[str, Any]]:
    """``n`` reviews, newest first, one hour apart (ids ``<app>-<n>``, highest = newest)."""
    out = []
    for i in range(n, 0, -1):
        at = BASE - timedelta(hours=n - i)
        out.append({"reviewId": f"{app_id}-{i:05d}", "userName": f"User {i}", "userImage": f"https://img/{i}",
                    "content": f"{seed_text} {i}: the app {'crashes' if i % 3 else 'is great'}",
                    "score": 1 + i % 5, "thumbsUpCount": i % 7, "version": f"4.{i % 12}.0",
                    "at": int(at.timestamp()), "reply": "Thanks!" if i % 4 == 0 else None,
                    "repliedAt": int(at.timestamp()) + 3600 if i % 4 == 0 else None})
    return out


def review_entry(r: dict[str, Any]) -> list[Any]:
    reply = [None, r["reply"], [r["repliedAt"], 123000000]] if r["reply"] else None
    return [r["reviewId"], [r["userName"], [None, 2, None, [None, None, r["userImage"]]]], r["score"], None,
            r["content"], [r["at"], 456000000], r["thumbsUpCount"], reply, None, None, r["version"], None,
            None]


def page_body(reviews: list[dict[str, Any]], token: str | None) -> str:
    page = [[review_entry(r) for r in reviews], [None, token] if token else None, None]
    envelope = [["wrb.fr", "oCPfdb", json.dumps(page), None, None, None, "generic"], ["di", 42],
                ["af.httprm", 41, "-5813307004573216143", 9]]
    return ")]}'\n\n" + json.dumps(envelope)


def parse_request(body: bytes) -> dict[str, Any]:
    """What google-play-scraper put in the form body: sort, count, token, score, app id."""
    form = urllib.parse.parse_qs(body.decode("utf-8"))
    outer = json.loads(form["f.req"][0])
    rpc, payload = outer[0][0][0], json.loads(outer[0][0][1])
    opts = payload[1]
    paging = opts[2]
    return {"rpc": rpc, "sort": opts[1], "count": paging[0], "token": paging[2] if len(paging) > 2 else None,
            "score": opts[4][1], "app_id": payload[2][0]}


@dataclass
class Replay:
    """The corpora by app id, the queued special answers and a log of the requests seen."""

    corpora: dict[str, list[dict[str, Any]]]
    script: list[Any] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, body: bytes) -> tuple[int, dict[str, str], str]:
        req = parse_request(body)
        with self.lock:
            self.requests.append(req)
            special = self.script.pop(0) if self.script else None
        if special == "gateway":
            return 200, {}, ")]}'\n\n" + json.dumps([["er", None, None, None, None, 429, None, None, None, 13,
                                                       "com.google.play.gateway.proto.PlayGatewayError"]])
        if special == "garbage":
            return 200, {}, "<html>consent page</html>"
        if isinstance(special, int):
            return special, {"Retry-After": "0"} if special == 429 else {}, "busy"
        corpus = self.corpora.get(req["app_id"])
        if corpus is None:
            return 200, {}, ")]}'\n\n" + json.dumps([["wrb.fr", "oCPfdb", None, None, None, [5], "generic"]])
        if req["score"] is not None:
            corpus = [r for r in corpus if r["score"] == req["score"]]
        start = int(req["token"].split("-")[1]) if req["token"] else 0
        end = start + int(req["count"])
        token = f"tok-{end}" if end < len(corpus) else None
        return 200, {}, page_body(corpus[start:end], token)


class _Handler(BaseHTTPRequestHandler):
    replay: Replay

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        length = int(self.headers.get("content-length", 0))
        status, headers, text = self.server.replay.answer(self.rfile.read(length))  # type: ignore[attr-defined]
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json; charset=utf-8")
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class ReplayServer:
    """``with ReplayServer(replay) as url:`` serves ``replay`` on 127.0.0.1 at a free port."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.replay = replay  # type: ignore[attr-defined]
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> str:
        self.thread.start()
        return self.url

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
