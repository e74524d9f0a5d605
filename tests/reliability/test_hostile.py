"""Hostile input: whatever a server (or a chat message) says, we write only safe file names,
read local files only when the caller asked for a path explicitly, accept only http(s) and
data: URLs as media, and cap sizes both ways.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
from hfspaces import errors, image_files
from hfspaces.conversation import Message
from hfspaces.generation import GeneratedImage
from hfspaces.media import Media, safe_filename
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rel_support import fast_client, free_port

HOSTILE_NAMES = [
    "../../x",
    "../../../../etc/passwd",
    "/etc/passwd",
    "/",
    ".",
    "..",
    "...",
    "....//....//x",
    "a/../../b",
    "..\\..\\windows\\system32\\config",
    "C:\\Windows\\win.ini",
    "x\x00.png",
    "\x00",
    "\x00../../x",
    "evil\x00/../../x",
    "  .. ",
    "~/.ssh/id_rsa",
    "$(rm -rf ~).png",
    "a\nb\rc\td.png",
    "nul:",
    "x" * 5000,
    "",
    "\u202etxt.exe",  # right-to-left override
    "／etc／passwd",  # full-width solidus
]


def assert_safe(name: str, directory: Path) -> None:
    assert name
    assert len(name) <= 120
    assert "/" not in name and "\\" not in name and "\x00" not in name
    assert name not in (".", "..")
    assert not name.startswith(".")  # no hidden files, no traversal prefix
    assert all(c.isprintable() for c in name)
    target = (directory / name).resolve()
    assert target.parent == directory.resolve()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_filename_whatever_the_server_sends(name: str, tmp_path: Path) -> None:
    safe = safe_filename(name)
    assert_safe(safe, tmp_path)
    (tmp_path / safe).write_bytes(b"ok")  # it really can be created inside the directory
    assert [p.name for p in tmp_path.iterdir()] == [safe]


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=st.text(max_size=300))
def test_safe_filename_property(name: str, tmp_path: Path) -> None:
    assert_safe(safe_filename(name), tmp_path)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_upload_name_from_hostile_media_name(name: str, png_bytes: bytes, tmp_path: Path) -> None:
    media = Media.from_bytes(png_bytes, name=name)
    assert_safe(media.filename, tmp_path)


@pytest.mark.parametrize("prompt", ["../../x", "/etc/passwd", "a\x00b", "..", "\\..\\x"])
def test_saving_code_in_the_wrappers_and_cli(prompt: str, tmp_path: Path, png_bytes: bytes) -> None:
    """Every place that writes generated images builds the name through safe_filename."""
    image = GeneratedImage(url="http://127.0.0.1/x", mime_type="image/png", data=png_bytes)
    names: list[str] = []
    try:
        from hfspaces.cli.image import file_stem, save_images
    except ImportError:  # pragma: no cover - the CLI is optional
        pass
    else:
        out = tmp_path / "cli"
        for path in save_images((image,), out, file_stem(prompt, 7)):
            assert path.parent == out
            names.append(path.name)
    # The LangChain and LlamaIndex image tools save through hfspaces.image_files.
    for path in image_files.save_images((image,), tmp_path / "tools", prompt, 7):
        assert path is not None and path.parent == tmp_path / "tools"
        names.append(path.name)
    for name in names:
        assert_safe(name, tmp_path)


# -- media URLs -------------------------------------------------------------------------------

REFUSED = [
    "file:///etc/passwd",
    "FILE:///etc/passwd",
    "file://localhost/etc/passwd",
    "ftp://127.0.0.1/x.png",
    "gopher://127.0.0.1/x",
    "javascript:alert(1)",
    "/etc/passwd",
    "./image.png",
    "image.png",
    "~/image.png",
    "C:\\images\\x.png",
    "\\\\server\\share\\x.png",
    "http://",
    "https:///nohost.png",
    "data:image/png,notbase64",
    "",
]


@pytest.mark.parametrize("value", REFUSED)
def test_only_http_and_data_urls_are_media(value: str) -> None:
    with pytest.raises(errors.MediaError):
        Media.of(value)


def test_accepted_media_urls(png_bytes: bytes) -> None:
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes).decode()
    assert Media.of(data_url).data == png_bytes
    assert Media.of("http://127.0.0.1/x.png").url == "http://127.0.0.1/x.png"
    assert Media.of("HTTPS://example.com/x").url is not None


def test_strings_are_never_read_as_paths(tmp_path: Path, png_bytes: bytes) -> None:
    image = tmp_path / "image.png"
    image.write_bytes(png_bytes)
    with pytest.raises(errors.MediaError):
        Media.of(str(image))  # a string that names a real file: still refused
    assert Media.of(image).path == image  # a Path object: the caller asked for a file
    assert Media.from_path(str(image)).path == image  # the explicit path constructor
    # Text in a message is text, even when it looks like a path.
    message = Message.user(str(image))
    assert all(type(p).__name__ == "TextPart" for p in message.parts)


def test_langchain_refuses_file_urls_before_any_request() -> None:
    pytest.importorskip("langchain_core")
    lc = pytest.importorskip("langchain_hfspaces")
    from langchain_core.messages import HumanMessage

    # No server listens there: reaching the network would be a ConnectError, not this.
    llm = lc.ChatHFSpaces(model="phi-4-multimodal", endpoint=f"http://127.0.0.1:{free_port()}")
    for block in (
        {"type": "image", "url": "file:///etc/passwd"},
        {"type": "image", "url": "/etc/passwd"},
        {"type": "image_url", "image_url": {"url": "file:///etc/passwd"}},
        {"type": "audio", "url": "ftp://127.0.0.1/a.wav"},
    ):
        with pytest.raises(ValueError):
            llm.invoke([HumanMessage([{"type": "text", "text": "what is it?"}, block])])


def test_llamaindex_refuses_file_urls_before_any_request() -> None:
    pytest.importorskip("llama_index.core")
    li = pytest.importorskip("llama_index_hfspaces")
    from llama_index.core.llms import ChatMessage, ImageBlock, TextBlock

    llm = li.HFSpacesLLM(model="phi-4-multimodal", endpoint=f"http://127.0.0.1:{free_port()}")
    message = ChatMessage(
        role="user",
        blocks=[TextBlock(text="what is it?"), ImageBlock(url="file:///etc/passwd")],
    )
    # HFSpacesLLM raises input errors as HFSpacesInputError (not a ValueError, which query
    # engines would swallow); the core's MediaError is its cause.
    with pytest.raises(li.HFSpacesInputError) as refused:
        llm.chat([message])
    assert isinstance(refused.value.error, errors.MediaError)


# -- size caps --------------------------------------------------------------------------------


def test_upload_size_capped_before_reading(tmp_path: Path, png_bytes: bytes) -> None:
    with pytest.raises(errors.MediaError, match="limit"):
        Media.from_bytes(png_bytes, max_bytes=len(png_bytes) - 1)
    big = tmp_path / "big.png"
    with big.open("wb") as fh:  # sparse 1 GiB file: its size is checked, it is never read
        fh.write(png_bytes)
        fh.seek((1 << 30) - 1)
        fh.write(b"\0")
    with pytest.raises(errors.MediaError, match="limit"):
        Media.of(big)
    huge_data_url = "data:image/png;base64," + "A" * (70 * 1024 * 1024)
    with pytest.raises(errors.MediaError, match="limit"):
        Media.of(huge_data_url)


async def test_download_cap_default_applies(fake_space: Any) -> None:
    """The client-wide `max_download_bytes` applies when no per-call cap is given."""
    from aiohttp import web

    space = await fake_space()

    async def body(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"y" * 4096, content_type="image/png")

    space.routes["/gradio_api/file=x.png"] = body
    client = fast_client(space.url, max_download_bytes=1024)
    with pytest.raises(errors.DownloadError):
        await client.download({"path": "x.png"})
    assert len(await client.download({"path": "x.png"}, max_bytes=8192)) == 4096
    await client.aclose()
