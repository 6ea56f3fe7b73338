"""An independent PNG reader (Python's zlib and struct only) for PngWriterTests: checks the signature, every chunk's
CRC and order, undoes the row filters, and prints what it read as JSON."""
import json, struct, sys, zlib

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "signature"
pos, chunks, idat, text = 8, [], b"", {}
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
    assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, "CRC of " + kind.decode()
    chunks.append(kind.decode())
    if kind == b"IHDR":
        width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", body)
    elif kind == b"IDAT":
        idat += body
    elif kind == b"tEXt":
        key, value = body.split(b"\0", 1)
        text[key.decode("latin-1")] = {"chunk": "tEXt", "text": value.decode("latin-1")}
    elif kind == b"iTXt":
        key, rest = body.split(b"\0", 1)
        flag, method = rest[0], rest[1]
        language, translated, value = rest[2:].split(b"\0", 2)
        assert flag == 0 and method == 0
        text[key.decode("latin-1")] = {"chunk": "iTXt", "text": value.decode("utf-8")}
    pos += 12 + length
assert chunks[0] == "IHDR" and chunks[-1] == "IEND" and pos == len(data), chunks
assert depth == 8 and compression == 0 and filtering == 0 and interlace == 0

bpp = {0: 1, 2: 3, 6: 4}[colour]
stride = width * bpp
raw = zlib.decompress(idat)
assert len(raw) == (stride + 1) * height, "IDAT size"
pixels, prior = bytearray(), bytearray(stride)
for y in range(height):
    kind, row = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for x in range(stride):
        a = row[x - bpp] if x >= bpp else 0
        b = prior[x]
        c = prior[x - bpp] if x >= bpp else 0
        if kind == 0: p = 0
        elif kind == 1: p = a
        elif kind == 2: p = b
        elif kind == 3: p = (a + b) // 2
        elif kind == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            p = a if pa <= pb and pa <= pc else b if pb <= pc else c
        else: raise AssertionError("filter %d" % kind)
        row[x] = (row[x] + p) & 0xFF
    pixels += row
    prior = row
print(json.dumps({"width": width, "height": height, "colour": colour, "chunks": chunks, "text": text, "pixels": pixels.hex()}))
