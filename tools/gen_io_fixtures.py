#!/usr/bin/python3
"""Writes the small fixture files of tests/io/fixtures/ (run: /usr/bin/python3 tools/gen_io_fixtures.py).

Independent of ember's code: gzip files come from Debian's gzip tool and Python's zlib, the IDX and
safetensors files from this script's own implementation of the formats' specifications. The
contents follow simple rules that the C++ tests recompute (see tests/io/fixture_rules.hpp).
"""
import json
import os
import struct
import subprocess
import zlib

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "io", "fixtures")


def text_pattern(lines):
    """Rule 1: compressible text with pseudo-random numbers."""
    return "".join(
        "%04d the quick brown fox jumps over %03d lazy dogs\n" % (i, i * 7919 % 1000)
        for i in range(lines)
    ).encode()


def lcg_bytes(n, seed=1):
    """Rule 2: incompressible bytes from the ANSI C linear congruential generator."""
    x, out = seed, bytearray()
    for _ in range(n):
        x = (x * 1103515245 + 12345) % 2**31
        out.append((x >> 16) & 0xFF)
    return bytes(out)


def first_block_type(gz):
    """BTYPE of the first deflate block of a gzip member without optional header fields."""
    assert gz[3] & 0x1E == 0, "header fields present"
    return (gz[10] >> 1) & 3


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def gzip_tool(level, data):
    return subprocess.run(["gzip", "-%d" % level, "-n", "-c"], input=data, check=True,
                          stdout=subprocess.PIPE).stdout


def gzip_member(raw_deflate, data, flags_fields):
    """A gzip member around a raw deflate stream, with the optional header fields requested."""
    extra, name, comment, hcrc = flags_fields
    flg = (0x04 if extra else 0) | (0x08 if name else 0) | (0x10 if comment else 0) | (0x02 if hcrc else 0)
    header = bytearray(b"\x1f\x8b\x08" + bytes([flg]) + struct.pack("<I", 1700000000) + b"\x00\x03")
    if extra:
        header += struct.pack("<H", len(extra)) + extra
    if name:
        header += name + b"\x00"
    if comment:
        header += comment + b"\x00"
    if hcrc:
        header += struct.pack("<H", zlib.crc32(bytes(header)) & 0xFFFF)
    return bytes(header) + raw_deflate + struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


def raw_deflate(data, level):
    c = zlib.compressobj(level, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


def gzip_fixtures():
    text = text_pattern(1500)
    for level in (1, 9):
        gz = gzip_tool(level, text)
        assert first_block_type(gz) == 2, "expected a dynamic Huffman block"
        write("text1500.level%d.gz" % level, gz)

    short = b"hello hello hello hello\n"
    gz = gzip_tool(9, short)
    assert first_block_type(gz) == 1, "expected a fixed Huffman block"
    write("hello.fixed.gz", gz)

    # Stored blocks: zlib level 0, flushed in three pieces so there are several stored blocks.
    data = lcg_bytes(3000)
    c = zlib.compressobj(0, zlib.DEFLATED, 31)
    gz = c.compress(data[:1000]) + c.flush(zlib.Z_FULL_FLUSH) + c.compress(data[1000:2500])
    gz += c.flush(zlib.Z_FULL_FLUSH) + c.compress(data[2500:]) + c.flush()
    assert first_block_type(gz) == 0, "expected a stored block"
    write("lcg3000.stored.gz", gz)

    # Two members, the second with every optional header field.
    first = gzip_tool(9, text_pattern(100))
    second = gzip_member(raw_deflate(lcg_bytes(500), 6), lcg_bytes(500),
                         (b"AB\x04\x00ember", b"lcg500.bin", b"a comment", True))
    write("two_members.gz", first + second)

    # The empty input: one member with an empty final block.
    write("empty.gz", gzip_tool(9, b""))


def idx_bytes(type_code, fmt, dims, values):
    out = bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)
    return out + b"".join(struct.pack(">" + fmt, v) for v in values)


def idx_fixtures():
    # Rule 3: pixel (n, r, c) = (n * 31 + r * 7 + c * 3) % 256; labels (n * 3 + 1) % 10.
    n = 3
    pixels = [(k * 31 + r * 7 + c * 3) % 256 for k in range(n) for r in range(28) for c in range(28)]
    images = idx_bytes(0x08, "B", [n, 28, 28], pixels)
    labels = idx_bytes(0x08, "B", [n], [(k * 3 + 1) % 10 for k in range(n)])
    write("mini-images-idx3-ubyte", images)
    write("mini-labels-idx1-ubyte", labels)
    write("mini-images-idx3-ubyte.gz", gzip_tool(9, images))
    write("mini-labels-idx1-ubyte.gz", gzip_tool(9, labels))
    # Multi-byte elements: int16 [2, 3] = -300 + 250 * i (big-endian on disk).
    write("int16-2x3.idx", idx_bytes(0x0B, "h", [2, 3], [-300 + 250 * i for i in range(6)]))


def safetensors_bytes(tensors, metadata):
    """tensors: list of (name, dtype, shape, raw little-endian bytes). The data buffer is laid out
    in reverse list order while the header lists them in order, so a reader cannot depend on one
    order. json.dumps's default separators add spaces, unlike ember's writer."""
    header, offset, chunks = {}, 0, []
    if metadata:
        header["__metadata__"] = metadata
    spans = {}
    for name, dtype, shape, raw in reversed(tensors):
        spans[name] = [offset, offset + len(raw)]
        offset += len(raw)
        chunks.append(raw)
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": spans[name]}
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def safetensors_fixtures():
    # Rule 4: each dtype's values, written here from the spec and checked bit for bit by the test.
    t = [
        ("f64", "F64", [3], struct.pack("<3d", 1.5, -2.25, 1e300)),
        ("layer.f32", "F32", [2, 3], struct.pack("<6f", *[(i - 2.5) * 0.5 for i in range(6)])),
        ("f16", "F16", [4], struct.pack("<4e", 1.0, -2.0, 0.5, 65504.0)),
        # bfloat16 is the upper half of a float32: 1.0 -> 0x3f80, -3.5 -> 0xc060, 0.125 -> 0x3e00
        ("bf16", "BF16", [3], struct.pack("<3H", 0x3F80, 0xC060, 0x3E00)),
        ("i64", "I64", [2], struct.pack("<2q", -(2**40) - 7, 2**62)),
        ("i32", "I32", [2, 2], struct.pack("<4i", -1, 0, 2**31 - 1, -(2**31))),
        ("i16", "I16", [3], struct.pack("<3h", -300, -50, 200)),
        ("i8", "I8", [2], struct.pack("<2b", -128, 127)),
        ("u8", "U8", [1, 1, 3], bytes([0, 128, 255])),
        ("mask", "BOOL", [3], bytes([1, 0, 1])),
        ("scalar", "F32", [], struct.pack("<f", 42.0)),
        ("empty", "F32", [0, 4], b""),
        ("unicode \u00e9\u4e2d\U0001F600 \"q\"", "U8", [1], bytes([7])),
    ]
    write("python_all_dtypes.safetensors", safetensors_bytes(t, {"format": "pt", "note": "gen_io_fixtures"}))


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    gzip_fixtures()
    idx_fixtures()
    safetensors_fixtures()
    print("fixtures written to", os.path.normpath(OUT))
