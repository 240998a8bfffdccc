"""The safetensors layout, written from the format's description and independently of ember (Debian
has no safetensors package), for the reference-value scripts in tools/.

    safetensors_bytes([(name, tensor), ...], metadata=None) -> bytes

Tensors are stored in the given order: int64 as I64, everything else as F64. The JSON header is
padded with spaces to a multiple of 8 bytes.
"""
import json
import struct

import torch


def safetensors_bytes(tensors, metadata=None):
    header, offset, chunks = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    for name, t in tensors:
        t = t.detach().contiguous()
        if t.dtype == torch.int64:
            dtype, raw = "I64", t.numpy().astype("<i8").tobytes()
        else:
            dtype, raw = "F64", t.to(torch.float64).numpy().astype("<f8").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        chunks.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)
