"""K copies of one network as one batched computation: parameters stacked along a leading member axis.

The vectorized trainer (``engine.training.vectorized``) trains K members that differ only in seed.  Each
member's network is built exactly as its single run builds it; :class:`StackedNetwork` stacks their
parameters ``theta[k]`` and buffers into tensors of shape ``(K, *shape)`` and runs the forward pass of all K
at once, layer by layer, with batched forms of the same torch kernels:

* ``Linear``: ``y[k] = x[k] W[k]^T + b[k]`` as one ``baddbmm`` over the member axis (each slice is the
  same GEMM a single run's ``F.linear`` does: measured bit-equal);
* ``Conv2d``, ``BatchNorm``, ``GroupNorm``, ``MaxPool2d`` on images laid out ``(B, K*C, H, W)``: member k's
  channels are a block of C, so a grouped convolution (``groups=K``), a BatchNorm over K*C channels and a
  GroupNorm of ``K*G`` groups are, block by block, the member's own layer; running statistics are the
  stacked buffers, updated in place as the single run's are;
* ``BatchNorm1d`` on ``(K, B, F)``: laid out ``(B, K*F)`` for the same kernel;
* ``LayerNorm``: normalized without affine, then ``* gamma[k] + beta[k]`` (equal to float32 rounding);
* elementwise activations: the module itself;
* ``Dropout``: ``x * mask``, member k's mask drawn from member k's own generator exactly as torch's CPU
  dropout draws it (``empty_like(x).bernoulli_(1 - p).div_(1 - p)``, one per layer in forward order),
  so every member sees the masks its single run sees.

A layer without a batched form here makes :func:`unsupported_layer` name it, and the run falls back to
the sequential members (correct, K times the cost).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from engine.model.models import activation_probes

#: Layers that act on each number alone: the module applies to the stacked tensor as it is.
ELEMENTWISE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.Identity, nn.LeakyReLU, nn.ELU, nn.SiLU, nn.Softplus)
_BATCHED = (nn.Linear, nn.Conv2d, nn.Flatten, nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.LayerNorm,
            nn.GroupNorm, nn.MaxPool2d)


def leaf_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules with no children, in forward order (a Sequential of Sequentials)."""
    return [(name, m) for name, m in model.named_modules() if not list(m.children())]


def unsupported_layer(model: nn.Module) -> str | None:
    """The first layer of ``model`` with no batched form here (its name and type), or None."""
    for name, module in leaf_modules(model):
        if not isinstance(module, ELEMENTWISE_LAYERS + _BATCHED):
            return f"{name} ({type(module).__name__})"
        if isinstance(module, nn.Flatten) and (module.start_dim, module.end_dim) != (1, -1):
            return f"{name} (Flatten of dims {module.start_dim}..{module.end_dim})"
    return None


class ForwardContext:
    """What one forward pass needs besides the input: train or eval, the members' dropout generators,
    and (on a histogram tick) the per-member activation sums ``n, sum a, sum a^2`` of each probed layer."""

    def __init__(self, training: bool, generators: list[torch.Generator] | None = None,
                 record: bool = False):
        self.training = training
        self.generators = generators
        self.sums: dict[str, torch.Tensor] | None = {} if record else None


Op = Callable[[torch.Tensor, ForwardContext], torch.Tensor]


class StackedNetwork:
    """K members' copies of ``models[0]``'s architecture, with ``models[k]``'s weights in slice ``k``."""

    def __init__(self, models: Sequence[nn.Module], input_shape: tuple[int, ...]):
        template = models[0]
        self.K = len(models)
        self.input_shape = tuple(input_shape)
        self.template = template
        self.names = [name for name, _ in template.named_parameters()]
        with torch.no_grad():
            self.params: list[torch.Tensor] = [
                torch.stack([dict(m.named_parameters())[n].detach() for m in models]).requires_grad_()
                for n in self.names]
            self.buffer_names = [name for name, _ in template.named_buffers()]
            self.buffers: list[torch.Tensor] = [
                torch.stack([dict(m.named_buffers())[n] for m in models]) for n in self.buffer_names]
        param_index = {n: i for i, n in enumerate(self.names)}
        buffer_index = {n: i for i, n in enumerate(self.buffer_names)}
        probes = {id(module): name for name, module in activation_probes(template)}
        self.probe_names = [name for name, _ in activation_probes(template)]
        self.ops: list[Op] = []
        for name, module in leaf_modules(template):
            prefix = f"{name}." if name else ""
            p = {k: self.params[param_index[prefix + k]] for k, _ in module.named_parameters(recurse=False)}
            b = {k: self.buffers[buffer_index[prefix + k]] for k, _ in module.named_buffers(recurse=False)}
            self.ops.append(self._op(module, p, b, probes.get(id(module))))

    # -- the batched layers ---------------------------------------------------------------------

    def _op(self, m: nn.Module, p: dict, b: dict, probe: str | None) -> Op:
        K = self.K
        if isinstance(m, nn.Linear):
            w, bias = p["weight"], p.get("bias")

            def linear(x, ctx):
                if bias is None:
                    return torch.bmm(x, w.transpose(1, 2))
                return torch.baddbmm(bias.unsqueeze(1), x, w.transpose(1, 2))
            return linear
        if isinstance(m, nn.Conv2d):
            w, bias = p["weight"], p.get("bias")

            def conv(x, ctx):
                x = _grouped(x, K)
                return F.conv2d(x, w.reshape(-1, *w.shape[2:]), None if bias is None else bias.reshape(-1),
                                m.stride, m.padding, m.dilation, m.groups * K)
            return conv
        if isinstance(m, nn.Flatten):
            return lambda x, ctx: _flat(x, K)
        if isinstance(m, nn.Dropout):
            return lambda x, ctx: _dropout(x, m.p, ctx)
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            return self._batch_norm(m, p, b)
        if isinstance(m, nn.LayerNorm):
            shape = tuple(m.normalized_shape)
            w, bias = p.get("weight"), p.get("bias")
            view = (K, 1) + shape

            def layer_norm(x, ctx):
                y = F.layer_norm(x, shape, None, None, m.eps)
                if w is not None:
                    y = y * w.reshape(view)
                if bias is not None:
                    y = y + bias.reshape(view)
                return y
            return layer_norm
        if isinstance(m, nn.GroupNorm):
            w, bias = p.get("weight"), p.get("bias")
            return lambda x, ctx: F.group_norm(_grouped(x, K), m.num_groups * K,
                                               None if w is None else w.reshape(-1),
                                               None if bias is None else bias.reshape(-1), m.eps)
        if isinstance(m, nn.MaxPool2d):
            return lambda x, ctx: m(_grouped(x, K))
        assert isinstance(m, ELEMENTWISE_LAYERS), type(m)   # unsupported_layer() let nothing else in
        if probe is None:
            return lambda x, ctx: m(x)

        def act(x, ctx):
            y = m(x)
            if ctx.sums is not None:
                ctx.sums[probe] = ctx.sums.get(probe, 0) + _moments(y, K)
            return y
        return act

    def _batch_norm(self, m, p: dict, b: dict) -> Op:
        K = self.K
        w, bias = p.get("weight"), p.get("bias")
        mean, var, count = b.get("running_mean"), b.get("running_var"), b.get("num_batches_tracked")

        def flat(t):
            return None if t is None else t.reshape(-1)

        def batch_norm(x, ctx):
            dense = x.dim() == 3
            if dense:          # (K, B, F) -> (B, K*F): member k's features are a block of the channels
                x = ContiguousGrad.apply(x).transpose(0, 1).reshape(x.shape[1], -1)
            else:
                x = _grouped(x, K)
            train = ctx.training or mean is None
            if ctx.training and count is not None:
                count.add_(1)
            momentum = 0.0 if m.momentum is None else m.momentum
            if ctx.training and m.momentum is None and count is not None:
                momentum = 1.0 / float(count[0])
            y = F.batch_norm(x, flat(mean), flat(var), flat(w), flat(bias), train, momentum, m.eps)
            return y.reshape(y.shape[0], K, -1).transpose(0, 1) if dense else y
        return batch_norm

    # -- running it -----------------------------------------------------------------------------

    def forward(self, x: torch.Tensor, ctx: ForwardContext) -> torch.Tensor:
        """Logits ``(K, B, classes)`` of member batches ``x`` ``(K, B, *input)`` (or one batch ``(B, *input)``
        that every member reads, for evaluation)."""
        if x.dim() == 1 + len(self.input_shape):
            x = x.unsqueeze(0).expand(self.K, *x.shape)
        for op in self.ops:
            x = op(x, ctx)
        return x

    def member_tensors(self, k: int) -> dict[str, torch.Tensor]:
        """Member ``k``'s parameters and buffers by name, as views (its single run's ``state_dict``)."""
        out = {n: t[k] for n, t in zip(self.names, self.params)}
        out.update({n: t[k] for n, t in zip(self.buffer_names, self.buffers)})
        return out


class ContiguousGrad(torch.autograd.Function):
    """The identity, whose backward hands the gradient on contiguous.

    A layer laid out ``(B, K*F)`` (BatchNorm) sends back its input's gradient transposed, ``(K, B, F)``
    with strides ``(F, K*F, 1)``; the layer before sums it over the batch for its bias, and a sum over a
    strided tensor adds in another order than the single run's sum over its contiguous ``(B, F)``.  That
    sum is a bias before BatchNorm, whose true gradient is 0: its value is rounding alone, which Adam
    divides by its own size, so the order must be the single run's to the bit."""

    @staticmethod
    def forward(ctx, x):
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return grad.contiguous()


def _grouped(x: torch.Tensor, K: int) -> torch.Tensor:
    """The image layout ``(B, K*C, H, W)`` of member batches ``(K, B, C, H, W)`` (4-D input is already it)."""
    if x.dim() == 5:
        return x.transpose(0, 1).reshape(x.shape[1], K * x.shape[2], *x.shape[3:])
    return x


def _flat(x: torch.Tensor, K: int) -> torch.Tensor:
    """Flatten each example: ``(K, B, F)`` from ``(B, K*C, H, W)``, ``(K, B, *shape)`` or ``(K, B, F)``."""
    if x.dim() == 4:
        return x.reshape(x.shape[0], K, -1).transpose(0, 1)
    return x.reshape(x.shape[0], x.shape[1], -1)


def _dropout(x: torch.Tensor, p: float, ctx: ForwardContext) -> torch.Tensor:
    """Inverted dropout with member k's own draws, as torch's CPU ``F.dropout`` makes them: a mask
    ``empty_like(x_k).bernoulli_(1 - p) / (1 - p)`` from the member's generator, then ``x_k * mask``."""
    if not ctx.training or p == 0:
        return x
    assert ctx.generators is not None and x.dim() == 3
    if p == 1:
        return x * torch.zeros((), dtype=x.dtype)
    masks = torch.stack([torch.empty(x.shape[1:], dtype=x.dtype).bernoulli_(1 - p, generator=g).div_(1 - p)
                         for g in ctx.generators])
    return x * masks


def _moments(y: torch.Tensor, K: int) -> torch.Tensor:
    """Per member ``(n, sum a, sum a^2)`` in float64, shape ``(K, 3)``, of dense ``(K, B, F)`` or image
    ``(B, K*C, H, W)`` activations."""
    y = y.detach().double()
    per = y.reshape(K, -1) if y.dim() == 3 else y.reshape(y.shape[0], K, -1).transpose(0, 1).reshape(K, -1)
    n = torch.full((K,), float(per.shape[1]), dtype=torch.float64)
    return torch.stack([n, per.sum(1), (per * per).sum(1)], dim=1)
