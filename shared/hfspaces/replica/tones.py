"""A text ↔ tone codec: the deterministic "voice" of the replica's text-to-speech and the
"ear" of its speech-to-text, so that transcribing a synthesised clip gives the text back.

Each character is a sine burst at its own frequency, bursts are separated by a few samples
of exact silence, and a space is a longer silence. The burst length scales with 1/speed,
so a slower voice makes a longer clip. Anything else (a recorded clip, a plain tone) is
described by its duration and pitch instead.
"""

from __future__ import annotations

import io
import math
import wave
from array import array
from dataclasses import dataclass

ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789.,?!'-"
RATE = 16_000
BASE_HZ = 300.0
STEP_HZ = 30.0
CHAR_SECONDS = 0.06
GAP = 16  # samples of silence between two characters
WORD_GAP_SECONDS = 0.05
MAX_SECONDS = 120.0  # refuse to read more than this (a Space caps its inputs)


def char_hz(char: str) -> float:
    return BASE_HZ + STEP_HZ * ALPHABET.index(char)


def synthesize(text: str, *, speed: float = 1.0, amplitude: int = 9000) -> bytes:
    """`text` (letters, digits, a little punctuation; other characters are skipped) as a
    16 kHz mono 16-bit WAV."""
    return _wav(voice(text, speed=speed, amplitude=amplitude))


def voice(text: str, *, speed: float = 1.0, amplitude: int = 9000) -> array[int]:
    """The 16 kHz samples of `synthesize`."""
    samples = array("h")
    burst = max(8, round(RATE * CHAR_SECONDS / speed))
    word_gap = round(RATE * WORD_GAP_SECONDS / speed)
    for char in " ".join(text.lower().split()):
        if char == " ":
            samples.extend([0] * word_gap)
        elif char in ALPHABET:
            hz = char_hz(char)
            # Start at phase 0 and drop exact zeros inside the burst, so that runs of
            # zeros only ever mean silence.
            samples.extend(
                int(amplitude * math.sin(2 * math.pi * hz * i / RATE)) or 1 for i in range(burst)
            )
            samples.extend([0] * GAP)
    return samples


def _wav(samples: array[int]) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    return out.getvalue()


@dataclass(frozen=True)
class Hearing:
    """What the ear made of a clip."""

    text: str
    seconds: float
    #: True when every burst matched a character of the codec.
    decoded: bool


def listen(wav_bytes: bytes) -> Hearing:
    """Decode a WAV made by `synthesize`; describe any other clip by duration and pitch."""
    with wave.open(io.BytesIO(wav_bytes), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        frames = min(w.getnframes(), int(MAX_SECONDS * rate))
        raw = w.readframes(frames)
    seconds = frames / float(rate or 1)
    if width != 2 or channels != 1 or not raw:
        return Hearing(f"[{seconds:.2f} s of audio]", seconds, False)
    samples = array("h")
    samples.frombytes(raw[: len(raw) - len(raw) % 2])
    bursts = _bursts(samples)
    text: list[str] = []
    decoded = bool(bursts)
    previous_end = None
    for start, end in bursts:
        if previous_end is not None and start - previous_end > GAP * 2:
            text.append(" ")
        previous_end = end
        hz = _pitch(samples, start, end, rate)
        index = round((hz - BASE_HZ) / STEP_HZ)
        length = (end - start) / rate
        if (
            0 <= index < len(ALPHABET)
            and abs(hz - char_hz(ALPHABET[index])) < STEP_HZ / 3
            and length < 0.25
        ):
            text.append(ALPHABET[index])
        else:
            decoded = False
            text.append(f"[a {length:.2f} s tone at {hz:.0f} Hz]")
    if not bursts:
        return Hearing(f"[{seconds:.2f} s of silence]", seconds, False)
    return Hearing("".join(text), seconds, decoded)


def _bursts(samples: array[int]) -> list[tuple[int, int]]:
    """(start, end) of the runs of sound between runs of at least 4 zero samples."""
    out: list[tuple[int, int]] = []
    start = None
    zeros = 0
    for i, v in enumerate(samples):
        if v == 0:
            zeros += 1
            if start is not None and zeros >= 4:
                out.append((start, i - zeros + 1))
                start = None
        else:
            if start is None:
                start = i
            zeros = 0
    if start is not None:
        out.append((start, len(samples)))
    return out


def _pitch(samples: array[int], start: int, end: int, rate: int) -> float:
    """Frequency from the sign changes between the first and the last one."""
    crossings = [i for i in range(start + 1, end) if (samples[i - 1] < 0) != (samples[i] < 0)]
    if len(crossings) < 2:
        return 0.0
    span = (crossings[-1] - crossings[0]) / rate
    return (len(crossings) - 1) / (2 * span) if span else 0.0
