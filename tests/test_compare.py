"""ssr-neuro compare on the synthetic dataset with tiny models and one epoch: the table's numbers follow from the
counting functions, SSR's chip figure is what 'ssr-neuro simulate' reports, checkpoints are reused when their
settings match and refused when they do not, and bad input ends in one line with exit code 2."""

import json
import math
import shutil
from dataclasses import replace

import pandas as pd
import pytest

from ssr_neuro.counting import HOROWITZ_45NM
from ssr_neuro.app.cli import main
from ssr_neuro.app.compare import COLUMNS, PAPER_REDUCTION_PCT, CompareConfig, compare_models, format_comparison, \
    parse_models, plot_comparison, write_csv
from ssr_neuro.errors import UserError
from ssr_neuro.training import TrainConfig

TINY = {"ssr": {"n_blocks": 1}, "gru4rec": {"hidden": 16}, "sasrec": {"n_layers": 1}}
SAMPLES = 40


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    """Keep the data cache out of the user's home (module scope, so the fixtures below can use it)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SSR_NEURO_HOME", str(tmp_path_factory.getbasetemp() / "ssr-home"))
        yield


@pytest.fixture(scope="module")
def config(home, tmp_path_factory):
    """Tiny models, one epoch at lr 3e-3: enough for SSR to beat POP by a margin on the synthetic set."""
    return CompareConfig(dataset="synthetic", models=("pop", "gru4rec", "sasrec", "ssr"),
                         out=tmp_path_factory.mktemp("compare"), training=TrainConfig(epochs=1, compile=False, lr=3e-3),
                         dim=8, options=TINY, samples=SAMPLES)


@pytest.fixture(scope="module")
def compared(config):
    return compare_models(config)


def test_table_rows_columns_and_counts(compared, config):
    t = compared.table.set_index("model")
    assert list(compared.table.columns) == list(COLUMNS)
    assert list(t.index) == list(config.models)
    assert t.loc["ssr", "HR@10"] > t.loc["pop", "HR@10"] > 0
    assert math.isnan(t.loc["pop", "energy_45nm_uJ"]) and t.loc["pop", "MACs"] == 0
    for name in ("gru4rec", "sasrec"):
        # the SNN papers' charge for an ANN: E_MAC x MACs, arithmetic only; memory on top at 45 nm; GPU above both
        assert t.loc[name, "energy_paper_rule_uJ"] == pytest.approx(HOROWITZ_45NM.mac_pJ * t.loc[name, "MACs"] * 1e-6)
        assert t.loc[name, "energy_45nm_uJ"] > t.loc[name, "energy_paper_rule_uJ"]
        assert t.loc[name, "energy_gpu_uJ"] > t.loc[name, "energy_45nm_uJ"]
        assert math.isnan(t.loc[name, "energy_chip_uJ"]) and t.loc[name, "ACs"] == 0
        assert t.loc[name, "params"] > 0
    assert t.loc["ssr", "ACs"] > 0 and t.loc["ssr", "energy_chip_uJ"] > 0
    assert compared.details["ssr"]["chip"]["n_inferences"] == SAMPLES


def test_reductions_and_their_mean(compared):
    t = compared.table.set_index("model")
    for name in ("gru4rec", "sasrec"):
        assert t.loc[name, "reduction_paper_rule_pct"] == pytest.approx(
            100 * (1 - t.loc["ssr", "energy_paper_rule_uJ"] / t.loc[name, "energy_paper_rule_uJ"]))
        assert t.loc[name, "reduction_chip_vs_45nm_pct"] == pytest.approx(
            100 * (1 - t.loc["ssr", "energy_chip_uJ"] / t.loc[name, "energy_45nm_uJ"]))
        assert t.loc[name, "reduction_chip_vs_gpu_pct"] == pytest.approx(
            100 * (1 - t.loc["ssr", "energy_chip_uJ"] / t.loc[name, "energy_gpu_uJ"]))
    for column, mean in compared.average_reduction_pct.items():
        assert mean == pytest.approx(t.loc[["gru4rec", "sasrec"], column].mean())
        assert all(math.isnan(v) for v in t.loc[["pop", "ssr"], column])
    text = format_comparison(compared)
    assert f"{PAPER_REDUCTION_PCT}%" in text and "A100" in text and "4.6 pJ" in text
    json.dumps(compared.to_json(), allow_nan=False)


def test_a_second_run_reuses_the_checkpoints(compared, config):
    again = compare_models(replace(config, models=("gru4rec", "ssr")))
    assert again.details["gru4rec"]["reused"] and again.details["ssr"]["reused"]
    first, second = compared.table.set_index("model"), again.table.set_index("model")
    for name in ("gru4rec", "ssr"):
        assert second.loc[name, "NDCG@10"] == first.loc[name, "NDCG@10"]
        assert second.loc[name, "energy_45nm_uJ"] == first.loc[name, "energy_45nm_uJ"]


def test_a_checkpoint_with_other_settings_is_refused_unless_forced(compared, config, tmp_path):
    shutil.copy(config.out / "gru4rec.pt", tmp_path / "gru4rec.pt")
    other = replace(config, models=("gru4rec",), out=tmp_path, training=TrainConfig(epochs=2, compile=False))
    with pytest.raises(UserError, match="--force"):
        compare_models(other)
    forced = compare_models(replace(other, force=True))
    assert not forced.details["gru4rec"]["reused"] and forced.details["gru4rec"]["epochs_run"] == 2


def test_a_given_ssr_checkpoint_must_be_of_this_data(compared, config):
    with pytest.raises(UserError, match="other data"):
        compare_models(replace(config, models=("ssr",), max_len=10, ssr_checkpoint=config.out / "ssr.pt"))


def test_csv_and_plot_are_written_once_unless_overwritten(compared, tmp_path):
    path, png = tmp_path / "t.csv", tmp_path / "t.png"
    write_csv(compared, path)
    back = pd.read_csv(path)
    assert list(back["model"]) == list(compared.table["model"])
    assert back["MACs"].tolist() == pytest.approx(compared.table["MACs"].tolist())
    with pytest.raises(UserError, match="--force"):
        write_csv(compared, path)
    plot_comparison(compared, png)
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_model_names_are_checked():
    assert parse_models(" POP, ssr ,pop") == ("pop", "ssr")
    with pytest.raises(UserError, match="unknown model 'bert4rec'"):
        parse_models("pop,bert4rec")


def _clean_error(rc, out, err, *needles):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert rc == 2 and out == "" and "Traceback" not in err
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for n in needles:
        assert n in lines[0]


def test_cli_bad_input_is_one_line(home, tmp_path, capsys):
    out = tmp_path / "c"
    cases = [(["--models", "pop,nope"], ("unknown model 'nope'",)),
             (["--models", "pop", "--ssr-checkpoint", str(tmp_path / "x.pt")], ("'ssr' is not in --models",)),
             (["--chip", "nochip"], ("nochip",)),
             (["--samples", "0"], ("--samples",))]
    for args, needles in cases:
        rc = main(["compare", "--dataset", "synthetic", "--out", str(out), *args])
        _clean_error(rc, *capsys.readouterr(), *needles)
    assert not out.exists()


def test_cli_json_then_refuses_to_overwrite_without_force(home, tmp_path, capsys):
    args = ["compare", "--dataset", "synthetic", "--models", "pop,sasrec", "--dim", "8", "--epochs", "1",
            "--no-compile", "--out", str(tmp_path), "--json"]
    assert main(args) == 0
    obj = json.loads(capsys.readouterr().out)
    assert [r["model"] for r in obj["rows"]] == ["pop", "sasrec"]
    assert obj["paper_reduction_pct"] == PAPER_REDUCTION_PCT and obj["rows"][0]["energy_45nm_uJ"] is None
    assert (tmp_path / "compare.csv").is_file() and (tmp_path / "compare.png").is_file()
    _clean_error(main(args), *capsys.readouterr(), "--force")
    assert main([*args, "--force"]) == 0
    assert json.loads(capsys.readouterr().out)["details"]["sasrec"]["reused"]
