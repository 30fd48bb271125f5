"""``python -m tinyrec``: the demo and the article's click model, end to end but kept short."""

import argparse
import urllib.error
import urllib.request

import pytest
from movielens_fixture import write_ml100k

from tinyrec.__main__ import _parser, main


def test_clicks_prints_accuracy_against_chance_and_bayes(capsys):
    assert main(["clicks", "--epochs", "2", "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "always predict the majority class" in out and "Bayes rule" in out


def test_demo_mf_shows_metrics_and_titled_recommendations(capsys):
    assert main(["demo", "--epochs", "2", "--verbose", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out
    for text in ("global mean", "user + item biases", "matrix factorisation (tinyrec)", "RMSE",
                 "Top 10 recommendations for user", "rated highly"):
        assert text in out
    assert out.count("(19") + out.count("(20") >= 10  # titles carry their year


def test_demo_neumf(capsys):
    assert main(["demo", "--model", "neumf", "--epochs", "1", "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "most popular" in out and "NeuMF (tinyrec)" in out and "HR@10" in out
    assert "bundled synthetic products" in out  # the deep model's demo runs where it has something to show
    assert "popularity here: HR@10" in out and "bought most recently" in out


def test_demo_neumf_reports_what_early_stopping_did(capsys):
    assert main(["demo", "--model", "neumf", "--epochs", "2", "--verbose", "2"]) == 0
    out = capsys.readouterr().out
    assert "Epoch 2/2" in out
    assert "Early stopping: not triggered; trained all 2 epochs; restored the weights of epoch " in out


def test_demo_mf_on_products_explains_why_not(capsys):
    assert main(["demo", "--dataset", "products", "--model", "mf", "--verbose", "0"]) == 2
    assert "without ratings" in capsys.readouterr().err


def test_real_movielens_offline_says_where_to_put_it(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("TINYREC_DATA", str(tmp_path))
    assert main(["demo", "--dataset", "ml-100k", "--verbose", "0"]) == 1
    err = capsys.readouterr().err
    assert "ml-100k.zip" in err and str(tmp_path) in err


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit):
        main(["demo", "--help"])
    out = capsys.readouterr().out
    for option in ("--dataset", "--model", "--epochs"):
        assert option in out


def test_every_option_has_plain_help_text(capsys):
    """Each option of each command explains itself, and the help shows no reStructuredText markup."""
    parser = _parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    for name, sub in commands.items():
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings} has no help text"
        with pytest.raises(SystemExit):
            main([name, "--help"])
        out = capsys.readouterr().out
        assert "``" not in out and "--seed N" in out and "--verbose" in out
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "``" not in out and "python -m tinyrec demo --model neumf" in out


@pytest.mark.parametrize("command", ["demo", "clicks"])
@pytest.mark.parametrize("epochs", ["0", "-3", "two"])
def test_epochs_must_be_a_positive_whole_number(command, epochs, capsys):
    with pytest.raises(SystemExit) as info:
        main([command, "--epochs", epochs])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "argument --epochs:" in err and ("at least 1" in err or "whole number" in err)


def test_unknown_user_is_refused_before_training(capsys):
    assert main(["demo", "--user", "99999", "--verbose", "2"]) == 2
    captured = capsys.readouterr()
    assert "--user 99999 is not a user of this dataset: ids run from 0 to 942" in captured.err
    assert "Epoch" not in captured.out  # nothing was trained
    with pytest.raises(SystemExit):
        main(["demo", "--user", "-1"])
    assert "must be 0 or more" in capsys.readouterr().err


def test_chosen_user_is_shown(capsys):
    assert main(["demo", "--user", "5", "--epochs", "1", "--verbose", "0"]) == 0
    assert "Top 10 recommendations for user 5 " in capsys.readouterr().out


def test_data_home_flag_reads_movielens_from_that_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TINYREC_DATA", str(tmp_path / "elsewhere"))  # the flag wins over the variable
    write_ml100k(tmp_path / "home")
    assert main(["demo", "--dataset", "ml-100k", "--data-home", str(tmp_path / "home"), "--verbose", "0"]) == 0
    out = capsys.readouterr().out
    assert "MovieLens 100K: 4,000 ratings, 80 users, 120 items" in out and "RMSE" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]  # nothing written anywhere else


def test_data_home_flag_with_bundled_data_is_an_error(tmp_path, capsys):
    assert main(["demo", "--data-home", str(tmp_path)]) == 2
    assert "--data-home is where MovieLens is kept" in capsys.readouterr().err


def test_missing_movielens_message_names_the_flag(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("x")))
    assert main(["demo", "--dataset", "ml-100k", "--data-home", str(tmp_path / "h"), "--verbose", "0"]) == 1
    assert "--data-home FOLDER" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []  # the failed download left no folder behind
