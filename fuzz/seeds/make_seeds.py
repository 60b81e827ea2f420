#!/usr/bin/env python3
"""Writes the small valid inputs that seed the fuzz corpora (csv, idx, cli_parse).

The model seeds are real model files written by `backprop train` (see docs/reliability.md).
Run from the fuzz/ folder: python3 seeds/make_seeds.py
"""
import gzip
import os
import struct


def write(target, name, data):
    os.makedirs(f"corpus/{target}", exist_ok=True)
    with open(f"corpus/{target}/seed-{name}", "wb") as file:
        file.write(data)


# CSV: the first byte selects the options (see entries/csv.rs); 0 is the defaults.
tables = {
    "numeric": b"a,b,y\n1,2,0\n3,4,1\n5,6,0\n",
    "categorical": b"colour;size;kind\nred;1,5;a\nblue;2;b\nred;0,5;a\n",
    "quoted": b'"x","note","y"\n1,"a, b",2.5\n2,"line\nbreak",3.5\n',
    "missing": b"a,b,y\n1,NA,0\n,4,1\n5,6,?\n",
    "tabs": b"\xef\xbb\xbfa\tb\ty\r\n1\t2\tx\r\n3\t4\ty\r\n",
    "no_header": b"1,2,3\n4,5,6\n",
}
for index, (name, text) in enumerate(tables.items()):
    write("csv", name, bytes([0]) + text)
    write("csv", name + "-options", bytes([(index * 37 + 5) % 256]) + text)
write("csv", "gzip", bytes([4]) + gzip.compress(tables["numeric"], mtime=0))

# IDX: two 2x2 images, their labels, a 1-D and a 4-D array; plain and gzip.
images = bytes([0, 0, 8, 3]) + struct.pack(">III", 2, 2, 2) + bytes([0, 255, 51, 0, 1, 2, 3, 4])
labels = bytes([0, 0, 8, 1]) + struct.pack(">I", 2) + bytes([7, 3])
four = bytes([0, 0, 8, 4]) + struct.pack(">IIII", 1, 1, 2, 1) + bytes([9, 9])
write("idx", "images", images)
write("idx", "labels", labels)
write("idx", "four-dimensions", four)
write("idx", "images.gz", gzip.compress(images, mtime=0))
write("idx", "labels.gz", gzip.compress(labels, mtime=0))

# Command-line values.
for index, text in enumerate([
    "128,64", "none", "", "step:100:0.5", "exponential:0.99", "cosine:1e-4", "constant",
    "tab", ";", "1, 0.5,-2", "2,3,1", "leaky-relu:0.2", "huber:0.5", "uniform:-1:1",
    "xavier-normal", "cross-entropy", "spiral", "3", "age",
]):
    write("cli_parse", f"{index:02}", text.encode())
