"""Codes as bytes and back: the format behind ``compress_rows`` and ``compress_image``.

Two ways to quantise a fitted estimator's codes:

- ``bits``: each component uniformly to ``bits`` between its extremes over
  the rows. Fits a short code of a whole image (a digit), where every
  component carries about as much as any other.
- ``step`` (transform coding): each component is put in the units of what
  it changes in the decoded row (the decoder's sensitivity to it, measured
  here by finite differences), all are rounded at one common ``step`` with
  a dead zone, and each row's components are written in order of their
  power, up to its last non-zero one. Fits a complete code of patches whose
  components are orthonormal and ordered (the DCT's, ``PatchDCT``, or PCA's
  with every component), where most components of most patches round to
  zero: JPEG's scheme with one step for every coefficient, a dead zone,
  decoding places and LZMA in place of quantisation and Huffman tables.

Either is followed, on request, by a residual: what the decoded codes miss,
rounded to ``residual_step``. Plain functions on arrays and bytes; the
estimator is only asked for ``transform`` and ``inverse_transform``.
"""

from __future__ import annotations

import lzma
import math
import struct

import numpy as np

_MAGIC = b"AEC1"
# The same, then a residual: the codes' section is followed by its correction.
_MAGIC_RESIDUAL = b"AEC2"
# magic, height, width, channels (0: grey, no channel axis), rows; 0 x 0 for rows
_HEADER = struct.Struct("<4sIIBI")
# n_components, bits (0 with a step), coder (0 packed bits, 1 LZMA of bytes,
# 2 transform coding at a step)
_CODES = struct.Struct("<HBB")
_PACKED, _LZMA, _STEP = 0, 1, 2
# transform coding: step, bytes per symbol (1 or 2), bytes per float (2 or
# 4), the restorer's check; then per component its offset and scale (float16 where they fit, else
# float32), its place in the order (uint8 up to 256 components) and where in
# their cells its levels decode (uint8): on a 512x512 photo, 64 components'
# 6 bytes cost 0.006 bits per pixel.
_STEPPED = struct.Struct("<dBBB")
# The last byte of _STEPPED: whether the writer found that its restorer
# improves these codes' decoding (see compress_image).
_UNCHECKED, _RESTORE, _KEEP = 0, 1, 2
# residual step, bytes per residual symbol (1 or 2); then the codes' length
_RESIDUAL = struct.Struct("<dB")
_LENGTH = struct.Struct("<I")
# Raw LZMA2 (no container, no checksum): the header above says what it holds.
_LZMA_FILTERS = [{"id": lzma.FILTER_LZMA2, "preset": 9 | lzma.PRESET_EXTREME}]
_DEFAULT_BITS = 6
# Transform coding's dead zone: a coefficient c rounds to
# sign(c) * floor(|c| / step + _ROUNDING), so it stays 0 until 0.7 of a step
# and every level is reached 0.2 of a step late. Chosen on camera (half A:
# PCA codes of 8x8 patches, rounding offsets 0.25-0.5 and reconstruction
# shrinks 0-0.15 of a step, against JPEG at equal rates over 0.1-1.5 bits
# per pixel), confirmed on the photos of half B (docs, Benchmarks).
_ROUNDING = 0.3
# Rows the decoder's sensitivity is measured on, and the values per call.
_PROBE_ROWS = 256
_PROBE_VALUES = 1 << 20


def compression_mode(bits, step):
    """``(bits, step)`` checked: one of them, ``bits`` by default."""
    if step is not None and bits is not None:
        raise ValueError("give bits (codes quantised between their extremes) or step "
                         "(transform coding), not both")
    if step is not None:
        return None, _positive(step, "step")
    bits = _DEFAULT_BITS if bits is None else bits
    if not (isinstance(bits, (int, np.integer)) and 1 <= int(bits) <= 16):
        raise ValueError(f"bits must be an integer in [1, 16], got {bits!r}")
    return int(bits), None


def _positive(value, name):
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan
    if not (math.isfinite(number) and number > 0):
        raise ValueError(f"{name} must be a positive number or None, got {value!r}")
    return number


def check_residual_step(residual_step):
    """The residual's step as a float, or None."""
    return None if residual_step is None else _positive(residual_step, "residual_step")


# -- codes between their extremes (bits) -------------------------------------

def _pack_bits(codes, bits):
    """Codes quantised to ``bits`` between each component's extremes, as bytes."""
    low = codes.min(axis=0).astype(np.float32)
    high = codes.max(axis=0).astype(np.float32)
    span = np.where(high > low, high - low, 1.0).astype(np.float64)
    levels = (1 << bits) - 1
    q = np.rint((codes - low) / span * levels).clip(0, levels).astype(np.uint16)
    packed = np.packbits(((q[..., None] >> np.arange(bits - 1, -1, -1)) & 1)
                         .astype(np.uint8).ravel()).tobytes()
    # LZMA models bytes: one value per byte (two above 8 bits), component by
    # component, lets it learn each component's distribution.
    symbols = q.T.astype(np.uint8 if bits <= 8 else "<u2").tobytes()
    squeezed = _squeeze(symbols)
    coder, body = (_LZMA, squeezed) if len(squeezed) < len(packed) else (_PACKED, packed)
    return _CODES.pack(codes.shape[1], bits, coder) + low.tobytes() + high.tobytes() + body


def _unpack_bits(data, offset, k, bits, coder, n_rows):
    """``(codes, low, high)``: the decoded codes and the cell each true code lies in."""
    low = np.frombuffer(data, np.float32, k, offset).astype(np.float64)
    high = np.frombuffer(data, np.float32, k, offset + 4 * k).astype(np.float64)
    body = data[offset + 8 * k:]
    if coder == _LZMA:
        symbols = _unsqueeze(body)
        q = np.frombuffer(symbols, np.uint8 if bits <= 8 else "<u2").reshape(k, n_rows).T
    else:
        flat = np.unpackbits(np.frombuffer(body, np.uint8))[:n_rows * k * bits]
        q = (flat.reshape(n_rows, k, bits).astype(np.uint32)
             << np.arange(bits - 1, -1, -1)).sum(axis=2)
    level = np.where(high > low, high - low, 1.0) / ((1 << bits) - 1)
    codes = low + q * level
    return codes, codes - level / 2, codes + level / 2


# -- transform coding (step) ---------------------------------------------------

def decoder_scales(estimator, codes):
    """Each component's effect on the decoded row: RMS norm of d(row) / d(code)."""
    rows = codes[::max(1, len(codes) // _PROBE_ROWS)][:_PROBE_ROWS]
    k = codes.shape[1]
    # A hundredth of each component's spread: small against the decoder's
    # curvature, large against float32 rounding in a network.
    h = 1e-2 * np.where(codes.std(axis=0) > 0, codes.std(axis=0), 1.0)
    base = np.asarray(estimator.inverse_transform(rows), dtype=np.float64)
    per_call = max(1, _PROBE_VALUES // max(1, len(rows) * base.shape[1]))
    scales = np.empty(k)
    for start in range(0, k, per_call):
        moved = np.repeat(rows[None], min(per_call, k - start), axis=0)
        for i, j in enumerate(range(start, start + len(moved))):
            moved[i, :, j] += h[j]
        out = np.asarray(estimator.inverse_transform(moved.reshape(-1, k)), dtype=np.float64)
        change = out.reshape(len(moved), len(rows), -1) - base
        scales[start:start + len(moved)] = (np.sqrt((change ** 2).sum(axis=2).mean(axis=1))
                                            / h[start:start + len(moved)])
    return scales


def _layout(offsets, scales, order, codes):
    """Coefficients: codes centred, in decoded units, in order of power."""
    return ((codes - offsets) * scales)[:, order]


def _unlayout(offsets, scales, order, coefficients):
    codes = np.empty_like(coefficients)
    codes[:, order] = coefficients
    return np.divide(codes, scales, out=np.zeros_like(codes), where=scales > 0) + offsets


def _pack_steps(codes, step, scales):
    """Codes transform-coded at ``step``, as bytes (see the module's docstring)."""
    k = codes.shape[1]
    stored_floats = _floats(np.concatenate([codes.mean(axis=0), scales]))
    # The rounded values, which the reader will have, are the ones coded with.
    offsets, scales = np.split(stored_floats.astype(np.float64), 2)
    order = np.argsort(-((codes - offsets) * scales).var(axis=0), kind="stable")
    c = _layout(offsets, scales, order, codes)
    q = np.sign(c) * np.floor(np.abs(c) / step + _ROUNDING)
    top = float(np.abs(q).max(initial=0))
    if top >= np.iinfo(np.int16).max:
        raise ValueError(f"step={step!r} is too small for these codes: a coefficient reaches "
                         f"{top:.0f} steps (at most 32766); take a larger step")
    dtype = np.dtype("<i1" if top < np.iinfo(np.int8).max else "<i2")
    # Each row up to its last non-zero coefficient, then an end mark (the
    # type's lowest value, which no coefficient takes): the zeros most rows
    # end in cost nothing, as JPEG's end-of-block does.
    centres = _centres(np.abs(c) / step, np.abs(q))
    lengths = k - np.argmax(np.flip(q != 0, axis=1), axis=1)
    lengths[~(q != 0).any(axis=1)] = 0
    symbols = np.full(int(lengths.sum()) + len(q), np.iinfo(dtype).min, dtype=dtype)
    is_value = np.ones(len(symbols), dtype=bool)
    is_value[np.cumsum(lengths + 1) - 1] = False
    symbols[is_value] = q[np.arange(k) < lengths[:, None]]
    return (_CODES.pack(k, 0, _STEP)
            + _STEPPED.pack(step, dtype.itemsize, stored_floats.dtype.itemsize, _UNCHECKED)
            + stored_floats.tobytes() + order.astype(_order_type(k)).tobytes()
            + centres.tobytes() + _squeeze(symbols.tobytes()))


def _centres(magnitudes, levels):
    """Per component, where its non-zero coefficients lie in their cells, in 256ths.

    A level ``n`` covers ``[n - r, n + 1 - r)`` steps (r the rounding
    offset); decoding at the mean place its coefficients took, not at ``n``,
    is the least-squares choice: near ``n`` at coarse steps, where magnitudes
    fall steeply, and at the middle at fine ones.
    """
    inside = np.where(levels > 0, magnitudes - (levels - _ROUNDING), 0.0)
    counts = (levels > 0).sum(axis=0)
    mean = np.divide(inside.sum(axis=0), counts, out=np.full(len(counts), _ROUNDING),
                     where=counts > 0)
    return np.clip(np.rint(mean * 256), 0, 255).astype(np.uint8)


def _floats(values):
    """``values`` as float16 where that keeps them finite and keeps zeros apart, else float32."""
    half = values.astype("<f2")
    if np.isfinite(half).all() and np.array_equal(half == 0, values == 0):
        return half
    return values.astype("<f4")


def _order_type(k):
    return np.dtype("<u1" if k <= 256 else "<u2")


def _unpack_steps(data, offset, k, n_rows):
    """``(codes, low, high)``: the decoded codes and the cell each true code lies in."""
    step, width, float_width, _ = _STEPPED.unpack_from(data, offset)
    offset += _STEPPED.size
    floats = np.frombuffer(data, "<f2" if float_width == 2 else "<f4", 2 * k, offset)
    offsets, scales = np.split(floats.astype(np.float64), 2)
    offset += 2 * k * float_width
    order = np.frombuffer(data, _order_type(k), k, offset).astype(np.intp)
    offset += k * _order_type(k).itemsize
    centres = np.frombuffer(data, np.uint8, k, offset) / 256
    dtype = np.dtype("<i1" if width == 1 else "<i2")
    symbols = np.frombuffer(_unsqueeze(data[offset + k:]), dtype)
    ends = np.flatnonzero(symbols == np.iinfo(dtype).min)
    if len(ends) != n_rows:
        raise ValueError(f"these bytes hold {len(ends)} rows, their header says {n_rows}")
    lengths = np.diff(ends, prepend=-1) - 1
    q = np.zeros((n_rows, k))
    q[np.arange(k) < lengths[:, None]] = symbols[symbols != np.iinfo(dtype).min]
    # The cell of each level: [q - r, q + 1 - r) steps away from 0, and
    # (-(1 - r), 1 - r) steps for 0, where r is the rounding offset.
    inner = np.where(q == 0, -(1 - _ROUNDING), np.abs(q) - _ROUNDING)
    outer = np.where(q == 0, 1 - _ROUNDING, np.abs(q) + 1 - _ROUNDING)
    low = np.where(q < 0, -outer, inner) * step
    high = np.where(q < 0, -inner, outer) * step
    value = np.sign(q) * np.where(q == 0, 0.0, np.abs(q) - _ROUNDING + centres) * step
    codes = [_unlayout(offsets, scales, order, v) for v in (value, low, high)]
    # A component the decoder ignores (scale 0) may take any value.
    codes[1][:, scales == 0], codes[2][:, scales == 0] = -np.inf, np.inf
    return tuple(codes)


# -- sections ------------------------------------------------------------------

def pack_codes(codes, bits, step, scales=None):
    """The codes' section: by ``bits`` or, with a ``step``, transform-coded."""
    codes = np.asarray(codes, dtype=np.float64)
    if step is None:
        return _pack_bits(codes, bits)
    return _pack_steps(codes, step, scales)


def unpack_codes(section, n_rows):
    """``(codes, low, high)`` of a codes' section; the true codes lie in [low, high]."""
    k, bits, coder = _CODES.unpack_from(section, 0)
    if coder == _STEP:
        return _unpack_steps(section, _CODES.size, k, n_rows)
    return _unpack_bits(section, _CODES.size, k, bits, coder, n_rows)


def restoring(section):
    """What the writer found of its restorer: True (it helps), False, or None (not checked)."""
    k, bits, coder = _CODES.unpack_from(section, 0)
    if coder != _STEP:
        return None
    check = _STEPPED.unpack_from(section, _CODES.size)[-1]
    return None if check == _UNCHECKED else check == _RESTORE


def with_restoring(section, helps):
    """A transform-coded section that says whether restoring its decoding helps."""
    at = _CODES.size + _STEPPED.size - 1
    return section[:at] + bytes([_RESTORE if helps else _KEEP]) + section[at + 1:]


def _squeeze(symbols):
    return lzma.compress(symbols, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)


def _unsqueeze(body):
    return lzma.decompress(body, format=lzma.FORMAT_RAW, filters=_LZMA_FILTERS)


def _pack_residual(values, decoded, step):
    """What the codes missed, rounded to multiples of ``step``, LZMA-coded."""
    q = np.rint((values - decoded) / step)
    top = float(np.abs(q).max(initial=0))
    if top > np.iinfo(np.int16).max:
        raise ValueError(f"residual_step={step!r} is too small for these values: the "
                         f"residual reaches {top:.0f} steps (at most 32767); take a larger step")
    width = 1 if top <= np.iinfo(np.int8).max else 2
    # Pixel order (not component order, as for the codes): neighbouring
    # pixels' residuals are alike, which LZMA finds.
    symbols = q.astype("<i1" if width == 1 else "<i2").tobytes()
    return _RESIDUAL.pack(step, width), _squeeze(symbols)


def stored(fields, codes, values, decode, step):
    """The bytes: header, the codes' section and, with a step, the residual's."""
    if step is None:
        return _HEADER.pack(_MAGIC, *fields) + codes
    meta, body = _pack_residual(values, decode(codes), step)
    # The residual is of the decoding the reader will compute: the same
    # quantised codes through the same estimator.
    return (_HEADER.pack(_MAGIC_RESIDUAL, *fields) + meta + _LENGTH.pack(len(codes))
            + codes + body)


def sections(data):
    """``(fields, codes section, residual or None)`` of bytes written here."""
    if len(data) < _HEADER.size or data[:4] not in (_MAGIC, _MAGIC_RESIDUAL):
        raise ValueError("these bytes were not written by compress_image or compress_rows")
    magic, *fields = _HEADER.unpack_from(data)
    offset = _HEADER.size
    if magic == _MAGIC:
        return fields, data[offset:], None
    step, width = _RESIDUAL.unpack_from(data, offset)
    (n_bytes,) = _LENGTH.unpack_from(data, offset + _RESIDUAL.size)
    offset += _RESIDUAL.size + _LENGTH.size
    return fields, data[offset:offset + n_bytes], (step, width, data[offset + n_bytes:])


def with_residual(decoded, residual):
    """``decoded`` corrected by the stored residual (if any)."""
    if residual is None:
        return decoded
    step, width, body = residual
    q = np.frombuffer(_unsqueeze(body), "<i1" if width == 1 else "<i2").reshape(decoded.shape)
    return decoded + q * step
