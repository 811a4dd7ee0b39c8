"""Connecting to Kili through the real ``kili`` SDK: the API key, fast failure, clear errors.

The API key comes only from ``KILI_API_KEY`` in the environment or the workspace's ``.env``; it
is handed to the SDK directly (never put into ``os.environ``) and scrubbed from every message
reviewtui shows. ``KILI_API_ENDPOINT`` (environment or ``.env``) points at an on-premise Kili.

The SDK retries a refused connection, a 401 or a 429 for up to two minutes and waits 60 s for an
answer; reviewtui bounds both (``[kili] retry_deadline`` and ``request_timeout``, a few seconds
by default) so that every fault reaches the user as a ReviewtuiError in under 10 s.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from reviewtui.errors import ReviewtuiError
from reviewtui.settings import KiliSettings

DEFAULT_ENDPOINT = "https://cloud.kili-technology.com/api/label/v2/graphql"


@dataclass(frozen=True)
class KiliConnection:
    """Where and how to reach Kili. ``repr`` never shows the key."""

    api_key: str | None
    endpoint: str
    retry_deadline: float
    request_timeout: float
    #: the lines of the workspace's .env that are not NAME=value ("line N of PATH"), left out
    unread: tuple[str, ...] = ()
    #: where the key and the endpoint were read: "the environment", "PATH" (the .env) or "" (default)
    key_from: str = ""
    endpoint_from: str = ""

    def __repr__(self) -> str:
        return (f"KiliConnection(api_key={'<set>' if self.api_key else None}, endpoint={self.endpoint!r}, "
                f"retry_deadline={self.retry_deadline}, request_timeout={self.request_timeout})")

    __str__ = __repr__


def connection_settings(root: Path, settings: KiliSettings) -> KiliConnection:
    """The key and endpoint from the environment, else from ``root/.env``; the retry deadline and
    request timeout from ``[kili]`` (``settings``, validated when reviewtui.toml was read)."""
    env_file: dict[str, str | None] = {}
    unread: list[str] = []
    dotenv = Path(root) / ".env"
    if dotenv.is_file():
        env_file, unread = _read_dotenv(dotenv)
    def source(name: str) -> str:
        return "the environment" if os.environ.get(name) else str(dotenv) if env_file.get(name) else ""

    key = os.environ.get("KILI_API_KEY") or env_file.get("KILI_API_KEY") or None
    endpoint = os.environ.get("KILI_API_ENDPOINT") or env_file.get("KILI_API_ENDPOINT") or DEFAULT_ENDPOINT
    return KiliConnection(key.strip() if key else None, endpoint.strip(), settings.retry_deadline,
                          settings.request_timeout, tuple(unread), source("KILI_API_KEY"), source("KILI_API_ENDPOINT"))


def _read_dotenv(path: Path) -> tuple[dict[str, str | None], list[str]]:
    """The values of the .env file ``path`` and the lines it could not read ("line N of PATH"), in
    place of python-dotenv's own warning, which names neither the file nor what to do. A line is
    never quoted back: it may hold the key."""
    import logging

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    try:
        with path.open(encoding="utf-8") as fh:
            unread = [f"line {b.original.line} of {path}" for b in parse_stream(fh) if b.error]
        quiet = logging.getLogger("dotenv.main")
        before = quiet.disabled
        quiet.disabled = True
        try:
            return dict(dotenv_values(path, encoding="utf-8")), unread
        finally:
            quiet.disabled = before
    except (OSError, UnicodeDecodeError) as exc:
        raise ReviewtuiError(f"{path}: cannot be read ({exc}); save it as UTF-8 text of NAME=value lines") from exc


#: A password in a URL (``http://user:PASSWORD@host``) and the values of secret-like query parameters.
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)
_URL_SECRET = re.compile(r"([?&](?:token|key|api_?key|password|secret|access_token)=)[^&\s]+", re.IGNORECASE)


#: The shortest part of the key that :func:`redact` hides wherever it stands in a message.
_FRAGMENT = 6


def _secret_forms(secret: str) -> list[str]:
    """``secret`` as a message may hold it: as is, and escaped as Python's ``repr`` and JSON write it
    (an SDK error quoting a header value shows a line break in the key as ``\\n``)."""
    forms = [secret, repr(secret)[1:-1], secret.encode("unicode_escape").decode("ascii"),
             json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1]]
    return sorted(set(forms), key=len, reverse=True)


def _hide_fragments(text: str, form: str) -> str:
    """``text`` with every run of at least :data:`_FRAGMENT` characters that is a part of ``form``
    replaced by ``***`` (a key cut or obfuscated by the SDK shows only its middle)."""
    if len(form) < _FRAGMENT:
        return text
    out: list[str] = []
    i = 0
    while i < len(text):
        n = 0
        while i + n < len(text) and text[i:i + n + 1] in form:
            n += 1
        if n >= _FRAGMENT:
            out.append("***")
            i += n
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret``, of its escaped forms (``repr``, JSON) and of any
    part of them six characters long or more replaced, and with the passwords and tokens a URL may
    carry (KILI_API_ENDPOINT named in an error) hidden."""
    text = _URL_SECRET.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", text))
    if not secret:
        return text
    forms = _secret_forms(secret)
    for form in forms:
        text = text.replace(form, "***")
    for form in forms:
        text = _hide_fragments(text, form)
    return text


#: What a pasted key may carry that no API key holds, each named as the error names it.
_KEY_FAULTS = {"a line break": "\r\n\u2028\u2029\x85", "a space or tab": " \t\u00a0",
               "curly quotes": "\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb"}


def _key_faults(key: str) -> list[str]:
    """What in ``key`` an API key cannot hold (an HTTP header carries printable ASCII only): a line
    break, a space or tab, curly quotes, other characters; empty when the key can be sent."""
    faults = [name for name, chars in _KEY_FAULTS.items() if any(c in chars for c in key)]
    named = "".join(_KEY_FAULTS.values())
    if any(not ("!" <= c <= "~") and c not in named for c in key):
        faults.append("other characters that are not plain ASCII letters, digits or signs")
    return faults


def check_key(settings: KiliConnection) -> None:
    """Raise ReviewtuiError when KILI_API_KEY holds what no API key holds (a line break, curly quotes
    pasted from a chat...): naming the variable, where it was read and what to do, never a part of
    the key. The SDK would fail sending it, with a message that quotes the key."""
    faults = _key_faults(settings.api_key or "")
    if faults:
        came = f" (from {settings.key_from})" if settings.key_from else ""
        raise ReviewtuiError(f"KILI_API_KEY{came} has characters an API key cannot have ({', '.join(faults)}); "
                             "paste it again from Kili > My account > API keys, on one line")


_REQUEST_TIMEOUT = [KiliSettings().request_timeout]  # read by the patched HttpClient below


def _bound_sdk(settings: KiliConnection) -> None:
    """Bound the SDK's waits, once per process (reviewtui is the only kili user in it).

    * the GraphQL retry deadline (a module global the SDK reads at every retry decision);
    * every plain HTTP request of its HttpClient (bucket PUTs, json downloads), which has no
      timeout on uploads;
    * the bucket upload's own retry (three tries with 1-2 s waits).
    """
    import kili.core.graphql.graphql_client as graphql_client
    from kili.adapters.http_client import HttpClient
    from kili.utils import bucket
    from tenacity import retry, stop_after_attempt, stop_after_delay, wait_fixed

    graphql_client.RETRY_DEADLINE_SECONDS = settings.retry_deadline
    _REQUEST_TIMEOUT[0] = settings.request_timeout
    if not getattr(HttpClient._send_request, "_reviewtui_bounded", False):
        original = HttpClient._send_request

        def send(self: Any, method: str, url: str, **kwargs: Any):
            given = kwargs.get("timeout")
            limit = _REQUEST_TIMEOUT[0]
            kwargs["timeout"] = limit if given is None else min(float(given), limit)
            return original(self, method, url, **kwargs)

        send._reviewtui_bounded = True  # type: ignore[attr-defined]
        HttpClient._send_request = send  # type: ignore[method-assign]
    if not getattr(bucket.upload_data_via_rest, "_reviewtui_bounded", False):
        raw = getattr(bucket.upload_data_via_rest, "__wrapped__", bucket.upload_data_via_rest)
        bounded = retry(stop=stop_after_attempt(2) | stop_after_delay(settings.retry_deadline),
                        wait=wait_fixed(0.2), reraise=True)(raw)
        bounded._reviewtui_bounded = True  # type: ignore[attr-defined]
        bucket.upload_data_via_rest = bounded


@contextlib.contextmanager
def _sdk_checks_skipped() -> Iterator[None]:
    """Build the client without the SDK's start-up checks (key check without our timeout, a PyPI
    version lookup, a schema download on every command); reviewtui checks the key itself with
    one bounded ``viewer`` query right after."""
    before = os.environ.get("KILI_SDK_SKIP_CHECKS")
    os.environ["KILI_SDK_SKIP_CHECKS"] = "1"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("KILI_SDK_SKIP_CHECKS", None)
        else:
            os.environ["KILI_SDK_SKIP_CHECKS"] = before


def check_endpoint(settings: KiliConnection) -> None:
    """Raise ReviewtuiError when KILI_API_ENDPOINT is not an http(s) URL with a host (a typo in its
    scheme reached the SDK as "No connection adapters were found")."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(settings.endpoint)
        ok = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        came = f" (from {settings.endpoint_from})" if settings.endpoint_from else ""
        raise ReviewtuiError(redact(f"KILI_API_ENDPOINT{came} is not an http(s) URL: {settings.endpoint!r}; give the "
                                    f"full address, for example {DEFAULT_ENDPOINT}", settings.api_key))


def connect(settings: KiliConnection) -> Any:
    """A ``kili.client.Kili`` bound to ``settings`` whose key was checked. Raises ReviewtuiError."""
    if not settings.api_key:
        unread = (f"; {', '.join(settings.unread)} could not be read (not NAME=value: a quote left open?)"
                  if settings.unread else "")
        raise ReviewtuiError("no Kili API key: set KILI_API_KEY in the environment or in the workspace's .env "
                             f"file (create one at Kili > My account > API keys){unread}")
    check_key(settings)
    check_endpoint(settings)
    with kili_errors(settings, "connecting to Kili"):
        _bound_sdk(settings)
        from kili.client import Kili

        with _sdk_checks_skipped():
            client = Kili(api_key=settings.api_key, api_endpoint=settings.endpoint, disable_tqdm=True)
        client.graphql_client._gql_transport.default_timeout = settings.request_timeout
        client.kili_api_gateway.get_current_user(fields=("id", "email"))
    return client


#: What a message about a call Kili did not answer says of its outcome.
LOST_ANSWER = "; it may or may not have been applied"
#: The next step after a move whose outcome Kili did not say, by mutation: moving an asset again
#: to where it is already leaves it there (Kili reports it as moved), so the rerun is safe.
RERUN_AFTER_UNKNOWN = {
    "addAssetsToReview": "; rerun the same command: reviews already in review are left as they are",
    "sendAssetsBackToQueue": "; rerun the same command: reviews already back in the queue are left as they are",
    "setAssetsPriority": "; rerun the same command: a priority set already is set again to the same value",
}


def _http_status(exc: BaseException) -> int | None:
    code = getattr(exc, "code", None)
    if isinstance(code, int):
        return code
    response = getattr(exc, "response", None)
    return getattr(response, "status_code", None)


def explain(exc: BaseException, settings: KiliConnection, doing: str) -> str:
    """A user message for an SDK/transport error raised while ``doing`` something (key redacted)."""
    import requests
    from gql.transport.exceptions import TransportProtocolError, TransportServerError

    from kili.exceptions import AuthenticationFailed, GraphQLError, MutationOutcomeUnknownError, NotFound

    where = settings.endpoint
    chain: list[BaseException] = []
    e: BaseException | None = exc
    while e is not None and e not in chain:
        chain.append(e)
        e = e.__cause__ or e.__context__
    status = next((s for s in map(_http_status, chain) if s), None)
    if isinstance(exc, MutationOutcomeUnknownError):
        ids = exc.external_ids or []
        span = f" (assets {ids[0]} … {ids[-1]})" if ids else ""
        msg = (f"{doing}: Kili did not answer {exc.operation}{span} in time "
               f"({type(exc.cause).__name__}){LOST_ANSWER}" + RERUN_AFTER_UNKNOWN.get(exc.operation, ""))
    elif isinstance(exc, AuthenticationFailed) or status == 401:
        came = (" (the environment's, which comes before the workspace's .env)" if settings.key_from == "the environment"
                else f" (read from {settings.key_from})" if settings.key_from else "")
        msg = (f"{doing}: Kili at {where} rejected the API key (HTTP 401); check KILI_API_KEY{came} "
               "and KILI_API_ENDPOINT")
    elif status == 429:
        msg = (f"{doing}: Kili at {where} is rate-limiting requests (HTTP 429) and did not recover within "
               f"{settings.retry_deadline:g} s; wait a minute and rerun")
    elif status is not None and status >= 500:
        msg = f"{doing}: Kili at {where} answered HTTP {status} (a server error); retry in a moment"
    elif status == 404:
        msg = f"{doing}: there is no Kili API at {where} (HTTP 404); check KILI_API_ENDPOINT"
    elif status is not None and isinstance(exc, (TransportServerError, requests.HTTPError)):
        msg = f"{doing}: Kili at {where} answered HTTP {status}"
    elif any(isinstance(c, (requests.Timeout,)) for c in chain) or "timed out" in str(exc).lower():
        msg = (f"{doing}: Kili at {where} did not answer within {settings.request_timeout:g} s; check the "
               "network, or raise [kili] request_timeout in reviewtui.toml")
    elif any(isinstance(c, requests.ConnectionError) for c in chain):
        msg = (f"{doing}: cannot reach Kili at {where} (connection failed); check the network and "
               "KILI_API_ENDPOINT")
    elif isinstance(exc, TransportProtocolError):
        msg = f"{doing}: {where} did not answer like the Kili GraphQL API; check KILI_API_ENDPOINT"
    elif isinstance(exc, NotFound):
        msg = f"{doing}: {exc}"
    elif isinstance(exc, GraphQLError):
        msg = f"{doing}: Kili refused the request: {exc}"
    else:
        msg = f"{doing}: the Kili SDK failed ({type(exc).__name__}: {exc})"
    if settings.unread:  # the key or the endpoint may have been on a line .env could not give
        msg += f" ({', '.join(settings.unread)} could not be read: not NAME=value)"
    return redact(msg, settings.api_key)


@contextlib.contextmanager
def kili_errors(settings: KiliConnection, doing: str) -> Iterator[None]:
    """Turn any SDK/network error in the block into a ReviewtuiError with a redacted message."""
    try:
        yield
    except ReviewtuiError as exc:
        raise ReviewtuiError(redact(exc.message, settings.api_key)) from None
    except (KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:  # every SDK failure becomes one readable line
        # `from None`: the SDK exception chain carries request headers in some reprs
        raise ReviewtuiError(explain(exc, settings, doing)) from None
