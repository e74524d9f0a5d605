"""`Media`: one type for what users hand in — bytes, a path, a `data:` URL, an http(s) URL,
or a PIL image — with the MIME type sniffed from the content, not the name.

One sniffing rule (`content_type`): the content decides. A declared image/audio/video type
the bytes do not bear out is a `MediaError` before any request; a declared type is only
kept for other files (a PDF, a text file), and only when it is a well-formed MIME type.

Strings are never read as local paths: a path must be a `pathlib.Path` or passed with
`Media.from_path`, so text in a chat message can never make us read a local file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from .errors import MediaError

Kind = Literal["image", "audio", "other"]

#: Default cap on media handed to a Space (the Hub's Spaces accept far less in practice).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def sniff_mime(head: bytes) -> str | None:
    """MIME type from the first bytes (at least 16) of a file, or None if unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if _is_bmp(head):
        return "image/bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[4:12] in (b"ftypavif", b"ftypavis"):
        return "image/avif"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1"):
        return "image/heic"
    if head[4:8] == b"ftyp":
        return "audio/mp4" if head[8:11] == b"M4A" else "video/mp4"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "audio/webm"
    return None


def _is_bmp(head: bytes) -> bool:
    """ "BM" alone is too weak (text can start with it): also the reserved zero bytes and
    a known DIB header size, as every BMP writer sets them."""
    return (
        head.startswith(b"BM")
        and len(head) >= 18
        and head[6:10] == b"\0\0\0\0"
        and int.from_bytes(head[14:18], "little") in (12, 16, 40, 52, 56, 64, 108, 124)
    )


#: `type/subtype` and optional `; name=value` parameters, nothing else (no CR/LF).
_MIME = re.compile(
    r"[A-Za-z0-9][\w.+-]*/[\w.+-]+(?: *; *[\w.+-]+=(?:[\w.+-]+|\"[^\"\\\x00-\x1f\x7f]*\"))*",
    re.ASCII,
)


def check_mime(declared: str | None) -> None:
    """Refuse a MIME type that is not `type/subtype[; name=value]` (CR/LF, quotes, ...)."""
    if declared is not None and not _MIME.fullmatch(declared):
        raise MediaError(f"not a valid MIME type: {declared[:80]!r}")


def content_type(head: bytes, declared: str | None = None) -> str | None:
    """The MIME type of content starting with `head` (at least 32 bytes when there are).

    The content decides; `declared` only names what sniffing cannot tell (documents, text)
    and is refused when it claims a media type the bytes are not."""
    check_mime(declared)
    sniffed = sniff_mime(head)
    if sniffed is not None:
        return sniffed
    if declared is not None and declared.split("/")[0].lower() in ("image", "audio", "video"):
        raise MediaError(
            f"the media is declared {declared.split(';')[0]} but its bytes are not a known "
            "image, audio or video format (checked the content, not the label)"
        )
    return declared


_EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "image/bmp": ".bmp",
    "image/tiff": ".tiff",
    "image/avif": ".avif",
    "image/heic": ".heic",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/flac": ".flac",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
    "audio/webm": ".webm",
    "video/mp4": ".mp4",
}


def extension_for(mime_type: str | None) -> str:
    return _EXTENSIONS.get(mime_type or "", ".bin")


def kind_of(mime_type: str | None) -> Kind:
    if mime_type and mime_type.startswith("image/"):
        return "image"
    if mime_type and mime_type.startswith("audio/"):
        return "audio"
    return "other"


@dataclass(frozen=True)
class Media:
    """A piece of media: exactly one of `data` (bytes), `path` or `url` is set.

    Build it with `Media.of(...)` or the `from_*` constructors; they validate eagerly
    (format, size) without network I/O. `url` media are passed to the Space as a URL
    (the Space downloads it), so nothing is fetched on our side.
    """

    data: bytes | None = None
    path: Path | None = None
    url: str | None = None
    mime_type: str | None = None
    name: str | None = None
    _digest: str | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.data is not None:
            object.__setattr__(self, "mime_type", content_type(self.data[:32], self.mime_type))
        else:
            check_mime(self.mime_type)

    def __repr__(self) -> str:
        where = (
            f"{len(self.data)} bytes"
            if self.data is not None
            else str(self.path)
            if self.path is not None
            else (self.url or "")[:60]
        )
        return f"Media({self.mime_type or 'unknown'}, {where})"

    # -- constructors -------------------------------------------------------

    @classmethod
    def of(cls, value: Any, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Media:
        """Coerce bytes, `Path`, `data:`/http(s) URL string, PIL image, or `Media`."""
        if isinstance(value, Media):
            return value
        if isinstance(value, (bytes, bytearray, memoryview)):
            return cls.from_bytes(bytes(value), max_bytes=max_bytes)
        if isinstance(value, os.PathLike):
            return cls.from_path(value, max_bytes=max_bytes)
        if isinstance(value, str):
            return cls.from_url(value, max_bytes=max_bytes)
        if _is_pil_image(value):
            return cls.from_pil(value)
        raise MediaError(
            f"cannot use {type(value).__name__} as media: pass bytes, a pathlib.Path, a data: "
            "or http(s) URL string, or a PIL image"
        )

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        *,
        mime_type: str | None = None,
        name: str | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> Media:
        if not data:
            raise MediaError("media is empty (0 bytes)")
        if len(data) > max_bytes:
            raise MediaError(f"media is {len(data)} bytes, over the {max_bytes}-byte limit")
        return cls(data=data, mime_type=mime_type, name=name)

    @classmethod
    def from_path(
        cls, path: str | os.PathLike[str], *, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Media:
        """Media from a local regular file (read lazily: large files are streamed on upload).

        Only a regular file is opened: a named pipe or a device would block the reader (and
        an event loop) for good, so the type is checked first and again on the open file."""
        p = Path(path)
        try:
            if not stat.S_ISREG(p.stat().st_mode):
                raise MediaError(f"media path is not a regular file: {p}")
            # O_NONBLOCK: if the path was swapped for a pipe since, opening does not wait.
            fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
            with os.fdopen(fd, "rb") as fh:
                info = os.fstat(fh.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise MediaError(f"media path is not a regular file: {p}")
                size = info.st_size
                head = fh.read(32)
        except OSError as exc:
            raise MediaError(f"cannot read media file {p}: {exc.strerror or exc}") from exc
        if size == 0:
            raise MediaError(f"media file is empty: {p}")
        if size > max_bytes:
            raise MediaError(f"media file {p} is {size} bytes, over the {max_bytes}-byte limit")
        return cls(path=p, mime_type=content_type(head), name=p.name)

    @classmethod
    def from_url(cls, url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Media:
        """A `data:` URL (decoded now) or an http(s) URL (passed on to the Space)."""
        scheme = urlsplit(url).scheme.lower() if ":" in url[:12] else ""
        if scheme == "data":
            return cls.from_data_url(url, max_bytes=max_bytes)
        if scheme in ("http", "https"):
            if not urlsplit(url).netloc:
                raise MediaError(f"media URL has no host: {url[:80]!r}")
            return cls(url=url, mime_type=None, name=Path(urlsplit(url).path).name or None)
        raise MediaError(
            f"unsupported media string {url[:60]!r}: only http(s) and data: URLs are accepted; "
            "for a local file pass a pathlib.Path"
        )

    @classmethod
    def from_data_url(cls, url: str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Media:
        header, sep, payload = url.partition(",")
        if not sep or not header.lower().startswith("data:"):
            raise MediaError("malformed data: URL (expected 'data:<mime>;base64,<data>')")
        declared = header[5:].split(";")[0] or None
        if ";base64" not in header.lower():
            raise MediaError("data: URL must be base64-encoded")
        return cls.from_base64(payload, mime_type=declared, max_bytes=max_bytes)

    @classmethod
    def from_base64(
        cls, payload: str, *, mime_type: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
    ) -> Media:
        # Measured before decoding (or even stripping): a huge block costs nothing to refuse.
        # 4 characters carry 3 bytes; a little slack for line breaks and padding.
        if len(payload) > (max_bytes + 2) // 3 * 4 + max_bytes // 64 + 8:
            raise MediaError(f"base64 media is over the {max_bytes}-byte limit")
        try:
            data = base64.b64decode(payload.strip(), validate=False)
        except (binascii.Error, ValueError) as exc:
            raise MediaError("media is not valid base64") from exc
        return cls.from_bytes(data, mime_type=mime_type, max_bytes=max_bytes)

    @classmethod
    def from_pil(cls, image: Any, *, format: str = "PNG") -> Media:
        buffer = io.BytesIO()
        image.save(buffer, format=format)
        return cls.from_bytes(buffer.getvalue())

    # -- accessors ----------------------------------------------------------

    @property
    def kind(self) -> Kind:
        return kind_of(self.mime_type)

    @property
    def size(self) -> int | None:
        if self.data is not None:
            return len(self.data)
        if self.path is not None:
            return self.path.stat().st_size
        return None

    @property
    def filename(self) -> str:
        """A safe file name for upload: the given name, or one made from the content."""
        base = safe_filename(self.name) if self.name else None
        return base or f"media{extension_for(self.mime_type)}"

    def digest(self) -> str:
        """SHA-256 of the content (bytes or file), used to upload identical content once."""
        if self._digest is not None:
            return self._digest
        h = hashlib.sha256()
        if self.data is not None:
            h.update(self.data)
        elif self.path is not None:
            with self.path.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
        else:
            h.update((self.url or "").encode())
        digest = h.hexdigest()
        object.__setattr__(self, "_digest", digest)
        return digest

    def read_bytes(self) -> bytes:
        """The content as bytes (reads the file for path media; not for URL media)."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            return self.path.read_bytes()
        raise MediaError("URL media has no local bytes; the Space fetches it itself")

    def require(self, kind: Kind) -> Media:
        """Check this is `kind` media (URL media are trusted to the Space). Returns self."""
        if self.url is not None:
            return self
        if self.mime_type is None:
            raise MediaError(
                f"could not recognise the media as {kind}: the bytes are not a known "
                f"{kind} format (checked the content, not the name)"
            )
        if self.kind != kind:
            raise MediaError(f"expected {kind} media but the content is {self.mime_type}")
        return self


def safe_filename(name: str | None, default: str = "file") -> str:
    """A file name safe to create in a directory, whatever a server sent."""
    if not name:
        return default
    name = name.replace("\x00", "").replace("\\", "/").split("/")[-1]
    name = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    return name[:120] or default


def _is_pil_image(value: Any) -> bool:
    cls = type(value)
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image" for c in cls.__mro__)
