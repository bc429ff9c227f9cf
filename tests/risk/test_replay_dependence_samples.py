"""``dependence_samples``: the dependence figures of the first chunks only (the rest NaN),
each equal to what attributing every sample gives; the spread then reads those samples."""

from __future__ import annotations

import numpy as np

from fab2flop.risk.replay import replay
from fab2flop.risk.spread import per_sample_from_dataset, spread

from .test_replay_chunks import su  # noqa: F401  (the MIXED set's setup, a fixture)


def test_the_first_chunks_are_attributed_and_equal_the_full_attribution(su):  # noqa: F811
    def run(n):
        return replay(
            su.net, su.plan, su.samples, su.probe, su.events, chunk=16, workers=1,
            dependence=True, dependence_samples=n,
        ).dataset  # fmt: skip

    full, part = run(None), run(20)  # 20 samples: two whole chunks of 16
    assert part.attrs["dependence_samples"] == 32 and full.attrs["dependence_samples"] == 48
    keys = [k for k in full.data_vars if str(k).startswith("dependence.")]
    assert keys and set(keys) == {k for k in part.data_vars if str(k).startswith("dependence.")}
    for k in keys:
        np.testing.assert_array_equal(part[k].values[:32], full[k].values[:32], err_msg=k)
        assert np.isnan(part[k].values[32:]).all(), k
    # the spread of the part is the spread of those 32 samples
    x = per_sample_from_dataset(part)["taiwan_dependent_share"]
    got = spread(per_sample_from_dataset(part))["taiwan_dependent_share"]["p50"][-1]
    assert got == np.percentile(x[:32, -1][np.isfinite(x[:32, -1])], 50)
