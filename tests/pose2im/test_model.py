"""The pose2im TaskModel: adaptation, the functional objective, batch filling, scoring and pictures."""

from __future__ import annotations

import pytest
import torch

from metaframe.errors import UsageError
from metaframe.loop import adapt
from metaframe.params import snapshot
from metaframe.protocols import Capability, Task
from metaframe.testing import check_model
from metaframe_pose2im.metrics import temporal_coherence
from metaframe_pose2im.options import SCALES, scale_size
from metaframe_pose2im.samples import TITLE_HEIGHT, most_different
from tests.pose2im.conftest import CHANNELS, SIZE, make_batch, tiny


def generator_l1(model, batch) -> float:
    with torch.no_grad():
        return (model.generate(batch["pose"]) - batch["image"]).abs().mean().item()


def test_fifty_inner_iterations_overfit_two_frames():
    model, batch = tiny(), make_batch(2)
    before = generator_l1(model, batch)
    adapt(model, batch, 50)
    assert generator_l1(model, batch) <= before / 2


def test_declares_what_every_algorithm_needs():
    model = tiny()
    assert {Capability.FUNCTIONAL, Capability.SAMPLES} <= model.capabilities and model.functional_networks == (
        "generator",
    )
    goals = {"ssim": "max", "psnr": "max", "mse": "min", "temporal_std": "info", "temporal_std_real": "info"}
    goals |= {"person_ssim": "max", "person_psnr": "max", "person_mse": "min"}
    assert model.metric_goals == goals
    assert set(model.networks) == {"generator", "discriminator"}


def test_passes_the_engine_contract():
    task = Task("one-person", make_batch(3), make_batch(4, seed=1))
    check_model(tiny(), task)


def generator_params(model) -> dict[str, torch.Tensor]:
    return {f"generator.{k}": p for k, p in model.networks["generator"].named_parameters()}


def test_functional_objective_equals_module_objective_for_the_same_parameters(batch):
    model = tiny()
    params = {k: p.detach() + 0.01 * torch.randn_like(p) for k, p in generator_params(model).items()}
    functional = model.functional_loss(params, batch)
    with torch.no_grad():
        for key, param in generator_params(model).items():
            param.copy_(params[key])
    torch.testing.assert_close(functional, model.losses(batch)["generator"])


def test_discriminator_gets_no_gradient_in_the_functional_path(batch):
    model = tiny()
    params = {k: p.detach().clone().requires_grad_() for k, p in generator_params(model).items()}
    before = snapshot(model.networks)
    model.functional_loss(params, batch).backward()
    assert all(p.grad is None for p in model.networks.parameters())  # neither network's own weights
    assert all(p.grad is not None for p in params.values())
    after = snapshot(model.networks)
    assert all(torch.equal(before[key], after[key]) for key in before)


def test_functional_objective_is_twice_differentiable(batch):
    model = tiny()
    params = {k: p.detach().clone().requires_grad_() for k, p in generator_params(model).items()}
    grads = torch.autograd.grad(model.functional_loss(params, batch), list(params.values()), create_graph=True)
    second = torch.autograd.grad(sum((g * g).sum() for g in grads), list(params.values()))
    assert all(torch.isfinite(g).all() for g in second) and any(g.abs().sum() > 0 for g in second)


def test_inner_step_moves_both_networks_and_reports_each_term(batch):
    model = tiny(lambda_l1=1.0)
    before = snapshot(model.networks)
    log = model.inner_step(batch, model.inner_optimizers())
    after = snapshot(model.networks)
    for name in ("generator", "discriminator"):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(name))
    assert set(log) == {"d_loss", "g_loss", "g_gan", "g_fm", "g_l1"}
    assert log["g_loss"] == pytest.approx(log["g_gan"] + log["g_fm"] + log["g_l1"], rel=1e-5)


def test_inner_optimizers_are_fresh_adam_with_pix2pixhd_settings():
    model = tiny()
    first, second = model.inner_optimizers(), model.inner_optimizers()
    assert set(first) == {"generator", "discriminator"} and first["generator"] is not second["generator"]
    group = first["discriminator"].param_groups[0]
    assert isinstance(first["discriminator"], torch.optim.Adam)
    assert group["lr"] == 2e-4 and group["betas"] == (0.5, 0.999)


def test_cycling_k_frames_equals_repeating_them_to_fill_the_batch():
    """K=3 frames in a batch of 8: weighted once-each computation == the explicitly repeated batch."""
    model, batch = tiny(), make_batch(3)
    pose, image, weights = model.filled(batch)
    cycle = torch.arange(8) % 3
    assert weights is not None and weights.tolist() == pytest.approx([3 / 8, 3 / 8, 2 / 8])

    def objectives(p, i, w):
        fake = model.generate(p)
        g = sum(model.generator_terms(p, i, fake, w).values())
        return g, model.discriminator_loss(p, i, fake, w)

    weighted = objectives(pose, image, weights)
    repeated = objectives(batch["pose"][cycle], batch["image"][cycle], None)
    for ours, theirs in zip(weighted, repeated, strict=True):
        torch.testing.assert_close(ours, theirs)
        params = list(model.networks.parameters())
        for a, b in zip(
            torch.autograd.grad(ours, params, allow_unused=True),
            torch.autograd.grad(theirs, params, allow_unused=True),
            strict=True,
        ):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)  # biases before a norm: ~0


def test_batch_norm_repeats_frames_for_real():
    model, batch = tiny(norm="batch"), make_batch(3)
    pose, image, weights = model.filled(batch)
    assert weights is None and torch.equal(pose, batch["pose"][torch.arange(8) % 3])


def test_more_frames_than_the_batch_take_a_random_subset_from_the_global_generator():
    model, batch = tiny(batch_size=4), make_batch(10)
    torch.manual_seed(5)
    first = model.filled(batch)[0]
    torch.manual_seed(5)
    assert torch.equal(first, model.filled(batch)[0]) and len(first) == 4
    assert not torch.equal(first, model.filled(batch)[0])  # a new subset at the next step


def test_a_task_of_another_size_is_refused_naming_both():
    with pytest.raises(UsageError, match="64 px.*scale tiny.*32 px.*model.size=64"):
        from tests.pose2im.conftest import build

        build({"scale": "tiny"}, {"in_channels": CHANNELS, "size": 64})
    assert tiny(size=64).architecture.size == 64  # building the scale at the task's size is allowed


def test_a_task_without_pose_channels_is_refused():
    from tests.pose2im.conftest import build

    with pytest.raises(UsageError, match="in_channels"):
        build({"scale": "tiny"}, {"in_features": 1, "out_features": 1})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"scale": "huge"}, "scale must be one of tiny, small, paper"),
        ({"sclae": "tiny"}, "did you mean model.scale"),
        ({"scale": "tiny", "size": 30}, "multiple of 2\\*\\*n_downsample = 4"),
        ({"scale": "tiny", "gan_loss": "wgan"}, "gan_loss must be one of lsgan, hinge, vanilla"),
        ({"scale": "tiny", "ngf": "wide"}, "model.ngf must be an integer"),
    ],
)
def test_bad_options_are_usage_errors(options, message):
    from tests.pose2im.conftest import build

    with pytest.raises(UsageError, match=message):
        build(options, {"in_channels": CHANNELS, "size": SIZE})


def test_scales_expose_their_frame_size():
    assert {name: scale_size(name) for name in SCALES} == {"tiny": 32, "small": 128, "paper": 512}
    paper = SCALES["paper"]
    assert (paper.ngf, paper.n_downsample, paper.n_blocks, paper.num_d, paper.n_layers_d, paper.ndf) == (
        64, 4, 9, 2, 3, 64,
    )  # fmt: skip
    assert SCALES["tiny"].size <= 64 and SCALES["tiny"].ngf <= 16


def test_score_gives_the_paper_metrics_in_chunks(batch):
    model = tiny()
    query = make_batch(20, seed=2)  # more than one scoring chunk
    scores = model.score(query)
    assert set(scores) == {"ssim", "psnr", "mse", "temporal_std", "temporal_std_real"} | {
        "person_ssim",
        "person_psnr",
        "person_mse",
    }
    assert scores["temporal_std_real"] == pytest.approx(temporal_coherence(query["image"]), rel=1e-5)
    assert -1 <= scores["ssim"] <= 1 and scores["mse"] > 0
    with torch.no_grad():
        whole = model.generate(query["pose"])  # the chunks must add up to the coherence of all frames at once
    assert scores["temporal_std"] == pytest.approx(temporal_coherence(whole), rel=1e-5)


def test_render_draws_frames_in_range_from_the_poses_alone(batch):
    # the engine checks render's shape (check_model); what a frame is, is the model's own business
    model = tiny()
    assert Capability.RENDER in model.capabilities and model.predicts == "image"
    model.set_support(batch)
    frames = model.render({key: value for key, value in batch.items() if key != "image"})
    assert frames.shape == batch["image"].shape and frames.min() >= -1 and frames.max() <= 1


def test_render_samples_shows_pose_generated_and_real(batch):
    model = tiny(sample_rows=2)
    model.set_support(batch)
    picture = model.render_samples(batch)
    top = TITLE_HEIGHT
    assert picture.dtype == torch.uint8 and picture.shape == (top + 2 * SIZE + 2, 3 * SIZE + 4, 3)
    real = ((batch["image"][0] + 1) / 2 * 255).round().to(torch.uint8).permute(1, 2, 0)
    assert torch.equal(picture[top : top + SIZE, 2 * SIZE + 4 :], real)
    assert picture[top : top + SIZE, :SIZE].float().max() > 100  # the stick figure is drawn
    assert picture[:top].float().max() > 200  # the column titles are written


def test_sample_rows_are_the_most_different_poses():
    x = torch.tensor([0.0, 1.0, 2.0, 30.0, 31.0, 60.0])  # three clusters of positions
    keypoints = torch.stack([x, torch.zeros(6), torch.ones(6)], dim=-1)[:, None, :]  # one joint each
    assert most_different(keypoints, 3) == [0, 3, 5]
