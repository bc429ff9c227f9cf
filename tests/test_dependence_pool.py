"""pool_free_share against a direct reading of the attribution rule (fab2flop.dependence):
random acyclic chains with inventories and several samples, and one chain by hand."""

from __future__ import annotations

import numpy as np

from fab2flop.dependence import _chain_levels, dependent_from_share, pool_free_share, window_sum
from fab2flop.risk.spread import _dependent


def _reference(io, glob, made_free, made_all, inventory):
    """The rule read directly, one sample, period and carrier at a time (memoised
    recursion): a worldwide pool's free share is (inventory carried in x last period's
    share + Σ_p made_free_p x out_pc x Π_inputs share) / (carried in + Σ_p made_p x out_pc);
    no units: last period's share; other carriers: 1."""
    S, P, T = made_all.shape
    C = io.shape[1]
    phi = np.ones((S, C, T))
    for s in range(S):
        for t in range(T):
            memo: dict[int, float] = {}

            def share(c: int, s: int = s, t: int = t, memo: dict = memo) -> float:
                if not glob[c]:
                    return 1.0
                if c not in memo:
                    carried = inventory[s, c, t - 1] if t > 0 else 0.0
                    prev = phi[s, c, t - 1] if t > 0 else 1.0
                    num, den = carried * prev, carried
                    for p in range(P):
                        if io[p, c] > 0:
                            draw = 1.0
                            for i in range(C):
                                if io[p, i] < 0:
                                    draw *= share(i)
                            num += made_free[s, p, t] * io[p, c] * draw
                            den += made_all[s, p, t] * io[p, c]
                    memo[c] = num / den if den > 0 else prev
                return memo[c]

            for c in range(C):
                phi[s, c, t] = share(c)
    return phi


def _random_chain(rng, C, P):
    """Processes making one or two carriers from carriers of lower index (acyclic), with
    random yields; some carriers regional; a quarter of processes idle in some periods."""
    io = np.zeros((P, C))
    for p in range(P):
        outs = rng.choice(np.arange(1, C), size=rng.integers(1, 3), replace=False)
        io[p, outs] = rng.uniform(0.5, 3.0, len(outs))
        low = int(outs.min())
        k = rng.integers(0, min(low, 3) + 1)
        if k:
            io[p, rng.choice(low, size=k, replace=False)] = -rng.uniform(0.5, 2.0, k)
    glob = rng.random(C) < 0.8
    return io, glob


def test_random_acyclic_chains_match_the_rule():
    rng = np.random.default_rng(7)
    for _ in range(6):
        C, P, S, T = 9, 12, 4, 5
        io, glob = _random_chain(rng, C, P)
        made_all = rng.uniform(0.0, 10.0, (S, P, T)) * (rng.random((S, P, T)) < 0.75)
        made_free = made_all * rng.uniform(0.0, 1.0, (S, P, T)) * (rng.random((S, P, T)) < 0.8)
        inventory = rng.uniform(0.0, 5.0, (S, C, T)) * (rng.random((S, C, T)) < 0.5)
        got = pool_free_share(io, glob, made_free, made_all, inventory)
        want = _reference(io, glob, made_free, made_all, inventory)
        assert got.shape == (S, C, T)
        np.testing.assert_allclose(got, want, rtol=0.0, atol=1e-12)


def test_two_stage_chain_by_hand():
    """Carriers: 0 wafer (worldwide), 1 chip (worldwide). Processes: 0 fab in TW makes 1
    wafer; 1 fab in US makes 1 wafer; 2 assembly makes 1 chip from 2 wafers.
    Period 0: TW fab 30 (not free), US fab 10 (free): wafer pool 10 / 40 = 0.25.
    Assembly 15 chips, 10 of them outside TW: free 10 x 0.25 (one draw per chip: inputs'
    shares multiply over the input carriers, not the units) = 2.5 of 15 -> 1/6.
    Inventory out of period 0: 20 wafers, 6 chips.
    Period 1: wafers: carried 20 x 0.25 = 5 free + US fab 30 free, TW fab 10:
    (5 + 30) / (20 + 40) = 35/60 = 7/12. Chips: carried 6 x 1/6 = 1 free, assembly 12 all
    outside TW: 12 x 7/12 = 7; (1 + 7) / (6 + 12) = 8/18 = 4/9."""
    io = np.array([[1.0, 0.0], [1.0, 0.0], [-2.0, 1.0]])
    glob = np.array([True, True])
    made_all = np.array([[[30.0, 10.0], [10.0, 30.0], [15.0, 12.0]]])  # (S=1,P=3,T=2)
    made_free = np.array([[[0.0, 0.0], [10.0, 30.0], [10.0, 12.0]]])
    inventory = np.array([[[20.0, 0.0], [6.0, 0.0]]])  # (S,C,T), out of each period
    phi = pool_free_share(io, glob, made_free, made_all, inventory)
    np.testing.assert_allclose(phi[0], [[0.25, 7 / 12], [1 / 6, 4 / 9]], rtol=0, atol=1e-12)


def test_chain_levels_order_the_chain_and_see_cycles():
    # process 0 makes carrier 0; process 1 makes 1 from 0; process 2 makes 2 from 0 and 1
    makes = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], bool)
    uses = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0]], bool)
    p_lev, c_lev = _chain_levels(makes, uses)
    assert p_lev.tolist() == [0, 1, 2] and c_lev.tolist() == [0, 1, 2]
    uses[0, 2] = True  # process 0 now draws carrier 2: a cycle 0 -> 1 -> 2 -> 0
    assert _chain_levels(makes, uses) is None


def test_replay_dependent_h100e_equals_dependent_from_share():
    """risk/spread.py computes the window of deployments once for Taiwan and Korea; its
    figure must be dependent_from_share's (hand-checked in test_dependence.py), exactly."""
    rng = np.random.default_rng(3)
    S, A, R, T = 5, 4, 3, 6
    deployed = rng.uniform(0.0, 9.0, (S, A, R, T)) * (rng.random((S, A, R, T)) < 0.6)
    installed = rng.uniform(0.0, 30.0, (S, A, R, T))
    life = rng.integers(1, 5, (S, A))
    h = rng.uniform(0.5, 3.0, (S, A))
    window = window_sum(deployed, life)
    for _ in range(2):  # two regions, one window
        phi_acc = rng.uniform(0.0, 1.0, (S, A, T))
        want = dependent_from_share(phi_acc, deployed, installed, life, h)
        got = _dependent(phi_acc, deployed, window, installed, life, h)
        assert np.array_equal(got, want)
