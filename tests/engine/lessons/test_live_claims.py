"""A preset's claim seen live: checked at each member of the window's multi-seed runs of the preset, each
check the claim's own read-out of that member's record; and never on runs that are not the preset's."""
import math

import pytest

from engine.lessons.claims import CLAIMS_BY_KEY, check_claim
from engine.lessons.claims.live import check_live, live_claim
from engine.lessons.claims.measuring import train_runs
from engine.lessons.presets import PRESETS
from engine.status import RunStatus
from engine.training.session import Lab

PRESET = "warmup"      # two runs, ~1 s a seed; without warm-up the run diverges within a few steps at most seeds


def window_runs(runs, stop_after=None):
    """``runs`` trained side by side in a Lab as the window trains them: (experiment, member records) each."""
    lab = Lab()
    for i, run in enumerate(runs):
        lab.add(str(i), run)
    lab.start()
    records = {}
    rounds = 0
    while lab.running:
        lab.step_round()
        rounds += 1
        if stop_after is not None and rounds == stop_after:
            lab.stop()
        records.update({u.run_id: u.records for u in lab.take_updates() if u.records})
    records.update({u.run_id: u.records for u in lab.take_updates() if u.records})
    return [(run, records[str(i)]) for i, run in enumerate(runs)]


@pytest.fixture(scope="module")
def three_seeds():
    return window_runs([run.replace(seed=5, train={"seeds": 3}) for run in PRESETS[PRESET].runs])


def test_member_k_is_checked_on_what_the_claim_reads_at_seed_plus_k_on_the_run_s_data(three_seeds):
    claim = CLAIMS_BY_KEY[f"preset {PRESET}"]
    live = check_live(PRESET, three_seeds)
    assert live is not None and live.claim is claim and [c.seed for c in live.checks] == [5, 6, 7]
    for k, check in enumerate(live.checks):
        trained = train_runs([run.replace(data={"seed": 5}) for run in PRESETS[PRESET].runs], 5 + k)
        want = claim.measure.read({name: run.record for name, run in trained.items()})
        assert check.numbers.keys() == want.keys()
        for name, value in want.items():
            assert math.isclose(check.numbers[name], value, rel_tol=1e-4, abs_tol=1e-5), (k, name)
    assert live.held == sum(c.holds for c in live.checks)
    assert live.text == f"held at {live.held} of 3 seeds (5-7, on seed 5's data)"


def test_member_0_of_a_run_at_seed_s_is_the_claims_table_s_seed_s():
    (run,) = window_runs([PRESETS["digits-mlp"].runs[0].replace(train={"seeds": 2})])
    live = check_live("digits-mlp", [run])
    table = check_claim(CLAIMS_BY_KEY["preset digits-mlp"], 0)
    assert live is not None and live.checks[0].holds == table.holds
    for name, value in table.numbers.items():
        assert math.isclose(live.checks[0].numbers[name], value, rel_tol=1e-4, abs_tol=1e-5)
    single = window_runs([PRESETS["digits-mlp"].runs[0]])
    one = check_live("digits-mlp", single)
    assert one is not None and one.text == ("held at seed 0" if table.holds else "did not hold at seed 0")


def test_a_failing_member_is_named_with_its_conditions(three_seeds):
    claim = CLAIMS_BY_KEY[f"preset {PRESET}"]
    live = check_live(PRESET, three_seeds)
    assert live.failures() == [(c.seed, c.failed) for c in live.checks if c.failed]
    for check in live.checks:
        assert set(check.failed) <= {c.text for c in claim.conditions}


def test_runs_that_are_not_the_preset_s_are_not_checked(three_seeds):
    (cold, cold_records), (warm, warm_records) = three_seeds
    assert check_live(PRESET, [(cold, cold_records)]) is None                            # a run missing
    changed = cold.replace(optimizer={"lr": cold.optimizer.lr / 2})
    assert check_live(PRESET, [(changed, cold_records), (warm, warm_records)]) is None   # a run changed
    other_seed = warm.replace(seed=6)
    assert check_live(PRESET, [(cold, cold_records), (other_seed, warm_records)]) is None
    assert check_live(PRESET, [(cold, cold_records), (warm, ())]) is None                # not ended
    extra = (PRESETS["digits-mlp"].runs[0], ())
    assert check_live(PRESET, [extra, (cold, cold_records), (warm, warm_records)]) is not None   # added beside


def test_a_stopped_run_is_not_checked_and_claims_that_read_the_network_never_are():
    stopped = window_runs([run.replace(train={"seeds": 2}) for run in PRESETS[PRESET].runs], stop_after=30)
    assert any(r.status == RunStatus.STOPPED for _, records in stopped for r in records)
    assert check_live(PRESET, stopped) is None
    assert live_claim("zeros-init") is None and live_claim("batchnorm-eval") is None   # they read the weights
    assert live_claim("optimizers") is CLAIMS_BY_KEY["preset optimizers"]


def test_the_command_checks_preset_claims_at_the_members_of_one_run_a_seed(tmp_path, capsys):
    """``claims --members 3``: the warm-up lesson and the tooltip that reads its runs, each at members 0-2 of
    one run at seed 0 (on seed 0's data, one training for both); member 0 is the plain check of seed 0."""
    import csv
    import json
    import re

    import main
    from engine.commands import BAD_INPUT
    only = ["--only", "preset warmup", "--only", "tooltip schedule.warmup_steps", "--seeds", "0"]
    assert main.main(["claims", *only, "--members", "3", "--out", str(tmp_path / "m")]) == 0
    assert main.main(["claims", *only, "--out", str(tmp_path / "one")]) == 0
    read = {}
    for name in ("m", "one"):
        with open(tmp_path / name / "claims.csv", newline="") as f:
            read[name] = list(csv.DictReader(f))
    assert [(r["claim"], r["seed"], r["data_seed"]) for r in read["m"]] == [
        (claim, str(k), "0") for claim in ("preset warmup", "tooltip schedule.warmup_steps") for k in range(3)]
    assert [(r["claim"], r["seed"], r["data_seed"]) for r in read["one"]] == [
        ("preset warmup", "0", ""), ("tooltip schedule.warmup_steps", "0", "")]
    plain, member0 = read["one"][0], read["m"][0]
    def numbers(row):            # "cold diverged=1 cold train loss=0.6931 ..."
        return {k: float(v) for k, v in re.findall(r"\s*(.+?)=(\S+)", row["numbers"])}
    assert member0["holds"] == plain["holds"] and numbers(member0).keys() == numbers(plain).keys()
    for name, value in numbers(plain).items():
        assert math.isclose(numbers(member0)[name], value, rel_tol=2e-3, abs_tol=1e-4), name
    summary = json.loads((tmp_path / "m" / "claims.json").read_text())
    assert summary["members"] == 3 and [c["of"] for c in summary["claims"]] == [3, 3]
    assert "(data seed 0)" in capsys.readouterr().out
    assert main.main(["claims", "--members", "0", "--out", str(tmp_path / "x")]) == BAD_INPUT
    assert "--members: give 1 to" in capsys.readouterr().err
