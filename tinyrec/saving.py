"""Saving and loading (保存与加载): whole models, and weights alone — without pickle.

``model.save("m.tinyrec")`` / ``tinyrec.saving.load_model("m.tinyrec")`` (also ``tinyrec.models.load_model``)
round-trip a whole model, the way Keras's ``model.save``/``keras.models.load_model`` do: the architecture
(each constructor's arguments), every weight, every piece of fitted state that is not a weight (the global
mean μ of matrix factorisation, the seen items behind ``recommend(exclude_seen=True)``, popularity counts,
...) and the compile settings (optimizer with its hyperparameters, loss, metric names; the optimizer's
moments are not saved, so training resumes with fresh moments). ``save_weights``/``load_weights`` keep
only the weights, for a model built the same way.

The file is a zip archive (like NumPy's ``.npz``) holding ``model.json`` and one ``.npy`` per array. No
pickle anywhere: ``model.json`` names classes, which must live in ``tinyrec`` and be models or layers.
Reading is defensive: the format marker, every array's ``.npy`` header (shape, dtype) and its size in the
archive are checked against what the model expects **before** any array data is read (a crafted file
cannot make it allocate gigabytes), and NaN or inf in a weight is refused. Writing goes through
``tinyrec._atomic.atomic_write``: a crash or ``kill`` mid-save leaves the old file, never half a file.
"""

from __future__ import annotations

import importlib
import json
import math
import zipfile
from pathlib import Path

import numpy as np

from ._atomic import atomic_write

MODEL_FORMAT = "tinyrec-model-v1"
WEIGHTS_FORMAT = "tinyrec-weights-v2"
_JSON_LIMIT = 16 << 20  # model.json larger than 16 MiB is not one we wrote


class SavedModelError(ValueError):
    """A file that is not a readable tinyrec model/weights file, or one that does not fit the model."""


# -- configs ----------------------------------------------------------------------------------------
def _qualname(obj) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return f"{cls.__module__}.{cls.__qualname__}"


def _resolve_class(path, base, where):
    """The class named ``path`` (``"tinyrec.layers.Dense"``), which must be a tinyrec subclass of ``base``."""
    module, _, name = str(path).rpartition(".")
    if not (module == "tinyrec" or module.startswith("tinyrec.")) or not name.isidentifier():
        raise SavedModelError(f"{where}: class {path!r} is not part of tinyrec; refusing to load it.")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise SavedModelError(f"{where}: class {path!r} does not exist in this version of tinyrec.") from None
    if not (isinstance(cls, type) and issubclass(cls, base)):
        raise SavedModelError(f"{where}: {path!r} is not a {base.__name__}.")
    return cls


def _model_bases():
    from .models import Model
    from .recommenders.base import Recommender
    from .recommenders.sequential import SequenceRecommender
    return (Model, Recommender, SequenceRecommender)


def _compile_config(model):
    if not getattr(model, "compiled", False):
        return None
    metrics = [key for key, _ in getattr(model, "metric_fns", [])]
    return {"optimizer": {"class": _qualname(model.optimizer), "config": model.optimizer.get_config()},
            "loss": model.loss.name, "from_logits": bool(model.loss.from_logits), "metrics": metrics}


def _apply_compile(model, cfg, where):
    from .optimizers import Optimizer
    opt_cls = _resolve_class(cfg["optimizer"]["class"], Optimizer, where)
    loss = cfg["loss"]
    if cfg.get("from_logits"):
        from . import losses
        loss = type(losses.get(loss))(from_logits=True)
    model.compile(optimizer=opt_cls(**cfg["optimizer"]["config"]), loss=loss, metrics=cfg["metrics"] or None)


def _architecture(model) -> dict:
    """Everything needed to rebuild ``model`` empty: its class and constructor arguments."""
    from .models import Sequential
    if isinstance(model, Sequential):
        return {"class": _qualname(model), "config": {"seed": model.seed if isinstance(model.seed, int) else None,
                                                      "dtype": model.dtype.name, "name": model.name},
                "layers": [{"class": _qualname(layer), "config": layer.get_config()} for layer in model.layers],
                "input_shape": list(model._input_shape[1:]) if model.built else None}
    if not hasattr(model, "get_config"):
        raise TypeError(f"save_model: {type(model).__name__} has no get_config(); it cannot be saved whole "
                        "(save_weights still works).")
    return {"class": _qualname(model), "config": model.get_config()}


def _rebuild(arch, where):
    from .layers import Layer
    from .models import Sequential
    cls = _resolve_class(arch.get("class"), _model_bases(), where)
    try:
        if issubclass(cls, Sequential):
            model = cls(**arch["config"])
            for spec in arch["layers"]:
                model.add(_resolve_class(spec["class"], Layer, where)(**spec["config"]))
            if arch.get("input_shape") is not None:
                model.build((None, *arch["input_shape"]))
            return model
        return cls(**arch["config"])
    except SavedModelError:
        raise
    except (TypeError, ValueError, KeyError) as err:
        raise SavedModelError(f"{where}: the saved architecture cannot be rebuilt ({err}).") from None


# -- arrays in a zip, checked before they are read --------------------------------------------------
def _npy_bytes(array) -> bytes:
    import io
    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.ascontiguousarray(array), allow_pickle=False)
    return buf.getvalue()


def _read_checked(zf, member, where, shape=None, dtype=None, finite=True):
    """Read one ``.npy`` member, checking its header (and its size in the archive) before its data.

    ``shape``/``dtype``: what the model expects (None: anything of a numeric or bool dtype).
    """
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise SavedModelError(f"{where}: the archive has no {member!r}.") from None
    with zf.open(info) as fp:
        try:
            version = np.lib.format.read_magic(fp)
            if version == (1, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(fp)
            elif version == (2, 0):
                got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(fp)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except ValueError as err:
            raise SavedModelError(f"{where}: {member!r} is not a valid .npy array ({err}).") from None
        if got_dtype.hasobject or got_dtype.kind not in "biuf":
            raise SavedModelError(f"{where}: {member!r} has dtype {got_dtype}; only numbers are loaded.")
        if shape is not None and tuple(got_shape) != tuple(shape):
            raise SavedModelError(f"{where}: {member!r} has shape {tuple(got_shape)}; the model expects "
                                  f"{tuple(shape)}.")
        if dtype is not None and got_dtype.kind != np.dtype(dtype).kind:
            raise SavedModelError(f"{where}: {member!r} has dtype {got_dtype}; the model expects {dtype}.")
        n_bytes = math.prod(got_shape) * got_dtype.itemsize
        if n_bytes > info.file_size:  # a header that promises more than the archive holds
            raise SavedModelError(f"{where}: {member!r} claims {n_bytes} bytes of data but holds "
                                  f"{info.file_size}.")
        try:
            array = np.frombuffer(fp.read(n_bytes), dtype=got_dtype, count=math.prod(got_shape))
        except ValueError as err:
            raise SavedModelError(f"{where}: {member!r} is truncated ({err}).") from None
        array = array.reshape(got_shape, order="F" if fortran else "C").copy()
    if finite and array.dtype.kind == "f" and not np.isfinite(array).all():
        raise SavedModelError(f"{where}: {member!r} contains NaN or inf; refusing to load it.")
    return array


def _open_zip(path, where):
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{where}: no file at {path}.")
    if path.is_dir():
        raise SavedModelError(f"{where}: {path} is a folder, not a saved model file.")
    if not zipfile.is_zipfile(path):
        raise SavedModelError(f"{where}: {path} is not a tinyrec file (not a zip archive; a .npy renamed "
                              ".npz, or a truncated download?).")
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as err:
        raise SavedModelError(f"{where}: {path} cannot be opened ({err}).") from None


def _read_json(zf, member, where, expected_format):
    try:
        info = zf.getinfo(member)
    except KeyError:
        raise SavedModelError(f"{where}: not a {expected_format} file (no {member}).") from None
    if info.file_size > _JSON_LIMIT:
        raise SavedModelError(f"{where}: {member} is implausibly large ({info.file_size} bytes).")
    try:
        meta = json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile) as err:
        raise SavedModelError(f"{where}: {member} is not valid JSON ({err}).") from None
    if not isinstance(meta, dict) or meta.get("format") != expected_format:
        got = meta.get("format") if isinstance(meta, dict) else None
        raise SavedModelError(f"{where}: format {got!r}; this tinyrec reads {expected_format!r}.")
    return meta


def _write_zip(path, members):
    """Write ``{name: bytes}`` as a zip archive, atomically."""
    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    return atomic_write(path, write)


# -- whole models -----------------------------------------------------------------------------------
def _weights_of(model):
    """``[(key, array)]`` of every layer weight, in layer order (empty for closed-form models)."""
    entries = getattr(model, "_weight_entries", None)
    return list(entries().items()) if entries and getattr(model, "built", False) else []


def save_model(model, path):
    """Write ``model`` whole to ``path`` (any name; ``.tinyrec`` is conventional); returns the path."""
    if not isinstance(model, _model_bases()):
        raise TypeError(f"save_model: expected a tinyrec model; got {type(model).__name__}.")
    where = f"{type(model).__name__}.save"
    members, weights, state_arrays = {}, [], []
    for j, (key, array) in enumerate(_weights_of(model)):
        if not np.isfinite(array).all():
            raise ValueError(f"{where}: weight {key!r} contains NaN or inf; refusing to save a broken model.")
        members[f"weights/{j}.npy"] = _npy_bytes(array)
        weights.append({"key": key, "shape": list(array.shape), "dtype": array.dtype.name})
    scalars, arrays = model._fitted_state() if hasattr(model, "_fitted_state") else ({}, {})
    for name, array in arrays.items():
        members[f"state/{name}.npy"] = _npy_bytes(np.asarray(array))
        state_arrays.append({"name": name, "shape": list(np.shape(array)), "dtype": np.asarray(array).dtype.name})
    meta = {"format": MODEL_FORMAT, "architecture": _architecture(model), "weights": weights,
            "state": {"scalars": scalars, "arrays": state_arrays}, "compile": _compile_config(model)}
    try:
        text = json.dumps(meta, indent=1, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{where}: the model's configuration is not JSON-serialisable ({err}).") from None
    return _write_zip(path, {"model.json": text.encode("utf-8"), **members})


def load_model(path):
    """Read a model written by ``save_model``/``model.save``: the same predictions and recommendations."""
    where = "load_model"
    with _open_zip(path, where) as zf:
        meta = _read_json(zf, "model.json", where, MODEL_FORMAT)
        model = _rebuild(meta.get("architecture", {}), where)
        mine = _weights_of(model)
        saved = meta.get("weights", [])
        if len(saved) != len(mine):
            raise SavedModelError(f"{where}: the file has {len(saved)} weights; its architecture has {len(mine)}.")
        for j, (_, param) in enumerate(mine):
            array = _read_checked(zf, f"weights/{j}.npy", where, shape=param.shape, dtype=param.dtype)
            np.copyto(param, array.astype(param.dtype, copy=False))
        state = meta.get("state", {})
        arrays = {}
        for spec in state.get("arrays", []):
            arrays[spec["name"]] = _read_checked(zf, f"state/{spec['name']}.npy", where, shape=spec["shape"])
        if hasattr(model, "_set_fitted_state"):
            try:
                model._set_fitted_state(state.get("scalars", {}), arrays)
            except (KeyError, TypeError) as err:
                raise SavedModelError(f"{where}: the saved fitted state is incomplete ({err}).") from None
        if meta.get("compile"):
            _apply_compile(model, meta["compile"], where)
    return model


# -- weights only -----------------------------------------------------------------------------------
def weights_path(path):
    """``path`` with ``.npz`` added if it has another suffix (Keras' ``save_weights`` naming, for NumPy)."""
    path = Path(path)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def save_weights(model, path):
    """Write every weight of ``model`` (``.npz`` archive, no pickle), atomically; returns the path."""
    path = weights_path(path)
    entries = _weights_of(model)
    meta = {"format": WEIGHTS_FORMAT, "weights": [{"key": k, "shape": list(a.shape), "dtype": a.dtype.name}
                                                  for k, a in entries]}
    members = {"weights.json": json.dumps(meta).encode("utf-8")}
    members.update({f"w{j}.npy": _npy_bytes(a) for j, (_, a) in enumerate(entries)})
    return _write_zip(path, members)


def load_weights(model, path):
    """Load weights saved by ``save_weights`` into ``model`` (same architecture), checking before reading."""
    where = f"{getattr(model, 'name', type(model).__name__)}.load_weights"
    path = weights_path(path)
    with _open_zip(path, where) as zf:
        meta = _read_json(zf, "weights.json", where, WEIGHTS_FORMAT)
        mine = _weights_of(model)
        theirs = meta.get("weights", [])
        same = len(mine) == len(theirs) and all(
            k.split(".")[0] == t["key"].split(".")[0] and k.split(".")[-1] == t["key"].split(".")[-1]
            and list(p.shape) == t["shape"] for (k, p), t in zip(mine, theirs))
        if not same:
            raise SavedModelError(
                f"{where}: {path} was saved from a different architecture.\n"
                f"  this model: {[(k, p.shape) for k, p in mine]}\n"
                f"  the file:   {[(t.get('key'), tuple(t.get('shape', ()))) for t in theirs]}")
        arrays = [_read_checked(zf, f"w{j}.npy", where, shape=p.shape, dtype=p.dtype)
                  for j, (_, p) in enumerate(mine)]
    for (_, p), a in zip(mine, arrays):  # only once every array has been read and checked
        np.copyto(p, a.astype(p.dtype, copy=False))
