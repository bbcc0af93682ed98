"""Text of a WeasyPrint PDF, for tests: inflate the streams, read the ToUnicode maps, decode the text operators."""

from __future__ import annotations

import re
import zlib

_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)
_BFCHAR = re.compile(rb"beginbfchar\n(.*?)endbfchar", re.S)
_BFRANGE = re.compile(rb"beginbfrange\n(.*?)endbfrange", re.S)
_PAIR = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_RANGE = re.compile(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>")
_TEXT = re.compile(rb"\[(.*?)\]\s*TJ|<([0-9a-fA-F]+)>\s*Tj", re.S)
_HEX = re.compile(rb"<([0-9a-fA-F]+)>")


def _unicode(hex_value: bytes) -> str:
    return bytes.fromhex(hex_value.decode()).decode("utf-16-be", errors="replace")


def pdf_text(pdf: bytes) -> str:
    streams = []
    for raw in _STREAM.findall(pdf):
        try:
            streams.append(zlib.decompress(raw))
        except zlib.error:
            streams.append(raw)
    mapping: dict[str, str] = {}
    for stream in streams:
        for block in _BFCHAR.findall(stream):
            for code, text in _PAIR.findall(block):
                mapping.setdefault(code.decode().lower(), _unicode(text))
        for block in _BFRANGE.findall(stream):
            for start, end, text in _RANGE.findall(block):
                first, last, base = int(start, 16), int(end, 16), int(text, 16)
                for offset in range(last - first + 1):
                    mapping.setdefault(f"{first + offset:04x}", chr(base + offset))
    parts = []
    for stream in streams:
        if b" Tf" not in stream:
            continue
        for array, single in _TEXT.findall(stream):
            chunks = _HEX.findall(array) if array else [single]
            text = ""
            for chunk in chunks:
                value = chunk.decode().lower()
                text += "".join(mapping.get(value[i : i + 4], "?") for i in range(0, len(value), 4))
            parts.append(text)
    return re.sub(r"[\s\u00a0\u202f]+", " ", " ".join(parts))
