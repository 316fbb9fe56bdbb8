"""Data augmentation: shapes, seeds, identity at zero, training batches only, the mixup loss, messages."""
import math

import pytest
import torch
import torch.nn.functional as F

from engine.config import AugmentConfig, DataConfig, Experiment, ModelConfig, TrainConfig
from engine.data.augment import AugmentedBatch, Augmenter, mixup_loss
from engine.data.datasets import load_data
from engine.experiment import ExperimentError, parse_experiment
from engine.training.events import EvalEvent, StepEvent
from engine.training.trainer import Trainer

EVERYTHING = AugmentConfig(shift=1, rotate=15.0, jitter=0.1, mixup=0.4)


def digits(n=16):
    data = load_data(DataConfig(dataset="digits", n_train=n, n_val=10), 0)
    return data.x_train, data.y_train


def plane(n=16):
    data = load_data(DataConfig(dataset="spiral", n_train=n, n_val=10), 0)
    return data.x_train, data.y_train


def shifted(image, dx, dy):
    """``image`` (H, W) moved dx pixels right and dy down, blank where nothing moves in."""
    h, w = image.shape
    out = torch.zeros_like(image)
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@pytest.mark.parametrize("shape", [(16, 1, 8, 8), (16, 1, 28, 28)])
def test_images_keep_their_shape_and_dtype(shape):
    x, y = torch.rand(shape), torch.randint(0, 10, (shape[0],))
    batch = Augmenter(EVERYTHING, "image", 0)(x, y)
    assert batch.x.shape == x.shape and batch.x.dtype == x.dtype
    assert batch.y_mix.shape == y.shape and 0 <= batch.lam <= 1


def test_points_keep_their_shape():
    x, y = plane()
    batch = Augmenter(AugmentConfig(jitter=0.1, mixup=1.0), "plane", 0)(x, y)
    assert batch.x.shape == x.shape and batch.y.shape == y.shape


def test_same_seed_same_augmentation_other_seed_other():
    x, y = digits()
    a, b, c = (Augmenter(EVERYTHING, "image", seed) for seed in (3, 3, 4))
    for _ in range(3):       # and the sequence of draws, batch after batch
        first, second, other = a(x, y), b(x, y), c(x, y)
        assert torch.equal(first.x, second.x) and torch.equal(first.y_mix, second.y_mix)
        assert first.lam == second.lam
        assert not torch.equal(first.x, other.x)


def test_zero_settings_are_the_identity_bit_for_bit():
    x, y = digits()
    before = x.clone()
    batch = Augmenter(AugmentConfig(), "image", 0)(x, y)
    assert torch.equal(batch.x, before) and batch.y_mix is None and batch.lam == 1.0
    # Each kind alone changes the batch; the others at 0 leave no trace (the input is never modified).
    for cfg in (AugmentConfig(shift=1), AugmentConfig(rotate=10.0), AugmentConfig(jitter=0.1),
                AugmentConfig(mixup=1.0)):
        out = Augmenter(cfg, "image", 0)(x, y)
        assert not torch.equal(out.x, x), cfg
        assert torch.equal(x, before), cfg
    # A trainer with the section at its zeros has no augmenter: the loop is exactly the old one.
    assert Trainer(Experiment(train=TrainConfig(steps=1))).augmenter is None


def test_a_shift_moves_whole_pixels_exactly():
    x, y = digits(32)
    out = Augmenter(AugmentConfig(shift=2), "image", 0)(x, y).x
    moves = set()
    for image, moved in zip(x[:, 0], out[:, 0]):
        match = [(dx, dy) for dx in range(-2, 3) for dy in range(-2, 3) if torch.equal(shifted(image, dx, dy), moved)]
        assert match, "not an exact whole-pixel shift"
        moves.add(match[0])
    assert len(moves) > 5            # random, not one fixed move


def test_a_rotation_turns_about_the_centre():
    # A round blob at the centre looks the same at any angle; a bar off to one side does not.
    coords = torch.arange(28) - 13.5
    r2 = coords[:, None] ** 2 + coords[None, :] ** 2
    blob = torch.exp(-r2 / 30)[None, None].repeat(8, 1, 1, 1)
    bar = torch.zeros(8, 1, 28, 28)
    bar[:, :, 2:6, 4:24] = 1
    aug = Augmenter(AugmentConfig(rotate=30.0), "image", 0)
    y = torch.zeros(8, dtype=torch.long)
    assert (aug(blob, y).x - blob).abs().max() < 0.02
    turned = aug(bar, y).x
    assert (turned - bar).abs().max() > 0.5
    assert turned.sum(dim=(1, 2, 3)) == pytest.approx(bar.sum(dim=(1, 2, 3)), rel=0.1)   # moved, not lost


def test_jitter_adds_noise_of_the_given_size():
    x, y = plane(4000)
    noise = Augmenter(AugmentConfig(jitter=0.2), "plane", 0)(x, y).x - x
    assert noise.mean().item() == pytest.approx(0, abs=0.01)
    assert noise.std().item() == pytest.approx(0.2, rel=0.03)


def test_mixup_blends_inputs_and_labels_with_one_weight():
    x, y = digits()
    batch = Augmenter(AugmentConfig(mixup=0.4), "image", 0)(x, y)
    # Every mixed input is lam * its own + (1 - lam) * the partner whose label is y_mix.
    perm = [next(j for j in range(len(y)) if torch.allclose(batch.x[i], batch.lam * x[i] + (1 - batch.lam) * x[j],
                                                           atol=1e-6)) for i in range(len(y))]
    assert torch.equal(batch.y_mix, y[perm]) and sorted(perm) == list(range(len(y)))
    assert torch.equal(batch.y, y)


def test_mixup_loss_is_the_hand_formula():
    torch.manual_seed(0)
    logits, y, y_mix, lam = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 0, 1]), torch.tensor([3, 3, 0, 1, 2, 0]), 0.3
    logp = torch.log_softmax(logits, 1)
    by_hand = -(lam * logp[torch.arange(6), y] + (1 - lam) * logp[torch.arange(6), y_mix]).mean()
    assert mixup_loss(logits, y, y_mix, lam).item() == pytest.approx(by_hand.item(), rel=1e-6)
    soft = lam * F.one_hot(y, 4).float() + (1 - lam) * F.one_hot(y_mix, 4).float()
    assert mixup_loss(logits, y, y_mix, lam).item() == pytest.approx(F.cross_entropy(logits, soft).item(), rel=1e-6)
    assert AugmentedBatch(logits, y).loss(logits).item() == F.cross_entropy(logits, y).item()


def small_digits(**augment):
    return Experiment(seed=0, data=DataConfig(dataset="digits", n_train=64, n_val=64),
                      model=ModelConfig(hidden=(32,)), augment=AugmentConfig(**augment),
                      train=TrainConfig(steps=20, batch_size=16, eval_every=10, histogram_every=0))


def events_of(exp):
    trainer = Trainer(exp)
    events = []
    trainer.run(events.append)
    return trainer, events


def test_the_trainer_trains_on_mixed_batches_and_the_step_loss_is_mixups():
    exp = small_digits(shift=1, rotate=10.0, mixup=0.4)
    trainer = Trainer(exp)
    # Replay the first batch: same order (the batch generator is not touched), same augmenter seed.
    idx = torch.randperm(64, generator=torch.Generator().manual_seed(0))[:16]
    replay = Augmenter(exp.augment, "image", 0)(trainer.data.x_train[idx], trainer.data.y_train[idx])
    with torch.no_grad():
        expected = replay.loss(trainer.model(replay.x)).item()
    step = next(e for e in trainer.step() if isinstance(e, StepEvent))
    assert step.loss == pytest.approx(expected, rel=1e-6)
    assert step.loss != pytest.approx(F.cross_entropy(trainer.model(replay.x), replay.y).item(), rel=1e-3)


def test_augmented_runs_are_reproducible_and_keep_the_batch_order():
    exp = small_digits(shift=1, rotate=15.0, jitter=0.05, mixup=0.4)
    (_, first), (_, second) = events_of(exp), events_of(exp)
    assert [getattr(e, "loss", None) for e in first] == [getattr(e, "loss", None) for e in second]
    plain, augmented = Trainer(small_digits()), Trainer(exp)
    for _ in range(6):
        assert torch.equal(plain.next_batch(), augmented.next_batch())


def test_evaluation_reads_the_data_as_it_is():
    plain_trainer, plain = events_of(small_digits())
    trainer, events = events_of(small_digits(shift=2, rotate=30.0, jitter=0.3, mixup=1.0))
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert evals[0] == [e for e in plain if isinstance(e, EvalEvent)][0]    # same weights at step 0, same numbers
    # The data were not touched, and the trainer's accuracy is the clean data's, on the hard labels.
    fresh = load_data(trainer.experiment.data, 0)
    assert torch.equal(trainer.data.x_train, fresh.x_train) and torch.equal(trainer.data.y_train, fresh.y_train)
    model = trainer.model.eval()
    with torch.no_grad():
        acc = (model(fresh.x_train).argmax(1) == fresh.y_train).float().mean().item()
        loss = F.cross_entropy(model(fresh.x_val), fresh.y_val).item()
    assert evals[-1].train_acc == pytest.approx(acc, abs=1e-9)
    assert evals[-1].val_loss == pytest.approx(loss, rel=1e-5)
    assert math.isfinite(evals[-1].train_loss)


def test_shifts_and_rotations_of_points_are_refused_at_their_key():
    for key, what in (("shift", 1), ("rotate", 5)):
        with pytest.raises(ExperimentError) as err:
            parse_experiment({"data": {"dataset": "moons"}, "augment": {key: what}})
        assert err.value.path == f"augment.{key}"
        assert "need image data" in str(err.value) and "moons is 2-D points" in str(err.value)
    # jitter and mixup fit any data; shifts and rotations fit images
    assert parse_experiment({"augment": {"jitter": 0.1, "mixup": 0.2}}).augment.jitter == 0.1
    exp = parse_experiment({"data": {"dataset": "digits"}, "augment": {"shift": 1, "rotate": 10}})
    assert exp.augment == AugmentConfig(shift=1, rotate=10.0)
    # Built in Python, past the validator: the trainer refuses too, with the same words.
    with pytest.raises(ValueError, match="augment.rotate: rotations need image data"):
        Trainer(Experiment(augment=AugmentConfig(rotate=10.0)))


def test_old_experiment_files_load_with_augmentation_off():
    exp = parse_experiment({"name": "old", "optimizer": {"lr": 0.1}})
    assert exp.augment == AugmentConfig() and not exp.augment.active
