"""The experiment file: defaults, round trips, and every way a file can be wrong."""
import dataclasses
import json
import math

import pytest

from engine.config import SECTIONS, Experiment
from engine.data.datasets import DATASETS
from engine.experiment import (
    REGISTRIES,
    ExperimentError,
    experiment_to_dict,
    load_experiment,
    notes,
    parse_experiment,
    resolve,
    save_experiment,
    schema,
)
from engine.optim.optimizers import HYPERPARAMETERS, OPTIMIZERS, optimizer_kwargs

ISSUE_EXAMPLE = {
    "name": "adam-on-spiral", "seed": 0,
    "data": {"dataset": "spiral", "n_train": 400, "n_val": 400, "noise": 0.1, "label_noise": 0.0},
    "model": {"kind": "mlp", "hidden": [16, 16], "activation": "relu", "dropout": 0.0, "norm": "none",
              "init": "he_normal"},
    "optimizer": {"name": "adam", "lr": 0.01, "momentum": 0.0, "nesterov": False, "betas": [0.9, 0.999],
                  "eps": 1e-8, "weight_decay": 0.0},
    "schedule": {"name": "constant", "warmup_steps": 0},
    "train": {"steps": 2000, "batch_size": 32, "grad_clip": None, "precision": "fp32", "eval_every": 50,
              "histogram_every": 50},
}


def test_empty_file_is_the_documented_default():
    exp = parse_experiment({})
    assert exp == Experiment()
    assert (exp.data.dataset, exp.model.hidden, exp.optimizer.name, exp.optimizer.lr) == ("spiral", (16, 16), "adam", 0.01)
    assert exp.total_steps() == 2000


def test_the_issue_example_parses_and_runs_as_adam_defaults():
    exp = parse_experiment(ISSUE_EXAMPLE)
    assert exp.optimizer.betas == (0.9, 0.999)
    # momentum / nesterov are ignored by adam: torch receives exactly Adam's own arguments
    assert optimizer_kwargs(resolve(exp).optimizer) == optimizer_kwargs(resolve(Experiment()).optimizer)
    assert notes(exp) == []  # momentum 0 / nesterov false are neutral, not worth a note


def test_round_trip_through_json(tmp_path):
    exp = parse_experiment(ISSUE_EXAMPLE)
    path = tmp_path / "e.json"
    save_experiment(exp, path)
    assert load_experiment(path) == exp
    assert parse_experiment(json.loads(json.dumps(experiment_to_dict(resolve(exp))))) == resolve(exp)


def test_resolve_fills_real_torch_defaults():
    r = resolve(parse_experiment({"optimizer": {"name": "adamw"}}))
    assert r.optimizer.weight_decay == 0.01 and r.optimizer.eps == 1e-8
    r = resolve(parse_experiment({"optimizer": {"name": "adagrad"}}))
    assert r.optimizer.eps == 1e-10
    r = resolve(parse_experiment({"schedule": {"name": "step"}, "train": {"steps": 900}}))
    assert (r.schedule.step_size, r.schedule.gamma) == (300, 0.1)


def test_epochs_instead_of_steps():
    exp = parse_experiment({"train": {"epochs": 3, "batch_size": 64}, "data": {"n_train": 130}})
    assert exp.total_steps() == 3 * 3  # ceil(130 / 64) = 3 batches a pass


def test_integral_floats_are_integers_and_ints_are_floats():
    exp = parse_experiment({"train": {"steps": 100.0}, "optimizer": {"lr": 1}})
    assert exp.train.steps == 100 and isinstance(exp.train.steps, int)
    assert exp.optimizer.lr == 1.0 and isinstance(exp.optimizer.lr, float)


BAD = [
    ({"optimizer": {"lr": -0.1}}, "optimizer.lr: must be > 0, got -0.1"),
    ({"optimizer": {"lr": 0}}, "optimizer.lr: must be > 0, got 0.0"),
    ({"optimizer": {"lr": "fast"}}, 'optimizer.lr: must be a number, got "fast"'),
    ({"optimizer": {"lr": True}}, "optimizer.lr: must be a number, got true"),
    ({"optimizer": {"lrr": 0.1}}, "optimizer.lrr: unknown key (known: name, lr, momentum"),
    ({"optimizer": {"name": "adamx"}}, 'optimizer.name: unknown value "adamx" (choose from sgd, adagrad, rmsprop, adam, adamw, nadam, radam, adafactor, lamb, lars)'),
    ({"optimizer": {"betas": [0.9]}}, "optimizer.betas: must have 2 entries, got 1"),
    ({"optimizer": {"betas": [0.9, 1.0]}}, "optimizer.betas[1]: must be in [0, 1), got 1.0"),
    ({"optimizer": {"betas": "0.9"}}, 'optimizer.betas: must be a list of numbers or null, got "0.9"'),
    ({"optimizer": {"momentum": 1.5}}, "optimizer.momentum: must be in [0, 1), got 1.5"),
    ({"optimizer": {"eps": 0}}, "optimizer.eps: must be > 0, got 0.0"),
    ({"optimizer": {"name": "lars", "trust_coefficient": -0.001}}, "optimizer.trust_coefficient: must be > 0, got -0.001"),
    ({"optimizer": {"weight_decay": -1}}, "optimizer.weight_decay: must be >= 0, got -1.0"),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, "optimizer.nesterov: needs momentum > 0"),
    ({"optimizer": {"name": "sgd", "nesterov": 1}}, "optimizer.nesterov: must be true or false, got 1"),
    ({"optimizer": {"lr": float("nan")}}, "optimizer.lr: must be a finite number, got nan"),
    ({"optimizer": "adam"}, 'optimizer: must be a JSON object, got "adam"'),
    ({"data": {"dataset": "cifar"}}, 'data.dataset: unknown value "cifar"'),
    ({"data": {"n_train": 0}}, "data.n_train: must be >= 1, got 0"),
    ({"data": {"n_train": 2.5}}, "data.n_train: must be an integer, got 2.5"),
    ({"data": {"label_noise": 1.5}}, "data.label_noise: must be in [0, 1], got 1.5"),
    ({"data": {"noise": -0.1}}, "data.noise: must be >= 0, got -0.1"),
    ({"data": {"seed": -1}}, "data.seed: must be >= 0, got -1"),
    ({"data": {"seed": 1.5}}, "data.seed: must be an integer, got 1.5"),
    ({"data": {"dataset": "moons", "classes": 3}}, "data.classes: moons always has 2 classes"),
    ({"data": {"classes": 11}}, "data.classes: must be in [2, 10], got 11"),
    ({"data": {"dataset": "mnist"}}, "data.path: mnist needs the folder holding its IDX files"),
    ({"model": {"hidden": []}}, "model.hidden: must not be empty"),
    ({"model": {"hidden": [16, 0]}}, "model.hidden[1]: must be >= 1, got 0"),
    ({"model": {"hidden": [16, "x"]}}, 'model.hidden[1]: must be an integer, got "x"'),
    ({"model": {"hidden": None}}, "model.hidden: must be list of integers, got null"),
    ({"model": {"dropout": 1.0}}, "model.dropout: must be in [0, 1), got 1.0"),
    ({"model": {"activation": "swish"}}, 'model.activation: unknown value "swish" (choose from relu, tanh, sigmoid, gelu, linear)'),
    ({"model": {"norm": "group"}}, 'model.norm: unknown value "group" (choose from none, batch, layer)'),
    ({"model": {"init": "lecun"}}, 'model.init: unknown value "lecun"'),
    ({"model": {"init_std": 0}}, "model.init_std: must be > 0, got 0.0"),
    ({"model": {"kind": "cnn"}}, "model.kind: cnn needs image data (digits, mnist, fashion-mnist), got spiral"),
    ({"schedule": {"name": "linear"}}, 'schedule.name: unknown value "linear"'),
    ({"schedule": {"warmup_steps": -1}}, "schedule.warmup_steps: must be >= 0, got -1"),
    ({"schedule": {"warmup_steps": 2000}}, "schedule.warmup_steps: must be fewer than the 2000 training steps, got 2000"),
    ({"schedule": {"gamma": 1.5}}, "schedule.gamma: must be in [0, 1], got 1.5"),
    ({"schedule": {"name": "one_cycle", "cycle_momentum": True}, "optimizer": {"name": "adagrad"}},
     "schedule.cycle_momentum: adagrad has no momentum to cycle; set it to false"),
    ({"train": {"steps": 10, "epochs": 2}}, "train.epochs: give steps or epochs, not both"),
    ({"train": {"steps": 0}}, "train.steps: must be >= 1, got 0"),
    ({"train": {"steps": 10**40}}, "train.steps: must be <= 100,000,000, got 1000000000000000000000000000000000000000"),
    ({"data": {"n_val": 10**7}}, "data.n_val: must be <= 1,000,000, got 10000000"),
    ({"model": {"channels": [8, 100000]}}, "model.channels[1]: must be <= 4,096, got 100000"),
    ({"train": {"batch_size": 0}}, "train.batch_size: must be >= 1, got 0"),
    ({"train": {"precision": "fp8"}}, 'train.precision: unknown value "fp8" (choose from fp32, bf16, fp16)'),
    ({"train": {"loss_scale": "static"}}, 'train.loss_scale: unknown value "static" (choose from dynamic, none)'),
    ({"train": {"grad_clip": 0}}, "train.grad_clip: must be > 0, got 0.0"),
    ({"train": {"eval_every": 0}}, "train.eval_every: must be >= 1, got 0"),
    ({"train": {"divergence_factor": 1}}, "train.divergence_factor: must be > 1, got 1.0"),
    ({"train": {"batchsize": 8}}, "train.batchsize: unknown key"),
    ({"augment": {"shift": -1}}, "augment.shift: must be >= 0, got -1"),
    ({"augment": {"shift": 9}}, "augment.shift: must be <= 8, got 9"),
    ({"augment": {"rotate": 200}}, "augment.rotate: must be in [0, 180], got 200.0"),
    ({"augment": {"jitter": -0.1}}, "augment.jitter: must be >= 0, got -0.1"),
    ({"augment": {"mixup": float("inf")}}, "augment.mixup: must be a finite number, got inf"),
    ({"augment": {"rotate": 10}}, "augment.rotate: rotations need image data (digits, mnist, fashion-mnist); "
                                  "spiral is 2-D points"),
    ({"augment": {"shift": 1}}, "augment.shift: shifts need image data"),
    ({"seed": -1}, "seed: must be >= 0, got -1"),
    ({"train": {"seeds": 0}}, "train.seeds: must be >= 1, got 0"),
    ({"train": {"seeds": 257}}, "train.seeds: must be <= 256, got 257"),
    ({"model": {"hidden": [2048, 2048, 2048]}, "train": {"seeds": 8}},
     "train.seeds: 8 members of 8,402,946 parameters each hold 67,223,568, more than the 50,000,000"),
    ({"name": 3}, "name: must be a string, got 3"),
    ({"extra": 1}, "extra: unknown key (known: name, seed, data, model, optimizer, schedule, train, augment)"),
    ([1, 2], "an experiment must be a JSON object, got a list"),
]


@pytest.mark.parametrize("raw,message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_every_bad_value_is_one_line_naming_its_key(raw, message):
    with pytest.raises(ExperimentError) as err:
        parse_experiment(raw)
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_every_field_of_every_section_is_reached_by_a_bad_value_test():
    """A new field needs its validation covered here."""
    tested = {m.split(":")[0].split("[")[0] for _, m in BAD}
    every = {e.path for e in schema()}
    untested = every - tested - {"data.path", "optimizer.alpha", "schedule.step_size",
                                 "schedule.eta_min", "schedule.max_lr", "schedule.pct_start",
                                 "train.histogram_every"}
    assert untested == set()


def test_files_that_are_not_json(tmp_path):
    with pytest.raises(ExperimentError, match="no such file"):
        load_experiment(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"optimizer": {"lr": 0.1,}}')
    with pytest.raises(ExperimentError, match=r"bad.json: not valid JSON: .* at line 1 column 26"):
        load_experiment(bad)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ExperimentError, match="cannot read"):
        load_experiment(binary)


def test_schema_lists_every_key_with_default_and_choices():
    entries = {e.path: e for e in schema()}
    for section, cls in SECTIONS.items():
        for f in dataclasses.fields(cls):
            assert f"{section}.{f.name}" in entries
    assert entries["optimizer.lr"].default == 0.01
    assert "lamb" in entries["optimizer.name"].allowed
    assert entries["model.hidden"].default == [16, 16]
    assert entries["optimizer.eps"].default_text == "the optimizer's own"
    assert entries["data.label_noise"].ranges == "in [0, 1]"


def test_run_lists_load_and_say_which_run_is_wrong(tmp_path):
    from engine.experiment import load_run_list, save_run_list
    runs = [parse_experiment({"name": "a"}), parse_experiment({"name": "b", "optimizer": {"name": "sgd"}})]
    path = tmp_path / "runs.json"
    save_run_list(runs, path)
    assert load_run_list(path) == runs
    single = tmp_path / "one.json"
    save_experiment(runs[0], single)
    assert load_run_list(single) == runs[:1]
    path.write_text(json.dumps([{"name": "a"}, {"optimizer": {"lr": -1}}]))
    with pytest.raises(ExperimentError, match=r"^\[1\]\.optimizer\.lr: must be > 0, got -1\.0$"):
        load_run_list(path)
    path.write_text("[]")
    with pytest.raises(ExperimentError, match="non-empty list"):
        load_run_list(path)


def test_bounds_are_numbers_whose_text_and_messages_keep_their_wording():
    from engine.config import Bound, at_least, at_most, between, bounds, finite, greater_than
    assert [c.text for c in (greater_than(0), at_least(1), at_most(8), at_most(1_000_000), at_most(100.0),
                             between(0, 1), between(0, 1, high_open=True), finite)] == [
        "> 0", ">= 1", "<= 8", "<= 1,000,000", "<= 100.0", "in [0, 1]", "in [0, 1)", "a finite number"]
    assert at_most(8) == Bound(None, 8, False, False) and at_most(8).check(9) == "must be <= 8"
    assert at_most(8).check(8) is None and finite.check(math.inf) == "must be a finite number"
    assert between(0, 1, high_open=True).check(1.0) == "must be in [0, 1)"
    assert bounds((at_least(0), at_most(8))) == Bound(0, 8, False, False)
    assert bounds((finite, greater_than(0))) == Bound(0, None, True, False, finite=True)
    with pytest.raises(ExperimentError, match=r"^augment\.shift: must be <= 8, got 9$"):
        parse_experiment({"data": {"dataset": "digits"}, "augment": {"shift": 9}})


# -- what each registry entry takes ---------------------------------------------------------------

def test_every_registry_entrys_takes_are_keys_of_the_section_that_chooses_it():
    """``takes`` of a dataset, model, optimizer or schedule names keys of its own section, once each."""
    seen = set()
    for section, cls in SECTIONS.items():
        keys = [f.name for f in dataclasses.fields(cls)]
        for f in dataclasses.fields(cls):
            registry = f.metadata["registry"]
            for name, info in (REGISTRIES[registry].items() if registry else ()):
                if not hasattr(info, "takes"):
                    continue
                seen.add(registry)
                assert set(info.takes) <= set(keys) - {f.name}, f"{section}.{f.name} = {name}: {info.takes}"
                assert len(set(info.takes)) == len(info.takes), name
    assert seen == {"datasets", "models", "optimizers", "schedules"}


@pytest.mark.parametrize("name", DATASETS)
def test_the_validator_allows_classes_and_requires_a_folder_exactly_where_the_dataset_takes_them(name):
    takes = DATASETS[name].takes
    with_folder = {"dataset": name, "path": "/data/mnist"}
    if "classes" in takes:
        assert parse_experiment({"data": {**with_folder, "classes": 4}}).data.classes == 4
    else:
        with pytest.raises(ExperimentError, match=f"^data.classes: {name} always has"):
            parse_experiment({"data": {**with_folder, "classes": 4}})
    if "path" in takes:
        with pytest.raises(ExperimentError, match=f"^data.path: {name} needs the folder"):
            parse_experiment({"data": {"dataset": name}})
    else:
        assert parse_experiment({"data": {"dataset": name}}).data.path is None
    # A resolved run always holds the class count it will train with, exactly where one can be chosen.
    run = resolve(parse_experiment({"data": with_folder}))
    assert (run.data.classes is not None) == ("classes" in takes)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_notes_name_exactly_the_optimizer_keys_it_does_not_take(name):
    values = {"momentum": 0.9, "nesterov": True, "alpha": 0.9, "betas": [0.8, 0.9], "eps": 1e-6,
              "weight_decay": 0.01, "trust_coefficient": 0.002}
    exp = parse_experiment({"optimizer": {"name": name, "lr": 0.1, **values}})
    takes = OPTIMIZERS[name].takes
    assert notes(exp) == [f"optimizer.{k}: not used by {name}" for k in HYPERPARAMETERS if k not in takes]
    assert set(optimizer_kwargs(exp.optimizer)) == set(takes)


# -- bounds on what accepted input costs (issue 10, class 6) -------------------------------------

def test_total_steps_are_bounded_however_they_are_given():
    from engine.config import MAX_TOTAL_STEPS
    with pytest.raises(ExperimentError, match=r"^train\.epochs: makes 1,300,000,000 training steps, more "
                                              rf"than the {MAX_TOTAL_STEPS:,} a run may take$"):
        parse_experiment({"train": {"epochs": 10 ** 8, "batch_size": 32}})     # 13 steps per epoch of 400
    assert parse_experiment({"train": {"epochs": 10, "batch_size": 32}}).total_steps() == 130


def test_the_model_is_bounded_by_its_parameter_count_and_depth():
    from engine.config import MAX_LAYERS, MAX_PARAMETERS
    with pytest.raises(ExperimentError, match=rf"^model\.hidden: the model would have 822,304,770 parameters, "
                                              rf"more than the {MAX_PARAMETERS:,} that fit comfortably"):
        parse_experiment({"model": {"hidden": [4096] * 50}})
    with pytest.raises(ExperimentError, match=rf"^model\.hidden: at most {MAX_LAYERS} layers, got 100,000$"):
        parse_experiment({"model": {"hidden": [16] * 100_000}})


def test_parameter_count_matches_the_built_model():
    from engine.data.datasets import DATASETS
    from engine.experiment import parameter_count
    from engine.model.models import build_model
    for raw in ({"model": {"hidden": [16, 8], "norm": "batch"}},
                {"data": {"dataset": "gaussians", "classes": 5}, "model": {"hidden": [7], "norm": "layer"}},
                {"data": {"dataset": "digits"}, "model": {"hidden": [32]}}):
        exp = parse_experiment(raw)
        dataset = DATASETS[exp.data.dataset]
        shape = (2,) if dataset.kind == "plane" else (1, 28, 28)    # the count is an upper bound for images
        classes = exp.data.classes or dataset.default_classes
        built = build_model(exp.model, shape, classes)
        assert parameter_count(exp) == sum(p.numel() for p in built.parameters()), raw


def test_batchnorm_refuses_a_single_training_example_and_notes_a_last_batch_of_one():
    with pytest.raises(ExperimentError, match=r"^data\.n_train: BatchNorm needs at least 2 training examples"):
        parse_experiment({"data": {"n_train": 1}, "model": {"norm": "batch"}})
    exp = parse_experiment({"data": {"n_train": 33}, "model": {"norm": "batch"}, "train": {"batch_size": 32}})
    assert ("data.n_train: the last batch of each epoch would hold one example, which BatchNorm cannot "
            "normalize; it joins the batch before it") in notes(exp)
    assert not any(n.startswith("data.n_train") for n in notes(exp.replace(data={"n_train": 34})))
    assert not any(n.startswith("data.n_train") for n in notes(exp.replace(model={"norm": "none"})))


def test_batchnorm_with_batches_of_one_is_refused_naming_the_batch_size():
    with pytest.raises(ExperimentError, match=r"train.batch_size: BatchNorm needs batches of at least 2"):
        parse_experiment({"model": {"norm": "batch"}, "train": {"batch_size": 1}})
    parse_experiment({"model": {"norm": "batch"}, "train": {"batch_size": 2}})
    parse_experiment({"train": {"batch_size": 1}})        # without BatchNorm a batch of one trains


def test_loss_scale_is_fp16s_and_noted_unused_elsewhere():
    """fp16 takes either scale silently; fp32/bf16 do not use one: ``none`` set there is noted (not refused,
    so switching a run's precision in the form never makes it invalid), the default ``dynamic`` is not."""
    fp16 = parse_experiment({"train": {"precision": "fp16", "loss_scale": "none"}})
    assert (fp16.train.precision, fp16.train.loss_scale) == ("fp16", "none")
    assert not any(n.startswith("train.loss_scale") for n in notes(fp16))
    assert parse_experiment({"train": {"precision": "fp16"}}).train.loss_scale == "dynamic"
    for precision in ("fp32", "bf16"):
        exp = parse_experiment({"train": {"precision": precision, "loss_scale": "none"}})
        assert f"train.loss_scale: not used by {precision} (only fp16's gradients underflow)" in notes(exp)
    assert not any(n.startswith("train.loss_scale") for n in notes(Experiment()))
    assert any(n.startswith("train.precision: fp16 is a precision demo on a CPU") for n in notes(fp16))


def test_total_epochs_counts_the_last_partial_batch_as_a_step():
    from engine.config import Experiment
    by_epochs = Experiment().replace(data={"n_train": 100}, train={"epochs": 3, "batch_size": 32, "steps": None})
    assert (by_epochs.total_steps(), by_epochs.total_epochs()) == (12, 3.0)          # 4 steps an epoch
    by_steps = Experiment().replace(data={"n_train": 100}, train={"steps": 6, "batch_size": 32})
    assert by_steps.total_epochs() == 1.5
