import torch
from torch import nn

from metaframe.params import AdamDivide, DifferentiableAdam, DifferentiableSGD, average, interpolate, restore, snapshot


def test_interpolate_and_average_skip_integer_buffers():
    a = {"w": torch.tensor([0.0, 2.0]), "n": torch.tensor(3)}
    b = {"w": torch.tensor([2.0, 4.0]), "n": torch.tensor(7)}
    torch.testing.assert_close(interpolate(a, b, 0.25)["w"], torch.tensor([0.5, 2.5]))
    assert interpolate(a, b, 0.25)["n"] == 3
    torch.testing.assert_close(average([a, b])["w"], torch.tensor([1.0, 3.0]))
    assert average([a, b])["n"] == 3


def test_snapshot_restore_round_trip_includes_buffers():
    networks = nn.ModuleDict({"net": nn.BatchNorm1d(2)})
    saved = snapshot(networks)
    networks["net"].running_mean.add_(5)
    networks["net"].weight.data.mul_(3)
    restore(networks, saved)
    assert torch.equal(networks["net"].running_mean, torch.zeros(2))
    assert torch.equal(networks["net"].weight, torch.ones(2))


def run_torch(optimizer_cls, kwargs, params, grads_per_step, factors):
    p = params.clone().requires_grad_()
    optimizer = optimizer_cls([p], **kwargs)
    for grad, factor in zip(grads_per_step, factors):
        optimizer.param_groups[0]["lr"] = kwargs["lr"] * factor
        p.grad = grad.clone()
        optimizer.step()
    return p.detach()


def run_ours(optimizer, params, grads_per_step, factors):
    fast = {"p": params.clone()}
    state = optimizer.init(fast)
    for grad, factor in zip(grads_per_step, factors):
        fast = optimizer.update(fast, {"p": grad}, state, factor)
    return fast["p"]


def test_differentiable_optimizers_equal_torch_optim():
    torch.manual_seed(0)
    params = torch.randn(5)
    grads = [torch.randn(5) for _ in range(4)]
    grads[1][2] = 0.0  # a zero gradient must not produce NaN or differ
    factors = [1.0, 1.0, 0.5, 0.25]
    torch.testing.assert_close(
        run_ours(DifferentiableSGD(0.1), params, grads, factors),
        run_torch(torch.optim.SGD, {"lr": 0.1}, params, grads, factors),
    )
    torch.testing.assert_close(
        run_ours(DifferentiableAdam(0.01, (0.5, 0.999)), params, grads, factors),
        run_torch(torch.optim.Adam, {"lr": 0.01, "betas": (0.5, 0.999)}, params, grads, factors),
    )


def test_differentiable_adam_has_finite_second_derivatives_at_zero_gradient():
    w = torch.tensor([1.0, 0.0], requires_grad=True)
    optimizer = DifferentiableAdam(0.1)
    state = optimizer.init({"w": w})
    grad = torch.autograd.grad((w[0] ** 2), [w], create_graph=True)[0]  # grad of w[1] is exactly 0
    new = optimizer.update({"w": w}, {"w": grad}, state, 1.0)["w"]
    (second,) = torch.autograd.grad(new.sum(), [w])
    assert torch.isfinite(second).all()


def test_adam_divide_backward_equals_autograd_of_the_same_formula():
    torch.manual_seed(0)
    p, m = torch.randn(6, dtype=torch.double), torch.randn(6, dtype=torch.double)
    v = torch.rand(6, dtype=torch.double) + 0.1
    inputs = [t.clone().requires_grad_() for t in (p, m, v)]
    assert torch.autograd.gradcheck(lambda p, m, v: AdamDivide.apply(p, m, v, -0.3, 0.7, 1e-8), inputs)
    assert torch.autograd.gradgradcheck(lambda p, m, v: AdamDivide.apply(p, m, v, -0.3, 0.7, 1e-8), inputs)
    ours = torch.autograd.grad(AdamDivide.apply(*inputs, -0.3, 0.7, 1e-8).sum(), inputs)
    plain = torch.autograd.grad(
        torch.addcdiv(inputs[0], inputs[1], inputs[2].sqrt() / 0.7 + 1e-8, value=-0.3).sum(), inputs
    )
    for a, b in zip(ours, plain):
        torch.testing.assert_close(a, b)


def test_adam_divide_gives_zero_not_nan_where_the_second_moment_is_zero():
    inputs = [
        torch.ones(2, requires_grad=True),
        torch.ones(2, requires_grad=True),
        torch.tensor([0.0, 4.0], requires_grad=True),
    ]
    grads = torch.autograd.grad(AdamDivide.apply(*inputs, -0.1, 1.0, 1e-8).sum(), inputs)
    assert all(torch.isfinite(g).all() for g in grads) and grads[2][0] == 0 and grads[2][1] != 0
