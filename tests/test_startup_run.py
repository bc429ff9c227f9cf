"""Start-up of `fab2flop run` (issue 6, item 8), guarded without timing: what the command
imports, that the lazily loaded CLI lists and runs every command as before, and that the
one-merge read-back builds the same solution Dataset as adding arrays one by one."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from typer.testing import CliRunner

from fab2flop.cli import app
from fab2flop.cli.app import COMMANDS, load_command

# modules of CLI commands other than `run`, and libraries the printed table does not need
OTHER_COMMANDS = sorted(
    f"fab2flop.cli.{mod}" for mod, _, _ in COMMANDS.values() if mod != "run_cmd"
)
NOT_ON_RUN = ("duckdb", "scipy", "matplotlib", "dask", "pyarrow.parquet", "fab2flop.world")


def _loaded_after_run(*args: str) -> dict[str, bool]:
    probe = (
        "import sys, json, contextlib, io\n"
        "from fab2flop.cli import main\n"
        f"sys.argv = ['fab2flop', 'run', *{list(args)!r}]\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        main()\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        f"names = {OTHER_COMMANDS + list(NOT_ON_RUN)!r} + ['fab2flop.cli.run_cmd', 'highspy']\n"
        "print(json.dumps({m: m in sys.modules for m in names}))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, check=False
    )
    assert p.returncode == 0, p.stderr[-2000:]
    return json.loads(p.stdout.strip().splitlines()[-1])


def test_run_imports_no_other_command_and_nothing_the_table_does_not_need():
    loaded = _loaded_after_run("--set", "time.end=2027", "--no-store")
    assert loaded["fab2flop.cli.run_cmd"] and loaded["highspy"]  # it did run and solve
    assert not any(loaded[m] for m in OTHER_COMMANDS), [m for m in OTHER_COMMANDS if loaded[m]]
    assert not any(loaded[m] for m in NOT_ON_RUN), [m for m in NOT_ON_RUN if loaded[m]]


def test_root_help_lists_every_command_with_its_own_help():
    r = CliRunner().invoke(app, ["--help"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.replace("│", " ").split())  # rich wraps and boxes the text
    # the order the eager application listed them in: commands, then groups
    expected = ["run", "plan", "context", "dependence", "finance", "serve", "report",
                "scenario", "data", "chip", "runs", "risk"]  # fmt: skip
    assert list(COMMANDS) == expected
    panel = r.output[r.output.index("Commands") :]
    rows = [m.group(1) for ln in panel.splitlines() if (m := re.match(r"│ (\S+) ", ln))]
    assert rows == expected  # one row per command, in that order (continuations indented)
    for name in expected:
        cmd = load_command(name)
        first = (cmd.help or "").strip().split("\n")[0].strip()
        assert first and first in text, (name, first)


def test_each_command_loads_with_its_options():
    run = load_command("run")
    assert {"--set", "--json", "--no-store", "--store"} <= {o for p in run.params for o in p.opts}
    risk = load_command("risk")
    assert risk.name == "risk" and "sweep" in risk.commands  # added by risk_sweep_cmd
    scenario = load_command("scenario")
    assert {"validate", "show"} <= set(scenario.commands)


def test_an_unknown_command_is_still_refused_with_suggestions():
    r = CliRunner().invoke(app, ["no-such-command"])
    assert r.exit_code == 2
    assert "No such command" in r.output and "Did you mean" not in r.output
    # difflib ratios of "rn": run 2*2/5 = 0.8, runs 2*2/6 = 0.67 (>= 0.6), risk 2/6: not
    r = CliRunner().invoke(app, ["rn"])
    assert r.exit_code == 2
    assert "Did you mean 'run', 'runs'?" in " ".join(r.output.replace("│", " ").split())


def test_a_group_command_runs_through_the_lazy_root():
    r = CliRunner().invoke(app, ["scenario", "validate", "default", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) == {"valid": True, "scenario": "openai-7t-feb-2024", "problems": []}


# ---- read-back: one merge gives what one merge per array gave ------------------------------


def _base() -> xr.Dataset:
    ds = xr.Dataset(
        coords={"process": ["a", "b", "c"], "period": [2025, 2026], "year": ("period", [1.0, 2.0])}
    )
    ds.coords["carrier"] = ["x", "y", "z"]
    ds.coords["scale_process"] = ("process", [1.0, 2.0, 4.0])
    return ds


@pytest.mark.parametrize("first_subset", [False, True])
def test_pending_arrays_give_the_dataset_of_one_by_one(first_subset):
    from fab2flop.solution import _Pending, _set

    full = xr.DataArray(
        np.arange(6.0).reshape(3, 2),
        coords={"process": ["a", "b", "c"], "period": [2025, 2026]},
        dims=("process", "period"),
    )
    # a balance over two of the three carriers (in another order): NaN for the third
    sub = xr.DataArray(
        [[1.0, 2.0], [3.0, 4.0]],
        coords={"carrier": ["z", "x"], "period": [2025, 2026]},
        dims=("carrier", "period"),
    )
    with_year = full.assign_coords(year=("period", [1.0, 2.0]))  # a coordinate it has
    arrays = [("f", full), ("s", sub), ("y", with_year), ("s2", sub * 2)]
    if first_subset:
        arrays = arrays[1:] + arrays[:1]
    one_by_one, together = _base(), _base()
    pending = _Pending(together)
    for name, da in arrays:
        _set(one_by_one, name, da, "u", f"about {name}")
        pending.set(name, da, "u", f"about {name}")
    pending.flush()
    xr.testing.assert_identical(together, one_by_one)
    assert list(together.variables) == list(one_by_one.variables)  # same order
    # by hand: carrier y has no row in `sub` -> NaN; z is sub's first row
    np.testing.assert_array_equal(together["s"].sel(carrier="y").values, [np.nan, np.nan])
    np.testing.assert_array_equal(together["s"].sel(carrier="z").values, [1.0, 2.0])


# ---- the record reuses the summary's JSON text -------------------------------------------


def test_recorded_summary_text_is_the_compact_json_of_the_summary():
    from fab2flop import load_scenario, optimize
    from fab2flop.store import _json, _row

    res = optimize(load_scenario(None, ["time.end=2027"]))
    row = _row(res, "run", None)
    # what the row held before it reused the text: the summary parsed, dumped again
    again = _json(json.loads(res.to_json(indent=None)))
    assert row["summary"] == again
    assert json.loads(row["summary"]) == json.loads(res.to_json())
    # the printed view is the summary, not a copy of another computation
    assert res._summary_view() == res.summary()
