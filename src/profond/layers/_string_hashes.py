"""The two string hashes behind Keras's ``Hashing`` layer, as TensorFlow computes them.

- :func:`fingerprint64`: FarmHash's ``Fingerprint64`` (its ``farmhashna::Hash64``), which
  ``tf.strings.to_hash_bucket_fast`` reduces modulo the number of buckets (Pike and Alakuijala,
  FarmHash, Google, 2014: https://github.com/google/farmhash).
- :func:`siphash24`: SipHash-2-4 under a 128-bit key given as two 64-bit halves, which
  ``tf.strings.to_hash_bucket_strong`` uses (Aumasson and Bernstein, "SipHash: a fast
  short-input PRF", INDOCRYPT 2012).

Both are written over NumPy ``uint64`` arrays, whose arithmetic wraps modulo 2**64 as C's
``uint64_t`` does. The strings of a batch are grouped by byte length, so that each group runs
the algorithm once, on one column of words per string: a batch of a million short keys costs a
few hundred array operations per distinct length, not a million Python loops.
"""

from __future__ import annotations

import numpy as np

__all__ = ["fingerprint64", "siphash24"]

_U64 = np.uint64
_K0 = _U64(0xC3A5C85C97CB3127)
_K1 = _U64(0xB492B66FBE98F273)
_K2 = _U64(0x9AE16A3B2F90404F)


def _by_length(strings):
    """Yield ``(indices, words)``: the strings of one byte length as a ``(n, length)`` uint8
    matrix, with their positions in ``strings``."""
    lengths = np.fromiter((len(s) for s in strings), dtype=np.int64, count=len(strings))
    for length in np.unique(lengths):
        where = np.flatnonzero(lengths == length)
        joined = b"".join(strings[i] for i in where.tolist())
        yield where, np.frombuffer(joined, dtype=np.uint8).reshape(len(where), int(length))


def _fetch64(m, at):
    """Little-endian 64-bit words of the rows of ``m`` from byte ``at`` (FarmHash's Fetch64 and
    SipHash's U8TO64_LE)."""
    return np.ascontiguousarray(m[:, at:at + 8]).view("<u8")[:, 0].astype(_U64)


def _fetch32(m, at):
    return np.ascontiguousarray(m[:, at:at + 4]).view("<u4")[:, 0].astype(_U64)


def _rotr(x, r):
    return (x >> _U64(r)) | (x << _U64(64 - r))


def _rotl(x, r):
    return (x << _U64(r)) | (x >> _U64(64 - r))


def _shift_mix(v):
    return v ^ (v >> _U64(47))


# --- FarmHash (farmhashna) ---------------------------------------------------------------------
def _len16(u, v, mul):
    a = (u ^ v) * mul
    a ^= a >> _U64(47)
    b = (v ^ a) * mul
    b ^= b >> _U64(47)
    return b * mul


def _len0to16(m, n):
    rows = m.shape[0]
    if n >= 8:
        mul = _K2 + _U64(n * 2)
        a = _fetch64(m, 0) + _K2
        b = _fetch64(m, n - 8)
        c = _rotr(b, 37) * mul + a
        d = (_rotr(a, 25) + b) * mul
        return _len16(c, d, mul)
    if n >= 4:
        mul = _K2 + _U64(n * 2)
        a = _fetch32(m, 0)
        return _len16(_U64(n) + (a << _U64(3)), _fetch32(m, n - 4), mul)
    if n > 0:
        a, b, c = (m[:, i].astype(_U64) for i in (0, n >> 1, n - 1))
        y = a + (b << _U64(8))
        z = _U64(n) + (c << _U64(2))
        return _shift_mix(y * _K2 ^ z * _K0) * _K2
    return np.full(rows, _K2, dtype=_U64)


def _len17to32(m, n):
    mul = _K2 + _U64(n * 2)
    a = _fetch64(m, 0) * _K1
    b = _fetch64(m, 8)
    c = _fetch64(m, n - 8) * mul
    d = _fetch64(m, n - 16) * _K2
    return _len16(_rotr(a + b, 43) + _rotr(c, 30) + d, a + _rotr(b + _K2, 18) + c, mul)


def _len33to64(m, n):
    mul = _K2 + _U64(n * 2)
    a = _fetch64(m, 0) * _K2
    b = _fetch64(m, 8)
    c = _fetch64(m, n - 8) * mul
    d = _fetch64(m, n - 16) * _K2
    y = _rotr(a + b, 43) + _rotr(c, 30) + d
    z = _len16(y, a + _rotr(b + _K2, 18) + c, mul)
    e = _fetch64(m, 16) * mul
    f = _fetch64(m, 24)
    g = (y + _fetch64(m, n - 32)) * mul
    h = (z + _fetch64(m, n - 24)) * mul
    return _len16(_rotr(e + f, 43) + _rotr(g, 30) + h, e + _rotr(f + a, 18) + g, mul)


def _weak32(w, x, y, z, a, b):
    """FarmHash's WeakHashLen32WithSeeds of the four words ``w, x, y, z`` and seeds ``a, b``."""
    a = a + w
    b = _rotr(b + a + z, 21)
    c = a
    a = a + x + y
    b = b + _rotr(a, 44)
    return a + z, b + c


def _len_over64(m, n):
    rows = m.shape[0]
    x = np.full(rows, 81, dtype=_U64)
    y = np.full(rows, (81 * int(_K1) + 113) & 0xFFFFFFFFFFFFFFFF, dtype=_U64)
    z = _shift_mix(y * _K2 + _U64(113)) * _K2
    v0 = v1 = w0 = w1 = np.zeros(rows, dtype=_U64)
    x = x * _K2 + _fetch64(m, 0)
    # Whole 64-byte blocks, leaving 1 to 64 bytes; the last 64 bytes are then read again.
    # The blocks' words are read in one go: one view, not eight copies per block.
    blocks = (n - 1) // 64
    words = np.ascontiguousarray(m[:, :blocks * 64]).view("<u8").reshape(rows, blocks, 8)
    for k in range(blocks):
        q = words[:, k].astype(_U64).T
        x = _rotr(x + y + v0 + q[1], 37) * _K1
        y = _rotr(y + v1 + q[6], 42) * _K1
        x ^= w1
        y = y + v0 + q[5]
        z = _rotr(z + w0, 33) * _K1
        v0, v1 = _weak32(*q[0:4], v1 * _K1, x + w0)
        w0, w1 = _weak32(*q[4:8], z + w1, y + q[2])
        z, x = x, z
    mul = _K1 + ((z & _U64(0xFF)) << _U64(1))
    s = n - 64
    w0 = w0 + _U64((n - 1) & 63)
    v0 = v0 + w0
    w0 = w0 + v0
    x = _rotr(x + y + v0 + _fetch64(m, s + 8), 37) * mul
    y = _rotr(y + v1 + _fetch64(m, s + 48), 42) * mul
    x ^= w1 * _U64(9)
    y = y + v0 * _U64(9) + _fetch64(m, s + 40)
    z = _rotr(z + w0, 33) * mul
    q = [_fetch64(m, s + 8 * i) for i in range(8)]
    v0, v1 = _weak32(*q[0:4], v1 * mul, x + w0)
    w0, w1 = _weak32(*q[4:8], z + w1, y + q[2])
    z, x = x, z
    return _len16(_len16(v0, w0, mul) + _shift_mix(y) * _K0 + z, _len16(v1, w1, mul) + x, mul)


def fingerprint64(strings):
    """FarmHash's ``Fingerprint64`` of each byte string (TensorFlow's ``Fingerprint64``).

    Parameters
    ----------
    strings : sequence of bytes

    Returns
    -------
    ndarray of uint64, shape (len(strings),)

    Examples
    --------
    >>> [hex(h) for h in fingerprint64([b"", b"A"])]
    ['0x9ae16a3b2f90404f', '0xeabf3252cc3bf414']
    """
    out = np.empty(len(strings), dtype=_U64)
    for where, m in _by_length(strings):
        n = m.shape[1]
        part = _len0to16 if n <= 16 else _len17to32 if n <= 32 else \
            _len33to64 if n <= 64 else _len_over64
        out[where] = part(m, n)
    return out


# --- SipHash-2-4 -------------------------------------------------------------------------------
def _sipround(v0, v1, v2, v3):
    v0 = v0 + v1
    v1 = _rotl(v1, 13) ^ v0
    v0 = _rotl(v0, 32)
    v2 = v2 + v3
    v3 = _rotl(v3, 16) ^ v2
    v0 = v0 + v3
    v3 = _rotl(v3, 21) ^ v0
    v2 = v2 + v1
    v1 = _rotl(v1, 17) ^ v2
    v2 = _rotl(v2, 32)
    return v0, v1, v2, v3


def siphash24(strings, key):
    """SipHash-2-4 of each byte string under ``key = (k0, k1)``, the key's two little-endian
    64-bit halves (TensorFlow's ``StrongKeyedHash``).

    Parameters
    ----------
    strings : sequence of bytes
    key : pair of int in [0, 2**64)

    Returns
    -------
    ndarray of uint64, shape (len(strings),)

    Examples
    --------
    The first vector of the reference implementation (key 00 01 ... 0f, empty message):

    >>> key = (0x0706050403020100, 0x0F0E0D0C0B0A0908)
    >>> hex(siphash24([b""], key)[0])
    '0x726fdb47dd0e0e31'
    """
    k0, k1 = (_U64(int(k) & 0xFFFFFFFFFFFFFFFF) for k in key)
    out = np.empty(len(strings), dtype=_U64)
    for where, m in _by_length(strings):
        rows, n = m.shape
        v0 = np.full(rows, k0 ^ _U64(0x736F6D6570736575), dtype=_U64)
        v1 = np.full(rows, k1 ^ _U64(0x646F72616E646F6D), dtype=_U64)
        v2 = np.full(rows, k0 ^ _U64(0x6C7967656E657261), dtype=_U64)
        v3 = np.full(rows, k1 ^ _U64(0x7465646279746573), dtype=_U64)
        full = n - n % 8
        for at in range(0, full, 8):
            word = _fetch64(m, at)
            v3 ^= word
            v0, v1, v2, v3 = _sipround(*_sipround(v0, v1, v2, v3))
            v0 ^= word
        # The last block: the 0 to 7 remaining bytes, and the length's low byte on top.
        tail = np.zeros((rows, 8), dtype=np.uint8)
        tail[:, :n - full] = m[:, full:]
        tail[:, 7] = n & 0xFF
        word = _fetch64(tail, 0)
        v3 ^= word
        v0, v1, v2, v3 = _sipround(*_sipround(v0, v1, v2, v3))
        v0 ^= word
        v2 ^= _U64(0xFF)
        for _ in range(4):
            v0, v1, v2, v3 = _sipround(v0, v1, v2, v3)
        out[where] = v0 ^ v1 ^ v2 ^ v3
    return out
