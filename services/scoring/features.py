"""The text featurizer shared by training and inference (numpy and the standard library only).

Two blocks of hashed n-gram features of the normalised text: word uni- and bigrams, and
character 1- to 6-grams. Each distinct n-gram of a document weighs 1 + log(count) (sublinear
tf), and each block is l2-normalised per document, so a long headline does not outweigh a
short one and neither block drowns the other. Hashing keeps the artifact a fixed size and
inference free of any vocabulary lookup; the character n-grams are hashed for a whole batch
at once with vectorised numpy arithmetic.

Training (`services/scoring/training/train.py`) and inference (`text_model.py`) both call
`featurize`, so the two cannot drift apart. The featurizer has no fitted state: there is
no idf table (cross-validation on the training file found idf weighting no better).
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

BLOCK_BITS = 19
BLOCK_SIZE = 1 << BLOCK_BITS
FEATURE_BITS = BLOCK_BITS + 1
N_FEATURES = 1 << FEATURE_BITS  # words in [0, BLOCK_SIZE), characters in [BLOCK_SIZE, N)
WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (1, 2, 3, 4, 5, 6)

_URL = re.compile(r"https?://\S+")
_CASHTAG = re.compile(r"\$[A-Za-z][A-Za-z.]{0,6}")
_PERCENT = re.compile(r"\d+(?:\.\d+)?%")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_SPACES = re.compile(r"[\s\x00]+")
_WORD = re.compile(r"\w+")
_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1000003)


def normalize(text: str) -> str:
    """Lower-case; URLs dropped; cashtags, percentages and numbers replaced by placeholders.

    Which company or which number a headline names carries no sentiment; the words do.
    NUL bytes become spaces: the character hashing uses them to separate documents.
    """
    text = _URL.sub(" ", text)
    text = _CASHTAG.sub(" tkr ", text)
    text = _PERCENT.sub(" pctnum ", text)
    text = _NUMBER.sub(" num ", text)
    return _SPACES.sub(" ", text.lower()).strip()


@dataclass(frozen=True)
class SparseBatch:
    """Sparse features of a batch: value `values[i]` of feature `cols[i]` of document `rows[i]`.

    Entries are sorted by document, then feature, with no duplicate (document, feature) pair.
    """

    rows: NDArray[np.int64]
    cols: NDArray[np.int64]
    values: NDArray[np.float64]
    n_docs: int


def _word_hashes(texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    docs: list[int] = []
    buckets: list[int] = []
    for doc, text in enumerate(texts):
        words = _WORD.findall(text)
        grams = [g for n in WORD_NGRAMS for g in _word_ngrams(words, n)]
        docs += [doc] * len(grams)
        buckets += [zlib.crc32(g.encode()) & (BLOCK_SIZE - 1) for g in grams]
    return np.asarray(docs, dtype=np.int64), np.asarray(buckets, dtype=np.int64)


def _word_ngrams(words: list[str], n: int) -> list[str]:
    if n == 1:
        return words
    if n == 2:
        return [f"{a} {b}" for a, b in pairwise(words)]
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def _char_hashes(texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # One buffer for the batch, documents separated by a 0 byte that no n-gram may span.
    joined = b"\x00".join(t.encode() for t in texts) + b"\x00"
    data = np.frombuffer(joined, dtype=np.uint8).astype(np.uint64)
    is_sep = data == 0
    seps_before = np.concatenate(([0], np.cumsum(is_sep)))
    doc_of = seps_before[:-1]
    all_docs: list[NDArray[np.int64]] = []
    all_buckets: list[NDArray[np.int64]] = []
    rolling = np.zeros(len(data), dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps on purpose
        for n in range(1, max(CHAR_NGRAMS) + 1):
            starts = len(data) - n + 1
            rolling = rolling[:starts] * _PRIME + data[n - 1 : n - 1 + starts]
            if n not in CHAR_NGRAMS:
                continue
            valid = (seps_before[n : n + starts] - seps_before[:starts]) == 0
            mixed = (rolling[valid] ^ np.uint64(n)) * _MIX
            all_buckets.append((mixed >> np.uint64(64 - BLOCK_BITS)).astype(np.int64))
            all_docs.append(doc_of[:starts][valid].astype(np.int64))
    return np.concatenate(all_docs), np.concatenate(all_buckets) + BLOCK_SIZE


def occurrences(texts: Sequence[str]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """(document, hashed feature) of every n-gram occurrence in the batch, repeats included."""
    normalized = [normalize(t) for t in texts]
    word_docs, word_buckets = _word_hashes(normalized)
    char_docs, char_buckets = _char_hashes(normalized)
    return np.concatenate([word_docs, char_docs]), np.concatenate([word_buckets, char_buckets])


def featurize(texts: Sequence[str]) -> SparseBatch:
    """Sublinear tf of each distinct (document, feature), l2-normalised per document and block.

    A single sort of the batch's (document, feature) keys groups the repeats; it also leaves
    the entries ordered by document, so a document scores the same alone or in any batch.
    """
    docs, buckets = occurrences(texts)
    keys, counts = np.unique((docs << FEATURE_BITS) | buckets, return_counts=True)
    rows = keys >> FEATURE_BITS
    cols = keys & (N_FEATURES - 1)
    values = 1.0 + np.log(counts)
    group = rows * 2 + (cols >> BLOCK_BITS)
    norms = np.sqrt(np.bincount(group, weights=values * values, minlength=len(texts) * 2))
    return SparseBatch(rows, cols, values / norms[group], len(texts))
