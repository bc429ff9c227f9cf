"""Start-up cost: what the package imports, and the on-disk cache of the parsed catalog."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from importlib import resources
from pathlib import Path

import pytest
import yaml

from fab2flop import catalog as cat_mod
from fab2flop.catalog import CACHE_DIR_ENV, load_catalog, parse_catalog_texts

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "euv_limited.yaml"
HEAVY = ("fab2flop.lp.core", "xarray", "highspy", "pandas", "dask", "numpy")


def _modules_after(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; which heavy modules did it import?"""
    probe = (
        f"{code}\nimport sys, json\n"
        f"print(json.dumps({{m: m in sys.modules for m in {HEAVY!r} + ('dask.array',)}}))"
    )
    p = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=180, check=False
    )
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


def _cli(*args: str) -> str:
    return (
        "import sys\nfrom fab2flop.cli import main\n"
        f"sys.argv = ['fab2flop', *{list(args)!r}]\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
    )


@pytest.mark.parametrize(
    "code",
    [
        "import fab2flop",
        _cli("--help"),
        _cli("run", "--help"),
    ],
    ids=["import", "help", "run-help"],
)
def test_light_commands_import_no_array_or_solver_stack(code):
    loaded = _modules_after(code)
    assert not any(loaded.values()), {k: v for k, v in loaded.items() if v}


def test_validate_imports_no_solver_stack():
    # validate checks what run checks before solving (events, the supply chain): numpy is
    # fair game, the LP layer and the solver are not
    loaded = _modules_after(_cli("scenario", "validate", str(EXAMPLE)))
    heavy = ("fab2flop.lp.core", "highspy", "dask", "dask.array")
    assert not any(loaded[k] for k in heavy if k in loaded), loaded


def test_run_does_not_import_dask():
    # xarray would import dask.array (~0.5 s) just to ask whether arrays are dask arrays
    loaded = _modules_after(
        "from fab2flop import load_scenario, optimize\n"
        "assert optimize(load_scenario(None, ['time.end=2027'])).status.ok"
    )
    assert loaded["fab2flop.lp.core"] and loaded["highspy"]  # a real optimisation ran
    assert not loaded["dask"] and not loaded["dask.array"]


def test_lazy_dask_check_still_recognises_dask_arrays():
    # once dask.array is imported, xarray's check gives dask's own answer
    code = (
        "from fab2flop._compat import defer_dask_import, LazyDaskArray\n"
        "assert defer_dask_import()\n"
        "import numpy as np, xarray as xr\n"
        "xr.DataArray(np.zeros(2))\n"
        "import sys; assert 'dask.array' not in sys.modules\n"
        "import dask.array as da\n"
        "from xarray.namedarray.pycompat import array_type\n"
        "a = da.zeros(4, chunks=2)\n"
        "assert isinstance(a, array_type('dask')) and not isinstance(np.zeros(2), LazyDaskArray)\n"
        "assert xr.DataArray(a).chunks == ((2, 2),)\n"
        "from xarray.namedarray.utils import is_dask_collection, is_duck_dask_array\n"
        "assert is_dask_collection(a) and is_duck_dask_array(a)\n"
        "assert not is_dask_collection(np.zeros(2))\n"
    )
    loaded = _modules_after(code)
    assert loaded["dask.array"]


# ---- catalog: C loader and cache ---------------------------------------------------------


def _texts() -> dict[str, str]:
    root = resources.files("fab2flop") / "data" / "catalog"
    return {
        p.name[:-5]: p.read_text(encoding="utf-8")
        for p in root.iterdir()
        if p.name.endswith(".yaml")
    }


def test_c_loader_reads_the_catalog_as_the_python_loader_does():
    for stem, text in _texts().items():
        assert yaml.load(text, Loader=cat_mod.SafeLoader) == yaml.safe_load(text), stem


def test_cached_catalog_equals_the_parsed_one(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    texts = _texts()
    fresh = parse_catalog_texts(texts)  # no cache
    written = parse_catalog_texts(texts, cache=True)  # parses, writes
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".json"
    assert fresh.data_hash in files[0].name  # keyed by the texts' hash
    read = parse_catalog_texts(texts, cache=True)  # reads
    assert fresh.records == written.records == read.records
    assert fresh.data_hash == read.data_hash
    # a series keeps its int year keys through JSON
    series = [r for r in read if isinstance(r.value, dict)]
    assert series and all(isinstance(k, int) for r in series for k in r.value)


def test_a_changed_text_misses_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    texts = _texts()
    parse_catalog_texts(texts, cache=True)
    stem = sorted(texts)[0]
    changed = {
        **texts,
        stem: texts[stem] + "\nzz_extra:\n  value: 1\n  unit: '1'\n  year: 2024\n  source: test\n",
    }
    cat = parse_catalog_texts(changed, cache=True)
    assert f"{stem}.zz_extra" in cat
    assert len(list(tmp_path.iterdir())) == 2


def test_a_damaged_cache_file_is_ignored(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    texts = _texts()
    good = parse_catalog_texts(texts, cache=True)
    (f,) = tmp_path.iterdir()
    f.write_text(f.read_text(encoding="utf-8")[:-100], encoding="utf-8")  # truncated
    assert parse_catalog_texts(texts, cache=True).records == good.records


def test_invalid_records_are_refused_even_from_the_cache(tmp_path, monkeypatch):
    # the cache holds parsed YAML, not validated records: validation runs every time
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    bad = {"t": "a:\n  value: 1\n  unit: '1'\n  year: 1800\n  source: test\n"}
    for _ in range(2):  # the second call reads the cache
        with pytest.raises(cat_mod.CatalogError, match="year"):
            parse_catalog_texts(bad, cache=True)
    assert len(list(tmp_path.iterdir())) == 1


def test_empty_cache_dir_setting_switches_the_cache_off(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    assert cat_mod.catalog_cache_dir() == tmp_path / "fab2flop"  # the default place
    monkeypatch.setenv(CACHE_DIR_ENV, "")
    assert cat_mod.catalog_cache_dir() is None
    parse_catalog_texts(_texts(), cache=True)
    assert list(tmp_path.iterdir()) == []


def test_concurrent_writers_leave_one_whole_file(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path))
    texts = _texts()
    out: list = []
    start = threading.Barrier(4)

    def work() -> None:
        start.wait()
        out.append(parse_catalog_texts(texts, cache=True).records)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(out) == 4 and all(r == out[0] for r in out)
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and not files[0].name.endswith(".tmp")  # no temp file left over
    header = files[0].read_text(encoding="utf-8").splitlines()[0]
    assert json.loads(header)["digest"] in files[0].name


def test_load_catalog_is_the_shipped_catalog():
    cat = load_catalog()
    assert len(cat) > 600 and "nodes.N3.wafer_price_usd" in cat


def test_group_index_answers_as_a_scan_of_the_records():
    cat = load_catalog()
    prefixes = {rid.rsplit(".", k)[0] for rid in cat.records for k in (1, 2, 3)}
    for pre in sorted(prefixes) + ["nodes.", "no_such_group", ""]:
        dotted = pre.rstrip(".") + "."
        scan = sorted({k[len(dotted) :].split(".")[0] for k in cat.records if k.startswith(dotted)})
        assert cat.group(pre) == scan, pre
    assert "N3" in cat.group("nodes")


# ---- run: modules the run path imports but never uses ------------------------------------


def test_run_leaves_unused_modules_unloaded():
    # numpy.f2py/numpy.testing (touched by scipy's array-API layer via dir(numpy)) stay lazy
    # stubs; requests (nothing on the run path needs the network) is not loaded
    code = _cli("run", "--set", "time.end=2026", "--no-store", "--json") + (
        "import sys, json\n"
        "from fab2flop._compat import is_deferred\n"
        "print(json.dumps({'f2py': is_deferred('numpy.f2py'), "
        "'testing': is_deferred('numpy.testing'), 'requests': 'requests' in sys.modules}))\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert p.returncode == 0, p.stderr
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got == {"f2py": True, "testing": True, "requests": False}


def test_deferred_modules_work_when_used():
    code = (
        "from fab2flop._compat import defer_unused_imports, is_deferred\n"
        "assert defer_unused_imports() == ['numpy.f2py', 'numpy.testing']\n"
        "import numpy\n"
        "nt = numpy.testing\n"
        "assert is_deferred('numpy.testing')\n"
        "nt.assert_allclose([1.0], [1.0])  # first use loads the whole module\n"
        "assert not is_deferred('numpy.testing') and hasattr(nt, 'assert_array_equal')\n"
        "import numpy.f2py as f2  # an import statement runs it too\n"
        "assert not is_deferred('numpy.f2py') and callable(f2.run_main)\n"
        "import sys; print('ok')\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False
    )
    assert p.returncode == 0 and p.stdout.strip().endswith("ok"), p.stderr


def test_python_dash_m_runs_the_cli():
    # `python -m fab2flop` and `python -m fab2flop.cli` are the `fab2flop` command
    for mod in ("fab2flop", "fab2flop.cli"):
        p = subprocess.run(
            [sys.executable, "-m", mod, "--help"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert p.returncode == 0, p.stderr
        assert "Usage" in p.stdout and "run" in p.stdout
