"""A small numpy-native LP modelling layer: labelled variables, linear expressions,
constraints, an objective, and their hand-over to HiGHS.

Everything is plain numpy arrays with named dimensions:

* a :class:`Variable` is an integer ``labels`` array over its ``dims`` (``coords`` give the
  items of each dimension), ``-1`` where the variable does not exist (its mask);
* an :class:`Expression` is ``Σ_k coeffs[..., k] · x[vars[..., k]] + const[...]``: ``vars``
  and ``coeffs`` of shape (..., K), ``-1`` / 0 for an empty term. ``+``, ``-`` and ``*``
  (by a number, an array of the expression's shape, or an xarray DataArray over some of its
  dimensions, broadcast by dimension name) return new expressions; nothing is aligned by
  label: a shared dimension must have the same items in the same order (else ValueError);
* a :class:`Constraint` is ``Σ coeffs · x  sign  rhs`` per cell, with ``labels`` numbering
  the rows that exist.

Labels are *compact* and assigned in order of creation, in C order: variable label ``j`` is
HiGHS column ``j``, constraint label ``i`` is HiGHS row ``i``: variables in creation order
without masked cells, constraints in creation order without masked or empty rows, the order
the package handed HiGHS before this layer (docs/design-notes.md, note 16), so HiGHS takes
the same path to the same vertex among equal optima. A row is absent when masked, when its
right-hand side is NaN, when it has no term (terms with ``|coeff| <= 1e-10`` or a NaN
coefficient are dropped first) or when it cannot bind (``<= +inf``, ``>= -inf``). Within a
row, terms on the same variable are summed, columns sorted, zero sums dropped.

Solutions are read into a :class:`Solution` (nothing is written back on the model):
primal values per column, HiGHS's row duals per row (its sign convention, unchanged:
for a maximisation a binding ``<=`` row has a dual ≥ 0, for a minimisation ≤ 0), and
:meth:`Solution.primal` / :meth:`Solution.dual` return them in a variable's or
constraint's shape with **NaN where the cell is absent**. :meth:`Solution.value` of an
expression counts absent terms as 0.

Thread safety: a model is built by one thread; nothing here reads or writes process-wide
state, and each solve makes its own HiGHS object with its output set before it runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

ZERO_COEFF = 1e-10  # |coefficient| at or below which a constraint term is dropped
SIGNS = ("<=", ">=", "=")
Coords = dict[str, Any]  # dimension -> its items (a pandas Index or an array)


# ---------------------------------------------------------------------- broadcasting


def _is_dataarray(x: object) -> bool:
    return hasattr(x, "dims") and hasattr(x, "values") and hasattr(x, "coords")


def _same_items(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and bool(np.all(a == b))


def aligned(x: Any, dims: Sequence[str], coords: Coords, what: str = "operand") -> np.ndarray:
    """``x`` (a number, an array of the full shape, or a DataArray over some of ``dims``)
    as an array broadcast to the shape of ``dims``; a DataArray is matched by dimension
    name and must have the same items on each shared dimension."""
    shape = tuple(len(coords[d]) for d in dims)
    if not _is_dataarray(x):
        return np.broadcast_to(np.asarray(x), shape)
    xd = [str(d) for d in x.dims]
    extra = [d for d in xd if d not in dims]
    if extra:
        raise ValueError(f"{what}: dimensions {extra} are not among {list(dims)}")
    for d in xd:
        if d in x.indexes and not _same_items(x.indexes[d], coords[d]):
            raise ValueError(f"{what}: the items of dimension {d!r} differ from the model's")
    order = sorted(xd, key=dims.index)
    arr = np.asarray(x.transpose(*order).values)
    arr = arr.reshape([len(coords[d]) if d in xd else 1 for d in dims])
    return np.broadcast_to(arr, shape)


def _shape(dims: Sequence[str], coords: Coords) -> tuple[int, ...]:
    return tuple(len(coords[d]) for d in dims)


# ---------------------------------------------------------------------- expressions


@dataclass(frozen=True, eq=False)
class Expression:
    """``Σ_k coeffs[..., k] · x[vars[..., k]] + const[...]`` over ``dims``."""

    vars: np.ndarray  # (..., K) int64 column labels, -1 for an empty term
    coeffs: np.ndarray  # (..., K) float
    const: np.ndarray  # (...) float
    dims: tuple[str, ...]
    coords: Coords

    @property
    def shape(self) -> tuple[int, ...]:
        return self.const.shape

    # -- arithmetic
    def _expand(self, dims: Sequence[str], coords: Coords) -> Expression:
        """This expression broadcast to ``dims`` (a superset of its own, in that order)."""
        for d in self.dims:
            if not _same_items(self.coords[d], coords[d]):
                raise ValueError(f"expression: the items of dimension {d!r} differ")
        order = [self.dims.index(d) for d in dims if d in self.dims]
        lead = [len(coords[d]) if d in self.dims else 1 for d in dims]
        shape = _shape(dims, coords)
        K = self.vars.shape[-1]
        v = np.transpose(self.vars, [*order, len(self.dims)]).reshape(*lead, K)
        c = np.transpose(self.coeffs, [*order, len(self.dims)]).reshape(*lead, K)
        k = np.transpose(self.const, order).reshape(lead)
        return Expression(
            np.broadcast_to(v, (*shape, K)),
            np.broadcast_to(c, (*shape, K)),
            np.broadcast_to(k, shape),
            tuple(dims),
            {d: coords[d] for d in dims},
        )

    def _union(self, dims: Sequence[str], coords: Coords) -> tuple[tuple[str, ...], Coords]:
        out = (*self.dims, *(d for d in dims if d not in self.dims))
        return out, {**coords, **self.coords}

    def __add__(self, other: Any) -> Expression:
        if isinstance(other, Expression):
            dims, coords = self._union(other.dims, other.coords)
            a, b = self._expand(dims, coords), other._expand(dims, coords)
            return Expression(
                np.concatenate([a.vars, b.vars], axis=-1),
                np.concatenate([a.coeffs, b.coeffs], axis=-1),
                a.const + b.const,
                dims,
                coords,
            )
        if isinstance(other, Variable):
            return self + other.to_expr()
        k = aligned(other, self.dims, self.coords, "added constant")
        return replace(self, const=self.const + k)

    __radd__ = __add__

    def __neg__(self) -> Expression:
        return self * -1.0

    def __sub__(self, other: Any) -> Expression:
        return self + (-other if isinstance(other, Expression) else _neg(other))

    def __rsub__(self, other: Any) -> Expression:
        return (-self) + other

    def __mul__(self, other: Any) -> Expression:
        if isinstance(other, Expression | Variable):
            raise TypeError("the product of two expressions is not linear")
        base = self
        if _is_dataarray(other):
            new = [str(d) for d in other.dims if str(d) not in self.dims]
            if new:
                dims = (*self.dims, *new)
                base = self._expand(dims, {**{d: other.indexes[d] for d in new}, **self.coords})
        f = np.asarray(aligned(other, base.dims, base.coords, "factor"), dtype=float)
        return Expression(
            base.vars, base.coeffs * f[..., None], base.const * f, base.dims, base.coords
        )

    __rmul__ = __mul__

    # -- reductions and selections
    def sum(self, dims: str | Iterable[str] | None = None) -> Expression:
        """Sum over ``dims`` (all when None): the terms of the summed cells are stacked."""
        drop = self.dims if dims is None else ([dims] if isinstance(dims, str) else list(dims))
        unknown = [d for d in drop if d not in self.dims]
        if unknown:
            raise ValueError(f"sum: dimensions {unknown} are not among {list(self.dims)}")
        keep = [d for d in self.dims if d not in drop]
        ik, idrop = [self.dims.index(d) for d in keep], [self.dims.index(d) for d in drop]
        n = len(self.dims)
        lead = _shape(keep, self.coords)
        v = np.transpose(self.vars, [*ik, *idrop, n]).reshape(*lead, -1)
        c = np.transpose(self.coeffs, [*ik, *idrop, n]).reshape(*lead, -1)
        k = self.const.sum(axis=tuple(idrop)) if idrop else self.const
        return Expression(v, c, np.asarray(k), tuple(keep), {d: self.coords[d] for d in keep})

    def isel(self, indexers: Mapping[str, int | Sequence[int]]) -> Expression:
        """Positions along dimensions: an int drops the dimension, a sequence keeps it."""
        v, c, k = self.vars, self.coeffs, self.const
        dims, coords = list(self.dims), dict(self.coords)
        for d, idx in indexers.items():
            if d not in dims:
                raise ValueError(f"isel: {d!r} is not among {dims}")
            ax = dims.index(d)
            if isinstance(idx, int | np.integer):
                v, c, k = (np.take(a, int(idx), axis=ax) for a in (v, c, k))
                dims.pop(ax)
                coords.pop(d)
            else:
                pos = np.asarray(idx, dtype=np.int64)
                v, c, k = (np.take(a, pos, axis=ax) for a in (v, c, k))
                coords[d] = np.asarray(coords[d])[pos]
        return Expression(v, c, np.asarray(k), tuple(dims), coords)

    def sel(self, indexers: Mapping[str, Any]) -> Expression:
        """Items along dimensions (see :meth:`isel`); an unknown item raises KeyError."""
        pos: dict[str, int | list[int]] = {}
        for d, items in indexers.items():
            known = list(np.asarray(self.coords[d]).tolist())
            if isinstance(items, list | tuple | np.ndarray):
                pos[d] = [known.index(_plain(i)) for i in items]
            else:
                pos[d] = known.index(_plain(items))
        return self.isel(pos)

    def dataarray(self, values: np.ndarray, name: str | None = None) -> Any:
        """``values`` (the expression's shape) as an xarray DataArray over its dims."""
        import xarray as xr

        coords = {d: self.coords[d] for d in self.dims}
        return xr.DataArray(values, coords=coords, dims=self.dims, name=name)

    # -- comparisons make constraints
    def __le__(self, rhs: Any) -> Comparison:  # type: ignore[override]
        return Comparison(self, "<=", rhs)

    def __ge__(self, rhs: Any) -> Comparison:  # type: ignore[override]
        return Comparison(self, ">=", rhs)

    def __eq__(self, rhs: Any) -> Comparison:  # type: ignore[override]
        return Comparison(self, "=", rhs)

    __hash__ = None  # type: ignore[assignment]


def _neg(x: Any) -> Any:
    return -x if _is_dataarray(x) else -np.asarray(x, dtype=float)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


@dataclass(frozen=True)
class Comparison:
    """``lhs sign rhs`` before it is added to a model (:meth:`Model.add_constraints`)."""

    lhs: Expression
    sign: str
    rhs: Any


def expression(
    vars_: np.ndarray, coeffs: np.ndarray, dims: Sequence[str], coords: Coords
) -> Expression:
    """An expression from raw (..., K) term arrays; empty terms get coefficient 0."""
    v = np.asarray(vars_, dtype=np.int64)
    c = np.where(v >= 0, np.asarray(coeffs, dtype=float), 0.0)
    shape = _shape(dims, coords)
    if v.shape[:-1] != shape:
        raise ValueError(f"expression: terms of shape {v.shape[:-1]}, dims give {shape}")
    return Expression(v, c, np.zeros(shape), tuple(dims), {d: coords[d] for d in dims})


# ---------------------------------------------------------------------- variables


@dataclass(frozen=True, eq=False)
class Variable:
    """A family of columns over ``dims``: ``labels`` -1 where absent."""

    name: str
    labels: np.ndarray  # int64, -1 where masked
    lower: np.ndarray  # float, the labels' shape
    upper: np.ndarray
    dims: tuple[str, ...]
    coords: Coords

    @property
    def shape(self) -> tuple[int, ...]:
        return self.labels.shape

    def to_expr(self, coeff: Any = 1.0) -> Expression:
        """``coeff · var``, one term per cell (an empty term where the variable is absent);
        ``coeff`` a number, an array of the shape or a DataArray over some of the dims."""
        c = np.asarray(aligned(coeff, self.dims, self.coords, f"coefficient of {self.name!r}"))
        c = np.broadcast_to(c.astype(float), self.shape)
        ok = self.labels >= 0
        if np.isnan(c[ok]).any():
            raise ValueError(f"coefficient of {self.name!r} is NaN where the variable exists")
        return Expression(
            self.labels[..., None],
            np.where(ok, c, 0.0)[..., None],
            np.zeros(self.shape),
            self.dims,
            dict(self.coords),
        )

    def dataarray(self, values: np.ndarray | None = None, name: str | None = None) -> Any:
        """``values`` (default: the labels) as an xarray DataArray over the variable's dims."""
        import xarray as xr

        vals = self.labels if values is None else values
        coords = {d: self.coords[d] for d in self.dims}
        return xr.DataArray(vals, coords=coords, dims=self.dims, name=name or self.name)


# ---------------------------------------------------------------------- constraints


@dataclass(frozen=True, eq=False)
class Constraint:
    """Rows ``Σ coeffs · x  sign  rhs`` over ``dims``; ``labels`` -1 where no row exists."""

    name: str
    labels: np.ndarray  # int64 row labels, -1 where absent
    vars: np.ndarray  # (..., K)
    coeffs: np.ndarray  # (..., K)
    sign: str  # "<=", ">=" or "="
    rhs: np.ndarray  # the constant moved to the right (NaN given as rhs read as 0)
    dims: tuple[str, ...]
    coords: Coords

    @property
    def shape(self) -> tuple[int, ...]:
        return self.labels.shape

    def dataarray(self, values: np.ndarray | None = None, name: str | None = None) -> Any:
        """``values`` (default: the labels) as an xarray DataArray over the rows' dims."""
        import xarray as xr

        vals = self.labels if values is None else values
        coords = {d: self.coords[d] for d in self.dims}
        return xr.DataArray(vals, coords=coords, dims=self.dims, name=name or self.name)


def _rows_present(
    v: np.ndarray, c: np.ndarray, sign: str, rhs: np.ndarray, mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(vars, coeffs, present) with negligible terms emptied and absent rows found."""
    keep = (v >= 0) & (np.abs(c) > ZERO_COEFF)  # NaN coefficients fail the test too
    v, c = np.where(keep, v, -1), np.where(keep, c, 0.0)
    inert = (rhs == np.inf) if sign == "<=" else (rhs == -np.inf) if sign == ">=" else False
    present = mask & ~np.isnan(rhs) & keep.any(axis=-1) & ~inert
    return v, c, present


# ---------------------------------------------------------------------- the model


def _number(present: np.ndarray, start: int) -> np.ndarray:
    """Labels start, start + 1, ... on the present cells in C order; -1 elsewhere."""
    count = np.cumsum(present.ravel()).reshape(present.shape)
    return np.where(present, start + count - 1, -1).astype(np.int64)


@dataclass(frozen=True)
class Objective:
    vars: np.ndarray  # (K,) column labels
    coeffs: np.ndarray  # (K,)
    const: float
    sense: str  # "min" or "max"


@dataclass
class Model:
    """Variables, constraints and an objective; labels are HiGHS columns and rows."""

    variables: dict[str, Variable] = field(default_factory=dict)
    constraints: dict[str, Constraint] = field(default_factory=dict)
    objective: Objective | None = None
    n_columns: int = 0
    n_rows: int = 0

    def add_variables(
        self,
        name: str,
        coords: Mapping[str, Any],
        lower: Any = 0.0,
        upper: Any = np.inf,
        mask: Any = None,
    ) -> Variable:
        """Columns over ``coords`` (dimension -> items), absent where ``mask`` is False."""
        if name in self.variables:
            raise ValueError(f"variable {name!r} exists already")
        dims = tuple(str(d) for d in coords)
        co = {str(d): coords[d] for d in coords}
        shape = _shape(dims, co)
        ok = np.ones(shape, bool) if mask is None else aligned(mask, dims, co, f"mask of {name}")
        ok = np.asarray(ok, dtype=bool)
        labels = _number(ok, self.n_columns)
        self.n_columns += int(ok.sum())
        lo = np.array(aligned(lower, dims, co, f"lower bound of {name}"), dtype=float)
        hi = np.array(aligned(upper, dims, co, f"upper bound of {name}"), dtype=float)
        var = Variable(name, labels, lo, hi, dims, co)
        self.variables[name] = var
        return var

    def set_bounds(self, name: str, lower: Any = None, upper: Any = None) -> Variable:
        """Replace the bounds of variable ``name`` (None keeps one); the new Variable."""
        v = self.variables[name]
        lo = v.lower if lower is None else aligned(lower, v.dims, v.coords, f"lower of {name}")
        hi = v.upper if upper is None else aligned(upper, v.dims, v.coords, f"upper of {name}")
        new = replace(v, lower=np.array(lo, dtype=float), upper=np.array(hi, dtype=float))
        self.variables[name] = new
        return new

    def add_constraints(
        self,
        comparison: Comparison,
        name: str,
        mask: Any = None,
    ) -> Constraint:
        """Rows ``lhs sign rhs`` (see the module docstring for the rows that exist)."""
        if name in self.constraints:
            raise ValueError(f"constraint {name!r} exists already")
        lhs, sign, rhs = comparison.lhs, comparison.sign, comparison.rhs
        if sign not in SIGNS:
            raise ValueError(f"constraint {name!r}: sign {sign!r}, expected one of {SIGNS}")
        dims, co = lhs.dims, lhs.coords
        r = np.asarray(aligned(rhs, dims, co, f"right-hand side of {name}"), float) - lhs.const
        ok = (
            np.ones(lhs.shape, bool) if mask is None else aligned(mask, dims, co, f"mask of {name}")
        )
        v, c, present = _rows_present(lhs.vars, lhs.coeffs, sign, r, np.asarray(ok, bool))
        labels = _number(np.asarray(present, bool), self.n_rows)
        self.n_rows += int(np.sum(present))
        con = Constraint(name, labels, v, c, sign, np.nan_to_num(r, nan=0.0), dims, dict(co))
        self.constraints[name] = con
        return con

    def add_objective(self, expr: Expression, sense: str = "min") -> Objective:
        if sense not in ("min", "max"):
            raise ValueError(f"objective sense {sense!r}: expected 'min' or 'max'")
        v, c = expr.vars.ravel(), expr.coeffs.ravel()
        ok = v >= 0
        self.objective = Objective(v[ok], c[ok], float(expr.const.sum()), sense)
        return self.objective


# ---------------------------------------------------------------------- to HiGHS


@dataclass(frozen=True)
class Matrices:
    """The LP as HiGHS receives it: CSR rows, bounds and costs (columns = labels)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    cost: np.ndarray
    sense: str

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    @property
    def n_columns(self) -> int:
        return len(self.col_lower)

    def csr(self) -> Any:
        """The constraint matrix as a scipy CSR array."""
        from scipy.sparse import csr_array

        return csr_array(
            (self.data, self.indices, self.indptr), shape=(self.n_rows, self.n_columns)
        )


def _coo(m: Model) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(rows, cols, values) of every term, and each row's lower and upper bound."""
    rows, cols, vals, lo, hi = [], [], [], [], []
    for con in m.constraints.values():
        ok = con.labels >= 0
        v, c = con.vars[ok], con.coeffs[ok]  # (n, K), rows in label order (C order)
        r = np.broadcast_to(con.labels[ok][:, None], v.shape)
        t = v >= 0
        rows.append(r[t])
        cols.append(v[t])
        vals.append(c[t])
        b = con.rhs[ok]
        lo.append(b if con.sign != "<=" else np.full(len(b), -np.inf))
        hi.append(b if con.sign != ">=" else np.full(len(b), np.inf))
    if not rows:
        z = np.zeros(0)
        return z.astype(np.int64), z.astype(np.int64), z, z, z
    return tuple(np.concatenate(x) for x in (rows, cols, vals, lo, hi))  # type: ignore[return-value]


def _columns(m: Model) -> tuple[np.ndarray, np.ndarray]:
    lo, hi = np.empty(m.n_columns), np.empty(m.n_columns)
    for v in m.variables.values():
        ok = v.labels >= 0
        lo[v.labels[ok]], hi[v.labels[ok]] = v.lower[ok], v.upper[ok]
    return lo, hi


def matrices(m: Model) -> Matrices:
    """The model's LP: rows in label order, each row's terms on one variable summed,
    columns sorted, zero sums dropped; costs summed per column."""
    if m.objective is None:
        raise ValueError("the model has no objective (Model.add_objective)")
    rows, cols, vals, lo, hi = _coo(m)
    key = rows * max(m.n_columns, 1) + cols
    order = np.argsort(key, kind="stable")
    key, vals = key[order], vals[order]
    first = np.r_[True, key[1:] != key[:-1]] if len(key) else np.zeros(0, bool)
    starts = np.flatnonzero(first)
    summed = np.add.reduceat(vals, starts) if len(starts) else np.zeros(0)
    ukey = key[starts]
    nz = summed != 0.0
    ukey, summed = ukey[nz], summed[nz]
    r, c = ukey // max(m.n_columns, 1), ukey % max(m.n_columns, 1)
    indptr = np.r_[0, np.cumsum(np.bincount(r, minlength=m.n_rows))].astype(np.int64)
    cost = np.zeros(m.n_columns)
    np.add.at(cost, m.objective.vars, m.objective.coeffs)
    clo, chi = _columns(m)
    return Matrices(indptr, c.astype(np.int64), summed, lo, hi, clo, chi, cost, m.objective.sense)


def new_highs(output: bool = False, callbacks: bool = False) -> Any:
    """A HiGHS object with its console output set before anything runs.

    ``highspy.Highs`` (the Python subclass) writes HiGHS's banner to stdout when it is
    made, before any option can be set; its base class is the same solver without that
    Python callback set-up, so with ``output=False`` nothing reaches the console. Pass
    ``callbacks=True`` for the subclass where a run must be interruptible (the playground's
    race, :mod:`fab2flop.web.bases`); its banner goes to stdout once per process."""
    if callbacks:
        import highspy

        h = highspy.Highs()
        h.setOptionValue("output_flag", bool(output))
        return h
    from highspy import _core

    h = _core._Highs()
    h.setOptionValue("output_flag", bool(output))
    return h


def highs_lp(
    A: Any,
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    sense: str = "max",
) -> Any:
    """A ``highspy.HighsLp`` of a sparse matrix (any scipy sparse format; passed column-wise)
    and its bounds and costs, for ``Highs.passModel`` (the robust extensive form and the
    Benders subproblems, built from stacked or member matrices)."""
    import highspy

    A = A.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = A.shape[1], A.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr.astype(np.int32)
    lp.a_matrix_.index_ = A.indices.astype(np.int32)
    lp.a_matrix_.value_ = A.data.astype(float)
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = A.shape[1], A.shape[0]
    lp.sense_ = highspy.ObjSense.kMaximize if sense == "max" else highspy.ObjSense.kMinimize
    return lp


def to_highs(
    m: Model,
    options: Mapping[str, Any] | None = None,
    mat: Matrices | None = None,
    callbacks: bool = False,
) -> Any:
    """A HiGHS object holding ``m`` (columns = variable labels, rows = constraint labels),
    passed in the order columns, costs, rows, sense, then options (as before this layer)."""
    import highspy

    opts = dict(options or {})
    M = mat if mat is not None else matrices(m)
    h = new_highs(bool(opts.pop("output_flag", False)), callbacks)
    n = M.n_columns
    h.addVars(n, M.col_lower, M.col_upper)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), M.cost)
    if M.n_rows:
        h.addRows(
            M.n_rows,
            M.row_lower,
            M.row_upper,
            len(M.data),
            M.indptr.astype(np.int32),
            M.indices.astype(np.int32),
            M.data,
        )
    if M.sense == "max":
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
    for k, v in opts.items():
        h.setOptionValue(k, v)
    return h


# ---------------------------------------------------------------------- solutions

TERMINATION = {
    "kOptimal": "optimal",
    "kInfeasible": "infeasible",
    "kUnbounded": "unbounded",
    "kUnboundedOrInfeasible": "infeasible_or_unbounded",
    "kTimeLimit": "time_limit",
    "kIterationLimit": "iteration_limit",
    "kObjectiveBound": "terminated_by_limit",
    "kObjectiveTarget": "terminated_by_limit",
    "kSolutionLimit": "terminated_by_limit",
    "kInterrupt": "user_interrupt",
    "kMemoryLimit": "resource_interrupt",
}


@dataclass(frozen=True)
class Solution:
    """What a solve returned: termination (``optimal``, ``infeasible``, ``unbounded``,
    ``infeasible_or_unbounded``, ``time_limit``, ...), objective (HiGHS's value plus the
    objective's constant) and per column / row values (NaN when HiGHS has none)."""

    termination: str
    objective: float
    x: np.ndarray  # per column
    row_dual: np.ndarray  # per row, HiGHS's sign convention

    @property
    def ok(self) -> bool:
        return self.termination == "optimal"

    def primal(self, var: Variable) -> np.ndarray:
        """The variable's values in its shape; NaN where it is absent."""
        return _take(self.x, var.labels)

    def dual(self, con: Constraint) -> np.ndarray:
        """The rows' duals in the constraint's shape; NaN where no row exists."""
        return _take(self.row_dual, con.labels)

    def value(self, expr: Expression) -> np.ndarray:
        """``Σ coeffs · x + const`` per cell; absent terms count 0."""
        x = _take(self.x, expr.vars)
        return np.where(expr.vars >= 0, expr.coeffs * np.nan_to_num(x), 0.0).sum(-1) + expr.const


def _take(values: np.ndarray, labels: np.ndarray) -> np.ndarray:
    ok = labels >= 0
    out = np.full(labels.shape, np.nan)
    out[ok] = values[labels[ok]]
    return out


def termination_of(h: Any) -> str:
    """HiGHS's model status in words (``optimal``, ``infeasible``, ..., ``unknown``)."""
    name = str(h.getModelStatus()).rsplit(".", 1)[-1]
    return TERMINATION.get(
        name, "unknown" if name in ("kNotset", "kUnknown", "kModelEmpty") else "error"
    )


def read_solution(h: Any, m: Model) -> Solution:
    """The solution of a HiGHS object that has run on ``m`` (values NaN if it has none)."""
    term = termination_of(h)
    sol = h.getSolution()
    x = np.asarray(sol.col_value, dtype=float) if sol.value_valid else np.full(m.n_columns, np.nan)
    d = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else np.full(m.n_rows, np.nan)
    const = m.objective.const if m.objective is not None else 0.0
    return Solution(term, float(h.getInfo().objective_function_value) + const, x, d)


def solve(
    m: Model, options: Mapping[str, Any] | None = None, callbacks: bool = False
) -> tuple[Solution, Any]:
    """Solve ``m`` with HiGHS; the solution and the HiGHS object (for warm re-solves;
    ``callbacks=True``: one that can be interrupted, see :func:`new_highs`)."""
    h = to_highs(m, options, callbacks=callbacks)
    h.run()
    return read_solution(h, m), h


__all__ = [
    "Comparison",
    "Constraint",
    "Expression",
    "Matrices",
    "Model",
    "Objective",
    "Solution",
    "Variable",
    "aligned",
    "expression",
    "highs_lp",
    "matrices",
    "new_highs",
    "read_solution",
    "solve",
    "termination_of",
    "to_highs",
]
