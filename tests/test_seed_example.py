"""The article's code example, with only the imports changed, learns the bundled ad clicks."""

import numpy as np

from tinyrec.datasets import load_ads


def test_seed_snippet_beats_chance_on_held_out_clicks():
    data = load_ads()
    n_train = int(0.8 * len(data.y))
    x_train, y_train = data.X[:n_train], data.y[:n_train]
    x_test, y_test = data.X[n_train:], data.y[n_train:]

    # --- the article's code, imports changed -------------------------------------------------
    from tinyrec.layers import Dense
    from tinyrec.models import Sequential
    model = Sequential()
    model.add(Dense(units=64, activation='relu', input_dim=100))
    model.add(Dense(units=32, activation='relu'))
    model.add(Dense(units=1, activation='sigmoid'))
    model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
    history = model.fit(x_train, y_train, batch_size=32, epochs=10, verbose=0)
    # ------------------------------------------------------------------------------------------

    assert len(history.history["accuracy"]) == 10
    _, accuracy = model.evaluate(x_test, y_test)
    chance = max(y_test.mean(), 1 - y_test.mean())  # always predicting the majority class
    p = data.truth.p_click_given_x[n_train:]
    bayes = np.mean(np.maximum(p, 1 - p))  # expected accuracy of the best possible rule on these rows
    assert accuracy > chance + 0.10, (accuracy, chance)
    assert accuracy < bayes + 0.02, (accuracy, bayes)  # cannot beat the generating process by much
