"""`hfspaces.media`: every input kind, MIME sniffed from content, limits, bad input."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from hfspaces import errors
from hfspaces.media import Media, safe_filename, sniff_mime
from PIL import Image


def pil_bytes(fmt: str, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (4, 4), (10, 200, 30) if mode == "RGB" else 0).save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("PNG", "image/png"),
        ("JPEG", "image/jpeg"),
        ("GIF", "image/gif"),
        ("WEBP", "image/webp"),
        ("BMP", "image/bmp"),
        ("TIFF", "image/tiff"),
    ],
)
def test_sniff_images_made_by_pillow(fmt: str, mime: str) -> None:
    assert sniff_mime(pil_bytes(fmt)[:32]) == mime


def test_sniff_audio(wav_bytes: bytes) -> None:
    assert sniff_mime(wav_bytes[:32]) == "audio/wav"
    assert sniff_mime(b"fLaC" + b"\0" * 28) == "audio/flac"
    assert sniff_mime(b"OggS" + b"\0" * 28) == "audio/ogg"
    assert sniff_mime(b"ID3\x04" + b"\0" * 28) == "audio/mpeg"
    assert sniff_mime(b"\xff\xfb\x90\x00" + b"\0" * 28) == "audio/mpeg"
    assert sniff_mime(b"\0\0\0\x20ftypM4A " + b"\0" * 20) == "audio/mp4"


def test_sniff_unknown() -> None:
    assert sniff_mime(b"hello world, plain text") is None
    assert sniff_mime(b"") is None


def test_bytes_mime_from_content_not_name(png_bytes: bytes) -> None:
    m = Media.from_bytes(png_bytes, mime_type="image/jpeg", name="photo.jpg")
    assert m.mime_type == "image/png" and m.kind == "image"
    assert m.size == len(png_bytes)


def test_path_sniffed_not_by_extension(tmp_path: Path, png_bytes: bytes) -> None:
    p = tmp_path / "looks_like.wav"
    p.write_bytes(png_bytes)
    m = Media.of(p)
    assert m.path == p and m.data is None  # read lazily, streamed on upload
    assert m.mime_type == "image/png" and m.size == len(png_bytes)
    assert m.read_bytes() == png_bytes
    assert m.digest() == Media.of(png_bytes).digest()


def test_data_url(png_bytes: bytes) -> None:
    url = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    m = Media.of(url)
    assert m.data == png_bytes and m.mime_type == "image/png"


def test_data_url_declared_type_does_not_override_content(wav_bytes: bytes) -> None:
    url = "data:image/png;base64," + base64.b64encode(wav_bytes).decode()
    assert Media.of(url).mime_type == "audio/wav"


def test_http_url_is_not_fetched() -> None:
    m = Media.of("https://example.org/pics/cat.png")
    assert m.url == "https://example.org/pics/cat.png" and m.data is None
    assert m.name == "cat.png"
    assert m.require("image") is m  # trusted to the Space


def test_pil_image() -> None:
    m = Media.of(Image.new("RGB", (3, 3), (1, 2, 3)))
    assert m.mime_type == "image/png" and m.data is not None


def test_bytearray_and_memoryview(png_bytes: bytes) -> None:
    assert Media.of(bytearray(png_bytes)).mime_type == "image/png"
    assert Media.of(memoryview(png_bytes)).mime_type == "image/png"


def test_media_passthrough(png_bytes: bytes) -> None:
    m = Media.of(png_bytes)
    assert Media.of(m) is m


@pytest.mark.parametrize(
    "value",
    [
        "/etc/passwd",  # a plain string is never read as a path
        "relative/file.png",
        "ftp://host/x.png",
        "file:///etc/passwd",
        "https://",
        "data:image/png,notbase64",
        "data:no-comma",
        42,
        None,
        ["list"],
    ],
)
def test_bad_input_is_media_error(value: object) -> None:
    with pytest.raises(errors.MediaError) as info:
        Media.of(value)
    assert isinstance(info.value, ValueError)  # bad input is a ValueError subclass


def test_empty_bytes_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(errors.MediaError, match="empty"):
        Media.of(b"")
    p = tmp_path / "empty.png"
    p.write_bytes(b"")
    with pytest.raises(errors.MediaError, match="empty"):
        Media.of(p)


def test_missing_path_and_directory(tmp_path: Path) -> None:
    with pytest.raises(errors.MediaError, match="cannot read"):
        Media.of(tmp_path / "nope.png")
    with pytest.raises(errors.MediaError):
        Media.of(tmp_path)


def test_size_limits(tmp_path: Path, png_bytes: bytes) -> None:
    with pytest.raises(errors.MediaError, match="limit"):
        Media.of(png_bytes, max_bytes=10)
    p = tmp_path / "big.png"
    p.write_bytes(png_bytes)
    with pytest.raises(errors.MediaError, match="limit"):
        Media.of(p, max_bytes=10)
    url = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    with pytest.raises(errors.MediaError, match="limit"):
        Media.of(url, max_bytes=10)


def test_require_kind(png_bytes: bytes, wav_bytes: bytes) -> None:
    assert Media.of(png_bytes).require("image").kind == "image"
    assert Media.of(wav_bytes).require("audio").kind == "audio"
    with pytest.raises(errors.MediaError, match="expected image"):
        Media.of(wav_bytes).require("image")
    with pytest.raises(errors.MediaError, match="not a known image"):
        Media.of(b"this is plain text, not a picture").require("image")


def test_filename_safe_and_from_content(png_bytes: bytes) -> None:
    assert Media.of(png_bytes).filename == "media.png"
    assert Media.from_bytes(png_bytes, name="../../etc/evil name?.png").filename == "evil name_.png"
    assert safe_filename("..") == "file"
    assert safe_filename("a\\b\\c.txt") == "c.txt"
    assert safe_filename(None, "x") == "x"


def test_repr_has_no_content(png_bytes: bytes) -> None:
    assert "bytes" in repr(Media.of(png_bytes)) and "\\x89" not in repr(Media.of(png_bytes))
