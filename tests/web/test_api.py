"""The HTTP API in process (FastAPI's TestClient): runs, errors with field paths, limits."""

from __future__ import annotations

import threading

import pytest
import yaml
from fastapi.testclient import TestClient

from fab2flop.scenario import load_scenario, validate_scenario
from fab2flop.web.app import Busy, Limits, SolveQueue, create_app
from fab2flop.web.memstore import InMemoryRunStore


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app(InMemoryRunStore()))


@pytest.fixture(scope="module")
def two_runs(client: TestClient) -> tuple[dict, dict]:
    a = client.post("/v1/runs", json={"label": "base"})
    b = client.post(
        "/v1/runs",
        json={
            "scenario": "extends: default\nname: cheap\n",
            "overrides": ["budget.total_usd=3e12"],
        },
    )
    assert a.status_code == b.status_code == 200
    return a.json(), b.json()


def test_create_read_list_compare(client: TestClient, two_runs) -> None:
    a, b = two_runs
    assert a["status"] == "optimal"
    assert b["summary"]["scenario"] == "cheap"
    # the budget override reached the plan: funding is what arrives of $3T (the default's
    # funders bring 100% of the budget inside 2025-2035)
    assert b["summary"]["funding_total_usd"] == pytest.approx(3e12, rel=1e-9)
    assert a["summary"]["funding_total_usd"] == pytest.approx(7e12, rel=1e-9)
    got = client.get(f"/v1/runs/{a['id']}").json()
    assert got["summary"]["compute_h100e"] == a["summary"]["compute_h100e"]
    ids = [r["id"] for r in client.get("/v1/runs").json()]
    assert ids[:2] == [b["id"], a["id"]]  # newest first
    cmp = client.get("/v1/runs/compare", params={"a": a["id"], "b": b["id"]}).json()
    fa, fb, diff = cmp["metrics"]["funding_total_usd"]
    assert diff == pytest.approx(fb - fa) and fb - fa == pytest.approx(-4e12, rel=1e-9)
    assert any(line.startswith("+name: cheap") for line in cmp["scenario_diff"])


def test_bottlenecks_and_tables(client: TestClient, two_runs) -> None:
    a, _ = two_runs
    bn = client.get(f"/v1/runs/{a['id']}/bottlenecks").json()
    assert bn["first_binding"] == a["summary"]["first_binding"]
    assert bn["groups"]
    names = client.get(f"/v1/runs/{a['id']}/tables").json()
    assert "compute_h100e" in names and "spend_usd" in names
    t = client.get(f"/v1/runs/{a['id']}/tables/compute_h100e").json()
    assert t["columns"] == ["period", "compute_h100e"]
    assert [r[1] for r in t["rows"]] == pytest.approx(a["summary"]["compute_h100e"])
    assert client.get(f"/v1/runs/{a['id']}/tables/nope").status_code == 404


def test_bad_input_is_422_with_the_cli_paths(client: TestClient) -> None:
    r = client.post("/v1/runs", json={"overrides": ["budget.total_usd=-5"]})
    assert r.status_code == 422
    assert r.json()["problems"] == [
        {"path": "budget.total_usd", "value": -5, "expected": "Input should be greater than 0"}
    ]
    r = client.post("/v1/runs", json={"scenario": {"budget": {"total_usd": "lots"}}})
    assert r.status_code == 422
    assert [p["path"] for p in r.json()["problems"]] == ["budget.total_usd"]
    r = client.post("/v1/runs", json={"scenario": "a: [1\n"})
    assert r.status_code == 422 and r.json()["problems"][0]["expected"] == "valid YAML"
    r = client.post("/v1/runs", json={"overrides": ["no-equals-sign"]})
    assert r.status_code == 422
    r = client.post("/v1/runs", json={"scenario": "- 1\n- 2\n"})
    assert r.status_code == 422


@pytest.mark.parametrize("base", ["/etc/passwd", "../default.yaml", "default.yaml"])
def test_no_file_on_the_server(client: TestClient, base: str) -> None:
    r = client.post("/v1/runs", json={"scenario": {"extends": base}})
    assert r.status_code == 422
    assert r.json()["problems"][0]["path"] == "extends"


def test_unknown_ids_are_404(client: TestClient) -> None:
    assert client.get("/v1/runs/feedface").status_code == 404
    assert client.get("/v1/runs/feedface/bottlenecks").status_code == 404
    assert client.get("/v1/chips/NO_SUCH_CHIP").status_code == 404


def test_body_limit() -> None:
    c = TestClient(create_app(InMemoryRunStore(), Limits(max_body_bytes=1000)))
    big = {"scenario": "name: x\n" + "# pad\n" * 400}  # 2.4 kB
    assert c.post("/v1/runs", json=big).status_code == 413


def test_solve_time_is_capped(client: TestClient) -> None:
    from fab2flop.web.app import RunRequest, resolve_request_scenario

    req = RunRequest(overrides=["solver.time_limit_s=100000"])
    assert resolve_request_scenario(req, Limits(max_solve_s=7.0)).solver.time_limit_s == 7.0


def test_full_queue_answers_busy() -> None:
    q = SolveQueue(running=1, waiting=1)
    gate, started = threading.Event(), threading.Event()

    def hold() -> str:
        started.set()
        gate.wait(10)
        return "done"

    results: list[str] = []
    t1 = threading.Thread(target=lambda: results.append(q.run(hold)))
    t1.start()
    started.wait(10)
    t2 = threading.Thread(target=lambda: results.append(q.run(lambda: "second")))
    t2.start()  # waits in line behind the first
    for _ in range(100):
        if q._admitted == 2:
            break
        threading.Event().wait(0.01)
    with pytest.raises(Busy):
        q.run(lambda: "third")  # one running + one waiting: the third is refused
    gate.set()
    t1.join(10)
    t2.join(10)
    assert sorted(results) == ["done", "second"]


def test_full_queue_is_429() -> None:
    app = create_app(InMemoryRunStore(), Limits(max_running=1, max_waiting=0))
    c = TestClient(app)
    gate = threading.Event()
    started = threading.Event()
    import fab2flop.optimizer as opt

    real = opt.optimize

    def slow(sc, *a, **k):
        started.set()
        gate.wait(20)
        return real(sc, *a, **k)

    opt.optimize = slow
    try:
        out: list[int] = []
        t = threading.Thread(target=lambda: out.append(c.post("/v1/runs", json={}).status_code))
        t.start()
        assert started.wait(60)
        r = c.post("/v1/runs", json={})
        assert r.status_code == 429 and r.headers["retry-after"] == "2"
        gate.set()
        t.join(120)
        assert out == [200]
    finally:
        opt.optimize = real
        gate.set()


def test_catalog_chips_design_schema(client: TestClient) -> None:
    recs = client.get("/v1/catalog", params={"prefix": "regions.US."}).json()
    ids = {r["id"] for r in recs}
    assert "regions.US.grid_mw_available" in ids and all(i.startswith("regions.US.") for i in ids)
    chips = {c["name"] for c in client.get("/v1/chips").json()}
    assert {"H100", "B200"} <= chips
    h100 = client.get("/v1/chips/H100").json()
    # H100 SXM dense BF16: 989.4 TFLOP/s (NVIDIA datasheet, 1,979 with sparsity)
    assert h100["flops_bf16_dense"] == pytest.approx(989.4e12, rel=0.01)
    d = client.post("/v1/chips/design", json={"base": "H100", "design": {"hbm_stacks": 6}})
    assert d.status_code == 200 and d.json()["hbm_stacks"] == 6
    bad = client.post("/v1/chips/design", json={"design": {"node": "N3", "die_area_mm2": -1}})
    assert bad.status_code == 422 and "die_area_mm2" in bad.json()["detail"]
    schema = client.get("/v1/scenario/schema").json()
    assert "budget" in schema["properties"]
    assert "/docs" in [r.path for r in client.app.routes]


def test_playground_yaml_is_a_runnable_scenario(client: TestClient) -> None:
    r = client.get(
        "/v1/playground/scenario.yaml",
        params={
            "budget_usd": 3e12,
            "blockade": True,
            "blockade_start": 2029,
            "custom_designs": False,
        },
    )
    assert r.status_code == 200
    assert "attachment" in r.headers["content-disposition"]
    sc = validate_scenario(yaml.safe_load(r.text))
    assert sc.budget.total_usd == 3e12
    assert sc.accelerators.custom == {}
    assert [(e.start, e.duration_years) for e in sc.events] == [(2029, 0.5)]
    # the same plan as the CLI's --set and --event would give
    cli = load_scenario(overrides=["budget.total_usd=3e12", "accelerators.custom={}"])
    assert sc.accelerators.merchant == cli.accelerators.merchant


def test_page_and_assets(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "/static/plotly.min.js" in page.text
    assert "cdn" not in page.text.lower()
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and len(js.content) > 1_000_000
    assert client.get("/static/playground.js").status_code == 200
    assert client.get("/static/../app.py").status_code == 404


def test_serve_warns_off_loopback() -> None:
    from fab2flop.cli.serve_cmd import is_loopback

    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
