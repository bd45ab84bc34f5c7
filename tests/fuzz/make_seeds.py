#!/usr/bin/env python3
"""Writes the small seed corpus in tests/fuzz/corpus/<target>/ (committed; rerun to regenerate).
Every file is tiny: the fuzzer's mutations do the rest."""
import gzip, json, os, struct, sys, zlib

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, "..", ".."))
corpus = os.path.join(here, "corpus")

def put(target, name, data):
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())

# config: shipped configs with a small model, one with --set overrides after a NUL byte.
small = {"model": {"input_shape": [4, 4, 1], "layers": [
    {"type": "Conv2D", "filters": 2, "kernel_size": 3, "padding": "same"},
    {"type": "MaxPooling2D"}, {"type": "Flatten"}, {"type": "Dense", "units": 3, "activation": "softmax"}]},
    "training": {"epochs": 1, "batch_size": 2, "optimizer": {"type": "sgd", "momentum": 0.9},
                 "lr_schedule": {"type": "exponential", "decay_rate": 0.5}},
    "data": {"shuffle_buffer": 0}, "output": {"progress": "none"}}
put("config", "small.json", json.dumps(small))
put("config", "small_with_overrides", json.dumps(small) + "\0seed=7\nmodel.layers.3.units=4\ndata.dataset=fashion-mnist")
for name in ("dense1", "conv_bn", "dense_dropout", "conv_bn_aug"):
    with open(os.path.join(root, "configs", name + ".json"), "rb") as f:
        put("config", name + ".json", f.read())
put("config", "bad_unknown_key.json", '{"model": {"layers": [{"type": "Dense", "units": 10}]}, "trainng": {}}')
put("config", "bad_syntax.json", '{"model": {"layers": [}')
# The recipes' keys: optimizers, clipping, EMA, per-step schedules, plateau, label smoothing.
recipes = json.loads(json.dumps(small))
recipes["model"]["layers"][3]["kernel_regularizer"] = {"l1": 0.01, "l2": 0.001}
recipes["training"].update({
    "optimizer": {"type": "rmsprop", "centered": True, "momentum": 0.5, "weight_decay": 0.001,
                  "clipnorm": 1.0, "use_ema": True, "ema_overwrite_frequency": 3},
    "lr_schedule": {"type": "CosineDecay", "decay_steps": 10, "warmup_target": 0.01, "warmup_steps": 2},
    "loss": {"type": "sparse_categorical_crossentropy", "label_smoothing": 0.1}})
put("config", "recipes.json", json.dumps(recipes))
plateau = json.loads(json.dumps(small))
plateau["training"].update({
    "optimizer": {"type": "adamw", "amsgrad": True, "global_clipnorm": 1.0},
    "lr_schedule": {"type": "constant"},
    "reduce_lr_on_plateau": {"monitor": "val_loss", "factor": 0.5, "patience": 2, "cooldown": 1}})
put("config", "recipes_plateau.json", json.dumps(plateau) +
    '\0training.lr_schedule={"type": "PiecewiseConstantDecay", "boundaries": [5], "values": [0.1, 0.01]}')
# Augmentation: Random* layers in /data/augmentation, every type and fill mode.
augmented = json.loads(json.dumps(small))
augmented["data"]["augmentation"] = [
    {"type": "RandomTranslation", "height_factor": [-0.1, 0.2], "width_factor": 0.1,
     "fill_mode": "wrap", "interpolation": "nearest", "fill_value": 0.5},
    {"type": "RandomRotation", "factor": 0.05, "fill_mode": "reflect"},
    {"type": "RandomZoom", "height_factor": -0.1, "width_factor": [0.0, 0.2], "fill_mode": "nearest"},
    {"type": "RandomFlip", "mode": "horizontal"},
    {"type": "RandomContrast", "factor": [0.2, 0.5], "value_range": [0, 1]},
    {"type": "RandomBrightness", "factor": 0.1, "value_range": [0, 1]}]
put("config", "augmentation.json", json.dumps(augmented))

# idx: valid images and labels, raw and gzip, and a few broken ones.
images = struct.pack(">IIII", 0x803, 2, 3, 3) + bytes(range(18))
labels = struct.pack(">II", 0x801, 2) + bytes([3, 9])
put("idx", "images", images)
put("idx", "labels", labels)
put("idx", "images.gz", gzip.compress(images, mtime=0))
put("idx", "labels.gz", gzip.compress(labels, mtime=0))
put("idx", "images_truncated", images[:-5])
put("idx", "labels_bad_magic", struct.pack(">II", 0x802, 2) + bytes([3, 9]))
put("idx", "labels_count_too_big", struct.pack(">II", 0x801, 5) + bytes([3, 9]))
put("idx", "labels_gz_truncated", gzip.compress(labels, mtime=0)[:-6])

# model_file: a tiny dense model and a tiny conv + batch-norm model, as save_model writes them.
def mnn(model, params, data=None):
    header = {"model": model, "data": data or {"name": "tiny", "dataset": "mnist", "pixel_divisor": 256.0,
                                               "validation_batch_size": 100},
              "params": [{"name": n, "shape": s} for n, s, _ in params]}
    text = json.dumps(header, separators=(",", ":")).encode()
    out = b"MNISTNET" + struct.pack("<II", 1, len(text)) + text
    for _, shape, value in params:
        count = 1
        for s in shape:
            count *= s
        out += struct.pack("<%df" % count, *([value] * count))
    return out + struct.pack("<I", zlib.crc32(out))
dense = mnn({"input_shape": [4], "layers": [{"type": "Dense", "units": 3, "activation": "softmax"}]},
            [("dense/kernel", [4, 3], 0.25), ("dense/bias", [3], 0.0)])
put("model_file", "dense.mnn", dense)
conv = mnn({"input_shape": [4, 4, 1], "layers": [
    {"type": "Conv2D", "filters": 2, "kernel_size": 3, "use_bias": False, "padding": "same"},
    {"type": "BatchNormalization", "center": True, "scale": False},
    {"type": "Activation", "activation": "relu"}, {"type": "MaxPooling2D"},
    {"type": "Flatten"}, {"type": "Dropout", "rate": 0.5}, {"type": "Dense", "units": 2}]},
    [("conv2d/kernel", [3, 3, 1, 2], 0.1), ("batch_normalization/beta", [2], 0.0),
     ("batch_normalization/moving_mean", [2], 0.0), ("batch_normalization/moving_variance", [2], 1.0),
     ("dense/kernel", [8, 2], 0.1), ("dense/bias", [2], 0.0)])
put("model_file", "conv_bn.mnn", conv)
put("model_file", "dense_truncated.mnn", dense[:-9])
put("model_file", "dense_bad_crc.mnn", dense[:-1] + bytes([dense[-1] ^ 1]))

# image: tiny PNG (grey and RGBA), PGM, BMP; JPEG comes from tests/fuzz/seeds (made by ImageMagick).
def png(width, height, colour_type, rows):
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    raw = b"".join(b"\0" + bytes(r) for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
digit = [[255 if 2 <= x <= 5 and 1 <= y <= 6 and (x in (2, 5) or y in (1, 6)) else 0 for x in range(8)] for y in range(8)]
put("image", "digit_grey.png", png(8, 8, 0, digit))
put("image", "digit_rgba.png", png(8, 8, 6, [[c for v in row for c in (255 - v, 255 - v, 255 - v, 255)] for row in digit]))
put("image", "digit.pgm", b"P5\n8 8\n255\n" + bytes(v for row in digit for v in row))
bmp_rows = b"".join(bytes(c for v in row for c in (v, v, v)) for row in reversed(digit))
put("image", "digit.bmp", b"BM" + struct.pack("<IHHI", 54 + len(bmp_rows), 0, 0, 54) +
    struct.pack("<IiiHHIIiiII", 40, 8, 8, 1, 24, 0, len(bmp_rows), 2835, 2835, 0, 0) + bmp_rows)
seeds = os.path.join(here, "seeds")
if os.path.isdir(seeds):
    for name in sorted(os.listdir(seeds)):
        with open(os.path.join(seeds, name), "rb") as f:
            put("image", name, f.read())

# Regression inputs of findings whose original crash file was not kept (see test_hardened_inputs.cpp).
put("config", "regress_number_overflow.json", '{"model": {"layers": [{"type": "Dense", "units": 10}]}, "seed": 1e400}')
dht = bytes([0xff, 0xd8, 0xff, 0xc4]) + struct.pack(">H", 2 + 17 + 265) + bytes([0]) + \
    bytes([0] * 14 + [10, 255]) + bytes(265) + bytes([0xff, 0xd9])
put("image", "regress_jpeg_huffman_265_symbols.jpg", dht)
