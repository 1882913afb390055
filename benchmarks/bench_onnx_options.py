"""ONNX Runtime settings for the int8 MiniLM, swept side by side: quantisation variants
(reduce_range, per-tensor weights, uint8 weights, built from the fp32 graph into a
temporary directory) and session options (batch size, intra-op threads, spinning, the CPU
memory arena, the graph optimisation level), each beside the plain sentence-transformers
encoding of the same paragraphs (the baseline) in interleaved rounds, with the cosine of
each variant's embeddings to the baseline's. Prints the load average with each round:
on a busy machine only the ratios mean something.

    python benchmarks/bench_onnx_options.py 120      # paragraphs of 100 words
"""
import sys, time, os, tempfile
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
for sub in ("src", "benchmarks", "tests"):
    sys.path.insert(0, str(ROOT / sub))
import numpy as np
import bench_align as b
from citydiplomacy.align import semantic
from citydiplomacy.align.onnx_build import build_onnx
import onnxruntime as ort, onnx
from onnxruntime.quantization import QuantType, quantize_dynamic
D = tempfile.mkdtemp(prefix="citydip-onnx-options-")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 120
rows = b.load(sorted(b.LABELLED.glob("labelled_*.jsonl")), "test", None)
texts = b.paragraphs(rows, N + 40)
warm, texts = texts[:40], texts[40:]
fp32 = f"{D}/fp32.onnx"
if not os.path.exists(fp32):
    build_onnx(semantic.model_dir(), fp32, precision="fp32")
def q(name, **kw):
    out = f"{D}/{name}.onnx"
    if not os.path.exists(out):
        args = dict(weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul", "Attention"],
                    extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
        args.update(kw)
        quantize_dynamic(fp32, out, **args)
    return out
files = {"int8": semantic.onnx_path("int8"), "int8-rr": q("int8-rr", reduce_range=True),
         "int8-pt": q("int8-pt", per_channel=False), "int8-u8w": q("int8-u8w", weight_type=QuantType.QUInt8)}
def sess(path, threads=2, spin=False, arena=True, opt=ort.GraphOptimizationLevel.ORT_ENABLE_ALL):
    o = ort.SessionOptions(); o.intra_op_num_threads = threads; o.inter_op_num_threads = 1
    o.log_severity_level = 3; o.enable_cpu_mem_arena = arena; o.graph_optimization_level = opt
    o.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    return ort.InferenceSession(str(path), o, providers=["CPUExecutionProvider"])
tok = semantic._tokenizer()
def enc(s, texts, bs, bucket=None):
    ids = [e.ids for e in tok.encode_batch(texts)]
    order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
    out = np.empty((len(texts), 384), dtype=np.float32)
    for start in range(0, len(order), bs):
        r = order[start:start + bs]; width = len(ids[r[-1]])
        ii = np.zeros((len(r), width), dtype=np.int64); m = np.zeros((len(r), width), dtype=np.int64)
        for j, i in enumerate(r):
            ii[j, :len(ids[i])] = ids[i]; m[j, :len(ids[i])] = 1
        out[r] = s.run(None, {"input_ids": ii, "attention_mask": m})[0]
    return out
st = semantic.sentence_transformer()
ref = st.encode(texts, normalize_embeddings=True)
variants = {}
for name, path in files.items():
    variants[name] = (sess(path), 32)
variants["int8 bs16"] = (variants["int8"][0], 16)
variants["int8 bs64"] = (variants["int8"][0], 64)
variants["int8 t1"] = (sess(files["int8"], threads=1), 32)
variants["int8 spin"] = (sess(files["int8"], spin=True), 32)
variants["int8 noarena"] = (sess(files["int8"], arena=False), 32)
variants["int8 ext"] = (sess(files["int8"], opt=ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED), 32)
for k, (s, bs) in variants.items():
    e = enc(s, texts, bs); c = (e * ref).sum(1)
    print(f"{k:14s} cosine mean {c.mean():.4f} min {c.min():.4f}", flush=True)
    enc(s, warm, bs)
st.encode(warm)
fns = {"baseline": lambda: st.encode(texts)}
fns.update({k: (lambda s=s, bs=bs: enc(s, texts, bs)) for k, (s, bs) in variants.items()})
best = {k: 9e9 for k in fns}
for rnd in range(3):
    for k, f in fns.items():
        t0 = time.perf_counter(); f(); best[k] = min(best[k], time.perf_counter() - t0)
    print("round", rnd, os.getloadavg(), flush=True)
for k, t in best.items():
    print(f"{k:14s} {N/t:6.1f}/s  {best['baseline']/t:.2f}x")
import shutil
shutil.rmtree(D, ignore_errors=True)
