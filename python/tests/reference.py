"""Pure-torch references for DeepGEMM's helpers (own code, from the spec's definitions), used to
check the library's results bit for bit."""

import torch

from swift_deepgemm.utils import align, ceil_div

FP4_BOUNDS = (0.25, 0.75, 1.25, 1.75, 2.5, 3.5, 5.0)
FP4_VALUES = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0)


def ceil_to_ue8m0(x):
    bits = x.abs().float().view(torch.int32)
    exp = ((bits >> 23) & 0xFF) + ((bits & 0x7FFFFF) != 0).int()
    return (exp.clamp(1, 254) << 23).view(torch.float32)


def _scales(amax, bound, use_ue8m0):
    sf = amax.clamp(min=1e-4) / bound
    return ceil_to_ue8m0(sf) if use_ue8m0 else sf


def per_token_cast_to_fp8(x, use_ue8m0, gran_k=128):
    m, n = x.shape
    padded = torch.zeros((m, align(n, gran_k)), dtype=torch.float32)
    padded[:, :n] = x.float()
    groups = padded.view(m, -1, gran_k)
    sf = _scales(groups.abs().amax(-1), 448.0, use_ue8m0)
    q = (groups * (1.0 / sf).unsqueeze(-1)).to(torch.float8_e4m3fn).view(m, -1)[:, :n]
    return q.contiguous(), sf


def per_block_cast_to_fp8(x, use_ue8m0, gran_k=128):
    m, n = x.shape
    padded = torch.zeros((align(m, gran_k), align(n, gran_k)), dtype=torch.float32)
    padded[:m, :n] = x.float()
    blocks = padded.view(-1, gran_k, padded.size(1) // gran_k, gran_k)
    sf = _scales(blocks.abs().amax(dim=(1, 3)), 448.0, use_ue8m0)
    q = (blocks * (1.0 / sf).view(blocks.size(0), 1, blocks.size(2), 1)).to(torch.float8_e4m3fn)
    return q.view_as(padded)[:m, :n].contiguous(), sf


def fp4_codes(x):
    magnitude = x.abs()
    code = torch.zeros_like(x, dtype=torch.uint8)
    for bound in FP4_BOUNDS:
        code += (magnitude > bound).to(torch.uint8)
    code = torch.where(torch.isnan(x), torch.zeros_like(code), code)
    return code | (((x < 0) & (code != 0)).to(torch.uint8) << 3)


def pack_fp4(codes):
    return (codes[..., 0::2] | (codes[..., 1::2] << 4)).view(torch.int8)


def per_token_cast_to_fp4(x, use_ue8m0, gran_k=128):
    m, n = x.shape
    padded = torch.zeros((m, align(n, gran_k)), dtype=torch.float32)
    padded[:, :n] = x.float()
    groups = padded.view(m, -1, gran_k)
    sf = _scales(groups.abs().amax(-1), 6.0, use_ue8m0)
    codes = fp4_codes(groups * (1.0 / sf).unsqueeze(-1)).view(m, -1)[:, :n]
    return pack_fp4(codes).contiguous(), sf


def unpack_fp4(packed):
    u = packed.view(torch.uint8)
    codes = torch.stack([u & 0xF, u >> 4], dim=-1).flatten(-2)
    values = torch.tensor(FP4_VALUES)[(codes & 7).long()]
    return torch.where((codes & 8) != 0, -values, values)


def pack_ue8m0(sf):
    """f32 powers of two [..., n] -> int32 [..., ceil(n/4)] (exponent bytes, little-endian, zero tail)."""
    n = sf.size(-1)
    exps = torch.zeros((*sf.shape[:-1], align(n, 4)), dtype=torch.uint8)
    exps[..., :n] = (sf.contiguous().view(torch.int32) >> 23).to(torch.uint8)
    return exps.view(torch.int32)


def mn_major_packed_ue8m0(sf):
    """get_mn_major_tma_aligned_packed_ue8m0_tensor's values and layout for a 2-D/3-D f32 SF."""
    squeeze = sf.dim() == 2
    sf3 = sf.unsqueeze(0) if squeeze else sf
    b, mn, sk = sf3.shape
    packed = pack_ue8m0(sf3)
    aligned = align(mn, 4)
    out = torch.empty_strided((b, mn, ceil_div(sk, 4)), (ceil_div(sk, 4) * aligned, 1, aligned), dtype=torch.int32)
    out.copy_(packed)
    return out.squeeze(0) if squeeze else out
