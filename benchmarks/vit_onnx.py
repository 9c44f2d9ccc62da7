"""A ViT (vitc's timm-layout presets) as an ONNX graph, built from vitc's
safetensors weights.

Used by benchmarks/peers.py: vitc saves seeded random weights with
`vitc --random-weights --save-weights W.safetensors` (timm names), and this
module reads that file with numpy and rebuilds the same model with
onnx.helper (opset 17), so that ONNX Runtime and OpenVINO run exactly the
weights vitc compiled. It also counts the model's multiply-accumulates.
"""

import dataclasses
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


@dataclasses.dataclass(frozen=True)
class ViTConfig:
    """The vit-b16 preset (docs/model-config.md) by default; `depth` may be
    lowered. `ViTConfig.preset` gives the family's other presets."""

    image: int = 224
    patch: int = 16
    channels: int = 3
    width: int = 768
    heads: int = 12
    mlp: int = 3072
    classes: int = 1000
    depth: int = 12
    eps: float = 1e-6

    @staticmethod
    def preset(name, depth=None):
        """vitc's preset `name` (`vitc --list-models`), with `depth` blocks
        when given."""
        config = dataclasses.replace(ViTConfig(), **PRESETS[name][1])
        return config if depth is None else dataclasses.replace(config,
                                                                depth=depth)

    @property
    def tokens(self):
        """Patches plus the class token: 197 for ViT-B/16."""
        return (self.image // self.patch) ** 2 + 1

    def macs_per_image(self):
        """Multiply-accumulates of one image: 17.56 G for ViT-B/16.

        The linears and the attention matmuls; layer norms, softmax, GELU
        and the residual adds are not counted (as vitc --summary does).
        """
        patches = self.tokens - 1
        d, t = self.width, self.tokens
        patch_embed = patches * (self.channels * self.patch ** 2) * d
        qkv = t * d * 3 * d
        scores = t * t * d  # Q K^T over all heads: heads x T x T x d/heads
        context = t * t * d  # P V
        proj = t * d * d
        mlp = 2 * t * d * self.mlp  # fc1 and fc2
        head = d * self.classes  # the class token only
        return (patch_embed + self.depth * (qkv + scores + context + proj + mlp)
                + head)

    def class_token_macs_per_image(self):
        """The multiply-accumulates vitc computes: the classifier reads the
        class token alone, so the last block's query projection, attention,
        output projection and MLP skip the other T - 1 tokens
        (vit-hoist-token-slices); keys and values are computed for all."""
        d, t = self.width, self.tokens
        per_token = d * d + 2 * t * d + d * d + 2 * d * self.mlp
        return self.macs_per_image() - (t - 1) * per_token


# vitc's presets with timm's layout (NCHW input, OIHW patch kernel, qkv
# bias), as `vitc --list-models` prints them: display name and the fields
# that differ from ViT-B/16. peers.py checks each against the artifact's
# multiply-accumulate count.
PRESETS = {
    "vit-ti16": ("ViT-Ti/16", dict(width=192, heads=3, mlp=768)),
    "vit-s16": ("ViT-S/16", dict(width=384, heads=6, mlp=1536)),
    "vit-b16": ("ViT-B/16", dict()),
    "vit-l16": ("ViT-L/16", dict(width=1024, heads=16, mlp=4096, depth=24)),
    "vit-b32": ("ViT-B/32", dict(patch=32)),
}


def read_safetensors(path):
    """Returns {name: float32 array} from a safetensors file."""
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64}
    with open(path, "rb") as file:
        data = file.read()
    (header_size,) = np.frombuffer(data[:8], dtype="<u8")
    header = json.loads(data[8:8 + int(header_size)])
    body = memoryview(data)[8 + int(header_size):]
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if entry["dtype"] not in dtypes:
            raise ValueError(f"{path}: tensor '{name}' has unsupported dtype "
                             f"{entry['dtype']}")
        begin, end = entry["data_offsets"]
        array = np.frombuffer(
            body[begin:end],
            dtype=np.dtype(dtypes[entry["dtype"]]).newbyteorder("<"))
        tensors[name] = array.reshape(entry["shape"]).astype(np.float32)
    return tensors


class GraphBuilder:
    """Collects nodes and initializers; every helper returns its output name."""

    def __init__(self, weights, config):
        self.weights = weights
        self.config = config
        self.nodes, self.initializers = [], []
        self.count = 0
        self.const_names = set()

    def fresh(self, hint):
        self.count += 1
        return f"{hint}_{self.count}"

    def const(self, name, array):
        # Shared by every block: the first call defines it.
        if name not in self.const_names:
            self.const_names.add(name)
            self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, name, transpose=False):
        if name not in self.weights:
            raise KeyError(f"weight '{name}' is not in the safetensors file")
        array = self.weights[name]
        # MatMul takes [in, out]; checkpoints store linears as [out, in].
        if transpose:
            array = np.ascontiguousarray(array.T)
        return self.const(name + (".T" if transpose else ""), array)

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.fresh(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def linear(self, x, prefix):
        y = self.op("MatMul", [x, self.weight(prefix + ".weight", True)])
        return self.op("Add", [y, self.weight(prefix + ".bias")])

    def layer_norm(self, x, prefix):
        return self.op("LayerNormalization",
                       [x, self.weight(prefix + ".weight"),
                        self.weight(prefix + ".bias")],
                       axis=-1, epsilon=self.config.eps)

    def gelu(self, x):
        # Exact GELU, x * Phi(x), as the preset uses; ORT fuses it to Gelu.
        scaled = self.op("Div", [x, self.const("sqrt2", np.float32(np.sqrt(2)))])
        erf = self.op("Erf", [scaled])
        one_plus = self.op("Add", [erf, self.const("one", np.float32(1))])
        half = self.op("Mul", [x, self.const("half", np.float32(0.5))])
        return self.op("Mul", [half, one_plus])

    def attention(self, x, prefix):
        width, heads = self.config.width, self.config.heads
        head_dim = width // heads
        qkv = self.linear(x, prefix + ".qkv")  # [B, T, 3D], q then k then v
        qkv = self.op("Reshape", [qkv, self.const(
            "qkv_shape", np.array([0, 0, 3, heads, head_dim], np.int64))])
        qkv = self.op("Transpose", [qkv], perm=[2, 0, 3, 1, 4])  # [3,B,h,T,d]
        q, k, v = (self.op("Gather", [qkv, self.const(
            f"index{i}", np.array(i, np.int64))], axis=0) for i in range(3))
        k_t = self.op("Transpose", [k], perm=[0, 1, 3, 2])
        scores = self.op("MatMul", [q, k_t])
        scores = self.op("Mul", [scores, self.const(
            "scale", np.float32(head_dim ** -0.5))])
        probs = self.op("Softmax", [scores], axis=-1)
        context = self.op("MatMul", [probs, v])  # [B, h, T, d]
        context = self.op("Transpose", [context], perm=[0, 2, 1, 3])
        context = self.op("Reshape", [context, self.const(
            "merge_shape", np.array([0, 0, width], np.int64))])
        return self.linear(context, prefix + ".proj")


def build_onnx_model(weights, config):
    """ViT with timm's structure, input "input" [batch, C, H, W] (NCHW),
    output "logits" [batch, classes]; the batch dimension is symbolic.

    A Conv patch embedding, Concat of the class token, Add of the position
    embedding, LayerNormalization, MatMul + Add for every linear, Reshape and
    Transpose to split the heads, Softmax attention and the exact GELU
    written with Erf.
    """
    g = GraphBuilder(weights, config)
    width = config.width
    patches = g.op("Conv", ["input", g.weight("patch_embed.proj.weight"),
                            g.weight("patch_embed.proj.bias")],
                   kernel_shape=[config.patch, config.patch],
                   strides=[config.patch, config.patch])
    patches = g.op("Reshape", [patches, g.const(
        "flat_shape", np.array([0, width, -1], np.int64))])
    patches = g.op("Transpose", [patches], perm=[0, 2, 1])  # [B, N, D]
    # The class token, broadcast to the batch: [B, 1, D].
    batch = g.op("Slice", [g.op("Shape", ["input"]),
                           g.const("zero", np.array([0], np.int64)),
                           g.const("one_i", np.array([1], np.int64))])
    cls_shape = g.op("Concat", [batch, g.const(
        "cls_tail", np.array([1, width], np.int64))], axis=0)
    cls = g.op("Expand", [g.weight("cls_token"), cls_shape])
    x = g.op("Concat", [cls, patches], axis=1)
    x = g.op("Add", [x, g.weight("pos_embed")])
    for i in range(config.depth):
        p = f"blocks.{i}"
        x = g.op("Add", [x, g.attention(g.layer_norm(x, p + ".norm1"),
                                        p + ".attn")])
        hidden = g.gelu(g.linear(g.layer_norm(x, p + ".norm2"), p + ".mlp.fc1"))
        x = g.op("Add", [x, g.linear(hidden, p + ".mlp.fc2")])
    x = g.layer_norm(x, "norm")
    cls_out = g.op("Gather", [x, g.const("index0", np.array(0, np.int64))],
                   axis=1)
    logits = g.linear(cls_out, "head")
    g.nodes.append(helper.make_node("Identity", [logits], ["logits"]))

    image = config.image
    graph = helper.make_graph(
        g.nodes, "vit",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                       ["batch", config.channels, image, image])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT,
                                       ["batch", config.classes])],
        g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model
