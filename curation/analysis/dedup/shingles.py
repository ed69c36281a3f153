"""Shingle hashing and Jaccard similarity over whole batches of texts (the near-dup tier's engine).

Shingling is vectorised over a whole batch of texts: the texts are concatenated into one array of
code points, a prefix polynomial hash (mod 2^64, with an odd base, so every power has an inverse)
gives the hash of any substring in O(1), and every character n-gram and word n-gram of the batch is
hashed with a handful of numpy operations instead of one Python call per shingle. The hashes are
deterministic (no Python ``hash()``), so partitions shingled on different workers agree.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from curation.analysis.dedup.text import canonical_words

_BASE = np.uint64(0x100000001B3)  # odd, so it is invertible modulo 2^64
_BASE_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_WORD_TAG = np.uint64(0x9E3779B97F4A7C15)  # keeps a word n-gram apart from an equal char n-gram


def jaccard(a: Iterable[Hashable], b: Iterable[Hashable]) -> float:
    """|A ∩ B| / |A ∪ B| of two collections taken as sets (1.0 when both are empty)."""
    sa, sb = set(a), set(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


@dataclass(frozen=True)
class Shingles:
    """The shingle sets of a batch of texts, as one CSR array: text i owns values[offsets[i]:offsets[i+1]].

    Values are sorted, unique uint32 hashes per text. Batches concatenate (``concat``), so shingles
    computed on separate partitions can be merged.
    """

    offsets: np.ndarray  # int64, len n + 1
    values: np.ndarray  # uint32

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def sizes(self) -> np.ndarray:
        return np.diff(self.offsets)

    def of(self, i: int) -> np.ndarray:
        return self.values[self.offsets[i] : self.offsets[i + 1]]

    @staticmethod
    def concat(parts: Sequence[Shingles]) -> Shingles:
        if not parts:
            return Shingles(np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.uint32))
        offsets = [np.zeros(1, dtype=np.int64)]
        base = 0
        for part in parts:
            offsets.append(part.offsets[1:] + base)
            base += int(part.offsets[-1])
        return Shingles(np.concatenate(offsets), np.concatenate([p.values for p in parts]))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads polynomial hashes over all 64 bits (in place on a copy)."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def shingle_texts(texts: Sequence[str], *, word_ngram: int = 3, char_ngram: int = 5) -> Shingles:
    """Word n-gram and character n-gram hashes of each text (its :func:`canonical_words` form).

    A text shorter than n words (or n characters) gets one shingle for the whole text instead, so
    short texts still compare. An empty text gets no shingles. ``0`` turns a kind off.
    """
    canon = [canonical_words(t) for t in texts]
    n = len(canon)
    lengths = np.fromiter((len(c) for c in canon), dtype=np.int64, count=n)
    starts = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=starts[1:])  # one separator after each text
    joined = "\x00".join(canon) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + np.uint64(1)
    total = len(codes)
    with np.errstate(over="ignore"):
        powers = np.empty(total + 1, dtype=np.uint64)
        powers[0] = 1
        powers[1:] = _BASE
        np.cumprod(powers, out=powers)
        inv_powers = np.empty(total + 1, dtype=np.uint64)
        inv_powers[0] = 1
        inv_powers[1:] = _BASE_INV
        np.cumprod(inv_powers, out=inv_powers)
        prefix = np.zeros(total + 1, dtype=np.uint64)
        np.cumsum(codes * powers[:total], out=prefix[1:])

    def segment_hashes(begin: np.ndarray, end: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return (prefix[end] - prefix[begin]) * inv_powers[begin] + (end - begin).astype(np.uint64)

    owners: list[np.ndarray] = []
    hashes: list[np.ndarray] = []
    text_start, text_len = starts[:-1], lengths
    nonempty = text_len > 0
    if char_ngram > 0:
        # Every window of char_ngram characters that stays inside its text; short texts: the whole text.
        long = text_len >= char_ngram
        counts = np.where(long, text_len - char_ngram + 1, 0)
        owner = np.repeat(np.arange(n), counts)
        pos = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts) + text_start[owner]
        owners += [owner, np.flatnonzero(~long & nonempty)]
        short = ~long & nonempty
        hashes += [
            segment_hashes(pos, pos + char_ngram),
            segment_hashes(text_start[short], text_start[short] + text_len[short]),
        ]
    if word_ngram > 0:
        word_parts = _word_ngram_hashes(codes, n, text_start, word_ngram, segment_hashes)
        owners.append(word_parts[0])
        hashes.append(word_parts[1] ^ _WORD_TAG)
    return _to_csr(n, owners, hashes)


def _word_ngram_hashes(
    codes: np.ndarray, n_texts: int, text_start: np.ndarray, n: int, segment_hashes: Callable[..., np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """(owner, hash) of every word n-gram: the substring from its first word's start to its last's end.

    In the joined canonical texts a word is a run of characters other than the space and the
    separator between texts (codes shifted by one: 33 and 1).
    """
    gap = (codes == np.uint64(33)) | (codes == np.uint64(1))
    inside = ~gap
    before = np.concatenate(([False], inside[:-1]))
    after = np.concatenate((inside[1:], [False]))
    w_start = np.flatnonzero(inside & ~before)
    w_end = np.flatnonzero(inside & ~after) + 1
    owner = np.searchsorted(text_start, w_start, side="right") - 1
    per_text = np.bincount(owner, minlength=n_texts)
    first = np.cumsum(per_text) - per_text
    counts = np.where(per_text > 0, np.maximum(per_text - n + 1, 1), 0)
    g_owner = np.repeat(np.arange(n_texts), counts)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    begin_word = first[g_owner] + local
    end_word = np.minimum(begin_word + n - 1, first[g_owner] + per_text[g_owner] - 1)
    return g_owner, segment_hashes(w_start[begin_word], w_end[end_word])


def _to_csr(n: int, owners: list[np.ndarray], hashes: list[np.ndarray]) -> Shingles:
    """Sorted unique uint32 hashes per owner, packed as (owner << 32 | hash) and deduplicated in one sort."""
    owner = np.concatenate(owners).astype(np.uint64) if owners else np.zeros(0, dtype=np.uint64)
    mixed = _mix64(np.concatenate(hashes)) >> np.uint64(32) if hashes else np.zeros(0, dtype=np.uint64)
    packed = np.sort((owner << np.uint64(32)) | mixed)
    packed = packed[np.concatenate(([True], packed[1:] != packed[:-1]))] if len(packed) else packed
    doc = (packed >> np.uint64(32)).astype(np.int64)
    offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(doc, minlength=n), out=offsets[1:])
    return Shingles(offsets, (packed & np.uint64(0xFFFFFFFF)).astype(np.uint32))


def pair_jaccard(
    shingles: Shingles, left: np.ndarray, right: np.ndarray, *, chunk: int = 4_000_000
) -> np.ndarray:
    """True Jaccard of the shingle sets of each (left[k], right[k]) pair, vectorised.

    Both sets of a pair are laid out side by side, tagged with the pair's number in the high 32 bits,
    sorted once, and equal neighbours counted: that count is the intersection size.
    """
    left = np.asarray(left, dtype=np.int64)
    right = np.asarray(right, dtype=np.int64)
    sizes = shingles.sizes()
    la, lb = sizes[left], sizes[right]
    out = np.zeros(len(left), dtype=np.float64)
    start = 0
    while start < len(left):
        # Take as many pairs as fit in ``chunk`` elements (at least one).
        cum = np.cumsum(la[start:] + lb[start:])
        stop = start + max(1, int(np.searchsorted(cum, chunk, side="right")))
        out[start:stop] = _jaccard_chunk(
            shingles, left[start:stop], right[start:stop], la[start:stop], lb[start:stop]
        )
        start = stop
    return out


def _gather(shingles: Shingles, docs: np.ndarray, lens: np.ndarray) -> np.ndarray:
    if not len(docs):
        return np.zeros(0, dtype=np.uint32)
    index = (
        np.arange(int(lens.sum()))
        - np.repeat(np.cumsum(lens) - lens, lens)
        + np.repeat(shingles.offsets[docs], lens)
    )
    return shingles.values[index]


def _jaccard_chunk(
    shingles: Shingles, left: np.ndarray, right: np.ndarray, la: np.ndarray, lb: np.ndarray
) -> np.ndarray:
    pair = np.arange(len(left), dtype=np.uint64)
    tags = np.concatenate((np.repeat(pair, la), np.repeat(pair, lb))) << np.uint64(32)
    values = np.concatenate((_gather(shingles, left, la), _gather(shingles, right, lb))).astype(np.uint64)
    packed = np.sort(tags | values)
    same = packed[1:] == packed[:-1]
    inter = np.bincount((packed[1:][same] >> np.uint64(32)).astype(np.int64), minlength=len(left))
    union = la + lb - inter
    return np.where(union > 0, inter / np.maximum(union, 1), 1.0)
