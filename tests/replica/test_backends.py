"""The deterministic backends and the ZeroGPU helpers, as pure functions."""

from __future__ import annotations

import time

from hfspaces.replica import backends
from hfspaces.replica.faults import Faults
from hfspaces.replica.samples import sample_image_path, sample_wav_path
from hfspaces.replica.zerogpu import QuotaBook, decode_jwt, resolve_identity, sign_jwt
from PIL import Image


def test_describe_sample_image() -> None:
    text = backends.describe_image_file(sample_image_path())
    assert text == "a 64×48 image, mostly red and white"


def test_understand_restates_question_and_is_deterministic() -> None:
    img = Image.new("RGB", (10, 20), (30, 60, 220))
    a = backends.understand(img, "what  colour?")
    assert a == backends.understand(img, "what  colour?")
    assert "10×20" in a and "blue" in a and "what colour?" in a


def test_generated_images_are_distinct_and_reproducible() -> None:
    first = [backends.image_bytes(i) for i in backends.generate_images("a cat", 1, 5, 1.0, 32)]
    again = [backends.image_bytes(i) for i in backends.generate_images("a cat", 1, 5, 1.0, 32)]
    other = [backends.image_bytes(i) for i in backends.generate_images("a dog", 1, 5, 1.0, 32)]
    assert first == again and len(set(first)) == 5 and first != other


def test_fit_words_pads_and_cuts() -> None:
    assert backends.fit_words("one two three", 1) == "one"
    padded = backends.fit_words("one two", 5)
    assert padded.split()[:2] == ["one", "two"] and len(padded.split()) == 5
    assert backends.fit_words("keep me", None) == "keep me"


def test_phi4_answer_mentions_media_and_turn() -> None:
    atts = [
        backends.Attachment(str(sample_image_path()), "image/png"),
        backends.Attachment(str(sample_wav_path()), "audio/wav"),
    ]
    text = backends.phi4_answer("hi", atts, turn=2)
    assert "Turn 2" in text and '"hi"' in text
    assert "64×48" in text and "0.50 seconds" in text


def test_jwt_roundtrip_and_identity() -> None:
    tok = sign_jwt({"sub": "u1", "exp": time.time() + 60, "pro": False}, "s")
    assert decode_jwt(tok, "s")["sub"] == "u1"  # type: ignore[index]
    assert decode_jwt(tok, "other") is None
    user = resolve_identity({"x-ip-token": tok}, "s")
    assert (user.key, user.auth, user.token_status) == ("user:u1", "regular", "valid")
    # Only X-IP-Token is read: the seeds' x-zerogpu-token reaches the runtime via the proxy.
    assert resolve_identity({"x-zerogpu-token": tok}, "s").key == "space"
    assert resolve_identity({"x-ip-token": tok + "x"}, "s").token_status == "invalid"
    anon = resolve_identity({"x-ip-token": sign_jwt({"ip": "1.2.3.4"}, "s")}, "s")
    assert (anon.key, anon.auth, anon.token_status) == ("anon:1.2.3.4", None, "anonymous")
    old = sign_jwt({"sub": "u1", "exp": time.time() - 1, "pro": True}, "s")
    expired = resolve_identity({"x-ip-token": old}, "s")
    assert (expired.auth, expired.token_status) == ("pro", "expired")


def test_quota_book_wait() -> None:
    book = QuotaBook(window=600)
    assert book.try_charge("a", 100, 150, now=0)[0]
    ok, left, wait = book.try_charge("a", 100, 150, now=10)
    assert not ok and left == 50 and wait == 590


def test_fault_triggers_count_and_seeded_rate() -> None:
    f = Faults()
    f.configure(join_status=503, join_fail_count=2)
    assert [f.fire("join") for _ in range(3)] == [True, True, False]
    picks = []
    for _ in range(2):
        g = Faults(seed=7)
        g.configure(join_fail_rate=0.1)
        picks.append([g.fire("join") for _ in range(200)])
    assert picks[0] == picks[1] and 5 < sum(picks[0]) < 40
