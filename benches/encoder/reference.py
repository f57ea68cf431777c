#!/usr/bin/env python3
"""Reference sentence embeddings of a BERT model folder, computed with numpy.

An independent implementation of the encoder in governance-llm, used to check its output:
the weights are read by parsing the safetensors header here, the text is tokenised with the
`tokenizers` package from the same tokenizer.json, and the model is plain numpy (float32
matrices, float64 LayerNorm statistics) with GELU through scipy's erf. Output: masked mean of
the last hidden states over real tokens, scaled to unit length.

Usage:
    reference.py --model DIR --input SENTENCES.json --output EMBEDDINGS.json
                 [--max-length N] [--batch-size N]

SENTENCES.json is a JSON list of strings. EMBEDDINGS.json receives
{"embeddings": [[...], ...], "seconds": S, "sentences_per_second": R, "max_length": N},
where the time covers tokenisation and the forward passes, not loading.
"""

import argparse
import json
import os
import struct
import sys
import time

import numpy as np
from scipy.special import erf
from tokenizers import Tokenizer

DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}


def read_safetensors(path):
    """Returns {name: array} for every tensor in a safetensors file."""
    with open(path, "rb") as handle:
        data = handle.read()
    (header_length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_length])
    base = 8 + header_length
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = DTYPES.get(info["dtype"])
        if dtype is None:
            raise SystemExit(f"{path}: tensor {name} has unsupported type {info['dtype']}")
        begin, end = info["data_offsets"]
        array = np.frombuffer(data, dtype=dtype, count=(end - begin) // np.dtype(dtype).itemsize,
                              offset=base + begin)
        tensors[name] = array.reshape(info["shape"])
    return tensors


def layer_norm(x, weight, bias, eps):
    wide = x.astype(np.float64)
    mean = wide.mean(axis=-1, keepdims=True)
    variance = ((wide - mean) ** 2).mean(axis=-1, keepdims=True)
    return ((wide - mean) / np.sqrt(variance + eps) * weight + bias).astype(np.float32)


def dense(x, tensors, name):
    return x @ tensors[name + ".weight"].T + tensors[name + ".bias"]


class Bert:
    def __init__(self, folder):
        with open(os.path.join(folder, "config.json")) as handle:
            self.config = json.load(handle)
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])
        tensors = read_safetensors(os.path.join(folder, "model.safetensors"))
        # Checkpoints of BERT with a task head prefix every name with "bert.".
        self.tensors = {name.removeprefix("bert."): value for name, value in tensors.items()}

    def forward(self, ids, type_ids, mask):
        t = self.tensors
        batch, length = ids.shape
        x = (t["embeddings.word_embeddings.weight"][ids]
             + t["embeddings.position_embeddings.weight"][np.arange(length)][None, :, :]
             + t["embeddings.token_type_embeddings.weight"][type_ids])
        x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], self.eps)
        width = x.shape[-1]
        head = width // self.heads
        # Large negative score on padding keys, so their softmax weight is zero.
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for index in range(self.layers):
            p = f"encoder.layer.{index}."

            def heads(y):
                return y.reshape(batch, length, self.heads, head).transpose(0, 2, 1, 3)

            q = heads(dense(x, t, p + "attention.self.query"))
            k = heads(dense(x, t, p + "attention.self.key"))
            v = heads(dense(x, t, p + "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(head)) + bias
            scores = scores - scores.max(axis=-1, keepdims=True)
            weights = np.exp(scores)
            weights /= weights.sum(axis=-1, keepdims=True)
            context = (weights @ v).transpose(0, 2, 1, 3).reshape(batch, length, width)
            attended = layer_norm(dense(context, t, p + "attention.output.dense") + x,
                                  t[p + "attention.output.LayerNorm.weight"],
                                  t[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = dense(attended, t, p + "intermediate.dense")
            inner = (0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))).astype(np.float32)
            x = layer_norm(dense(inner, t, p + "output.dense") + attended,
                           t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], self.eps)
        return x


def configured_max_length(folder, positions):
    for name, field in (("sentence_bert_config.json", "max_seq_length"),
                        ("tokenizer_config.json", "model_max_length")):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            with open(path) as handle:
                value = json.load(handle).get(field)
            if isinstance(value, int):
                return min(value, positions)
    return positions


def embed(model, tokenizer, sentences, batch_size):
    encodings = tokenizer.encode_batch(sentences)
    order = sorted(range(len(sentences)), key=lambda i: len(encodings[i].ids))
    output = [None] * len(sentences)
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        length = max(len(encodings[i].ids) for i in chunk)
        ids = np.zeros((len(chunk), length), dtype=np.int64)
        type_ids = np.zeros_like(ids)
        mask = np.zeros((len(chunk), length), dtype=np.float32)
        for row, index in enumerate(chunk):
            tokens = encodings[index]
            ids[row, : len(tokens.ids)] = tokens.ids
            type_ids[row, : len(tokens.ids)] = tokens.type_ids
            mask[row, : len(tokens.ids)] = 1.0
        hidden = model.forward(ids, type_ids, mask)
        pooled = (hidden * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1, keepdims=True), 1e-9)
        pooled /= np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        for row, index in enumerate(chunk):
            output[index] = pooled[row]
    return output


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="model folder")
    parser.add_argument("--input", required=True, help="JSON list of sentences")
    parser.add_argument("--output", required=True, help="JSON file to write")
    parser.add_argument("--max-length", type=int, help="maximum tokens per sentence")
    parser.add_argument("--batch-size", type=int, default=32, help="sentences per forward pass")
    args = parser.parse_args()

    with open(args.input, encoding="utf-8") as handle:
        sentences = json.load(handle)
    if not isinstance(sentences, list) or not all(isinstance(s, str) for s in sentences):
        sys.exit(f"{args.input}: expected a JSON list of strings")

    model = Bert(args.model)
    positions = int(model.config["max_position_embeddings"])
    max_length = args.max_length or configured_max_length(args.model, positions)
    tokenizer = Tokenizer.from_file(os.path.join(args.model, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.enable_truncation(max_length=max_length)

    started = time.perf_counter()
    vectors = embed(model, tokenizer, sentences, args.batch_size)
    seconds = time.perf_counter() - started

    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump({
            "embeddings": [vector.astype(float).tolist() for vector in vectors],
            "seconds": seconds,
            "sentences_per_second": len(sentences) / seconds if seconds > 0 else None,
            "max_length": max_length,
        }, handle)


if __name__ == "__main__":
    main()
