"""blas_threads: BLAS limited inside the block (when threadpoolctl is installed), restored after; the setting."""

import numpy as np
import pytest

from tinyrec import _blas

threadpoolctl = pytest.importorskip("threadpoolctl", reason="the fast/test extras install threadpoolctl")


def blas_threads_now():
    return [p["num_threads"] for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_limits_inside_and_restores_after(monkeypatch):
    np.ones((2, 2)) @ np.ones((2, 2))  # BLAS is loaded
    before = blas_threads_now()
    monkeypatch.delenv(_blas.ENV, raising=False)
    with _blas.blas_threads():
        assert blas_threads_now() and all(n == 1 for n in blas_threads_now())
    assert blas_threads_now() == before
    monkeypatch.setenv(_blas.ENV, "0")  # 0: leave BLAS alone
    with _blas.blas_threads():
        assert blas_threads_now() == before


@pytest.mark.parametrize("raw, expected", [("1", 1), (" 3 ", 3), ("0", None)])
def test_setting(monkeypatch, raw, expected):
    monkeypatch.setenv(_blas.ENV, raw)
    assert _blas.blas_thread_limit() == expected


@pytest.mark.parametrize("raw", ["two", "-1", ""])
def test_bad_setting_names_the_variable(monkeypatch, raw):
    monkeypatch.setenv(_blas.ENV, raw)
    with pytest.raises(ValueError, match="TINYREC_BLAS_THREADS must be a non-negative integer"):
        _blas.blas_thread_limit()
