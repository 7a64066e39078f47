"""The COMSOL node/value reader: comments, columns, time columns, NaN rows, interpolation,
the error at the nodes, and tables that do not fit the domain."""

import numpy as np
import pytest

import fieldpde.domains as fd
from fieldpde import Problem
from fieldpde.constraints import Residual
from fieldpde.reference import NodeTable, read_comsol

pytestmark = pytest.mark.x64

HEADER_2D = """% Model:              test.mph
% Version:            COMSOL 6.0.0.354
% Dimension:          2
% Nodes:              5
% Expressions:        1
% Description:        Dependent variable u
% Length unit:        m
% X                       Y                        u (1)
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_a_2d_table_with_comments_and_a_nan_row(tmp_path):
    rows = [(0.0, 0.0), (1.0, 0.0), (0.0, 1.0), (1.0, 1.0), (0.5, 0.25)]
    body = "".join(f"{x:<25}{y:<25}{2 * x + 3 * y}\n" for x, y in rows) + "0.2 0.2 NaN\n"
    table = read_comsol(_write(tmp_path, "u.dat", HEADER_2D + body))
    assert table.coordinates == ("x", "y") and table.variables == ("u",)
    assert table.points.shape == (5, 2) and table.values.shape == (5, 1)  # NaN row dropped
    assert np.allclose(table.values[:, 0], [2 * x + 3 * y for x, y in rows])
    # linear data are interpolated exactly; outside the nodes' hull the nearest node answers
    assert np.allclose(table(np.array([[0.25, 0.75], [0.9, 0.1]])), [2.75, 2.1])
    assert np.isfinite(table(np.array([[2.0, 2.0]]))).all()
    assert table.relative_l2(lambda p: 2 * p[:, 0] + 3 * p[:, 1]) == 0.0


def test_reads_time_columns_as_space_time_nodes(tmp_path):
    text = (
        "% Dimension:          1\n"
        "% X                       u (1) @ t=0              u (1) @ t=0.5            u (1) @ t=1\n"
    )
    xs = np.linspace(-1, 1, 5)
    text += "".join(f"{x}  {x}  {x + 0.5}  {x + 1}\n" for x in xs)
    cyl = fd.Interval(-1.0, 1.0) * fd.TimeInterval(0.0, 1.0)
    table = read_comsol(_write(tmp_path, "b.dat", text), domain=cyl)
    assert table.coordinates == ("x", "t") and table.points.shape == (15, 2)
    assert np.allclose(table.values[:, 0], table.points.sum(axis=1))  # u = x + t
    assert np.allclose(np.unique(table.points[:, 1]), [0.0, 0.5, 1.0])
    assert np.allclose(table(np.array([[0.3, 0.25]])), 0.55)
    # as a problem's reference: Problem.solution interpolates it
    pde = Residual(lambda x, d: d.grad[0, 1], cyl)
    problem = Problem([pde], reference=table, domain=cyl)
    assert np.allclose(np.asarray(problem.solution(np.array([[0.0, 1.0]]))), 1.0)


def test_several_expressions_without_header_names(tmp_path):
    text = "0 0 1 2\n1 0 3 4\n0 1 5 6\n"
    table = read_comsol(_write(tmp_path, "p.dat", text), dim=2)
    assert table.values.shape == (3, 2) and table.variables == ("u0", "u1")
    assert NodeTable(table.points, table.values[:, 0]).variables == ("u",)


def test_a_table_that_does_not_fit_the_domain_is_refused(tmp_path):
    text = "% Dimension: 1\n% X   u (1) @ t=0   u (1) @ t=1\n0 1 2\n1 3 4\n"
    path = _write(tmp_path, "t.dat", text)
    with pytest.raises(ValueError, match="`path` has 2 coordinate columns \\(x, t\\).*no time"):
        read_comsol(path, domain=fd.Box([0.0, 0.0], [1.0, 1.0]))
    body = "".join(f"{x} {y} 1.0\n" for x, y in [(0, 0), (5, 0), (0, 1)])
    path = _write(tmp_path, "s.dat", HEADER_2D + body)
    with pytest.raises(ValueError, match="`path`: column 'x' runs over \\[0, 5\\]"):
        read_comsol(path, domain=fd.Box([0.0, 0.0], [1.0, 1.0]))
    with pytest.raises(ValueError, match="space coordinates and a time"):
        read_comsol(path, domain=fd.Interval(0.0, 5.0) * fd.TimeInterval(0.0, 1.0))
    with pytest.raises(FileNotFoundError):
        read_comsol(tmp_path / "missing.dat")
    with pytest.raises(ValueError, match="not all numbers"):
        read_comsol(_write(tmp_path, "bad.dat", "0 0 x\n"))
