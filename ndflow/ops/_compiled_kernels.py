"""The numba kernels behind `ops/compiled.py`, in their own module so that `import ndflow`
does not read (or, without bytecode files, compile) their source: `compiled.kernels()` imports
this module and numba on the first kernel call."""


def build(numba):
    """Compiles (or loads from numba's disk cache) every kernel; returns them as a namespace."""
    import numpy as np  # noqa: PLC0415 - kernels are numba code: numba compiles NumPy
    from numba.core import types  # noqa: PLC0415
    from numba.extending import intrinsic  # noqa: PLC0415

    # error_model="numpy": a float division by zero gives inf/nan (as NumPy), no check per
    # element (Python's ZeroDivisionError check stops the loops from vectorizing)
    jit = numba.njit(nogil=True, cache=True, error_model="numpy")

    @jit
    def bias_max_pool_2x2(conv, bias, sh, sw, relu, out, choice):
        """2x2 windows (the common case): the four taps in registers, the choice by
        arithmetic (no branch: random data would mispredict half the time). 10x faster than
        the general loop below."""
        batch, _, _, channels = conv.shape
        out_h, out_w = out.shape[1], out.shape[2]
        zero = np.zeros(1, conv.dtype)[0]
        for b in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    h0 = oh * sh
                    w0 = ow * sw
                    s0 = conv[b, h0, w0]
                    s1 = conv[b, h0, w0 + 1]
                    s2 = conv[b, h0 + 1, w0]
                    s3 = conv[b, h0 + 1, w0 + 1]
                    dst = out[b, oh, ow]
                    picked = choice[b, oh, ow]
                    for c in range(channels):
                        shift = bias[c]
                        a0 = s0[c] + shift
                        a1 = s1[c] + shift
                        a2 = s2[c] + shift
                        a3 = s3[c] + shift
                        top = max(a0, a1)
                        bottom = max(a2, a3)
                        first = np.int32(a1 > a0)
                        second = 2 + np.int32(a3 > a2)
                        pick = first + np.int32(bottom > top) * (second - first)
                        best = max(top, bottom)
                        dst[c] = max(best, zero) if relu else best
                        picked[c] = pick

    @jit
    def bias_max_pool(conv, bias, kh, kw, sh, sw, relu, out, choice):
        """Any non-overlapping windows: the running maximum and its tap per channel, updated
        tap by tap without branches."""
        batch, _, _, channels = conv.shape
        out_h, out_w = out.shape[1], out.shape[2]
        best = np.empty(channels, conv.dtype)
        pick = np.zeros(channels, np.int32)
        zero = np.zeros(1, conv.dtype)[0]
        for b in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    h0 = oh * sh
                    w0 = ow * sw
                    source = conv[b, h0, w0]
                    for c in range(channels):
                        best[c] = source[c] + bias[c]
                        pick[c] = 0
                    for tap in range(1, kh * kw):
                        source = conv[b, h0 + tap // kw, w0 + tap % kw]
                        for c in range(channels):
                            value = source[c] + bias[c]
                            old = best[c]
                            best[c] = max(value, old)
                            pick[c] += np.int32(value > old) * (tap - pick[c])
                    dst = out[b, oh, ow]
                    picked = choice[b, oh, ow]
                    for c in range(channels):
                        dst[c] = max(best[c], zero) if relu else best[c]
                        picked[c] = pick[c]

    def bias_max_pool_any(conv, bias, kh, kw, sh, sw, relu, out, choice):
        """out = max over each window of (conv + bias) [then ReLU] and choice = the window's
        first-maximum tap (row-major), as TF picks it; channels-last, non-overlapping windows
        (pool.routes_by_choice). A window holding NaN gets an unspecified maximum and tap."""
        if kh == 2 and kw == 2:
            bias_max_pool_2x2(conv, bias, sh, sw, relu, out, choice)
        else:
            bias_max_pool(conv, bias, kh, kw, sh, sw, relu, out, choice)

    @jit
    def max_pool_grad_by_choice(choice, dy, kh, kw, sh, sw, dx):
        """dx's window elements get dy where the window chose them, 0 elsewhere (elements no
        window reaches are left as they are: the caller zeroes them)."""
        batch, out_h, out_w, channels = dy.shape
        zero = np.zeros(1, dx.dtype)[0]
        for b in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    for tap in range(kh * kw):
                        row = oh * sh + tap // kw
                        col = ow * sw + tap % kw
                        for c in range(channels):
                            if choice[b, oh, ow, c] == tap:
                                dx[b, row, col, c] = dy[b, oh, ow, c]
                            else:
                                dx[b, row, col, c] = zero

    @jit
    def col2im(cols, kh, kw, sh, sw, dh, dw, pad_top, pad_left, dx):
        """dx (zeroed here) += each tap's block of `cols` (batch, out_h, out_w, kh * kw, C) at
        its shifted position: the convolution input gradient's scatter, in one pass over dx
        while the chunk is in cache (NumPy needs a read-modify-write pass per tap)."""
        batch, out_h, out_w, _, channels = cols.shape
        height, width = dx.shape[1], dx.shape[2]
        dx[:] = 0
        for b in range(batch):
            for oh in range(out_h):
                for ow in range(out_w):
                    for tap in range(kh * kw):
                        row = oh * sh + (tap // kw) * dh - pad_top
                        col = ow * sw + (tap % kw) * dw - pad_left
                        if row < 0 or row >= height or col < 0 or col >= width:
                            continue
                        source = cols[b, oh, ow, tap]
                        target = dx[b, row, col]
                        for c in range(channels):
                            target[c] += source[c]

    @jit
    def adam(var, m, v, g, alpha, one_minus_beta1, one_minus_beta2, epsilon, beta1, nesterov,
             new_var, new_m, new_v):
        """One pass of the Adam update over flat arrays, with the NumPy path's operations in
        its order and precision (no fused multiply-add: the results are bit-identical)."""
        for i in range(var.shape[0]):
            grad = g[i]
            old_m = m[i]
            old_v = v[i]
            moment = (grad - old_m) * one_minus_beta1 + old_m
            second = (grad * grad - old_v) * one_minus_beta2 + old_v
            denominator = np.sqrt(second) + epsilon
            if nesterov:
                step = (grad * one_minus_beta1 + beta1 * moment) * alpha
            else:
                step = moment * alpha
            new_m[i] = moment
            new_v[i] = second
            new_var[i] = var[i] - step / denominator

    @jit
    def _philox_row(c0, c1, c2, c3, key0, key1, row):
        """One block of Philox4x32-10 (ops/_philox.py's rounds) into `row`, every value a
        uint64 holding 32 bits (mixing signed and unsigned integers would make numba compute in
        float64)."""
        mul_a = np.uint64(0xD2511F53)
        mul_b = np.uint64(0xCD9E8D57)
        bump_a = np.uint64(0x9E3779B9)
        bump_b = np.uint64(0xBB67AE85)
        low = np.uint64(0xFFFFFFFF)
        shift = np.uint64(32)
        k0 = key0
        k1 = key1
        for _ in range(10):
            product_a = mul_a * c0
            product_b = mul_b * c2
            c0 = (product_b >> shift) ^ c1 ^ k0
            c1 = product_b & low
            c2 = (product_a >> shift) ^ c3 ^ k1
            c3 = product_a & low
            k0 = (k0 + bump_a) & low
            k1 = (k1 + bump_b) & low
        row[0] = np.uint32(c0)
        row[1] = np.uint32(c1)
        row[2] = np.uint32(c2)
        row[3] = np.uint32(c3)

    @jit
    def philox_run(low, high, key0, key1, out):
        """Philox4x32-10 of the counters low + i (a 128-bit counter: 64-bit halves, the low
        half carrying into the high), for each row i of `out`: the counters are made here
        instead of by ~10 NumPy calls."""
        mask = np.uint64(0xFFFFFFFF)
        shift = np.uint64(32)
        for i in range(out.shape[0]):
            counter = low + np.uint64(i)
            carry = np.uint64(1) if counter < low else np.uint64(0)
            top = high + carry
            _philox_row(counter & mask, counter >> shift, top & mask, top >> shift, key0, key1,
                        out[i])

    @jit
    def philox(counters, key0, key1, out):
        """Philox4x32-10 of each (4,) uint32 counter row under the key (two uint64 holding
        32-bit words)."""
        for i in range(counters.shape[0]):
            _philox_row(np.uint64(counters[i, 0]), np.uint64(counters[i, 1]),
                        np.uint64(counters[i, 2]), np.uint64(counters[i, 3]), key0, key1,
                        out[i])

    @jit
    def lstm_cell_grad(gates, c_prev, dh, dc, dz, dc_prev):
        """The LSTM cell's gradient up to its two products: dz (the pre-activation gradient)
        and dc_prev, from the saved gates; NumPy's operations in NumPy's order."""
        units = dh.shape[1]
        one = np.ones(1, gates.dtype)[0]
        for b in range(dh.shape[0]):
            g_i, g_f, g_c = gates[b, :units], gates[b, units:2 * units], gates[b, 2 * units:3 * units]
            g_o, g_s = gates[b, 3 * units:4 * units], gates[b, 4 * units:]
            d_i, d_f = dz[b, :units], dz[b, units:2 * units]
            d_c, d_o = dz[b, 2 * units:3 * units], dz[b, 3 * units:]
            dh_row, dc_row, previous, out_row = dh[b], dc[b], c_prev[b], dc_prev[b]
            for u in range(units):
                i = g_i[u]
                f = g_f[u]
                candidate = g_c[u]
                o = g_o[u]
                squashed = g_s[u]
                dcs = (one - squashed * squashed) * (dh_row[u] * o) + dc_row[u]
                d_i[u] = dcs * candidate * ((one - i) * i)
                d_f[u] = dcs * previous[u] * ((one - f) * f)
                d_c[u] = dcs * i * (one - candidate * candidate)
                d_o[u] = dh_row[u] * squashed * ((one - o) * o)
                out_row[u] = dcs * f

    @jit
    def segment_sum_rows(ids, rows, out):
        """out[ids[i]] += rows[i] in index order (negative ids dropped): an embedding
        gradient's scatter in one pass, where NumPy needs a sort and a pass per repeat."""
        for i in range(ids.shape[0]):
            segment = ids[i]
            if segment < 0:
                continue
            target = out[segment]
            source = rows[i]
            for k in range(rows.shape[1]):
                target[k] += source[k]

    @intrinsic
    def _float32_from_bits(typingctx, bits):
        """The float32 whose IEEE bits are the int32 `bits` (a free reinterpretation)."""
        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], context.get_value_type(types.float32))

        return types.float32(types.int32), codegen

    @jit
    def exp32(x):
        """float32 exp that vectorizes (NumPy's float32 exp is ~3x slower on AVX2 here):
        x = n ln 2 + r with |r| <= ln 2 / 2, then Cephes' degree-6 polynomial for exp(r) and
        2^n from its exponent bits. Within 1 ulp of exp for -87.3 <= x <= 88.7; inf above,
        about 1e-38 below (where it feeds sigmoid and tanh, both at their limits there)."""
        x = min(max(x, np.float32(-87.33654)), np.float32(88.8))
        n = np.float32(np.floor(x * np.float32(1.44269504088896341) + np.float32(0.5)))
        r = x - n * np.float32(0.693359375)
        r = r - n * np.float32(-2.12194440e-4)
        p = np.float32(1.9875691500e-4)
        p = p * r + np.float32(1.3981999507e-3)
        p = p * r + np.float32(8.3334519073e-3)
        p = p * r + np.float32(4.1665795894e-2)
        p = p * r + np.float32(1.6666665459e-1)
        p = p * r + np.float32(5.0000001201e-1)
        p = p * r * r + r + np.float32(1)
        # 2^n from its exponent bits; for n > 0 as 2 * 2^(n - 1), since 2^128 overflows
        # although p * 2^128 need not (n runs from -126 to 128 after the clamp)
        power = _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))
        half_power = _float32_from_bits((np.int32(n) + np.int32(126)) << np.int32(23))
        return (p * np.float32(2)) * half_power if n > 0 else p * power

    @jit
    def exp32_array(values, out):
        """out = exp32(values), element by element (1-D float32)."""
        for i in range(values.shape[0]):
            out[i] = exp32(values[i])

    @jit
    def lstm_cell_float32(z, x, c_prev, gates, c, h):
        """The whole float32 LSTM step after its product `z = h_prev @ w`: z + x, the gates
        (sigmoid(v) = 1 / (1 + exp(-v)), tanh(v) = 2 / (1 + exp(-2v)) - 1), c and h, in one
        pass with the vectorizing exp32 (3x fewer microseconds than NumPy's calls; within a
        few float32 ulps of them)."""
        units = c.shape[1]
        one = np.float32(1)
        two = np.float32(2)
        for b in range(c.shape[0]):
            # one-dimensional row slices: with 2-D indexing at computed offsets LLVM cannot
            # tell the stores from the loads and does not vectorize (165 -> 28 us)
            z_i, z_f = z[b, :units], z[b, units:2 * units]
            z_c, z_o = z[b, 2 * units:3 * units], z[b, 3 * units:]
            x_i, x_f = x[b, :units], x[b, units:2 * units]
            x_c, x_o = x[b, 2 * units:3 * units], x[b, 3 * units:]
            g_i, g_f, g_c = gates[b, :units], gates[b, units:2 * units], gates[b, 2 * units:3 * units]
            g_o, g_s = gates[b, 3 * units:4 * units], gates[b, 4 * units:]
            previous, state_row, out_row = c_prev[b], c[b], h[b]
            for u in range(units):
                i = one / (one + exp32(-(z_i[u] + x_i[u])))
                f = one / (one + exp32(-(z_f[u] + x_f[u])))
                candidate = two / (one + exp32(-two * (z_c[u] + x_c[u]))) - one
                o = one / (one + exp32(-(z_o[u] + x_o[u])))
                state = f * previous[u] + i * candidate
                squashed = two / (one + exp32(-two * state)) - one
                g_i[u] = i
                g_f[u] = f
                g_c[u] = candidate
                g_o[u] = o
                g_s[u] = squashed
                state_row[u] = state
                out_row[u] = o * squashed

    class Kernels:
        pass

    found = Kernels()
    found.bias_max_pool = bias_max_pool_any
    found.max_pool_grad_by_choice = max_pool_grad_by_choice
    found.col2im = col2im
    found.adam = adam
    found.philox = philox
    found.philox_run = philox_run
    found.lstm_cell_grad = lstm_cell_grad
    found.segment_sum_rows = segment_sum_rows
    found.exp32_array = exp32_array
    found.lstm_cell_float32 = lstm_cell_float32
    return found
