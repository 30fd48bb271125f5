"""``python -m tinyrec``: the demo and the article's click model, end to end but kept short."""

import urllib.error
import urllib.request

import pytest

from tinyrec.__main__ import main


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
