"""The upload cache survives a Space restart: a file the Space no longer has → one
re-upload and one retry (the queued Janus call and the Phi-4 add-turn predict); a changed
config drops the cache; an ordinary app error is not retried.

A restart is emulated by deleting the uploaded file from the replica's upload folder (the
replica runs on this machine; a restarted Space starts with an empty one)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hfspaces import ImagePart, Media, Message, SpaceClient, SpaceModel, TextPart, errors

QUESTION = ["what is this?", 42, 0.95, 0.1]


def lose(file_data: dict[str, Any]) -> None:
    """What a restart does to an upload: the Space's copy is gone."""
    Path(file_data["path"]).unlink()


def exists(file_data: dict[str, Any]) -> bool:
    return Path(file_data["path"]).exists()


async def test_janus_call_reuploads_a_lost_file_once(
    fresh_replica: Any, janus_url: str, png_bytes: bytes
) -> None:
    media = Media.of(png_bytes)
    async with SpaceClient(janus_url) as client:
        first = await client.upload(media)
        assert (await client.run("multimodal_understanding", [first, *QUESTION]))[0]
        lose(first)
        # The caller still holds the old FileData (as an adapter's cache would).
        outputs = await client.run("multimodal_understanding", [first, *QUESTION])
        assert outputs[0]
        again = await client.upload(media)  # the cache now holds the new copy
    assert again != first or exists(again)
    stats = fresh_replica.stats()
    assert stats["uploads"] == 2  # one re-upload
    calls = [c for c in stats["calls"] if c["fn"] == "multimodal_understanding"]
    assert stats["joins_total"] == 3 and len(calls) == 2  # one failed join, one retry


async def test_space_model_with_an_image_survives_a_restart(
    fresh_replica: Any, phi4_url: str, png_bytes: bytes
) -> None:
    """Phi-4: the image goes through the add-turn predict (run/predict) first."""
    model = SpaceModel("phi-4-multimodal", endpoint=phi4_url)
    message = Message("user", [ImagePart(Media.of(png_bytes)), TextPart("what is this?")])
    assert (await model.generate([message])).text
    (uploaded,) = model.client._uploaded
    lose({"path": uploaded})
    assert (await model.generate([message])).text
    await model.aclose()
    assert fresh_replica.stats()["uploads"] == 2


async def test_an_app_error_with_files_present_is_not_retried(
    fresh_replica: Any, janus_url: str, png_bytes: bytes
) -> None:
    fresh_replica.configure(app_error=True)
    async with SpaceClient(janus_url) as client:
        file_data = await client.upload(Media.of(png_bytes))
        with pytest.raises(errors.AppError):
            await client.run("multimodal_understanding", [file_data, *QUESTION])
    stats = fresh_replica.stats()
    assert stats["uploads"] == 1 and stats["joins_total"] == 1


async def test_a_changed_config_drops_the_upload_cache(
    fresh_replica: Any, janus_url: str, png_bytes: bytes
) -> None:
    media = Media.of(png_bytes)
    async with SpaceClient(janus_url) as client:
        await client.upload(media)
        await client.upload(media)  # cached
        assert fresh_replica.stats()["uploads"] == 1
        fresh_replica.configure(config_changed=True)
        await client.config(refresh=True)
        await client.upload(media)
    assert fresh_replica.stats()["uploads"] == 2
