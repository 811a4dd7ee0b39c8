"""A stateful loopback Kili server for tests: the real kili SDK talks to it over HTTP.

It answers GraphQL by top-level field (projects, assets, appendManyAssets, ...), keeps projects,
assets and labels in memory, stores uploaded text in a fake bucket (createUploadBucketSignedUrls +
PUT on this same server), records every operation with its variables, and injects faults on
demand (HTTP 401/429/500, a hang, a dropped answer after applying a mutation).

Only what reviewtui uses is implemented; an unknown field answers a GraphQL error so a test sees
at once that the SDK sent something new.
"""

from __future__ import annotations

import gzip
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

API_PATH = "/api/label/v2/graphql"


@dataclass
class Op:
    """One GraphQL operation the SDK sent."""

    name: str
    variables: dict[str, Any]
    query: str


@dataclass
class Fault:
    """Answer the next matching operations badly.

    ``kind``: "401", "429", "500" (HTTP status), "hang" (sleep ``seconds`` before answering),
    "drop" (apply the operation, then close the connection without an answer).
    ``after``: let this many matching operations through first. ``times``: None = forever.
    """

    op: str
    kind: str
    times: int | None = 1
    after: int = 0
    seconds: float = 30.0
    seen: int = 0


def _iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


class KiliState:
    """Projects, assets and labels of the fake Kili."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.projects: dict[str, dict[str, Any]] = {}
        self.assets: dict[str, list[dict[str, Any]]] = {}
        self.bucket: dict[str, bytes] = {}
        self.json_response_urls = False  # True: labels carry jsonResponseUrl (bucket) like big Kili labels
        self._ids = itertools.count(1)
        self._clock = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):05d}"

    def tick(self) -> str:
        """A strictly increasing timestamp, an hour a step (so days go by and updatedAt
        comparisons are deterministic)."""
        self._clock += timedelta(hours=1)
        return _iso(self._clock)

    # -- helpers for tests (what a person does in Kili's web UI) -----------------------------
    def add_project(self, *, title: str = "Reviews", json_interface: dict | str | None = None,
                    workflow: str = "V1", steps: list[dict[str, Any]] | None = None,
                    project_id: str | None = None, input_type: str = "TEXT") -> str:
        with self.lock:
            pid = project_id or self.new_id("proj")
            iface = json_interface if isinstance(json_interface, str) else json.dumps(json_interface or {"jobs": {}})
            if workflow != "V1" and steps is None:
                steps = [{"id": "step-label", "name": "Labeling", "type": "DEFAULT", "order": 0},
                         {"id": "step-review", "name": "Review", "type": "REVIEW", "order": 1}]
            self.projects[pid] = {
                "id": pid, "title": title, "description": "", "inputType": input_type,
                "jsonInterface": iface, "workflowVersion": workflow, "steps": steps or [],
                "createdAt": self.tick(), "updatedAt": self.tick(), "complianceTags": [],
                "dataConnections": [], "archived": False,
            }
            self.assets[pid] = []
            return pid

    def asset(self, project_id: str, external_id: str) -> dict[str, Any]:
        for a in self.assets[project_id]:
            if a["externalId"] == external_id:
                return a
        raise KeyError(external_id)

    def label(self, project_id: str, external_id: str, categories: list[str] | str | None, *,
              spans: list[dict[str, Any]] | None = None, email: str = "ann@example.com",
              label_type: str = "DEFAULT", status: str | None = None, raw: dict | None = None) -> dict:
        """Give an asset a label as a labeler in the web UI would (status LABELED by default)."""
        with self.lock:
            a = self.asset(project_id, external_id)
            if raw is not None:
                response = raw
            else:
                cats = [categories] if isinstance(categories, str) else list(categories or [])
                response = {"JOB_0": {"categories": [{"name": c, "confidence": 100} for c in cats]}}
                if spans:
                    response["JOB_1"] = {"annotations": [
                        {"categories": [{"name": s["category"], "confidence": 100}],
                         "beginOffset": s["start"], "endOffset": s["end"], "content": s.get("text", ""),
                         "mid": f"m{i}"} for i, s in enumerate(spans)]}
            lab = {
                "id": self.new_id("lab"), "jsonResponse": json.dumps(response), "jsonResponseUrl": None,
                "author": {"id": "u-" + email.split("@")[0], "email": email, "firstname": email.split("@")[0],
                           "lastname": ""},
                "labelType": label_type, "createdAt": self.tick(), "isLatestLabelForUser": True,
                "modelName": None, "secondsToLabel": 7,
            }
            a["labels"].append(lab)
            if label_type != "PREDICTION":
                a["latestLabel"] = lab
                new_status = status or ("REVIEWED" if label_type == "REVIEW" else "LABELED")
                self._set_status(project_id, a, new_status)
            a["updatedAt"] = self.tick()
            return lab

    def skip(self, project_id: str, external_id: str) -> None:
        with self.lock:
            a = self.asset(project_id, external_id)
            a["skipped"] = True
            if self.projects[project_id]["workflowVersion"] != "V1":
                a["currentStep"] = {**(a.get("currentStep") or {}), "status": "SKIPPED"}
            a["updatedAt"] = self.tick()

    def _set_status(self, project_id: str, a: dict[str, Any], status: str) -> None:
        a["status"] = status
        project = self.projects[project_id]
        if project["workflowVersion"] == "V1":
            return
        steps = sorted(project["steps"], key=lambda s: s.get("order", 0))
        labeling = next((s for s in steps if s["type"] == "DEFAULT"), steps[0])
        review = next((s for s in steps if s["type"] == "REVIEW"), None)
        step_status = {"TODO": (labeling, "TO_DO"), "ONGOING": (labeling, "IN_PROGRESS"),
                       "LABELED": (review or labeling, "TO_DO" if review else "DONE"),
                       "TO_REVIEW": (review or labeling, "TO_DO"),
                       "REVIEWED": (review or labeling, "DONE")}[status]
        a["currentStep"] = {"name": step_status[0]["name"], "id": step_status[0]["id"],
                            "status": step_status[1], "stepGroupName": None}


class _Handler(BaseHTTPRequestHandler):
    server: "KiliServer._HTTP"  # type: ignore[assignment]
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        out = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self) -> None:  # the SDK's /version probe and json downloads
        owner = self.server.owner
        if self.path.startswith("/bucket/"):
            data = owner.state.bucket.get(self.path[len("/bucket/"):].split("?")[0], b"")
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self._send(404, {"error": "not found"})

    def do_PUT(self) -> None:
        owner = self.server.owner
        data = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        path = self.path[len("/bucket/"):].split("?")[0]
        fault = owner._take_fault("PUT")
        owner._record(Op("PUT", {"path": path, "bytes": len(data)}, ""))
        if fault is not None and self._apply_fault(fault, before=True):
            return
        owner.state.bucket[path] = data
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _apply_fault(self, fault: Fault, *, before: bool) -> bool:
        """Answer with the fault; True when the request is finished."""
        if fault.kind in ("401", "429", "500", "503"):
            if not before:
                return False
            # a gateway's answer: plain text, not GraphQL, so gql raises TransportServerError(code)
            out = f"HTTP {fault.kind} from the test server".encode()
            self.send_response(int(fault.kind))
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(out)))
            if fault.kind == "429":
                self.send_header("Retry-After", "0.2")
            self.end_headers()
            self.wfile.write(out)
            return True
        if fault.kind == "hang" and before:
            time.sleep(fault.seconds)
            self.close_connection = True
            return True
        if fault.kind == "drop" and not before:
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return True
        return False

    def do_POST(self) -> None:
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.split("?")[0] != API_PATH:
            out = b"<html>not found</html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        body = json.loads(raw or b"{}")
        query = body.get("query", "")
        variables = body.get("variables") or {}
        match = re.match(r"\s*(?:(\w+)\s*:\s*)?(\w+)", query[query.index("{") + 1:]) if "{" in query else None
        if match is None:
            self._send(400, {"errors": [{"message": "no operation"}]})
            return
        alias, name = (match.group(1) or match.group(2)), match.group(2)
        owner._record(Op(name, variables, query))
        owner.headers_seen.append(dict(self.headers))
        fault = owner._take_fault(name)
        if fault is not None and self._apply_fault(fault, before=True):
            return
        auth = self.headers.get("Authorization", "")
        if owner.api_key is not None and auth != f"X-API-Key: {owner.api_key}":
            out = b"Unauthorized"
            self.send_response(401)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(out)))
            self.end_headers()
            self.wfile.write(out)
            return
        handler: Callable[[dict[str, Any]], Any] | None = getattr(owner, "_op_" + name, None)
        if handler is None:
            self._send(200, {"data": None, "errors": [{"message": f"test server: no resolver for {name}",
                                                    "extensions": {"code": "NOT_IMPLEMENTED", "context": {}}}]})
            return
        try:
            with owner.state.lock:
                result = handler(variables)
        except GraphQLFailure as exc:
            self._send(200, {"data": None, "errors": [{"message": str(exc), "path": [alias],
                                                    "extensions": {"code": "OPERATION_RESOLUTION_FAILURE",
                                                                   "context": {}}}]})
            return
        if fault is not None and self._apply_fault(fault, before=False):
            return
        self._send(200, {"data": {alias: result}})


class GraphQLFailure(Exception):
    """A resolver error, answered as GraphQL ``errors``."""


class KiliServer:
    """Start with ``KiliServer().start()``; ``endpoint`` is the GraphQL URL for KILI_API_ENDPOINT."""

    class _HTTP(ThreadingHTTPServer):
        daemon_threads = True
        owner: "KiliServer"

    def __init__(self, api_key: str | None = "test-kili-key") -> None:
        self.api_key = api_key
        self.state = KiliState()
        self.ops: list[Op] = []
        self.faults: list[Fault] = []
        self.headers_seen: list[dict[str, str]] = []
        self._lock = threading.Lock()
        self.httpd = self._HTTP(("127.0.0.1", 0), _Handler)
        self.httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}{API_PATH}"

    def start(self) -> "KiliServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # -- recording and faults -----------------------------------------------------------------
    def _record(self, op: Op) -> None:
        with self._lock:
            self.ops.append(op)

    def calls(self, name: str) -> list[dict[str, Any]]:
        """Variables of every ``name`` operation, in order."""
        with self._lock:
            return [o.variables for o in self.ops if o.name == name]

    def op_names(self) -> list[str]:
        with self._lock:
            return [o.name for o in self.ops]

    def clear_log(self) -> None:
        with self._lock:
            self.ops.clear()

    def fail(self, op: str, kind: str, *, times: int | None = 1, after: int = 0, seconds: float = 30.0) -> Fault:
        fault = Fault(op, kind, times, after, seconds)
        with self._lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._lock:
            self.faults.clear()

    def _take_fault(self, name: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.op not in (name, "*"):
                    continue
                fault.seen += 1
                if fault.seen <= fault.after:
                    continue
                if fault.times is not None:
                    if fault.times <= 0:
                        continue
                    fault.times -= 1
                return fault
        return None

    # -- resolvers ------------------------------------------------------------------------------
    def _project(self, pid: str | None) -> dict[str, Any]:
        if pid not in self.state.projects:
            raise GraphQLFailure(f"[notFound] project {pid} does not exist or you cannot access it")
        return self.state.projects[pid]

    def _op_viewer(self, v: dict) -> dict:
        return {"id": "u1", "email": "owner@example.com", "firstname": "Owner", "lastname": "",
                "organizationId": "org1", "organization": {"id": "org1"}}

    def _op_countOrganizations(self, v: dict) -> int:
        return 1

    def _op_organizations(self, v: dict) -> list[dict]:
        return [{"id": "org1", "name": "Test org", "license": {"uploadLocalData": True}}]

    def _project_matches(self, p: dict, where: dict) -> bool:
        if where.get("id") and p["id"] != where["id"]:
            return False
        search = where.get("searchQuery")
        if search and search.strip("%").lower() not in p["title"].lower():
            return False
        return True

    def _op_projects(self, v: dict) -> list[dict]:
        where = v.get("where") or {}
        found = [p for p in self.state.projects.values() if self._project_matches(p, where)]
        skip, first = int(v.get("skip", 0)), int(v.get("first", 100))
        return [dict(p) for p in found[skip:skip + first]]

    def _op_countProjects(self, v: dict) -> int:
        where = v.get("where") or {}
        return sum(self._project_matches(p, where) for p in self.state.projects.values())

    def _op_createProject(self, v: dict) -> dict:
        data = v.get("data") or {}
        iface = data.get("jsonInterface")
        if isinstance(iface, dict):
            raise GraphQLFailure("jsonInterface must travel as a JSON string")
        pid = self.state.add_project(title=data.get("title", ""), json_interface=iface or "{}",
                                     input_type=data.get("inputType", "TEXT"))
        self.state.projects[pid]["description"] = data.get("description", "")
        return {"id": pid}

    def _op_updatePropertiesInProject(self, v: dict) -> dict:
        p = self._project((v.get("where") or {}).get("id"))
        for k, val in (v.get("data") or {}).items():
            p[k] = val
        return {"id": p["id"]}

    def _op_filterExistingAssets(self, v: dict) -> list[str]:
        self._project(v.get("projectID"))
        existing = {a["externalId"] for a in self.state.assets[v["projectID"]]}
        return [e for e in v.get("externalIDs", []) if e in existing]

    def _op_createUploadBucketSignedUrls(self, v: dict) -> list[str]:
        return [f"http://127.0.0.1:{self.port}/bucket/{p}?id={p}" for p in v.get("filePaths", [])]

    def _content(self, content: str) -> str:
        """Like Kili, an uploaded text asset's content is the URL of its file in the bucket."""
        prefix = f"http://127.0.0.1:{self.port}/bucket/"
        if content.startswith(prefix):
            path = content[len(prefix):].split("?")[0]
            if path not in self.state.bucket:
                raise GraphQLFailure(f"content {path} was never uploaded")
        return content

    def text_of(self, project_id: str, external_id: str) -> str:
        """The text of an asset (read back from the bucket)."""
        content = self.state.asset(project_id, external_id)["content"]
        prefix = f"http://127.0.0.1:{self.port}/bucket/"
        if content.startswith(prefix):
            return self.state.bucket[content[len(prefix):].split("?")[0]].decode("utf-8")
        return content

    def add_remote_asset(self, project_id: str, external_id: str, text: str, metadata: dict | None = None) -> str:
        """An asset someone added in Kili directly (raw text content)."""
        with self.state.lock:
            now = self.state.tick()
            aid = self.state.new_id("asset")
            asset = {"id": aid, "externalId": external_id, "content": text, "jsonContent": "",
                     "jsonMetadata": json.dumps(metadata or {}), "isHoneypot": False, "skipped": False,
                     "status": "TODO", "priority": 0, "createdAt": now, "updatedAt": now, "labels": [],
                     "latestLabel": None, "currentStep": None}
            self.state.assets[project_id].append(asset)
            self.state._set_status(project_id, asset, "TODO")
            return aid

    def _op_appendManyAssets(self, v: dict) -> list[dict]:
        pid = (v.get("where") or {}).get("id")
        self._project(pid)
        data = v.get("data") or {}
        n = len(data.get("contentArray") or [])
        existing = {a["externalId"] for a in self.state.assets[pid]}
        dupes = [e for e in data.get("externalIDArray", []) if e in existing]
        if dupes:
            raise GraphQLFailure(f"[assetsAlreadyExist] external ids already in the project: {dupes[:5]}")
        created = []
        for i in range(n):
            now = self.state.tick()
            aid = data.get("idArray", [""] * n)[i] or self.state.new_id("asset")
            asset = {
                "id": aid, "externalId": data["externalIDArray"][i],
                "content": self._content(data["contentArray"][i]),
                "jsonContent": data.get("jsonContentArray", [""] * n)[i],
                "jsonMetadata": data.get("jsonMetadataArray", ["{}"] * n)[i] or "{}",
                "isHoneypot": False, "skipped": False, "status": "TODO", "priority": 0,
                "createdAt": now, "updatedAt": now, "labels": [], "latestLabel": None,
                "currentStep": None,
            }
            self.state.assets[pid].append(asset)
            self.state._set_status(pid, asset, "TODO")
            created.append({"id": aid})
        return created

    def _asset_matches(self, a: dict, where: dict) -> bool:
        if where.get("id") and a["id"] != where["id"]:
            return False
        if where.get("idIn") is not None and a["id"] not in where["idIn"]:
            return False
        if where.get("externalIdStrictlyIn") is not None and a["externalId"] not in where["externalIdStrictlyIn"]:
            return False
        if where.get("statusIn") is not None and a["status"] not in where["statusIn"]:
            return False
        if where.get("skipped") is not None and a["skipped"] != where["skipped"]:
            return False
        if where.get("updatedAtGte") and a["updatedAt"] < where["updatedAtGte"]:
            return False
        if where.get("updatedAtLte") and a["updatedAt"] > where["updatedAtLte"]:
            return False
        return True

    def _select_assets(self, where: dict) -> list[dict]:
        pid = (where.get("project") or {}).get("id")
        if pid is None:
            pool = [a for assets in self.state.assets.values() for a in assets]
        else:
            self._project(pid)
            pool = self.state.assets[pid]
        return [a for a in pool if self._asset_matches(a, where)]

    def _op_countAssets(self, v: dict) -> int:
        return len(self._select_assets(v.get("where") or {}))

    def _op_assets(self, v: dict) -> list[dict]:
        found = self._select_assets(v.get("where") or {})
        skip, first = int(v.get("skip", 0)), int(v.get("first", 100))
        out = []
        for a in found[skip:skip + first]:
            copy = json.loads(json.dumps(a))
            copy["project"] = {"id": next(pid for pid, lst in self.state.assets.items() if a in lst)}
            if self.state.json_response_urls:
                for lab in [copy.get("latestLabel"), *copy.get("labels", [])]:
                    if lab:
                        path = f"labels/{lab['id']}.json"
                        self.state.bucket[path] = lab["jsonResponse"].encode()
                        lab["jsonResponseUrl"] = f"http://127.0.0.1:{self.port}/bucket/{path}"
                        lab["jsonResponse"] = ""
            out.append(copy)
        return out

    def _asset_action(self, v: dict, decide: Callable[[str, dict], bool]) -> dict:
        ids = (v.get("where") or {}).get("idIn") or []
        out: dict[str, list] = {"succeeded": [], "declined": [], "failed": []}
        index = {a["id"]: (pid, a) for pid, lst in self.state.assets.items() for a in lst}
        for aid in ids:
            if aid not in index:
                out["failed"].append({"assetId": aid, "externalId": None, "details": "asset not found"})
                continue
            pid, a = index[aid]
            entry = {"assetId": aid, "externalId": a["externalId"]}
            if decide(pid, a):
                a["updatedAt"] = self.state.tick()
                out["succeeded"].append(entry)
            else:
                out["declined"].append(entry)
        return out

    def _op_addAssetsToReview(self, v: dict) -> dict:
        def move(pid: str, a: dict) -> bool:
            if a["latestLabel"] is None or a["status"] not in ("LABELED", "REVIEWED", "TO_REVIEW"):
                return False
            self.state._set_status(pid, a, "TO_REVIEW")
            return True
        return self._asset_action(v, move)

    def _op_sendAssetsBackToQueue(self, v: dict) -> dict:
        def move(pid: str, a: dict) -> bool:
            if a["status"] == "TODO" or (a["skipped"] and self.state.projects[pid]["workflowVersion"] != "V1"):
                return False
            self.state._set_status(pid, a, "ONGOING")
            return True
        return self._asset_action(v, move)

    def _op_setAssetsPriority(self, v: dict) -> dict:
        priority = int(v.get("priority", 0))

        def move(pid: str, a: dict) -> bool:
            if a["status"] not in ("TODO", "ONGOING") or a["skipped"]:
                return False
            a["priority"] = priority
            return True
        return self._asset_action(v, move)

    def _op_appendManyLabels(self, v: dict) -> list[dict]:
        data = v.get("data") or {}
        index = {a["id"]: (pid, a) for pid, lst in self.state.assets.items() for a in lst}
        out = []
        for item in data.get("labelsData", []):
            if item.get("assetID") not in index:
                raise GraphQLFailure(f"asset {item.get('assetID')} not found")
            pid, a = index[item["assetID"]]
            response = item.get("jsonResponse")
            if isinstance(response, dict):
                raise GraphQLFailure("jsonResponse must travel as a JSON string")
            if data.get("overwrite"):
                a["labels"] = [lab for lab in a["labels"] if not (
                    lab["labelType"] == data.get("labelType") and lab.get("modelName") == item.get("modelName"))]
            lab = {"id": self.state.new_id("lab"), "jsonResponse": response, "jsonResponseUrl": None,
                   "author": {"id": "u1", "email": "owner@example.com", "firstname": "Owner", "lastname": ""},
                   "labelType": data.get("labelType", "DEFAULT"), "createdAt": self.state.tick(),
                   "isLatestLabelForUser": True, "modelName": item.get("modelName"), "secondsToLabel": None}
            a["labels"].append(lab)
            out.append({"id": lab["id"]})
        return out


# -- pytest fixtures (imported by tests/test_kili*.py) ----------------------------------------------
TEST_KEY = "kili-test-key-3f9a1c7e5b2d4068"

try:
    import pytest
except ImportError:  # pragma: no cover - the server also runs without pytest
    pytest = None  # type: ignore[assignment]

if pytest is not None:

    @pytest.fixture
    def kili_server(monkeypatch):
        """A running loopback Kili; the SDK is pointed at it (KILI_API_ENDPOINT) with TEST_KEY."""
        srv = KiliServer(api_key=TEST_KEY).start()
        monkeypatch.setenv("KILI_SDK_SKIP_CHECKS", "1")
        monkeypatch.setenv("KILI_API_ENDPOINT", srv.endpoint)
        monkeypatch.setenv("KILI_API_KEY", TEST_KEY)
        monkeypatch.delenv("KILI_VERIFY", raising=False)
        # the SDK's client-side limiter allows 500 calls a minute per process; the suite makes more
        import kili.core.graphql.graphql_client as graphql_client
        from pyrate_limiter import Duration, Limiter, Rate

        monkeypatch.setattr(graphql_client, "_limiter", Limiter(Rate(1_000_000, Duration.MINUTE), max_delay=1000))
        yield srv
        srv.stop()
