"""The HTTP API (``/v1/...``) and the playground page (``/``), as a FastAPI app.

Every limit is a field of :class:`Limits`: request body size, solver time, how many solves
run and wait at once (more answer 429). A request can never name a file on the server: a
scenario comes as YAML text or a JSON object, ``extends`` may only name ``default``, and
nothing else in the schema is a path. See docs/web.md.
"""

from __future__ import annotations

import copy
import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from ..errors import CatalogError, DesignError, Fab2FlopError, ScenarioError
from .session import SOLVER_LOCK, Levers, Session, scenario_dict

API_VERSION = "v1"


@dataclass(frozen=True)
class Limits:
    """What one server accepts."""

    max_body_bytes: int = 256_000  # a scenario is a few kB
    max_solve_s: float = 60.0  # solver.time_limit_s is capped to this [s]
    max_running: int = 1  # solves at once (the solver is serialised anyway: SOLVER_LOCK)
    max_waiting: int = 4  # solves queued behind them; more answer 429
    max_structures: int = 6  # playground models kept (least recently used dropped)
    max_results_cached: int = 16  # runs whose full Results stay in memory for /tables


class SafeJSONResponse(JSONResponse):
    """JSON without NaN or infinities (they are not JSON): they become null."""

    def render(self, content: Any) -> bytes:
        return json.dumps(
            _finite(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")
        ).encode("utf-8")


def _finite(x: Any) -> Any:
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {str(k): _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    if hasattr(x, "item") and callable(x.item):  # numpy scalars
        try:
            return _finite(x.item())
        except (TypeError, ValueError):
            return str(x)
    return x


class Busy(Exception):
    """Every solve slot and queue place is taken."""


class SolveQueue:
    """At most ``running`` solves at once and ``waiting`` more in line; the rest is refused."""

    def __init__(self, running: int, waiting: int) -> None:
        self._sem = threading.Semaphore(running)
        self._lock = threading.Lock()
        self._admitted = 0
        self._cap = running + waiting

    def run(self, fn: Any, *args: Any) -> Any:
        with self._lock:
            if self._admitted >= self._cap:
                raise Busy()
            self._admitted += 1
        try:
            with self._sem:
                return fn(*args)
        finally:
            with self._lock:
                self._admitted -= 1


# --------------------------------------------------------------------------- bodies


class RunRequest(BaseModel):
    """``POST /v1/runs``: a scenario (YAML text or a JSON object; the default when absent)
    and ``--set`` style overrides."""

    model_config = ConfigDict(extra="forbid")

    scenario: str | dict[str, Any] | None = Field(
        None, description="YAML text or an object; `extends` may only be 'default'"
    )
    overrides: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=100, description="KEY=VALUE, e.g. budget.total_usd=3e12"
    )
    label: str | None = Field(None, max_length=200)


class DesignRequest(BaseModel):
    """``POST /v1/chips/design``: design fields (``fab2flop chip design``), optionally
    starting from a catalog accelerator."""

    model_config = ConfigDict(extra="forbid")

    base: str | None = Field(None, max_length=100, description="catalog accelerator to start from")
    design: dict[str, Any] = Field(default_factory=dict, description="design field -> value")


class PlaygroundRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    session: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    levers: Levers = Field(default_factory=Levers)


# --------------------------------------------------------------------------- scenario


def resolve_request_scenario(req: RunRequest, limits: Limits) -> Any:
    """The validated scenario of a request; ScenarioError (422) naming the field if not."""
    from ..scenario import apply_override, deep_merge, parse_override, validate_scenario
    from ..yamlio import load_yaml
    from .session import default_scenario_dict

    raw: Any = req.scenario
    origin = "scenario"
    if raw is None:
        data = default_scenario_dict()
        origin = "default scenario"
    else:
        if isinstance(raw, str):
            raw = load_yaml(raw, "scenario", max_bytes=limits.max_body_bytes)
        if not isinstance(raw, dict):
            raise ScenarioError(
                f"scenario: got {type(raw).__name__}; expected a mapping of scenario fields",
                [("scenario", str(raw)[:80], "a mapping of scenario fields")],
            )
        data = copy.deepcopy(raw)
        base = data.pop("extends", None)
        if base is not None:
            if base != "default":
                raise ScenarioError(
                    f"scenario.extends: got {base!r}; a request can only extend 'default' "
                    "(it cannot name a file on the server)",
                    [("extends", base, "'default'")],
                )
            data = deep_merge(default_scenario_dict(), data)
    for item in req.overrides:
        apply_override(data, *parse_override(item))
    sc = validate_scenario(data, origin)
    sc.solver.time_limit_s = min(float(sc.solver.time_limit_s), limits.max_solve_s)
    sc.solver.log = False
    return sc


def _problems(exc: ScenarioError) -> list[dict[str, Any]]:
    return [
        {"path": str(p), "value": _finite(_jsonable(v)), "expected": str(e)}
        for p, v, e in exc.problems
    ]


def _jsonable(v: Any) -> Any:
    try:
        json.dumps(v, allow_nan=True)
        return v
    except (TypeError, ValueError):
        return repr(v)[:200]


# --------------------------------------------------------------------------- the app


def _default_store() -> Any:
    try:
        from ..store import RunStore  # type: ignore[import-not-found]
    except ImportError:
        from .memstore import InMemoryRunStore

        return InMemoryRunStore()
    return RunStore()


def _static(name: str) -> Path:
    return Path(str(resources.files("fab2flop.web") / "static" / name))


def plotly_js_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def create_app(store: Any = None, limits: Limits | None = None) -> FastAPI:
    """The API and the playground. ``store``: a RunStore-like object (default: the DuckDB
    store when the package has one, else one in memory)."""
    lim = limits or Limits()
    app = FastAPI(
        title="fab2flop",
        version=API_VERSION,
        description="Plan and stress-test an AI-compute build-out over HTTP (docs/web.md).",
        default_response_class=SafeJSONResponse,
    )
    app.state.store = store if store is not None else _default_store()
    app.state.limits = lim
    queue = SolveQueue(lim.max_running, lim.max_waiting)
    results_cache: OrderedDict[str, Any] = OrderedDict()  # run id -> Results (for /tables)
    solved: OrderedDict[str, Any] = OrderedDict()  # scenario digest -> Results: a scenario
    # already solved is not solved again (the solver is deterministic)
    # the playground's solved models, one per structure, shared by every browser session:
    # a move sets every lever's rows and costs, so the answer never depends on who moved last
    playground = Session(max_structures=lim.max_structures, learn_ahead=True)

    _add_limits_and_errors(app, lim)

    # ---------------------------------------------------------------- runs
    @app.post("/v1/runs", tags=["runs"], summary="Optimise a scenario and record the run")
    def create_run(req: RunRequest) -> Any:
        sc = resolve_request_scenario(req, lim)

        def work() -> Any:
            from ..optimizer import optimize

            key = sc.digest()
            with SOLVER_LOCK:
                hit = solved.get(key)
                if hit is None:
                    hit = solved[key] = optimize(sc)
                solved.move_to_end(key)
                while len(solved) > lim.max_results_cached:
                    solved.popitem(last=False)
                return hit

        res = queue.run(work)
        rid = app.state.store.add(res, kind="run", label=req.label)
        results_cache[rid] = res
        while len(results_cache) > lim.max_results_cached:
            results_cache.popitem(last=False)
        return {"id": rid, "status": res.status.value, "summary": json.loads(res.to_json())}

    @app.get("/v1/runs", tags=["runs"], summary="Runs in the store, newest first")
    def list_runs(limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Any:
        return app.state.store.list(limit=limit)

    @app.get("/v1/runs/compare", tags=["runs"], summary="Two runs side by side")
    def compare_runs(
        a: Annotated[str, Query(max_length=100)], b: Annotated[str, Query(max_length=100)]
    ) -> Any:
        return app.state.store.compare(a, b)

    @app.get("/v1/runs/{run_id}", tags=["runs"], summary="Everything recorded of a run")
    def get_run(run_id: str) -> Any:
        return app.state.store.get(run_id)

    @app.get("/v1/runs/{run_id}/bottlenecks", tags=["runs"], summary="What binds")
    def get_bottlenecks(run_id: str) -> Any:
        s = app.state.store.get(run_id)["summary"]
        return {
            "first_binding": s.get("first_binding"),
            "groups": s.get("bottleneck_groups", []),
            "bottlenecks": s.get("bottlenecks", []),
        }

    @app.get("/v1/runs/{run_id}/tables", tags=["runs"], summary="Names of the result tables")
    def list_tables(run_id: str) -> Any:
        res = _cached_results(run_id)
        return sorted(str(k) for k in res.dataset.data_vars)

    @app.get("/v1/runs/{run_id}/tables/{name}", tags=["runs"], summary="One result table")
    def get_table(run_id: str, name: str) -> Any:
        res = _cached_results(run_id)
        if name not in res.dataset.data_vars:
            raise _NotFound(f"run {run_id}: no table {name!r}; see /v1/runs/{run_id}/tables")
        da = res.dataset[name]
        da = da.drop_vars([c for c in da.coords if c not in da.dims])
        df = da.to_dataframe(name=str(name)).reset_index()
        return {
            "name": name,
            "units": str(da.attrs.get("units", "")),
            "description": str(da.attrs.get("description", "")),
            "columns": [str(c) for c in df.columns],
            "rows": df.astype(object).values.tolist(),
        }

    def _cached_results(run_id: str) -> Any:
        app.state.store.get(run_id)  # unknown ids: the store's error (404)
        res = results_cache.get(run_id)
        if res is None or not res.status.ok:
            raise _NotFound(
                f"run {run_id}: its tables are not held by this server (runs created by "
                "this server keep them while it runs); use `fab2flop runs export`"
            )
        return res

    # ---------------------------------------------------------------- catalog, chips
    @app.get("/v1/catalog", tags=["catalog"], summary="Sourced catalog values")
    def catalog(prefix: Annotated[str, Query(max_length=200)] = "") -> Any:
        from ..catalog import load_catalog

        return [r.to_dict() for r in load_catalog() if r.id.startswith(prefix)]

    @app.get("/v1/chips", tags=["chips"], summary="Accelerators of the catalog")
    def chips() -> Any:
        from ..components.accelerator import evaluate_catalog

        return [s.to_dict() for s in evaluate_catalog().values()]

    @app.get("/v1/chips/{name}", tags=["chips"], summary="One accelerator")
    def chip(name: str) -> Any:
        from ..components.accelerator import design_from_catalog, evaluate

        try:
            return evaluate(design_from_catalog(name)).to_dict()
        except CatalogError as exc:
            raise _NotFound(str(exc)) from None

    @app.post("/v1/chips/design", tags=["chips"], summary="Evaluate a design (chip design)")
    def chip_design(req: DesignRequest) -> Any:
        from ..components.accelerator import design_from_catalog, evaluate, make_design

        fields = {str(k): v for k, v in req.design.items()}
        try:
            if req.base is not None:
                d = design_from_catalog(req.base, **fields)
            else:
                fields.setdefault("name", "design")
                d = make_design(**fields)
            return evaluate(d).to_dict()
        except (Fab2FlopError, TypeError, ValueError, KeyError, ArithmeticError) as exc:
            raise DesignError(str(exc) or type(exc).__name__) from None

    # ---------------------------------------------------------------- scenario
    @app.get("/v1/scenario/schema", tags=["scenario"], summary="Scenario JSON Schema")
    def scenario_schema() -> Any:
        from ..scenario import Scenario

        return Scenario.model_json_schema()

    @app.get("/v1/scenario/default", tags=["scenario"], summary="The default scenario (YAML)")
    def scenario_default() -> Response:
        from ..scenario import default_scenario_text

        return Response(default_scenario_text(), media_type="application/yaml")

    # ---------------------------------------------------------------- playground
    @app.post("/v1/playground/solve", tags=["playground"], summary="Re-solve for new levers")
    def playground_solve(req: PlaygroundRequest) -> Any:
        import uuid

        sid = req.session or uuid.uuid4().hex[:16]
        out = queue.run(playground.solve, req.levers)
        out["session"] = sid
        return SafeJSONResponse(out)  # as the default class renders it, minus a 2 ms re-encode

    @app.get(
        "/v1/playground/scenario.yaml",
        tags=["playground"],
        summary="The scenario of a playground state, as YAML",
    )
    def playground_yaml(levers: Annotated[Levers, Query()]) -> Response:
        import yaml

        from ..scenario import validate_scenario

        sc = validate_scenario(scenario_dict(levers), "playground scenario")
        text = "# fab2flop playground scenario: fab2flop run THIS_FILE\n" + yaml.safe_dump(
            sc.model_dump(mode="json"), sort_keys=False, allow_unicode=True
        )
        return Response(
            text,
            media_type="application/yaml",
            headers={"Content-Disposition": 'attachment; filename="playground.yaml"'},
        )

    @app.get("/v1/playground/levers", tags=["playground"], summary="Levers and their ranges")
    def playground_levers() -> Any:
        return Levers.model_json_schema()

    # ---------------------------------------------------------------- page
    @app.get("/", include_in_schema=False)
    def index() -> HTMLResponse:
        return HTMLResponse(_static("index.html").read_text(encoding="utf-8"))

    @app.get("/static/plotly.min.js", include_in_schema=False)
    def plotly_js() -> FileResponse:
        return FileResponse(plotly_js_path(), media_type="text/javascript")

    @app.get("/static/{name}", include_in_schema=False)
    def static(name: str) -> FileResponse:
        if name not in ("playground.js", "playground.css"):
            raise _NotFound(f"no static file {name!r}")
        kind = "text/javascript" if name.endswith(".js") else "text/css"
        return FileResponse(_static(name), media_type=kind)

    return app


class _NotFound(Exception):
    pass


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: a request body over ``max_bytes`` is refused with 413, whether it
    says its length or streams it."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"detail": f"request body larger than {self.max_bytes} bytes"})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        size = dict(scope.get("headers") or []).get(b"content-length")
        if size is not None and (not size.isdigit() or int(size) > self.max_bytes):
            await self._refuse(send)
            return
        received = 0
        started = False

        async def limited() -> Any:
            nonlocal received
            msg = await receive()
            if msg["type"] == "http.request":
                received += len(msg.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge()
            return msg

        async def watch(msg: Any) -> None:
            nonlocal started
            if msg["type"] == "http.response.start":
                started = True
            await send(msg)

        try:
            await self.app(scope, limited, watch)
        except _TooLarge:
            if not started:
                await self._refuse(send)


def _add_limits_and_errors(app: FastAPI, lim: Limits) -> None:
    app.add_middleware(BodyLimit, max_bytes=lim.max_body_bytes)

    @app.exception_handler(ScenarioError)
    async def scenario_error(request: Request, exc: ScenarioError) -> SafeJSONResponse:
        return SafeJSONResponse({"detail": str(exc), "problems": _problems(exc)}, 422)

    @app.exception_handler(_NotFound)
    async def not_found(request: Request, exc: _NotFound) -> SafeJSONResponse:
        return SafeJSONResponse({"detail": str(exc)}, 404)

    @app.exception_handler(Busy)
    async def busy(request: Request, exc: Busy) -> SafeJSONResponse:
        return SafeJSONResponse(
            {"detail": "every solve slot is busy; try again shortly"},
            429,
            headers={"Retry-After": "2"},
        )

    @app.exception_handler(Fab2FlopError)
    async def domain_error(request: Request, exc: Fab2FlopError) -> SafeJSONResponse:
        if type(exc).__name__ in ("StoreError", "MemoryStoreError") and "corrupt" not in str(exc):
            return SafeJSONResponse({"detail": str(exc)}, 404)
        return SafeJSONResponse({"detail": str(exc)}, 422)


__all__ = ["create_app", "Limits", "RunRequest", "resolve_request_scenario"]
