"""Test models for vitc.keras: ViTs built the way the Keras article builds
them (../shared/seed/, docs/keras.md), in tf_keras, with knobs for the
variants the exporter must read and for the models it must refuse.

Used by scripts/check_keras_export.py and scripts/make_keras_golden.py;
needs tensorflow-cpu and tf_keras (build/keras-venv, made by
scripts/check_keras_export.sh).

What the article's code does, and these models do too:

- a fixed batch (keras.Input(batch_shape=...)): the TensorFlow ops below
  take the batch size as a Python int;
- the patches: Conv2D(D, P, strides=P, padding='same') on NHWC images,
  tf.reshape to [B, N, D];
- the class token and the position embedding are weights of throwaway
  layers (layers.Layer().add_weight), used through TensorFlow ops: the
  token through tf.broadcast_to, which runs when the model is built (its
  result is a constant in the Concatenate's call), the embedding through
  tf.add, whose TFOpLambda layer keeps the variable in its call. Neither
  is in model.weights;
- attention: one Dense(3D, use_bias=qkv_bias), tf.reshape to
  [B, T, 3, heads, D/heads], tf.transpose to [3, B, heads, T, D/heads],
  q, k, v = qkv[0], qkv[1], qkv[2], tf.matmul(q, k, transpose_b=True) /
  sqrt(D/heads), tf.nn.softmax, tf.matmul with v, transposed and reshaped
  back, Dense(D);
- MLP: Dense(H), Activation('gelu'), Dense(D); Dropout layers after most
  steps; pre-norm residual blocks with layers.add;
- a final LayerNormalization and Dense(K) on x[:, 0].
"""

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tf_keras import layers


def build(image_size=224, patch_size=16, channels=3, width=768, depth=12,
          heads=12, mlp_dim=3072, classes=1000, batch=2, qkv_bias=False,
          eps=1e-6, gelu="activation", padding="same", qkv_split="article",
          class_token=None, position_scale=0.02, with_class_token=True,
          with_position_embedding=True, constant_embeddings=False,
          spelling="article", name="vit"):
    """Builds the model; returns ``(model, position_variable)``.

    gelu
        'activation': layers.Activation('gelu') (the article's, exact);
        'dense': Dense(H, activation='gelu') (exact); 'tf-exact' and
        'tf-tanh': tf.nn.gelu(x, approximate=False / True).
    qkv_split
        'article': [B, T, 3, heads, d], perm [2, 0, 3, 1, 4], q, k, v =
        qkv[0], qkv[1], qkv[2]. 'heads-first': [B, T, heads, 3, d], perm
        [3, 0, 2, 1, 4], and k, v, q = qkv[0], qkv[1], qkv[2] (another
        column order of the fused Dense, which the exporter must follow).
    class_token
        The class token's value ([1, 1, D]); it must be given when the
        model is built, since tf.broadcast_to turns it into a constant
        then. Default zeros, as in the article.
    with_class_token, with_position_embedding
        False leaves the part out (models the exporter must refuse).
    constant_embeddings
        Pass the position embedding to tf.add as a tensor (a constant)
        instead of the variable: tf_keras can then save the model, which
        it refuses for the article's code (the untracked variable).
    spelling
        'article', or 'other': the same computation written with other
        ops the exporter accepts: layers.Reshape for the patches, tf.concat
        for the class token, ``x + pos`` for the position embedding,
        scores * (1 / sqrt(d)) and layers.Softmax in the attention.
    """
    other = spelling == "other"
    images = keras.Input(batch_shape=[batch, image_size, image_size,
                                      channels])
    grid = image_size // patch_size
    tokens = grid * grid
    x = layers.Conv2D(width, kernel_size=(patch_size, patch_size),
                      strides=patch_size, padding=padding)(images)
    if other:
        x = layers.Reshape((tokens, width))(x)
    else:
        x = tf.reshape(x, shape=[batch, tokens, width])

    position = None
    if with_class_token:
        tokens += 1
        init = (keras.initializers.Zeros() if class_token is None else
                keras.initializers.Constant(np.asarray(class_token)))
        token = layers.Layer().add_weight(
            name="classtoken", shape=[1, 1, width], dtype=tf.float32,
            initializer=init, trainable=True)
        token = tf.broadcast_to(token, shape=[batch, 1, width])
        x = (tf.concat([token, x], axis=1) if other else
             layers.concatenate([token, x], axis=1))
    if with_position_embedding:
        position = layers.Layer().add_weight(
            name="posembed", shape=[1, tokens, width], dtype=tf.float32,
            initializer=keras.initializers.RandomNormal(
                stddev=position_scale),
            trainable=True)
        value = (tf.convert_to_tensor(position) if constant_embeddings
                 else position)
        x = x + value if other else tf.add(x, value)
    x = layers.Dropout(rate=0.0)(x)

    head_width = width // heads
    for _ in range(depth):
        # Attention.
        y = layers.LayerNormalization(epsilon=eps)(x)
        qkv = layers.Dense(3 * width, use_bias=qkv_bias)(y)
        if qkv_split == "article":
            qkv = tf.reshape(qkv, shape=[batch, tokens, 3, heads,
                                         head_width])
            qkv = tf.transpose(qkv, perm=[2, 0, 3, 1, 4])
            q, k, v = qkv[0], qkv[1], qkv[2]
        elif qkv_split == "heads-first":
            qkv = tf.reshape(qkv, shape=[batch, tokens, heads, 3,
                                         head_width])
            qkv = tf.transpose(qkv, perm=[3, 0, 2, 1, 4])
            k, v, q = qkv[0], qkv[1], qkv[2]
        else:
            raise ValueError(qkv_split)
        scores = tf.matmul(a=q, b=k, transpose_b=True)
        if other:
            scores = layers.Softmax()(scores * (1.0 / head_width ** 0.5))
        else:
            scores = tf.nn.softmax(scores / head_width ** 0.5, axis=-1)
        scores = layers.Dropout(rate=0.0)(scores)
        y = tf.matmul(a=scores, b=v)
        y = tf.transpose(y, perm=[0, 2, 1, 3])
        y = tf.reshape(y, shape=[batch, tokens, width])
        y = layers.Dense(width)(y)
        y = layers.Dropout(rate=0.0)(y)
        y = layers.Dropout(rate=0.0)(y)
        x = layers.add([y, x])
        # MLP.
        y = layers.LayerNormalization(epsilon=eps)(x)
        if gelu == "dense":
            y = layers.Dense(mlp_dim, activation="gelu")(y)
        else:
            y = layers.Dense(mlp_dim)(y)
            if gelu == "activation":
                y = layers.Activation("gelu")(y)
            elif gelu in ("tf-exact", "tf-tanh"):
                y = tf.nn.gelu(y, approximate=gelu == "tf-tanh")
            else:
                raise ValueError(gelu)
        y = layers.Dropout(rate=0.0)(y)
        y = layers.Dense(width)(y)
        y = layers.Dropout(rate=0.0)(y)
        y = layers.Dropout(rate=0.0)(y)
        x = layers.add([y, x])

    x = layers.LayerNormalization(epsilon=eps)(x)
    logits = layers.Dense(classes)(x[:, 0])
    return keras.Model(images, logits, name=name), position


def randomize(model, position, seed):
    """Draws every weight (model.weights and the position embedding) from
    numpy's generator: kernels uniform(+-sqrt(3 / fan_in)), biases and
    norm shifts +-0.1, norm scales [0.9, 1.1], the position embedding
    +-0.5 (the ranges of vitc --random-weights). The class token is fixed
    at build time (class_token=)."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        shape = tuple(variable.shape)
        name = variable.name
        if "gamma" in name:
            value = rng.uniform(0.9, 1.1, shape)
        elif "beta" in name or "bias" in name:
            value = rng.uniform(-0.1, 0.1, shape)
        elif "kernel" in name:
            fan_in = int(np.prod(shape[:-1]))
            bound = np.sqrt(3.0 / fan_in)
            value = rng.uniform(-bound, bound, shape)
        else:
            raise ValueError("unexpected weight %s" % name)
        variable.assign(value.astype(np.float32))
    if position is not None:
        position.assign(rng.uniform(-0.5, 0.5, tuple(position.shape))
                        .astype(np.float32))


def random_class_token(width, seed):
    return np.random.default_rng(seed + 1000).uniform(
        -0.5, 0.5, (1, 1, width)).astype(np.float32)


def random_images(shape, seed):
    """NHWC float32 images, uniform in [-1, 1)."""
    return np.random.default_rng(seed + 2000).uniform(
        -1.0, 1.0, shape).astype(np.float32)
