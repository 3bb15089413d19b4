"""Single-row LightGBM prediction without per-call set-up.

`Booster.predict` builds a predictor, converts the input and checks parameters on every call
(about 40 us for one row here). LightGBM's C API has a "fast" single-row path whose
configuration is prepared once (`LGBM_BoosterPredictForMatSingleRowFastInit`); a call then
costs about 15 us. The Python package does not wrap it, so this module does, through the same
ctypes library handle the package loaded.
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

_PREDICT_NORMAL = 0  # C_API_PREDICT_NORMAL: transformed output (probability for binary)
_DTYPE_FLOAT64 = 1  # C_API_DTYPE_FLOAT64


class SingleRowPredictor:
    """Predicts one float64 row with one thread; not safe to call from two threads at once.

    The service calls it from the event loop only, so calls never overlap.
    """

    __slots__ = ("_booster", "_config", "_lib", "_out", "_out_len", "_out_ptr", "num_features")

    def __init__(self, booster: Any) -> None:
        from lightgbm.basic import (  # type: ignore[attr-defined]  # noqa: PLC0415 - heavy import
            _LIB,
            _safe_call,
        )

        self._lib = _LIB
        self._booster = booster  # the config points into the booster: keep it alive
        self.num_features = int(booster.num_feature())
        self._config = ctypes.c_void_p()
        _safe_call(
            _LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
                booster._handle,  # the C handle is what the C API takes
                ctypes.c_int(_PREDICT_NORMAL),
                ctypes.c_int(0),
                ctypes.c_int(-1),
                ctypes.c_int(_DTYPE_FLOAT64),
                ctypes.c_int32(self.num_features),
                ctypes.c_char_p(b"num_threads=1"),
                ctypes.byref(self._config),
            )
        )
        self._out = np.zeros(1, dtype=np.float64)
        self._out_len = ctypes.c_int64(0)
        self._out_ptr = self._out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))

    def predict(self, row: np.ndarray) -> float:
        """The model output for a C-contiguous float64 array of `num_features` values."""
        if row.dtype != np.float64 or row.size != self.num_features or not row.flags.c_contiguous:
            raise ValueError(f"expected {self.num_features} contiguous float64 values")
        code = self._lib.LGBM_BoosterPredictForMatSingleRowFast(
            self._config,
            ctypes.c_void_p(row.ctypes.data),
            ctypes.byref(self._out_len),
            self._out_ptr,
        )
        if code != 0:
            raise RuntimeError(self._lib.LGBM_GetLastError().decode("utf-8"))
        return float(self._out[0])

    def __del__(self) -> None:
        config = getattr(self, "_config", None)
        if config is not None and config.value:
            self._lib.LGBM_FastConfigFree(config)
